"""The workflow table: every allowed transition works, every other is refused with a clear
message, and each step leaves a StateChange and an AuditEvent."""

from __future__ import annotations

import pytest
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


def module_in(team, state: S, key: str = "udfordring"):
    """A module of the team's unit brought to ``state`` through the workflow itself."""
    um = service.unit_module_for(team.unit, key)
    if state == S.NOT_STARTED:
        return um
    service.save_answers(um, COMPLETE_UDFORDRING, actor=team.tovholder, base_version=0)
    if state in (S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED):
        service.submit(um, get_spec(key), actor=team.tovholder)
    if state == S.CHANGES_REQUESTED:
        service.review(um, "request_changes", actor=team.facilitator, comment="Uddyb tallene.")
    if state == S.APPROVED:
        service.review(um, "approve", actor=team.facilitator, comment="Fint arbejde.")
    db.session.commit()
    assert um.state == state
    return um


ALLOWED = [(t.source, t.action, t.target) for t in workflow.TRANSITIONS]
ALL_ACTIONS = sorted(workflow.ACTIONS)


@pytest.mark.parametrize(("source", "action", "target"), ALLOWED,
                         ids=[f"{s.value}-{a}" for s, a, _ in ALLOWED])
def test_workflow_allowed_transition(team, source, action, target):
    um = module_in(team, source)
    actor = team.facilitator if action in ("approve", "request_changes") else team.tovholder
    change = workflow.transition(um, action, actor=actor, comment="Kommentar")
    assert um.state == target
    assert (change.from_state, change.to_state, change.actor) == (source, target, actor)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == f"module.{action}"))


FORBIDDEN_FROM_STATE = [
    (state, action) for state in S for action in ALL_ACTIONS
    if workflow.find(state, action) is None
]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN_FROM_STATE,
                         ids=[f"{s.value}-{a}" for s, a in FORBIDDEN_FROM_STATE])
def test_workflow_refuses_transition_not_allowed_from_state(team, state, action):
    um = module_in(team, state)
    with team_request(), pytest.raises(workflow.WorkflowError, match="ikke muligt"):
        workflow.transition(um, action, actor=team.admin, comment="x")
    assert um.state == state


def team_request():
    from flask import current_app

    return current_app.test_request_context()


def test_workflow_submit_needs_every_required_answer(team):
    um = service.unit_module_for(team.unit, "udfordring")
    service.save_answers(um, {"challenge_title": "Kun en titel"}, actor=team.tovholder,
                         base_version=0)
    with pytest.raises(service.IncompleteModule) as refused:
        service.submit(um, get_spec("udfordring"), actor=team.tovholder)
    assert [q.key for q in refused.value.missing] == [
        "challenge_type", "health_offer", "target_group", "why_it_matters"]
    assert um.state == S.DRAFT


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_workflow_review_needs_a_comment(team, action):
    um = module_in(team, S.SUBMITTED)
    with team_request(), pytest.raises(workflow.WorkflowError, match="kommentar"):
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


def test_workflow_full_round_trip_makes_a_timeline(team):
    um = module_in(team, S.CHANGES_REQUESTED)
    service.save_answers(um, {"why_it_matters": "Nu med tal: 6 af 14 faldt fra."},
                         actor=team.staff, base_version=um.version)
    service.submit(um, get_spec("udfordring"), actor=team.staff)
    service.review(um, "approve", actor=team.facilitator, comment="Tak, godkendt.")
    steps = [(c.action, c.to_state) for c in db.session.scalars(
        select(StateChange).where(StateChange.unit_module_id == um.id).order_by(StateChange.id))]
    assert steps == [("start", S.DRAFT), ("submit", S.SUBMITTED),
                     ("request_changes", S.CHANGES_REQUESTED), ("submit", S.SUBMITTED),
                     ("approve", S.APPROVED)]


def test_workflow_buttons_come_from_the_table(team):
    um = module_in(team, S.SUBMITTED)
    assert [t.action for t in workflow.available(um, team.facilitator)] == [
        "approve", "request_changes"]
    assert workflow.available(um, team.tovholder) == []
    assert workflow.available(um, team.observer) == []
