"""The admin's edition page while the PDF is made, in Chromium: the progress shows and moves
without a reload (static/js/catalogue-admin.js polls the status), the page turns to the
download once the build is done, and "Byg PDF igen" queues it again. Every page is checked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from laks.enums import BuildStatus, Role
from laks.extensions import db
from laks.models import Edition
from laks.services import catalogue_pdf
from tests.browser.helpers import check_page
from tests.catalogue_factories import make_edition, snapshot

pytestmark = pytest.mark.browser


def _set(edition_id: int, **values) -> None:
    edition = db.session.get(Edition, edition_id)
    for name, value in values.items():
        setattr(edition, name, value)
    db.session.commit()


def _read(edition_id: int, name: str):
    """One value of the edition as stored now; no transaction is left open (on SQLite it
    would keep the server from writing)."""
    db.session.expire_all()
    value = getattr(db.session.get(Edition, edition_id), name)
    db.session.rollback()
    return value


def test_browser_admin_follows_the_pdf_build(page, log_in, make_user):
    admin = make_user(Role.ADMIN)
    edition = make_edition([snapshot(unit_id=1, title="Holdtræning tæt på hjemmet")],
                           pdf_status=BuildStatus.BUILDING)
    edition_id, number = edition.id, edition.number
    _set(edition_id, pdf_progress=10)
    db.session.rollback()
    log_in(admin)

    page.goto(f"/admin/katalog/{edition_id}")
    status = page.get_by_role("status").filter(has_text="Bliver lavet")
    expect(status).to_contain_text("Bliver lavet: 10 procent")
    bar = page.get_by_role("progressbar", name="Hvor langt PDF'en er")
    expect(bar).to_have_attribute("value", "10")
    expect(page.get_by_role("button", name="Byg PDF igen")).to_have_count(0)
    check_page(page, "catalogue-pdf-building")

    _set(edition_id, pdf_progress=75)  # the worker's next step, seen without a reload
    expect(status).to_contain_text("Bliver lavet: 75 procent", timeout=10_000)
    expect(bar).to_have_js_property("value", 75)

    _set(edition_id, pdf_status=BuildStatus.QUEUED)
    catalogue_pdf.build_edition_pdf(edition_id)  # the real build; the page reloads when done
    pages = _read(edition_id, "pdf_pages")
    expect(page.get_by_text(f"Klar ({pages} sider)")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    link = page.get_by_role("link", name="Hent PDF'en")
    expect(link).to_have_attribute("href", f"/katalog/{number}/pdf")
    check_page(page, "catalogue-pdf-ready")

    page.get_by_role("button", name="Byg PDF igen").click()
    expect(page.get_by_text(f"PDF'en til udgave {number} bliver lavet igen.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Venter på at blive lavet")).to_be_visible()
    assert _read(edition_id, "pdf_status") == BuildStatus.QUEUED
    check_page(page, "catalogue-pdf-queued-again")


def test_browser_admin_sees_a_failed_build(page, log_in, make_user):
    admin = make_user(Role.ADMIN)
    edition = make_edition([snapshot(unit_id=1)], pdf_status=BuildStatus.FAILED)
    edition_id = edition.id
    _set(edition_id, pdf_error="PDF'en kunne ikke laves: To cases har samme nøgle.")
    log_in(admin)
    page.goto(f"/admin/katalog/{edition_id}")
    expect(page.get_by_role("status").filter(has_text="Mislykkedes")).to_contain_text(
        "PDF'en kunne ikke laves: To cases har samme nøgle.")
    expect(page.get_by_role("button", name="Byg PDF igen")).to_be_visible()
    check_page(page, "catalogue-pdf-failed")
