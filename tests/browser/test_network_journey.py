"""A network started from the browser alone, in Chromium: the network admin creates a
programme with its five due dates, a unit in it (the municipality from the official list),
its tovholder (invited by mail) and a facilitator, deactivates and reactivates someone, and
uses their own profile. The people invited take their links from the mails in the outbox,
choose a password (the facilitator then sets up two-factor sign-in, which staff may skip),
the tovholder submits the first module and the facilitator is told in laks and by mail. And
the whole of it from an empty database: the commands of `make run` without the demo, the
first admin from the command line, the rest in the browser. Every page goes through
check_page (axe, CSP, console, screenshot)."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import socket
import subprocess
import time
import urllib.request
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, make_url, select, text

from laks.enums import ModuleState, Role
from laks.extensions import db
from laks.models import MailMessage, Programme, Unit, UnitModule, User
from laks.services.seed import load_seed
from tests.browser.helpers import check_page, unchecked_problems, watch
from tests.browser.translations import assert_translated
from tests.conftest import PASSWORD, current_code

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


# --- the journey of a new unit: from the admin's programme to the facilitator's notice --------

ROOT = Path(__file__).resolve().parents[2]
#: The passwords the invited people choose (long, and on no list of common passwords).
TOVE_PASSWORD = "tølløse har en lang sti"
FRIDA_PASSWORD = "frida følger sundhedshuset"


def _send_mail(app, runner, outbox: Path) -> str:
    """`flask --app laks mail send` with the outbox folder as the mail server: what a
    recipient gets lands there as .eml files."""
    app.config["LAKS_OUTBOX_DIR"] = str(outbox)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def _mails_to(outbox: Path, address: str) -> list[EmailMessage]:
    """The mails in the outbox folder addressed to ``address``, as a mail program reads them."""
    parser = BytesParser(policy=policy.default)
    mails = [parser.parsebytes(path.read_bytes()) for path in outbox.glob("mail-*.eml")]
    return [m for m in mails if parseaddr(m["To"])[1] == address]


def _link_in(message: EmailMessage, path: str) -> str:
    """The first link in the mail's text whose path starts with ``path``."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"https?://[^\s/]+{re.escape(path)}\S+", body)
    assert found, f"no link to {path} in the mail:\n{body}"
    return found.group()


def _open_mail_link(page, link: str, base_url: str) -> None:
    """Follow a link from a mail. The test app writes its links for LAKS_BASE_URL (a name
    that no test server answers on), so the same path is opened on the live server."""
    page.goto(base_url + urlsplit(link).path)


def _log_out(page) -> None:
    page.get_by_role("button", name="Log ud").first.click()
    page.wait_for_url("**/")


def _choose_password(page, password: str) -> None:
    page.get_by_label("Ny adgangskode").fill(password)
    page.get_by_label("Gentag adgangskoden").fill(password)
    page.get_by_role("button", name="Gem adgangskode").click()


