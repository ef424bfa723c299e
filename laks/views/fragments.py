"""Rendered pieces of pages, kept between requests.

A module's questions are the dearest part of its page to render – dozens of fields, each
through several macros – and the same answers to the same questions render the same HTML
for every reader in one language. So a module page keeps that piece, keyed by what it is
made from: the questions (by value), a digest of the answers, the unit, the module, and the
reader's language and time zone. Templates keep other pieces with ``{% kept key %}``: the
page header (by person, unread count, page and languages), a unit's five steps, a module's
timeline and discussion (by the steps, comments and people shown).

A changed thing changes the key, so nothing is ever invalidated; the least recently used
pieces go first. Nothing of one request is kept: a CSRF token is a slot each page fills, and
a form with errors or a conflict is rendered anew.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask import get_template_attribute
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from jinja2 import nodes
from jinja2.ext import Extension
from markupsafe import Markup

from laks.memo import BoundedCache

#: How many rendered pieces a process keeps (a module's questions are some 10–40 kB).
FRAGMENT_CACHE_SIZE = 512

fragment_cache: BoundedCache[Markup] = BoundedCache(FRAGMENT_CACHE_SIZE)


def reader_key() -> tuple[str, str]:
    """What besides its content a piece depends on: the reader's language and time zone."""
    return str(get_locale()), str(get_timezone())


def macro(template: str, name: str) -> Callable[..., Markup]:
    return get_template_attribute(template, name)


def kept(key: Hashable, render: Callable[[], Markup]) -> Markup:
    """The piece kept for ``key`` (to which the reader's language and time zone are
    added), or ``render()`` kept now. ``render`` gives a macro's output: markup that the
    template engine escaped as it rendered it."""
    return fragment_cache.get_or_make((key, reader_key()), render)


# --- {% kept key %} … {% endkept %}: a piece of a template kept ----------------------------

#: Stands for the request's CSRF token in a kept piece (a logout button's form): the piece
#: is kept with it, and each page puts its own token in its place. Random per process, so
#: no text a person types can be it.
CSRF_SLOT = Markup(f"csrf-slot-{secrets.token_hex(12)}")  # noqa: S704  # nosec B704


class KeptExtension(Extension):
    """``{% kept a, b, … %}body{% endkept %}`` renders ``body`` once per value of the key
    (and of the reader's language and time zone) and place in the template, and keeps it.

    The key must name everything the body shows that can change: a kept piece is given
    back as it was rendered. Where the body needs the request's CSRF token it writes
    ``{{ csrf_slot }}``."""

    tags = {"kept"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        key = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            key.append(parser.parse_expression())
        body = parser.parse_statements(("name:endkept",), drop_needle=True)
        where = nodes.Const(f"{parser.name}:{lineno}")
        call = self.call_method("_kept", [where, nodes.Tuple(key, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    @staticmethod
    def _kept(where: str, key: tuple, caller) -> str:
        html = kept((where, _frozen(key)), caller)
        if CSRF_SLOT in html:
            html = html.replace(CSRF_SLOT, generate_csrf())  # escaped by Markup.replace
        return html


def _frozen(value):
    """A template's key made hashable: its lists (a filter's output) as tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value
