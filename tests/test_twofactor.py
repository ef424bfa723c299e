"""Two-factor sign-in: the code after the password, setting it up, recovery codes, the limits
on wrong codes, the network admin's reset, and the demo accounts."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import segno
from sqlalchemy import select, update

from laks import config
from laks.enums import Role
from laks.extensions import db
from laks.models import AuditEvent, User
from laks.services import twofactor
from laks.views.twofactor import PENDING
from tests.conftest import PASSWORD, TOTP_LAST_USED, current_code
from tests.test_sessions import CSRF, Http, served  # noqa: F401 (a fixture)

SECRET = re.compile(r'<code id="twofactor-secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code></li>")


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def password_step(client, user: User, path: str = "/log-ind"):
    return client.post(path, data={"email": user.email, "password": PASSWORD})


def code_at(user: User, offset_steps: int = 0, now: float | None = None) -> str:
    secret = fresh(user).totp_secret
    return pyotp.TOTP(secret).at((now or time.time()) + offset_steps * 30)


def wrong_code(user: User) -> str:
    near = {code_at(user, offset) for offset in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def signed_in(client) -> bool:
    return client.get("/hjem").status_code == 200


def page_text(response) -> str:
    return response.get_data(as_text=True)


def flashed(client) -> str:
    return page_text(client.get("/log-ind"))


def set_up(user: User) -> list[str]:
    """Turn ``user``'s second factor on through the service; returns the recovery codes."""
    twofactor.begin_setup(user)
    codes = twofactor.confirm_setup(user, pyotp.TOTP(user.totp_secret).now())
    user.totp_confirmed_at = TOTP_LAST_USED  # so that the code of now is still new
    db.session.commit()
    return codes


# --- the code after the password -------------------------------------------------------------


def test_twofactor_password_alone_does_not_sign_in_an_admin(client, make_user):
    admin = make_user(Role.ADMIN)
    response = password_step(client, admin)
    assert response.status_code == 302 and response.location.endswith("/log-ind/kode")
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert session[PENDING]["uid"] == admin.id
    assert events("auth.login") == []
    assert fresh(admin).last_login_at is None

    page = page_text(client.get("/log-ind/kode"))
    assert "Skriv nu den 6-cifrede kode" in page and f"laks ({admin.email})" in page
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.status_code == 302 and response.location.endswith("/hjem")
    assert signed_in(client)
    with client.session_transaction() as session:
        assert PENDING not in session
    [login] = events("auth.login")
    assert login.actor_id == admin.id and login.details == {"second_factor": "totp"}
    assert fresh(admin).last_login_at is not None


def test_twofactor_each_step_starts_a_new_session_with_a_new_csrf_token(client, make_user):
    admin = make_user(Role.ADMIN)
    before = client.csrf_token()
    with client.session_transaction() as session:
        raw_before = session["csrf_token"]
    password_step(client, admin)
    with client.session_transaction() as session:
        assert "csrf_token" not in session  # the marker's session is new
    marker_token = client.csrf_token()
    with client.session_transaction() as session:
        raw_marker = session["csrf_token"]
    client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert signed_in(client)
    with client.session_transaction() as session:
        assert session.get("csrf_token") not in (raw_before, raw_marker)
    # Neither the token from before the password nor the one from the code step works now.
    for old in (before, marker_token):
        assert client.post("/log-ud", data={"csrf_token": old}).status_code == 400
    assert signed_in(client)


def test_twofactor_staff_without_second_factor_signs_in_with_the_password(client, make_user):
    staff = make_user(Role.STAFF)
    response = password_step(client, staff)
    assert response.status_code == 302 and response.location.endswith("/hjem")
    assert signed_in(client)


