"""A unit's catalogue case: drawn only from approved modules, in the one format; the
contact is a role; consent only by the tovholder, only when complete, audited; withdrawn;
the list of eligible units."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import AuditEvent, CaseConsent
from laks.privacy import small_count
from laks.services import catalogue
from laks.services import definitions as definition_service
from laks.services import modules as module_service
from tests.catalogue_support import fill_case, fill_module

CASE_KEYS = {
    "format", "unit_id", "unit", "municipality", "municipality_code", "places", "programme",
    "title", "summary", "challenge", "challenge_type", "challenge_type_label", "health_offer",
    "themes", "theme_labels", "kram", "kram_labels", "target_group", "arena", "barriers",
    "changed", "activities", "tested", "results", "learned", "tips", "resources",
    "transferability", "anchoring", "contact_role", "chart_svg", "chart_alt",
}


@pytest.fixture
def complete(team):
    """The team's unit with all five modules approved and a complete case."""
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    return team


def test_case_content_has_the_shared_format(complete):
    case = catalogue.case_content(complete.unit)
    assert set(case) == CASE_KEYS
    assert case["format"] == 1 and case["unit_id"] == complete.unit.id
    assert case["unit"] == "Sundhedscenteret"
    assert case["title"].startswith("Eget mål, målkort")
    assert case["challenge_type"] == "gennemfoersel"
    assert case["challenge_type_label"] == "Gennemførsel"
    assert case["theme_labels"][0] == "Fysisk aktivitet"
    assert case["kram_labels"] == ["Kost", "Motion"]
    assert case["results"] == {"reached": 22, "started": 22, "completed": 17}
    assert case["activities"][0]["who"] == "Fysioterapeut og sygeplejerske"
    assert case["changed"].startswith("Vi indfører **individuel målsætning")
    assert case["tested"].startswith("- Samtaleguiden")
    assert case["contact_role"].startswith("Fysioterapeut med ansvar")
    # The run chart of its first measure, from the approved test log (module 4).
    assert case["chart_svg"].lstrip().startswith("<svg")
    assert case["chart_alt"].startswith("Kortuddannedes fremmøde til holdtræning")
    assert "Tegn på forbedring" in case["chart_alt"]
    assert catalogue.missing_case_fields(case) == []


def test_case_content_uses_only_approved_modules(team):
    """Module 3 submitted and module 5 a draft: their fields are empty in the case, while
    the approved modules' answers are there."""
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              approve=("udfordring", "praecisering", "afproevning"))
    case = catalogue.case_content(team.unit)
    assert case["challenge"].startswith("Næsten halvdelen")
    assert case["barriers"]
    assert case["tested"]
    assert case["changed"] == "" and case["activities"] == []  # handleplan not approved
    assert case["title"] == "" and case["kram"] == [] and case["tips"] == ""
    assert case["results"] == {"reached": None, "started": None, "completed": None}
    assert set(catalogue.missing_case_fields(case)) == {
        "title", "summary", "arena", "changed", "learned", "tips", "resources",
        "transferability", "anchoring", "contact_role"}


def test_case_content_follows_a_reopened_module(complete):
    """Reopening module 5 takes its fields out of the case until it is approved again."""
    assert catalogue.case_content(complete.unit)["title"]
    um = module_service.unit_module_for(complete.unit, "refleksion")
    module_service.reopen(um, actor=complete.facilitator, comment="Ret kontakten.")
    db.session.commit()
    assert um.state == ModuleState.CHANGES_REQUESTED
    assert catalogue.case_content(complete.unit)["title"] == ""


@pytest.mark.parametrize(("value", "n"), [(None, ""), (0, "0"), (1, "<5"), (4, "<5"),
                                          (5, "5"), (123, "123")], ids=str)
def test_case_small_count(value, n):
    assert small_count(value) == n


