"""Languages: Danish first, English second.

The visitor's choice lives in the session (``/sprog/<code>``); anything else is Danish. The
English interface formats dates and numbers the British way ("25 November 2026"), which is
what Danish public services use for English.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, request, session, url_for
from flask_babel import format_date, format_time, gettext

#: Each language in its own name: a language switcher never translates these.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}

#: The Babel locale that formats dates and numbers for each interface language.
BABEL_LOCALES = {"da": "da", "en": "en_GB"}


def current_language() -> str:
    """The visitor's chosen language code if laks offers it, otherwise ``"da"`` – also
    outside a request (a background job, the command line), where there is no visitor."""
    if not has_request_context():
        return "da"
    chosen = session.get("lang")
    return chosen if chosen in current_app.config["LAKS_LOCALES"] else "da"


def babel_locale() -> str:
    """Flask-Babel's locale selector: the Babel locale of :func:`current_language`."""
    return BABEL_LOCALES[current_language()]


def language_links() -> list[dict]:
    """The language switcher's entries, the current language first (as DKFDS prescribes).

    Each link goes through ``/sprog/<code>`` and comes back to the page it was chosen on.
    """
    current = current_language()
    back = request.full_path if request.query_string else request.path
    codes = [current] + [c for c in current_app.config["LAKS_LOCALES"] if c != current]
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "href": url_for("public.set_language", code=code, next=back),
            "current": code == current,
        }
        for code in codes
    ]


def format_moment(moment: datetime | None) -> str:
    """A stored (UTC) moment as the reader sees every date and time in laks: local time in
    Copenhagen, "25. nov. 2026 kl. 23.27" in Danish, "25 Nov 2026, 23:27" in English.

    The one date-time format of the interface; ``None`` is the empty string. Needs a request
    or app context (the language and time zone come from Flask-Babel).
    """
    if moment is None:
        return ""
    return gettext("%(date)s, %(time)s", date=format_date(moment, "medium"),
                   time=format_time(moment, "short"))
