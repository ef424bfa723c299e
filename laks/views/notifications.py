"""A person's notifications: the recent ones (opening one marks it read) and the kinds of
notification they want by mail and in laks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Notification
from laks.services import notifications as service
from laks.views import guard

bp = Blueprint("notifications", __name__)


@bp.get("/meddelelser")
@guard("account.notifications")
def index():
    return render_template("notifications/index.html", items=service.recent(current_user),
                           form=EmptyForm(formdata=None))


@bp.post("/meddelelser/laest")
@guard("account.notifications")
def read_all():
    if not EmptyForm().validate():
        abort(400)
    service.mark_read(current_user)
    db.session.commit()
    flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.get("/meddelelser/<id:notification_id>")
@guard("account.notifications")
def open_one(notification_id: int):
    """Mark the notification read and go to what it is about."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    service.mark_read(current_user, item.id)
    db.session.commit()
    return redirect(item.url if item.url.startswith("/") else url_for("notifications.index"))


@bp.route("/konto/meddelelser", methods=["GET", "POST"])
@guard("account.notifications")
def settings():
    kinds = service.kinds_for(current_user)
    if request.method == "POST":
        if not EmptyForm().validate():
            abort(400)
        service.set_preferences(current_user, set(request.form.getlist("kind")) & set(kinds))
        db.session.commit()
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("notifications.settings"))
    off = set(current_user.notifications_off or [])
    return render_template("notifications/settings.html", form=EmptyForm(formdata=None),
                           kinds=[(k, service.KINDS[k], k not in off) for k in kinds])