def test_browser_network_journey_from_programme_to_the_facilitators_notice(
        page, new_context, live_server, app, runner, seeded, make_user, tmp_path):
    outbox = tmp_path / "outbox"
    admin = make_user(Role.ADMIN, name="Nina Netværk")

    # a. The network admin signs in with password and the code of her app.
    page.goto("/log-ind")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/log-ind/kode")
    expect(page.get_by_role("heading", level=1)).to_have_text("Totrinslogin")
    check_page(page, "journey-admin-code")
    page.get_by_label("Kode", exact=True).fill(current_code(admin))
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/hjem")
    expect(page.get_by_role("banner")).to_contain_text("Nina Netværk")
    check_page(page, "journey-admin-home")

    # A programme with its period and the five due dates.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Forløb").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forløb")
    page.get_by_role("link", name="Opret et forløb").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Opret et forløb")
    check_page(page, "journey-programme-new")
    page.get_by_label("Navn", exact=True).fill("Lige adgang 2027")
    page.get_by_label("Starter").fill("2027-01-01")
    page.get_by_label("Slutter").fill("2027-12-31")
    for key, day in DUES.items():
        page.locator(f"#due_{key}").fill(day)
    page.get_by_role("button", name="Opret forløbet").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Forløbet “Lige adgang 2027” er oprettet")
    expect(page.locator("#due_afproevning")).to_have_value(DUES["afproevning"])
    check_page(page, "journey-programme-created")

    # A unit in it: the municipality from the list, a name, the place, the target group.
    page.get_by_role("link", name="Tilføj en enhed").click()
    check_page(page, "journey-unit-new")
    page.get_by_label("Kommune").select_option(label="Holbæk (0316)")
    page.get_by_label("Navn").fill("Sundhedshuset")
    page.get_by_label("Steder").fill("Tølløse")
    page.get_by_label("Målgruppe").fill("Borgere med KOL, der ikke kommer til rehabilitering")
    page.get_by_role("button", name="Opret enheden").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Enheden “Holbæk – Sundhedshuset” er oprettet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Holbæk – Sundhedshuset")
    check_page(page, "journey-unit-created")

    # Its tovholder, a staff member, invited by mail from the unit's page.
    page.get_by_role("link", name="Opret personen til denne enhed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Opret en person")
    page.get_by_label("Navn").fill("Tove Tovholder")
    page.get_by_label("E-mail", exact=True).fill("tove@holbaek.dk")
    expect(page.get_by_label("Rolle")).to_have_value("staff")
    page.get_by_label("Enhedens tovholder").check()
    expect(page.get_by_label("Send en invitation på e-mail nu")).to_be_checked()
    check_page(page, "journey-tovholder-new")
    page.get_by_role("button", name="Opret personen").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Tove Tovholder er oprettet, og en invitation er på vej til tove@holbaek.dk.")
    expect(page.get_by_role("row").filter(has_text="tove@holbaek.dk")).to_contain_text(
        "Sundhedshuset (tovholder)")

    # And the unit's facilitator, invited too.
    page.get_by_role("link", name="Opret en person").click()
    page.get_by_label("Navn").fill("Frida Facilitator")
    page.get_by_label("E-mail", exact=True).fill("frida@netvaerket.dk")
    page.get_by_label("Rolle").select_option(label="Facilitator")
    page.get_by_label("Enhed", exact=True).select_option(label="Holbæk – Sundhedshuset")
    page.get_by_role("button", name="Opret personen").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Frida Facilitator er oprettet, og en invitation er på vej til frida@netvaerket.dk.")
    row = page.get_by_role("row").filter(has_text="frida@netvaerket.dk")
    expect(row).to_contain_text("Facilitator")
    expect(row).to_contain_text("Ingen adgangskode endnu")
    check_page(page, "journey-people-invited")

    # b. The mails go out; each person finds theirs, with the link, in their inbox.
    assert "Sent 2 mails" in _send_mail(app, runner, outbox)
    [tove_mail] = _mails_to(outbox, "tove@holbaek.dk")
    [frida_mail] = _mails_to(outbox, "frida@netvaerket.dk")
    assert tove_mail["Subject"] == frida_mail["Subject"] == "Din invitation til laks"
    assert "Hej Tove Tovholder" in tove_mail.get_body(("plain",)).get_content()
    tove_link = _link_in(tove_mail, "/invitation/")
    assert tove_link.startswith(app.config["LAKS_BASE_URL"] + "/invitation/")

    # The tovholder opens the link in her own browser, chooses a password and is at home –
    # staff need no second factor.
    tove = new_context().new_page()
    watch(tove)
    _open_mail_link(tove, tove_link, live_server)
    expect(tove.get_by_role("heading", level=1)).to_have_text("Vælg din adgangskode")
    expect(tove.locator("main")).to_contain_text(
        "Velkommen til laks, Tove Tovholder. Vælg en adgangskode til tove@holbaek.dk.")
    check_page(tove, "journey-tovholder-invitation")
    _choose_password(tove, TOVE_PASSWORD)
    tove.wait_for_url("**/hjem")
    expect(tove.locator(".laks-messages")).to_contain_text(
        "Din adgangskode er gemt, og du er logget ind. Velkommen til laks.")
    expect(tove.get_by_role("heading", level=1)).to_have_text("Din enhed")
    expect(tove.locator("main")).to_contain_text("Holbæk – Sundhedshuset")
    expect(tove.locator("main")).to_contain_text("Du er enhedens tovholder.")
    check_page(tove, "journey-tovholder-home")
    # Two-factor sign-in is hers to choose: off, with the button to set it up.
    tove.goto("/konto/totrin")
    expect(tove.locator("main")).to_contain_text(
        "Totrinslogin er slået fra: du logger ind med din adgangskode alene.")
    expect(tove.get_by_role("button", name="Opsæt totrinslogin")).to_be_visible()
    check_page(tove, "journey-tovholder-two-factor-optional")
    # The link works once.
    _open_mail_link(tove, tove_link, live_server)
    expect(tove.get_by_role("heading", level=1)).to_have_text("Invitationen kan ikke bruges")
    expect(tove.locator("main")).to_contain_text(
        "Invitationslinket er ikke gyldigt, eller det er allerede brugt.")
    check_page(tove, "journey-tovholder-invitation-used")

    # c. The facilitator's link: a password, then two-factor sign-in before anything else.
    frida = new_context().new_page()
    watch(frida)
    _open_mail_link(frida, _link_in(frida_mail, "/invitation/"), live_server)
    expect(frida.locator("main")).to_contain_text("Velkommen til laks, Frida Facilitator.")
    _choose_password(frida, FRIDA_PASSWORD)
    frida.wait_for_url("**/log-ind/totrin")
    expect(frida.locator(".laks-messages")).to_contain_text(
        "Din adgangskode er gemt. Opsæt nu totrinslogin.")
    expect(frida.get_by_role("heading", level=1)).to_have_text("Opsæt totrinslogin")
    expect(frida.locator("main")).to_contain_text("laks (frida@netvaerket.dk)")
    check_page(frida, "journey-facilitator-two-factor-setup")
    frida.goto("/hjem")  # not signed in until it is set up
    frida.wait_for_url(re.compile(r"/log-ind\?next="))
    frida.goto("/log-ind/totrin")
    key = frida.locator("#twofactor-secret").inner_text().replace(" ", "")
    frida.get_by_label("Kode fra appen").fill(pyotp.TOTP(key).now())
    frida.get_by_role("button", name="Slå totrinslogin til").click()
    expect(frida.get_by_role("heading", level=1)).to_have_text("Dine reservekoder")
    codes = frida.get_by_role("list", name="Reservekoder").locator("code").all_inner_texts()
    assert len(codes) == 10
    check_page(frida, "journey-facilitator-recovery-codes")
    frida.get_by_role("link", name="Jeg har gemt koderne – fortsæt").click()
    frida.wait_for_url("**/hjem")
    expect(frida.get_by_role("heading", level=1)).to_have_text("Dine enheder")
    expect(frida.locator("main")).to_contain_text("Du faciliterer 1 enhed.")
    expect(frida.locator("main")).to_contain_text("Intet modul venter på din vurdering.")
    expect(frida.get_by_role("link", name=re.compile(r"^Meddelelser \("))).to_have_count(0)
    check_page(frida, "journey-facilitator-home")

    # d. The tovholder fills in the first module's required answers and submits it.
    tove.goto("/hjem")
    tove.get_by_role("link", name="Fortsæt med Udfordring").click()
    expect(tove.get_by_role("heading", level=1)).to_have_text("Modul 1: Udfordring")
    check_page(tove, "journey-module-1-form")
    tove.get_by_label("Vores udfordring i én sætning").fill(
        "Vi mister borgere med KOL før 3. træningsgang")
    tove.get_by_label("Fastholdelse").check()
    tove.get_by_label(re.compile("Hvilket sundhedstilbud")).fill("KOL-rehabilitering")
    tove.get_by_label(re.compile("Målgruppen")).fill("Borgere med KOL, der bor alene.")
    tove.get_by_label(re.compile("Hvorfor er udfordringen vigtig")).fill(
        "De bliver oftere indlagt.")
    tove.get_by_role("button", name="Indsend til facilitator").click()
    expect(tove.locator(".alert-success")).to_contain_text("Modulet er indsendt")
    expect(tove.locator(".badge").first).to_have_text("Indsendt")
    check_page(tove, "journey-module-1-submitted")

    # The facilitator sees it: the count in the menu, the list, the module.
    frida.goto("/hjem")
    menu = frida.get_by_role("link", name="Meddelelser (1 ny)").first
    expect(menu).to_be_visible()
    expect(frida.locator("main")).to_contain_text("Udfordring")
    check_page(frida, "journey-facilitator-home-with-notice")
    menu.click()
    expect(frida.get_by_role("heading", level=1)).to_have_text("Meddelelser")
    notice = "Holbæk – Sundhedshuset har indsendt modul 1. Udfordring til vurdering."
    expect(frida.locator("main")).to_contain_text(notice)
    check_page(frida, "journey-facilitator-notifications")
    frida.get_by_role("link", name=re.compile("har indsendt modul 1. Udfordring")).click()
    expect(frida.get_by_role("heading", level=1)).to_have_text("Modul 1: Udfordring")
    expect(frida.get_by_role("link", name="Meddelelser (1 ny)")).to_have_count(0)
    check_page(frida, "journey-facilitator-module")

    # And by mail: in the admin's outbox, and in the facilitator's inbox once it is sent.
    page.goto("/admin/post")
    expect(page.get_by_role("heading", level=1)).to_have_text("Udbakke")
    notice_row = page.get_by_role("row").filter(has_text="frida@netvaerket.dk").filter(
        has_text="har indsendt modul 1")
    expect(notice_row).to_contain_text(notice)
    check_page(page, "journey-outbox-with-notice")
    assert "Sent 1 mail" in _send_mail(app, runner, outbox)
    [notice_mail] = [m for m in _mails_to(outbox, "frida@netvaerket.dk")
                     if m["Subject"] != "Din invitation til laks"]
    assert notice_mail["Subject"] == notice
    module_link = _link_in(notice_mail, "/enheder/")
    assert urlsplit(module_link).path.endswith("/moduler/udfordring")

    db.session.expire_all()
    state = db.session.scalar(select(UnitModule.state).join(Unit).where(
        Unit.name == "Sundhedshuset", UnitModule.module_key == "udfordring"))
    assert state == ModuleState.SUBMITTED
    for other in (tove, frida):
        assert not unchecked_problems(other), unchecked_problems(other)


