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
        assert set(um.answers) <= set(spec.questions_by_key)
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
