"""Each person's own profile (/konto): their name, their language – which the interface then
speaks, also from the next sign-in – and a new password, which ends every other session."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from laks.enums import Role
from laks.extensions import db
from laks.models import AuditEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "en lang og ny adgangssætning"


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<span class="form-error-message" id="{field}-error">'
                      r'<span class="sr-only">[^<]*</span>([^<]*)</span>', page)
    assert match, f"no error at {field}"
    return match.group(1)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_profile_every_signed_in_person_has_one(client, login, make_unit, make_user, role):
    user = make_user(role, make_unit() if role in (Role.STAFF, Role.FACILITATOR) else None,
                     name="Tove Hansen")
    login(user)
    page = client.get("/konto").get_data(as_text=True)
    assert "Din profil" in page and 'value="Tove Hansen"' in page and user.email in page
    assert re.search(r'<input[^>]*checked[^>]*value="da"|<input[^>]*value="da"[^>]*checked',
                     page)
    assert 'href="/konto"' in page  # the menu leads here
    # and the profile to the other settings of one's own
    assert 'href="/konto/totrin"' in page and 'href="/konto/meddelelser"' in page


def test_profile_anonymous_is_sent_to_login(client):
    for method, url in (("GET", "/konto"), ("POST", "/konto"), ("POST", "/konto/adgangskode")):
        response = client.open(url, method=method, data={} if method == "POST" else None)
        assert response.status_code == 302 and "/log-ind" in response.headers["Location"]


def test_profile_name_and_language_saved_and_the_interface_switches(client, login, make_user):
    user = make_user(Role.OBSERVER, name="Ole")
    login(user)
    response = client.post("/konto", data={"name": "  Ole Olsen ", "language": "en"})
    assert response.status_code == 302 and response.headers["Location"] == "/konto"
    db.session.expire_all()
    assert (user.name, user.language) == ("Ole Olsen", "en")
    page = client.get("/konto").get_data(as_text=True)
    assert 'lang="en"' in page and "Your profile is saved." in page and "Your profile" in page
    [event] = _events("user.update_profile")
    assert event.actor_id == user.id and set(event.details["changed"]) == {"name", "language"}
    client.post("/konto", data={"name": "Ole Olsen", "language": "da"})
    assert 'lang="da"' in client.get("/konto").get_data(as_text=True)


def test_profile_nothing_changed_writes_no_event(client, login, make_user):
    user = make_user(Role.OBSERVER, name="Ole")
    login(user)
    assert client.post("/konto", data={"name": "Ole", "language": "da"}).status_code == 302
    assert _events("user.update_profile") == []


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "", "language": "en"}, "name", "Skriv dit navn."),
    ({"name": "Ole", "language": "fr"}, "language", "Vælg en af de viste muligheder."),
    ({"name": "x" * 121, "language": "da"}, "name", "Svaret er for langt"),
], ids=["no-name", "unknown-language", "too-long"])
def test_profile_refusals_keep_what_was_typed(client, login, make_user, data, field, message):
    user = make_user(Role.OBSERVER, name="Ole")
    login(user)
    response = client.post("/konto", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert _field_error(page, field).startswith(message)
    if data["language"] == "en":
        assert re.search(r'<input[^>]*checked[^>]*value="en"|<input[^>]*value="en"[^>]*checked',
                         page)
    db.session.expire_all()
    assert (user.name, user.language) == ("Ole", "da")


def test_profile_sign_in_speaks_the_persons_language(app, client, login, make_user):
    user = make_user(Role.OBSERVER)
    user.language = "en"
    db.session.commit()
    login(user)
    assert 'lang="en"' in client.get("/hjem").get_data(as_text=True)
    # A language chosen in this browser before signing in is kept.
    other = app.test_client()
    other.get("/sprog/da")
    other.post("/log-ind", data={"email": user.email, "password": PASSWORD})
    assert 'lang="da"' in other.get("/hjem").get_data(as_text=True)


def test_profile_password_changed_ends_other_sessions_keeps_this_one(app, client, login,
                                                                     make_user):
    user = make_user(Role.STAFF)
    elsewhere = app.test_client()
    elsewhere.post("/log-ind", data={"email": user.email, "password": PASSWORD})
    assert elsewhere.get("/hjem").status_code == 200
    login(user)
    response = client.post("/konto/adgangskode", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/konto"
    page = client.get("/konto")
    assert page.status_code == 200
    assert "Din adgangskode er skiftet. Du er logget ud alle andre steder." in page.get_data(
        as_text=True)
    assert elsewhere.get("/hjem").status_code == 302
    db.session.expire_all()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    [event] = _events("user.set_password")
    assert event.actor_id == user.id and event.object_id == user.id
    for password, status in ((PASSWORD, 422), (NEW_PASSWORD, 302)):
        response = app.test_client().post("/log-ind", data={"email": user.email,
                                                            "password": password})
        assert response.status_code == status


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"current_password": "forkert forkert", "password": NEW_PASSWORD,
      "confirm": NEW_PASSWORD}, "current_password",
     "Den nuværende adgangskode er forkert. Intet blev ændret."),
    ({"current_password": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     "current_password", "Indtast din nuværende adgangskode."),
    ({"current_password": PASSWORD, "password": "kort", "confirm": "kort"}, "password",
     "Adgangskoden skal have mindst 12 tegn."),
    ({"current_password": PASSWORD, "password": "adgangskode123",
      "confirm": "adgangskode123"}, "password", "Vælg en anden."),
    ({"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": "noget andet"},
     "confirm", "De to adgangskoder er ikke ens."),
], ids=["wrong-current", "no-current", "too-short", "common", "not-repeated"])
def test_profile_password_refusals(client, login, make_user, data, field, message):
    user = make_user(Role.STAFF)
    login(user)
    db.session.expire_all()
    token = user.session_token
    response = client.post("/konto/adgangskode", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in _field_error(page, field)
    assert 'type="password"' in page and NEW_PASSWORD not in page  # never sent back
    db.session.expire_all()
    assert user.check_password(PASSWORD) and user.session_token == token
    assert client.get("/konto").status_code == 200  # still signed in
    assert _events("user.set_password") == []


@pytest.mark.parametrize("url", ["/konto", "/konto/adgangskode"])
def test_profile_csrf_needed(client, login, make_user, url):
    user = make_user(Role.STAFF, name="Ole")
    login(user)
    response = client.post(url, data={"name": "Anden", "language": "en",
                                      "current_password": PASSWORD, "password": NEW_PASSWORD,
                                      "confirm": NEW_PASSWORD}, csrf=False)
    assert response.status_code == 400
    db.session.expire_all()
    assert user.name == "Ole" and user.check_password(PASSWORD)
