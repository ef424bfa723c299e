"""The published inspiration catalogue on the web, for everyone, without login.

Only published editions are shown, and their cases only as they were frozen when the edition
was published (``EditionCase.snapshot``). A withdrawn edition answers 410 with its own page
on every public address; a draft or an unknown number is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request

from laks import catalogue_search as search
from laks.enums import EditionStatus
from laks.extensions import db
from laks.models import Edition, EditionCase
from laks.services import catalogue_pdf
from laks.services.catalogue import group_contents
from laks.views import guard

bp = Blueprint("catalogue_public", __name__, url_prefix="/katalog")

#: The endpoint that serves an edition's PDF (laks.views.catalogue_pdf).
PDF_ENDPOINT = "catalogue_pdf.download"


def public_edition(number: int) -> Edition:
    """The published edition ``number``; 410 with its own page if it was withdrawn, 404 for
    a draft or a number never given."""
    edition = search.edition_by_number(number)
    if edition is None or edition.status == EditionStatus.DRAFT:
        abort(404)
    if edition.status == EditionStatus.WITHDRAWN:
        abort(make_response(render_template(
            "catalogue/public_withdrawn.html", edition=edition,
            newest=search.newest_edition()), 410))
    return edition


def load_case(number: int, case_id: int) -> tuple[Edition, EditionCase]:
    edition = public_edition(number)
    case = db.session.get(EditionCase, case_id)
    if case is None or case.edition_id != edition.id or not case.snapshot:
        abort(404)
    return edition, case


def pdf_link(edition: Edition) -> bool:
    """Whether the edition has a PDF to download: the one built last, also while a new
    build runs or after one failed (the download serves the file that is there)."""
    return catalogue_pdf.pdf_path(edition) is not None


@bp.route("/")
@guard("public.view")
def index():
    """The newest edition's cases, searched and filtered; the list of editions."""
    edition = search.newest_edition()
    editions = search.published_editions()
    programmes = search.public_programmes()
    if edition is None:
        return render_template("catalogue/public_index.html", edition=None, editions=[],
                               programmes=programmes)
    cases = search.edition_cases(edition)
    choices = search.filter_choices(cases)
    chosen = search.choose_filters(request.args, choices)
    q = search.clean_query(request.args.get("q"))
    searched = bool(q or chosen.values)
    found = search.search_cases(edition, q, chosen.values) if searched else cases
    return render_template(
        "catalogue/public_index.html", edition=edition, editions=editions,
        programmes=programmes, cases=found, total=len(cases), q=q, choices=choices,
        chosen=chosen.values, ignored=chosen.ignored, searched=searched,
        filter_labels=search.FILTER_LABELS, excerpt=search.excerpt,
        pdf_link=pdf_link(edition), pdf_endpoint=PDF_ENDPOINT)


@bp.route("/<id:number>/")
@guard("public.view", load=public_edition)
def edition(edition: Edition):
    """An edition: its foreword and introduction, and its contents part by part."""
    cases = search.edition_cases(edition)
    # The parts of the edition as the catalogue groups them everywhere (web and PDF); each
    # case's content carries its id here so that the contents can link to it.
    parts = group_contents([{**case.snapshot, "_case_id": case.id} for case in cases],
                           edition.grouping)
    return render_template(
        "catalogue/public_edition.html", edition=edition, parts=parts, count=len(cases),
        newest=search.newest_edition(), pdf_link=pdf_link(edition), pdf_endpoint=PDF_ENDPOINT)


@bp.route("/<id:number>/cases/<id:case_id>")
@guard("public.view", load=load_case)
def case(found: tuple[Edition, EditionCase]):
    """One case, as it was published, on a page that prints well."""
    edition, edition_case = found
    return render_template(
        "catalogue/public_case.html", edition=edition, case=edition_case,
        content=edition_case.snapshot, pdf_link=pdf_link(edition), pdf_endpoint=PDF_ENDPOINT)
