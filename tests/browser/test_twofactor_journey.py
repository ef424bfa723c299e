"""Two-factor sign-in in Chromium: a facilitator's first login sets it up from the page's key,
keeps the recovery codes, and logs in again with a code and then with a recovery code; the
network admin resets it; a staff member turns it on from the account page. The codes are
computed with pyotp, as the person's app would. Every page goes through check_page (axe,
CSP, console, screenshot)."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from laks.enums import Role
from laks.extensions import db
from laks.models import User
from tests.browser.helpers import check_page
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.browser


def _password(page, user) -> None:
    page.goto("/log-ind")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def _log_out(page) -> None:
    page.get_by_role("button", name="Log ud").first.click()
    expect(page.get_by_role("status").first).to_contain_text("Du er logget ud")


def _key_on_page(page) -> str:
    return page.locator("#twofactor-secret").inner_text().replace(" ", "")


def test_browser_facilitator_sets_up_two_factor_and_logs_in_with_code_and_recovery_code(
        page, make_unit, make_user, log_in):
    unit = make_unit("Sundhedshuset")
    facilitator = make_user(Role.FACILITATOR, unit, name="Fie Facilitator", two_factor=False)

    # The first login: the password is right, and the set-up comes before anything else.
    _password(page, facilitator)
    page.wait_for_url("**/log-ind/totrin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Opsæt totrinslogin")
    qr = page.get_by_role("img", name=f"QR-kode til at opsætte totrinslogin for laks "
                                      f"({facilitator.email})")
    expect(qr).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"laks ({facilitator.email})")
    expect(page.locator("#twofactor-secret")).to_have_text(re.compile(r"^([A-Z2-7]{4} ){7}"
                                                                      r"[A-Z2-7]{4}$"))
    check_page(page, "twofactor-setup")
    key = _key_on_page(page)

    # Nothing else opens before it is done.
    page.goto("/hjem")
    page.wait_for_url(re.compile(r"/log-ind\?next="))
    page.goto("/log-ind/totrin")

    # A mistyped first code is refused at the field; the key stays the same.
    page.get_by_label("Kode fra appen").fill("12345")
    page.get_by_role("button", name="Slå totrinslogin til").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Skriv de 6 cifre, som appen viser, uden bogstaver.")
    expect(page.get_by_label("Kode fra appen")).to_have_value("12345")
    assert _key_on_page(page) == key
    check_page(page, "twofactor-setup-error")

    page.get_by_label("Kode fra appen").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Slå totrinslogin til").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dine reservekoder")
    expect(page.locator("main")).to_contain_text("Udskriv siden, eller kopiér koderne")
    codes = page.get_by_role("list", name="Reservekoder").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){2}", c)
                                    for c in codes)
    check_page(page, "twofactor-recovery-codes")
    page.get_by_role("link", name="Jeg har gemt koderne – fortsæt").click()
    page.wait_for_url("**/hjem")
    expect(page.get_by_role("banner")).to_contain_text("Fie Facilitator")
    _log_out(page)

    # The next login asks for the code of the app.
    _password(page, facilitator)
    page.wait_for_url("**/log-ind/kode")
    expect(page.get_by_role("heading", level=1)).to_have_text("Totrinslogin")
    check_page(page, "twofactor-code")
    page.get_by_label("Kode", exact=True).fill("000000" if current_code(facilitator) != "000000"
                                               else "111111")
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#code-error")).to_contain_text("Koden er forkert")
    check_page(page, "twofactor-code-error")
    page.get_by_label("Kode", exact=True).fill(current_code(facilitator))
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/hjem")
    _log_out(page)

    # A lost phone: a recovery code instead, once.
    _password(page, facilitator)
    page.wait_for_url("**/log-ind/kode")
    page.get_by_label("Kode", exact=True).fill(codes[0])
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/hjem")
    expect(page.locator(".laks-messages")).to_contain_text(
        "Du loggede ind med en reservekode. Du har 9 tilbage")
    check_page(page, "twofactor-home-after-recovery-code")

    # The account page: on, nine codes left, and the way to a new phone.
    page.goto("/konto/totrin")
    expect(page.locator("main")).to_contain_text("Du har 9 ubrugte reservekoder.")
    expect(page.locator("main")).to_contain_text("bed netværksadministratoren om at nulstille")
    expect(page.get_by_role("button", name="Slå fra")).to_have_count(0)
    check_page(page, "twofactor-account-required")
    _log_out(page)

    _password(page, facilitator)
    page.get_by_label("Kode", exact=True).fill(codes[0])
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator("#code-error")).to_contain_text(
        "Reservekoden er forkert eller allerede brugt")

    # The network admin resets it; the facilitator sets it up again at the next login.
    admin = make_user(Role.ADMIN, name="Nanna Netværk")
    page.context.clear_cookies()
    log_in(admin)
    page.goto("/admin/brugere")
    check_page(page, "twofactor-people-with-reset")
    page.get_by_role("button", name="Nulstil totrinslogin for Fie Facilitator").click()
    expect(page.locator(".laks-messages")).to_contain_text(
        "Totrinslogin for Fie Facilitator er nulstillet")
    check_page(page, "twofactor-people-after-reset", screenshot=False)
    db.session.expire_all()
    assert db.session.get(User, facilitator.id).totp_secret is None
    _log_out(page)
    _password(page, facilitator)
    page.wait_for_url("**/log-ind/totrin")
    assert _key_on_page(page) != key


def test_browser_staff_turns_on_two_factor_from_the_account_page(page, make_unit, make_user,
                                                                 log_in):
    staff = make_user(Role.STAFF, make_unit("Borgerhuset"), name="Sif Medarbejder")
    log_in(staff)
    page.goto("/konto/totrin")
    expect(page.locator("main")).to_contain_text("Totrinslogin er slået fra")
    check_page(page, "twofactor-account-off")
    page.get_by_role("button", name="Opsæt totrinslogin").click()
    page.wait_for_url("**/konto/totrin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Opsæt totrinslogin")
    check_page(page, "twofactor-account-setup")
    key = _key_on_page(page)
    page.get_by_label("Kode fra appen").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Slå totrinslogin til").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dine reservekoder")
    page.get_by_role("link", name="Jeg har gemt koderne – fortsæt").click()
    expect(page.locator("main")).to_contain_text("Du har 10 ubrugte reservekoder.")
    check_page(page, "twofactor-account-on")
    # Turning it off asks for a code, and the wrong one is refused at its field.
    page.locator("#off-code").fill("000000" if current_code(staff) != "000000" else "111111")
    page.get_by_role("button", name="Slå fra").click()
    expect(page.locator("#off-code-error")).to_contain_text("Koden er forkert")
    check_page(page, "twofactor-account-off-error")
    page.locator("#off-code").fill(current_code(staff))
    page.get_by_role("button", name="Slå fra").click()
    expect(page.locator(".laks-messages")).to_contain_text("Totrinslogin er slået fra.")
