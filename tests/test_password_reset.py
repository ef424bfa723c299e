"""A forgotten password: "Glemt adgangskode?" on the login page, a mail with a link that works
once and for an hour, a new password that ends every other session and signs the person in;
the same answer (and time) for an address without an account; limits per address and per
network address."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from laks import config
from laks.enums import MailStatus, Role
from laks.extensions import db
from laks.models import AuditEvent, MailMessage, User
from laks.services import mail, password_reset
from tests import smtp_server as smtp
from tests.conftest import PASSWORD

smtp_server = smtp.smtp_server  # the fixture: a real SMTP server on 127.0.0.1

NEW_PASSWORD = "en helt ny og lang adgangskode"


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def mails() -> list[MailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def reset_path(user: User) -> str:
    return password_reset.reset_url(user).removeprefix("http://laks.test")


def test_password_reset_login_page_links_to_the_form(client):
    page = client.get("/log-ind").get_data(as_text=True)
    assert '<a href="/glemt-adgangskode">Glemt adgangskode?</a>' in page
    form = client.get("/glemt-adgangskode")
    assert form.status_code == 200
    assert "Glemt adgangskode" in form.get_data(as_text=True)


def test_password_reset_end_to_end_through_a_real_smtp_server(app, make_app, make_user,
                                                              smtp_server):
    """Request → mail at the SMTP server → link → new password → the old sessions ended →
    signed in on the home page."""
    user = make_user(Role.STAFF, email="dorthe@kommune.dk", name="Dorthe Dahl")
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    old_device = app.test_client()
    assert old_device.post("/log-ind", data={"email": user.email, "password": PASSWORD}
                           ).status_code == 302
    assert old_device.get("/hjem").status_code == 200

    visitor = app.test_client()
    answer = visitor.post("/glemt-adgangskode", data={"email": "  Dorthe@Kommune.dk "})
    assert answer.status_code == 200
    assert "Tjek din mail" in answer.get_data(as_text=True)
    assert mail.send_pending() == (1, 0)
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["dorthe@kommune.dk"]
    assert received.message["Subject"] == "Vælg en ny adgangskode til laks"
    text = received.message.get_body(("plain",)).get_content()
    link = re.search(r"http://laks\.test(/nulstil-adgangskode/\S+)", text).group(1)

    form = visitor.get(link)
    assert form.status_code == 200
    assert "Vælg en ny adgangskode til dorthe@kommune.dk" in form.get_data(as_text=True)
    done = visitor.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/hjem"
    home = visitor.get("/hjem")
    assert home.status_code == 200
    assert "Din nye adgangskode er gemt, og du er logget ind." in home.get_data(as_text=True)

    # The session on the other device has ended; the old password no longer works.
    assert old_device.get("/hjem").status_code == 302
    other = app.test_client()
    assert other.post("/log-ind", data={"email": user.email, "password": PASSWORD}
                      ).status_code == 422
    assert other.post("/log-ind", data={"email": user.email, "password": NEW_PASSWORD}
                      ).status_code == 302
    # The link worked once.
    again = visitor.get(link)
    assert again.status_code == 410
    assert "ikke gyldigt, eller det er allerede brugt" in again.get_data(as_text=True)

    [asked] = events("auth.password_reset_request")
    [reset] = events("auth.password_reset")
    assert asked.object_id == user.id and asked.details["sent"] is True
    assert reset.actor_id == user.id and reset.object_id == user.id
    token = link.rsplit("/", 1)[1]
    stored = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
    assert token not in stored and token[:20] not in stored


def test_password_reset_same_answer_for_an_unknown_address(client, make_user):
    known = make_user(Role.STAFF, email="kendt@kommune.dk")

    def answer(email: str) -> str:
        response = client.post("/glemt-adgangskode", data={"email": email})
        assert response.status_code == 200
        return response.get_data(as_text=True).replace(email, "ADDRESS")

    assert answer(known.email) == answer("ukendt@kommune.dk")
    [sent] = mails()
    assert sent.to_address == known.email
    unknown = events("auth.password_reset_request")[-1]
    assert unknown.object_id is None and unknown.details == {"sent": False,
                                                             "email": "ukendt@kommune.dk"}


def test_password_reset_same_time_for_an_unknown_address(client, make_user):
    known = make_user(Role.STAFF)

    def timed(email: str) -> float:
        started = time.perf_counter()
        assert client.post("/glemt-adgangskode", data={"email": email}).status_code == 200
        return time.perf_counter() - started

    timed(known.email)  # warm up: templates compiled
    timed("nobody@example.org")
    known_times, unknown_times = [], []
    for _ in range(4):  # within the limit of five requests per address
        known_times.append(timed(known.email))
        unknown_times.append(timed("nobody@example.org"))
    ratio = statistics.median(unknown_times) / statistics.median(known_times)
    assert 0.5 < ratio < 2, (statistics.median(unknown_times), statistics.median(known_times))


def test_password_reset_deactivated_person_gets_no_mail(client, make_user):
    user = make_user(Role.STAFF, active=False)
    response = client.post("/glemt-adgangskode", data={"email": user.email})
    assert response.status_code == 200 and "Tjek din mail" in response.get_data(as_text=True)
    assert mails() == []


def test_password_reset_cpr_number_typed_is_never_stored(client):
    response = client.post("/glemt-adgangskode", data={"email": "010190-1234"})
    assert response.status_code == 422  # not an e-mail address: said at the field
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert "Skriv en e-mailadresse som navn@kommune.dk." in response.get_data(as_text=True)
    assert events("auth.password_reset_request") == []
    password_reset.request_password_reset("0101901234")
    [event] = events("auth.password_reset_request")
    assert "0101" not in str(event.details)


def test_password_reset_empty_form_is_refused_at_the_field(client):
    response = client.post("/glemt-adgangskode", data={"email": ""})
    assert response.status_code == 422
    assert "Indtast din e-mailadresse." in response.get_data(as_text=True)


def test_password_reset_link_expires_after_an_hour(app, client, make_user, monkeypatch):
    assert config.from_environment(app.instance_path)["LAKS_PASSWORD_RESET_MAX_AGE"] == 3600
    user = make_user(Role.STAFF)
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3600 - 5)
    old = reset_path(user)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3600 + 60)
    recent = reset_path(user)
    monkeypatch.undo()
    expired = client.get(old)
    assert expired.status_code == 410
    page = expired.get_data(as_text=True)
    assert "Dette link til at vælge en ny adgangskode er udløbet: det virker i en time." in page
    assert 'action="/glemt-adgangskode"' in page and 'name="email"' in page  # a new one
    assert client.get(recent).status_code == 200
    refused = client.post(old, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 410
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
    lambda token: "x" + token,
    lambda token: "not-a-token",
], ids=["signature", "payload", "garbage"])
def test_password_reset_tampered_link_is_refused(client, make_user, tamper):
    user = make_user(Role.STAFF)
    token = reset_path(user).rsplit("/", 1)[1]
    response = client.get(f"/nulstil-adgangskode/{tamper(token)}")
    assert response.status_code == 410
    assert "ikke gyldigt" in response.get_data(as_text=True)


def test_password_reset_invitation_token_is_no_reset_token(client, make_user):
    from laks.services import accounts

    user = make_user(Role.STAFF)
    token = accounts.invitation_token(user)
    assert client.get(f"/nulstil-adgangskode/{token}").status_code == 410


def test_password_reset_keeps_the_password_rules(client, make_user):
    user = make_user(Role.STAFF)
    path = reset_path(user)
    short = client.post(path, data={"password": "kort", "confirm": "kort"})
    assert short.status_code == 422
    assert "Adgangskoden skal have mindst 12 tegn." in short.get_data(as_text=True)
    common = client.post(path, data={"password": "adgangskode123",
                                     "confirm": "adgangskode123"})
    assert common.status_code == 422
    assert "Adgangskoden er en af de mest almindelige" in common.get_data(as_text=True)
    different = client.post(path, data={"password": NEW_PASSWORD, "confirm": "noget andet"})
    assert different.status_code == 422
    assert client.get(path).status_code == 200  # still valid: nothing was changed


def test_password_reset_requests_are_limited_per_address(make_app, make_user):
    limited = make_app(LAKS_RESET_LIMIT=config.RESET_LIMIT)
    assert config.RESET_LIMIT == "5 per hour"
    user_id = make_user(Role.STAFF).id
    with limited.app_context():
        email = db.session.get(User, user_id).email
        client = limited.test_client()
        for _ in range(3):
            assert client.post("/glemt-adgangskode", data={"email": email}).status_code == 200
        # The new-invitation form counts with the reset form, and the address however written.
        assert client.post("/ny-invitation", data={"email": email.upper()}).status_code == 200
        assert client.post("/glemt-adgangskode", data={"email": f" {email}"}).status_code == 200
        refused = client.post("/glemt-adgangskode", data={"email": email})
        assert refused.status_code == 429
        page = refused.get_data(as_text=True)
        assert "For mange anmodninger om et link" in page and '<html lang="da">' in page
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        # Another address is not held back by this one.
        assert client.post("/glemt-adgangskode", data={"email": "anden@kommune.dk"}
                           ).status_code == 200
        # Four reset mails; the person has a password, so the invitation request sent none.
        assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 4
        db.session.remove()


def test_password_reset_requests_are_limited_per_network_address(make_app):
    limited = make_app(LAKS_RESET_ADDRESS_LIMIT=config.RESET_ADDRESS_LIMIT)
    assert config.RESET_ADDRESS_LIMIT == "30 per hour"
    with limited.app_context():
        client = limited.test_client()
        for n in range(30):
            assert client.post("/glemt-adgangskode", data={"email": f"p{n}@kommune.dk"},
                               environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200
        refused = client.post("/glemt-adgangskode", data={"email": "p99@kommune.dk"},
                              environ_base={"REMOTE_ADDR": "10.1.1.1"})
        assert refused.status_code == 429
        assert client.post("/glemt-adgangskode", data={"email": "p99@kommune.dk"},
                           environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 200
        db.session.remove()


def test_password_reset_mail_says_how_long_the_link_works(app, make_user):
    user = make_user(Role.STAFF)
    message = password_reset.request_password_reset(user.email)
    db.session.commit()
    assert message.kind == "password_reset" and message.status == MailStatus.QUEUED
    assert "Linket virker én gang og udløber efter 60 minutter." in message.text_body
    assert password_reset.reset_url(user).split("/nulstil-adgangskode/")[0] \
        == "http://laks.test"


def test_password_reset_asks_for_the_second_factor(client, make_user):
    """A reset link proves the mailbox, not the second factor: a person who has one (or whose
    role requires one) is signed in only after the code, like any login."""
    from tests.conftest import current_code

    user = make_user(Role.FACILITATOR, two_factor=True)
    done = client.post(reset_path(user), data={"password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/log-ind/kode"
    page = client.get("/log-ind/kode").get_data(as_text=True)
    assert "Gør dit login færdigt med totrinslogin." in page
    assert client.get("/hjem").status_code == 302  # not signed in yet
    signed_in = client.post("/log-ind/kode", data={"code": current_code(user)})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/hjem"
    assert client.get("/hjem").status_code == 200
