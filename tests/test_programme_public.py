"""A programme's public page: its units by municipality in Danish order, each challenge once
module 1 is approved, each action plan once module 3 is approved and the unit consents, and
whom to contact – never a person's name or address."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from laks.enums import ModuleState, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import CaseConsent, Municipality, UnitModule


def text_of(response) -> str:
    return response.get_data(as_text=True)


def module(unit, key: str, state: ModuleState, **answers) -> UnitModule:
    row = UnitModule(unit=unit, module_key=key, state=state, answers=answers)
    db.session.add(row)
    db.session.commit()
    return row


def consent(unit, *, withdrawn: bool = False, at: datetime | None = None) -> CaseConsent:
    row = CaseConsent(unit=unit, consented_at=at or datetime.now(UTC),
                      withdrawn_at=datetime.now(UTC) if withdrawn else None)
    db.session.add(row)
    db.session.commit()
    return row


PLAN = {"trial_action": "Vi flytter **træningen** ud i beboerhuset.",
        "activities": [{"who": "Fysioterapeut", "what": "Holdtræning", "where": "Beboerhuset",
                        "when": "Tirsdag"}, {"who": "", "what": "", "where": "", "when": ""}]}


@pytest.fixture
def programme(make_programme, make_unit):
    programme = make_programme(slug="laks-test", name="LAKS – Lige Adgang",
                               description="Et **forløb** i fem moduler.",
                               starts_on=date(2015, 9, 1), ends_on=date(2016, 12, 31),
                               status=ProgrammeStatus.CLOSED)
    towns = {name: Municipality(code=code, name=name) for code, name in [
        ("0580", "Aabenraa"), ("0492", "Ærø"), ("0159", "Gladsaxe"), ("0751", "Aarhus"),
        ("0101", "København")]}
    units = {
        "egekroen": make_unit("Egekroen", programme, municipality=towns["Gladsaxe"]),
        "carlshuse": make_unit("Carlshuse og Ungehuset", programme,
                               municipality=towns["Gladsaxe"],
                               places=["Carlshuse", "Ungehuset"]),
        "globus": make_unit("Globus1", programme, municipality=towns["Aarhus"]),
        "aero": make_unit("Sundhedshuset", programme, municipality=towns["Ærø"]),
        "aabenraa": make_unit("Sundhedscentret", programme, municipality=towns["Aabenraa"]),
        "kbh": make_unit("Center for Kræft og Sundhed", programme,
                         municipality=towns["København"]),
    }
    return programme, units


def test_programme_page_shows_name_period_status_and_description(client, programme):
    response = client.get("/forloeb/laks-test")
    page = text_of(response)
    assert response.status_code == 200
    assert "<h1>LAKS – Lige Adgang</h1>" in page
    assert "1. september 2015 – 31. december 2016" in page
    assert "Afsluttet" in page
    assert "Et <strong>forløb</strong> i fem moduler." in page


def test_programme_page_groups_units_by_municipality_in_danish_order(client, programme):
    page = text_of(client.get("/forloeb/laks-test"))
    headings = [page.index(f">{name}</h3>") for name in (
        "Gladsaxe", "København", "Ærø", "Aabenraa", "Aarhus")]
    assert headings == sorted(headings)  # Æ, Ø, Å last; "Aa" is Å
    gladsaxe = page[page.index(">Gladsaxe</h3>"):page.index(">København</h3>")]
    assert gladsaxe.index("Carlshuse og Ungehuset") < gladsaxe.index("Egekroen")
    assert "Carlshuse, Ungehuset" in gladsaxe  # a unit's places


def test_challenge_only_once_module_one_is_approved(client, programme):
    _programme, units = programme
    module(units["egekroen"], "udfordring", ModuleState.APPROVED,
           challenge_title="Vi mister de ældre mænd")
    module(units["globus"], "udfordring", ModuleState.SUBMITTED,
           challenge_title="Hemmeligt udkast til udfordring")
    module(units["aero"], "udfordring", ModuleState.CHANGES_REQUESTED,
           challenge_title="Også et udkast")
    page = text_of(client.get("/forloeb/laks-test"))
    assert "Vi mister de ældre mænd" in page
    assert "Hemmeligt udkast" not in page and "Også et udkast" not in page
    assert page.count("Udfordringen er ved at blive valgt") == 5


@pytest.mark.parametrize(("state", "consented", "withdrawn", "shown"), [
    (ModuleState.APPROVED, True, False, True),
    (ModuleState.APPROVED, False, False, False),
    (ModuleState.APPROVED, True, True, False),
    (ModuleState.SUBMITTED, True, False, False),
    (ModuleState.DRAFT, True, False, False),
], ids=["approved-and-consented", "no-consent", "consent-withdrawn", "submitted", "draft"])
def test_action_plan_only_when_approved_and_consented(client, programme, state, consented,
                                                      withdrawn, shown):
    _programme, units = programme
    unit = units["egekroen"]
    module(unit, "handleplan", state, **PLAN)
    if consented:
        consent(unit, withdrawn=withdrawn)
    page = text_of(client.get("/forloeb/laks-test"))
    assert ("Vi flytter <strong>træningen</strong> ud i beboerhuset." in page) is shown
    assert ('<td data-label="Hvem">Fysioterapeut</td><td data-label="Hvad">Holdtræning</td>'
            '<td data-label="Hvor">Beboerhuset</td><td data-label="Hvornår">Tirsdag</td>'
            in page) is shown
    if shown:
        assert page.count('<tr><td data-label="Hvem">') == 1  # the empty row is left out


def test_action_plan_follows_the_newest_consent(client, programme):
    _programme, units = programme
    unit = units["egekroen"]
    module(unit, "handleplan", ModuleState.APPROVED, **PLAN)
    consent(unit, withdrawn=True, at=datetime(2026, 1, 1, tzinfo=UTC))
    consent(unit, at=datetime(2026, 2, 1, tzinfo=UTC))
    assert "ud i beboerhuset" in text_of(client.get("/forloeb/laks-test"))


def test_programme_contact_is_a_role_and_the_networks_address(make_app, programme):
    _programme, _units = programme
    with_address = make_app(LAKS_CONTACT_EMAIL="netvaerk@sundby.dk").test_client()
    page = text_of(with_address.get("/forloeb/laks-test"))
    assert "Netværkssekretariatet" in page
    assert 'href="mailto:netvaerk@sundby.dk"' in page
    without = make_app(LAKS_CONTACT_EMAIL="").test_client()
    page = text_of(without.get("/forloeb/laks-test"))
    assert "Netværkssekretariatet" in page and "Kontakt netværket." in page
    assert "mailto:" not in page


def test_programme_page_never_names_people(client, make_user, programme):
    _programme, units = programme
    people = [
        make_user(Role.STAFF, units["egekroen"], tovholder=True, name="Tove Tovholder",
                  email="tove@gladsaxe.dk"),
        make_user(Role.FACILITATOR, units["egekroen"], name="Frida Facilitator",
                  email="frida@kl.dk"),
    ]
    module(units["egekroen"], "udfordring", ModuleState.APPROVED, challenge_title="Udfordring")
    module(units["egekroen"], "handleplan", ModuleState.APPROVED, **PLAN)
    consent(units["egekroen"])
    page = text_of(client.get("/forloeb/laks-test"))
    for person in people:
        assert person.name not in page and person.email not in page


@pytest.mark.parametrize("slug", ["findes-ikke", "x" * 300, "laks-test%00"],
                         ids=["unknown", "very-long", "nul"])
def test_unknown_programme_is_not_found(client, programme, slug):
    assert client.get(f"/forloeb/{slug}").status_code == 404


def test_front_page_and_catalogue_link_every_programme_page(client, programme, make_programme):
    make_programme(slug="lighed", name="Lighed i praksis")
    db.session.commit()
    for url in ("/", "/katalog/"):
        page = text_of(client.get(url))
        assert 'href="/forloeb/laks-test"' in page and 'href="/forloeb/lighed"' in page
        # A running programme comes before a closed one.
        assert page.index("Lighed i praksis") < page.index("LAKS – Lige Adgang")
