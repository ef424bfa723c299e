"""The HTML of each part of the book, from the Jinja templates in templates/pdf.

The engine renders three kinds of part: the front matter (cover, foreword, contents,
introduction), batches of cases, and the index. A batch's HTML depends only on its cases
and the layout, never on the book around it, so that it can be cached across editions.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace
from datetime import date

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .assets import TEMPLATES
from .model import Book, Chapter

MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december")
BATCH_TITLE = "Inspirationskatalog"

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)


def danish_date(value: date) -> str:
    """25. november 2026."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def chart_uri(svg: str) -> str:
    """An SVG chart as a data: URI, the only kind of image the fetcher serves."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@dataclass(frozen=True)
class Entry:
    """A line of the contents or the index: a title, a detail shown in grey, a page."""

    title: str
    page: int
    municipality: str = ""
    detail: str = ""
    kind: str = ""


_HEADING = re.compile(r"<(/?)h([1-6])(?=[\s>])")


def shift_headings(markup: str, top: int = 2) -> str:
    """Renumber the headings in ``markup`` so that the highest becomes ``top`` (keeping
    their relative levels): user text under a chapter's H1 starts at H2, whatever level
    the web page gave it, so the PDF's heading order has no gaps."""
    levels = [int(level) for _, level in _HEADING.findall(markup)]
    if not levels:
        return markup
    delta = min(levels) - top
    return _HEADING.sub(
        lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) - delta)}", markup)


def chapters_html(chapters: list[Chapter]) -> str:
    """A batch of cases; case n (1-based) carries the anchor ``case-n``."""
    chapters = [replace(c, body_html=shift_headings(c.body_html)) for c in chapters]
    return _env.get_template("chapters.html").render(
        chapters=chapters, chart_uri=chart_uri, doc_title=BATCH_TITLE, author="")


def front_html(book: Book, toc: list[Entry]) -> str:
    """Cover, foreword, contents and introduction."""
    book = replace(book, foreword_html=shift_headings(book.foreword_html),
                   introduction_html=shift_headings(book.introduction_html))
    return _env.get_template("front.html").render(
        book=book, toc=toc, published=danish_date(book.published_on),
        chapter_count=len(book.chapters), doc_title=book.title, author=book.network_name)


def index_html(book: Book, pages: dict[str, int]) -> str:
    """The indexes by theme and by municipality; ``pages`` maps chapter keys to pages."""
    by_theme: dict[str, list[Entry]] = {}
    by_municipality: dict[str, list[Entry]] = {}
    for chapter in book.chapters:
        page = pages[chapter.key]
        for theme in chapter.themes:
            by_theme.setdefault(theme, []).append(
                Entry(chapter.title, page, detail=chapter.municipality))
        by_municipality.setdefault(chapter.municipality, []).append(
            Entry(chapter.title, page, detail=chapter.unit))
    indexes = [
        {"title": "Indeks efter tema", "anchor": "indeks-tema", "groups": _groups(by_theme)},
        {"title": "Indeks efter kommune", "anchor": "indeks-kommune",
         "groups": _groups(by_municipality)},
    ]
    return _env.get_template("index.html").render(
        indexes=indexes, doc_title=BATCH_TITLE, author="")


def danish_key(text: str) -> tuple:
    """Sort key with Æ, Ø, Å last, as a Danish reader expects."""
    order = {"æ": "{", "ø": "|", "å": "}", "aa": "}"}
    lowered = text.casefold().replace("aa", "å")
    return tuple("".join(order.get(ch, ch) for ch in lowered))


def _groups(groups: dict[str, list[Entry]]) -> list[dict]:
    return [{"name": name, "entries": sorted(entries, key=lambda e: (e.page, e.title))}
            for name, entries in sorted(groups.items(), key=lambda item: danish_key(item[0]))]
