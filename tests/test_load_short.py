"""Load without loss, short: the machinery of ``python -m bench.load`` for a few seconds with
eight people on the suite's database (SQLite or PostgreSQL). laks under gunicorn with two
workers; staff in pairs on the same modules (autosaving, saving, submitting), a facilitator
reviewing. Zero 5xx answers, and the database holds every save acknowledged exactly once,
every save that lost a race as a conflict revision, and no save that overwrote a version its
writer had not seen – a check that does see a save taken away, or a version skipped."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select

from bench.load import laks_environment, prepare, serve, table
from bench.load_check import check
from bench.load_driver import drive
from laks.extensions import db
from laks.models import AuditEvent, ModuleRevision


def test_load_for_a_few_seconds_loses_nothing(app, database_url, definitions, tmp_path):
    cast = prepare(people=8, units=3)
    db.engine.dispose()  # the server's workers have the database to themselves
    log = tmp_path / "gunicorn.log"
    with serve(laks_environment(database_url, tmp_path), log=log) as port:
        record = drive(port, cast, seconds=5, think=0.1, seed=7)
    verdict = check(cast, record)
    report = table(record, verdict, title="short load") + "\n" + log.read_text()[-4000:]

    assert verdict.five_xx == 0, report
    assert not verdict.lost and not verdict.twice and not verdict.overwrites, report
    assert verdict.ok, report
    # It did what it says: saves of every kind acknowledged, races lost and kept, reviews.
    assert all(verdict.acknowledged.get(kind, 0) > 0 for kind in ("save", "autosave")), report
    assert verdict.conflicts_answered > 0, report
    assert verdict.conflict_revisions == verdict.conflicts_answered, report
    assert sum(record.reviews.values()) > 0, report

    # And the check would see it: one acknowledged save taken away, and another whose save
    # (the audit log says) made a version two further on than the one its text names.
    saves = [w for w in record.writes if w.kind == "save" and w.outcome == "saved"]
    assert len(saves) >= 2, report
    gone, moved = _revision_of(saves[0].text), _revision_of(saves[-1].text)
    db.session.delete(gone)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.save", AuditEvent.object_id == moved.unit_module_id))
    event = next(e for e in events if e.details["revision"] == moved.number)
    event.details = {**event.details, "version": event.details["version"] + 2}
    db.session.commit()
    tampered = check(cast, record)
    assert [saves[0].text in line for line in tampered.lost] == [True]
    assert [saves[-1].text in line for line in tampered.overwrites] == [True]
    assert not tampered.ok


def _revision_of(text: str) -> ModuleRevision:
    return next(r for r in db.session.scalars(select(ModuleRevision))
                if text in (r.answers or {}).values())


def test_make_load_runs_the_load_script_for_a_minute_with_fifty_people():
    commands = subprocess.run(["make", "-n", "load"], cwd=Path(__file__).resolve().parents[1],
                              capture_output=True, text=True, check=True).stdout
    assert "python -m bench.load --seconds 60 --people 50" in commands
