"""An assessment's goals, findings and drivers: each list a client sends replaces the old one.

An item that sends the id of an existing child of the assessment updates it in place; an item
without an id is a new child and gets its id from the server; any other id is refused, the
same whether or not it exists elsewhere (docs/decisions/0004-child-ids.md). An existing child
missing from the list is removed. Positions follow the list order. Drivers cite findings by
id, or a finding of the same request by its `ref`, so the writes are ordered for the foreign
keys: links to removed findings go before those findings do, links to new findings come after.
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
Errors = list[dict[str, str]]


@dataclass(frozen=True)
class ChildLists:
    """The lists a request sends; None leaves that list as it is."""

    goals: list[GoalIn] | None = None
    findings: list[FindingIn] | None = None
    drivers: list[DriverIn] | None = None


def check(assessment: Assessment, lists: ChildLists) -> None:
    """Refuses ids that are repeated or not the assessment's, repeated refs, and driver
    citations of findings the result will not have. Every check is one pass over a list."""
    errors = [
        *_ids("/goals", "goal", lists.goals, assessment.goals),
        *_ids("/findings", "finding", lists.findings, assessment.findings),
        *_ids("/drivers", "driver", lists.drivers, assessment.drivers),
        *_refs(lists.findings or []),
        *_citations(assessment, lists),
    ]
    if errors:
        names = ", ".join(error["pointer"] for error in errors)
        raise InvalidInput(f"Invalid input: {names}", errors=errors)


def _ids(
    pointer: str,
    noun: str,
    items: Sequence[GoalIn | FindingIn | DriverIn] | None,
    current: Iterable[FunctionalGoal | Finding | Driver],
) -> Errors:
    own = {child.id for child in current}
    seen: set[uuid.UUID] = set()
    errors = []
    for i, item in enumerate(items or []):
        if item.id is None:
            continue
        if item.id in seen:
            errors.append(field_error(f"{pointer}/{i}/id", "this id is listed twice"))
        elif item.id not in own:
            detail = f"no {noun} with this id in this assessment; omit the id for a new {noun}"
            errors.append(field_error(f"{pointer}/{i}/id", detail))
        seen.add(item.id)
    return errors


def _refs(findings: Sequence[FindingIn]) -> Errors:
    seen: set[str] = set()
    errors = []
    for i, item in enumerate(findings):
        if item.ref is None:
            continue
        if item.ref in seen:
            errors.append(field_error(f"/findings/{i}/ref", "this ref is listed twice"))
        seen.add(item.ref)
    return errors


def _citations(assessment: Assessment, lists: ChildLists) -> Errors:
    """Each driver cites findings of the resulting assessment, each of them once."""
    # A finding is known by its place in the sent list (new ones have no id yet), or by its id
    # when the findings are left as they are.
    by_id: dict[uuid.UUID, object]
    by_ref: dict[str, object] = {}
    if lists.findings is not None:
        by_id = {item.id: i for i, item in enumerate(lists.findings) if item.id}
        by_ref = {item.ref: i for i, item in enumerate(lists.findings) if item.ref}
    else:
        by_id = {finding.id: finding.id for finding in assessment.findings}
    cited: Iterable[tuple[Sequence[uuid.UUID], Sequence[str]]] = (
        [(item.finding_ids, item.finding_refs) for item in lists.drivers]
        if lists.drivers is not None
        else [(driver.finding_ids, []) for driver in assessment.drivers]
    )
    errors: Errors = []
    for i, (finding_ids, finding_refs) in enumerate(cited):
        seen: set[object] = set()
        errors += _cited(f"/drivers/{i}/finding_ids", finding_ids, by_id, seen, _NO_ID)
        errors += _cited(f"/drivers/{i}/finding_refs", finding_refs, by_ref, seen, _NO_REF)
    return errors


_NO_ID = "no finding with this id in the assessment"
_NO_REF = "no finding with this ref in this request"


def _cited(
    pointer: str, keys: Sequence[Any], findings: dict[Any, object], seen: set[object], missing: str
) -> Errors:
    errors = []
    for j, key in enumerate(keys):
        finding = findings.get(key)
        if finding is None:
            errors.append(field_error(f"{pointer}/{j}", missing))
        elif finding in seen:
            errors.append(field_error(f"{pointer}/{j}", "this finding is cited twice"))
        seen.add(finding)
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
    sent: dict[Driver, DriverIn] = {}
    if lists.drivers is not None:
        sent = dict(zip(assessment.drivers, lists.drivers, strict=True))
    existing = {finding.id for finding in assessment.findings}
    for driver, item in sent.items():
        _link(driver, [id_ for id_ in item.finding_ids if id_ in existing])
    session.flush()
    refs: dict[str, uuid.UUID] = {}
    if lists.findings is not None:
        assessment.findings = _replace(
            assessment.findings, lists.findings, lambda id_: Finding(id=id_, clinic_id=clinic_id)
        )
        session.flush()
        refs = {
            item.ref: finding.id
            for item, finding in zip(lists.findings, assessment.findings, strict=True)
            if item.ref
        }
    for driver, item in sent.items():
        _link(driver, [*item.finding_ids, *(refs[ref] for ref in item.finding_refs)])
    session.flush()


def _replace(
    current: Sequence[Child],
    items: Sequence[GoalIn | FindingIn | DriverIn],
    new: Callable[[uuid.UUID], Child],
) -> list[Child]:
    by_id = {child.id: child for child in current}
    result: list[Child] = []
    for position, item in enumerate(items):
        # `check` has refused an id that is not one of `current`: a new child's is the server's.
        child = by_id[item.id] if item.id else new(uuid.uuid4())
        for name, value in item.model_dump(exclude=_NOT_COLUMNS).items():
            setattr(child, name, value)
        child.position = position
        result.append(child)
    return result


_NOT_COLUMNS = {"id", "ref", "finding_ids", "finding_refs"}


def _link(driver: Driver, finding_ids: Sequence[uuid.UUID]) -> None:
    kept = {link.finding_id: link for link in driver.finding_links}
    driver.finding_links = [
        kept.get(finding_id) or DriverFinding(clinic_id=driver.clinic_id, finding_id=finding_id)
        for finding_id in finding_ids
    ]