def test_twofactor_wrong_code_is_refused_in_danish_and_logged(client, make_user):
    facilitator = make_user(Role.FACILITATOR, [])
    password_step(client, facilitator)
    response = client.post("/log-ind/kode", data={"code": wrong_code(facilitator)})
    assert response.status_code == 422
    page = page_text(response)
    assert "Koden er forkert. Skriv de 6 cifre, som din app viser for laks lige nu." in page
    assert 'aria-invalid="true"' in page and 'href="#code"' in page
    assert not signed_in(client)
    [failed] = events("auth.second_factor_failed")
    assert failed.actor_id == facilitator.id and failed.details == {"reason": "wrong"}
    # The marker lives on: the right code still signs in.
    client.post("/log-ind/kode", data={"code": current_code(facilitator)})
    assert signed_in(client)


def test_twofactor_code_of_another_person_is_refused(client, make_user):
    anna, bo = make_user(Role.ADMIN), make_user(Role.ADMIN)
    code = current_code(bo)
    while code in {code_at(anna, offset) for offset in (-1, 0, 1)}:  # a chance in 300,000
        bo = make_user(Role.ADMIN)
        code = current_code(bo)
    password_step(client, anna)
    response = client.post("/log-ind/kode", data={"code": code})
    assert response.status_code == 422
    assert "Koden er forkert" in page_text(response)
    assert not signed_in(client)


def test_twofactor_code_is_accepted_once(client, make_user, app):
    admin = make_user(Role.ADMIN)
    code = current_code(admin)
    password_step(client, admin)
    assert client.post("/log-ind/kode", data={"code": code}).location.endswith("/hjem")
    client.post("/log-ud")

    replay = app.test_client()
    password_step(replay, admin)
    response = replay.post("/log-ind/kode", data={"code": code})
    assert response.status_code == 422
    assert "Koden er allerede brugt. Vent på den næste kode i din app." in page_text(response)
    assert not signed_in(replay)
    # An older code is no better.
    response = replay.post("/log-ind/kode", data={"code": code_at(admin, -1)})
    assert response.status_code == 422 and not signed_in(replay)


