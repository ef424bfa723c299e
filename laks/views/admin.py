"""Network-wide pages: programmes, people and the audit log."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from laks import queries
from laks.extensions import db
from laks.models import Programme
from laks.views import guard, query_int

bp = Blueprint("admin", __name__)

# The one date-time format of the interface, for every template (registered on the app).


def load_programme(programme_id: int) -> Programme:
    return db.get_or_404(Programme, programme_id)


@bp.route("/programmer/<id:programme_id>")
@guard("programme.view", load=load_programme)
def programme(programme: Programme):
    return render_template("admin/programme.html", programme=programme)


@bp.route("/admin/brugere")
@guard("user.list")
def users():
    return render_template("admin/users.html", users=queries.users_with_units())


@bp.route("/admin/log")
@guard("audit.view")
def audit():
    page = request.args.get("side", 1, type=query_int) or 1
    page = max(page, 1)
    action = request.args.get("handling") or None
    events, total = queries.audit_page(page, action)
    pages = max(1, -(-total // queries.AUDIT_PAGE_SIZE))
    return render_template(
        "admin/audit.html", events=events, total=total, page=page, pages=pages,
        action=action, actions=queries.audit_actions(),
    )