# --- a network from an empty database ---------------------------------------------------------

ADA_PASSWORD = "ada åbner netværket i dag"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_run_commands(port: int, *options: str) -> list[list[str]]:
    """The commands `make run PORT=<port> <options>` runs after its set-up (read from the
    Makefile, not copied): the migrations, the seed, the server."""
    dry = subprocess.run(["make", "-n", "run", f"PORT={port}", *options], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [shlex.split(line) for line in dry.splitlines()
            if line.startswith(".venv/bin/flask --app laks ")]


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database of its own, with nothing in it: a new SQLite file, or a new database on
    the PostgreSQL server the suite runs on."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty-start.sqlite'}"
        return
    name = f"laks_empty_{secrets.token_hex(4)}"
    server = create_engine(make_url(database_url).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def _count(url: str, query: str) -> int:
    """The number ``query`` (a SELECT count(*)) finds in the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 – our server
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_browser_network_started_from_an_empty_database(browser, empty_database, tmp_path):
    """`make run EMPTY=1` and the browser alone, from nothing: make run's own commands (the
    seed of a network of its own: the municipalities and the module questions, no programmes,
    no people), the first network admin from the command line, and the rest in Chromium – the
    admin's first sign-in with the required second factor, a programme and a unit."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAKS_")}
    env.update(LAKS_DATABASE_URL=empty_database, LAKS_SECRET_KEY=secrets.token_urlsafe(48),
               LAKS_BASE_URL=base, LAKS_OUTBOX_DIR=str(tmp_path / "outbox"),
               LAKS_CATALOGUE_DIR=str(tmp_path / "catalogue"))
    assert _make_run_commands(port)[1][-2:] == ["seed", "--demo"]  # plain `make run`
    upgrade, seed, serve = _make_run_commands(port, "EMPTY=1")
    assert upgrade[-2:] == ["db", "upgrade"]
    assert seed[-2:] == ["seed", "--base"]
    assert serve[-5:] == ["run", "--host", "127.0.0.1", "--port", str(port)]

    def flask(args: list[str]) -> str:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    flask(upgrade)
    assert _count(empty_database, "SELECT count(*) FROM user_account") == 0
    assert _count(empty_database, "SELECT count(*) FROM programme") == 0
    flask(seed)
    # No one and no programme yet, but the official list of municipalities and the network's
    # module questions, which a new programme starts from.
    assert _count(empty_database, "SELECT count(*) FROM user_account") == 0
    assert _count(empty_database, "SELECT count(*) FROM programme") == 0
    assert _count(empty_database, "SELECT count(*) FROM municipality") == 98
    assert _count(empty_database, "SELECT count(*) FROM module_definition") == 5
    created = flask([*seed[:-2], "user", "create", "--email", "ada@sundbynet.dk",
                     "--name", "Ada Administrator", "--role", "admin"])
    assert "Created ada@sundbynet.dk (admin)." in created
    link = re.search(r"^Invitation link: (\S+)$", created, re.MULTILINE).group(1)
    assert link.startswith(f"{base}/invitation/")

    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(serve, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    context = None
    try:
        _wait_for(f"{base}/")
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        watch(page)

        # The server sends the invitation mail the command queued: its link is signed
        # when the mail was made, a moment before the one printed, for the same person.
        outbox = tmp_path / "outbox"
        deadline = time.monotonic() + 30
        while not _mails_to(outbox, "ada@sundbynet.dk") and time.monotonic() < deadline:
            time.sleep(0.2)
        [invitation] = _mails_to(outbox, "ada@sundbynet.dk")
        mailed = _link_in(invitation, "/invitation/")
        assert mailed.startswith(f"{base}/invitation/")
        payload = [urlsplit(url).path.rpartition("/")[2].split(".")[0] for url in (mailed, link)]
        assert payload[0] == payload[1]  # the same signed content: Ada's account

        # The first sign-in: a password, then two-factor sign-in, required for the admin.
        page.goto(mailed)
        expect(page.get_by_role("heading", level=1)).to_have_text("Vælg din adgangskode")
        expect(page.locator("main")).to_contain_text("Velkommen til laks, Ada Administrator.")
        check_page(page, "empty-start-invitation")
        _choose_password(page, ADA_PASSWORD)
        page.wait_for_url("**/log-ind/totrin")
        expect(page.get_by_role("heading", level=1)).to_have_text("Opsæt totrinslogin")
        check_page(page, "empty-start-two-factor-setup")
        totp = pyotp.TOTP(page.locator("#twofactor-secret").inner_text().replace(" ", ""))
        page.get_by_label("Kode fra appen").fill(totp.now())
        page.get_by_role("button", name="Slå totrinslogin til").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dine reservekoder")
        check_page(page, "empty-start-recovery-codes")
        page.get_by_role("link", name="Jeg har gemt koderne – fortsæt").click()
        page.wait_for_url("**/hjem")
        expect(page.get_by_role("banner")).to_contain_text("Ada Administrator")
        check_page(page, "empty-start-admin-home")

        # Signing in again: the password and the app's code (the next one: each code once).
        _log_out(page)
        page.goto("/log-ind")
        page.get_by_label("E-mail").fill("ada@sundbynet.dk")
        page.get_by_label("Adgangskode").fill(ADA_PASSWORD)
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url("**/log-ind/kode")
        page.get_by_label("Kode", exact=True).fill(totp.at(time.time() + totp.interval))
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url("**/hjem")

        # A programme, then a unit in it.
        page.get_by_role("navigation", name="Hovedmenu").get_by_role("link",
                                                                     name="Forløb").click()
        page.get_by_role("link", name="Opret et forløb").click()
        page.get_by_label("Navn", exact=True).fill("Sund By 2027")
        page.get_by_label("Starter").fill("2027-01-01")
        page.get_by_label("Slutter").fill("2027-12-31")
        for key, day in DUES.items():
            page.locator(f"#due_{key}").fill(day)
        page.get_by_role("button", name="Opret forløbet").click()
        expect(page.locator(".alert-success")).to_contain_text(
            "Forløbet “Sund By 2027” er oprettet")
        check_page(page, "empty-start-programme-created")
        page.get_by_role("link", name="Tilføj en enhed").click()
        page.get_by_label("Kommune").select_option(label="Aarhus (0751)")
        page.get_by_label("Navn").fill("Sundhedscaféen")
        page.get_by_label("Målgruppe").fill("Borgere med kort uddannelse")
        page.get_by_role("button", name="Opret enheden").click()
        expect(page.locator(".alert-success")).to_contain_text(
            "Enheden “Aarhus – Sundhedscaféen” er oprettet")
        expect(page.get_by_role("heading", level=1)).to_have_text("Aarhus – Sundhedscaféen")
        check_page(page, "empty-start-unit-created")
        page.get_by_role("link", name="Sund By 2027").first.click()
        expect(page.locator("main")).to_contain_text("Sundhedscaféen")
        check_page(page, "empty-start-programme-page")
        assert not unchecked_problems(page)
    finally:
        if context is not None:
            context.close()
        server.terminate()
        server.wait(timeout=20)
        log.close()
    assert _count(empty_database, "SELECT count(*) FROM user_account") == 1
    assert _count(empty_database,
                  "SELECT count(*) FROM unit WHERE name = 'Sundhedscaféen'") == 1
    # The new programme has its own copy of the network's five modules' questions.
    assert _count(empty_database, "SELECT count(*) FROM module_definition d JOIN programme p "
                  "ON p.id = d.programme_id WHERE p.name = 'Sund By 2027'") == 5
