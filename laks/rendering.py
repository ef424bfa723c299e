"""Markdown to safe HTML: the one function every page (and later the PDF) uses.

Markdown allows raw HTML, so the output of ``markdown`` is never trusted: ``nh3`` keeps a
short list of tags and only http, https and mailto links, which removes scripts, event
handlers, styles and ``javascript:`` URLs.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date

import markdown as md
import nh3
from flask_babel import format_date
from markupsafe import Markup

from laks.memo import BoundedCache

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": set()}


_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,2}[.)])[ \t]+\S")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")


def _lists_need_no_blank_line(text: str) -> str:
    """Start a list where people start one: right under a line of text.

    Python-Markdown only begins a list after a blank line, so "Vi prøvede:\n- a\n- b"
    came out as one paragraph with the items run together. A blank line is put before
    such a first item (never inside fenced code).
    """
    out: list[str] = []
    previous = ""
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif (not in_fence and _LIST_ITEM.match(line) and previous.strip()
              and not _LIST_ITEM.match(previous) and not previous.startswith((" ", "\t"))):
            out.append("")
        out.append(line)
        previous = line
    return "\n".join(out)


#: How many rendered texts a process keeps (the least recently used goes first), and the
#: longest text it keeps: a page shows the same comments and answers again and again, and
#: rendering them is the dearest part of showing them.
MARKDOWN_CACHE_SIZE = 2048
MARKDOWN_CACHE_MAX_TEXT = 20_000


#: Sanitised HTML by the SHA-256 of its markdown.
markdown_cache: BoundedCache[str] = BoundedCache(MARKDOWN_CACHE_SIZE)


def render_markdown(text: str | None) -> Markup:
    """Render user markdown as sanitised HTML, safe to put in a page as it is.

    Headings are shifted down (# becomes h3) so that a user's text never breaks the page's
    heading order. The sanitised result is kept by the text's digest
    (:data:`markdown_cache`), so a text shown again is not rendered again; only output that
    has been through nh3 is ever kept.
    """
    if not text:
        return Markup("")
    key = None
    if len(text) <= MARKDOWN_CACHE_MAX_TEXT:
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    clean = markdown_cache.get(key) if key is not None else None
    if clean is None:
        clean = _render(text)
        if key is not None:
            markdown_cache.put(key, clean)
    # Safe as markup: everything kept went through nh3 in _render.
    return Markup(clean)  # noqa: S704  # nosec B704


def _render(text: str) -> str:
    """Markdown to HTML, headings shifted, then sanitised by nh3: the only way in."""
    html = md.markdown(_lists_need_no_blank_line(text), extensions=["sane_lists", "tables"],
                       output_format="html")
    for level in (2, 1):  # shift h1→h3, h2→h4, keeping order of replacement safe
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(
            f"</h{level}>", f"</h{level + 2}>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return clean


_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|tr|td|th|h[1-6]|blockquote|pre|hr|table|"
                        r"thead|tbody)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def markdown_to_text(text: str | None) -> str:
    """The plain text a reader sees when ``text`` is shown as markdown: every block on a
    line of its own, inline tags gone (so "**8** af 12" reads "8 af 12"), entities decoded.
    Used for search text, excerpts and the CPR guard's look at what a text shows."""
    rendered = str(render_markdown(text))
    return html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", rendered)))


def plain_words(text: str | None) -> str:
    """:func:`markdown_to_text` on one line, with single spaces."""
    return " ".join(markdown_to_text(text).split())


def first_sentence(text: str | None, limit: int = 90) -> str:
    """The first sentence of a markdown text as plain words, at most ``limit`` characters
    (what names a case's target group in the catalogue's parts and filters)."""
    sentence = re.split(r"(?<=[.!?])\s", plain_words(text), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def format_iso_date(value) -> str:
    """A stored ISO date ("2026-03-02") in the reader's language ("2. marts 2026");
    anything that is not a date is shown as it is."""
    try:
        return format_date(date.fromisoformat(value), "long")
    except (TypeError, ValueError):
        return str(value)
