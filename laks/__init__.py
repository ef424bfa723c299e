"""laks: the action-learning platform for equal access to municipal health offers.

``create_app()`` is the only way to get an application: configuration from the
environment (or ``test_config``), the extensions, the access policy on every request, the
blueprints, the CLI and the Jinja globals.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_login import current_user

from laks import config
from laks.extensions import babel, csrf, db, login_manager, migrate
from laks.i18n import babel_locale, current_language, language_links

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

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=babel_locale)
    login_manager.init_app(app)

    from laks import cli, views

    views.register(app)
    cli.register(app)

    @app.before_request
    def remember_language():
        g.lang = current_language()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from flask_babel import format_date, format_datetime, format_decimal

    from laks.access import can
    from laks.enums import MODULE_TITLES

    app.jinja_env.globals.update(
        current_user=current_user,
        can=can,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        language_links=language_links,
        module_title=lambda key: str(MODULE_TITLES[key]),
    )
    return app
