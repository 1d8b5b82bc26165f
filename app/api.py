"""Every domain router, under /api/v1."""

from fastapi import APIRouter

from app.auth.router import router as auth_router
from app.patients.router import router as patients_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(patients_router)
