"""Progress scores on the IHI scale: who may set them, what is refused, the audit trail, the
history and the latest score of many units in one query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from werkzeug.exceptions import Forbidden

from laks.enums import AUDIT_ACTION_LABELS, IHI_SCALE
from laks.extensions import db
from laks.models import AuditEvent, ProgressScore
from laks.services import progress

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Statements:
    """Counts the SQL statements sent to the database while it is open."""

    def __enter__(self):
        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *_args, **_kwargs):
        self.count += 1

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)


# --- set_score ---------------------------------------------------------------------------------


def test_progress_facilitator_sets_a_score_with_a_note_and_it_is_audited(team):
    score = progress.set_score(team.unit, 7, "  Flere gennemfører nu.  ", actor=team.facilitator)
    db.session.commit()
    stored = db.session.get(ProgressScore, score.id)
    assert (stored.unit_id, stored.half_steps, stored.score) == (team.unit.id, 7, 3.5)
    assert stored.note == "Flere gennemfører nu."
    assert stored.set_by == team.facilitator and stored.set_at is not None
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "progress.set"))
    (entry,) = list(audit)
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        team.facilitator.id, "unit", team.unit.id)
    assert entry.details["half_steps"] == 7 and entry.details["score"] == 3.5
    assert str(AUDIT_ACTION_LABELS["progress.set"]) == "Fremdriftsscore sat"


def test_progress_admin_sets_a_score_without_a_note(team):
    score = progress.set_score(team.unit, 1, None, actor=team.admin)
    assert (score.half_steps, score.note) == (1, "")


@pytest.mark.parametrize("who", ["tovholder", "staff", "other_facilitator", "other_staff",
                                 "observer"], ids=str)
def test_progress_others_may_not_set_a_score(team, who):
    with pytest.raises(Forbidden):
        progress.set_score(team.unit, 5, "", actor=getattr(team, who))
    assert db.session.scalar(select(func.count(ProgressScore.id))) == 0


@pytest.mark.parametrize(("half_steps", "note", "field", "words"), [
    (None, "", "half_steps", "Vælg en score på skalaen."),
    ("", "", "half_steps", "Vælg en score på skalaen."),
    (0, "", "half_steps", "fra 0,5 til 5,0"),
    (11, "", "half_steps", "fra 0,5 til 5,0"),
    (-3, "", "half_steps", "fra 0,5 til 5,0"),
    ("7", "", "half_steps", "fra 0,5 til 5,0"),
    (True, "", "half_steps", "fra 0,5 til 5,0"),
    (3.5, "", "half_steps", "fra 0,5 til 5,0"),
    (5, "x" * 501, "note", "højst 500 tegn, den har 501"),
    (5, "Borgeren 010190-1239 kom ikke", "note", "CPR-nummer"),
], ids=["none", "empty", "zero", "eleven", "negative", "text", "bool", "decimal", "long",
        "cpr"])
def test_progress_refuses_a_score_off_the_scale_or_a_bad_note(team, half_steps, note, field,
                                                               words):
    with pytest.raises(progress.ScoreRefused) as refused:
        progress.set_score(team.unit, half_steps, note, actor=team.facilitator)
    (problem,) = refused.value.problems
    assert problem.field == field and words in str(problem.message)
    assert db.session.scalar(select(func.count(ProgressScore.id))) == 0


def test_progress_a_note_of_500_characters_and_every_step_of_the_scale_are_taken(team):
    for half_steps in IHI_SCALE:
        progress.set_score(team.unit, half_steps, "x" * 500, actor=team.facilitator)
    assert [s.half_steps for s in progress.history(team.unit)] == list(range(1, 11))


# --- history and latest scores -----------------------------------------------------------------


def test_progress_history_is_oldest_first_and_never_changes_a_score(team):
    later = progress.set_score(team.unit, 4, "Anden", actor=team.facilitator,
                               at=DAY + timedelta(days=30))
    earlier = progress.set_score(team.unit, 2, "Første", actor=team.admin, at=DAY)
    progress.set_score(team.other_unit, 9, "", actor=team.other_facilitator)
    db.session.commit()
    scores = progress.history(team.unit)
    assert [s.id for s in scores] == [earlier.id, later.id]
    assert [s.set_by.name for s in scores] == [team.admin.name, team.facilitator.name]


def test_progress_latest_scores_of_many_units_in_one_query(team, make_unit):
    others = [make_unit() for _ in range(3)]
    progress.set_score(team.unit, 2, "", actor=team.admin, at=DAY)
    newest = progress.set_score(team.unit, 6, "", actor=team.admin, at=DAY + timedelta(days=9))
    # Added last but dated earlier (a history typed in afterwards): not the latest.
    progress.set_score(team.unit, 3, "", actor=team.admin, at=DAY + timedelta(days=1))
    same_instant = [progress.set_score(team.other_unit, n, "", actor=team.admin, at=DAY)
                    for n in (5, 8)]
    for n, unit in enumerate(others[:2], start=1):
        progress.set_score(unit, n, "", actor=team.admin)
    db.session.commit()
    db.session.expire_all()
    ids = [team.unit.id, team.other_unit.id, *(u.id for u in others)]
    with Statements() as statements:
        latest = progress.latest_scores(ids)
        names = {unit_id: score.set_by.name for unit_id, score in latest.items()}
    assert statements.count == 1
    assert latest[team.unit.id].id == newest.id
    assert latest[team.other_unit.id].id == same_instant[-1].id
    assert {latest[u.id].half_steps for u in others[:2]} == {1, 2}
    assert others[2].id not in latest
    assert set(names.values()) == {team.admin.name}
    assert progress.latest_scores([]) == {}


def test_progress_latest_scores_asks_only_for_the_units_named(team):
    progress.set_score(team.unit, 2, "", actor=team.admin)
    progress.set_score(team.other_unit, 3, "", actor=team.admin)
    assert set(progress.latest_scores([team.other_unit.id])) == {team.other_unit.id}


# --- the demo ----------------------------------------------------------------------------------


def test_progress_demo_units_have_a_trajectory_set_once(app):
    from laks.models import Municipality, Unit
    from laks.services.seed import load_seed

    load_seed(demo=True)
    db.session.commit()
    scores = list(db.session.scalars(select(ProgressScore)))
    by_unit: dict[int, list[ProgressScore]] = {}
    for score in scores:
        by_unit.setdefault(score.unit_id, []).append(score)
    scored = {db.session.get(Unit, unit_id).municipality.name: len(s)
              for unit_id, s in by_unit.items()}
    assert scored == {"Holbæk": 6, "København": 3, "Aarhus": 4, "Randers": 2}
    holbaek = db.session.scalar(select(Unit).join(Municipality).where(
        Unit.name == "Sundhedscenteret", Municipality.code == "0316"))
    trajectory = progress.history(holbaek)
    assert [s.score for s in trajectory] == [1.0, 1.5, 2.0, 3.0, 4.0, 4.5]
    assert trajectory[0].set_at.date().isoformat() == "2015-10-15"
    assert all(s.set_by is not None and s.set_by.role.value == "facilitator"
               and holbaek.id in s.set_by.unit_ids for s in trajectory)
    audited = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "progress.set"))
    assert audited == len(scores)
    load_seed(demo=True)
    db.session.commit()
    assert db.session.scalar(select(func.count(ProgressScore.id))) == len(scores)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "progress.set")) == audited
