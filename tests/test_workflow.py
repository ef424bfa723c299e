"""The workflow: the graph pinned as a table written out by hand, every allowed step works,
every other (state, action) pair is refused with a clear message, and each step leaves a
StateChange and an AuditEvent for exactly that module and that step."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from laks import workflow
from laks.enums import ModuleState as S
from laks.extensions import db
from laks.models import AuditEvent, StateChange
from laks.services import modules as service
from laks.services.definitions import get_spec

COMPLETE_UDFORDRING = {
    "challenge_title": "Vi mister enlige mænd før 3. træningsgang",
    "challenge_type": "fastholdelse",
    "health_offer": "Genoptræning efter hofteoperation",
    "target_group": "Enlige mænd over 65 år, der bor alene.",
    "why_it_matters": "De får dårligere funktionsevne og flere genindlæggelser.",
}

# The workflow graph, written out by hand – never derived from workflow.TRANSITIONS, so that
# a row added to, dropped from or changed in the code's table fails here:
# (from state, action, to state, access rule, comment required).
GRAPH = [
    (S.NOT_STARTED, "start", S.DRAFT, "module.edit", False),
    (S.DRAFT, "submit", S.SUBMITTED, "module.submit", False),
    (S.CHANGES_REQUESTED, "submit", S.SUBMITTED, "module.submit", False),
    (S.SUBMITTED, "approve", S.APPROVED, "module.review", True),
    (S.SUBMITTED, "request_changes", S.CHANGES_REQUESTED, "module.review", True),
    (S.SUBMITTED, "withdraw", S.DRAFT, "module.withdraw", False),
    (S.APPROVED, "reopen", S.CHANGES_REQUESTED, "module.review", True),
]
STATES = [S.NOT_STARTED, S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED]
ACTIONS = ["start", "submit", "approve", "request_changes", "withdraw", "reopen"]
ALLOWED = {(source, action) for source, action, *_ in GRAPH}
FORBIDDEN = [(state, action) for state in STATES for action in ACTIONS
             if (state, action) not in ALLOWED]
#: Who takes each step when the rule allows it: staff act for the unit, the facilitator
#: reviews.
ACTOR = {"start": "tovholder", "submit": "tovholder", "withdraw": "tovholder",
         "approve": "facilitator", "request_changes": "facilitator", "reopen": "facilitator"}


def module_in(team, state: S, key: str = "udfordring", *, other_unit: bool = False):
    """A module of the team's unit (or of the other unit) brought to ``state`` through the
    workflow itself."""
    unit = team.other_unit if other_unit else team.unit
    staff = team.other_staff if other_unit else team.tovholder
    facilitator = team.other_facilitator if other_unit else team.facilitator
    um = service.unit_module_for(unit, key)
    if state == S.NOT_STARTED:
        return um
    service.save_answers(um, COMPLETE_UDFORDRING, actor=staff, base_version=0)
    if state in (S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED):
        service.submit(um, get_spec(key), actor=staff)
    if state == S.CHANGES_REQUESTED:
        service.review(um, "request_changes", actor=facilitator, comment="Uddyb tallene.")
    if state == S.APPROVED:
        service.review(um, "approve", actor=facilitator, comment="Fint arbejde.")
    db.session.commit()
    assert um.state == state
    return um


def module_events(um, action: str | None = None) -> list[AuditEvent]:
    """The audit events written about exactly this module (optionally: this step), oldest
    first; each must name the module's unit and key."""
    query = select(AuditEvent).where(AuditEvent.object_type == "unit_module",
                                     AuditEvent.object_id == um.id).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == f"module.{action}")
    events = list(db.session.scalars(query))
    for event in events:
        assert (event.details["unit_id"], event.details["module"]) == (um.unit_id,
                                                                       um.module_key)
    return events


def steps_of(um) -> list[tuple[str, S, S, int | None]]:
    return [(c.action, c.from_state, c.to_state, c.revision_number) for c in db.session.scalars(
        select(StateChange).where(StateChange.unit_module_id == um.id).order_by(StateChange.id))]


def danish():
    return current_app.test_request_context()


# --- the table ---------------------------------------------------------------------------------


def test_workflow_table_is_the_pinned_graph():
    in_code = [(t.source, t.action, t.target, t.rule, t.needs_comment)
               for t in workflow.TRANSITIONS]
    assert sorted(in_code) == sorted(GRAPH)
    assert len(in_code) == len(GRAPH)


def test_workflow_pinned_graph_has_every_state_and_action():
    assert set(STATES) == set(S)
    assert set(ACTIONS) == workflow.ACTIONS


@pytest.mark.parametrize(("source", "action", "target", "rule", "needs_comment"), GRAPH,
                         ids=[f"{s.value}-{a}" for s, a, *_ in GRAPH])
