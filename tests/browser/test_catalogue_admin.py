"""The network admin curates, previews, publishes and withdraws an edition of the
inspiration catalogue in Chromium, without JavaScript tricks; the tovholder reads the
unit's consent page. Every page goes through check_page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import EditionStatus, Role
from laks.extensions import db
from laks.models import Edition, Membership, Unit, User
from laks.services.seed import load_seed
from tests.browser.helpers import check_page
from tests.browser.translations import assert_translated

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app):
    report = load_seed(demo=True)
    db.session.commit()
    return report


def _user(**where) -> User:
    return db.session.scalar(select(User).filter_by(**where).order_by(User.id))


def test_browser_admin_curates_previews_publishes_and_withdraws(page, demo, log_in):
    admin = _user(role=Role.ADMIN)
    log_in(admin, password=demo.demo_password)
    page.get_by_role("link", name="Inspirationskatalog").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inspirationskatalog")
    expect(page.get_by_role("cell", name="Inspirationskatalog – LAKS")).to_be_visible()
    check_page(page, "catalogue-admin-index")

    page.get_by_role("link", name="Ny udgave").click()
    page.get_by_role("button", name="Opret udgaven").click()
    expect(page.locator(".form-error-message").first).to_contain_text("Giv udgaven en titel")
    check_page(page, "catalogue-admin-new-error")
    page.get_by_label("Titel").fill("Inspirationskatalog – LAKS, 2. udgave")
    page.get_by_label("Forløb").select_option(label="LAKS – Lige Adgang til Kommunale "
                                                    "Sundhedstilbud")
    page.get_by_label("Gruppér casene").select_option(label="Efter kommune")
    page.get_by_role("button", name="Opret udgaven").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2. udgave")
    check_page(page, "catalogue-admin-edit-draft")

    page.get_by_label("Forord").fill("**Kære læser.** Her er anden udgave.")
    page.get_by_role("button", name="Forhåndsvis teksterne").click()
    expect(page.locator(".catalogue-text-preview strong")).to_have_text("Kære læser.")
    check_page(page, "catalogue-admin-text-preview")
    page.get_by_role("button", name="Gem teksterne").click()
    expect(page.locator(".alert-success")).to_contain_text("Udgavens tekster er gemt")

    # Choose two cases, then move the second above the first with its button.
    boxes = page.locator("input[name=unit]")
    expect(boxes).to_have_count(4)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Gem casene").click()
    expect(page.locator(".alert-success")).to_contain_text("Udgavens cases er gemt")
    first = page.locator("table.catalogue-choose tbody tr").nth(0).locator("strong").inner_text()
    second = page.locator("table.catalogue-choose tbody tr").nth(1).locator("strong").inner_text()
    page.locator("table.catalogue-choose tbody tr").nth(1).get_by_role(
        "button", name="Op").click()
    expect(page.locator("table.catalogue-choose tbody tr").nth(0).locator("strong")
           ).to_have_text(second)
    expect(page.locator("table.catalogue-choose tbody tr").nth(1).locator("strong")
           ).to_have_text(first)
    expect(page.get_by_role("heading", name="Enheder, hvis case ikke kan komme med endnu")
           ).to_be_visible()
    check_page(page, "catalogue-admin-edit-cases")

    page.get_by_role("link", name="Forhåndsvis udgaven").click()
    expect(page.get_by_role("heading", level=2, name="Forord")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Indhold")).to_be_visible()
    expect(page.get_by_role("heading", level=3, name=second)).to_be_visible()
    expect(page.get_by_role("heading", level=4, name="Resultater for målgruppen").first
           ).to_be_visible()
    check_page(page, "catalogue-admin-preview")

    page.get_by_role("link", name="Tilbage til udgave 2").click()
    page.get_by_role("link", name="Udgiv …").click()
    check_page(page, "catalogue-admin-publish-confirm")
    page.get_by_role("button", name="Udgiv udgave 2").click()
    expect(page.locator(".alert-success")).to_contain_text("Udgave 2 er udgivet")
    expect(page.get_by_role("heading", name="Træk udgaven tilbage")).to_be_visible()
    check_page(page, "catalogue-admin-published")
    edition = db.session.scalar(select(Edition).where(Edition.number == 2))
    assert edition.status == EditionStatus.PUBLISHED
    assert [c.snapshot["title"] for c in edition.cases] == [second, first]

    page.get_by_role("button", name="Træk udgave 2 tilbage").click()
    expect(page.locator(".form-error-message")).to_contain_text("Skriv, hvorfor")
    check_page(page, "catalogue-admin-withdraw-error")
    page.get_by_label("Hvorfor trækkes udgaven tilbage?").fill("Udgivet ved en fejl.")
    page.get_by_role("button", name="Træk udgave 2 tilbage").click()
    expect(page.locator(".alert-success")).to_contain_text("trukket tilbage")
    check_page(page, "catalogue-admin-withdrawn")
    db.session.expire_all()
    assert db.session.get(Edition, edition.id).status == EditionStatus.WITHDRAWN


def test_browser_admin_cannot_publish_an_empty_edition(page, demo, log_in):
    log_in(_user(role=Role.ADMIN), password=demo.demo_password)
    page.goto("/admin/katalog/ny")
    page.get_by_label("Titel").fill("Tom udgave")
    page.get_by_role("button", name="Opret udgaven").click()
    page.get_by_role("link", name="Udgiv …").click()
    expect(page.locator(".alert-error")).to_contain_text("En udgave uden cases kan ikke udgives")
    expect(page.get_by_role("button", name="Udgiv udgave 2")).to_have_count(0)
    check_page(page, "catalogue-admin-publish-empty")


def test_browser_tovholder_reads_the_consent_page(page, demo, log_in):
    unit = db.session.scalar(select(Unit).where(Unit.name == "Sundhedscenteret"))
    tovholder = db.session.scalar(select(User).join(Membership).where(
        Membership.unit_id == unit.id, Membership.is_tovholder))
    log_in(tovholder, password=demo.demo_password)
    page.goto(f"/enheder/{unit.id}/moduler/refleksion")
    expect(page.get_by_role("heading", name="Casen til inspirationskataloget")).to_be_visible()
    expect(page.get_by_text("Kontakt (funktion)")).to_be_visible()
    check_page(page, "catalogue-module-5-case")
    page.goto(f"/enheder/{unit.id}")
    page.get_by_role("link", name="Casen til inspirationskataloget og enhedens samtykke"
                     ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Samtykke til inspirationskataloget")
    expect(page.locator(".alert-success")).to_contain_text("gav samtykke på enhedens vegne")
    expect(page.get_by_role("heading", level=4, name="Kort fortalt")).to_be_visible()
    check_page(page, "catalogue-unit-consent")
    page.get_by_role("button", name="Træk samtykket tilbage").click()
    expect(page.locator(".alert-success")).to_contain_text("Samtykket er trukket tilbage")
    expect(page.get_by_role("button", name="Enheden giver samtykke til, at casen udgives")
           ).to_be_visible()
    check_page(page, "catalogue-unit-consent-withdrawn")


def test_browser_catalogue_admin_pages_in_english(page, demo, log_in):
    """The admin's catalogue pages and the consent page carry no Danish interface text
    when shown in English (the cases themselves are written in Danish)."""
    admin = _user(role=Role.ADMIN)
    edition = db.session.scalar(select(Edition))
    unit = edition.cases[0].unit
    log_in(admin, password=demo.demo_password)
    page.goto("/sprog/en?next=/admin/katalog/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for url, name, cases_shown in (
            ("/admin/katalog/", "index", False), (f"/admin/katalog/{edition.id}", "edit", False),
            (f"/admin/katalog/{edition.id}/forhaandsvisning", "preview", True),
            (f"/enheder/{unit.id}/katalog", "consent", True)):
        page.goto(url)
        check_page(page, f"catalogue-admin-{name}-en")
        if not cases_shown:  # a case's Danish text may hold words that are also labels
            assert_translated(page, "en")
        else:
            expect(page.get_by_role("heading", name="In brief").first).to_be_visible()
