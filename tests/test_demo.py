"""The demo: several units with their modules filled from the source documents, every
workflow state shown, everything written through the real services."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from laks.definitions.answers import missing_required
from laks.enums import ModuleState as S
from laks.enums import Role
from laks.extensions import db
from laks.models import ModuleRevision, Programme, StateChange, Unit, UnitModule, User
from laks.privacy import any_cpr
from laks.services import testlog
from laks.services.definitions import get_spec
from laks.services.seed import load_seed


def test_demo_fills_modules_in_every_state(app):
    load_seed(demo=True)
    db.session.commit()
    modules = list(db.session.scalars(select(UnitModule)))
    states = Counter(um.state for um in modules)
    assert set(states) >= {S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED}
    per_unit = Counter(um.unit_id for um in modules)
    assert sum(1 for n in per_unit.values() if n == 5) >= 3  # all five modules, several units
    # Not started: units without saved work on a module.
    assert db.session.scalar(select(func.count(Unit.id))) * 5 > len(modules)


def test_demo_second_programme_holds_the_seed_cases(app):
    load_seed(demo=True)
    db.session.commit()
    programme = db.session.scalar(select(Programme).where(Programme.slug != "laks"))
    municipalities = {u.municipality.name for u in programme.units}
    assert {"Aarhus", "Norddjurs", "Hedensted"} <= municipalities
    assert len(programme.units) == 4
    filled = {um.unit_id for um in db.session.scalars(select(UnitModule))}
    assert all(u.id in filled for u in programme.units)
    laks_units_filled = [u for u in db.session.scalar(
        select(Programme).where(Programme.slug == "laks")).units if u.id in filled]
    assert len(laks_units_filled) >= 4


def test_demo_content_is_complete_and_clean(app):
    load_seed(demo=True)
    db.session.commit()
    for um in db.session.scalars(select(UnitModule)):
        assert not any_cpr(um.answers.values())
        spec = get_spec(um.module_key)
        # Module 4 also holds its test log's measures, points and reach (not questions).
        log_keys = set(testlog.ANSWER_KEYS) if um.module_key == testlog.MODULE_KEY else set()
        assert set(um.answers) <= set(spec.questions_by_key) | log_keys
        if um.state != S.DRAFT:
            assert missing_required(spec, um.answers) == [], (um.unit.name, um.module_key)
    # Written through the services: every module has revisions and a timeline.
    assert db.session.scalar(select(func.count(ModuleRevision.id))) >= 30
    reviews = db.session.scalars(select(StateChange).where(
        StateChange.action.in_(["approve", "request_changes"])))
    assert all(change.comment for change in reviews)


def test_demo_laks_units_show_nothing_overdue(app, client, login):
    """LAKS ran in 2015–16 and is closed: none of its 17 units has a module marked overdue,
    on the unit page or on a module page."""
    report = load_seed(demo=True)
    db.session.commit()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    login(admin, password=report.demo_password)
    laks = db.session.scalar(select(Programme).where(Programme.slug == "laks"))
    assert len(laks.units) == 17
    for unit in laks.units:
        page = client.get(f"/enheder/{unit.id}").get_data(as_text=True)
        assert "Forløbet er afsluttet" in page, unit.name
        assert "Fristen er overskredet" not in page, unit.name
        module = client.get(f"/enheder/{unit.id}/moduler/refleksion").get_data(as_text=True)
        assert "Fristen er overskredet" not in module, unit.name


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10}


def test_demo_readme_tells_the_truth_about_the_demo(app):
    """The README's demo numbers are what `seed --demo` makes: units filled per programme,
    the units the two facilitators share, and the staff logins it names."""
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md")
                      .read_text(encoding="utf-8").split())
    said = re.search(r"fills modules for (\w+) units through the same services – (\w+) LAKS "
                     r"units and the (\w+) units of a second programme", readme)
    shared = re.search(r"facilitators, sharing the (\d+) units of both programmes "
                       r"\((\d+) and (\d+)\)", readme)
    assert said and shared, "the README no longer says how many units the demo fills"
    report = load_seed(demo=True)
    db.session.commit()
    filled = {um.unit for um in db.session.scalars(select(UnitModule))}
    by_programme = Counter(unit.programme.slug for unit in filled)
    assert [_NUMBERS[word] for word in said.groups()] == [
        len(filled), by_programme["laks"], by_programme["lighed-i-praksis"]]
    facilitators = db.session.scalars(select(User).where(User.role == Role.FACILITATOR))
    shares = sorted((len(f.memberships) for f in facilitators), reverse=True)
    assert [int(n) for n in shared.groups()] == [
        db.session.scalar(select(func.count(Unit.id))), *shares]
    logins = {email for email, _role, _unit in report.demo_logins}
    named = set(re.findall(r"`([a-z0-9.-]+@demo\.laks\.dk)`", readme))
    assert named and named <= logins


def test_demo_publishes_the_first_edition_of_the_laks_catalogue(app):
    """The demo consents (by each tovholder) every LAKS unit whose module 5 is approved and
    publishes edition 1 with their cases, grouped by theme, with a Danish foreword."""
    from laks.enums import CatalogueGrouping, EditionStatus
    from laks.models import Edition
    from laks.services import catalogue

    load_seed(demo=True)
    db.session.commit()
    edition = db.session.scalar(select(Edition))
    assert edition.number == 1 and edition.title == "Inspirationskatalog – LAKS"
    assert edition.status == EditionStatus.PUBLISHED and edition.published_at is not None
    assert edition.programme.slug == "laks" and edition.grouping == CatalogueGrouping.THEME
    assert "Lige Adgang til Kommunale Sundhedstilbud" in edition.foreword
    assert "aktionslæring" in edition.introduction
    approved = {um.unit_id for um in db.session.scalars(select(UnitModule).where(
        UnitModule.module_key == "refleksion", UnitModule.state == S.APPROVED))
        if um.unit.programme.slug == "laks"}
    assert len(approved) >= 4
    assert {c.unit_id for c in edition.cases} == approved
    for case in edition.cases:
        assert catalogue.missing_case_fields(case.snapshot) == []
        assert catalogue.invalid_case_fields(case.snapshot) == {}
        consent = catalogue.active_consent(case.unit)
        assert consent.consented_by.is_tovholder_of(case.unit_id)
    assert len(catalogue.grouped_cases(edition)) >= 2


# --- module 4: the test logs -------------------------------------------------------------------

_NEW_ACTIVITY = "Ny aktivitet uden for handleplanen"


def _unit(name: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.name == name))


def _test_log(unit: Unit) -> dict:
    return db.session.scalar(select(UnitModule).where(
        UnitModule.unit_id == unit.id, UnitModule.module_key == "afproevning")).answers


def test_demo_test_logs_are_pdsa_cycles(app):
    """Every demo unit with module 4 logs real PDSA cycles: planned with a prediction,
    done, studied and decided, in time order, each belonging to an activity of the unit's
    own action plan (or saying it is a new one), within the lengths the form allows."""
    from laks.testlog import DECISIONS

    load_seed(demo=True)
    db.session.commit()
    columns = {c.key: c for c in get_spec("afproevning").questions_by_key["cycles"].columns}
    logs = list(db.session.scalars(select(UnitModule).where(
        UnitModule.module_key == "afproevning")))
    assert len(logs) >= 6
    decisions = Counter()
    for um in logs:
        cycles = um.answers["cycles"]
        plan = db.session.scalar(select(UnitModule).where(
            UnitModule.unit_id == um.unit_id, UnitModule.module_key == "handleplan"))
        activities = {row["what"] for row in plan.answers["activities"]}
        assert len(cycles) >= 3, um.unit.name
        assert [c["date"] for c in cycles] == sorted(c["date"] for c in cycles), um.unit.name
        for number, cycle in enumerate(cycles, start=1):
            where = f"{um.unit.name}, cycle {number}"
            for key in ("date", "end", "change", "activity", "question", "prediction", "plan",
                        "data_plan", "did", "saw", "decision", "next"):
                assert cycle.get(key), f"{where}: no {key}"
            assert set(cycle) <= set(columns), where
            assert cycle["date"] <= cycle["end"], where
            assert cycle["decision"] in DECISIONS, where
            assert cycle["activity"] in activities or cycle["activity"].startswith(
                _NEW_ACTIVITY), where
            for key, value in cycle.items():
                if isinstance(value, str) and columns[key].max_length:
                    assert len(value) <= columns[key].max_length, f"{where}: {key}"
            decisions[cycle["decision"]] += 1
    assert set(decisions) == set(DECISIONS)  # the demo shows all three decisions

    holbaek = _test_log(_unit("Sundhedscenteret"))["cycles"]
    assert len(holbaek) == 7
    # The studies keep what was seen, and say how it compared with the prediction.
    assert holbaek[1]["saw"].startswith("10 af 11 formulerede et mål.")
    assert holbaek[0]["decision"] == "adapt" and "forenklet guide" in holbaek[0]["next"]
    assert [c["count"] for c in holbaek] == [2, 11, 3, 11, 10, 11, 11]


def _series(log: dict, measure: dict) -> list[float]:
    from laks.services.testlog import point_value

    return [point_value(measure, p) for p in log["points"][measure["key"]]]


def test_demo_measures_of_two_units_show_a_signal(app):
    """Holbæk's weekly attendance (median frozen on the ten weeks before the change) and
    Ballerup's visitors from the target group per week give Anhøj's rules a real signal of
    improvement; the other LAKS units with an approved module 4 have a measure too."""
    from flask_babel import force_locale

    from laks import runchart
    from laks.testlog import REACH_FIELDS

    load_seed(demo=True)
    db.session.commit()
    for name in ("Sundhedscenteret", "Livsstilscafe"):
        log = _test_log(_unit(name))
        measure = log["measures"][0]
        values = _series(log, measure)
        assert 12 <= len(values) <= 20, name
        analysis = runchart.analyse(values, measure["baseline"])
        assert analysis.run_signal and analysis.run_side == runchart.ABOVE, name
        assert measure["better"] == "up"
        with force_locale("da"):
            assert runchart.reading(analysis, "up").startswith("Tegn på forbedring: "), name

    holbaek = _test_log(_unit("Sundhedscenteret"))
    attendance = holbaek["measures"][0]
    assert attendance["kind"] == "proportion" and attendance["baseline"] == 10
    points = holbaek["points"][attendance["key"]]
    before = [p for p in points if p["date"] < "2016-04-25"]  # the module-3 start date
    assert len(before) == attendance["baseline"]
    # The equity reach adds up to the unit's own results: 22 started, 17 completed.
    reach = holbaek["reach"]
    assert sum(r["started_target"] for r in reach) == holbaek["reached"] == 22
    assert sum(r["completed_target"] for r in reach) == holbaek["completed"] == 17
    for row in reach:
        assert set(row) == {"date", *REACH_FIELDS}
        for field in REACH_FIELDS[::2]:
            assert row[field] <= row[field.replace("_target", "_all")]

    approved = db.session.scalars(select(UnitModule).where(
        UnitModule.module_key == "afproevning", UnitModule.state == S.APPROVED))
    laks_units = [um for um in approved if um.unit.programme.slug == "laks"]
    assert len(laks_units) >= 4
    for um in laks_units:
        measures = um.answers.get("measures") or []
        assert measures and um.answers["points"][measures[0]["key"]], um.unit.name


def test_demo_measures_page_reads_the_signal(app, client, login):
    """The unit's own staff see the run charts on the measures page, read in Danish."""
    report = load_seed(demo=True)
    db.session.commit()
    for name in ("Sundhedscenteret", "Livsstilscafe"):
        unit = _unit(name)
        staff = next(m.user for m in unit.memberships
                     if m.user.role == Role.STAFF and m.is_tovholder)
        login(staff, password=report.demo_password)
        page = client.get(f"/enheder/{unit.id}/afproevning/maalinger")
        assert page.status_code == 200, name
        text = page.get_data(as_text=True)
        assert "Tegn på forbedring" in text, name
        assert _test_log(unit)["measures"][0]["name"] in text
        client.post("/log-ud")
    gladsaxe = _unit("Rusmiddelcentret")
    staff = next(m.user for m in gladsaxe.memberships if m.is_tovholder)
    login(staff, password=report.demo_password)
    text = client.get(f"/enheder/{gladsaxe.id}/afproevning/maalinger").get_data(as_text=True)
    assert "Kan ikke vurderes endnu" in text  # 7 monthly points: an honest reading


