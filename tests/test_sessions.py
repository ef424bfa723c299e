"""A session ends on the server: a copy of the cookie taken earlier stops working after
logout, a new password, a reset, deactivation, idle time and the absolute lifetime."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from laks.enums import Role
from laks.extensions import db
from laks.models import ModuleComment, User
from laks.services import accounts
from laks.views.auth import LOGIN_AT, SEEN_AT, SEEN_AT_STEP
from tests.conftest import PASSWORD, make_test_app
from tests.http_support import CSRF, Http


def comments() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ModuleComment.id)))


def module_url(team) -> str:
    return f"/enheder/{team.unit.id}/moduler/udfordring"


def copy_of(client, app):
    """Another client that holds the same session cookie, as one copied from a browser."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def post_comment(client, team, text: str):
    page = client.get(module_url(team)).get_data(as_text=True)
    token = CSRF.search(page).group(1) if CSRF.search(page) else client.csrf_token()
    return client.post(module_url(team) + "/kommentarer",
                       data={"body": text, "csrf_token": token})


def refused(response) -> bool:
    return response.status_code == 302 and "/log-ind" in response.headers["Location"]


# --- the events that end every session of a person ---------------------------------------


def _logout(app, client, user):
    assert client.post("/log-ud").status_code == 302


def _cli_password(app, client, user):
    result = app.test_cli_runner().invoke(args=["user", "set-password", "--email", user.email,
                                                "--password", "et helt nyt kodeord"])
    assert result.exit_code == 0, result.output
    assert "every session they had has ended" in result.output


def _invitation_reset(app, client, user):
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    fresh = app.test_client()
    response = fresh.post(path, data={"password": "et helt nyt kodeord",
                                      "confirm": "et helt nyt kodeord"})
    assert response.status_code == 302


def _cli_deactivate_then_activate(app, client, user):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["user", "deactivate", "--email", user.email]).exit_code == 0
    # Even once the person may log in again, the old session stays ended.
    assert runner.invoke(args=["user", "activate", "--email", user.email]).exit_code == 0


@pytest.mark.parametrize(
    "event",
    [_logout, _cli_password, _invitation_reset, _cli_deactivate_then_activate],
    ids=["logout", "password-changed", "password-reset", "deactivated"],
)
def test_sessions_copied_cookie_dies_with_the_event(app, client, login, team, event):
    login(team.staff)
    copy = copy_of(client, app)
    assert post_comment(copy, team, "Skrevet med kopien").status_code == 302
    assert comments() == 1

    event(app, client, team.staff)

    assert refused(copy.get("/hjem"))
    assert refused(post_comment(copy, team, "Skrevet efter"))
    assert refused(client.get("/hjem"))  # the browser's own session ended too
    assert comments() == 1


def test_sessions_logout_ends_the_other_devices_too(app, client, login, team):
    login(team.staff)
    phone = app.test_client()
    phone.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    assert phone.get("/hjem").status_code == 200
    client.post("/log-ud")
    assert refused(phone.get("/hjem"))


def test_sessions_another_persons_logout_ends_nothing_of_mine(app, client, login, team):
    login(team.staff)
    other = app.test_client()
    other.post("/log-ind", data={"email": team.tovholder.email, "password": PASSWORD})
    other.post("/log-ud")
    assert client.get("/hjem").status_code == 200


def test_sessions_a_known_user_id_alone_is_not_a_session(app, client, make_user):
    """The id in the cookie is not enough; it must come with the current session token."""
    admin = make_user(Role.ADMIN)
    for forged in (str(admin.id), f"{admin.id}:", f"{admin.id}:not-the-token"):
        with client.session_transaction() as session:
            session.update({"_user_id": forged, "_fresh": True,
                            "laks_login_at": time.time(), "laks_seen_at": time.time()})
        assert refused(client.get("/hjem")), forged


def test_sessions_logout_clears_the_session_but_keeps_the_language(client, login, team):
    client.get("/sprog/en")
    login(team.staff)
    client.post("/log-ud")
    with client.session_transaction() as session:
        assert set(session) <= {"lang", "_flashes"}
        assert session["lang"] == "en"


def test_sessions_csrf_token_is_renewed_at_login(client, team):
    before = client.csrf_token()  # what the login page's form carried
    client.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    assert client.get("/hjem").status_code == 200
    stale = client.post("/log-ud", data={"csrf_token": before})
    assert stale.status_code == 400
    assert client.get("/hjem").status_code == 200  # the stale token did not log anyone out
    assert client.post("/log-ud").status_code == 302


def _age(client, key: str, seconds: float) -> None:
    """Move one of the session's clocks back, as if ``seconds`` had passed since."""
    with client.session_transaction() as session:
        session[key] -= seconds


