"""The pages laks shows when it refuses: too many failed logins (429) and the database away
(503) – the site's own pages, checked like every other page."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pyotp
import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from laks.enums import Role
from laks.extensions import db
from tests.browser.helpers import check_page
from tests.conftest import PASSWORD
from tests.test_db_outage import ANNE_SECRET, outage_app, postgres  # noqa: F401 (fixtures)
from tests.test_login_limits import limited_app  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/log-ind")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()


def test_browser_too_many_failed_logins_page(page, make_user, limited_app):  # noqa: F811
    user = make_user(Role.STAFF)
    with serving(limited_app()) as base:
        for _ in range(5):
            log_in(page, base, user.email, "not the password at all")
            expect(page.locator("#error-summary")).to_contain_text("forkert")
        log_in(page, base, user.email, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "For mange forsøg på at logge ind")
        expect(page.locator("main")).to_contain_text("Prøv igen efter kl.")
        check_page(page, "too-many-logins")


def test_browser_database_unavailable_page(page, postgres, outage_app):  # noqa: F811
    with serving(outage_app) as base:
        log_in(page, base, "anne@example.org", PASSWORD)
        page.get_by_label("Kode", exact=True).fill(pyotp.TOTP(ANNE_SECRET).now())
        page.get_by_role("button", name="Log ind").click()
        expect(page.get_by_text("Anne Admin").first).to_be_visible()
        postgres.stop()
        page.goto(f"{base}/hjem")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "laks er ikke tilgængelig lige nu")
        check_page(page, "database-unavailable")
        postgres.start()
        page.get_by_role("link", name="Prøv igen").click()
        expect(page.get_by_text("Anne Admin").first).to_be_visible()
