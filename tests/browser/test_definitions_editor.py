"""The question editor in the browser: a programme's own questions, moved, retired and with
a choice's options changed – and what the unit then answers. Every page through
check_page (axe, CSP, console, screenshot)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser


def test_browser_admin_edits_a_programmes_questions(page, log_in, team):
    programme = team.unit.programme
    log_in(team.admin)
    page.goto("/admin/moduler/")
    check_page(page, "definitions-network")
    page.get_by_role("link", name=programme.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Spørgsmål i {programme.name}")
    check_page(page, "definitions-programme")
    page.get_by_role("link", name=re.compile("Udfordring")).click()
    expect(page.get_by_text("En ændring her gælder kun dette forløb.")).to_be_visible()

    # Move the first question down, retire "which health offer", change a choice's options.
    page.get_by_role("button", name="Flyt ned Vores udfordring i én sætning").click()
    first_rows = page.locator("table").first.locator("tbody tr")
    expect(first_rows.nth(1)).to_contain_text("Vores udfordring i én sætning")
    page.get_by_role("button", name=re.compile("Tag ud af brug Hvilket sundhedstilbud")).click()
    expect(page.locator(".alert-success")).to_contain_text("Spørgsmålet stilles ikke længere")
    expect(page.locator("#q-health_offer")).to_contain_text("Ikke længere spurgt")
    check_page(page, "definitions-module-retired")

    page.get_by_role("link", name=re.compile("Valgmuligheder Hvad handler udfordringen")).click()
    check_page(page, "definitions-options")
    page.get_by_label("Valgmulighed på dansk").first.fill("Rekruttering af borgere")
    page.get_by_label("Ny valgmulighed på dansk").fill("Overgange mellem tilbud")
    page.get_by_role("button", name="Gem valgmulighederne").click()
    expect(page.locator(".alert-success")).to_contain_text("Valgmulighederne er gemt")
    expect(page.locator("#q-challenge_type")).to_contain_text("Overgange mellem tilbud")

    # The unit answers the programme's questions of today.
    page.context.clear_cookies()
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    expect(page.get_by_label("Overgange mellem tilbud")).to_be_visible()
    expect(page.get_by_label("Rekruttering af borgere")).to_be_visible()
    expect(page.get_by_text("Hvilket sundhedstilbud drejer det sig om?")).to_have_count(0)
    check_page(page, "definitions-module-answered-with-new-options")
