"""The web layer: thin blueprints, each endpoint guarded by one declared access action.

:func:`guard` is how an endpoint declares what it needs. It loads the object named in the
URL (a missing one is 404), asks :func:`laks.access.require`, and only then runs the view.
A ``before_request`` hook refuses every endpoint that has not declared an action, so a new
page is closed until someone decides who may see it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from laks.access import RULES, require

ACCESS_ATTR = "laks_access_action"
#: The largest id a database integer column holds (PostgreSQL's integer).
MAX_ID = 2**31 - 1


def guard(action: str, *, load: Callable | None = None):
    """Declare that an endpoint needs ``action``; with ``load``, on the object it returns.

    ``load`` receives the URL's keyword arguments and returns the object (or aborts 404);
    the view then receives that object as its single argument.
    """
    if action not in RULES:
        raise LookupError(f"unknown access action {action!r}")

    def decorate(view):
        @wraps(view)
        def guarded(**kwargs):
            obj = load(**kwargs) if load is not None else None
            g.laks_guarded = (action, obj)  # for the access log (laks.views.access_log)
            require(current_user, action, obj)
            return view(obj) if load is not None else view(**kwargs)

        setattr(guarded, ACCESS_ATTR, action)
        return guarded

    return decorate


def declared_action(endpoint: str) -> str | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def _deny_undeclared() -> None:
    if request.endpoint is not None and declared_action(request.endpoint) is None:
        abort(403)


class IdConverter(IntegerConverter):
    """A database id in a URL (``<id:unit_id>``): ASCII digits, at most what a PostgreSQL
    integer holds. Anything else matches no route, so it is 404, not a database error."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


def query_int(value: str) -> int:
    """A whole number from the query string, for ``request.args.get(name, default,
    type=query_int)``: ASCII digits a database integer holds, or ValueError (so the default
    is used) – a page number of twenty digits must not reach the database."""
    if not re.fullmatch(r"-?[0-9]{1,10}", value) or abs(int(value)) > MAX_ID:
        raise ValueError(value)
    return int(value)


def _refuse_nul_in_query() -> None:
    """No page takes a NUL character in its query string; PostgreSQL refuses it in text, so
    it is a bad request here rather than a database error later."""
    if "\x00" in request.query_string.decode("latin-1") or any(
            "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)


def _refuse_json_body() -> None:
    """laks' forms post form data, never JSON (its autosave too). Flask-WTF would read a
    JSON body as the form, and a body that is not an object of fields breaks it: a JSON
    body is a bad request, on every endpoint that changes something."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json:
        abort(400)


class WholeBody:
    """WSGI middleware: a body sent in chunks has no Content-Length to hold against
    MAX_CONTENT_LENGTH, and Werkzeug reads such a body only up to the limit – silently
    cutting the form short. It is read first (at most the limit and one byte) and passed on
    with its length, so that one over the limit gets the 413 of any other large body."""

    def __init__(self, app: Flask):
        self.app, self.wsgi_app = app, app.wsgi_app

    def __call__(self, environ, start_response):
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and environ.get("wsgi.input_terminated") \
                and environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = environ["wsgi.input"].read(limit + 1)
            environ = {**environ, "wsgi.input": io.BytesIO(body),
                       "CONTENT_LENGTH": str(len(body))}
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.wsgi_app(environ, start_response)


def register(app: Flask) -> None:
    from laks.views import (
        admin,
        auth,
        catalogue_admin,
        catalogue_unit,
        definitions,
        errors,
        home,
        modules,
        public,
        testlog,
        units,
    )

    app.url_map.converters["id"] = IdConverter  # before the routes that use it
    from laks.views.fragments import CSRF_SLOT, KeptExtension

    app.jinja_env.add_extension(KeptExtension)
    app.jinja_env.globals["csrf_slot"] = CSRF_SLOT
    for module in (public, auth, home, units, modules, admin, definitions, catalogue_admin,
                   catalogue_unit, testlog):
        app.register_blueprint(module.bp)
    from laks.views import catalogue_public, programme_public  # the public catalogue

    for module in (catalogue_public, programme_public):
        app.register_blueprint(module.bp)
    from laks.views import catalogue_pdf  # the catalogue's PDF (download, build status)

    app.register_blueprint(catalogue_pdf.bp)
    from laks.views import twofactor  # two-factor sign-in: the code, set-up, the admin's reset

    app.register_blueprint(twofactor.bp)
    from laks.views import outbox, password  # mail: the outbox, forgotten passwords

    for module in (outbox, password):
        app.register_blueprint(module.bp)
    from laks.views import network, profile  # programmes, units, people; one's own profile

    for module in (network, profile):
        app.register_blueprint(module.bp)
    from laks.views import notifications  # one's notifications and the kinds one wants

    app.register_blueprint(notifications.bp)
    from laks.views import overview  # progress at a glance: matrix, what needs someone, totals

    app.register_blueprint(overview.bp)
    errors.register(app)
    _register_filters(app)
    # Flask's own static endpoint is public, declared like every other endpoint.
    app.view_functions["static"] = guard("public.view")(app.view_functions["static"])
    app.before_request(_deny_undeclared)
    app.before_request(_refuse_nul_in_query)
    app.before_request(_refuse_json_body)
    app.wsgi_app = WholeBody(app)
    from laks.views import access_log  # views of a unit's data from outside it; refusals

    access_log.register(app)


def _groupby_first(items, attribute: str) -> list[tuple[str, list]]:
    """``items`` in runs of the same ``attribute`` (as text), in their order – unlike
    Jinja's groupby, which sorts: columns keep the order of the definition."""
    runs: list[tuple[str, list]] = []
    for item in items:
        value = getattr(item, attribute, None)
        label = str(value) if value is not None else ""
        if runs and runs[-1][0] == label:
            runs[-1][1].append(item)
        else:
            runs.append((label, [item]))
    return runs


def _filled_keys(row: dict) -> list[str]:
    """The keys of a row whose values are not empty."""
    return [key for key, value in (row or {}).items() if value not in (None, "", [])]


def _unread_notifications() -> int:
    """How many of the signed-in person's notifications are unread (the header shows it)."""
    from flask_login import current_user

    from laks.services.notifications import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


def _register_filters(app: Flask) -> None:
    """Filters for reading answers back: sanitised markdown and ISO dates in local form."""
    from laks.enums import QUESTION_KIND_LABELS
    from laks.privacy import small_count
    from laks.rendering import format_iso_date, render_markdown

    app.jinja_env.filters.update(markdown=render_markdown, isodate=format_iso_date,
                                 small_count=small_count, groupby_first=_groupby_first,
                                 select_filled=_filled_keys)
    app.jinja_env.globals.update(kind_label=lambda kind: str(QUESTION_KIND_LABELS[kind]),
                                 unread_notifications=_unread_notifications)