@pytest.mark.parametrize("contact", [
    "Sundhedskonsulent, tove@holbaek.dk",
    "Ring til 42 45 09 90",
    "Tlf. +45 42450990",
    "Sundhedscenteret, 4245-0990",
], ids=["email", "phone-spaced", "phone-plus", "phone-dash"])
def test_case_contact_refuses_email_and_phone(contact):
    invalid = catalogue.invalid_case_fields({"contact_role": contact})
    assert list(invalid) == ["contact_role"]


@pytest.mark.parametrize("contact", [
    "Sundhedskonsulent i Sundhedscenteret",
    "Fysioterapeut, Sundhedscenteret, Kalundborgvej 2, 4300 Holbæk",
], ids=["role", "role-and-address"])
def test_case_contact_allows_a_role_and_an_address(contact):
    assert catalogue.invalid_case_fields({"contact_role": contact}) == {}


def test_case_consent_by_the_tovholder_is_recorded_and_audited(complete):
    consent = catalogue.give_consent(complete.unit, complete.tovholder)
    db.session.commit()
    assert consent.consented_by == complete.tovholder and consent.consented_at is not None
    assert catalogue.active_consent(complete.unit) == consent
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "catalogue.consent"))
    assert event.actor_id == complete.tovholder.id and event.object_id == complete.unit.id
    # Giving it again changes nothing.
    assert catalogue.give_consent(complete.unit, complete.tovholder) == consent
    assert len(catalogue.consent_history(complete.unit)) == 1


@pytest.mark.parametrize("who", ["staff", "facilitator", "admin", "observer", "other_staff"])
def test_case_consent_refused_for_everyone_but_the_tovholder(complete, who):
    with pytest.raises(Forbidden):
        catalogue.give_consent(complete.unit, getattr(complete, who))
    assert db.session.scalar(select(CaseConsent)) is None


def test_case_consent_refused_before_module_5_is_approved(team):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              approve=("udfordring", "praecisering", "handleplan", "afproevning"))
    with pytest.raises(catalogue.IncompleteCase) as refused:
        catalogue.give_consent(team.unit, team.tovholder)
    keys = [p.key for p in refused.value.problems]
    assert keys[0] == "module" and "title" in keys and "tips" in keys
    assert db.session.scalar(select(CaseConsent)) is None


def test_case_consent_refused_names_missing_fields(team):
    """The admin has made the tips optional, so module 5 is approved without them: the
    consent is refused and names exactly the missing field."""
    definition_service.update_question(
        actor=team.admin, module_key="refleksion", question_key="case_tips",
        label_da="Gode råd til andre", label_en="Tips for others", help_da="", help_en="",
        required=False)
    db.session.commit()
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              changes={"refleksion": {"case_tips": ""}})
    with pytest.raises(catalogue.IncompleteCase) as refused:
        catalogue.give_consent(team.unit, team.tovholder)
    assert [p.key for p in refused.value.problems] == ["tips"]


def test_case_consent_refused_for_a_contact_with_an_email(team):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              changes={"refleksion": {"case_contact_role": "Tove, tove@holbaek.dk"}})
    with pytest.raises(catalogue.IncompleteCase) as refused:
        catalogue.give_consent(team.unit, team.tovholder)
    assert [p.key for p in refused.value.problems] == ["contact_role"]
    with force_locale("da"):
        assert "ikke en e-mailadresse" in str(refused.value.problems[0].message)


def test_case_consent_withdrawn(complete):
    catalogue.give_consent(complete.unit, complete.tovholder)
    consent = catalogue.withdraw_consent(complete.unit, complete.tovholder)
    db.session.commit()
    assert consent.withdrawn_by == complete.tovholder and consent.withdrawn_at is not None
    assert catalogue.active_consent(complete.unit) is None
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "catalogue.consent_withdraw")) is not None
    with pytest.raises(catalogue.CatalogueError):
        catalogue.withdraw_consent(complete.unit, complete.tovholder)
    # A new consent is a new row; the history keeps both.
    catalogue.give_consent(complete.unit, complete.tovholder)
    assert len(catalogue.consent_history(complete.unit)) == 2


