"""laks: the action-learning platform for equal access to municipal health offers.

``create_app()`` is the only way to get an application: configuration from the
environment (or ``test_config``), the extensions, the access policy on every request, the
blueprints, the CLI and the Jinja globals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import Flask, g, request
from flask_babel import format_date, get_locale, get_timezone, get_translations
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from laks import config
from laks.extensions import babel, csrf, db, limiter, login_manager, migrate
from laks.i18n import babel_locale, current_language, format_moment, language_links

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    _refuse_unsafe_configuration(app)
    # The session cookie's signature is not accepted for longer than a session may last
    # (Flask's default is 31 days); laks.views.auth ends it earlier when idle.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config["LAKS_SESSION_MAX_HOURS"])
    app.config["RATELIMIT_STORAGE_URI"] = app.config["LAKS_REDIS_URL"] or "memory://"
    if app.config["LAKS_PROXY_COUNT"]:
        proxies = app.config["LAKS_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=babel_locale)
    # Templates reach the user through the lazy ``current_user`` global below, not through
    # Flask-Login's context processor, which would load the user for every template – even
    # the page that says the database is away.
    login_manager.init_app(app, add_context_processor=False)
    limiter.init_app(app)

    from laks import cli, views

    views.register(app)
    cli.register(app)

    @app.before_request
    def remember_language():
        g.lang = current_language()

    @app.context_processor
    def the_person():
        # The person once per page, not through Flask-Login's proxy each of the forty-odd
        # times a page asks – once the request has loaded them: a page rendered before (the
        # one that says the database is away) keeps the lazy proxy, and loads no one.
        loaded = g.get("_login_user")
        return {"current_user": loaded} if loaded is not None else {}

    @app.after_request
    def security_headers(response):
        for name, value in _security_headers(app).items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    _serve_static_files(app)

    from flask_babel import format_decimal

    from laks.access import can
    from laks.enums import MODULE_TITLES

    _install_quick_translations(app)
    app.jinja_env.globals.update(
        current_user=current_user,
        can=can,
        format_date=_remembered_date,
        format_moment=_remembered_moment,  # the one date-time format of laks
        format_decimal=format_decimal,
        language_links=language_links,
        module_title=lambda key: str(MODULE_TITLES[key]),
    )
    return app


# --- the pages' words, dates and times, worked out once -----------------------------------
# A page asks for dozens of translated strings and formatted moments. Flask-Babel finds the
# request's translations anew for each string (through several context lookups), and Babel
# formats a moment in some 100 µs; together that was a third of a module page's time.


def _translations():
    """The translations of the request's locale, found once per request and locale (a
    ``force_locale`` block has a locale of its own, so it gets its own)."""
    here = g._get_current_object()  # one look through the proxy, not a dozen
    # Flask-Babel keeps the request's locale (and a force_locale block's) in g._flask_babel.
    locale = getattr(getattr(here, "_flask_babel", None), "babel_locale", None) or get_locale()
    found = getattr(here, "laks_translations", None)
    if found is None or found[0] is not locale:
        found = here.laks_translations = (locale, get_translations())
    return found[1]


def _install_quick_translations(app: Flask) -> None:
    """Jinja's ``_()``, ``ngettext()`` … through :func:`_translations`."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


@lru_cache(maxsize=8192)
def _moment_text(moment: datetime, _locale: str, _zone: str) -> str:
    return format_moment(moment)  # in the locale and zone of the key: those of now


@lru_cache(maxsize=4096)
def _date_text(value, format: str, _locale: str, _zone: str) -> str:
    return format_date(value, format)


def _remembered_moment(moment: datetime | None) -> str:
    """:func:`laks.i18n.format_moment`, remembered per moment, locale and time zone."""
    if moment is None:
        return ""
    return _moment_text(moment, str(get_locale()), str(get_timezone()))


def _remembered_date(value=None, format: str = "medium") -> str:
    """Flask-Babel's ``format_date``, remembered per date, format, locale and time zone."""
    if value is None:
        return format_date(value, format)
    return _date_text(value, format, str(get_locale()), str(get_timezone()))


def _security_headers(app: Flask) -> dict[str, str]:
    """The headers every answer carries, static files included."""
    headers = {
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if app.config["LAKS_SECURE_COOKIES"]:
        # Served over HTTPS only: browsers must never try plain HTTP for a year.
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def _serve_static_files(app: Flask) -> None:
    """Static files under fingerprinted names, compressed and cached for a year
    (laks.staticfiles): ``url_for('static', filename=...)`` names the fingerprinted file,
    which WhiteNoise answers before the app sees the request. Not in debug mode, where files
    change while the server runs and Flask serves them as they are."""
    if app.debug:
        return
    from laks import staticfiles

    built = staticfiles.build_once(Path(app.static_folder), Path(app.instance_path) / "static")
    names = built.names

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    app.wsgi_app = staticfiles.serve(app.wsgi_app, built, app.static_url_path,
                                     _security_headers(app))


def _refuse_unsafe_configuration(app: Flask) -> None:
    """Stop at start-up rather than run with a key that can be guessed from one cookie."""
    key = app.config.get("SECRET_KEY") or ""
    size = len(key.encode() if isinstance(key, str) else key)
    if size < config.MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"LAKS_SECRET_KEY is too short ({size} bytes): it signs sessions and invitation "
            f"links and must have at least {config.MIN_SECRET_KEY_BYTES} bytes. Make one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))', or leave "
            "LAKS_SECRET_KEY unset to have laks generate one in the instance folder."
        )
