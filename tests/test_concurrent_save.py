"""Two people saving the same module at the same moment – for real: two clients in two
threads, each request in its own app context with its own database session and connection,
on SQLite and on PostgreSQL alike. Exactly one save wins; the other gets the page with the two
versions to merge (409), and its answers are kept as a revision: nothing typed is lost.

The race is made certain rather than left to the scheduler: a barrier holds each request at
the moment SQLAlchemy is about to write the module row – after both have read the same
version and passed the version check – and lets both go on together. Nothing in laks is
replaced; the database itself decides who wins (the optimistic lock on ``version`` for an
existing module, the unique (unit, module) row for two first saves).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from laks.enums import ModuleState as S
from laks.extensions import db
from laks.models import AuditEvent, UnitModule
from tests.conftest import PASSWORD
from tests.test_workflow import COMPLETE_UDFORDRING, module_in


@contextmanager
def held_at_the_write(mapper_event: str):
    """Hold every request at ``mapper_event`` of UnitModule (once per thread) until two
    requests are there; yields the list of threads that arrived."""
    barrier = threading.Barrier(2, timeout=30)
    arrived: list[str] = []
    seen = threading.local()

    def wait(mapper, connection, target):
        if getattr(seen, "done", False):
            return
        seen.done = True
        arrived.append(threading.current_thread().name)
        barrier.wait()

    event.listen(UnitModule, mapper_event, wait)
    try:
        yield arrived
    finally:
        event.remove(UnitModule, mapper_event, wait)


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/log-ind", data={"email": user.email, "password": PASSWORD}
                       ).status_code == 302
    return client


def race(app, team, path: str, base: int, texts: dict[str, str]):
    """Tovholder and staff post the same form, from version ``base``, at the same moment.
    Returns {who: response}."""
    clients = {who: signed_in(app, getattr(team, who)) for who in texts}
    db.session.commit()  # the test's own session holds nothing while the requests run
    start = threading.Barrier(len(texts), timeout=30)
    responses, errors = {}, []

    def save(who):
        try:
            start.wait()
            responses[who] = clients[who].post(path, data={
                "version": str(base), "intent": "save", **COMPLETE_UDFORDRING,
                "challenge_title": texts[who]})
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(who,), name=who) for who in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return responses


def stored(team) -> UnitModule:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == "udfordring"))


TEXTS = {"tovholder": "Tovholderens udgave", "staff": "Sygeplejerskens udgave"}


def assert_one_won_and_nothing_was_lost(team, responses, *, page: bool):
    outcomes = sorted(r.status_code for r in responses.values())
    assert outcomes == ([302, 409] if page else [200, 409]), outcomes
    winner = next(who for who, r in responses.items() if r.status_code != 409)
    loser = next(who for who, r in responses.items() if r.status_code == 409)
    um = stored(team)
    assert um.answers["challenge_title"] == TEXTS[winner]  # the winner's save stands
    # The loser's answers are kept as a revision of their own, by them.
    kept = [r for r in um.revisions if r.kind == "conflict"]
    assert [(r.answers["challenge_title"], r.author_id) for r in kept] == [
        (TEXTS[loser], getattr(team, loser).id)]
    assert kept[0].answers["why_it_matters"] == COMPLETE_UDFORDRING["why_it_matters"]
    titles = {r.answers["challenge_title"] for r in um.revisions}
    assert {TEXTS[winner], TEXTS[loser]} <= titles  # nothing typed is lost
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.save_conflict", AuditEvent.object_id == um.id)).all()
    assert [e.actor_id for e in events] == [getattr(team, loser).id]
    body = responses[loser].get_data(as_text=True)
    if page:
        # The merge page: both versions side by side, the form based on the winner's
        # version so that saving the merge goes through.
        assert TEXTS[winner] in body and TEXTS[loser] in body
        assert "Intet er overskrevet" in body
        assert f'name="version" type="hidden" value="{um.version}"' in body
    else:
        assert responses[loser].json["status"] == "conflict"
    return um


@pytest.mark.parametrize(("path", "page"), [("", True), ("/autosave", False)],
                         ids=["save", "autosave"])
def test_concurrent_save_of_the_same_version(app, team, path, page):
    um = module_in(team, S.DRAFT)
    base = um.version
    with held_at_the_write("before_update") as arrived:
        responses = race(app, team, f"/enheder/{team.unit.id}/moduler/udfordring{path}",
                         base, TEXTS)
    # Both requests had read the same version and were about to write it.
    assert sorted(arrived) == ["staff", "tovholder"]
    um = assert_one_won_and_nothing_was_lost(team, responses, page=page)
    assert um.version == base + 1  # one write only


def test_concurrent_first_saves_of_a_new_module(app, team):
    with held_at_the_write("before_insert") as arrived:
        responses = race(app, team, f"/enheder/{team.unit.id}/moduler/udfordring", 0, TEXTS)
    assert sorted(arrived) == ["staff", "tovholder"]
    um = assert_one_won_and_nothing_was_lost(team, responses, page=True)
    assert um.state == S.DRAFT
    assert [c.action for c in um.state_changes] == ["start"]  # one module, started once


def test_concurrent_merge_after_the_race_is_saved(app, team):
    """The loser saves the merged form from the conflict page: it goes through."""
    um = module_in(team, S.DRAFT)
    with held_at_the_write("before_update"):
        responses = race(app, team, f"/enheder/{team.unit.id}/moduler/udfordring",
                         um.version, TEXTS)
    loser = next(who for who, r in responses.items() if r.status_code == 409)
    client = signed_in(app, getattr(team, loser))
    merged = client.post(f"/enheder/{team.unit.id}/moduler/udfordring", data={
        "version": str(stored(team).version), "intent": "save", **COMPLETE_UDFORDRING,
        "challenge_title": "Flettet udgave"})
    assert merged.status_code == 302
    assert stored(team).answers["challenge_title"] == "Flettet udgave"
