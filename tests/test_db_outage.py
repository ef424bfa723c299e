"""The database away: while PostgreSQL cannot be reached, laks answers 503 with its own page
(which needs no database) and Retry-After, and recovers by itself when it is back.

The test brings its own PostgreSQL server (in a temporary folder, on a free port), so it
runs the same in the SQLite and the PostgreSQL pass of the suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import pyotp
import pytest
from flask_migrate import upgrade

from laks.enums import Role
from laks.extensions import db
from laks.models import User
from tests.conftest import _HASH, PASSWORD, TOTP_LAST_USED, make_test_app

#: The secret of Anne's second factor (a network admin has one).
ANNE_SECRET = pyotp.random_base32()


class ThrowawayPostgres:
    """initdb, start and stop of a PostgreSQL server that nothing else uses."""

    def __init__(self):
        self.bin = Path(sorted(glob("/usr/lib/postgresql/*/bin"),
                               key=lambda p: int(Path(p).parent.name))[-1])
        # Not under pytest's temporary folder: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="laks-pg-outage-"))
        self.as_pg = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/laks_outage"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_pg, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def create(self) -> None:
        self.run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "laks_outage")

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "log"), "-w",
                 "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                       "-c fsync=off", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_pg, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def postgres():
    server = ThrowawayPostgres()
    try:
        server.create()
        yield server
    finally:
        server.remove()


@pytest.fixture
def outage_app(postgres, instance_path):
    app = make_test_app(postgres.url, instance_path)
    with app.app_context():
        upgrade()
        db.session.add(User(email="anne@example.org", name="Anne Admin", role=Role.ADMIN,
                            password_hash=_HASH, totp_secret=ANNE_SECRET,
                            totp_confirmed_at=TOTP_LAST_USED))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert '<html lang="da">' in page and "laks-logo" in page  # the site's own page
    assert "laks er ikke tilgængelig lige nu" in page
    assert "Intet af det, du har gemt, er tabt." in page
    assert "Traceback" not in page and "Internal Server Error" not in page


def test_db_outage_answers_503_and_recovers_by_itself(postgres, outage_app):
    client = outage_app.test_client()
    client.post("/log-ind", data={"email": "anne@example.org", "password": PASSWORD})
    login = client.post("/log-ind/kode", data={"code": pyotp.TOTP(ANNE_SECRET).now()})
    assert login.status_code == 302
    assert client.get("/hjem").status_code == 200

    postgres.stop()
    assert_unavailable(client.get("/hjem"))
    # Error pages show who is logged in; they too give way to the page without a database.
    assert_unavailable(client.get("/findes-ikke"))
    anonymous = outage_app.test_client()
    assert_unavailable(anonymous.post("/log-ind", data={"email": "anne@example.org",
                                                        "password": PASSWORD}))

    postgres.start()
    home = client.get("/hjem")  # the same app, not restarted
    assert home.status_code == 200
    assert "Anne Admin" in home.get_data(as_text=True)
    assert anonymous.post("/log-ind", data={"email": "anne@example.org",
                                            "password": PASSWORD}).status_code == 302
