"""Logging in and out, invitation links, and what the audit log records of it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from laks.enums import Role
from laks.extensions import db
from laks.models import AuditEvent
from laks.services import accounts
from tests.conftest import PASSWORD, current_code


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_auth_login_success_redirects_home_and_is_logged(client, login, make_user):
    user = make_user(Role.ADMIN)
    response = login(user)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/hjem")
    assert [e.actor_id for e in events("auth.login")] == [user.id]
    assert user.name in client.get("/hjem").get_data(as_text=True)


@pytest.mark.parametrize("case", ["unknown_email", "wrong_password", "inactive"])
def test_auth_login_failure_says_the_same_thing(client, make_user, case):
    user = make_user(Role.STAFF, active=case != "inactive")
    email = "nobody@example.org" if case == "unknown_email" else user.email
    password = "wrong password!" if case == "wrong_password" else PASSWORD
    response = client.post("/log-ind", data={"email": email, "password": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "E-mail eller adgangskode er forkert." in page
    assert "deaktiveret" not in page.lower()
    assert email in page  # the typed e-mail is kept
    assert client.get("/hjem").status_code == 302  # still not logged in
    assert len(events("auth.login_failed")) == 1


def test_auth_login_keeps_input_and_names_missing_fields(client):
    response = client.post("/log-ind", data={"email": "someone@example.org", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indtast din adgangskode." in page
    assert 'value="someone@example.org"' in page
    assert 'href="#password"' in page  # linked from the error summary


def test_auth_deactivated_user_is_logged_out_on_next_request(client, login, make_user):
    user = make_user(Role.ADMIN)
    login(user)
    assert client.get("/hjem").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/hjem").status_code == 302


def test_auth_logout_needs_post(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/log-ud").status_code == 405
    response = client.post("/log-ud")
    assert response.status_code == 302
    assert client.get("/hjem").status_code == 302
    assert len(events("auth.logout")) == 1


def test_auth_next_parameter_cannot_leave_the_site(client, make_user):
    user = make_user(Role.ADMIN)

    def log_in(url: str):
        client.post(url, data={"email": user.email, "password": PASSWORD})
        # The place to go is kept through the second step (the admin's code).
        return client.post("/log-ind/kode", data={"code": current_code(user)})

    for evil in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = log_in(f"/log-ind?next={evil}")
        assert response.headers["Location"].endswith("/hjem"), evil
        client.post("/log-ud")
    response = log_in("/log-ind?next=/admin/log")
    assert response.headers["Location"].endswith("/admin/log")


def _post_urls(app) -> list[str]:
    """Every URL that takes a POST, with placeholder values for its arguments."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" in rule.methods:
                values = {arg: 1 if isinstance(rule._converters.get(arg), NumberConverter)
                          else "x" for arg in rule.arguments}
                urls.append(rule.build(values)[1])
    return sorted(urls)


def test_auth_csrf_is_on_in_the_default_configuration(make_app, make_user, login):
    """The suite runs with the app's own CSRF setting; a POST without the token that every
    form carries is refused on every endpoint that takes a POST, signed in or not."""
    app = make_app()
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    user = make_user(Role.ADMIN)
    anonymous = app.test_client()
    signed_in = app.test_client()
    signed_in.post("/log-ind", data={"email": user.email, "password": PASSWORD})
    urls = _post_urls(app)
    assert "/log-ind" in urls and "/log-ud" in urls and len(urls) >= 8
    for client in (anonymous, signed_in):
        for url in urls:
            response = client.post(url, data={"email": user.email, "password": PASSWORD},
                                   csrf=False)
            assert response.status_code == 400, url
            assert "Formularen var udløbet" in response.get_data(as_text=True), url
    # A token from another session is refused as well.
    foreign = anonymous.csrf_token()
    response = signed_in.post("/log-ud", data={"csrf_token": foreign})
    assert response.status_code == 400


def test_auth_passwords_are_hashed_with_scrypt(app, make_user):
    user = make_user(Role.STAFF)
    accounts.set_password(actor=None, user=user, password="a long enough password")
    assert user.password_hash.startswith("scrypt:")
    assert "a long enough password" not in user.password_hash


def test_auth_invitation_sets_password_once(client, app, make_user):
    user = make_user(Role.FACILITATOR)
    user.password_hash = None
    db.session.commit()
    url = accounts.invitation_url(user)
    assert url.startswith("http://laks.test/invitation/")
    path = url.removeprefix("http://laks.test")
    assert user.name in client.get(path).get_data(as_text=True)

    too_short = client.post(path, data={"password": "kort", "confirm": "kort"})
    assert too_short.status_code == 422
    assert "mindst 12 tegn" in too_short.get_data(as_text=True)

    ok = client.post(path, data={"password": "et langt kodeord", "confirm": "et langt kodeord"})
    assert ok.status_code == 302
    assert client.post("/log-ind", data={"email": user.email,
                                          "password": "et langt kodeord"}).status_code == 302
    client.post("/log-ud")
    # The link is single-use: the password changed, so the token no longer verifies.
    again = client.get(path)
    assert again.status_code == 410
    assert "allerede brugt" in again.get_data(as_text=True)


def test_auth_invitation_expires(client, app, make_user):
    user = make_user(Role.STAFF)
    app.config["LAKS_INVITATION_MAX_AGE"] = 1
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    time.sleep(2.1)
    response = client.get(path)
    assert response.status_code == 410
    assert "udløbet" in response.get_data(as_text=True)


def test_auth_forged_invitation_is_refused(client):
    response = client.get("/invitation/not-a-token")
    assert response.status_code == 410


