"""Invitations by mail: the link in the mail works once and for 7 days; an expired, used or
tampered link says so and offers a new one, asked for by e-mail address with the same answer
whatever the address; the command line queues the mail and prints the link."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from laks import config
from laks.enums import MailStatus, Role
from laks.extensions import db
from laks.models import AuditEvent, MailMessage, User
from laks.services import accounts, mail
from tests import smtp_server as smtp

smtp_server = smtp.smtp_server  # the fixture: a real SMTP server on 127.0.0.1

PASSWORD_CHOSEN = "en god og lang adgangskode"


def mails() -> list[MailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def invited(make_user):
    """A person created without a password, waiting for their invitation."""
    user = make_user(Role.STAFF, email="eva@kommune.dk", name="Eva Eriksen")
    user.password_hash = None
    db.session.commit()
    return user


def link_in(message: MailMessage) -> str:
    return re.search(r"http://laks\.test(/invitation/\S+)", message.text_body).group(1)


def test_invitations_last_seven_days_by_default(app):
    assert config.from_environment(app.instance_path)["LAKS_INVITATION_MAX_AGE"] == 7 * 86400


def test_invitations_mail_reaches_the_smtp_server_and_its_link_works_once(
        app, client, make_user, invited, smtp_server):
    admin = make_user(Role.ADMIN)
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    message = mail.send_invitation(invited, actor=admin)
    db.session.commit()
    assert message.kind == "invitation" and message.status == MailStatus.QUEUED
    [event] = events("user.invite")
    assert event.actor_id == admin.id and event.object_id == invited.id
    assert "invitation/" not in str(event.details)  # no token in the audit log
    assert mail.send_pending() == (1, 0)
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Din invitation til laks"
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    assert "Hej Eva Eriksen" in text
    assert "Linket virker én gang og udløber efter 7 dage." in text
    assert "Du logger ind med din e-mailadresse: eva@kommune.dk" in text
    path = re.search(r"http://laks\.test(/invitation/\S+)", text).group(1)
    assert f'href="http://laks.test{path}"' in html

    form = {"password": PASSWORD_CHOSEN, "confirm": PASSWORD_CHOSEN}
    assert client.get(path).status_code == 200
    assert client.post(path, data=form).status_code == 302
    used = client.get(path)
    assert used.status_code == 410
    page = used.get_data(as_text=True)
    assert "allerede brugt" in page
    assert '<a href="/ny-invitation">Få et nyt invitationslink</a>' in page


def test_invitations_expire_after_seven_days(client, invited, monkeypatch):
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 7 * 86400 - 5)
    old = accounts.invitation_url(invited).removeprefix("http://laks.test")
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 6 * 86400)
    six_days = accounts.invitation_url(invited).removeprefix("http://laks.test")
    monkeypatch.undo()
    expired = client.get(old)
    assert expired.status_code == 410
    assert "udløbet" in expired.get_data(as_text=True)
    assert "/ny-invitation" in expired.get_data(as_text=True)
    assert client.get(six_days).status_code == 200


def test_invitations_tampered_link_offers_a_new_one(client, invited):
    path = accounts.invitation_url(invited).removeprefix("http://laks.test")
    response = client.get(path[:-2] + ("xy" if not path.endswith("xy") else "zz"))
    assert response.status_code == 410
    assert '<a href="/ny-invitation">Få et nyt invitationslink</a>' \
        in response.get_data(as_text=True)


def test_invitations_new_link_by_e_mail_for_an_account_without_password(client, invited):
    page = client.get("/ny-invitation")
    assert page.status_code == 200 and "Nyt invitationslink" in page.get_data(as_text=True)
    response = client.post("/ny-invitation", data={"email": "EVA@kommune.dk"})
    assert response.status_code == 200
    assert "er en mail med et nyt invitationslink på vej" in response.get_data(as_text=True)
    [message] = mails()
    assert message.to_address == invited.email and message.kind == "invitation"
    form = {"password": PASSWORD_CHOSEN, "confirm": PASSWORD_CHOSEN}
    assert client.post(link_in(message), data=form).status_code == 302
    [asked] = events("auth.invitation_request")
    assert asked.object_id == invited.id and asked.details["sent"] is True


def test_invitations_new_link_same_answer_whoever_asks(client, make_user, invited):
    has_password = make_user(Role.STAFF, email="frank@kommune.dk")
    inactive = make_user(Role.STAFF, email="gitte@kommune.dk", active=False)
    inactive.password_hash = None
    db.session.commit()

    def answer(email: str) -> str:
        response = client.post("/ny-invitation", data={"email": email})
        assert response.status_code == 200
        return response.get_data(as_text=True).replace(email, "ADDRESS")

    pages = {answer(invited.email), answer(has_password.email), answer(inactive.email),
             answer("ingen@kommune.dk")}
    assert len(pages) == 1
    assert [m.to_address for m in mails()] == [invited.email]  # only the one still invited


def test_invitations_new_link_form_refuses_what_is_no_address(client):
    response = client.post("/ny-invitation", data={"email": "ikke en adresse"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Skriv en e-mailadresse som navn@kommune.dk." in page
    assert 'value="ikke en adresse"' in page  # what was typed is kept
    assert mails() == []


def test_invitations_deactivated_person_gets_no_invitation(app, make_user):
    user = make_user(Role.STAFF, active=False)
    with pytest.raises(mail.MailError, match="deactivated"):
        mail.send_invitation(user, actor=None)


def test_invitations_cli_invite_queues_the_mail_and_prints_the_link(app, runner, invited):
    email = invited.email
    result = runner.invoke(args=["user", "invite", "--email", email])
    assert result.exit_code == 0, result.output
    assert "Invitation mail queued for eva@kommune.dk." in result.output
    printed = re.search(r"http://laks\.test/invitation/\S+", result.output).group()
    [message] = mails()
    assert message.to_address == email and message.kind == "invitation"
    # The same person and password state: the tokens' payloads are the same.
    payload = printed.rsplit("/", 1)[1].split(".")[0]
    assert payload and link_in(message).rsplit("/", 1)[1].split(".")[0] == payload
    [event] = events("user.invite")
    assert event.actor_id is None


def test_invitations_cli_invite_refuses_a_deactivated_person(app, runner, make_user):
    user = make_user(Role.STAFF, active=False)
    result = runner.invoke(args=["user", "invite", "--email", user.email])
    assert result.exit_code == 1 and "deactivated" in result.output
    assert mails() == []


def test_invitations_cli_create_queues_the_invitation(app, runner, make_unit, tmp_path):
    unit_id = make_unit().id
    result = runner.invoke(args=["user", "create", "--email", "hans@kommune.dk", "--name",
                                 "Hans Hansen", "--role", "staff", "--unit", str(unit_id)])
    assert result.exit_code == 0, result.output
    assert "Invitation mail queued for hans@kommune.dk." in result.output
    assert "Invitation link: http://laks.test/invitation/" in result.output
    [message] = mails()
    assert message.to_address == "hans@kommune.dk" and message.subject == "Din invitation til laks"
    app.config["LAKS_OUTBOX_DIR"] = str(tmp_path)
    sent = runner.invoke(args=["mail", "send"])
    assert sent.output == f"Sent 1 mail to {tmp_path}; 0 failed.\n"
    assert (tmp_path / f"mail-{message.id}.eml").is_file()
    assert db.session.scalar(select(User).where(User.email == "hans@kommune.dk")) is not None
