"""A network started from the browser alone, in Chromium: the network admin creates a
programme with its five due dates, a unit in it (the municipality from the official list),
its tovholder (invited by mail) and a facilitator, deactivates and reactivates someone, and
uses their own profile. Every page goes through check_page (axe, CSP, console, screenshot)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import Role
from laks.extensions import db
from laks.models import MailMessage, Programme, Unit, User
from laks.services.seed import load_seed
from tests.browser.helpers import check_page
from tests.browser.translations import assert_translated

pytestmark = pytest.mark.browser

DUES = {"udfordring": "2027-03-01", "praecisering": "2027-05-01", "handleplan": "2027-07-01",
        "afproevning": "2027-10-01", "refleksion": "2027-12-01"}


@pytest.fixture
def seeded(app):
    """The seed without demo accounts: the official municipalities, the programmes."""
    load_seed()
    db.session.commit()


def _error_at(page, field_id: str):
    return page.locator(f"#{field_id}-error")


def test_browser_admin_starts_a_programme_with_a_unit_and_its_people(page, seeded, make_user,
                                                                      log_in):
    admin = make_user(Role.ADMIN, name="Nina Netværk")
    log_in(admin)

    # The programmes, and a new one whose due dates are first out of order.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Forløb").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forløb")
    check_page(page, "network-programmes")
    page.get_by_role("link", name="Opret et forløb").click()
    page.get_by_label("Navn", exact=True).fill("Lighed i sundhed 2027")
    page.get_by_label("Beskrivelse").fill("Fem moduler for kommunale enheder.")
    page.get_by_label("Starter").fill("2027-01-01")
    page.get_by_label("Slutter").fill("2027-12-31")
    for key, day in DUES.items():
        page.locator(f"#due_{key}").fill(day)
    page.locator("#due_handleplan").fill("2027-04-01")
    page.get_by_role("button", name="Opret forløbet").click()
    expect(_error_at(page, "due_handleplan")).to_contain_text(
        "Modul 3 kan ikke have frist før modul 2")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Beskrivelse")).to_have_value("Fem moduler for kommunale enheder.")
    expect(page.locator("#due_praecisering")).to_have_value("2027-05-01")
    check_page(page, "network-programme-new-error")
    page.locator("#due_handleplan").fill(DUES["handleplan"])
    page.get_by_role("button", name="Opret forløbet").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Forløbet “Lighed i sundhed 2027” er oprettet")
    expect(page.get_by_label("Kort navn til webadressen")).to_have_value("lighed-i-sundhed-2027")
    check_page(page, "network-programme-edit")

    # A unit: first without a municipality, then Holbæk from the official list.
    page.get_by_role("link", name="Tilføj en enhed").click()
    page.get_by_label("Navn").fill("Sundhedshuset")
    page.get_by_label("Steder").fill("Tølløse\nJyderup")
    page.get_by_role("button", name="Opret enheden").click()
    expect(_error_at(page, "municipality")).to_contain_text("Vælg enhedens kommune på listen.")
    expect(page.get_by_label("Steder")).to_have_value("Tølløse\nJyderup")
    check_page(page, "network-unit-new-error")
    page.get_by_label("Kommune").select_option(label="Holbæk (0316)")
    page.get_by_label("Målgruppe").fill("Borgere med KOL, der ikke kommer til rehabilitering")
    page.get_by_role("button", name="Opret enheden").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Enheden “Holbæk – Sundhedshuset” er oprettet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Holbæk – Sundhedshuset")
    check_page(page, "network-unit-edit-empty")

    # Its tovholder, created from the unit's page and invited by mail.
    page.get_by_role("link", name="Opret personen til denne enhed").click()
    expect(page.get_by_label("Enhed", exact=True)).to_have_value(
        str(db.session.scalar(select(Unit.id).where(Unit.name == "Sundhedshuset"))))
    page.get_by_label("Navn").fill("Tove Tovholder")
    page.get_by_label("E-mail", exact=True).fill("tove@holbaek.dk")
    page.get_by_label("Enhedens tovholder").check()
    expect(page.get_by_label("Send en invitation på e-mail nu")).to_be_checked()
    check_page(page, "network-person-new")
    page.get_by_role("button", name="Opret personen").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Tove Tovholder er oprettet, og en invitation er på vej til tove@holbaek.dk.")
    row = page.get_by_role("row").filter(has_text="tove@holbaek.dk")
    expect(row).to_contain_text("Sundhedshuset (tovholder)")
    expect(row).to_contain_text("Ingen adgangskode endnu")
    check_page(page, "network-people-created")

    # A facilitator: the address already in use is refused first, whatever its case.
    page.get_by_role("link", name="Opret en person").click()
    page.get_by_label("Navn").fill("Frida Facilitator")
    page.get_by_label("E-mail", exact=True).fill("TOVE@holbaek.dk")
    page.get_by_label("Rolle").select_option(label="Facilitator")
    page.get_by_label("Enhed", exact=True).select_option(
        label="Holbæk – Sundhedshuset")
    page.get_by_label("Send en invitation på e-mail nu").uncheck()
    page.get_by_role("button", name="Opret personen").click()
    expect(_error_at(page, "email")).to_contain_text(
        "Tove Tovholder har allerede e-mailadressen tove@holbaek.dk")
    expect(page.get_by_label("Navn")).to_have_value("Frida Facilitator")
    expect(page.get_by_label("Rolle")).to_have_value("facilitator")
    check_page(page, "network-person-new-duplicate")
    page.get_by_label("E-mail", exact=True).fill("frida@netvaerket.dk")
    page.get_by_role("button", name="Opret personen").click()
    expect(page.locator(".alert-success")).to_contain_text("Frida Facilitator er oprettet.")

    # The unit's page now lists both; the tovholder is Tove.
    unit_id = db.session.scalar(select(Unit.id).where(Unit.name == "Sundhedshuset"))
    page.goto(f"/admin/enheder/{unit_id}/rediger")
    people = page.locator("#people table")
    expect(people).to_contain_text("Tove Tovholder (tovholder)")
    expect(people).to_contain_text("Frida Facilitator")
    expect(page.get_by_label("Tovholder", exact=True)).to_have_value(
        str(db.session.scalar(select(User.id).where(User.email == "tove@holbaek.dk"))))
    check_page(page, "network-unit-edit-people")

    # Deactivate Frida from the filtered list of people, then reactivate her.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Personer").click()
    page.get_by_label("Rolle").select_option(label="Facilitator")
    page.get_by_role("button", name="Vis").click()
    expect(page).to_have_url(re.compile(r"rolle=facilitator"))
    expect(page.get_by_role("row")).to_have_count(2)  # the header and Frida
    check_page(page, "network-people-filtered")
    page.get_by_role("button", name="Deaktivér Frida Facilitator").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Frida Facilitator er deaktiveret og kan ikke længere logge ind")
    expect(page).to_have_url(re.compile(r"rolle=facilitator"))
    expect(page.get_by_role("row").filter(has_text="Frida")).to_contain_text("Deaktiveret")
    check_page(page, "network-people-deactivated")
    page.get_by_role("button", name="Genaktivér Frida Facilitator").click()
    expect(page.locator(".alert-success")).to_contain_text("Frida Facilitator kan logge ind igen.")
    check_page(page, "network-people-reactivated")

    # The programme's own page leads back to editing it.
    programme = db.session.scalar(select(Programme).where(Programme.slug ==
                                                          "lighed-i-sundhed-2027"))
    page.goto(f"/programmer/{programme.id}")
    page.get_by_role("link", name="Redigér forløbet, dets frister og dets enheder").click()
    expect(page.locator("#due_refleksion")).to_have_value("2027-12-01")

    db.session.expire_all()
    frida = db.session.scalar(select(User).where(User.email == "frida@netvaerket.dk"))
    assert frida.active and frida.role == Role.FACILITATOR and frida.unit_ids == {unit_id}
    [mail] = db.session.scalars(select(MailMessage)).all()
    assert mail.to_address == "tove@holbaek.dk"


def test_browser_profile_name_language_and_password(page, make_user, log_in):
    user = make_user(Role.OBSERVER, name="Ole Observatør")
    log_in(user)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link",
                                                                 name="Din profil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Din profil")
    check_page(page, "profile")

    page.get_by_label("Navn", exact=True).fill("")
    page.get_by_role("button", name="Gem", exact=True).click()
    expect(_error_at(page, "name")).to_contain_text("Skriv dit navn.")
    check_page(page, "profile-name-error")
    page.get_by_label("Navn", exact=True).fill("Ole Olsen")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Gem", exact=True).click()
    expect(page.locator(".alert-success")).to_have_text("Your profile is saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    assert_translated(page, "en")
    check_page(page, "profile-english")

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill("en lang og ny adgangssætning")
    page.get_by_label("Repeat the password").fill("en lang og ny adgangssætning")
    page.get_by_role("button", name="Change password").click()
    expect(_error_at(page, "current_password")).to_contain_text(
        "The current password is wrong. Nothing was changed.")
    check_page(page, "profile-password-error")
