"""The access log: a unit's data seen from outside the unit, every refused request and every
change is an audit event with the time, the person, the address and the browser; the admin's
log filters by person, unit, action and period and exports CSV; old events are pruned, and
the pruning is logged."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from laks import config
from laks.enums import Role
from laks.extensions import db
from laks.models import AuditEvent, Unit
from laks.services import catalogue, network, progress
from laks.services import modules as module_service
from laks.views import guard
from tests.catalogue_support import fill_case
from tests.conftest import PASSWORD
from tests.http_support import CSRF, Http, gunicorn

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
ADDRESS = "192.0.2.44"
COUNT = re.compile(r"(\d+) hændelser?\b")


def get(client, url: str, address: str = ADDRESS, agent: str = FIREFOX):
    return client.get(url, environ_base={"REMOTE_ADDR": address},
                      headers={"User-Agent": agent})


def events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def unit_pages(unit: Unit) -> dict[str, str]:
    base = f"/enheder/{unit.id}"
    return {
        "unit": base,
        "module": f"{base}/moduler/handleplan",
        "revisions": f"{base}/moduler/udfordring/revisioner",
        "test-log": f"{base}/afproevning/maalinger",
        "test-log-export": f"{base}/afproevning/maalinger.csv",
        "cycles-export": f"{base}/afproevning/cyklusser.csv",
        "catalogue-consent": f"{base}/katalog",
    }


# --- views of a unit's data ---------------------------------------------------------------


def test_access_log_facilitator_views_of_unit_and_module_pages_are_logged(client, login, team):
    login(team.facilitator)
    assert events("unit.view") == []
    assert get(client, f"/enheder/{team.unit.id}").status_code == 200
    assert get(client, f"/enheder/{team.unit.id}/moduler/handleplan",
               address="198.51.100.7", agent=SAFARI).status_code == 200
    unit_view, module_view = events("unit.view")
    for logged in (unit_view, module_view):
        assert logged.actor_id == team.facilitator.id
        assert logged.unit_id == team.unit.id
        assert logged.at > datetime.now(UTC) - timedelta(minutes=1)
    assert (unit_view.ip_address, unit_view.user_agent) == (ADDRESS, FIREFOX)
    assert unit_view.details == {"path": f"/enheder/{team.unit.id}"}
    assert (module_view.ip_address, module_view.user_agent) == ("198.51.100.7", SAFARI)
    assert module_view.details == {"path": f"/enheder/{team.unit.id}/moduler/handleplan",
                                   "module": "handleplan"}


@pytest.mark.parametrize("page", ["unit", "module", "revisions", "test-log",
                                  "test-log-export", "cycles-export", "catalogue-consent"])
@pytest.mark.parametrize("who", ["facilitator", "observer", "admin"])
def test_access_log_every_page_of_a_unit_seen_from_outside_is_one_event(client, login, team,
                                                                        who, page):
    login(getattr(team, who))
    url = unit_pages(team.unit)[page]
    if (who, page) == ("observer", "test-log-export"):
        # The raw measurements are for those who work with the unit (testlog.data): the
        # observer is refused, and the refusal is what is logged.
        assert get(client, url).status_code == 403
        [refused] = events("access.refused")
        assert (refused.actor_id, refused.unit_id) == (team.observer.id, team.unit.id)
        assert events("unit.view") == []
        return
    assert get(client, url).status_code == 200
    [logged] = events("unit.view")
    assert (logged.actor_id, logged.unit_id) == (getattr(team, who).id, team.unit.id)
    assert logged.details["path"] == url
    assert (logged.ip_address, logged.user_agent) == (ADDRESS, FIREFOX)
    # Each view is an event of its own: read again, logged again.
    assert get(client, url).status_code == 200
    assert len(events("unit.view")) == 2


def test_access_log_the_units_own_staff_are_not_logged(client, login, team):
    login(team.tovholder)
    for url in unit_pages(team.unit).values():
        assert get(client, url).status_code == 200, url
    # Nor are pages that are not a unit's data, static files, or a save's JSON answer.
    assert get(client, "/hjem").status_code == 200
    static = get(client, "/static/css/laks.css")
    static.close()
    assert static.status_code == 200
    autosave = client.post(f"/enheder/{team.unit.id}/moduler/handleplan/autosave",
                           data={"version": "0", "trial_action": "Flere"})
    assert autosave.is_json
    assert events("unit.view") == [] and events("access.refused") == []


def test_access_log_the_admins_own_pages_are_not_views_of_a_unit(client, login, team):
    login(team.admin)
    for url in ("/hjem", "/admin/log", "/admin/brugere", "/static/css/laks.css"):
        response = get(client, url)
        response.close()
        assert response.status_code == 200, url
    assert events("unit.view") == []
    # The unit's own admin page is the unit's data.
    assert get(client, f"/admin/enheder/{team.unit.id}/rediger").status_code == 200
    [logged] = events("unit.view")
    assert logged.unit_id == team.unit.id


def test_access_log_names_the_view_in_danish_with_address_and_browser(client, login, team):
    login(team.observer)
    get(client, f"/enheder/{team.unit.id}/moduler/handleplan", agent=SAFARI)
    client.post("/log-ud")
    login(team.admin)
    page = client.get("/admin/log?handling=unit.view").get_data(as_text=True)
    assert "<td>Enhedens data set</td>" in page
    assert f"<td>{team.unit.title}: Handleplan</td>" in page
    assert f"side: /enheder/{team.unit.id}/moduler/handleplan" in page
    assert ADDRESS in page and "Safari 17, iOS" in page


def test_access_log_behind_a_proxy_keeps_the_forwarded_address(make_app, team):
    from tests.conftest import current_code

    client = make_app(LAKS_PROXY_COUNT=1).test_client()
    client.post("/log-ind", data={"email": team.facilitator.email, "password": PASSWORD})
    client.post("/log-ind/kode", data={"code": current_code(team.facilitator)})
    assert client.get(f"/enheder/{team.unit.id}", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                      headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 200
    [logged] = events("unit.view")
    assert logged.ip_address == "192.0.2.99"


# --- refused requests ----------------------------------------------------------------------


def test_access_log_a_refusal_of_a_signed_in_person_is_logged(client, login, team):
    login(team.other_staff)
    response = get(client, f"/enheder/{team.unit.id}/moduler/handleplan")
    assert response.status_code == 403
    [refused] = events("access.refused")
    assert refused.actor_id == team.other_staff.id and refused.unit_id == team.unit.id
    assert (refused.ip_address, refused.user_agent) == (ADDRESS, FIREFOX)
    assert refused.details == {"path": f"/enheder/{team.unit.id}/moduler/handleplan",
                               "module": "handleplan", "method": "GET",
                               "rule": "module.view", "refusal": "forbidden"}
    assert events("unit.view") == []  # a refusal is no view
    # A refused change, too: an observer's review of a module.
    client.post("/log-ud")
    login(team.observer)
    assert client.post(f"/enheder/{team.unit.id}/moduler/handleplan/vurdering",
                       data={"decision": "approve"}).status_code == 403
    assert [(e.actor_id, e.details["method"], e.details["rule"])
            for e in events("access.refused")][1:] == [
        (team.observer.id, "POST", "module.review")]


def test_access_log_anonymous_refusals_are_logged(app, client, team):
    # An undeclared page is refused to everyone (403), here to a visitor not logged in.
    app.add_url_rule("/uafklaret", "undeclared", lambda: "hemmelig")
    assert get(client, "/uafklaret").status_code == 403
    # A unit's page sends a visitor who is not logged in to the login.
    response = get(client, f"/enheder/{team.unit.id}", address="203.0.113.9")
    assert response.status_code == 302 and "/log-ind" in response.location
    # A form without its CSRF token is refused too (400).
    assert client.post("/log-ind", data={"email": "x@example.org", "password": "y"},
                       csrf=False, environ_base={"REMOTE_ADDR": ADDRESS}).status_code == 400
    undeclared, login_first, csrf_refused = events("access.refused")
    assert all(e.actor_id is None for e in (undeclared, login_first, csrf_refused))
    assert undeclared.details == {"path": "/uafklaret", "method": "GET", "rule": None,
                                  "refusal": "forbidden"}
    assert undeclared.unit_id is None and undeclared.ip_address == ADDRESS
    assert login_first.details["refusal"] == "login" and login_first.details["rule"] == (
        "unit.view")
    assert (login_first.unit_id, login_first.ip_address) == (team.unit.id, "203.0.113.9")
    assert csrf_refused.details["refusal"] == "csrf"
    assert csrf_refused.details["method"] == "POST"


def test_access_log_refusals_read_in_danish(client, login, team, make_user):
    login(team.other_staff)
    client.get(f"/enheder/{team.unit.id}")
    client.post("/log-ud")
    client.get(f"/enheder/{team.unit.id}")
    login(make_user(Role.ADMIN))
    page = client.get("/admin/log?handling=access.refused").get_data(as_text=True)
    assert "<td>Adgang afvist</td>" in page and f"<td>{team.unit.title}</td>" in page
    assert "afvist fordi: ingen adgang" in page and "afvist fordi: ikke logget ind" in page
    assert "adgangsregel: unit.view" in page and "ikke logget ind" in page


def test_access_log_never_commits_what_a_view_left_undone(app, client, login, team):
    """Whatever a request left uncommitted is rolled back before its event is committed:
    the event is stored, the half-done change is not."""

    def load(unit_id):
        return db.get_or_404(Unit, unit_id)

    def half_done(unit):
        unit.name = "Ændret uden commit"
        db.session.flush()
        return "vist"

    def refused_half_done(unit):
        unit.name = "Også ændret uden commit"
        db.session.flush()
        from werkzeug.exceptions import Forbidden

        raise Forbidden()

    app.add_url_rule("/test/<int:unit_id>", "half_done",
                     guard("unit.view", load=load)(half_done))
    app.add_url_rule("/test/<int:unit_id>/afvist", "refused_half_done",
                     guard("unit.view", load=load)(refused_half_done))
    login(team.facilitator)
    assert get(client, f"/test/{team.unit.id}").status_code == 200
    assert get(client, f"/test/{team.unit.id}/afvist").status_code == 403
    assert [e.action for e in events() if e.unit_id == team.unit.id] == [
        "unit.view", "access.refused"]
    db.session.expire_all()
    assert db.session.get(Unit, team.unit.id).name == "Sundhedscenteret"


def test_access_log_a_view_that_cannot_be_logged_is_not_shown(app, client, login, team):
    """Fault injected at the database: the INSERT of the event fails as if the database
    were gone. The page is then not shown (503); a refusal stays a refusal."""
    login(team.facilitator)

    def fail(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            raise OperationalError(statement, {}, Exception("the database went away"))

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        page = get(client, f"/enheder/{team.unit.id}")
        refused = get(client, f"/enheder/{team.other_unit.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)
    assert page.status_code == 503 and "Sundhedscenteret" not in page.get_data(as_text=True)
    assert refused.status_code == 403
    assert events("unit.view") == [] and events("access.refused") == []


# --- changes carry their unit ----------------------------------------------------------------


def test_access_log_every_change_of_a_unit_names_the_unit(client, login, team):
    um = module_service.unit_module_for(team.unit, "handleplan")
    module_service.save_answers(um, {"trial_action": "Flere"}, actor=team.tovholder,
                                base_version=0)
    module_service.add_comment(um, "En kommentar", actor=team.facilitator)
    progress.set_score(team.unit, 6, "Godt i gang", actor=team.facilitator)
    network.update_unit(team.unit, actor=team.admin, name="Sundhedscentret",
                        municipality=team.unit.municipality, places=["Sundhedscentret"])
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    catalogue.give_consent(team.unit, team.tovholder)
    network.close_unit(team.unit, actor=team.admin, comment="Stoppet")
    db.session.commit()
    changes = [e for e in events() if e.object_type in ("unit", "unit_module")]
    assert {e.action for e in changes} >= {
        "module.save", "module.comment", "module.submit", "module.approve", "progress.set",
        "unit.update", "catalogue.consent", "unit.close"}
    assert {e.unit_id for e in changes} == {team.unit.id}


# --- the log page: filters, pages, CSV --------------------------------------------------------


@pytest.fixture
def logged(client, login, team, make_user):
    """A log with views and refusals by three people on two units, some of them a year old;
    returns the admin's client (logged in) and who is who."""
    login(team.facilitator)
    get(client, f"/enheder/{team.unit.id}")
    get(client, f"/enheder/{team.unit.id}/moduler/handleplan")
    client.post("/log-ud")
    login(team.observer)
    get(client, f"/enheder/{team.unit.id}")
    get(client, f"/enheder/{team.other_unit.id}")
    client.post("/log-ud")
    login(team.other_staff)
    get(client, f"/enheder/{team.unit.id}")  # refused
    client.post("/log-ud")
    # The facilitator's two views a year ago (1 March 2025, noon in Copenhagen).
    db.session.execute(update(AuditEvent).where(
        AuditEvent.action == "unit.view", AuditEvent.actor_id == team.facilitator.id)
        .values(at=datetime(2025, 3, 1, 11, 0, tzinfo=UTC)))
    db.session.commit()
    admin = make_user(Role.ADMIN, name="Louise Netværk")
    login(admin)
    return client


