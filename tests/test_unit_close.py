"""Closing and reopening a unit: the network admin does it from the unit's admin page (audited,
with CSRF, refused to everyone else); a closed unit's modules, test log and consent are
read-only for its staff – every write endpoint refuses and says why –, nothing in it is
overdue and it gets no reminders, while everyone who saw it still reads it. Reopening gives
the editing back. And the official list of municipalities the units are chosen from."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, format_date
from sqlalchemy import func, select

from laks import queries
from laks.access import can
from laks.enums import ModuleState as S
from laks.enums import ProgrammeStatus
from laks.extensions import db
from laks.models import AuditEvent, CaseConsent, Notification, Unit, UnitModule
from laks.services import network as service
from laks.services import notifications
from laks.services.network import NetworkError
from laks.services.seed import SEED_DIR
from tests.test_workflow import COMPLETE_UDFORDRING, module_in

CLOSED = "Enheden er lukket: dens moduler, testlog og samtykke kan læses"


def admin_page(unit) -> str:
    return f"/admin/enheder/{unit.id}/rediger"


def close_url(unit) -> str:
    return f"/admin/enheder/{unit.id}/luk"


def reopen_url(unit) -> str:
    return f"/admin/enheder/{unit.id}/genaabn"


def module_url(unit, key="udfordring", suffix="") -> str:
    return f"/enheder/{unit.id}/moduler/{key}{suffix}"


def fresh(unit) -> Unit:
    db.session.expire_all()
    return db.session.get(Unit, unit.id)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def stored(unit, key="udfordring") -> UnitModule | None:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == unit.id,
                                                      UnitModule.module_key == key))


def snapshot(unit, key="udfordring"):
    um = stored(unit, key)
    return (um.state, dict(um.answers), um.version, len(um.revisions)) if um else None


def close(team, comment=""):
    service.close_unit(team.unit, actor=team.admin, comment=comment)
    db.session.commit()


# --- the admin closes and reopens ---------------------------------------------------------------


def test_unit_close_and_reopen_over_http_as_admin(client, login, team):
    login(team.admin)
    page = client.get(admin_page(team.unit)).get_data(as_text=True)
    assert "Luk enheden" in page and "Du kan altid genåbne den." in page
    assert "Genåbn enheden" not in page

    response = client.post(close_url(team.unit), data={"comment": "Projektet er stoppet"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(admin_page(team.unit) + "#closing")
    unit = fresh(team.unit)
    assert unit.is_closed
    [event] = events("unit.close")
    assert event.actor_id == team.admin.id and event.object_id == unit.id
    assert event.details["reason"] == "Projektet er stoppet"

    page = client.get(admin_page(team.unit)).get_data(as_text=True)
    with force_locale("da"):
        day = format_date(unit.closed_at, "long")
    assert f"Lukket {day}" in page and "Genåbn enheden" in page
    assert "er lukket. Dens moduler kan læses" in page  # the flash
    audit = client.get("/admin/log").get_data(as_text=True)
    assert "Enhed lukket" in audit and "Projektet er stoppet" in audit

    response = client.post(reopen_url(team.unit))
    assert response.status_code == 302
    assert not fresh(team.unit).is_closed
    [event] = events("unit.reopen")
    assert event.actor_id == team.admin.id and event.object_id == team.unit.id
    page = client.get(admin_page(team.unit)).get_data(as_text=True)
    assert "er åben igen" in page and "Luk enheden" in page and "Lukket " not in page
    assert "Enhed genåbnet" in client.get("/admin/log").get_data(as_text=True)


def test_unit_close_shows_closed_units_marked_on_the_programme_pages(client, login, team):
    close(team)
    open_unit = service.create_unit(actor=team.admin, programme=team.unit.programme,
                                    municipality=team.unit.municipality, name="Aabenhuset")
    db.session.commit()
    login(team.admin)
    with force_locale("da"):
        tag = f"Lukket {format_date(fresh(team.unit).closed_at, 'long')}"
    for url in (f"/programmer/{team.unit.programme_id}",
                f"/admin/programmer/{team.unit.programme_id}/rediger"):
        page = client.get(url).get_data(as_text=True)
        assert page.count(tag) == 1, url
        # The open unit first, the closed one after it, marked.
        assert page.index(open_unit.name) < page.index(team.unit.name) < page.index(tag), url


@pytest.mark.parametrize("who", ["facilitator", "tovholder", "staff", "observer",
                                 "other_facilitator"])
def test_unit_close_refused_to_everyone_but_the_admin(client, login, team, who):
    login(getattr(team, who))
    assert client.post(close_url(team.unit), data={"comment": "Nej"}).status_code == 403
    assert not fresh(team.unit).is_closed
    close(team)
    assert client.post(reopen_url(team.unit)).status_code == 403
    assert fresh(team.unit).is_closed
    assert client.get(admin_page(team.unit)).status_code == 403
    assert [e.actor_id for e in events("unit.close")] == [team.admin.id]
    assert events("unit.reopen") == []


def test_unit_close_anonymous_is_sent_to_log_in(client, team):
    response = client.post(close_url(team.unit))
    assert response.status_code == 302 and "/log-ind" in response.headers["Location"]
    assert not fresh(team.unit).is_closed


def test_unit_close_and_reopen_need_the_csrf_token(client, login, team):
    login(team.admin)
    assert client.post(close_url(team.unit), csrf=False).status_code == 400
    assert not fresh(team.unit).is_closed
    close(team)
    assert client.post(reopen_url(team.unit), csrf=False).status_code == 400
    assert fresh(team.unit).is_closed
    assert len(events("unit.close")) == 1 and events("unit.reopen") == []


def test_unit_close_twice_is_refused_with_a_message(client, login, team):
    login(team.admin)
    assert client.post(close_url(team.unit)).status_code == 302
    closed_at = fresh(team.unit).closed_at
    # A second tab still shows the close button.
    response = client.post(close_url(team.unit), data={"comment": "Igen"})
    assert response.status_code == 409
    assert "Enheden blev allerede lukket" in response.get_data(as_text=True)
    assert fresh(team.unit).closed_at == closed_at
    assert len(events("unit.close")) == 1

    assert client.post(reopen_url(team.unit)).status_code == 302
    response = client.post(reopen_url(team.unit))
    assert response.status_code == 409
    assert "Enheden er allerede åben: der er intet at genåbne." in \
        response.get_data(as_text=True)
    assert len(events("unit.reopen")) == 1


def test_unit_close_service_refusals_name_the_field(team):
    service.close_unit(team.unit, actor=team.admin)
    with pytest.raises(NetworkError) as exc:
        service.close_unit(team.unit, actor=team.admin)
    assert list(exc.value.errors) == ["unit"]
    with force_locale("da"):
        assert "Enheden blev allerede lukket" in str(exc.value)
    service.reopen_unit(team.unit, actor=team.admin)
    with pytest.raises(NetworkError) as exc:
        service.reopen_unit(team.unit, actor=team.admin)
    assert list(exc.value.errors) == ["unit"]
    with pytest.raises(NetworkError) as exc:
        service.close_unit(team.unit, actor=team.admin, comment="x" * 501)
    assert list(exc.value.errors) == ["comment"]
    assert not team.unit.is_closed


def test_unit_close_comment_with_a_cpr_number_is_refused_and_kept(client, login, team):
    login(team.admin)
    response = client.post(close_url(team.unit), data={"comment": "Borger 0101901234 flyttede"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "CPR" in page and "Borger 0101901234 flyttede" in page
    assert not fresh(team.unit).is_closed and events("unit.close") == []


# --- what closed means --------------------------------------------------------------------------


def test_unit_close_access_table(team):
    draft = module_in(team, S.DRAFT)
    db.session.commit()
    close(team)
    for action in ("module.edit", "module.save", "module.submit", "module.withdraw"):
        assert not can(team.tovholder, action, draft), action
        assert not can(team.staff, action, draft), action
    assert not can(team.tovholder, "catalogue.consent", team.unit)
    # Everyone who saw the unit still reads it.
    for who in (team.tovholder, team.staff, team.facilitator, team.observer, team.admin):
        assert can(who, "unit.view", team.unit) and can(who, "module.view", draft)
    # The other unit is not touched.
    other = module_in(team, S.DRAFT, other_unit=True)
    assert can(team.other_staff, "module.edit", other)


def test_unit_close_staff_cannot_save_autosave_or_submit(client, login, team):
    module_in(team, S.DRAFT)
    db.session.commit()
    close(team)
    before = snapshot(team.unit)
    login(team.tovholder)
    version = str(before[2])
    for suffix, data in (
            ("", {"version": version, "intent": "save", "challenge_title": "Ny titel"}),
            ("", {"version": version, "intent": "submit", **COMPLETE_UDFORDRING}),
            ("/autosave", {"version": version, "challenge_title": "Kladde"})):
        response = client.post(module_url(team.unit, suffix=suffix), data=data)
        assert response.status_code == 403, suffix
        assert CLOSED in response.get_data(as_text=True), suffix
    assert snapshot(team.unit) == before
    assert events("module.submit") == []
    # The module page is there to read, without the form, saying why.
    page = client.get(module_url(team.unit)).get_data(as_text=True)
    assert COMPLETE_UDFORDRING["challenge_title"] in page
    assert 'name="version"' not in page
    assert "Enheden er lukket (" in page
    # And the unit's page offers no "continue with".
    assert "Fortsæt med" not in client.get(f"/enheder/{team.unit.id}").get_data(as_text=True)


def test_unit_close_staff_cannot_withdraw_a_submission(client, login, team):
    module_in(team, S.SUBMITTED)
    db.session.commit()
    close(team)
    before = snapshot(team.unit)
    login(team.tovholder)
    response = client.post(module_url(team.unit, suffix="/traek-tilbage"))
    assert response.status_code == 403 and CLOSED in response.get_data(as_text=True)
    assert snapshot(team.unit) == before


def test_unit_close_test_log_and_consent_cannot_change(client, login, team):
    close(team)
    login(team.tovholder)
    base = f"/enheder/{team.unit.id}/afproevning"
    response = client.post(f"{base}/maalinger", data={
        "name": "Fremmødte", "kind": "count", "better": "up", "goal": "", "baseline": "",
        "version": "0"})
    assert response.status_code == 403 and CLOSED in response.get_data(as_text=True)
    response = client.post(f"{base}/cyklusser/ny", data={
        "version": "0", "date": "2026-03-02", "change": "Ring i stedet for brev"})
    assert response.status_code == 403 and CLOSED in response.get_data(as_text=True)
    assert stored(team.unit, "afproevning") is None
    response = client.get(f"{base}/cyklusser/ny")
    assert response.status_code == 403 and CLOSED in response.get_data(as_text=True)
    response = client.post(f"/enheder/{team.unit.id}/katalog/samtykke")
    assert response.status_code == 403 and CLOSED in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CaseConsent.id))) == 0


@pytest.mark.parametrize("who", ["facilitator", "observer", "admin", "tovholder"])
def test_unit_close_everyone_who_saw_it_still_reads_it(client, login, team, who):
    module_in(team, S.SUBMITTED)
    db.session.commit()
    close(team)
    login(getattr(team, who))
    for url in (f"/enheder/{team.unit.id}", module_url(team.unit),
                module_url(team.unit, suffix="/revisioner"),
                f"/enheder/{team.unit.id}/afproevning/maalinger",
                f"/enheder/{team.unit.id}/katalog"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Enheden er lukket (" in response.get_data(as_text=True), url
    page = client.get(module_url(team.unit)).get_data(as_text=True)
    assert COMPLETE_UDFORDRING["challenge_title"] in page


def test_unit_close_nothing_is_overdue(team):
    # The factory programme's due dates are 1 Feb … 1 Oct 2026: all passed by then.
    module_in(team, S.DRAFT)
    db.session.commit()
    later = date(2026, 12, 1)
    assert [s.overdue for s in queries.module_steps(team.unit, today=later)] == [True] * 5
    close(team)
    assert not any(s.overdue for s in queries.module_steps(team.unit, today=later))
    assert not any(s.overdue for steps in queries.progress([team.unit]).values()
                   for s in steps)
    service.reopen_unit(team.unit, actor=team.admin)
    assert all(s.overdue for s in queries.module_steps(team.unit, today=later))


def test_unit_close_no_reminder_for_a_closed_unit(app, team):
    programme = team.unit.programme
    programme.status = ProgrammeStatus.RUNNING
    team.other_unit.programme.status = ProgrammeStatus.RUNNING
    close(team)
    due = programme.due_on("udfordring")
    told = notifications.send_reminders(due + timedelta(days=1))
    db.session.commit()
    assert told == len(notifications.staff_of(team.other_unit)) == 1

    def reminders_to(user):
        return db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.kind.like("reminder_%")))

    assert reminders_to(team.tovholder) == reminders_to(team.staff) == 0
    assert reminders_to(team.other_staff) == 1
    # Reopened, the unit is reminded again.
    service.reopen_unit(team.unit, actor=team.admin)
    db.session.commit()
    assert notifications.send_reminders(due + timedelta(days=2)) == 2
    db.session.commit()
    assert reminders_to(team.tovholder) == reminders_to(team.staff) == 1


def test_unit_close_reopen_gives_editing_back(client, login, team):
    module_in(team, S.DRAFT)
    db.session.commit()
    close(team)
    login(team.tovholder)
    version = str(stored(team.unit).version)
    data = {"version": version, "intent": "save", "challenge_title": "Efter genåbning"}
    assert client.post(module_url(team.unit), data=data).status_code == 403
    service.reopen_unit(team.unit, actor=team.admin)
    db.session.commit()
    page = client.get(module_url(team.unit)).get_data(as_text=True)
    assert 'name="version"' in page and "Enheden er lukket" not in page
    assert client.post(module_url(team.unit), data=data).status_code == 302
    assert stored(team.unit).answers["challenge_title"] == "Efter genåbning"
    assert "Fortsæt med" in client.get(f"/enheder/{team.unit.id}").get_data(as_text=True)


# --- the municipalities -------------------------------------------------------------------------


def test_unit_close_municipalities_are_the_98_with_their_official_codes():
    with (SEED_DIR / "municipalities.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    codes = [row["code"] for row in rows]
    names = [row["name"] for row in rows]
    assert len(rows) == 98
    assert all(len(code) == 4 and code.isdigit() for code in codes)
    assert len(set(codes)) == 98 and len(set(names)) == 98
    by_name = dict(zip(names, codes, strict=True))
    assert by_name["Halsnæs"] == "0260" and by_name["Frederikssund"] == "0250"
    assert by_name["København"] == "0101" and by_name["Aarhus"] == "0751"