def test_sessions_last_activity_is_written_at_most_every_15_seconds(client, login, team):
    """Within 15 seconds of the last activity written, a page sends no new cookie; after
    that, the next one writes the time again (and so sends the cookie)."""
    login(team.staff)
    client.get("/hjem")
    assert client.get("/hjem").headers.get_all("Set-Cookie") == []
    with client.session_transaction() as session:
        before = session[SEEN_AT]
    _age(client, SEEN_AT, SEEN_AT_STEP + 1)
    assert any(c.startswith("session=") for c in client.get("/hjem").headers.get_all(
        "Set-Cookie"))
    with client.session_transaction() as session:
        assert session[SEEN_AT] >= before


@pytest.mark.parametrize("idle_minutes", [None, 30], ids=["default-2-hours", "configured"])
def test_sessions_end_after_idle_time(make_app, team, idle_minutes):
    app = make_app(**({"LAKS_SESSION_IDLE_MINUTES": idle_minutes} if idle_minutes else {}))
    limit = (idle_minutes or 120) * 60
    client = app.test_client()
    client.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    copy = copy_of(client, app)
    for _ in range(3):  # a request within the idle time keeps the session going
        _age(client, SEEN_AT, limit - 60)
        assert client.get("/hjem").status_code == 200
    _age(copy, SEEN_AT, limit + 60)  # the copy sat idle for longer than the limit
    assert refused(copy.get("/hjem"))
    _age(client, SEEN_AT, limit + 60)
    response = client.get("/hjem")
    assert refused(response)
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Du er blevet logget ud, fordi du ikke har brugt laks i et stykke tid" in login_page


@pytest.mark.parametrize("max_hours", [None, 2, 1],
                         ids=["default-12-hours", "configured", "one-hour"])
def test_sessions_end_after_the_absolute_lifetime_however_active(make_app, team, max_hours):
    app = make_app(**({"LAKS_SESSION_MAX_HOURS": max_hours} if max_hours else {}))
    limit = (max_hours or 12) * 3600
    assert app.permanent_session_lifetime == timedelta(seconds=limit)
    client = app.test_client()
    client.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    _age(client, LOGIN_AT, limit - 60)
    assert client.get("/hjem").status_code == 200  # active all along (seen just now)
    _age(client, LOGIN_AT, 120)
    response = client.get("/hjem")
    assert refused(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    hours = f"{max_hours} time" if max_hours == 1 else f"{max_hours or 12} timer"
    assert f"fordi man højst kan være logget ind i {hours} ad gangen" in page


def test_sessions_clocks_run_in_real_time(make_app, team):
    """The session's clocks are real seconds: a short idle limit ends a session that waits."""
    app = make_app(LAKS_SESSION_IDLE_MINUTES=1 / 60)
    client = app.test_client()
    client.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    time.sleep(1.5)
    assert refused(client.get("/hjem"))


def test_sessions_cookie_is_not_kept_for_31_days(app, client, login, team):
    assert app.permanent_session_lifetime == timedelta(hours=12)
    response = login(team.staff)
    cookie = response.headers["Set-Cookie"]
    # A browser-session cookie (no Expires): it goes when the browser closes, and the
    # server accepts its signature for 12 hours at most.
    assert "Expires" not in cookie and "Max-Age" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- over HTTP, as someone who copied the Cookie header ----------------------------------


@pytest.fixture
def served(database_url, instance_path, app):
    server_app = make_test_app(database_url, instance_path)
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Http(server.server_port)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with server_app.app_context():
        db.engine.dispose()


def test_sessions_copied_cookie_header_cannot_comment_after_logout(served, team):
    browser = served
    _status, _headers, page = browser("GET", "/log-ind")
    status, headers, _ = browser("POST", "/log-ind", {
        "email": team.staff.email, "password": PASSWORD,
        "csrf_token": CSRF.search(page).group(1)})
    assert status == 302 and headers["Location"].endswith("/hjem")
    copied = browser.copy()

    # With the copied header, the module page and its comment form work while the
    # session lives...
    status, _, page = copied("GET", module_url(team))
    assert status == 200
    token = CSRF.search(page).group(1)
    status, _, _ = copied("POST", module_url(team) + "/kommentarer",
                          {"body": "Skrevet med kopien", "csrf_token": token})
    assert status == 302 and comments() == 1

    # ...until the person logs out in their own browser.
    _, _, home = browser("GET", "/hjem")
    status, _, _ = browser("POST", "/log-ud", {"csrf_token": CSRF.search(home).group(1)})
    assert status == 302

    status, headers, _ = copied("GET", module_url(team))
    assert status == 302 and "/log-ind" in headers["Location"]
    status, headers, _ = copied("POST", module_url(team) + "/kommentarer",
                                {"body": "Skrevet efter log ud", "csrf_token": token})
    assert status == 302 and "/log-ind" in headers["Location"]
    assert comments() == 1
    staff = db.session.get(User, team.staff.id)
    assert staff.active  # logging out ends sessions; it does not lock the account
