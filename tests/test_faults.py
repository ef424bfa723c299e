"""Faults survived: a save that crashes half-way leaves the previous revision as it was, and a
gunicorn worker killed in the middle of requests loses no save it acknowledged. (A failed
catalogue build keeping the previous PDF downloadable is in tests/test_catalogue_pdf.py.)"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest
from sqlalchemy import event, func, select, text

from laks.extensions import db
from laks.models import AuditEvent, ModuleRevision, UnitModule
from laks.services.modules import save_answers, unit_module_for
from tests.conftest import PASSWORD, current_code
from tests.http_support import CSRF, Http, gunicorn

VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


class DiskGone(RuntimeError):
    """The fault injected: the database fails as the revision is written."""


class Fault:
    """A switch: while ``armed``, every INSERT of a revision fails – after the module's
    answers are already flushed in the same transaction."""

    armed = False

    def __call__(self, _mapper, _connection, _target):
        if self.armed:
            raise DiskGone("the database went away while writing the revision")


@pytest.fixture
def fault():
    switch = Fault()
    event.listen(ModuleRevision, "before_insert", switch)
    yield switch
    event.remove(ModuleRevision, "before_insert", switch)


def _state(unit_module_id: int):
    db.session.expire_all()
    um = db.session.get(UnitModule, unit_module_id)
    revisions = db.session.scalars(select(ModuleRevision).where(
        ModuleRevision.unit_module_id == unit_module_id).order_by(ModuleRevision.number)).all()
    return (um.version, dict(um.answers), [(r.number, r.kind, dict(r.answers)) for r in revisions],
            db.session.scalar(select(func.count(AuditEvent.id))))


@pytest.mark.parametrize("path", ["", "/autosave"], ids=["save", "autosave"])
def test_a_save_that_crashes_half_way_leaves_the_previous_revision(make_app, team, fault,
                                                                  path):
    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, {"challenge_title": "Vi mister de ældre"}, actor=team.tovholder,
                 base_version=0)
    db.session.commit()
    client = make_app(PROPAGATE_EXCEPTIONS=False).test_client()
    client.post("/log-ind", data={"email": team.tovholder.email, "password": PASSWORD})
    before = _state(um.id)
    url = f"/enheder/{team.unit.id}/moduler/udfordring"
    fault.armed = True
    response = client.post(url + path, data={
        "version": str(before[0]), "challenge_title": "Vi mister de unge", "intent": "save"})
    assert response.status_code == 500  # the crash, not the person's doing
    assert _state(um.id) == before  # answers, version, revisions and audit as they were

    fault.armed = False  # the database is back: the same save goes through
    response = client.post(url + path, data={
        "version": str(before[0]), "challenge_title": "Vi mister de unge", "intent": "save"})
    assert response.status_code in (200, 302)
    assert _state(um.id)[1]["challenge_title"] == "Vi mister de unge"


# --- a worker killed in the middle of requests ------------------------------------------------

def _workers(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_a_worker_killed_mid_request_loses_nothing_acknowledged(database_url, app, team):
    """Saves go on one after the other; every third is sent while both workers are killed
    with SIGKILL a few milliseconds later – the way an out-of-memory killer or a crash ends
    them, in the middle of a request. Every save answered with its redirect is in the
    database as exactly one revision; a save cut off may be there or not, never twice."""
    acknowledged, cut_off, kills = [], [], []
    chance = random.Random(12)  # noqa: S311 - when to kill, not a secret
    env = {"LAKS_DATABASE_URL": database_url, "LAKS_SECRET_KEY": app.secret_key}
    with gunicorn(env, workers=2, options=("--timeout", "20")) as (port, server):

        def kill_workers(delay: float) -> None:
            time.sleep(delay)
            for pid in _workers(server.pid):
                os.kill(pid, signal.SIGKILL)
            kills.append(delay)

        person = Http(port)
        _, _, page = person("GET", "/log-ind")
        status, _, _ = person("POST", "/log-ind", {
            "email": team.tovholder.email, "password": PASSWORD,
            "csrf_token": CSRF.search(page).group(1)})
        assert status == 302
        url = f"/enheder/{team.unit.id}/moduler/udfordring"
        deadline, attempt = time.monotonic() + 90, 0
        while time.monotonic() < deadline and (len(acknowledged) < 20 or len(kills) < 8):
            attempt += 1
            text = f"Forsøg nummer {attempt}"
            try:
                status, _, page = person("GET", url)
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)  # the workers are being started again
                continue
            if status != 200:
                continue
            killer = None
            if attempt % 3 == 0:
                killer = threading.Thread(target=kill_workers, args=(chance.random() / 50,))
                killer.start()
            try:
                status, headers, _ = person("POST", url, {
                    "csrf_token": CSRF.search(page).group(1),
                    "version": VERSION.search(page).group(1),
                    "challenge_title": text, "intent": "save"})
            except (OSError, http.client.HTTPException):
                cut_off.append(text)  # no answer: the person does not know, nor do we
            else:
                if status == 302 and headers["Location"].endswith(url):
                    acknowledged.append(text)
            if killer is not None:
                killer.join()

    assert len(kills) >= 8 and len(acknowledged) >= 20  # the test did what it says
    db.session.expire_all()
    um = unit_module_for(team.unit, "udfordring")
    saved = [r.answers.get("challenge_title") for r in db.session.scalars(
        select(ModuleRevision).where(ModuleRevision.unit_module_id == um.id))]
    for text in acknowledged:
        assert saved.count(text) == 1, text
    assert len(saved) == len(set(saved))  # nothing written twice
    assert set(saved) <= set(acknowledged) | set(cut_off)


def test_a_review_that_loses_a_race_is_refused_with_a_message(make_app, team):
    """Two facilitators decide on the same module at the same moment: the other's step is
    written between this one's reading and writing (injected where the UPDATE is sent). This
    one is refused with laks' own page – 409, not 500 – and nothing of it is stored."""
    from laks.enums import ModuleState
    from laks.models import StateChange
    from laks.services.definitions import get_spec
    from laks.services.modules import submit
    from tests.test_workflow import COMPLETE_UDFORDRING

    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, COMPLETE_UDFORDRING, actor=team.tovholder, base_version=0)
    submit(um, get_spec("udfordring"), actor=team.tovholder)
    db.session.commit()
    steps = db.session.scalar(select(func.count(StateChange.id)))

    def other_decides_first(_mapper, connection, target):
        if target.id == um.id:
            connection.execute(text("UPDATE unit_module SET version = version + 1 "
                                    "WHERE id = :id"), {"id": target.id})

    client = make_app(PROPAGATE_EXCEPTIONS=False).test_client()
    client.post("/log-ind", data={"email": team.facilitator.email, "password": PASSWORD})
    client.post("/log-ind/kode", data={"code": current_code(team.facilitator)})
    event.listen(UnitModule, "before_update", other_decides_first)
    try:
        response = client.post(f"/enheder/{team.unit.id}/moduler/udfordring/vurdering", data={
            "decision": "approve", "comment": "Fint arbejde."})
    finally:
        event.remove(UnitModule, "before_update", other_decides_first)
    assert response.status_code == 409
    assert "Ændret af en anden imens" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(UnitModule, um.id).state == ModuleState.SUBMITTED
    assert db.session.scalar(select(func.count(StateChange.id))) == steps
