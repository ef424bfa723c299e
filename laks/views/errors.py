"""The site's own error pages: never a stack trace, always a way back."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from laks.extensions import db, login_manager


def register(app: Flask) -> None:
    def page(code: int, title: str, text: str):
        return render_template("errors/error.html", code=code, title=title, text=text), code

    @app.errorhandler(401)
    def unauthorized(_exc):
        return login_manager.unauthorized()

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return page(400, _("The form had expired"),
                    _("For your security the form is only valid for a while. Go back, reload "
                      "the page and try again."))

    @app.errorhandler(400)
    def bad_request(_exc):
        return page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def forbidden(_exc):
        return page(403, _("No access"),
                    _("You do not have access to this page. If you think you should, contact "
                      "the network admin."))

    @app.errorhandler(404)
    def not_found(_exc):
        return page(404, _("Page not found"),
                    _("The page does not exist. Check the address, or go to the front page."))

    @app.errorhandler(405)
    def not_allowed(_exc):
        return page(405, _("Not allowed"), _("This page cannot be used that way."))

    @app.errorhandler(413)
    def too_large(_exc):
        return page(413, _("Too much at once"),
                    _("What you sent is larger than laks accepts (2 MB). Go back, and save "
                      "long texts in smaller parts."))

    @app.errorhandler(500)
    def server_error(_exc):
        db.session.rollback()
        return page(500, _("Something went wrong"),
                    _("An error occurred on our side. Go back and try again "
                      "in a moment."))