def test_twofactor_codes_one_step_either_side_are_accepted(app, make_user):
    admin = make_user(Role.ADMIN)
    now = time.time()
    for offset in (-2, 2):
        with pytest.raises(twofactor.CodeError, match="wrong"):
            twofactor.verify(admin, code_at(admin, offset, now), now=now)
    for offset in (-1, 0, 1):  # in this order: each is later than the one before
        assert twofactor.verify(admin, code_at(admin, offset, now), now=now) == "totp"
    with pytest.raises(twofactor.CodeError, match="used"):
        twofactor.verify(admin, code_at(admin, 0, now), now=now)
    # What is remembered is the time step of the last code accepted, not the secret's set-up.
    assert fresh(admin).totp_confirmed_at == datetime.fromtimestamp(
        (int(now + 30) // 30) * 30, UTC)


def test_twofactor_the_marker_expires_after_five_minutes(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    with client.session_transaction() as session:
        marker = session[PENDING]
        marker["at"] -= 5 * 60 + 1
        session[PENDING] = marker
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    assert "Der gik mere end 5 minutter, efter du skrev din adgangskode. Log ind igen." \
        in flashed(client)
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert PENDING not in session


def test_twofactor_code_page_without_a_marker_sends_to_login(client):
    response = client.get("/log-ind/kode")
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    assert "Log først ind med din e-mailadresse og adgangskode." in flashed(client)


def test_twofactor_tampered_cookie_is_no_marker(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    cookie = client.get_cookie("session").value
    tampered = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    client.set_cookie("session", tampered)
    response = client.get("/log-ind/kode")
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    client.set_cookie("session", tampered)
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    assert "Log først ind med din e-mailadresse og adgangskode." in flashed(client)
    assert not signed_in(client)


@pytest.mark.parametrize("change", ["other_person", "old_token", "not_a_number", "no_time"],
                         ids=str)
def test_twofactor_marker_with_wrong_contents_is_refused(client, make_user, change):
    admin, other = make_user(Role.ADMIN), make_user(Role.ADMIN)
    password_step(client, admin)
    with client.session_transaction() as session:
        marker = session[PENDING]
        if change == "other_person":
            marker["uid"] = other.id  # with the admin's token
        elif change == "old_token":
            marker["token"] = "an-old-session-token"
        elif change == "not_a_number":
            marker["uid"] = str(admin.id)
        else:
            marker["at"] = "yesterday"
        session[PENDING] = marker
    for person in (admin, other):
        response = client.post("/log-ind/kode", data={"code": current_code(person)})
        assert response.status_code == 302 and response.location.endswith("/log-ind")
        assert not signed_in(client)
    assert ("Dette login gælder ikke længere" in flashed(client)) or change == "no_time"


def test_twofactor_marker_ends_when_the_person_is_logged_out_everywhere(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    fresh(admin).end_sessions()  # a new password, say
    db.session.commit()
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.location.endswith("/log-ind") and not signed_in(client)


def test_twofactor_marker_ends_after_five_wrong_codes(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    for _ in range(4):
        assert client.post("/log-ind/kode", data={"code": wrong_code(admin)}).status_code == 422
    response = client.post("/log-ind/kode", data={"code": wrong_code(admin)})
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    assert "For mange forkerte koder. Log ind igen med din adgangskode." in flashed(client)
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.location.endswith("/log-ind") and not signed_in(client)
    assert len(events("auth.second_factor_failed")) == 5


def test_twofactor_wrong_codes_are_limited_per_person(make_app, make_user):
    app = make_app(LAKS_LOGIN_LIMIT=config.LOGIN_LIMIT)
    admin, other = make_user(Role.ADMIN), make_user(Role.ADMIN)
    client = app.test_client()
    password_step(client, admin)
    for _ in range(5):
        client.post("/log-ind/kode", data={"code": wrong_code(admin)})
    # The password again gives a new marker, but no more tries at the code for now.
    password_step(client, admin)
    refused = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    page = page_text(refused)
    assert '<html lang="da">' in page and "For mange forkerte koder" in page
    assert "Prøv igen efter kl." in page
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert PENDING not in session  # the marker ended with the refusal
    # Another person, from the same address, signs in as usual.
    password_step(client, other)
    assert client.post("/log-ind/kode", data={"code": current_code(other)}
                       ).location.endswith("/hjem")


@pytest.mark.parametrize("typed", ["", "   ", "12345", "1234567", "abcdef", "１２３４５６",
                                   "12 34 5x", "x" * 41, "abcd-efgh-jkmn", "\x00123456"],
                         ids=repr)
def test_twofactor_bad_codes_get_a_danish_message_never_a_500(client, make_user, typed):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    response = client.post("/log-ind/kode", data={"code": typed})
    assert response.status_code == 422
    page = page_text(response)
    assert 'class="form-error-message"' in page
    assert any(message in page for message in (
        "Skriv koden.", "Skriv de 6 cifre fra din app eller en af dine reservekoder.",
        "Reservekoden er forkert eller allerede brugt.", "Højst 40 tegn.",
        "(NUL)"))
    assert not signed_in(client)


def test_twofactor_code_with_spaces_is_accepted(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    code = current_code(admin)
    client.post("/log-ind/kode", data={"code": f" {code[:3]} {code[3:]} "})
    assert signed_in(client)


def test_twofactor_next_page_is_kept_through_the_code(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin, "/log-ind?next=/admin/log")
    response = client.post("/log-ind/kode", data={"code": current_code(admin)})
    assert response.location.endswith("/admin/log")


# --- over HTTP: a cookie from before the code -------------------------------------------------


def _get_urls(app, ids: dict) -> list[str]:
    """Every page that takes a GET and is not public, with real objects' ids."""
    from laks.views import declared_action

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or declared_action(rule.endpoint) == "public.view":
                continue
            values = {arg: ids.get(arg, 1) for arg in rule.arguments}
            urls.append(rule.build(values)[1])
    return sorted(urls)


def test_twofactor_cookie_from_before_the_code_reaches_no_page(served, app, team):  # noqa: F811
    browser = served
    _status, _headers, page = browser("GET", "/log-ind")
    status, headers, _ = browser("POST", "/log-ind", {
        "email": team.admin.email, "password": PASSWORD,
        "csrf_token": CSRF.search(page).group(1)})
    assert status == 302 and headers["Location"].endswith("/log-ind/kode")
    before_code = browser.copy()
    ids = {"unit_id": team.unit.id, "programme_id": team.unit.programme_id,
           "user_id": team.staff.id, "module_key": "udfordring", "key": "udfordring"}
    urls = _get_urls(app, ids)
    assert "/hjem" in urls and "/admin/brugere" in urls and "/konto/totrin" in urls
    for url in urls:
        status, headers, text = before_code("GET", url)
        assert status in (302, 404, 405), url
        assert status != 302 or "/log-ind" in headers["Location"], url
        assert team.admin.name not in text, url

    # The code signs in this browser; the copy taken before it still reaches nothing.
    _status, _headers, page = browser("GET", "/log-ind/kode")
    status, headers, _ = browser("POST", "/log-ind/kode", {
        "code": current_code(team.admin), "csrf_token": CSRF.search(page).group(1)})
    assert status == 302 and headers["Location"].endswith("/hjem")
    assert browser("GET", "/hjem")[0] == 200
    for url in ("/hjem", "/admin/brugere", f"/enheder/{team.unit.id}"):
        status, headers, _ = before_code("GET", url)
        assert status == 302 and "/log-ind" in headers["Location"], url


# --- setting it up at the first login -------------------------------------------------------


def test_twofactor_first_login_of_a_facilitator_sets_it_up(client, make_user, make_unit):
    facilitator = make_user(Role.FACILITATOR, make_unit(), two_factor=False)
    response = password_step(client, facilitator)
    assert response.status_code == 302 and response.location.endswith("/log-ind/totrin")
    assert not signed_in(client)
    user = fresh(facilitator)
    assert user.totp_secret and user.totp_confirmed_at is None

    page = page_text(client.get("/log-ind/totrin"))
    assert "Din rolle kræver totrinslogin" in page
    secret = SECRET.search(page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
    assert secret.replace(" ", "") == user.totp_secret
    assert f"laks ({facilitator.email})" in page
    # The QR code: an inline SVG named for screen readers, holding the otpauth address.
    assert '<svg role="img"' in page
    assert (f"<title>QR-kode til at opsætte totrinslogin for laks ({facilitator.email})"
            "</title>") in page
    uri = twofactor.provisioning_uri(user)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == f"/laks:{facilitator.email}"
    assert parse_qs(parts.query) == {"secret": [user.totp_secret], "issuer": ["laks"]}
    drawn = re.search(r'<path[^>]*class="qrline"[^>]*d="([^"]+)"', page).group(1)
    expected = segno.make(uri, error="m").svg_inline(scale=5, border=4)
    assert drawn == re.search(r'd="([^"]+)"', expected).group(1)

    typed = pyotp.TOTP(secret.replace(" ", "")).now()
    wrong = "000000" if typed != "000000" else "111111"
    response = client.post("/log-ind/totrin", data={"code": wrong})
    assert response.status_code == 422
    assert "Koden passer ikke. Tjek at telefonens ur går rigtigt" in page_text(response)
    assert SECRET.search(page_text(response)).group(1) == secret  # the same key, kept
    assert not signed_in(client)

    response = client.post("/log-ind/totrin", data={"code": typed})
    assert response.status_code == 200
    page = page_text(response)
    codes = RECOVERY.findall(page)
    assert len(codes) == 10 == len(set(codes))
    assert "Koderne vises kun nu. Udskriv siden, eller kopiér koderne" in page
    assert signed_in(client)
    user = fresh(facilitator)
    assert twofactor.is_on(user) and len(user.recovery_codes) == 10
    stored = " ".join(user.recovery_codes)
    assert not any(code.replace("-", "") in stored or code in stored for code in codes)
    assert [e.actor_id for e in events("user.two_factor_on")] == [facilitator.id]
    assert events("auth.login")[0].details == {"second_factor": "setup"}


def test_twofactor_setup_gets_a_new_secret_at_each_login(app, make_user):
    admin = make_user(Role.ADMIN, two_factor=False)
    first, second = app.test_client(), app.test_client()
    password_step(first, admin)
    old = fresh(admin).totp_secret
    password_step(second, admin)
    new = fresh(admin).totp_secret
    assert old != new
    # The first browser's set-up (whose key someone may have seen) is no longer valid.
    response = first.get("/log-ind/totrin")
    assert response.location.endswith("/log-ind")
    response = first.post("/log-ind/totrin", data={"code": pyotp.TOTP(new).now()})
    assert response.location.endswith("/log-ind") and not signed_in(first)
    second.post("/log-ind/totrin", data={"code": pyotp.TOTP(new).now()})
    assert signed_in(second)


def test_twofactor_setup_marker_lasts_fifteen_minutes(client, make_user):
    admin = make_user(Role.ADMIN, two_factor=False)
    password_step(client, admin)
    with client.session_transaction() as session:
        marker = session[PENDING]
        marker["at"] -= 14 * 60
        session[PENDING] = marker
    assert client.get("/log-ind/totrin").status_code == 200
    with client.session_transaction() as session:
        marker = session[PENDING]
        marker["at"] -= 60 + 1
        session[PENDING] = marker
    assert client.get("/log-ind/totrin").location.endswith("/log-ind")
    assert "Der gik mere end 15 minutter" in flashed(client)


def test_twofactor_code_page_and_setup_page_send_to_each_other(client, make_user):
    admin = make_user(Role.ADMIN, two_factor=False)
    password_step(client, admin)
    assert client.get("/log-ind/kode").location.endswith("/log-ind/totrin")


# --- recovery codes --------------------------------------------------------------------------


def test_twofactor_recovery_code_signs_in_once(client, make_user, app):
    admin = make_user(Role.ADMIN, two_factor=False)
    codes = set_up(fresh(admin))
    password_step(client, admin)
    response = client.post("/log-ind/kode", data={"code": codes[3].upper()})
    assert response.location.endswith("/hjem")
    assert "Du loggede ind med en reservekode. Du har 9 tilbage" in page_text(
        client.get("/hjem"))
    assert events("auth.login")[-1].details == {"second_factor": "recovery"}
    assert len(fresh(admin).recovery_codes) == 9
    client.post("/log-ud")

    again = app.test_client()
    password_step(again, admin)
    response = again.post("/log-ind/kode", data={"code": codes[3]})
    assert response.status_code == 422
    assert "Reservekoden er forkert eller allerede brugt. Hver reservekode virker én gang." \
        in page_text(response)
    assert not signed_in(again)
    # Written without the dashes, another one works.
    again.post("/log-ind/kode", data={"code": codes[4].replace("-", "")})
    assert signed_in(again)


def test_twofactor_recovery_codes_are_stored_as_salted_digests(app, make_user):
    admin = make_user(Role.ADMIN, two_factor=False)
    codes = set_up(fresh(admin))
    stored = fresh(admin).recovery_codes
    assert all(re.fullmatch(r"sha256\$[0-9a-f]{32}\$[0-9a-f]{64}", s) for s in stored)
    assert len({s.split("$")[1] for s in stored}) == 10  # a salt of its own for each
    assert all(len(c) == 14 and set(c.replace("-", "")) <= set(twofactor.RECOVERY_ALPHABET)
               for c in codes)


# --- the account page ------------------------------------------------------------------------


def test_twofactor_staff_turns_it_on_and_off(client, login, make_user, app):
    staff = make_user(Role.STAFF)
    login(staff)
    page = page_text(client.get("/konto/totrin"))
    assert "Totrinslogin er slået fra" in page
    assert client.post("/konto/totrin/start").location.endswith("/konto/totrin")
    page = page_text(client.get("/konto/totrin"))
    secret = SECRET.search(page).group(1).replace(" ", "")
    response = client.post("/konto/totrin", data={"code": pyotp.TOTP(secret).now()})
    assert len(RECOVERY.findall(page_text(response))) == 10
    assert twofactor.is_on(fresh(staff))
    client.post("/log-ud")

    # From now on the password is not enough.
    assert password_step(client, staff).location.endswith("/log-ind/kode")
    client.post("/log-ind/kode", data={"code": current_code(staff)})
    assert signed_in(client)

    response = client.post("/konto/totrin/slaa-fra", data={"off-code": wrong_code(staff)})
    assert response.status_code == 422
    assert "Koden er forkert" in page_text(response)
    assert twofactor.is_on(fresh(staff))
    response = client.post("/konto/totrin/slaa-fra", data={"off-code": current_code(staff)})
    assert response.location.endswith("/konto/totrin")
    assert not twofactor.is_on(fresh(staff))
    assert [e.action for e in events("user.two_factor_off")] == ["user.two_factor_off"]
    client.post("/log-ud")
    assert password_step(client, staff).location.endswith("/hjem")


def test_twofactor_setup_from_the_account_page_belongs_to_its_browser(app, client, login,
                                                                     make_user):
    staff = make_user(Role.STAFF)
    login(staff)
    other = app.test_client()
    password_step(other, staff)
    client.post("/konto/totrin/start")
    assert SECRET.search(page_text(client.get("/konto/totrin")))
    # The other browser of the same person has no set-up under way: it sees the start.
    page = page_text(other.get("/konto/totrin"))
    assert "Totrinslogin er slået fra" in page and SECRET.search(page) is None


def test_twofactor_admin_cannot_turn_it_off(client, login, make_user):
    admin = make_user(Role.ADMIN)
    login(admin)
    page = page_text(client.get("/konto/totrin"))
    assert "Totrinslogin er slået til" in page
    assert "/konto/totrin/slaa-fra" not in page
    assert "bed netværksadministratoren om at nulstille dit totrinslogin" in page
    response = client.post("/konto/totrin/slaa-fra", data={"off-code": current_code(admin)})
    assert response.status_code == 403
    assert twofactor.is_on(fresh(admin))


def test_twofactor_new_recovery_codes_replace_the_old_ones(client, login, make_user):
    admin = make_user(Role.ADMIN, two_factor=False)
    old = set_up(fresh(admin))
    login(admin)
    response = client.post("/konto/totrin/nye-koder", data={"renew-code": "12"})
    assert response.status_code == 422
    response = client.post("/konto/totrin/nye-koder", data={"renew-code": old[0]})
    new = RECOVERY.findall(page_text(response))
    assert len(new) == 10 and not set(new) & set(old)
    for code in (old[1], new[0]):
        client.post("/log-ud")
        password_step(client, admin)
        response = client.post("/log-ind/kode", data={"code": code})
        assert signed_in(client) == (code in new), code
    assert len(events("user.recovery_codes_renew")) == 1


def test_twofactor_account_page_needs_login(client):
    response = client.get("/konto/totrin")
    assert response.status_code == 302 and "/log-ind" in response.location


# --- the network admin's reset ---------------------------------------------------------------


def test_twofactor_admin_resets_a_facilitator(app, client, login, team):
    phone = app.test_client()
    password_step(phone, team.facilitator)
    phone.post("/log-ind/kode", data={"code": current_code(team.facilitator)})
    assert signed_in(phone)

    login(team.admin)
    people = page_text(client.get("/admin/brugere"))
    assert f"/admin/brugere/{team.facilitator.id}/totrin/nulstil" in people
    url = f"/admin/brugere/{team.facilitator.id}/totrin/nulstil"
    assert client.post(url, csrf=False).status_code == 400
    assert twofactor.is_on(fresh(team.facilitator))
    response = client.post(url)
    assert response.location.endswith("/admin/brugere")
    assert "Totrinslogin for Frida Facilitator er nulstillet" in page_text(
        client.get("/admin/brugere"))
    facilitator = fresh(team.facilitator)
    assert facilitator.totp_secret is None and facilitator.recovery_codes is None
    [reset] = events("user.two_factor_reset")
    assert (reset.actor_id, reset.object_id) == (team.admin.id, team.facilitator.id)
    # The facilitator's sessions have ended; at the next login they set it up again.
    assert not signed_in(phone)
    assert password_step(phone, team.facilitator).location.endswith("/log-ind/totrin")


def test_twofactor_reset_is_the_network_admins_alone(client, login, team):
    login(team.facilitator)
    response = client.post(f"/admin/brugere/{team.staff.id}/totrin/nulstil")
    assert response.status_code == 403


def test_twofactor_reset_of_a_staff_member_turns_it_off(client, login, team):
    set_up(fresh(team.staff))
    login(team.admin)
    client.post(f"/admin/brugere/{team.staff.id}/totrin/nulstil")
    assert not twofactor.is_on(fresh(team.staff))
    client.post("/log-ud")
    assert password_step(client, team.staff).location.endswith("/hjem")


def test_twofactor_signed_in_admin_without_it_is_sent_to_set_it_up(client, login, make_user):
    admin = make_user(Role.ADMIN)
    login(admin)
    assert signed_in(client)
    # Say the second factor went without the sessions ending (a session from before it
    # was required).
    db.session.execute(update(User).where(User.id == admin.id)
                       .values(totp_secret=None, totp_confirmed_at=None))
    db.session.commit()
    response = client.get("/hjem")
    assert response.status_code == 302 and response.location.endswith("/log-ind")
    assert "Din rolle kræver totrinslogin. Log ind igen for at opsætte det." in flashed(client)
    assert password_step(client, admin).location.endswith("/log-ind/totrin")


# --- the demo --------------------------------------------------------------------------------


def test_twofactor_demo_admin_and_facilitators_use_the_published_secret(app, client, login):
    from laks.services.seed import load_seed

    report = load_seed(demo=True)
    db.session.commit()
    required = [email for email, role, _ in report.demo_logins
                if role in ("admin", "facilitator")]
    assert len(required) == 3
    for email in required:
        user = db.session.scalar(select(User).where(User.email == email))
        assert twofactor.is_on(user) and user.totp_secret == twofactor.DEMO_SECRET
    staff = db.session.scalar(select(User).where(User.role == Role.STAFF).limit(1))
    assert not twofactor.is_on(staff)

    admin = db.session.scalar(select(User).where(User.email == "admin@demo.laks.dk"))
    response = client.post("/log-ind", data={"email": admin.email,
                                             "password": report.demo_password})
    assert response.location.endswith("/log-ind/kode")
    page = page_text(client.get("/log-ind/kode"))
    code = re.search(r"her er koden lige nu: ([0-9]{6})", page).group(1)
    assert code in {pyotp.TOTP(twofactor.DEMO_SECRET).at(time.time() + s) for s in (-30, 0, 30)}
    client.post("/log-ind/kode", data={"code": code})
    assert signed_in(client)


def test_twofactor_code_page_shows_no_code_for_a_real_account(client, make_user):
    admin = make_user(Role.ADMIN)
    password_step(client, admin)
    page = page_text(client.get("/log-ind/kode"))
    assert current_code(admin) not in page and "Demokonto" not in page


def test_twofactor_readme_publishes_the_demo_secret():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert twofactor.DEMO_SECRET in readme
