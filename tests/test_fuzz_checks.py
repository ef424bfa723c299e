"""The fuzzer's checks find what they look for: a test of them, so that a fuzz run that
passes means something."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from werkzeug.wrappers import Response

from laks.extensions import db
from laks.models import ModuleComment
from laks.privacy import looks_like_cpr
from laks.services import modules as module_service
from tests.fuzz_support import (
    MARK,
    SCRIPTS,
    WriteWatch,
    check_response,
    cpr_numbers,
    cpr_stored,
    scripts_in,
    unit_snapshot,
)


@pytest.mark.parametrize("page", [
    f"<p><script>{MARK}()</script></p>",
    f'<img src="x" onerror="{MARK}()">',
    f"<svg onload={MARK}()>",
    f'<a href="javascript:{MARK}()">x</a>',
    f'<a href=" java&#x09;script:{MARK}()">x</a>',
    f'<form action="JAVASCRIPT:{MARK}()"></form>',
    f'<iframe src="/x?{MARK}"></iframe>',
], ids=["script", "onerror", "onload", "javascript-link", "hidden-javascript-link",
        "javascript-action", "iframe"])
def test_fuzz_checks_find_a_script_in_a_page(page):
    assert scripts_in(page)
    with pytest.raises(AssertionError, match="script in the page"):
        check_response(Response(page, mimetype="text/html"), [], "a page")


@pytest.mark.parametrize("script", SCRIPTS)
def test_fuzz_checks_let_an_escaped_script_pass(script):
    from markupsafe import escape

    page = f'<p>{escape(script)}</p><input value="{escape(script)}"><a href="/x?q={MARK}">x</a>'
    assert scripts_in(page) == []


def test_fuzz_checks_fail_on_a_server_error_or_a_logged_exception():
    with pytest.raises(AssertionError, match="500"):
        check_response(Response("x", status=500), [], "a crash")
    record = logging.LogRecord("laks", logging.ERROR, __file__, 1, "Exception on /", (), None)
    with pytest.raises(AssertionError, match="logged"):
        check_response(Response("x", status=302), [record], "a crash caught")
    check_response(Response("x", status=503, headers={"Retry-After": "30"}), [], "building")


@settings(max_examples=50, deadline=None)
@given(cpr_numbers)
def test_fuzz_checks_cpr_numbers_are_recognised(number):
    assert looks_like_cpr(number)


def test_fuzz_checks_find_a_stored_cpr_number_and_a_changed_unit(app, team):
    before = unit_snapshot(team.other_unit.id)
    watch = WriteWatch(db.engine)
    unit_module = module_service.unit_module_for(team.other_unit, "udfordring")
    db.session.add(unit_module)
    db.session.add(ModuleComment(unit_module=unit_module, body="Borger 01.02.63-1234"))
    db.session.commit()
    watch.close()
    assert watch.may_hold({"0102631234"})
    assert cpr_stored({"0102631234"}) == [("module_comment", "Borger 01.02.63-1234")]
    assert cpr_stored({"0102639999"}) == []
    assert unit_snapshot(team.other_unit.id) != before
    assert unit_snapshot(team.unit.id) == unit_snapshot(team.unit.id)