def test_workflow_allowed_step(team, source, action, target, rule, needs_comment):
    # The other unit's module takes the same step first: an audit event for it must not
    # count as this module's.
    if source != S.NOT_STARTED:
        decoy = module_in(team, source, other_unit=True)
        decoy_actor = team.other_staff if ACTOR[action] == "tovholder" \
            else team.other_facilitator
        workflow.transition(decoy, action, actor=decoy_actor, comment="Kommentar")
    um = module_in(team, source)
    before = len(module_events(um, action)) if um.id else 0
    actor = getattr(team, ACTOR[action])
    change = workflow.transition(um, action, actor=actor, comment="Kommentar")
    db.session.commit()
    assert um.state == target
    assert (change.from_state, change.to_state, change.actor) == (source, target, actor)
    assert change.revision_number == workflow.latest_revision_number(um)
    events = module_events(um, action)
    assert len(events) == before + 1
    assert events[-1].actor_id == actor.id
    assert (events[-1].details["from"], events[-1].details["to"]) == (source.value,
                                                                       target.value)


@pytest.mark.parametrize(("state", "action"), FORBIDDEN,
                         ids=[f"{s.value}-{a}" for s, a in FORBIDDEN])
def test_workflow_refuses_every_step_not_in_the_graph(team, state, action):
    """Refused by the table itself, even for the person whose rule would allow the step
    (approving a draft is refused to the unit's own facilitator)."""
    um = module_in(team, state)
    before = (steps_of(um), len(module_events(um))) if um.id else None
    with danish(), pytest.raises(workflow.WorkflowError, match="ikke muligt"):
        workflow.transition(um, action, actor=getattr(team, ACTOR[action]), comment="x")
    assert um.state == state
    db.session.rollback()
    if before is not None:
        assert (steps_of(um), len(module_events(um))) == before


def test_workflow_approving_a_draft_is_refused(team):
    um = module_in(team, S.DRAFT)
    with danish(), pytest.raises(workflow.WorkflowError, match="ikke muligt"):
        service.review(um, "approve", actor=team.facilitator, comment="Godkendt")
    db.session.rollback()
    assert um.state == S.DRAFT and module_events(um, "approve") == []


# --- who may, and what a step needs ------------------------------------------------------------


def test_workflow_submit_needs_every_required_answer(team):
    um = service.unit_module_for(team.unit, "udfordring")
    service.save_answers(um, {"challenge_title": "Kun en titel"}, actor=team.tovholder,
                         base_version=0)
    with pytest.raises(service.IncompleteModule) as refused:
        service.submit(um, get_spec("udfordring"), actor=team.tovholder)
    assert [q.key for q in refused.value.missing] == [
        "challenge_type", "health_offer", "target_group", "why_it_matters"]
    assert um.state == S.DRAFT
    assert module_events(um, "submit") == []


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_workflow_review_needs_a_comment(team, action):
    um = module_in(team, S.SUBMITTED)
    with danish(), pytest.raises(workflow.WorkflowError, match="kommentar"):
        service.review(um, action, actor=team.facilitator, comment="   ")
    assert um.state == S.SUBMITTED


@pytest.mark.parametrize("who", ["staff", "tovholder", "other_facilitator", "observer",
                                 "other_staff"])
def test_workflow_only_the_units_facilitator_or_admin_reviews(team, who):
    um = module_in(team, S.SUBMITTED)
    with pytest.raises(Forbidden):
        service.review(um, "approve", actor=getattr(team, who), comment="Godkendt")
    assert um.state == S.SUBMITTED


@pytest.mark.parametrize("who", ["facilitator", "admin"])
def test_workflow_facilitator_and_admin_review(team, who):
    um = module_in(team, S.SUBMITTED)
    service.review(um, "approve", actor=getattr(team, who), comment="Godkendt")
    assert um.state == S.APPROVED and um.approved_at is not None


@pytest.mark.parametrize("who", ["facilitator", "observer", "other_staff", "admin"])
def test_workflow_only_the_units_staff_submit(team, who):
    um = module_in(team, S.DRAFT)
    with pytest.raises(Forbidden):
        service.submit(um, get_spec("udfordring"), actor=getattr(team, who))


@pytest.mark.parametrize("who", ["staff", "tovholder"])
def test_workflow_staff_withdraw_before_the_review(team, who):
    um = module_in(team, S.SUBMITTED)
    service.withdraw(um, actor=getattr(team, who))
    db.session.commit()
    assert um.state == S.DRAFT
    assert [e.actor_id for e in module_events(um, "withdraw")] == [getattr(team, who).id]
    # A draft again: the unit edits and submits it once more.
    service.save_answers(um, {"why_it_matters": "Med tal."}, actor=team.staff,
                         base_version=um.version)
    service.submit(um, get_spec("udfordring"), actor=team.staff)
    assert um.state == S.SUBMITTED


