"""An edition's PDF: the public download, and the admin's view of its build (status for the
page's progress, and "build again").

The PDF is built in the background (laks.jobs) and stored in the instance folder; here it is
only served. A withdrawn edition's PDF is gone (410) like its pages; a draft's, or an unknown
number's, is not found (404). While a published edition's first PDF is being made, the
download answers 503 with Retry-After and says so; a failed or never-built PDF is 404. A
failed rebuild keeps the previous file, which is still served.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from laks import jobs
from laks.enums import BuildStatus, EditionStatus
from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Edition
from laks.services import catalogue_pdf
from laks.views import guard
from laks.views.catalogue_public import public_edition

bp = Blueprint("catalogue_pdf", __name__)

#: Seconds a visitor is asked to wait for a PDF that is being made.
RETRY_AFTER_BUILDING = 30
#: The builds that are on their way.
IN_PROGRESS = (BuildStatus.QUEUED, BuildStatus.BUILDING)


@bp.before_app_request
def _start_jobs() -> None:
    """The in-process worker starts with the first request its process serves (so that a
    command line, which ends at once, never starts one)."""
    jobs.ensure_worker(current_app._get_current_object())


def download_name(edition: Edition) -> str:
    return f"inspirationskatalog-udgave-{edition.number}.pdf"


@bp.get("/katalog/<id:number>/pdf")
@guard("public.view", load=public_edition)
def download(edition: Edition):
    """The edition's PDF as a download."""
    path = catalogue_pdf.pdf_path(edition)
    if path is not None:
        return send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=download_name(edition), max_age=0)
    if edition.pdf_status in IN_PROGRESS:
        html = render_template(
            "errors/error.html", code=503, title=_("The PDF is being made."),
            text=_("The PDF of this edition is being made right now. Try again in a minute; "
                   "until then you can read every case on the edition's page."))
        return html, 503, {"Retry-After": str(RETRY_AFTER_BUILDING)}
    html = render_template(
        "errors/error.html", code=404, title=_("The PDF is not available"),
        text=_("This edition has no PDF at the moment. You can read every case on the "
               "edition's page."))
    return html, 404


# --- the admin's side -------------------------------------------------------------------------

def load_edition(edition_id: int) -> Edition:
    return db.get_or_404(Edition, edition_id)


def status_of(edition: Edition) -> dict:
    """The build's state for the admin's page, as its script polls it."""
    label = get_template_attribute("catalogue/admin_macros.html", "pdf_status")(edition)
    return {
        "status": edition.pdf_status.value,
        "progress": edition.pdf_progress or 0,
        "label": str(label).strip(),
        "error": edition.pdf_error if edition.pdf_status == BuildStatus.FAILED else "",
        "done": edition.pdf_status not in IN_PROGRESS,
    }


@bp.get("/admin/katalog/<id:edition_id>/pdf-status")
@guard("catalogue.curate", load=load_edition)
def status(edition: Edition):
    """Where the edition's PDF is (JSON), for the progress on the admin's page."""
    return jsonify(status_of(edition))


@bp.post("/admin/katalog/<id:edition_id>/pdf")
@guard("catalogue.curate", load=load_edition)
def rebuild(edition: Edition):
    """Build the published edition's PDF again (after a failure, say). The previous PDF is
    served until the new one is there."""
    back = redirect(url_for("catalogue_admin.edit", edition_id=edition.id))
    if not EmptyForm().validate_on_submit():
        flash(_("The form had expired. Try again."), "error")
        return back
    if edition.status != EditionStatus.PUBLISHED:
        flash(_("Only a published edition has a PDF."), "error")
        return back
    if edition.pdf_status == BuildStatus.BUILDING:
        flash(_("The PDF is being made right now."), "info")
        return back
    jobs.enqueue_edition_pdf(edition)
    db.session.commit()
    flash(_("The PDF of edition %(num)d will be made again.", num=edition.number), "success")
    return back