def test_auth_invitation_token_carries_no_part_of_the_password_hash(app, make_user):
    from itsdangerous import URLSafeTimedSerializer

    user = make_user(Role.STAFF)
    token = accounts.invitation_token(user)
    _valid, payload = URLSafeTimedSerializer(app.secret_key).loads_unsafe(token)
    readable = f"{token} {payload}"
    pieces = {user.password_hash[i:i + 8] for i in range(len(user.password_hash) - 7)}
    assert not [piece for piece in pieces if piece in readable]
    assert accounts.user_from_invitation(token) == user
    accounts.set_password(actor=None, user=user, password="et andet langt kodeord")
    with pytest.raises(accounts.AccountError):
        accounts.user_from_invitation(token)  # still single-use


def test_auth_invitation_for_a_new_person_is_single_use_too(client, make_user):
    user = make_user(Role.STAFF)
    user.password_hash = None
    db.session.commit()
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    form = {"password": "et langt kodeord", "confirm": "et langt kodeord"}
    assert client.post(path, data=form).status_code == 302
    assert client.post(path, data=form).status_code == 410


@pytest.mark.parametrize(
    "password",
    ["adgangskode123", "Efterår2025!", "KODEORD12345", "qwerty123456", "1q2w3e4r5t6y",
     "jegelskerdig1"],
    ids=["danish", "season-year", "upper-case", "english-list", "keyboard", "phrase"],
)
def test_auth_common_passwords_are_refused_at_the_field(client, make_user, password):
    user = make_user(Role.STAFF)
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    response = client.post(path, data={"password": password, "confirm": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Adgangskoden er en af de mest almindelige og let at gætte. Vælg en anden." in page
    assert 'id="password-error"' in page
    with pytest.raises(accounts.AccountError, match="common passwords"):
        accounts.check_password_strength(password)


@pytest.mark.parametrize("password", ["laks-demo-2026", PASSWORD, "en lang og god adgangskode"])
def test_auth_good_passwords_are_accepted(password):
    accounts.check_password_strength(password)
    assert not accounts.is_common_password(password)


def test_auth_passwords_need_twelve_characters(client, make_user):
    assert accounts.MIN_PASSWORD_LENGTH == 12
    user = make_user(Role.STAFF)
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    page = client.get(path).get_data(as_text=True)
    assert "Mindst 12 tegn. Almindelige adgangskoder som sommer2024 afvises." in page
    eleven = "elleve tegn"
    response = client.post(path, data={"password": eleven, "confirm": eleven})
    assert "Adgangskoden skal have mindst 12 tegn." in response.get_data(as_text=True)
    with pytest.raises(accounts.AccountError, match="at least 12 characters"):
        accounts.check_password_strength(eleven)


def test_auth_common_password_lists_are_shipped_with_their_origin():
    import gzip
    from pathlib import Path

    django_list, danish_list = accounts.COMMON_PASSWORD_FILES
    assert django_list.exists() and danish_list.exists()
    licence = Path(django_list.parent, "LICENSE-django.txt").read_text()
    assert "Django Software Foundation" in licence
    with gzip.open(django_list, "rt", encoding="utf-8") as handle:
        assert 19000 < len(handle.read().split()) < 20000
    assert {"sommer2024", "adgangskode123"} <= accounts._common_passwords()


@pytest.mark.parametrize("typed", ["010190-1234", "0101901234", "  010190 1234 "])
def test_auth_failed_login_never_stores_a_cpr_number(client, typed):
    response = client.post("/log-ind", data={"email": typed, "password": "whatever it is"})
    assert response.status_code == 422
    [event] = events("auth.login_failed")
    stored = str(event.details)
    assert "0101901234" not in stored.replace("-", "").replace(" ", "")
    assert "0101" not in stored
    assert event.details["email_withheld"] == "looks like a CPR number"


def test_auth_failed_login_keeps_an_ordinary_address_in_the_log(client):
    client.post("/log-ind", data={"email": "Someone@Example.org", "password": "whatever it is"})
    [event] = events("auth.login_failed")
    assert event.details["email"] == "Someone@Example.org"


@pytest.mark.parametrize("field", ["password", "confirm"])
def test_auth_invitation_file_or_nul_as_password_is_refused_at_the_field(client, make_user,
                                                                         field):
    import io

    user = make_user(Role.STAFF)
    user.password_hash = None
    db.session.commit()
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    data = {"password": "et langt nok kodeord", "confirm": "et langt nok kodeord"}
    data[field] = (io.BytesIO(b"et langt nok kodeord"), "kode.txt")
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "fil" in response.get_data(as_text=True)
    nul = client.post(path, data={"password": "et langt\x00nok kodeord",
                                  "confirm": "et langt\x00nok kodeord"})
    assert nul.status_code == 422
    db.session.refresh(user)
    assert user.password_hash is None


def test_auth_invitation_signs_the_person_in_on_their_home_page(client, make_user):
    user = make_user(Role.STAFF)
    user.password_hash = None
    db.session.commit()
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    form = {"password": "et langt kodeord", "confirm": "et langt kodeord"}
    response = client.post(path, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/hjem"
    home = client.get("/hjem")
    assert home.status_code == 200
    assert "du er logget ind. Velkommen til laks" in home.get_data(as_text=True)


def test_auth_invitation_of_a_facilitator_goes_through_the_second_step(client, make_user):
    user = make_user(Role.FACILITATOR, two_factor=False)
    user.password_hash = None
    db.session.commit()
    path = accounts.invitation_url(user).removeprefix("http://laks.test")
    form = {"password": "et langt kodeord", "confirm": "et langt kodeord"}
    response = client.post(path, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/log-ind/totrin"
    assert client.get("/hjem").status_code == 302  # not signed in before the second factor