def shown(client, query: str) -> tuple[int, str]:
    response = client.get(f"/admin/log?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return int(COUNT.search(page).group(1)), page


def test_access_log_filters_by_person_unit_action_and_period(logged, login, team):
    client = logged
    assert shown(client, f"person={team.facilitator.id}&handling=unit.view")[0] == 2
    assert shown(client, f"person={team.observer.id}&handling=unit.view")[0] == 2
    assert shown(client, f"enhed={team.other_unit.id}")[0] == 1
    assert shown(client, f"enhed={team.unit.id}&handling=unit.view")[0] == 3
    assert shown(client, f"enhed={team.unit.id}&handling=access.refused")[0] == 1
    # The period: the days given are included, in Copenhagen's time.
    assert shown(client, "handling=unit.view&fra=2025-03-01&til=2025-03-01")[0] == 2
    assert shown(client, "handling=unit.view&til=2025-02-28")[0] == 0
    assert shown(client, "handling=unit.view&fra=2025-03-02")[0] == 2
    # 23.30 UTC on 1 March is half past midnight on 2 March in Copenhagen.
    latest = max(e.id for e in events("unit.view"))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == latest)
                       .values(at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC)))
    db.session.commit()
    assert shown(client, "handling=unit.view&fra=2025-03-01&til=2025-03-01")[0] == 2
    assert shown(client, "handling=unit.view&fra=2025-03-02&til=2025-03-02")[0] == 1
    # All four together.
    count, page = shown(client, f"person={team.facilitator.id}&enhed={team.unit.id}"
                                f"&handling=unit.view&fra=2025-01-01&til=2025-12-31")
    assert count == 2 and "Frida Facilitator" in page
    assert f'<option value="{team.facilitator.id}" selected>' in page
    assert '<option value="unit.view" selected>' in page
    assert 'value="2025-01-01"' in page and 'value="2025-12-31"' in page
    assert shown(client, f"person={team.observer.id}&enhed={team.unit.id}"
                         "&handling=unit.view&fra=2025-01-01&til=2025-12-31")[0] == 0
    # Events of no one: a visitor not logged in.
    client.post("/log-ud")
    client.get(f"/enheder/{team.unit.id}")
    login(team.admin)
    count, page = shown(client, "person=ingen&handling=access.refused")
    assert count == 1 and "ikke logget ind" in page