def test_demo_catalogue_case_of_holbaek_has_its_run_chart(app):
    """The published demo edition's case of Holbæk carries the run chart of its attendance
    measure, drawn with the small-number rule, and its reading as the text alternative."""
    from laks.models import Edition

    load_seed(demo=True)
    db.session.commit()
    edition = db.session.scalar(select(Edition))
    case = next(c for c in edition.cases if c.unit.name == "Sundhedscenteret")
    assert case.snapshot["chart_svg"].lstrip().startswith("<svg")
    measure = _test_log(case.unit)["measures"][0]
    assert case.snapshot["chart_alt"].startswith(measure["name"] + ": ")
    assert "Tegn på forbedring" in case.snapshot["chart_alt"]


def test_demo_outbox_shows_an_invitation_a_reset_a_notice_and_a_reminder(app):
    from laks.models import MailMessage

    load_seed(demo=True)
    db.session.commit()
    kinds = Counter(db.session.scalars(select(MailMessage.kind)))
    assert kinds["invitation"] == 1 and kinds["password_reset"] == 1
    assert kinds["module_submitted"] >= 1
    assert kinds["reminder_due"] + kinds["reminder_overdue"] >= 1
    # Seeding twice adds no second invitation, reset or reminder.
    load_seed(demo=True)
    db.session.commit()
    again = Counter(db.session.scalars(select(MailMessage.kind)))
    assert again["invitation"] == 1 and again["password_reset"] == 1
    assert again["reminder_due"] == kinds["reminder_due"]
    from laks.services import mail

    listed, _total = mail.outbox_page()
    assert "ny.medarbejder@demo.laks.dk" in {m.to_address for m in listed}