def test_case_eligible_units(complete, make_user):
    other = complete.other_unit
    tovholder = make_user("staff", other, tovholder=True)
    fill_case(other, staff=tovholder, facilitator=complete.other_facilitator)
    assert catalogue.eligible_units() == []  # no consent yet
    catalogue.give_consent(complete.unit, complete.tovholder)
    assert catalogue.eligible_units() == [complete.unit]
    catalogue.give_consent(other, tovholder)
    assert {u.id for u in catalogue.eligible_units()} == {complete.unit.id, other.id}
    assert catalogue.eligible_units(complete.unit.programme) == [complete.unit]
    catalogue.withdraw_consent(other, tovholder)
    assert catalogue.eligible_units() == [complete.unit]
    statuses = {s.unit.id: s for s in catalogue.case_statuses()}
    assert [p.key for p in statuses[other.id].problems] == ["consent"]


def test_case_module_5_has_the_case_questions(definitions):
    from laks.services.definitions import get_spec

    spec = get_spec("refleksion")
    case = next(s for s in spec.sections if s.key == "case")
    assert str(case.title) == "Casen til inspirationskataloget"
    keys = [q.key for q in case.questions]
    assert keys == ["case_title", "case_arena", "case_reached", "case_started",
                    "case_completed", "case_tips", "case_resources", "case_transferability",
                    "case_contact_role"]
    q = spec.questions_by_key
    assert q["case_title"].max_length == 120 and q["case_title"].required
    assert q["case_reached"].required and q["case_completed"].required
    assert not q["case_started"].required and q["case_started"].min == 0
    assert all(q[k].catalogue for k in keys) and q["case_text"].catalogue
    assert all(q[k].label.en for k in keys)


def test_case_module_5_refuses_incomplete_submit(team):
    """Module 5 without its case answers cannot be submitted (so not approved)."""
    answers = fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
                        skip=("refleksion",))
    partial = {k: v for k, v in answers["refleksion"].items() if not k.startswith("case_")
               or k == "case_text"}
    with pytest.raises(module_service.IncompleteModule) as refused:
        fill_module(team.unit, "refleksion", partial, staff=team.tovholder,
                    facilitator=team.facilitator)
    assert {"case_title", "case_arena", "case_reached", "case_completed", "case_tips",
            "case_resources", "case_transferability", "case_contact_role"} <= {
        q.key for q in refused.value.missing}


def test_catalogue_case_activities_name_their_column_in_every_cell(app):
    """On a phone the activities stack as cards; each cell carries its column's name, in
    the case and on the programme's public page alike (one macro)."""
    from flask import render_template_string

    rows = [{"who": "Sygeplejerske", "what": "Ringer dagen før", "where": "Sundhedscentret",
             "when": "Uge 11"}]
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "catalogue/_case.html" import activities_table %}'
            '{{ activities_table(rows, class="programme-activities") }}', rows=rows)
    for label, value in [("Hvem", "Sygeplejerske"), ("Hvad", "Ringer dagen før"),
                         ("Hvor", "Sundhedscentret"), ("Hvornår", "Uge 11")]:
        assert f'<td data-label="{label}">{value}</td>' in html
    assert 'class="table table--compact programme-activities"' in html


def test_catalogue_case_body_without_facts_leaves_the_facts_to_the_pdf(app):
    from flask import render_template_string

    case = {"municipality": "Holbæk", "unit": "Sundhedscenteret", "summary": "Kort.",
            "results": {"reached": 12, "started": 9, "completed": 3}}
    template = ('{% from "catalogue/_case.html" import case_body %}'
                '{{ case_body(case, facts=facts) }}')
    with app.test_request_context("/"):
        with_facts = render_template_string(template, case=case, facts=True)
        without = render_template_string(template, case=case, facts=False)
    assert "catalogue-case-facts" in with_facts and "Holbæk" in with_facts
    assert "catalogue-case-facts" not in without and "Kort." in without