def test_access_log_bad_filter_values_are_left_out_with_a_note(logged, team):
    client = logged
    everything = shown(client, "")[0]
    count, page = shown(client, "person=abc&enhed=99999999999999&handling=nope"
                                "&fra=2025-13-01&til=i+morgen")
    assert count == everything
    for note in ("Den valgte person kendes ikke", "Den valgte enhed kendes ikke",
                 "Den valgte handling kendes ikke", "Periodens start er ikke en dato",
                 "Periodens slutning er ikke en dato"):
        assert note in page
    count, page = shown(client, "handling=unit.view&fra=2025-03-02&til=2025-03-01")
    assert "Perioden slutter, før den begynder" in page and count == 2
    count, page = shown(client, f"person=999999&enhed={team.unit.id}")
    assert "Den valgte person kendes ikke" in page and "enhed kendes ikke" not in page


def test_access_log_a_page_past_the_end_is_the_last_page(client, login, team, monkeypatch):
    from laks import audit_log

    monkeypatch.setattr(audit_log, "PAGE_SIZE", 3)
    login(team.observer)
    for _ in range(4):
        get(client, f"/enheder/{team.unit.id}")
    client.post("/log-ud")
    login(team.admin)
    query = f"handling=unit.view&enhed={team.unit.id}"
    first = client.get(f"/admin/log?{query}").get_data(as_text=True)
    assert "Side 1 af 2" in first
    assert f'href="/admin/log?side=2&amp;enhed={team.unit.id}&amp;handling=unit.view"' in (
        first)
    for side in ("2", "99", "99999999999999999"):
        page = client.get(f"/admin/log?{query}&side={side}").get_data(as_text=True)
        expected = "Side 2 af 2" if side != "99999999999999999" else "Side 1 af 2"
        assert expected in page


