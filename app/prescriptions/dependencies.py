from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from app.core.auth import CurrentActor, SessionDep
from app.core.errors import NotFound
from app.plans.dependencies import PlanDep
from app.plans.models import Stage
from app.prescriptions import queries
from app.prescriptions.models import Prescription


async def prescription_or_404(
    prescription_id: uuid.UUID, session: SessionDep, actor: CurrentActor
) -> Prescription:
    return queries.get_prescription(session, actor, prescription_id)


async def stage_of_plan_or_404(
    stage_id: uuid.UUID, plan: PlanDep, session: SessionDep, actor: CurrentActor
) -> Stage:
    """The stage, when it belongs to the plan (which the actor may read)."""
    stage = session.scalar(
        select(Stage).where(
            Stage.clinic_id == actor.clinic_id, Stage.id == stage_id, Stage.plan_id == plan.id
        )
    )
    if stage is None:
        raise NotFound("No stage with that id in this plan.")
    return stage


PrescriptionDep = Annotated[Prescription, Depends(prescription_or_404)]
PlanStageDep = Annotated[Stage, Depends(stage_of_plan_or_404)]
