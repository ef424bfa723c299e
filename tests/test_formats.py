"""One date-time format everywhere: "25. nov. 2026 kl. 23.27" in Danish, "25 Nov 2026, 23:27"
in English, always in Copenhagen's local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import session

from laks.enums import ModuleState as S
from laks.enums import Role
from laks.extensions import db
from laks.i18n import format_moment
from laks.models import AuditEvent
from laks.services import modules as service
from tests.test_workflow import module_in

ROOT = Path(__file__).resolve().parents[1]

WINTER = datetime(2026, 11, 25, 22, 27, tzinfo=UTC)  # 23.27 in Copenhagen (CET)
SUMMER = datetime(2026, 6, 1, 10, 5, tzinfo=UTC)  # 12.05 in Copenhagen (CEST)


@pytest.mark.parametrize(
    ("lang", "moment", "expected"),
    [("da", WINTER, "25. nov. 2026 kl. 23.27"), ("en", WINTER, "25 Nov 2026, 23:27"),
     ("da", SUMMER, "1. jun. 2026 kl. 12.05"), ("en", SUMMER, "1 Jun 2026, 12:05")],
    ids=["danish-winter", "english-winter", "danish-summer", "english-summer"],
)
def test_formats_moment_in_local_time_and_the_reader_language(app, lang, moment, expected):
    with app.test_request_context("/"):
        session["lang"] = lang
        assert format_moment(moment) == expected


def test_formats_no_moment_is_empty(app):
    with app.test_request_context("/"):
        assert format_moment(None) == ""


def test_formats_no_template_or_module_formats_a_moment_its_own_way():
    """Every date-time goes through format_moment; Babel's format_datetime is used nowhere."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder, pattern in (("templates", "*.html"), ("laks", "*.py"))
        for path in (ROOT / folder).rglob(pattern)
        if re.search(r"format_datetime\(|strftime\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _saved_module(team, moment):
    um = service.unit_module_for(team.unit, "udfordring")
    service.save_answers(um, {"challenge_title": "Vi mister dem i uge 3"},
                         actor=team.tovholder, base_version=0)
    service.add_comment(um, "Godt begyndt.", actor=team.facilitator)
    db.session.flush()
    um.updated_at = moment
    for revision in um.revisions:
        revision.created_at = moment
    for change in um.state_changes:
        change.at = moment
    for comment in um.comments:
        comment.created_at = moment
    db.session.commit()
    return um


def test_formats_module_page_revisions_and_home_use_the_one_format(client, login, team):
    _saved_module(team, WINTER)
    login(team.tovholder)
    page = client.get(f"/enheder/{team.unit.id}/moduler/udfordring").get_data(as_text=True)
    # Last saved (twice), the timeline and the discussion.
    assert page.count("25. nov. 2026 kl. 23.27") == 4
    assert "Sidst gemt 25. nov. 2026 kl. 23.27 af Tove Tovholder" in page
    revisions = client.get(f"/enheder/{team.unit.id}/moduler/udfordring/revisioner")
    assert "25. nov. 2026 kl. 23.27" in revisions.get_data(as_text=True)
    client.get("/sprog/en")
    page = client.get(f"/enheder/{team.unit.id}/moduler/udfordring").get_data(as_text=True)
    assert "Last saved 25 Nov 2026, 23:27 by Tove Tovholder" in page


def test_formats_facilitator_home_and_audit_log_use_the_one_format(client, login, team,
                                                                   make_user):
    um = module_in(team, S.SUBMITTED)
    um.submitted_at = WINTER
    for change in um.state_changes:  # the review queue tells the time of the 'submit' step
        change.at = WINTER
    db.session.commit()
    login(team.facilitator)
    home = client.get("/hjem").get_data(as_text=True)
    assert "25. nov. 2026 kl. 23.27" in home
    client.post("/log-ud")
    login(make_user(Role.ADMIN))
    db.session.query(AuditEvent).update({"at": WINTER})
    db.session.commit()
    log = client.get("/admin/log").get_data(as_text=True)
    assert log.count("25. nov. 2026 kl. 23.27") >= 5
