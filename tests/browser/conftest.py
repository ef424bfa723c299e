"""Browser tests: laks served on 127.0.0.1 by the test session, driven in Debian's Chromium.

The server is a real WSGI server in a thread, on the same database as the rest of the suite
(SQLite or PostgreSQL). Its app has CSRF protection switched on, as in production. Each test
seeds what it needs through the shared factories; the ``app`` fixture empties the tables
afterwards.
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from laks.extensions import db
from tests.browser.helpers import unchecked_problems, watch
from tests.conftest import PASSWORD, current_code, make_test_app


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, never a browser downloaded by Playwright.
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def _closing(app):
    """``app`` with each response's iterable closed as soon as it is exhausted (or
    collected). Werkzeug's development server closes it only after draining the socket, and
    a browser that drops the connection there (as Chromium does for a favicon) leaves a file
    response open – a ResourceWarning in whatever test runs next."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(_schema, database_url, instance_path):
    """The base URL of laks, served for the whole session on a free port."""
    app = make_test_app(database_url, instance_path, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="laks-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture
def page(page, app):
    """Playwright's page, watched for console errors and CSP violations from the start.

    Pages passed through on the way (after a redirect, say) get no axe run, but a console
    error or CSP violation on them still fails the test when it ends. Depends on ``app`` so
    that the tables are emptied after the browser is done with them.
    """
    watch(page)
    yield page
    left = unchecked_problems(page)
    assert not left, f"browser problems after the last check: {left}"


@pytest.fixture
def module_definitions(app):
    """The five module definitions, stored as `flask seed` stores them."""
    from laks.services.definitions import load_definition_files
    from laks.services.seed import SEED_DIR

    load_definition_files(SEED_DIR / "modules")
    db.session.commit()


@pytest.fixture
def log_in(page):
    """Log ``user`` in through the front page's form, as a person would – with the code of
    now from their app when they have a second factor."""

    def do(user, password: str = PASSWORD):
        page.goto("/log-ind")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Adgangskode").fill(password)
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url(lambda url: url.endswith(("/hjem", "/log-ind/kode")))
        if page.url.endswith("/log-ind/kode"):
            page.get_by_label("Kode", exact=True).fill(current_code(user))
            page.get_by_role("button", name="Log ind").click()
            page.wait_for_url("**/hjem")

    return do
