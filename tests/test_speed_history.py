"""A module's page and its autosave cost the same with a long history as with a short one:
the same SQL statements for 5 revisions as for 500 (and 200 comments, 61 steps), because the
history is never loaded whole – only the newest revision, the two compared, counts, and the
newest steps and comments the page shows, with a link to all of them."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from laks.enums import ModuleState as S
from laks.enums import Role
from laks.extensions import db
from laks.models import ModuleComment, ModuleRevision, StateChange, UnitModule
from laks.services.definitions import current_version_id

ANSWERS = {
    "trial_action": "Vi ringer til **alle** borgere dagen før første gang.",
    "activities": [{"who": "Sygeplejersken", "what": f"Ringer op, runde {n}",
                    "where": "Sundhedscenteret", "when": "Mandag"} for n in range(6)],
    "start_date": "2026-03-02",
    "prediction": "Flere møder op.",
    "measurement": "Fremmøde pr. uge.",
    "responsible": "Tovholderen",
    "resources": "- 2 timer om ugen\n- en telefon",
}
START = datetime(2026, 2, 1, 9, tzinfo=UTC)


def _history(unit, staff, facilitator, *, revisions: int, comments: int, rounds: int,
             state: S = S.CHANGES_REQUESTED) -> UnitModule:
    """The unit's action plan with ``revisions`` revisions, ``comments`` comments and
    ``rounds`` rounds of submitting and being asked for changes (ending in ``state``)."""
    um = UnitModule(unit=unit, module_key="handleplan", state=state, answers=ANSWERS,
                    updated_at=START, updated_by=staff)
    db.session.add(um)
    db.session.flush()
    version_id = current_version_id("handleplan", unit.programme_id)
    db.session.add_all(ModuleRevision(
        unit_module_id=um.id, number=n, kind="save", author_id=staff.id,
        answers={**ANSWERS, "prediction": f"Forudsigelse {n}"},
        created_at=START + timedelta(minutes=n), definition_version_id=version_id)
        for n in range(1, revisions + 1))
    steps = [("start", S.NOT_STARTED, S.DRAFT, staff, "")]
    for n in range(rounds):
        steps.append(("submit", S.CHANGES_REQUESTED if n else S.DRAFT, S.SUBMITTED, staff, ""))
        steps.append(("request_changes", S.SUBMITTED, S.CHANGES_REQUESTED, facilitator,
                      f"Runde {n}: uddyb **målingen**."))
    if state == S.SUBMITTED:
        steps.append(("submit", S.CHANGES_REQUESTED, S.SUBMITTED, staff, ""))
    db.session.add_all(StateChange(
        unit_module_id=um.id, action=action, from_state=old, to_state=new, actor_id=who.id,
        comment=comment, at=START + timedelta(minutes=i),
        revision_number=min(revisions, revisions - len(steps) + i + 1))
        for i, (action, old, new, who, comment) in enumerate(steps))
    db.session.add_all(ModuleComment(
        unit_module_id=um.id, author_id=(staff if n % 2 else facilitator).id,
        body=f"Kommentar nummer {n} med et [link](https://example.org/{n}).",
        created_at=START + timedelta(minutes=n)) for n in range(comments))
    db.session.commit()
    return um


@pytest.fixture
def pair(team, make_unit, make_user):
    """Two units of the same programme, both in the team's staff member's and facilitator's
    care: one action plan with a short history, one with a long one."""
    short_unit = team.unit
    long_unit = make_unit("Langhistorien", programme=team.unit.programme)
    staff, facilitator = team.tovholder, team.facilitator
    for person in (staff, facilitator):
        person.memberships.append(type(person.memberships[0])(unit=long_unit))
    db.session.commit()
    short = _history(short_unit, staff, facilitator, revisions=5, comments=5, rounds=1)
    long = _history(long_unit, staff, facilitator, revisions=500, comments=200, rounds=30)
    return short, long


@contextmanager
def statements():
    """The SQL statements this thread sends while the block runs (not a background job's)."""
    sent: list[str] = []
    me = threading.get_ident()

    def count(_conn, _cursor, statement, *_args):
        if threading.get_ident() == me:
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@contextmanager
def loaded():
    """The rows of the history loaded from the database while the block runs, per model:
    ``{"ModuleRevision": n, …}``; and how many revisions came with their answers."""
    counts = {"ModuleRevision": 0, "ModuleComment": 0, "StateChange": 0, "answers": 0}
    me = threading.get_ident()

    def seen(target, _context):
        if threading.get_ident() == me:
            counts[type(target).__name__] += 1
            if isinstance(target, ModuleRevision) and "answers" in target.__dict__:
                counts["answers"] += 1

    models = (ModuleRevision, ModuleComment, StateChange)
    for model in models:
        event.listen(model, "load", seen)
    try:
        yield counts
    finally:
        for model in models:
            event.remove(model, "load", seen)


def page(um: UnitModule, suffix: str = "") -> str:
    return f"/enheder/{um.unit_id}/moduler/handleplan{suffix}"


def _counted(client, method: str, url: str, **kwargs) -> tuple[int, dict, object]:
    """The statements a request sent, the history's rows it loaded, and its response."""
    with statements() as sent, loaded() as rows:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return len(sent), rows, response


def test_speed_module_page_reads_the_same_with_500_revisions_as_with_5(
        client, login, pair):
    short, long = pair
    login(db.session.get(type(short.updated_by), short.updated_by_id))
    client.get(page(short))  # the first request of a client differs (session, caches)
    few, few_rows, _ = _counted(client, "GET", page(short))
    many, many_rows, response = _counted(client, "GET", page(long))
    assert few == many
    # No revision is read for an editable module; the steps and comments shown, no more.
    assert few_rows == {"ModuleRevision": 0, "ModuleComment": 5, "StateChange": 3,
                        "answers": 0}
    assert many_rows == {"ModuleRevision": 0, "ModuleComment": 5, "StateChange": 5,
                         "answers": 0}
    text = response.get_data(as_text=True)
    assert "De nyeste 5 af 61 trin." in text
    assert "De nyeste 5 af 200 kommentarer." in text
    assert text.count('<article class="comment">') == 5
    assert "Kommentar nummer 199" in text and "Kommentar nummer 194" not in text
    assert "Runde 29: uddyb" in text  # the request the unit answers, at the top
    assert "Se de 500 gemte revisioner, og sammenlign dem" in text
    assert f'href="{page(long)}?historik=alle#discussion"' in text


def test_speed_module_page_shows_the_whole_history_on_request(client, login, pair):
    short, long = pair
    login(db.session.get(type(short.updated_by), short.updated_by_id))
    text = client.get(page(long, "?historik=alle")).get_data(as_text=True)
    assert text.count('<article class="comment">') == 200
    assert "Kommentar nummer 0 " in text
    assert len(re.findall(r'<li>\s*<p><strong>', text)) == 61  # every step of the timeline
    assert "De nyeste" not in text
    # A short history is shown whole, without a link.
    text = client.get(page(short)).get_data(as_text=True)
    assert text.count('<article class="comment">') == 5 and "historik=alle" not in text


def test_speed_autosave_reads_the_same_with_500_revisions_as_with_5(
        client, login, pair):
    short, long = pair
    login(db.session.get(type(short.updated_by), short.updated_by_id))
    counts = {}
    for um in (short, long):
        version = um.version
        for attempt in range(2):  # a new autosave revision, then the same one updated
            data = {"version": str(version), "responsible": f"Tovholderen {attempt}",
                    "trial_action": ANSWERS["trial_action"]}
            sent, rows, response = _counted(client, "POST", page(um, "/autosave"), data=data)
            version = response.get_json()["version"]
            counts[(um.id, attempt)] = sent
            # The newest revision only (to number the next, or to update it), whatever
            # the length of the history.
            assert rows == {"ModuleRevision": 1, "ModuleComment": 0, "StateChange": 0,
                            "answers": 1}, (um.id, attempt)
    assert counts[(short.id, 0)] == counts[(long.id, 0)]
    assert counts[(short.id, 1)] == counts[(long.id, 1)]
    db.session.expire_all()
    kinds = db.session.execute(
        select(ModuleRevision.number, ModuleRevision.kind)
        .where(ModuleRevision.unit_module_id == long.id)
        .order_by(ModuleRevision.number.desc()).limit(2)).all()
    assert kinds == [(501, "autosave"), (500, "save")]  # the second autosave updated 501


def test_speed_a_resubmitted_module_compares_the_reviewed_revision_without_the_history(
        client, login, team, make_unit):
    """The facilitator's "changes since you asked for changes" on a module with hundreds of
    revisions: the same statements as with a few, and the right two revisions compared."""
    counts, pages = [], []
    for revisions in (5, 400):
        unit = make_unit(programme=team.unit.programme)
        for person in (team.tovholder, team.facilitator):
            person.memberships.append(type(person.memberships[0])(unit=unit))
        db.session.commit()
        um = _history(unit, team.tovholder, team.facilitator, revisions=revisions,
                      comments=3, rounds=2, state=S.SUBMITTED)
        if not counts:
            login(team.facilitator)
            client.get(page(um))
        sent, rows, response = _counted(client, "GET", page(um))
        counts.append(sent)
        assert rows["ModuleRevision"] == 2  # the reviewed one and the submitted one
        pages.append((revisions, response.get_data(as_text=True)))
    assert counts[0] == counts[1]
    for revisions, text in pages:
        # The request for changes was taken at the revision before the last, the submission
        # at the last: their predictions differ.
        assert f"Forudsigelse {revisions - 1}" in text and f"Forudsigelse {revisions}" in text


def test_speed_revisions_page_reads_only_the_two_compared(client, login, pair):
    short, long = pair
    login(db.session.get(type(short.updated_by), short.updated_by_id))
    client.get(page(short, "/revisioner"))
    few, _, _ = _counted(client, "GET", page(short, "/revisioner?fra=1&til=2"))
    many, rows, response = _counted(client, "GET", page(long, "/revisioner?fra=1&til=2"))
    assert few == many
    assert rows["ModuleRevision"] == 500 and rows["answers"] == 0  # listed, not read whole
    text = response.get_data(as_text=True)
    assert "Forudsigelse 1" in text and "Forudsigelse 2" in text
    assert text.count('name="fra"') == 500  # every revision is still listed


def test_speed_the_pair_is_what_it_says(pair):
    short, long = pair
    def count(model, um):
        return db.session.scalar(select(func.count(model.id)).where(
            model.unit_module_id == um.id))
    assert [count(ModuleRevision, um) for um in pair] == [5, 500]
    assert [count(ModuleComment, um) for um in pair] == [5, 200]
    assert [count(StateChange, um) for um in pair] == [3, 61]
    assert short.updated_by.role == Role.STAFF


def test_speed_a_workflow_step_reads_the_revision_number_not_the_history(pair):
    """Each step records the number of the revision it saw: read from the database as one
    number, not by loading the module's hundreds of revisions."""
    from laks.workflow import latest_revision_number

    short, long = pair
    db.session.add(ModuleRevision(unit_module_id=long.id, number=501, kind="conflict",
                                  author_id=long.updated_by_id, answers={},
                                  created_at=START))
    db.session.commit()
    db.session.expire_all()
    for um, newest in ((short, 5), (long, 500)):  # a conflict is not what is stored
        um = db.session.get(UnitModule, um.id)
        with loaded() as rows:
            assert latest_revision_number(um) == newest
        assert rows["ModuleRevision"] == 0
    assert latest_revision_number(UnitModule(module_key="handleplan")) is None
