"""Closing a unit in the browser: the network admin closes it from its page and sees it
marked on the programme's page; its staff read its module, told why nothing can be changed;
the admin reopens it and the staff edit again. Every page checked by check_page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from laks.enums import ModuleState
from tests.browser.helpers import check_page
from tests.test_workflow import module_in

pytestmark = pytest.mark.browser


def log_out(page):
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/")


def test_browser_admin_closes_and_reopens_a_unit(page, log_in, team):
    module_in(team, ModuleState.DRAFT)
    from laks.extensions import db

    db.session.commit()
    log_in(team.admin)
    page.goto(f"/admin/enheder/{team.unit.id}/rediger")
    closing = page.locator("#closing")
    expect(closing.get_by_role("heading", name="Luk enheden")).to_be_visible()
    check_page(page, "unit-admin-open")
    closing.get_by_label("Hvorfor (valgfrit)").fill("Projektet er stoppet")
    closing.get_by_role("button", name="Luk enheden").click()
    expect(page.get_by_role("status").first).to_contain_text("er lukket")
    expect(closing.get_by_role("heading", name="Enheden er lukket")).to_be_visible()
    expect(closing).to_contain_text("Lukket ")
    check_page(page, "unit-admin-closed")

    page.goto(f"/programmer/{team.unit.programme_id}")
    expect(page.get_by_role("row", name=team.unit.name)).to_contain_text("Lukket ")
    check_page(page, "programme-with-a-closed-unit")
    log_out(page)

    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    expect(page.get_by_role("main")).to_contain_text("Enheden er lukket (")
    expect(page.get_by_role("button", name="Gem kladde")).to_have_count(0)
    check_page(page, "module-of-a-closed-unit")
    log_out(page)

    log_in(team.admin)
    page.goto(f"/admin/enheder/{team.unit.id}/rediger")
    page.locator("#closing").get_by_role("button", name="Genåbn enheden").click()
    expect(page.get_by_role("status").first).to_contain_text("er åben igen")
    log_out(page)

    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    expect(page.get_by_role("main")).not_to_contain_text("Enheden er lukket")
    expect(page.get_by_role("button", name="Gem kladde")).to_be_visible()
