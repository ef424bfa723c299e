"""Mail: queued in the request's transaction, sent after the commit outside the request, to a
real SMTP server (aiosmtpd on 127.0.0.1) or, without one, into the outbox folder; failures
retried later and shown to the admin; never sent twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from laks import jobs
from laks.enums import MailStatus, Role
from laks.extensions import db
from laks.models import AuditEvent, MailMessage, User, utcnow
from laks.services import mail
from tests import smtp_server as smtp
from tests import test_jobs_redis
from tests.smtp_server import USER

# The SMTP servers of tests/smtp_server.py, as fixtures of this module.
smtp_server, smtps_server, starttls_server = (smtp.smtp_server, smtp.smtps_server,
                                              smtp.starttls_server)
tls_certificate, closed_port = smtp.tls_certificate, smtp.closed_port
redis_url = test_jobs_redis.redis_url  # a real redis-server, for the jobs on RQ

ROOT = Path(__file__).resolve().parents[1]


def reload(message: MailMessage) -> MailMessage:
    db.session.expire_all()
    return db.session.get(MailMessage, message.id)


def parts(message) -> dict[str, str]:
    """The text and HTML parts of a received mail, by content type."""
    return {part.get_content_type(): part.get_content() for part in message.walk()
            if part.get_content_maintype() == "text"}


def queue_reset(user: User) -> MailMessage:
    message = mail.queue_mail(user, "password_reset", "password_reset",
                              link="http://laks.test/nulstil-adgangskode/abc", minutes=60)
    db.session.commit()
    return message


def wait_until(check, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition never held")


# --- sent after the commit, outside the request -------------------------------------------------


def test_mail_queued_in_a_request_is_sent_after_the_commit_in_danish(make_app, make_user,
                                                                    smtp_server):
    """The real path: a request queues the mail; the in-process worker sends it once the
    request has committed, to the SMTP server, as plain text and HTML in Danish."""
    user = make_user(Role.STAFF, email="anna@kommune.dk", name="Anna Andersen")
    threaded = make_app(LAKS_JOBS="thread", LAKS_SMTP_URL=smtp_server.url(),
                        LAKS_MAIL_FROM="Sund By Netværket <laks@netvaerket.dk>")
    try:
        with threaded.app_context():
            response = threaded.test_client().post("/glemt-adgangskode",
                                                   data={"email": "anna@kommune.dk"})
            assert response.status_code == 200
            [received] = smtp_server.wait_for(1)
            sent = wait_until(lambda: db.session.scalar(
                select(MailMessage).where(MailMessage.status == MailStatus.SENT)))
            assert sent.to_address == user.email and sent.attempts == 1
            assert sent.sent_at is not None and sent.last_error == ""
            db.session.remove()
    finally:
        jobs.stop_worker(threaded)
    email = received.message
    assert received.rcpt_tos == ["anna@kommune.dk"]
    assert received.mail_from == "laks@netvaerket.dk"
    assert email["Subject"] == "Vælg en ny adgangskode til laks"
    assert email["To"] == "Anna Andersen <anna@kommune.dk>"
    assert email["From"] == "Sund By Netværket <laks@netvaerket.dk>"
    assert re.fullmatch(r"<laks\.\d+\.\d+@netvaerket\.dk>", email["Message-ID"])
    assert email["Date"] and email["Content-Language"] == "da"
    assert email.get_content_type() == "multipart/alternative"
    body = parts(email)
    assert set(body) == {"text/plain", "text/html"}
    link = re.search(r"http://laks\.test/nulstil-adgangskode/\S+", body["text/plain"]).group()
    assert "Hej Anna Andersen" in body["text/plain"]
    assert "Linket virker én gang og udløber efter 60 minutter." in body["text/plain"]
    assert '<html lang="da">' in body["text/html"]
    assert f'href="{link}"' in body["text/html"]
    assert "Vælg en ny adgangskode" in body["text/html"]


def test_mail_in_english_for_a_person_whose_language_is_english(app, make_user, smtp_server):
    user = make_user(Role.FACILITATOR, name="Emma Evans")
    user.language = "en"
    db.session.commit()
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    queue_reset(user)
    assert mail.send_pending() == (1, 0)
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Choose a new password for laks"
    assert received.message["Content-Language"] == "en"
    body = parts(received.message)
    assert "Hello Emma Evans," in body["text/plain"]
    assert "The link works once and expires after 60 minutes." in body["text/plain"]
    assert '<html lang="en">' in body["text/html"]
    assert "Linket" not in body["text/plain"] + body["text/html"]


def test_mail_to_an_address_without_an_account_is_in_danish(app, smtp_server):
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    message = mail.queue_mail("kontakt@kommune.dk", "invitation", "invitation",
                              recipient_name="x", link="http://laks.test/x", days=7)
    db.session.commit()
    assert message.language == "da" and message.user is None
    assert message.subject == "Din invitation til laks"


def test_mail_rolled_back_with_its_request_is_never_sent(app, make_user):
    user = make_user(Role.STAFF)
    mail.queue_mail(user, "password_reset", "password_reset", link="x", minutes=60)
    assert db.session.info["laks_jobs_mail_pending"] is True
    db.session.rollback()
    assert "laks_jobs_mail_pending" not in db.session.info
    assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 0
    assert mail.send_pending() == (0, 0)


def test_mail_with_a_once_key_is_queued_once(app, make_user):
    user = make_user(Role.STAFF)
    first = mail.queue_mail(user, "password_reset", "password_reset", link="x", minutes=60,
                            once_key="reminder:1:handleplan:week")
    again = mail.queue_mail(user, "password_reset", "password_reset", link="x", minutes=60,
                            once_key="reminder:1:handleplan:week")
    db.session.commit()
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 1


def test_mail_needs_an_address(app):
    with pytest.raises(mail.MailError):
        mail.queue_mail("", "invitation", "invitation", link="x", days=7)


# --- without SMTP: the outbox folder ------------------------------------------------------------


def test_mail_without_smtp_is_written_to_the_outbox_folder_and_listed(app, client, login,
                                                                      make_user, tmp_path):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.STAFF, name="Bo Berg")
    app.config["LAKS_OUTBOX_DIR"] = str(tmp_path / "outbox")
    message = queue_reset(user)
    assert mail.send_pending() == (1, 0)
    message = reload(message)
    assert message.status == MailStatus.SENT and message.sent_at is not None
    eml = tmp_path / "outbox" / f"mail-{message.id}.eml"
    written = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert written["Subject"] == "Vælg en ny adgangskode til laks"
    assert written["To"] == f"Bo Berg <{user.email}>"
    assert set(parts(written)) == {"text/plain", "text/html"}
    assert list((tmp_path / "outbox").iterdir()) == [eml]  # no temporary file left

    login(admin)
    page = client.get("/admin/post").get_data(as_text=True)
    assert "Der er ikke sat en SMTP-server op" in page and str(tmp_path / "outbox") in page
    assert user.email in page and "Vælg en ny adgangskode til laks" in page
    assert "Sendt" in page and "Nulstilling af adgangskode" in page
    shown = client.get(f"/admin/post/{message.id}").get_data(as_text=True)
    assert "Hej Bo Berg" in shown and f"mail-{message.id}.eml" in shown
    assert "Send igen" not in shown  # sent: nothing to send again


def test_mail_outbox_folder_defaults_to_the_instance_folder(app):
    assert app.config["LAKS_OUTBOX_DIR"] == ""
    assert mail.outbox_dir() == Path(app.instance_path) / "outbox"


# --- failures: kept, retried later, visible -----------------------------------------------------


def test_mail_unreachable_server_keeps_it_queued_and_the_request_succeeds(
        make_app, make_user, closed_port, client, login):
    """The SMTP server is down: the person's request still succeeds; the worker's attempt
    fails, and the mail waits for its next attempt with the error, on the outbox page."""
    make_user(Role.STAFF, email="carl@kommune.dk")
    admin = make_user(Role.ADMIN)
    threaded = make_app(LAKS_JOBS="thread", LAKS_SMTP_URL=f"smtp://127.0.0.1:{closed_port}")
    try:
        with threaded.app_context():
            response = threaded.test_client().post("/glemt-adgangskode",
                                                   data={"email": "carl@kommune.dk"})
            assert response.status_code == 200
            assert "Tjek din mail" in response.get_data(as_text=True)
            waiting = wait_until(lambda: db.session.scalar(
                select(MailMessage).where(MailMessage.attempts == 1,
                                          MailMessage.last_error != "")))
            assert waiting.status == MailStatus.QUEUED
            assert "kunne ikke nås" in waiting.last_error
            delay = waiting.next_attempt_at - utcnow()
            assert timedelta(seconds=30) < delay <= timedelta(minutes=1)
            mail_id = waiting.id
            db.session.remove()
    finally:
        jobs.stop_worker(threaded)
    login(admin)
    page = client.get("/admin/post").get_data(as_text=True)
    assert "I kø, næste forsøg" in page and "kunne ikke nås" in page
    shown = client.get(f"/admin/post/{mail_id}").get_data(as_text=True)
    assert "Seneste forsøg slog fejl" in shown and "Send igen" in shown


def test_mail_is_retried_with_growing_delays_then_marked_failed(app, make_user, closed_port):
    app.config["LAKS_SMTP_URL"] = f"smtp://127.0.0.1:{closed_port}"
    message = queue_reset(make_user(Role.STAFF))
    now = utcnow()
    waits = []
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        assert mail.send_pending(now - timedelta(seconds=1)) == (0, 0)  # not due yet
        assert mail.send_pending(now) == (0, 1)
        message = reload(message)
        assert message.attempts == attempt
        if attempt < mail.MAX_ATTEMPTS:
            assert message.status == MailStatus.QUEUED
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                     timedelta(hours=2), timedelta(hours=12)]
    assert message.status == MailStatus.FAILED and "kunne ikke nås" in message.last_error
    assert mail.send_pending(now + timedelta(days=30)) == (0, 0)  # given up: not tried again


def test_mail_failed_is_sent_again_from_the_outbox(app, client, login, make_user, closed_port,
                                                   smtp_server):
    admin = make_user(Role.ADMIN)
    app.config["LAKS_SMTP_URL"] = f"smtp://127.0.0.1:{closed_port}"
    message = queue_reset(make_user(Role.STAFF))
    message.status, message.attempts = MailStatus.FAILED, mail.MAX_ATTEMPTS
    message.last_error = "SMTP-serveren kunne ikke nås: [Errno 111] Connection refused"
    db.session.commit()
    login(admin)
    shown = client.get(f"/admin/post/{message.id}").get_data(as_text=True)
    assert "Mailen kunne ikke sendes efter 6 forsøg" in shown
    still_queued = queue_reset(make_user(Role.STAFF, email="venter@kommune.dk"))
    page = client.get("/admin/post?status=failed").get_data(as_text=True)
    assert "Mislykkedes" in page and message.to_address in page
    assert still_queued.to_address not in page  # only the failed ones
    assert still_queued.to_address in client.get("/admin/post").get_data(as_text=True)
    assert client.post(f"/admin/post/{message.id}/send-igen", csrf=False).status_code == 400
    response = client.post(f"/admin/post/{message.id}/send-igen")
    assert response.status_code == 302
    message = reload(message)
    assert message.status == MailStatus.QUEUED and message.attempts == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.resend"))
    assert event.actor_id == admin.id and event.object_id == message.id
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    assert mail.send_pending() == (2, 0)
    assert reload(message).status == MailStatus.SENT
    assert len(smtp_server.wait_for(2)) == 2


def test_mail_refused_recipient_stays_queued_with_the_servers_answer(app, make_user,
                                                                    smtp_server):
    user = make_user(Role.STAFF, email="ukendt@kommune.dk")
    smtp_server.refuse.add("ukendt@kommune.dk")
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    message = queue_reset(user)
    other = queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (1, 1)
    message = reload(message)
    assert message.status == MailStatus.QUEUED
    assert "SMTP-serveren afviste modtageren" in message.last_error
    assert "550" in message.last_error
    assert reload(other).status == MailStatus.SENT


@pytest.mark.parametrize("who", ["anonymous", "staff", "facilitator", "observer"])
def test_mail_outbox_is_for_the_network_admin_only(app, client, login, make_user, make_unit,
                                                   who):
    message = queue_reset(make_user(Role.STAFF))
    if who != "anonymous":
        unit = make_unit()
        login(make_user(Role(who), unit if who in ("staff", "facilitator") else None))
    expected = 302 if who == "anonymous" else 403
    assert client.get("/admin/post").status_code == expected
    assert client.get(f"/admin/post/{message.id}").status_code == expected
    assert client.post(f"/admin/post/{message.id}/send-igen").status_code in (401, 302, 403)
    assert reload(message).attempts == 0


def test_mail_outbox_unknown_mail_is_404(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/admin/post/999999").status_code == 404
    assert client.get("/admin/post?status=nonsense&side=abc").status_code == 200


def test_mail_keeps_its_message_id_on_every_attempt(app, make_user):
    message = queue_reset(make_user(Role.STAFF))
    first = mail.build_email(message, utcnow())
    later = mail.build_email(message, utcnow() + timedelta(hours=2))
    assert first["Message-ID"] == later["Message-ID"]
    assert first["Date"] != later["Date"]


def test_mail_claimed_by_a_sender_that_stops_is_due_again_after_ten_minutes(app, make_user):
    message = queue_reset(make_user(Role.STAFF))
    now = utcnow()
    assert mail.claim(message.id, now)
    assert not mail.claim(message.id, now)  # taken
    message = reload(message)
    assert message.status == MailStatus.QUEUED and message.attempts == 1
    assert message.next_attempt_at == now + timedelta(minutes=10)
    assert mail.due_ids(now + timedelta(minutes=9)) == []
    assert mail.due_ids(now + timedelta(minutes=10)) == [message.id]


# --- two senders at once -----------------------------------------------------------------------


def test_mail_two_concurrent_drains_send_each_mail_once(app, make_app, make_user, smtp_server):
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    users = [make_user(Role.STAFF) for _ in range(12)]
    for user in users:
        queue_reset(user)
    other = make_app(LAKS_SMTP_URL=smtp_server.url())
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def drain(name, on):
        with on.app_context():
            start.wait()
            try:
                results[name] = mail.send_pending()
            except Exception as error:  # noqa: BLE001 - shown by the assertion below
                results[name] = error

    threads = [threading.Thread(target=drain, args=(n, a)) for n, a in (("a", app),
                                                                          ("b", other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, tuple) for r in results.values()), results
    assert sum(r[0] for r in results.values()) == 12
    assert sum(r[1] for r in results.values()) == 0
    received = smtp_server.wait_for(12)
    time.sleep(0.3)  # anything sent twice would have arrived by now
    assert len(smtp_server.received) == 12
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(u.email for u in users)
    assert len({r.message["Message-ID"] for r in received}) == 12


# --- on Redis: the RQ worker sends ---------------------------------------------------------------


def run_rq_worker(database_url: str, redis: str, smtp_url: str):
    """`flask --app laks jobs worker --burst` in a process of its own."""
    env = {**os.environ, "LAKS_DATABASE_URL": database_url, "LAKS_REDIS_URL": redis,
           "LAKS_SMTP_URL": smtp_url}
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run([str(flask), "--app", "laks", "jobs", "worker", "--burst"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_mail_on_redis_is_sent_by_the_rq_worker_after_the_commit(app, make_app, make_user,
                                                                 smtp_server, redis_url,
                                                                 database_url):
    user_id = make_user(Role.STAFF, email="rq@kommune.dk").id
    redis_app = make_app(LAKS_REDIS_URL=redis_url)
    with redis_app.app_context():
        queue = jobs.rq_queue(redis_app)
        queue_reset_for = db.session.get(User, user_id)
        mail.queue_mail(queue_reset_for, "password_reset", "password_reset", link="x",
                        minutes=60)
        assert queue.count == 0  # not before the commit
        db.session.commit()
        assert queue.count == 1
        db.session.remove()
    worker = run_rq_worker(database_url, redis_url, smtp_server.url())
    assert worker.returncode == 0, worker.stderr
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["rq@kommune.dk"]
    [sent] = db.session.scalars(select(MailMessage))
    assert sent.status == MailStatus.SENT


def test_mail_on_redis_a_failed_attempt_is_scheduled_again(app, make_app, make_user,
                                                          closed_port, redis_url,
                                                          database_url):
    queue_reset(make_user(Role.STAFF))  # queued before Redis knew: the worker takes it
    worker = run_rq_worker(database_url, redis_url, f"smtp://127.0.0.1:{closed_port}")
    assert worker.returncode == 0, worker.stderr
    [waiting] = db.session.scalars(select(MailMessage))
    assert waiting.status == MailStatus.QUEUED and waiting.attempts == 1
    assert "kunne ikke nås" in waiting.last_error
    redis_app = make_app(LAKS_REDIS_URL=redis_url)
    with redis_app.app_context():
        registry = jobs.rq_queue(redis_app).scheduled_job_registry
        [job_id] = registry.get_job_ids()
        assert job_id == f"laks-mail-{int(waiting.next_attempt_at.timestamp())}"
        when = registry.get_scheduled_time(job_id)
        assert abs((when - waiting.next_attempt_at).total_seconds()) < 2


# --- SMTP settings: login, TLS, STARTTLS ---------------------------------------------------------


def test_mail_smtp_login_from_the_url(app, make_user, smtp_server):
    app.config["LAKS_SMTP_URL"] = smtp_server.url(login=True)
    queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (1, 0)
    [received] = smtp_server.wait_for(1)
    assert received.authenticated_as == USER and not received.tls


def test_mail_smtp_wrong_password_is_an_error_kept_on_the_mail(app, make_user, smtp_server):
    app.config["LAKS_SMTP_URL"] = f"smtp://{USER}:wrong@127.0.0.1:{smtp_server.port}"
    message = queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (0, 1)
    assert "afviste brugernavn og adgangskode: 535" in reload(message).last_error
    assert smtp_server.received == []


def test_mail_smtps_speaks_tls_from_the_start(app, make_user, smtps_server):
    app.config["LAKS_SMTP_URL"] = smtps_server.url("smtps", login=True)
    queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (1, 0)
    [received] = smtps_server.wait_for(1)
    assert received.tls and received.authenticated_as == USER


def test_mail_starttls_upgrades_the_connection(app, make_user, starttls_server):
    app.config["LAKS_SMTP_URL"] = starttls_server.url(query="?starttls=1")
    queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (1, 0)
    [received] = starttls_server.wait_for(1)
    assert received.tls


def test_mail_starttls_server_refuses_a_plain_connection(app, make_user, starttls_server):
    app.config["LAKS_SMTP_URL"] = starttls_server.url()
    message = queue_reset(make_user(Role.STAFF))
    assert mail.send_pending() == (0, 1)
    assert reload(message).status == MailStatus.QUEUED and reload(message).last_error


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.kommune.dk", ("mail.kommune.dk", 25, "", "", False, False)),
    ("smtps://u%40k.dk:p%2Fw@mail.kommune.dk", ("mail.kommune.dk", 465, "u@k.dk", "p/w", True,
                                                 False)),
    ("smtp://u:p@mail.kommune.dk:587?starttls=1", ("mail.kommune.dk", 587, "u", "p", False,
                                                    True)),
], ids=["plain", "smtps", "starttls"])
def test_mail_smtp_url_is_read(app, url, expected):
    settings = mail.smtp_settings(url)
    assert (settings.host, settings.port, settings.username, settings.password, settings.tls,
            settings.starttls) == expected


@pytest.mark.parametrize("url", ["http://mail.kommune.dk", "smtp://", "smtp://host:port"],
                         ids=["scheme", "host", "port"])
def test_mail_smtp_url_that_cannot_be_read_is_refused(app, url):
    with pytest.raises(mail.MailError):
        mail.smtp_settings(url)
    app.config["LAKS_SMTP_URL"] = url
    assert mail.send_pending() == (0, 0)  # nothing sent, nothing lost, no crash


def test_mail_settings_come_from_the_environment(monkeypatch, tmp_path):
    from laks import config

    defaults = config.from_environment(str(tmp_path))
    assert defaults["LAKS_SMTP_URL"] == "" and defaults["LAKS_OUTBOX_DIR"] == ""
    assert defaults["LAKS_MAIL_FROM"] == "laks <noreply@localhost>"
    monkeypatch.setenv("LAKS_SMTP_URL", "smtps://u:p@mail.kommune.dk")
    monkeypatch.setenv("LAKS_MAIL_FROM", "Netværket <laks@kommune.dk>")
    monkeypatch.setenv("LAKS_OUTBOX_DIR", str(tmp_path / "post"))
    chosen = config.from_environment(str(tmp_path))
    assert chosen["LAKS_SMTP_URL"] == "smtps://u:p@mail.kommune.dk"
    assert chosen["LAKS_MAIL_FROM"] == "Netværket <laks@kommune.dk>"
    assert chosen["LAKS_OUTBOX_DIR"] == str(tmp_path / "post")
    assert (defaults["LAKS_RESET_LIMIT"], defaults["LAKS_RESET_ADDRESS_LIMIT"],
            defaults["LAKS_PASSWORD_RESET_MAX_AGE"]) == ("5 per hour", "30 per hour", 3600)
    monkeypatch.setenv("LAKS_RESET_LIMIT", "3 per hour")
    monkeypatch.setenv("LAKS_RESET_ADDRESS_LIMIT", "10 per hour")
    monkeypatch.setenv("LAKS_PASSWORD_RESET_MAX_AGE", "1800")
    chosen = config.from_environment(str(tmp_path))
    assert (chosen["LAKS_RESET_LIMIT"], chosen["LAKS_RESET_ADDRESS_LIMIT"],
            chosen["LAKS_PASSWORD_RESET_MAX_AGE"]) == ("3 per hour", "10 per hour", 1800)


# --- the command line ---------------------------------------------------------------------------


def test_mail_cli_sends_what_waits(app, runner, make_user, tmp_path):
    app.config["LAKS_OUTBOX_DIR"] = str(tmp_path)
    assert runner.invoke(args=["mail", "send"]).output == "No mail is waiting to be sent.\n"
    message = queue_reset(make_user(Role.STAFF))
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Sent 1 mail to {tmp_path}; 0 failed.\n"
    assert (tmp_path / f"mail-{message.id}.eml").is_file()


def test_mail_cli_says_what_failed(app, runner, make_user, closed_port):
    app.config["LAKS_SMTP_URL"] = f"smtp://127.0.0.1:{closed_port}"
    user = make_user(Role.STAFF)
    queue_reset(user)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert f"Sent 0 mails through 127.0.0.1:{closed_port}; 1 failed." in result.output
    assert f"{user.email} (password_reset): SMTP-serveren kunne ikke nås" \
        in result.output
    assert "next attempt" in result.output


def test_mail_cli_through_smtp(app, runner, make_user, smtp_server):
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    queue_reset(make_user(Role.STAFF))
    queue_reset(make_user(Role.STAFF))
    result = runner.invoke(args=["mail", "send"])
    assert result.output == f"Sent 2 mails through 127.0.0.1:{smtp_server.port}; 0 failed.\n"
    assert len(smtp_server.wait_for(2)) == 2


# --- Danish for every mail ----------------------------------------------------------------------


def test_mail_text_templates_are_translated():
    """The plain-text templates' strings are in the Danish catalogue, translated."""
    found = {message if isinstance(message, str) else message[0]
             for _f, _l, message, _c, _x in extract_from_dir(
                 str(ROOT / "templates" / "mail"), method_map=[("**.txt", "jinja2")])}
    with (ROOT / "laks/translations/da/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(handle)}
    assert found and not found - set(catalog)
    assert all(catalog[msgid].string for msgid in found)
