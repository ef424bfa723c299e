"""Notifications in the browser: a submission reaches the facilitator's list (with the
unread count in the menu) and the outbox; the facilitator opens it and lands on the module;
each person chooses what to hear about. Every page checked by check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from laks.extensions import db
from laks.services import modules as module_service
from tests.browser.helpers import check_page
from tests.test_workflow import COMPLETE_UDFORDRING

pytestmark = pytest.mark.browser


def log_out(page):
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/")


def test_browser_submission_reaches_the_facilitator_and_the_outbox(page, log_in, team):
    um = module_service.unit_module_for(team.unit, "udfordring")
    module_service.save_answers(um, COMPLETE_UDFORDRING, actor=team.tovholder, base_version=0)
    db.session.commit()
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    page.get_by_role("button", name="Indsend til facilitator").click()
    expect(page.get_by_role("status")).to_contain_text("indsendt")
    log_out(page)

    log_in(team.facilitator)
    menu = page.get_by_role("link", name="Meddelelser (1 ny)").first
    expect(menu).to_be_visible()
    menu.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meddelelser")
    check_page(page, "notifications-list")
    page.get_by_role("link", name=re.compile("har indsendt modul 1. Udfordring")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modul 1: Udfordring")
    expect(page.get_by_role("link", name="Meddelelser (1 ny)")).to_have_count(0)

    page.goto("/konto/meddelelser")
    check_page(page, "notification-settings")
    page.get_by_label("Nogen kommenterer et modul, jeg arbejder med").uncheck()
    page.get_by_role("button", name="Gem mine valg").click()
    expect(page.get_by_role("status")).to_contain_text("Dine valg er gemt")
    expect(page.get_by_label("Nogen kommenterer et modul, jeg arbejder med")).not_to_be_checked()
    expect(page.get_by_label("En af mine enheders moduler bliver indsendt")).to_be_checked()
    log_out(page)

    log_in(team.admin)
    page.goto("/admin/post")
    expect(page.get_by_role("main")).to_contain_text(team.facilitator.email)
    expect(page.get_by_role("main")).to_contain_text("har indsendt modul 1. Udfordring")
    check_page(page, "outbox-with-a-submission-notice")