def test_access_log_exports_the_filtered_events_as_csv(client, login, team, make_user):
    formula = make_user(Role.OBSERVER, name="=HYPERLINK(\"http://x\")")
    login(formula)
    get(client, f"/enheder/{team.unit.id}/moduler/handleplan", agent="=1+2 @SUM(A1)")
    get(client, f"/enheder/{team.other_unit.id}")
    client.post("/log-ud")
    login(team.admin)
    response = client.get(f"/admin/log.csv?person={formula.id}&enhed={team.unit.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Tidspunkt", "Person", "E-mail", "Handling", "Objekt", "Enhed",
                        "Detaljer", "IP-adresse", "Browser"]
    [row] = table[1:]
    assert row[1] == "'=HYPERLINK(\"http://x\")"  # defused: a spreadsheet shows the text
    assert row[3] == "Enhedens data set"
    assert row[4] == f"{team.unit.title}: Handleplan" and row[5] == team.unit.title
    assert row[7] == ADDRESS and row[8] == "'=1+2 @SUM(A1)"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0])
    # The page links to the CSV of what it shows.
    page = client.get(f"/admin/log?person={formula.id}").get_data(as_text=True)
    assert f'href="/admin/log.csv?person={formula.id}"' in page
    # The whole log, in batches, newest first.
    from laks import audit_log

    everything = client.get("/admin/log.csv").get_data().decode("utf-8-sig").splitlines()
    assert len(everything) - 1 == len(events())
    assert list(audit_log.export_rows(audit_log.AuditFilter(), batch=2))[0][0].event.id == (
        max(e.id for e in events()))
    assert sum(len(rows) for rows in audit_log.export_rows(audit_log.AuditFilter(),
                                                           batch=2)) == len(events())


