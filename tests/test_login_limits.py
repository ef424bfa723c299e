"""Login abuse: failed attempts are limited per account and per network address (in memory,
or shared through Redis), answered with the site's own page; and an unknown address costs
as much time as a known one."""

from __future__ import annotations

import statistics
import subprocess
import time

import pytest
import redis
from sqlalchemy import select

from laks import config
from laks.enums import Role
from laks.extensions import db
from laks.models import AuditEvent
from tests.conftest import PASSWORD
from tests.http_support import CSRF, Http, free_port, gunicorn, wait_for_port

WRONG = "not the password at all"


@pytest.fixture
def limited_app(make_app):
    """Apps with the login limits laks ships with (the suite's app is generous)."""
    limits = {"LAKS_LOGIN_LIMIT": config.LOGIN_LIMIT,
              "LAKS_LOGIN_ADDRESS_LIMIT": config.LOGIN_ADDRESS_LIMIT}
    return lambda **overrides: make_app(**{**limits, **overrides})


def attempt(client, email, password=WRONG, address="10.0.0.1", **headers):
    return client.post("/log-ind", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)




def test_login_limits_the_defaults_are_five_per_account_and_thirty_per_address():
    assert config.LOGIN_LIMIT == "5 per 15 minutes"
    assert config.LOGIN_ADDRESS_LIMIT == "30 per 15 minutes"


def test_login_limits_an_account_after_five_failed_attempts(limited_app, make_user):
    user = make_user(Role.STAFF)
    client = limited_app().test_client()
    for _ in range(5):
        assert attempt(client, user.email).status_code == 422
    refused = attempt(client, user.email)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 15 * 60
    page = refused.get_data(as_text=True)
    assert '<html lang="da">' in page and "laks-logo" in page  # the site's own page
    assert "For mange forsøg på at logge ind" in page
    assert "Prøv igen efter kl." in page
    # Not even the right password, nor from another address, gets in now...
    assert attempt(client, user.email, PASSWORD).status_code == 429
    assert attempt(client, user.email, PASSWORD, address="10.9.9.9").status_code == 429
    # ...while other people from the same address log in as usual.
    other = make_user(Role.STAFF)
    assert attempt(client, other.email, PASSWORD).status_code == 302
    assert client.get("/log-ind").status_code == 302  # logged in, so sent home
    failed = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed")).all()
    assert len(failed) == 5  # refused attempts never reach the password check


def test_login_limits_count_the_address_however_it_is_written(limited_app, make_user):
    make_user(Role.STAFF, email="anna@example.org")
    client = limited_app().test_client()
    for typed in ("anna@example.org", "Anna@Example.org", " ANNA@example.org ",
                  "anna@EXAMPLE.ORG", "anna@example.org"):
        assert attempt(client, typed).status_code == 422
    assert attempt(client, "Anna@example.org", PASSWORD).status_code == 429


def test_login_limits_an_address_after_thirty_failed_attempts(limited_app):
    client = limited_app().test_client()
    for n in range(30):
        assert attempt(client, f"guess{n}@example.org", address="10.0.0.7").status_code == 422
    assert attempt(client, "guess-new@example.org", address="10.0.0.7").status_code == 429
    assert attempt(client, "guess-new@example.org", address="10.0.0.8").status_code == 422


def test_login_limits_count_only_failures(limited_app, make_user):
    """Staff of a whole municipality behind one address may all log in, every day."""
    user = make_user(Role.STAFF)
    client = limited_app().test_client()
    for _ in range(8):
        assert attempt(client, user.email, PASSWORD).status_code == 302
        assert client.post("/log-ud").status_code == 302


def test_login_limits_behind_a_proxy_count_the_forwarded_address(limited_app):
    app = limited_app(LAKS_PROXY_COUNT=1,
                      LAKS_LOGIN_ADDRESS_LIMIT="3 per 15 minutes")
    client = app.test_client()
    for n in range(3):
        response = attempt(client, f"p{n}@example.org", address="10.0.0.1",
                           **{"X-Forwarded-For": "192.0.2.1"})
        assert response.status_code == 422
    assert attempt(client, "p9@example.org", address="10.0.0.1",
                   **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    # The same proxy, another visitor behind it.
    assert attempt(client, "p9@example.org", address="10.0.0.1",
                   **{"X-Forwarded-For": "192.0.2.2"}).status_code == 422


def test_login_limits_without_proxy_setting_ignore_forwarded_for(limited_app):
    """X-Forwarded-For is written by the client unless a proxy of ours sets it."""
    app = limited_app(LAKS_LOGIN_ADDRESS_LIMIT="3 per 15 minutes")
    client = app.test_client()
    for n in range(3):
        attempt(client, f"q{n}@example.org", **{"X-Forwarded-For": f"198.51.100.{n}"})
    assert attempt(client, "q9@example.org",
                   **{"X-Forwarded-For": "198.51.100.77"}).status_code == 429


# --- shared through Redis ----------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free port, in a temporary folder, for this test only."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    return redis_server[1]


@pytest.fixture
def laks_under_gunicorn(database_url, redis_url, app):
    """laks served by gunicorn in a process of its own, configured only by LAKS_* variables
    (so with the limits laks ships with), sharing the test database and Redis."""
    with gunicorn({"LAKS_DATABASE_URL": database_url, "LAKS_REDIS_URL": redis_url,
                   "LAKS_SECRET_KEY": app.secret_key},
                  unset=("LAKS_LOGIN_LIMIT", "LAKS_LOGIN_ADDRESS_LIMIT")) as (port, _server):
        yield Http(port)


def test_login_limits_are_shared_through_redis(limited_app, redis_server, laks_under_gunicorn,
                                               make_user):
    process, redis_url = redis_server
    user = make_user(Role.STAFF)
    here = limited_app(LAKS_REDIS_URL=redis_url).test_client()
    for _ in range(5):
        assert attempt(here, user.email).status_code == 422

    # Another process – another gunicorn worker, another machine – sees the same count.
    there = laks_under_gunicorn
    _, _, page = there("GET", "/log-ind")
    status, headers, page = there("POST", "/log-ind", {
        "email": user.email, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)})
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert "For mange forsøg på at logge ind" in page
    assert any(b"auth.login" in key for key in redis.Redis.from_url(redis_url).keys())

    # Should Redis go away, logins go on, each process counting for itself meanwhile.
    process.terminate()
    process.wait(timeout=10)
    assert attempt(here, make_user(Role.STAFF).email, PASSWORD).status_code == 302
    other, anonymous = make_user(Role.STAFF), here.application.test_client()
    for _ in range(5):
        assert attempt(anonymous, other.email).status_code == 422
    assert attempt(anonymous, other.email).status_code == 429


# --- the time a failed login takes -------------------------------------------------------


def test_login_limits_unknown_address_takes_as_long_as_a_known_one(client, make_user):
    user = make_user(Role.STAFF)

    def timed(email: str) -> float:
        started = time.perf_counter()
        response = client.post("/log-ind", data={"email": email, "password": WRONG})
        elapsed = time.perf_counter() - started
        assert response.status_code == 422
        return elapsed

    timed(user.email)  # warm up: templates compiled, the comparison hash made
    timed("nobody@example.org")
    known, unknown = [], []
    for _ in range(7):
        known.append(timed(user.email))
        unknown.append(timed("nobody@example.org"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (statistics.median(unknown), statistics.median(known))
