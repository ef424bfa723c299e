"""THE workflow of a unit's module: the table of allowed transitions, and `transition()`,
the only code that writes a module's state.

    not started → draft → submitted → changes requested → submitted again → approved

Staff may withdraw a submission the facilitator has not reviewed yet (back to draft), and a
facilitator (or the admin) may reopen an approved module with a comment (changes requested).

Each row names the access action the actor needs (looked up in :mod:`laks.access`) and
whether a comment is required. A transition writes a StateChange row (the review timeline)
and an AuditEvent, sets the times, and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from laks.access import can, require
from laks.audit import record_module
from laks.enums import ModuleState as S
from laks.extensions import db
from laks.models import ModuleRevision, StateChange, UnitModule, User, utcnow


class WorkflowError(ValueError):
    """A transition that is not allowed now; ``str()`` is a message for the user."""


@dataclass(frozen=True)
class Transition:
    source: S
    action: str
    target: S
    rule: str
    needs_comment: bool = False
    label: str = ""


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.NOT_STARTED, "start", S.DRAFT, "module.edit", label=_l("Start")),
    Transition(S.DRAFT, "submit", S.SUBMITTED, "module.submit", label=_l("Submit")),
    Transition(S.CHANGES_REQUESTED, "submit", S.SUBMITTED, "module.submit",
               label=_l("Submit again")),
    Transition(S.SUBMITTED, "approve", S.APPROVED, "module.review", needs_comment=True,
               label=_l("Approve")),
    Transition(S.SUBMITTED, "request_changes", S.CHANGES_REQUESTED, "module.review",
               needs_comment=True, label=_l("Request changes")),
    Transition(S.SUBMITTED, "withdraw", S.DRAFT, "module.withdraw",
               label=_l("Withdraw the submission")),
    Transition(S.APPROVED, "reopen", S.CHANGES_REQUESTED, "module.review", needs_comment=True,
               label=_l("Reopen the module")),
)

_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}
ACTIONS = frozenset(t.action for t in TRANSITIONS)


def find(state: S, action: str) -> Transition | None:
    return _BY_KEY.get((state, action))


def available(unit_module: UnitModule, user) -> list[Transition]:
    """The transitions ``user`` may make now: what the buttons on the page come from.
    ("start" happens by saving, so it is never a button.)"""
    return [
        t for t in TRANSITIONS
        if t.source == unit_module.state and t.action != "start" and can(user, t.rule, unit_module)
    ]


def transition(unit_module: UnitModule, action: str, *, actor: User, comment: str = "",
               check=None) -> StateChange:
    """Move ``unit_module`` along the row for (its state, ``action``).

    ``check``, if given, is called after access is granted and may raise WorkflowError
    (submitting uses it to demand every required answer). Raises WorkflowError when the
    action is not allowed from the current state or a required comment is missing, and
    Forbidden/Unauthorized (from :func:`laks.access.require`) when the actor may not.
    """
    row = find(unit_module.state, action)
    if row is None:
        raise WorkflowError(
            _l("“%(action)s” is not possible while the module is “%(state)s”.",
               action=_action_label(action), state=unit_module.state.label))
    require(actor, row.rule, unit_module)
    comment = (comment or "").strip()
    if row.needs_comment and not comment:
        raise WorkflowError(_l("Write a comment to the unit – it is required for this step."))
    if check is not None:
        check()
    source = unit_module.state
    unit_module.state = row.target
    now = utcnow()
    if row.target == S.SUBMITTED:
        unit_module.submitted_at = now
    if row.target == S.APPROVED:
        unit_module.approved_at = now
    elif source == S.APPROVED:
        unit_module.approved_at = None  # reopened: no longer approved
    if unit_module.id is None:
        db.session.add(unit_module)
    change = StateChange(unit_module=unit_module, action=action, from_state=source,
                         to_state=row.target, actor=actor, comment=comment, at=now,
                         revision_number=latest_revision_number(unit_module))
    db.session.add(change)
    db.session.flush()
    record_module(actor, f"module.{action}", unit_module,
                  **{"from": source.value, "to": row.target.value},
                  revision=change.revision_number)
    return change


def latest_revision_number(unit_module: UnitModule) -> int | None:
    """The number of the revision that holds the module's answers now: the latest one that
    was saved (answers kept aside in a conflict are not what is stored). None before the
    first save."""
    if unit_module.id is None:
        return None
    # One number from the database: a module's history may be hundreds of revisions long.
    return db.session.scalar(
        select(func.max(ModuleRevision.number))
        .where(ModuleRevision.unit_module_id == unit_module.id,
               ModuleRevision.kind != "conflict"))


def _action_label(action: str) -> str:
    row = next((t for t in TRANSITIONS if t.action == action), None)
    return str(row.label) if row else action
