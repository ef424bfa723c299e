"""Journeys through the pages that exist, in Chromium, each page checked by check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from laks.enums import Role
from laks.services.accounts import invitation_token
from tests.browser.helpers import check_page
from tests.browser.translations import assert_translated

ROLE_HOME_HEADING = {
    Role.STAFF: "Din enhed",
    Role.FACILITATOR: "Dine enheder",
    Role.ADMIN: "Overblik over netværket",
    Role.OBSERVER: "Overblik",
}

pytestmark = pytest.mark.browser


def _switch_to_english(page):
    page.get_by_role("button", name=re.compile("Dansk")).click()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.fixture
def person(make_unit, make_user):
    """A person of a role, attached to a unit when the role has units."""

    def make(role: Role):
        unit = make_unit(name="Sundhedscenter Nord") if role in (Role.STAFF, Role.FACILITATOR) \
            else None
        return make_user(role, unit, tovholder=role == Role.STAFF, name=f"Test {role.value}")

    return make


def test_browser_front_page_is_danish_and_switches_to_english(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_contain_text("aktionslæring")
    check_page(page, "front-page-da")
    assert_translated(page, "da")

    switcher = page.get_by_role("button", name=re.compile("Dansk"))
    switcher.click()
    expect(switcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Dansk")).to_have_attribute("aria-current", "true")
    check_page(page, "language-switcher-open")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_page(page, "front-page-en")
    assert_translated(page, "en")

    page.get_by_role("button", name=re.compile("English")).click()
    page.get_by_role("link", name="Dansk").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")


def test_browser_unknown_language_falls_back_to_danish(page):
    page.goto("/sprog/xx?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_browser_each_role_logs_in_sees_home_and_logs_out(page, person, log_in, role):
    user = person(role)
    log_in(user)
    expect(page.get_by_role("heading", level=1)).to_have_text(ROLE_HOME_HEADING[role])
    expect(page.locator(".portal-user .user")).to_contain_text(user.name)
    check_page(page, f"home-{role.value}")

    page.get_by_role("button", name="Log ud").first.click()
    expect(page.get_by_role("status")).to_contain_text("Du er logget ud")
    check_page(page, f"logged-out-{role.value}", screenshot=role == Role.STAFF)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_browser_home_page_in_english_has_no_danish_left(page, person, log_in, role):
    log_in(person(role))
    _switch_to_english(page)
    # The menu's overflow button, made by DKFDS' script in Danish, is renamed in English.
    expect(page.locator(".navigation-menu .more-button span")).to_have_text("More")
    check_page(page, f"home-{role.value}-en", screenshot=role == Role.ADMIN)
    assert_translated(page, "en")


def test_browser_login_errors_in_english(page):
    page.goto("/sprog/en?next=/log-ind")
    page.get_by_role("button", name="Log in").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter your e-mail address.")
    check_page(page, "login-errors-en", screenshot=False)
    assert_translated(page, "en")


def test_browser_login_with_errors_shows_summary_focuses_it_and_keeps_the_email(page):
    page.goto("/log-ind")
    page.get_by_label("E-mail").fill("nobody@example.org")
    page.get_by_role("button", name="Log ind").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Indtast din adgangskode.")
    expect(page.get_by_label("E-mail")).to_have_value("nobody@example.org")
    expect(page.get_by_label("Adgangskode")).to_have_attribute("aria-invalid", "true")
    check_page(page, "login-errors")

    summary.get_by_role("link", name="Indtast din adgangskode.").click()
    expect(page.get_by_label("Adgangskode")).to_be_focused()


def test_browser_login_with_wrong_password_says_so(page, person):
    user = person(Role.ADMIN)
    page.goto("/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Adgangskode").fill("not the password")
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator("#error-summary")).to_contain_text("forkert")
    expect(page.get_by_label("E-mail")).to_have_value(user.email)
    check_page(page, "login-wrong-password", screenshot=False)


def test_browser_invitation_password_form_errors_then_success(page, app, make_user):
    invited = make_user(Role.ADMIN, name="Inge Inviteret")
    token = invitation_token(invited)
    page.goto(f"/invitation/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vælg din adgangskode")
    check_page(page, "invitation")

    page.get_by_label("Ny adgangskode").fill("kort")
    page.get_by_label("Gentag adgangskoden").fill("anderledes")
    page.get_by_role("button", name="Gem adgangskode").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("listitem")).to_have_count(2)
    check_page(page, "invitation-errors")

    page.get_by_label("Ny adgangskode").fill("en lang og god adgangskode")
    page.get_by_label("Gentag adgangskoden").fill("en lang og god adgangskode")
    page.get_by_role("button", name="Gem adgangskode").click()
    expect(page.get_by_role("status")).to_contain_text("Din adgangskode er gemt")
    check_page(page, "login-after-invitation", screenshot=False)


def test_browser_used_invitation_link_explains_itself(page, make_user):
    invited = make_user(Role.ADMIN)
    page.goto("/invitation/not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitationen kan ikke bruges")
    check_page(page, "invitation-invalid")
    assert invited.id


def test_browser_unit_page_shows_the_five_modules(page, person, log_in):
    user = person(Role.STAFF)
    log_in(user)
    page.get_by_role("link", name=re.compile("Sundhedscenter Nord")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sundhedscenter Nord")
    steps = page.locator(".step-indicator > li")
    expect(steps).to_have_count(5)
    expect(steps.first).to_contain_text("Udfordring")
    check_page(page, "unit")
    assert_translated(page, "da")

    _switch_to_english(page)
    expect(steps.first).to_contain_text("Challenge")
    check_page(page, "unit-en", screenshot=False)
    assert_translated(page, "en")


def test_browser_staff_continues_with_the_next_module(page, person, log_in, module_definitions):
    log_in(person(Role.STAFF))
    steps = page.locator(".step-indicator > li")
    expect(steps).to_have_count(5)
    page.get_by_role("link", name="Fortsæt med Udfordring").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Udfordring")
    check_page(page, "module-udfordring")
    assert_translated(page, "da")

    _switch_to_english(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Challenge")
    check_page(page, "module-udfordring-en", screenshot=False)
    assert_translated(page, "en")


def test_browser_admin_pages(page, person, log_in, make_unit):
    make_unit(name="Enhed Syd")
    log_in(person(Role.ADMIN))
    page.get_by_role("link", name="Personer").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personer")
    check_page(page, "admin-people")

    page.get_by_role("link", name="Revisionslog").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisionslog")
    check_page(page, "admin-audit-log")
    page.get_by_label("Handling").select_option("auth.login")
    page.get_by_role("button", name="Vis").click()
    expect(page).to_have_url(re.compile(r"handling=auth\.login"))
    check_page(page, "admin-audit-log-filtered", screenshot=False)

    page.get_by_role("link", name="Forside").first.click()
    page.locator("main h2 a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Forløb")
    check_page(page, "admin-programme")


def test_browser_accessibility_statement_is_linked_from_the_footer(page):
    page.goto("/")
    page.locator("footer").get_by_role("link", name="Tilgængelighedserklæring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tilgængelighedserklæring for laks")
    expect(page.get_by_role("heading", name="Klagemulighed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Digitaliseringsstyrelsen")
    expect(page.locator("main")).to_contain_text("25. november 2026")
    check_page(page, "accessibility-statement")
    assert_translated(page, "da")

    page.goto("/sprog/en?next=/tilgaengelighed")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement for laks")
    expect(page.locator("main")).to_contain_text("25 November 2026")
    check_page(page, "accessibility-statement-en")
    assert_translated(page, "en")


def test_browser_missing_page_is_the_site_own_404(page):
    page.goto("/findes-ikke")
    expect(page.get_by_role("heading", level=1)).to_have_text("Siden findes ikke")
    # The document itself is a 404 on purpose; nothing else on the page may fail.
    check_page(page, "not-found")


def test_browser_keyboard_only_login_with_visible_focus(page, person):
    user = person(Role.OBSERVER)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Gå til sidens indhold")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()

    email = page.get_by_label("E-mail")
    for _ in range(30):  # Tab through the page's content until the e-mail field
        page.keyboard.press("Tab")
        if email.evaluate("el => el === document.activeElement"):
            break
    expect(email).to_be_focused()
    outline = email.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused field shows no focus outline"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/hjem")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overblik")


def test_browser_small_screen_menu_opens_with_language_switcher(page, person, log_in):
    log_in(person(Role.ADMIN))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/hjem")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    check_page(page, "home-admin-mobile")
    menu.click()
    drawer = page.locator(".mobile-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("link", name="English")).to_be_visible()
    expect(drawer.get_by_role("link", name="Revisionslog")).to_be_visible()
    drawer.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
    check_page(page, "mobile-menu-open")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()


def test_browser_header_shows_name_and_role_apart(page, person, log_in):
    """The person's name and role are two things: a name, and a role tag beside it (under it
    in the drawer on a phone), never run together into one string."""
    log_in(person(Role.FACILITATOR))
    user = page.locator(".portal-user .user")
    expect(user.locator(".user-name")).to_have_text("Test facilitator")
    expect(user.locator(".user-role")).to_have_text("Rolle: Facilitator")
    name = user.locator(".user-name").bounding_box()
    role = user.locator(".user-role").bounding_box()
    assert role["x"] >= name["x"] + name["width"]  # beside, apart
    check_page(page, "header-name-and-role")

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/hjem")
    page.get_by_role("button", name="Menu").click()
    drawer = page.locator(".mobile-drawer")
    drawer.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
    user = drawer.locator(".user")
    expect(user.locator(".user-name")).to_be_visible()
    name = user.locator(".user-name").bounding_box()
    role = user.locator(".user-role").bounding_box()
    assert role["y"] >= name["y"] + name["height"] - 1  # the role under the name
    assert "Test facilitatorFacilitator" not in user.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    check_page(page, "header-name-and-role-375px")


# Elements that stick out to the right of the window (content cut off or needing a sideways
# scroll), leaving out what sits in a scrolling table wrapper and what is hidden.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table--responsive-scroll, .mobile-drawer, .skipnav, .sr-only')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return out;
}"""


def test_browser_pages_reflow_at_320_css_pixels(page, person, log_in):
    """WCAG 1.4.10: at 320 CSS pixels (1280 pixels at 400 % zoom) nothing is cut off."""
    page.set_viewport_size({"width": 320, "height": 640})
    for url in ("/", "/tilgaengelighed", "/log-ind"):
        page.goto(url)
        assert page.evaluate(_OVERFLOWING) == [], url
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator("#error-summary")).to_be_focused()
    page.wait_for_load_state("load")
    assert page.evaluate(_OVERFLOWING) == [], "login errors"
    check_page(page, "login-errors-320px")
    log_in(person(Role.STAFF))
    assert page.evaluate(_OVERFLOWING) == [], "home"
    check_page(page, "home-staff-320px")
