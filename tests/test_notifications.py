"""Notifications: who hears what when a module moves, in laks and by mail (received by a
real SMTP server on 127.0.0.1), the reminders of due dates (each sent once), the list with
its unread count, and each person's choice of what to hear about."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from laks.enums import ModuleState, ProgrammeStatus
from laks.extensions import db
from laks.models import MailMessage, Notification
from laks.services import mail
from laks.services import modules as module_service
from laks.services import notifications as service
from laks.services.definitions import get_spec
from tests import smtp_server as smtp
from tests.test_workflow import COMPLETE_UDFORDRING

smtp_server = smtp.smtp_server


def submitted(team):
    um = module_service.unit_module_for(team.unit, "udfordring")
    module_service.save_answers(um, COMPLETE_UDFORDRING, actor=team.tovholder, base_version=0)
    module_service.submit(um, get_spec("udfordring"), actor=team.tovholder)
    db.session.commit()
    return um


def notes_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_notifications_submission_reaches_the_facilitator_by_mail(app, team, smtp_server):
    app.config["LAKS_SMTP_URL"] = smtp_server.url()
    um = submitted(team)
    [note] = notes_of(team.facilitator)
    assert note.kind == "module_submitted"
    assert note.text == f"{team.unit.title} har indsendt modul 1. Udfordring til vurdering."
    assert note.url == f"/enheder/{team.unit.id}/moduler/udfordring"
    assert notes_of(team.other_facilitator) == [] and notes_of(team.staff) == []
    assert mail.send_pending() == (1, 0)
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == [team.facilitator.email]
    assert received.message["Subject"] == note.text
    text = received.message.get_body(("plain",)).get_content()
    assert f"/enheder/{team.unit.id}/moduler/udfordring" in text
    assert "/konto/meddelelser" in text  # where to turn it off

    # The review reaches the unit's staff, not the facilitator who reviewed.
    module_service.review(um, "request_changes", actor=team.facilitator, comment="Uddyb")
    db.session.commit()
    assert [n.kind for n in notes_of(team.staff)] == ["module_changes_requested"]
    assert [n.kind for n in notes_of(team.tovholder)] == ["module_changes_requested"]
    assert [n.kind for n in notes_of(team.facilitator)] == ["module_submitted"]


def test_notifications_comment_reaches_everyone_else_of_the_unit(app, team):
    um = module_service.unit_module_for(team.unit, "udfordring")
    module_service.add_comment(um, "Hvad tænker I om tidspunktet?", actor=team.staff)
    db.session.commit()
    assert [n.kind for n in notes_of(team.tovholder)] == ["module_comment"]
    assert [n.kind for n in notes_of(team.facilitator)] == ["module_comment"]
    assert notes_of(team.staff) == []  # not to the author
    assert notes_of(team.other_staff) == []


def test_notifications_a_kind_turned_off_is_not_sent(client, login, team):
    login(team.facilitator)
    page = client.get("/konto/meddelelser").get_data(as_text=True)
    assert "En af mine enheders moduler bliver indsendt" in page
    assert "Påmindelse" not in page  # reminders go to the units' staff
    assert client.post("/konto/meddelelser", data={"kind": ["module_comment"]}
                       ).status_code == 302
    db.session.expire_all()
    assert team.facilitator.notifications_off == ["module_submitted"]
    submitted(team)
    assert notes_of(team.facilitator) == []
    assert db.session.scalar(select(func.count(MailMessage.id)).where(
        MailMessage.to_address == team.facilitator.email)) == 0


def test_notifications_list_unread_count_and_reading(client, login, team):
    submitted(team)
    login(team.facilitator)
    home = client.get("/hjem").get_data(as_text=True)
    assert "Meddelelser (1 ny)" in home
    page = client.get("/meddelelser").get_data(as_text=True)
    assert "har indsendt modul 1. Udfordring" in page
    [note] = notes_of(team.facilitator)
    opened = client.get(f"/meddelelser/{note.id}")
    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/enheder/{team.unit.id}/moduler/udfordring"
    assert notes_of(team.facilitator)[0].read_at is not None
    assert "Meddelelser (1 ny)" not in client.get("/hjem").get_data(as_text=True)
    client.post("/log-ud")
    login(team.other_facilitator)  # someone else's notification is not found
    assert client.get(f"/meddelelser/{note.id}").status_code == 404


def test_notifications_mark_all_read_needs_the_csrf_token(client, login, team):
    submitted(team)
    login(team.facilitator)
    assert client.post("/meddelelser/laest", csrf=False).status_code == 400
    assert notes_of(team.facilitator)[0].read_at is None
    assert client.post("/meddelelser/laest").status_code == 302
    assert notes_of(team.facilitator)[0].read_at is not None


def test_notifications_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/meddelelser").status_code in (302, 401)


def test_reminders_a_week_before_and_when_overdue_each_once(app, team, runner):
    programme = team.unit.programme
    programme.status = ProgrammeStatus.RUNNING
    due = programme.due_on("udfordring")
    db.session.commit()
    assert service.send_reminders(due - timedelta(days=8)) == 0  # too early
    # Every running programme's units (the other unit's programme has the same dates).
    staff = [u for unit in (team.unit, team.other_unit) for u in service.staff_of(unit)]
    assert {team.tovholder, team.staff, team.other_staff} == set(staff)
    assert service.send_reminders(due - timedelta(days=7)) == len(staff)
    assert service.send_reminders(due - timedelta(days=3)) == 0  # sent once already
    db.session.commit()
    with force_locale("da"):
        [note] = [n for n in notes_of(team.tovholder) if n.kind == "reminder_due"]
    assert "Udfordring" in note.text and str(due.year) in note.text
    assert service.send_reminders(due) == 0
    assert service.send_reminders(due + timedelta(days=1)) == len(staff)  # overdue now
    db.session.commit()
    assert service.send_reminders(due + timedelta(days=9)) == 0
    # The command line does the same, as often as anyone runs it.
    result = runner.invoke(args=["reminders", "send", "--today",
                                 (due + timedelta(days=2)).isoformat()])
    assert result.exit_code == 0 and "Queued 0 reminders" in result.output
    assert db.session.scalar(select(func.count(MailMessage.id)).where(
        MailMessage.kind.in_(["reminder_due", "reminder_overdue"]))) == 2 * len(staff)
    assert notes_of(team.facilitator) == []  # reminders are for the units' staff


def test_reminders_skip_submitted_modules_and_closed_programmes(app, team):
    programme = team.unit.programme
    if team.other_unit.programme is not programme:
        team.other_unit.programme.status = ProgrammeStatus.CLOSED
    um = submitted(team)
    assert um.state == ModuleState.SUBMITTED
    due = programme.due_on("udfordring")
    assert programme.due_on("praecisering") > due + timedelta(days=8)
    assert service.send_reminders(due + timedelta(days=1)) == 0  # submitted: no reminder
    programme.status = ProgrammeStatus.CLOSED
    db.session.commit()
    assert service.send_reminders(date(2026, 12, 31)) == 0


def test_notifications_every_kind_has_a_name_in_the_outbox(app, client, login, team):
    """The admin's outbox names each kind of mail in words, a notice's too – never the key."""
    from laks.services.mail import MAIL_KIND_LABELS, mail_kind_label
    from laks.services.notifications import KINDS

    assert set(KINDS) <= set(MAIL_KIND_LABELS)
    assert mail_kind_label("module_submitted") == "Modul indsendt"  # Danish first
    um = module_service.unit_module_for(team.unit, "udfordring")
    module_service.save_answers(um, COMPLETE_UDFORDRING, actor=team.tovholder,
                               base_version=0)
    module_service.submit(um, get_spec("udfordring"), actor=team.tovholder)
    db.session.commit()
    login(team.admin)
    page = client.get("/admin/post").get_data(as_text=True)
    assert "Modul indsendt" in page and "module_submitted" not in page
