"""The projection step, run by the unit of work: every flush collects what its rows feed
(app.projections.inputs), and before the transaction commits the step projects each affected
plan once. No write service calls it, so none can forget to.

Listeners on SQLAlchemy's Session class, so that every session (a request's, the CLI's, a
test's) runs the step. The collected keys live in `session.info` and go with a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from app.core.orm import CORE_INSERTS, Base
from app.projections import clinic
from app.projections.inputs import Touched, affected_plans, collect, collect_row
from app.projections.step import Change, project

_TOUCHED = "projections.touched"
_MODELS = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers}
_PROJECTING = "projections.projecting"

# Called with each step's changes, in its transaction (integration events hook in here).
listeners: list[Callable[[Session, list[Change]], None]] = []


def touched(session: Session) -> Touched:
    found: Touched | None = session.info.get(_TOUCHED)
    if found is None:
        found = session.info[_TOUCHED] = Touched()
    return found


def settle(session: Session) -> list[Change]:
    """Runs the step now for what the transaction has changed so far: for a write that answers
    with the plan's derived state. The step before commit then has only what came after."""
    session.flush()
    _collect_core_inserts(session)
    pending: Touched | None = session.info.pop(_TOUCHED, None)
    if not pending:
        return []
    with _projecting(session):
        plans = affected_plans(session, pending)
        if pending.clinics:
            clinic.move_on(session, pending.clinics)
            for clinic_id in pending.clinics:
                plans.update(clinic.first_batch(session, clinic_id))
        changes = project(session, plans, pending.before)
        for listener in listeners:
            listener(session, changes)
    return changes


@contextmanager
def _projecting(session: Session) -> Iterator[None]:
    session.info[_PROJECTING] = True
    try:
        yield
    finally:
        session.info.pop(_PROJECTING, None)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    if session.info.get(_PROJECTING):
        return  # the step's own writes feed nothing
    found = touched(session)
    for obj in session.new:
        collect(obj, found, new=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            collect(obj, found, new=False)
    for obj in session.deleted:
        collect(obj, found, new=False)


def _collect_core_inserts(session: Session) -> None:
    for table, row in session.info.pop(CORE_INSERTS, ()):
        collect_row(_MODELS[table], row, touched(session))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction's commit projects
    settle(session)


def _forget(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_TOUCHED, None)
        session.info.pop(CORE_INSERTS, None)


def _fresh_reads(state: ORMExecuteState) -> None:
    """Inside the step every ORM read replaces what the session holds: an object loaded before
    the plan was locked may be older than what another writer has committed since."""
    if state.is_select and state.session.info.get(_PROJECTING):
        state.update_execution_options(populate_existing=True)


def install() -> None:
    """Idempotent: the listeners go on Session once."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_soft_rollback", _forget),
        ("do_orm_execute", _fresh_reads),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
