"""An assessment's goals, findings and drivers: each list a client sends replaces the old one.

An item that sends the id of an existing child updates it in place; an item without an id
gets a new one; an existing child missing from the list is removed. Positions follow the
list order. Drivers cite findings by id, so the writes are ordered for the foreign keys:
links to removed findings go before those findings do, links to new findings come after.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Driver, DriverFinding, Finding, FunctionalGoal
from app.assessments.schemas import DriverIn, FindingIn, GoalIn
from app.core.errors import InvalidInput, field_error

Child = TypeVar("Child", FunctionalGoal, Finding, Driver)


@dataclass(frozen=True)
class ChildLists:
    """The lists a request sends; None leaves that list as it is."""

    goals: list[GoalIn] | None = None
    findings: list[FindingIn] | None = None
    drivers: list[DriverIn] | None = None


def check(assessment: Assessment, lists: ChildLists) -> None:
    """Refuses repeated ids, and driver citations of findings the result will not have."""
    errors = [
        *_repeated("/goals", lists.goals),
        *_repeated("/findings", lists.findings),
        *_repeated("/drivers", lists.drivers),
    ]
    findings = (
        {item.id for item in lists.findings if item.id}
        if lists.findings is not None
        else {finding.id for finding in assessment.findings}
    )
    cited: Iterable[Sequence[uuid.UUID]] = (
        [item.finding_ids for item in lists.drivers]
        if lists.drivers is not None
        else [driver.finding_ids for driver in assessment.drivers]
    )
    for i, finding_ids in enumerate(cited):
        seen: set[uuid.UUID] = set()
        for j, finding_id in enumerate(finding_ids):
            pointer = f"/drivers/{i}/finding_ids/{j}"
            if finding_id in seen:
                errors.append(field_error(pointer, "this finding is cited twice"))
            elif finding_id not in findings:
                errors.append(field_error(pointer, "no finding with this id in the assessment"))
            seen.add(finding_id)
    if errors:
        names = ", ".join(error["pointer"] for error in errors)
        raise InvalidInput(f"Invalid input: {names}", errors=errors)


def _repeated(pointer: str, items: Sequence[GoalIn | FindingIn | DriverIn] | None) -> list[Any]:
    seen: set[uuid.UUID] = set()
    errors = []
    for i, item in enumerate(items or []):
        if item.id in seen:
            errors.append(field_error(f"{pointer}/{i}/id", "this id is listed twice"))
        if item.id is not None:
            seen.add(item.id)
    return errors


def apply(session: Session, assessment: Assessment, lists: ChildLists) -> None:
    """Writes the lists (flushing in foreign-key order); `check` has passed."""
    clinic_id = assessment.clinic_id
    if lists.goals is not None:
        assessment.goals = _replace(
            assessment.goals, lists.goals, lambda id_: FunctionalGoal(id=id_, clinic_id=clinic_id)
        )
    if lists.drivers is not None:
        assessment.drivers = _replace(
            assessment.drivers,
            lists.drivers,
            lambda id_: Driver(id=id_, clinic_id=clinic_id, finding_links=[]),
        )
    cited: dict[Driver, list[uuid.UUID]] = {}
    if lists.drivers is not None:
        sent = [item.finding_ids for item in lists.drivers]
        cited = dict(zip(assessment.drivers, sent, strict=True))
    existing = {finding.id for finding in assessment.findings}
    for driver, finding_ids in cited.items():
        _link(driver, [id_ for id_ in finding_ids if id_ in existing])
    session.flush()
    if lists.findings is not None:
        assessment.findings = _replace(
            assessment.findings, lists.findings, lambda id_: Finding(id=id_, clinic_id=clinic_id)
        )
        session.flush()
    for driver, finding_ids in cited.items():
        _link(driver, finding_ids)
    session.flush()


def _replace(
    current: Sequence[Child],
    items: Sequence[GoalIn | FindingIn | DriverIn],
    new: Callable[[uuid.UUID], Child],
) -> list[Child]:
    by_id = {child.id: child for child in current}
    result: list[Child] = []
    for position, item in enumerate(items):
        child = by_id.get(item.id) if item.id else None
        if child is None:
            child = new(item.id or uuid.uuid4())
        for name, value in item.model_dump(exclude={"id", "finding_ids"}).items():
            setattr(child, name, value)
        child.position = position
        result.append(child)
    return result


def _link(driver: Driver, finding_ids: Sequence[uuid.UUID]) -> None:
    kept = {link.finding_id: link for link in driver.finding_links}
    driver.finding_links = [
        kept.get(finding_id) or DriverFinding(clinic_id=driver.clinic_id, finding_id=finding_id)
        for finding_id in finding_ids
    ]
