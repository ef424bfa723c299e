"""The one check every browser test runs on every page it visits: :func:`check_page`."""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: axe findings at these levels fail a test; the others are printed for a person to read.
FAILING_IMPACTS = {"serious", "critical"}

_axe = Axe()
_problems: dict[int, list[str]] = {}

# Runs in the page before any of its own scripts (injected by the browser, so the page's
# CSP does not apply to it): records every Content-Security-Policy violation.
_CSP_RECORDER = """
window.__laksCspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__laksCspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""


def watch(page) -> None:
    """Start collecting console errors, uncaught exceptions and CSP violations of ``page``."""
    problems = _problems.setdefault(id(page), [])
    page.add_init_script(_CSP_RECORDER)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and not _is_status_report(m.text) else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)


def unchecked_problems(page) -> list[str]:
    """Problems seen since the last :func:`check_page` (and forget the page)."""
    return _problems.pop(id(page), [])


def _is_status_report(text: str) -> bool:
    # Chromium reports every HTTP error status in the console, also the page's own 404 or
    # 422 (a form with errors). Sub-resources are checked through their responses instead.
    return text.startswith("Failed to load resource: the server responded with a status")


def axe_findings(page) -> list[dict]:
    """axe-core's violations on the page as it is now, every rule, every impact."""
    return _axe.run(page).response["violations"]


def check_page(page, name: str, *, screenshot: bool = True) -> list[dict]:
    """Check the page the browser shows now, and save a screenshot of it.

    Fails when axe-core finds a serious or critical violation, when the console shows an
    error or warning (a CSP violation is one), when a sub-resource failed to load, or when
    the page raised an exception. Returns the minor axe findings, which are also printed.
    """
    page.wait_for_load_state("load")
    if screenshot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{_safe(name)}.png"), full_page=True)
    violations = axe_findings(page)
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    minor = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
    for v in minor:
        print(f"axe {v['impact']} on {name}: {v['id']} – {v['help']} ({len(v['nodes'])}x)")
    csp = page.evaluate("window.__laksCspViolations || []")
    problems = _problems.get(id(page), []) + [f"CSP: {c}" for c in csp]
    _problems[id(page)] = []
    page.evaluate("window.__laksCspViolations = []")
    assert not serious, f"axe on {name}: " + "; ".join(_describe(v) for v in serious)
    assert not problems, f"browser problems on {name}: {problems}"
    return minor


def _describe(violation: dict) -> str:
    targets = ", ".join(str(n["target"]) for n in violation["nodes"][:5])
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}"


def _safe(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
