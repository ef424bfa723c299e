"""Progress at a glance: the matrix of units × modules, what needs someone, the totals for
the steering group, and both as CSV and XLSX.

A facilitator sees the units they facilitate; the network admin and observers every unit
(read-only: nothing here changes anything). Filters come from the query string; a value
that is not one of the choices is ignored with a note, a page past the end shows the last.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from laks.enums import MODULE_KEYS, ModuleState
from laks.services import overview as service
from laks.services import overview_export as export
from laks.services import overview_needs, overview_totals
from laks.services.progress import scale_words
from laks.testlog import STAGE_LABELS
from laks.views import guard, query_int

bp = Blueprint("overview", __name__, url_prefix="/oversigt")


def _filtered(*, states: bool = True):
    scope = service.scope_for(current_user)
    choices = service.filter_choices(scope)
    return scope, choices, service.read_filters(request.args, choices, states=states)


def _page_context(choices, filters) -> dict:
    return {"choices": choices, "filters": filters, "states": service.STATE_FILTER_LABELS,
            "sorts": service.SORTS, "filter_labels": service.FILTER_LABELS,
            "module_keys": MODULE_KEYS, "ModuleState": ModuleState,
            "page_size": service.PAGE_SIZE, "stages": STAGE_LABELS,
            "scale_words": scale_words}


@bp.route("/")
@guard("overview.view")
def matrix():
    """The units (rows) and their five modules (columns), a page at a time."""
    scope, choices, filters = _filtered()
    page = request.args.get("side", 1, type=query_int)
    return render_template("overview/matrix.html",
                           matrix=service.matrix_page(scope, filters, page),
                           **_page_context(choices, filters))


@bp.route("/venter")
@guard("overview.view")
def needs():
    """What needs someone: the review queue, changes requested, overdue, quiet units."""
    scope, choices, filters = _filtered(states=False)
    return render_template("overview/needs.html", needs=overview_needs.needs(scope, filters),
                           **_page_context(choices, filters))


@bp.route("/tal")
@guard("overview.totals")
def totals():
    """Per programme and municipality: units per state of each module, and the reach."""
    scope, choices, filters = _filtered(states=False)
    return render_template("overview/totals.html", programmes=overview_totals.totals(filters),
                           **_page_context(choices, filters))


def _download(header, lines, fmt: str, name: str, sheet: str) -> Response:
    filename = f"laks-{name}-{date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = export.to_csv(header, lines), export.CSV_MIMETYPE
    else:
        body, mimetype = export.to_xlsx(header, lines, sheet), export.XLSX_MIMETYPE
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/eksport/enheder.<fmt>")
@guard("overview.view")
def export_matrix(fmt: str):
    """The matrix with the filters applied, every page of it, as CSV or XLSX."""
    if fmt not in export.FORMATS:
        abort(404)
    scope, _choices, filters = _filtered()
    header, lines = export.matrix_table(service.matrix_rows(scope, filters))
    return _download(header, lines, fmt, "enheder", "Enheder")


@bp.route("/eksport/tal.<fmt>")
@guard("overview.totals")
def export_totals(fmt: str):
    """The totals with the filters applied, as CSV or XLSX."""
    if fmt not in export.FORMATS:
        abort(404)
    _scope, _choices, filters = _filtered(states=False)
    header, lines = export.totals_table(overview_totals.totals(filters))
    return _download(header, lines, fmt, "tal", "Tal")
