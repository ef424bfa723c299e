"""A programme's public page, as LAKS had one while it ran: the units by municipality, each
with its chosen challenge and – once approved and consented – its action plan, so that others
can follow the work before any catalogue exists; and whom to contact in the network.

No person's name or e-mail address is ever shown here: the contact is a role and the
network's own address.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template

from laks import catalogue_search as public
from laks.models import Programme
from laks.views import guard

bp = Blueprint("programme_public", __name__, url_prefix="/forloeb")

#: A programme's slug as the seed gives it: letters, digits and dashes, at most the column's
#: 40 characters. Anything else (a NUL, say) is no programme, and never reaches the database.
SLUG = re.compile(r"[A-Za-z0-9_-]{1,40}")


def load_programme(slug: str) -> Programme:
    programme = public.programme_by_slug(slug) if SLUG.fullmatch(slug) else None
    if programme is None:
        abort(404)
    return programme


@bp.route("/<slug>")
@guard("public.view", load=load_programme)
def show(programme: Programme):
    editions = [e for e in public.published_editions() if e.programme_id == programme.id]
    return render_template(
        "programme/public.html", programme=programme,
        municipalities=public.programme_units(programme), editions=editions,
        contact_email=current_app.config.get("LAKS_CONTACT_EMAIL", ""))