@pytest.mark.parametrize("who", ["facilitator", "admin", "observer", "other_staff"])
def test_workflow_only_the_units_staff_withdraw(team, who):
    um = module_in(team, S.SUBMITTED)
    with pytest.raises(Forbidden):
        service.withdraw(um, actor=getattr(team, who))
    assert um.state == S.SUBMITTED


@pytest.mark.parametrize("state", [S.DRAFT, S.CHANGES_REQUESTED, S.APPROVED])
def test_workflow_withdraw_only_what_is_not_reviewed(team, state):
    um = module_in(team, state)
    with danish(), pytest.raises(workflow.WorkflowError, match="ikke muligt"):
        service.withdraw(um, actor=team.tovholder)
    assert um.state == state


@pytest.mark.parametrize("who", ["facilitator", "admin"])
def test_workflow_reopen_an_approved_module_with_a_comment(team, who):
    um = module_in(team, S.APPROVED)
    with danish(), pytest.raises(workflow.WorkflowError, match="kommentar"):
        service.reopen(um, actor=getattr(team, who), comment="  ")
    assert um.state == S.APPROVED
    service.reopen(um, actor=getattr(team, who), comment="Tilføj jeres nye tal.")
    db.session.commit()
    assert um.state == S.CHANGES_REQUESTED and um.approved_at is None
    assert um.state_changes[-1].comment == "Tilføj jeres nye tal."
    assert [e.actor_id for e in module_events(um, "reopen")] == [getattr(team, who).id]


@pytest.mark.parametrize("who", ["staff", "tovholder", "other_facilitator", "observer"])
def test_workflow_only_the_units_facilitator_or_admin_reopen(team, who):
    um = module_in(team, S.APPROVED)
    with pytest.raises(Forbidden):
        service.reopen(um, actor=getattr(team, who), comment="Genåbnet")
    assert um.state == S.APPROVED


def test_workflow_reopen_refuses_cpr_in_the_comment(team):
    um = module_in(team, S.APPROVED)
    with pytest.raises(service.PersonalDataError):
        service.reopen(um, actor=team.facilitator, comment="Ring til 0101901234")
    assert um.state == S.APPROVED


# --- the timeline and its audit trail ----------------------------------------------------------


def test_workflow_full_round_trip_makes_a_timeline_and_an_audit_trail(team):
    module_in(team, S.APPROVED, other_unit=True)  # another module's events must not count
    um = module_in(team, S.CHANGES_REQUESTED)
    service.save_answers(um, {"why_it_matters": "Nu med tal: 6 af 14 faldt fra."},
                         actor=team.staff, base_version=um.version)
    service.submit(um, get_spec("udfordring"), actor=team.staff)
    service.review(um, "approve", actor=team.facilitator, comment="Tak, godkendt.")
    service.reopen(um, actor=team.admin, comment="Skriv jeres nye tal ind.")
    db.session.commit()
    assert steps_of(um) == [
        ("start", S.NOT_STARTED, S.DRAFT, None),
        ("submit", S.DRAFT, S.SUBMITTED, 1),
        ("request_changes", S.SUBMITTED, S.CHANGES_REQUESTED, 1),
        ("submit", S.CHANGES_REQUESTED, S.SUBMITTED, 2),
        ("approve", S.SUBMITTED, S.APPROVED, 2),
        ("reopen", S.APPROVED, S.CHANGES_REQUESTED, 2),
    ]
    trail = [(e.action, e.actor_id, e.details.get("from"), e.details.get("revision"))
             for e in module_events(um)]
    assert trail == [
        ("module.start", team.tovholder.id, "not_started", None),
        ("module.save", team.tovholder.id, None, 1),
        ("module.submit", team.tovholder.id, "draft", 1),
        ("module.request_changes", team.facilitator.id, "submitted", 1),
        ("module.save", team.staff.id, None, 2),
        # the re-submit after changes were requested, by whoever submitted it
        ("module.submit", team.staff.id, "changes_requested", 2),
        ("module.approve", team.facilitator.id, "submitted", 2),
        ("module.reopen", team.admin.id, "approved", 2),
    ]


def test_workflow_buttons_come_from_the_table(team):
    um = module_in(team, S.SUBMITTED)
    assert [t.action for t in workflow.available(um, team.facilitator)] == [
        "approve", "request_changes"]
    assert [t.action for t in workflow.available(um, team.tovholder)] == ["withdraw"]
    assert workflow.available(um, team.observer) == []
    assert workflow.available(um, team.other_staff) == []
    service.review(um, "approve", actor=team.facilitator, comment="Godkendt")
    assert [t.action for t in workflow.available(um, team.facilitator)] == ["reopen"]
    assert [t.action for t in workflow.available(um, team.admin)] == ["reopen"]
    assert workflow.available(um, team.tovholder) == []
