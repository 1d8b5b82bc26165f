"""Every domain router, under /api/v1."""

from fastapi import APIRouter

from app.accountability.router import router as accountability_router
from app.api_keys.router import router as api_keys_router
from app.assessments.router import router as assessments_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.exercises.router import router as exercises_router
from app.measures.router import router as measures_router
from app.observations.router import router as observations_router
from app.patients.router import router as patients_router
from app.plans.adherence_router import router as plan_adherence_router
from app.plans.lifecycle_router import router as plan_lifecycle_router
from app.plans.router import router as plans_router
from app.plans.stages_router import router as plan_stages_router
from app.prescriptions.logs_router import router as logs_router
from app.prescriptions.program_router import router as program_router
from app.prescriptions.router import router as prescriptions_router
from app.sessions.router import router as sessions_router
from app.summary.router import router as summary_router
from app.users.router import router as users_router

API_PREFIX = "/api/v1"
# FastAPI tries routers and their routes in order, on every request, and each level of
# nesting matches again: so the domain routers sit directly under the app, the hot ones (the
# plan and its progress, the worklist, home logs) first (docs/performance.md). No two
# routers' paths overlap, so the order changes nothing else.
ROUTERS: tuple[APIRouter, ...] = (
    plans_router,
    plan_lifecycle_router,
    accountability_router,
    logs_router,
    auth_router,
    patients_router,
    assessments_router,
    users_router,
    api_keys_router,
    audit_router,
    measures_router,
    exercises_router,
    observations_router,
    plan_stages_router,
    prescriptions_router,
    program_router,
    sessions_router,
    plan_adherence_router,
    summary_router,
)
