"""The admin's outbox: every mail laks has queued, sent or given up on, and what went wrong."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from laks.enums import MailStatus
from laks.extensions import db
from laks.forms import EmptyForm
from laks.i18n import LANGUAGE_NAMES
from laks.models import MailMessage
from laks.services import mail
from laks.views import guard, query_int

bp = Blueprint("outbox", __name__)

STATUS_LABELS = {
    MailStatus.QUEUED: _l("Queued"),
    MailStatus.SENT: _l("Sent"),
    MailStatus.FAILED: _l("Failed"),
}


def load_mail(mail_id: int) -> MailMessage:
    return db.get_or_404(MailMessage, mail_id)


def _common() -> dict:
    settings = None
    try:
        settings = mail.smtp_settings()
        problem = None
    except mail.MailError as error:
        problem = str(error)
    return {"smtp": settings, "smtp_problem": problem, "outbox_dir": mail.outbox_dir(),
            "status_labels": STATUS_LABELS, "kind_label": mail.mail_kind_label,
            "sender": current_app.config["LAKS_MAIL_FROM"], "language_names": LANGUAGE_NAMES}


@bp.route("/admin/post")
@guard("mail.view")
def index():
    page = max(request.args.get("side", 1, type=query_int) or 1, 1)
    chosen = request.args.get("status") or ""
    status = MailStatus(chosen) if chosen in {s.value for s in MailStatus} else None
    mails, total = mail.outbox_page(page, status)
    pages = max(1, -(-total // mail.OUTBOX_PAGE_SIZE))
    return render_template("admin/outbox.html", mails=mails, total=total, page=page,
                           pages=pages, status=status, form=EmptyForm(formdata=None),
                           **_common())


@bp.route("/admin/post/<id:mail_id>")
@guard("mail.view", load=load_mail)
def show(message: MailMessage):
    return render_template("admin/outbox_mail.html", message=message,
                           eml_name=mail.eml_name(message), form=EmptyForm(formdata=None),
                           **_common())


@bp.post("/admin/post/<id:mail_id>/send-igen")
@guard("mail.resend", load=load_mail)
def resend(message: MailMessage):
    if not EmptyForm().validate():
        abort(400)
    try:
        mail.resend(message, actor=current_user._get_current_object())
    except mail.MailError:
        flash(_("This mail has been sent already."), "info")
    else:
        db.session.commit()
        flash(_("The mail to %(address)s is queued and will be sent again now.",
                address=message.to_address), "success")
    return redirect(url_for("outbox.show", mail_id=message.id))
