"""Editions of the catalogue: numbered, curated as drafts from eligible cases only,
published as frozen snapshots (later edits in a unit never change them), refused when empty,
never altered once published, withdrawn with a reason; grouping for display."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text
from werkzeug.exceptions import Forbidden

from laks.enums import BuildStatus, CatalogueGrouping, EditionStatus
from laks.extensions import db
from laks.models import AuditEvent, EditionCase
from laks.services import catalogue
from laks.services import modules as module_service
from tests.catalogue_support import fill_case


@pytest.fixture
def two_cases(team, make_user):
    """Two units of the same programme with complete, consented cases."""
    other = team.other_unit
    other.programme = team.unit.programme
    other_tovholder = make_user("staff", other, tovholder=True)
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    fill_case(other, staff=other_tovholder, facilitator=team.other_facilitator,
              changes={"udfordring": {"themes": ["mental_sundhed"],
                                      "challenge_type": "rekruttering"},
                       "refleksion": {"case_title": "Den anden case", "case_reached": 3}})
    catalogue.give_consent(team.unit, team.tovholder)
    catalogue.give_consent(other, other_tovholder)
    db.session.commit()
    team.other_tovholder = other_tovholder
    return team


def _edition(team, title="Inspirationskatalog", grouping=CatalogueGrouping.THEME):
    edition = catalogue.create_edition(team.admin, title, team.unit.programme, grouping)
    db.session.commit()
    return edition


def test_edition_numbers_count_up_and_are_never_reused(two_cases):
    first, second = _edition(two_cases), _edition(two_cases)
    assert (first.number, second.number) == (1, 2)
    assert first.status == EditionStatus.DRAFT
    catalogue.delete_draft(second, two_cases.admin)
    db.session.commit()
    assert _edition(two_cases).number == 2  # the highest number given still counts
    catalogue.set_edition_cases(first, [two_cases.unit.id], two_cases.admin)
    catalogue.publish_edition(first, two_cases.admin)
    assert _edition(two_cases).number == 3


@pytest.mark.parametrize("who", ["tovholder", "staff", "facilitator", "observer"])
def test_edition_only_the_admin_curates(two_cases, who):
    with pytest.raises(Forbidden):
        catalogue.create_edition(getattr(two_cases, who), "Katalog", None,
                                 CatalogueGrouping.THEME)
    edition = _edition(two_cases)
    with pytest.raises(Forbidden):
        catalogue.set_edition_cases(edition, [two_cases.unit.id], getattr(two_cases, who))
    with pytest.raises(Forbidden):
        catalogue.publish_edition(edition, getattr(two_cases, who))


def test_edition_set_cases_orders_and_replaces(two_cases):
    edition = _edition(two_cases)
    a, b = two_cases.unit.id, two_cases.other_unit.id
    catalogue.set_edition_cases(edition, [b, a], two_cases.admin)
    db.session.commit()
    assert [(c.unit_id, c.position) for c in edition.cases] == [(b, 1), (a, 2)]
    catalogue.set_edition_cases(edition, [a], two_cases.admin)
    db.session.commit()
    assert [(c.unit_id, c.position) for c in edition.cases] == [(a, 1)]
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "catalogue.edition_cases")) is not None


def test_edition_set_cases_refuses_ineligible_units(two_cases, make_unit):
    edition = _edition(two_cases)
    catalogue.withdraw_consent(two_cases.other_unit, two_cases.other_tovholder)
    with pytest.raises(catalogue.CatalogueError, match="kan ikke komme med: .*Sletten"):
        catalogue.set_edition_cases(edition, [two_cases.unit.id, two_cases.other_unit.id],
                                    two_cases.admin)
    stranger = make_unit("Uden case")  # another programme, no modules
    with pytest.raises(catalogue.CatalogueError):
        catalogue.set_edition_cases(edition, [stranger.id], two_cases.admin)
    with pytest.raises(catalogue.CatalogueError):
        catalogue.set_edition_cases(edition, [two_cases.unit.id, two_cases.unit.id],
                                    two_cases.admin)
    db.session.rollback()
    assert edition.cases == []


def test_edition_publish_refused_when_empty(two_cases):
    edition = _edition(two_cases)
    with pytest.raises(catalogue.CatalogueError, match="uden cases kan ikke udgives"):
        catalogue.publish_edition(edition, two_cases.admin)
    assert edition.status == EditionStatus.DRAFT and edition.published_at is None


def test_edition_publish_refused_when_a_case_lost_its_consent(two_cases):
    edition = _edition(two_cases)
    catalogue.set_edition_cases(edition, [two_cases.unit.id, two_cases.other_unit.id],
                                two_cases.admin)
    catalogue.withdraw_consent(two_cases.other_unit, two_cases.other_tovholder)
    with pytest.raises(catalogue.CatalogueError, match="kan ikke længere komme med"):
        catalogue.publish_edition(edition, two_cases.admin)
    assert edition.status == EditionStatus.DRAFT


def test_edition_publish_freezes_a_snapshot(two_cases):
    edition = _edition(two_cases)
    catalogue.set_edition_cases(edition, [two_cases.unit.id, two_cases.other_unit.id],
                                two_cases.admin)
    catalogue.publish_edition(edition, two_cases.admin)
    db.session.commit()
    assert edition.status == EditionStatus.PUBLISHED and edition.published_at is not None
    assert edition.published_by_id == two_cases.admin.id
    assert edition.pdf_status != BuildStatus.NONE  # the PDF is asked for
    case = edition.cases[0]
    live = catalogue.case_content(two_cases.unit)
    assert case.snapshot == live
    assert case.content_hash == hashlib.sha256(json.dumps(
        live, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    assert "målkort" in case.search_text and "<" not in case.search_text
    if db.engine.dialect.name == "sqlite":
        found = db.session.execute(text(
            "SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH 'målkort'")).scalars()
        assert case.id in set(found)

    # The unit edits its case afterwards (module 5 reopened, changed, approved again).
    um = module_service.unit_module_for(two_cases.unit, "refleksion")
    module_service.reopen(um, actor=two_cases.facilitator, comment="Ret titlen.")
    module_service.save_answers(um, {"case_title": "En helt ny titel"},
                                actor=two_cases.tovholder, base_version=um.version)
    module_service.submit(um, module_service_spec(), actor=two_cases.tovholder)
    module_service.review(um, "approve", actor=two_cases.facilitator, comment="Fint.")
    db.session.commit()

    db.session.expire_all()
    frozen = db.session.get(EditionCase, case.id)
    assert frozen.snapshot["title"].startswith("Eget mål, målkort")
    assert frozen.snapshot == live
    assert catalogue.grouped_cases(edition)[0][1][0]["title"].startswith("Eget mål")
    # A new draft shows the unit's case as it reads now.
    draft = _edition(two_cases, "Anden udgave")
    catalogue.set_edition_cases(draft, [two_cases.unit.id], two_cases.admin)
    assert catalogue.grouped_cases(draft)[0][1][0]["title"] == "En helt ny titel"


def module_service_spec():
    from laks.services.definitions import get_spec

    return get_spec("refleksion")


def test_edition_published_can_never_be_changed(two_cases):
    edition = _edition(two_cases)
    catalogue.set_edition_cases(edition, [two_cases.unit.id], two_cases.admin)
    catalogue.publish_edition(edition, two_cases.admin)
    db.session.commit()
    admin = two_cases.admin
    for attempt in (
        lambda: catalogue.update_edition(edition, admin, title="Ny titel"),
        lambda: catalogue.update_edition(edition, admin, foreword="Nyt forord"),
        lambda: catalogue.set_edition_cases(edition, [two_cases.other_unit.id], admin),
        lambda: catalogue.set_edition_cases(edition, [], admin),
        lambda: catalogue.publish_edition(edition, admin),
        lambda: catalogue.delete_draft(edition, admin),
    ):
        with pytest.raises(catalogue.CatalogueError):
            attempt()
    db.session.rollback()
    assert edition.title == "Inspirationskatalog" and len(edition.cases) == 1


def test_edition_withdraw(two_cases):
    edition = _edition(two_cases)
    with pytest.raises(catalogue.CatalogueError):
        catalogue.withdraw_edition(edition, two_cases.admin, "Kladde")  # a draft
    catalogue.set_edition_cases(edition, [two_cases.unit.id], two_cases.admin)
    catalogue.publish_edition(edition, two_cases.admin)
    with pytest.raises(catalogue.CatalogueError):
        catalogue.withdraw_edition(edition, two_cases.admin, "   ")  # no reason
    snapshot = dict(edition.cases[0].snapshot)
    catalogue.withdraw_edition(edition, two_cases.admin, "En enhed har trukket samtykket.")
    db.session.commit()
    assert edition.status == EditionStatus.WITHDRAWN and edition.withdrawn_at is not None
    assert edition.withdrawn_reason == "En enhed har trukket samtykket."
    assert edition.cases[0].snapshot == snapshot
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "catalogue.edition_withdraw")) is not None
    with pytest.raises(catalogue.CatalogueError):
        catalogue.withdraw_edition(edition, two_cases.admin, "Igen")
    with pytest.raises(catalogue.CatalogueError):
        catalogue.update_edition(edition, two_cases.admin, title="Ny")


def test_edition_texts_refuse_cpr_numbers(two_cases):
    edition = _edition(two_cases)
    with pytest.raises(catalogue.CatalogueError, match="CPR"):
        catalogue.update_edition(edition, two_cases.admin, foreword="Borger 010190-1234")


@pytest.mark.parametrize(("grouping", "labels"), [
    (CatalogueGrouping.THEME, ["Fysisk aktivitet", "Mental sundhed"]),
    (CatalogueGrouping.CHALLENGE_TYPE, ["Gennemførsel", "Rekruttering"]),
], ids=str)
def test_edition_grouped_cases(two_cases, grouping, labels):
    edition = _edition(two_cases, grouping=grouping)
    catalogue.set_edition_cases(edition, [two_cases.unit.id, two_cases.other_unit.id],
                                two_cases.admin)
    groups = catalogue.grouped_cases(edition)
    assert [label for label, _cases in groups] == labels
    assert [len(cases) for _label, cases in groups] == [1, 1]


def test_edition_grouping_puts_cases_without_a_value_last(app):
    cases = [{"theme_labels": []}, {"theme_labels": ["Tobak", "Alkohol"]},
             {"theme_labels": ["Tobak"]}]
    groups = catalogue.group_contents(cases, CatalogueGrouping.THEME)
    assert [(label, len(items)) for label, items in groups] == [("Tobak", 2), ("Øvrige", 1)]