def test_access_log_only_the_network_admin_reads_or_exports_the_log(client, login, team):
    for who in ("facilitator", "observer", "tovholder"):
        login(getattr(team, who))
        assert client.get("/admin/log").status_code == 403
        assert client.get("/admin/log.csv").status_code == 403
        client.post("/log-ud")
    assert len(events("access.refused")) == 6


def _statements(client, url: str) -> int:
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_access_log_page_costs_the_same_whatever_it_shows(client, login, team, make_user):
    login(team.observer)
    get(client, f"/enheder/{team.unit.id}")
    client.post("/log-ud")
    admin = make_user(Role.ADMIN)
    login(admin)
    urls = ["/admin/log", f"/admin/log?enhed={team.unit.id}",
            f"/admin/log?person={team.observer.id}&handling=unit.view&fra=2020-01-01"]
    few = [_statements(client, url) for url in urls]
    client.post("/log-ud")
    people = [team.observer, team.facilitator, team.other_facilitator, make_user(Role.OBSERVER)]
    for n in range(12):
        login(people[n % 4])
        unit = team.unit if n % 2 == 0 else team.other_unit
        get(client, f"/enheder/{unit.id}", address=f"192.0.2.{n}")
        get(client, f"/enheder/{unit.id}/moduler/handleplan")
        get(client, f"/enheder/{team.unit.id if unit is team.other_unit else team.other_unit.id}"
                    "/katalog")
        client.post("/log-ud")
    module_service.add_comment(module_service.unit_module_for(team.unit, "udfordring"),
                               "En kommentar", actor=team.tovholder)
    db.session.commit()
    login(admin)
    assert shown(client, f"person={team.observer.id}&handling=unit.view&fra=2020-01-01")[0] > 3
    assert [_statements(client, url) for url in urls] == few


# --- retention ----------------------------------------------------------------------------------


def test_access_log_retention_is_five_years_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("LAKS_AUDIT_RETENTION_DAYS", raising=False)
    assert config.from_environment(str(tmp_path))["LAKS_AUDIT_RETENTION_DAYS"] == 1826
    monkeypatch.setenv("LAKS_AUDIT_RETENTION_DAYS", "400")
    assert config.from_environment(str(tmp_path))["LAKS_AUDIT_RETENTION_DAYS"] == 400


def _aged(days_old: dict[str, int]) -> None:
    """Events named by their action, each ``days`` old."""
    from laks.audit import record

    for action, days in days_old.items():
        entry = record(None, action, None)
        entry.at = datetime.now(UTC) - timedelta(days=days)
    db.session.commit()


