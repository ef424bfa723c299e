"""Background jobs on Redis: with LAKS_REDIS_URL set, publishing an edition puts its PDF build
on an RQ queue once the request commits, and `flask --app laks jobs worker` – another
process, as on another machine – builds it against the same database. A real redis-server
(Debian's) is started for each test on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from laks import jobs
from laks.enums import BuildStatus
from laks.extensions import db
from laks.models import Edition, User
from laks.services import catalogue
from tests.catalogue_support import fill_case

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on a free port, in a temporary folder, keeping nothing on disk."""
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def on_redis(app, make_app, redis_url, tmp_path):
    """laks configured with Redis (jobs on RQ), its PDFs in a folder of the test's own."""
    storage = tmp_path / "catalogue"
    redis_app = make_app(LAKS_REDIS_URL=redis_url, LAKS_CATALOGUE_DIR=str(storage))
    return redis_app, storage


@pytest.fixture
def two_cases(team, make_user):
    other = team.other_unit
    other.programme = team.unit.programme
    other_tovholder = make_user("staff", other, tovholder=True)
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    fill_case(other, staff=other_tovholder, facilitator=team.other_facilitator,
              changes={"refleksion": {"case_title": "Den anden case fra Sletten"}})
    catalogue.give_consent(team.unit, team.tovholder)
    catalogue.give_consent(other, other_tovholder)
    db.session.commit()
    return team


def run_worker(database_url: str, redis_url: str, storage: Path) -> subprocess.CompletedProcess:
    """`flask --app laks jobs worker --burst` in a process of its own: it builds what is
    queued, then stops."""
    env = {**os.environ, "LAKS_DATABASE_URL": database_url, "LAKS_REDIS_URL": redis_url,
           "LAKS_CATALOGUE_DIR": str(storage)}
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run([str(flask), "--app", "laks", "jobs", "worker", "--burst"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_published_edition_is_built_by_an_rq_worker(on_redis, two_cases, database_url,
                                                    redis_url):
    redis_app, storage = on_redis
    admin_id, unit_ids = two_cases.admin.id, [two_cases.unit.id, two_cases.other_unit.id]
    with redis_app.app_context():
        queue = jobs.rq_queue(redis_app)
        admin = db.session.get(User, admin_id)
        edition = catalogue.create_edition(admin, "Katalog på Redis", None, "theme")
        catalogue.set_edition_cases(edition, unit_ids, admin)
        db.session.commit()

        catalogue.publish_edition(edition, admin)
        assert queue.count == 0  # not before the commit
        db.session.rollback()
        assert queue.count == 0  # and never for a publish that was rolled back

        edition = db.session.get(Edition, edition.id)
        catalogue.publish_edition(edition, admin)
        db.session.commit()
        assert queue.count == 1
        assert queue.jobs[0].args == (edition.id,)
        edition_id = edition.id
        titles = [content["title"] for _c, content in catalogue.edition_cases(edition)]
        db.session.remove()

    worker = run_worker(database_url, redis_url, storage)
    assert worker.returncode == 0, worker.stderr

    db.session.expire_all()
    built = db.session.get(Edition, edition_id)
    assert built.pdf_status == BuildStatus.READY, built.pdf_error
    path = storage / built.pdf_file
    words = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                    check=True).stdout.decode().replace("-\n", "").split())
    for title in titles:
        assert " ".join(title.split()) in words
    with redis_app.app_context():
        assert jobs.rq_queue(redis_app).count == 0


def test_rq_worker_takes_builds_that_never_reached_redis(on_redis, database_url, redis_url):
    """An edition left queued in the database (Redis was away when it was published) is
    put on the queue and built when a worker starts."""
    from tests.catalogue_factories import make_edition, snapshot

    _redis_app, storage = on_redis
    edition = make_edition([snapshot(unit_id=1, title="Ventede uden Redis")],
                           pdf_status=BuildStatus.QUEUED)
    worker = run_worker(database_url, redis_url, storage)
    assert worker.returncode == 0, worker.stderr
    db.session.expire_all()
    built = db.session.get(Edition, edition.id)
    assert built.pdf_status == BuildStatus.READY, built.pdf_error
    assert (storage / built.pdf_file).is_file()


def test_publish_with_redis_away_keeps_the_edition_queued(make_app, two_cases):
    """Redis not answering never fails the admin's publish: the build waits in the
    database for a worker."""
    away = make_app(LAKS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    admin_id, unit_id = two_cases.admin.id, two_cases.unit.id
    with away.app_context():
        admin = db.session.get(User, admin_id)
        edition = catalogue.create_edition(admin, "Katalog", None, "theme")
        catalogue.set_edition_cases(edition, [unit_id], admin)
        catalogue.publish_edition(edition, admin)
        db.session.commit()
        edition_id = edition.id
        db.session.remove()
    db.session.expire_all()
    assert db.session.get(Edition, edition_id).pdf_status == BuildStatus.QUEUED
