"""The shared page check must catch what it promises to catch: these pages are made wrong on
purpose (served by the browser's router, under laks' own Content-Security-Policy)."""

from __future__ import annotations

import pytest

from tests.browser.helpers import check_page

PAGE = """<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Prøve</title></head>
<body><main><h1>Prøve</h1>{body}</main></body></html>"""

pytestmark = pytest.mark.browser


@pytest.fixture
def probe(page):
    """Serve ``body`` at /probe with the headers laks sends, and open it."""
    csp = page.request.get("/").headers["content-security-policy"]

    def serve(body: str):
        page.route("**/probe", lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": csp}, body=PAGE.format(body=body)))
        page.goto("/probe")

    return serve


def test_check_page_passes_a_clean_page(probe, page):
    probe("<p>Alt er i orden.</p>")
    assert check_page(page, "probe-clean", screenshot=False) == []


@pytest.mark.parametrize("body", [
    "<script>document.title = 'inline';</script>",
    '<p style="color: red">Inline stil</p>',
    '<button type="button" onclick="alert(1)">Klik</button>',
], ids=["inline-script", "inline-style", "inline-handler"])
def test_check_page_fails_on_a_csp_violation(probe, page, body):
    probe(body)
    if "onclick" in body:
        page.get_by_role("button").click()
    with pytest.raises(AssertionError, match="CSP"):
        check_page(page, "probe-csp", screenshot=False)


def test_check_page_fails_on_a_serious_axe_finding(probe, page):
    probe('<form><input type="text" name="navn"></form>')  # a field without a label
    with pytest.raises(AssertionError, match="axe.*label"):
        check_page(page, "probe-axe", screenshot=False)


def test_check_page_fails_on_a_missing_file(probe, page):
    probe('<img src="/static/findes-ikke.png" alt="Mangler">')
    with pytest.raises(AssertionError, match="404"):
        check_page(page, "probe-404", screenshot=False)


def test_check_page_fails_on_a_script_error(probe, page):
    page.route("**/probe.js", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="throw new Error('kaputt');"))
    probe('<script src="/probe.js"></script>')
    with pytest.raises(AssertionError, match="uncaught.*kaputt"):
        check_page(page, "probe-script", screenshot=False)