def test_access_log_prune_deletes_only_older_events_and_logs_itself(app, runner):
    app.config["LAKS_AUDIT_RETENTION_DAYS"] = 30
    _aged({"auth.login": 400, "unit.view": 31, "auth.logout": 29, "module.save": 1})
    dry = runner.invoke(args=["audit", "prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete 2 audit events" in dry.output and "nothing deleted" in dry.output
    assert len(events()) == 4 and events("audit.prune") == []

    result = runner.invoke(args=["audit", "prune"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 audit events older than" in result.output
    assert "(kept for 30 days)" in result.output
    assert [e.action for e in events()] == ["auth.logout", "module.save", "audit.prune"]
    [pruned] = events("audit.prune")
    assert pruned.actor_id is None and pruned.details["deleted"] == 2
    cutoff = datetime.fromisoformat(pruned.details["cutoff"])
    assert abs(cutoff - (datetime.now(UTC) - timedelta(days=30))) < timedelta(minutes=1)
    assert pruned.details["retention_days"] == 30

    # The next run keeps the record of the last one, and logs that it found nothing.
    again = runner.invoke(args=["audit", "prune"])
    assert "Deleted 0 audit events" in again.output
    assert [e.details["deleted"] for e in events("audit.prune")] == [2, 0]


def test_access_log_prune_reads_in_danish(app, runner, client, login, make_user):
    app.config["LAKS_AUDIT_RETENTION_DAYS"] = 30
    _aged({"auth.login": 400})
    assert runner.invoke(args=["audit", "prune"]).exit_code == 0
    login(make_user(Role.ADMIN))
    page = client.get("/admin/log?handling=audit.prune").get_data(as_text=True)
    assert "<td>Gamle loghændelser slettet</td>" in page
    assert "slettet: 1" in page and "opbevares (dage): 30" in page and "ældre end: " in page


def test_access_log_prune_refuses_a_period_of_no_days(app, runner):
    app.config["LAKS_AUDIT_RETENTION_DAYS"] = 0
    _aged({"auth.login": 400})
    result = runner.invoke(args=["audit", "prune"])
    assert result.exit_code != 0 and "at least one day" in result.output
    assert len(events()) == 1


def test_access_log_short_browser_names():
    from laks.audit_log import short_browser

    assert short_browser(FIREFOX) == "Firefox 128, Windows"
    assert short_browser(SAFARI) == "Safari 17, iOS"
    assert short_browser(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87") == "Edge 126, macOS"
    assert short_browser("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36") == (
        "Chrome 126, Android")
    assert short_browser("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36") == (
        "Chrome 131, Linux")
    assert short_browser("curl/8.5.0") == "curl/8.5.0"
    assert short_browser("x" * 100) == "x" * 39 + "…"
    assert short_browser(None) == "" and short_browser("") == ""


# --- over HTTP, under gunicorn ---------------------------------------------------------------


@pytest.fixture
def browser(database_url, app):
    """laks under gunicorn, and a client that says it is Firefox."""
    with gunicorn({"LAKS_DATABASE_URL": database_url, "LAKS_SECRET_KEY": app.secret_key},
                  workers=2) as (port, _server):
        yield Http(port, headers={"User-Agent": FIREFOX})


def test_access_log_over_http_under_gunicorn(browser, team):
    _status, _headers, page = browser("GET", "/log-ind")
    token = CSRF.search(page).group(1)
    status, _headers, _page = browser("POST", "/log-ind", {
        "email": team.observer.email, "password": PASSWORD, "csrf_token": token})
    assert status == 302
    assert browser("GET", f"/enheder/{team.unit.id}")[0] == 200
    assert browser("GET", f"/enheder/{team.unit.id}/moduler/handleplan")[0] == 200
    assert browser("GET", "/admin/log")[0] == 403
    views = events("unit.view")
    assert [(e.actor_id, e.unit_id, e.ip_address, e.user_agent) for e in views] == [
        (team.observer.id, team.unit.id, "127.0.0.1", FIREFOX)] * 2
    [refused] = events("access.refused")
    assert refused.details["path"] == "/admin/log" and refused.actor_id == team.observer.id


def test_access_log_keeps_no_cpr_number_from_a_browser_header(client, login, team):
    """A CPR number put in the User-Agent header is not stored with the event."""
    login(team.facilitator)
    client.get(f"/enheder/{team.unit.id}", headers={
        "User-Agent": "Mozilla/5.0 010203-1234 Firefox/128.0"})
    [logged] = events("unit.view")
    assert "1234" not in logged.user_agent and "Firefox/128.0" in logged.user_agent
