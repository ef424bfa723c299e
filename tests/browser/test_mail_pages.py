"""Mail in the browser: a forgotten password from the login page to the home page, through
the mail in the outbox; the links that cannot be used; the admin's outbox – every page
checked (axe, CSP, console) and photographed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import Role
from laks.extensions import db
from laks.models import MailMessage
from laks.services import mail
from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser

NEW_PASSWORD = "en helt ny og lang adgangskode"


def test_browser_forgotten_password_journey(page, app, make_user, tmp_path):
    user = make_user(Role.STAFF, email="ida@kommune.dk", name="Ida Iversen")
    page.goto("/log-ind")
    page.get_by_role("link", name="Glemt adgangskode?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Glemt adgangskode")
    check_page(page, "password-forgotten")

    page.get_by_label("E-mail").fill("ikke en adresse")
    page.get_by_role("button", name="Send linket").click()
    expect(page.locator("#error-summary")).to_contain_text("Skriv en e-mailadresse")
    expect(page.get_by_label("E-mail")).to_have_value("ikke en adresse")
    check_page(page, "password-forgotten-error")

    page.get_by_label("E-mail").fill("ida@kommune.dk")
    page.get_by_role("button", name="Send linket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tjek din mail")
    check_page(page, "password-sent")

    app.config["LAKS_OUTBOX_DIR"] = str(tmp_path)
    assert mail.send_pending() == (1, 0)
    message = db.session.scalar(select(MailMessage))
    link = re.search(r"/nulstil-adgangskode/\S+", message.text_body).group()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vælg en ny adgangskode")
    check_page(page, "password-reset")
    page.get_by_label("Ny adgangskode").fill("kort")
    page.get_by_label("Gentag adgangskoden").fill("kort")
    page.get_by_role("button", name="Gem adgangskode").click()
    expect(page.locator("#error-summary")).to_contain_text("mindst 12 tegn")
    check_page(page, "password-reset-error")
    page.get_by_label("Ny adgangskode").fill(NEW_PASSWORD)
    page.get_by_label("Gentag adgangskoden").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Gem adgangskode").click()
    page.wait_for_url("**/hjem")
    expect(page.locator("main")).to_contain_text("Din nye adgangskode er gemt")
    check_page(page, "password-reset-home")

    page.goto(link)  # used: it says so, and offers a new one
    expect(page.get_by_role("heading", level=1)).to_have_text("Linket kan ikke bruges")
    expect(page.get_by_role("button", name="Send linket")).to_be_visible()
    check_page(page, "password-link-used")
    db.session.expire_all()
    assert db.session.get(type(user), user.id).check_password(NEW_PASSWORD)


def test_browser_new_invitation_link_page(page):
    page.goto("/invitation/ikke-et-link")
    page.get_by_role("link", name="Få et nyt invitationslink").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nyt invitationslink")
    check_page(page, "invitation-new-link")
    page.get_by_label("E-mail").fill("nogen@kommune.dk")
    page.get_by_role("button", name="Send linket").click()
    expect(page.locator("main")).to_contain_text("der endnu ikke har en adgangskode")
    check_page(page, "invitation-new-link-sent")


def test_browser_outbox(page, app, make_user, log_in, tmp_path):
    admin = make_user(Role.ADMIN)
    failed = mail.queue_mail(make_user(Role.STAFF, email="jens@kommune.dk"), "password_reset",
                             "password_reset", link="http://laks.test/x", minutes=60)
    failed.attempts = 1
    failed.last_error = "SMTP-serveren kunne ikke nås: [Errno 111] Connection refused"
    mail.queue_mail(make_user(Role.STAFF, email="karen@kommune.dk"), "invitation",
                    "invitation", link="http://laks.test/invitation/x", days=7)
    db.session.commit()
    log_in(admin)
    page.goto("/admin/post")
    expect(page.get_by_role("heading", level=1)).to_have_text("Udbakke")
    expect(page.locator("main")).to_contain_text("kunne ikke nås")
    check_page(page, "outbox")
    page.get_by_role("link", name="Vælg en ny adgangskode til laks").click()
    expect(page.locator("main")).to_contain_text("Seneste forsøg slog fejl")
    check_page(page, "outbox-mail")
    page.get_by_role("button", name="Send igen").click()
    expect(page.locator("main")).to_contain_text("sendes igen nu")
    check_page(page, "outbox-mail-resent")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/admin/post")
    check_page(page, "outbox-320")
