"""The access log in the browser: an observer reads a unit and is refused the log; the
network admin filters the log by unit, action and period, sees who looked from where, is told
about a filter value laks cannot use, and downloads the selection as CSV. Every page checked
by check_page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser


def test_browser_access_log_filters_and_exports(page, log_in, team):
    log_in(team.observer)
    page.goto(f"/enheder/{team.unit.id}")
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    page.goto("/admin/log")
    check_page(page, "access-log-refused")  # the 403 page, itself logged
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/")

    log_in(team.admin)
    page.goto("/admin/log")
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisionslog")
    page.get_by_label("Enhed").select_option(label=team.unit.title)
    page.get_by_label("Handling").select_option(label="Enhedens data set")
    page.get_by_label("Fra").fill("2020-01-01")
    page.get_by_role("button", name="Vis").click()
    expect(page).to_have_url(re.compile(rf"enhed={team.unit.id}"))
    table = page.locator("table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text(f"{team.unit.title}: Handleplan")
    expect(table).to_contain_text("127.0.0.1")
    expect(table).to_contain_text("Chrome")
    check_page(page, "access-log-filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Hent disse hændelser som CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["Tidspunkt", "Person", "E-mail", "Handling"]
    assert [row[3] for row in rows[1:]] == ["Enhedens data set"] * 2

    page.goto(f"/admin/log?enhed={team.unit.id}&til=i+morgen")
    expect(page.get_by_role("alert")).to_contain_text("Periodens slutning er ikke en dato")
    check_page(page, "access-log-note")
