"""The site's own error pages: never a stack trace, always a way back."""

from __future__ import annotations

import contextlib
import math
import time
from datetime import UTC, datetime

from flask import Flask, render_template
from flask_babel import format_time
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from laks.access import Refused
from laks.extensions import db, limiter, login_manager
from laks.views import access_log

#: Seconds a visitor (or a monitor) is asked to wait while the database is away.
RETRY_AFTER_UNAVAILABLE = 30


def database_unreachable(exc: BaseException) -> bool:
    """True for the errors that mean the database cannot be reached (down, restarting, the
    connection lost), as opposed to a mistake in a query."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def unavailable():
    """The 503 page, rendered from a template that asks the database nothing – not even who
    is logged in – so that it can be shown while the database is away."""
    with contextlib.suppress(Exception):  # the connection may be gone; nothing to undo then
        db.session.rollback()
    html = render_template(
        "errors/unavailable.html",
        title=_("laks is unavailable right now"),
        text=_("laks cannot reach its database at the moment. Nothing you saved before is "
               "lost. Try again in a minute."),
    )
    return html, 503, {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}


def register(app: Flask) -> None:
    def page(code: int, title: str, text: str, headers: dict | None = None):
        try:
            html = render_template("errors/error.html", code=code, title=title, text=text)
        except DBAPIError as exc:
            # The layout shows who is logged in; if that needs a database that is away,
            # say so instead of failing twice.
            if not database_unreachable(exc):
                raise
            return unavailable()
        return html, code, headers or {}

    @app.errorhandler(DBAPIError)
    def database_error(exc):
        if not database_unreachable(exc):
            raise exc  # a real error: the 500 page (or the test) gets it
        app.logger.warning("database unreachable: %s", exc.orig)
        return unavailable()

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(_exc):
        # Someone else's step (a review, a withdrawal …) reached the same module first: the
        # optimistic lock refused this one. Nothing of it is stored; say so, not a 500.
        db.session.rollback()
        return page(409, _("Changed by someone else meanwhile"),
                    _("Someone else changed this at the same moment, so nothing was changed "
                      "by you. Go back, reload the page to see what it is now, and try "
                      "again if it is still needed."))

    @app.errorhandler(401)
    def unauthorized(_exc):
        access_log.refused("login")
        return login_manager.unauthorized()

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        access_log.refused("csrf")
        return page(400, _("The form had expired"),
                    _("For your security the form is only valid for a while. Go back, reload "
                      "the page and try again."))

    @app.errorhandler(400)
    def bad_request(_exc):
        return page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def forbidden(exc):
        if isinstance(exc, Refused):  # the rule says why (e.g. the unit is closed)
            return page(403, _("Not possible now"), str(exc.reason))
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

    @app.errorhandler(429)
    def too_many(_exc):
        breached = limiter.current_limit
        reset_at = breached.window.reset_time if breached is not None else time.time() + 60
        wait = max(1, math.ceil(reset_at - time.time()))
        # The minute shown is never earlier than the moment a new attempt is let through.
        minute = math.ceil((time.time() + wait) / 60) * 60
        at = format_time(datetime.fromtimestamp(minute, UTC), "short")
        return page(429, _("Too many attempts to log in"),
                    _("There have been too many failed attempts to log in with this e-mail "
                      "address or from your network. Try again after %(time)s.", time=at),
                    {"Retry-After": str(wait)})

    @app.errorhandler(500)
    def server_error(_exc):
        with contextlib.suppress(Exception):
            db.session.rollback()
        return page(500, _("Something went wrong"),
                    _("An error occurred on our side. Go back and try again "
                      "in a moment."))
