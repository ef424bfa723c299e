"""The audit log speaks Danish: every action in words, every object by its name (never
``unit_module #22``), loaded in a fixed number of queries whatever the page holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import event, select

from laks import workflow
from laks.enums import AUDIT_ACTION_LABELS, Role
from laks.extensions import db
from laks.models import AuditEvent
from laks.services import accounts
from laks.services import definitions as definition_service
from laks.services import modules as service
from laks.services.seed import load_seed

LAKS = Path(__file__).resolve().parents[1] / "laks"
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _actions_in(tree: ast.AST) -> set[str]:
    """Every audit action a module writes: the action argument of record()/record_module()
    (a string, either branch of ``a if … else b``, or ``f"module.{action}"`` for each
    workflow action), and ``action="…"`` handed on to a helper that records it."""
    found: set[str] = set()

    def literal(node) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.IfExp):
            literal(node.body)
            literal(node.orelse)
        elif isinstance(node, ast.JoinedStr):
            prefix = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            assert prefix == "module.", f"an audit action built as {ast.unparse(node)}"
            found.update(f"module.{a}" for a in workflow.ACTIONS)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        if name in ("record", "record_module") and len(node.args) >= 2:
            literal(node.args[1])
        for keyword in node.keywords:
            if keyword.arg == "action" and isinstance(keyword.value, ast.Constant) \
                    and ACTION.match(str(keyword.value.value)):
                found.add(keyword.value.value)
    return found


def actions_written_by_laks() -> set[str]:
    return set().union(*(_actions_in(ast.parse(path.read_text(encoding="utf-8")))
                         for path in LAKS.rglob("*.py")))


def test_audit_log_every_action_written_has_danish_words():
    written = actions_written_by_laks()
    # The scan itself finds what it must (so that it cannot pass by finding nothing).
    assert {"auth.login", "auth.login_failed", "auth.logout", "user.create",
            "user.activate", "user.deactivate", "definition.update",
            "definition.add_question", "module.save", "module.autosave", "module.submit",
            "module.approve", "municipality.create", "unit.create"} <= written
    assert sorted(written - set(AUDIT_ACTION_LABELS)) == []


def test_audit_log_labels_are_translated(app):
    from flask import session

    with app.test_request_context("/"):
        session["lang"] = "da"
        assert str(AUDIT_ACTION_LABELS["auth.login"]) == "Logget ind"
        assert str(AUDIT_ACTION_LABELS["module.save"]) == "Gemt"


def _admin_log(client, login, make_user, query=""):
    client.post("/log-ud")
    login(make_user(Role.ADMIN, name="Louise Netværk"))
    response = client.get(f"/admin/log{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_audit_log_names_actions_and_objects_in_danish(client, login, team, make_user):
    um = service.unit_module_for(team.unit, "handleplan")
    service.save_answers(um, {"trial_action": "Flere gennemfører"}, actor=team.tovholder,
                         base_version=0)
    accounts.set_active(actor=team.admin, user=team.staff, active=False)
    definition_service.update_question(
        actor=team.admin, module_key="udfordring", question_key="health_offer",
        label_da="Sundhedstilbud", label_en="Health offer", help_da="", help_en="",
        required=True)
    db.session.commit()
    page = _admin_log(client, login, make_user)
    unit = team.unit.title
    assert f"<td>{unit}: Handleplan</td>" in page
    assert "<td>Gemt</td>" in page and "<td>Modul påbegyndt</td>" in page
    assert "<td>Person deaktiveret</td>" in page and "<td>Sanne Sygeplejerske</td>" in page
    assert "<td>Spørgsmål ændret</td>" in page and "<td>Udfordring</td>" in page
    assert "<td>Logget ind</td>" in page and "<td>Louise Netværk</td>" in page
    assert "til: Kladde" in page  # the new state of the module, in words
    for raw in ("unit_module #", "user_account #", "module_definition #", "<code>"):
        assert raw not in page
    # The filter speaks the same words, and filters by the action.
    assert '<option value="module.save">Gemt</option>' in page
    assert '<option value="auth.login">Logget ind</option>' in page
    filtered = client.get("/admin/log?handling=user.deactivate").get_data(as_text=True)
    assert "1 hændelse" in filtered and "<td>Gemt</td>" not in filtered


def test_audit_log_failed_login_says_why_in_danish(client, login, team, make_user):
    client.post("/log-ind", data={"email": "ukendt@example.org", "password": "forkert-forkert"})
    page = _admin_log(client, login, make_user, "?handling=auth.login_failed")
    assert "<td>Log ind mislykkedes</td>" in page
    assert "årsag: forkert e-mail eller adgangskode" in page
    assert "e-mail: ukendt@example.org" in page


def test_audit_log_shows_the_seed_objects_by_name(client, login, make_user):
    load_seed()
    db.session.commit()
    page = _admin_log(client, login, make_user, "?handling=unit.create")
    assert "<td>Enhed oprettet</td>" in page
    assert "<td>Holbæk – Sundhedscenteret</td>" in page
    programmes = client.get("/admin/log?handling=programme.create").get_data(as_text=True)
    assert "<td>LAKS – Lige Adgang til Kommunale Sundhedstilbud</td>" in programmes


def test_audit_log_names_a_catalogue_edition(client, login, team, make_user):
    from laks.enums import CatalogueGrouping
    from laks.services import catalogue

    catalogue.create_edition(team.admin, "Inspiration fra LAKS", None,
                             list(CatalogueGrouping)[0])
    db.session.commit()
    page = _admin_log(client, login, make_user, "?handling=catalogue.edition_create")
    assert "<td>1. udgave</td>" in page and "titel: Inspiration fra LAKS" in page
    assert "catalogue_edition #" not in page


def _statements(app, client, url) -> int:
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_audit_log_page_makes_no_query_per_row(app, client, login, team, make_user):
    """Names for a page of 50 events cost the same queries as for a page of a few."""
    um = service.unit_module_for(team.unit, "handleplan")
    service.save_answers(um, {"trial_action": "Første"}, actor=team.tovholder, base_version=0)
    db.session.commit()
    _admin_log(client, login, make_user)
    few = _statements(app, client, "/admin/log")
    others = [make_user(Role.STAFF, team.other_unit) for _ in range(8)]
    for person in others:
        accounts.set_active(actor=team.admin, user=person, active=False)
    units = [team.unit, team.other_unit]
    for n, key in enumerate(["udfordring", "praecisering", "afproevning", "refleksion"]):
        unit = units[n % 2]
        author = team.tovholder if unit is team.unit else team.other_staff
        module = service.unit_module_for(unit, key)
        service.save_answers(module, {}, actor=author, base_version=0)
        service.add_comment(module, "En kommentar", actor=author)
    db.session.commit()
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) > 25
    many = _statements(app, client, "/admin/log")
    assert many == few
