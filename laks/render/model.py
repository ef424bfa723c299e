"""What the PDF engine takes and gives back: plain data, no database.

The catalogue's pages are computed from a ``Book``; each ``Chapter`` has a stable key, and
the engine caches what it renders by a hash of the HTML, which is what lets a new edition
re-render only the chapters that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Chapter:
    """One case. ``body_html`` must already be sanitised (laks.rendering.render_markdown);
    ``chart_svg`` is an SVG document drawn by laks, shown with ``chart_alt`` as its text
    alternative (its text should use ``font-family="Laks Plex"``, the bundled font)."""

    key: str
    title: str
    municipality: str
    unit: str
    themes: tuple[str, ...] = ()
    target_group: str = ""
    challenge_type: str = ""
    body_html: str = ""
    chart_svg: str | None = None
    chart_alt: str | None = None
    group: str = ""  # the part of the edition it is in (a theme, a municipality …)


@dataclass(frozen=True)
class Book:
    """One edition of the catalogue."""

    title: str
    edition_number: int
    published_on: date
    network_name: str
    foreword_html: str = ""
    introduction_html: str = ""
    chapters: tuple[Chapter, ...] = field(default_factory=tuple)

    @property
    def edition_title(self) -> str:
        """The title with the edition, as the running header shows it."""
        return f"{self.title} · {self.edition_number}. udgave"


@dataclass
class BuildReport:
    """What a build did. ``chapter_pages`` maps each chapter's key to its first page in the
    book (1-based, as printed in "side X af Y")."""

    pages: int
    chapters_rendered: int
    chapters_cached: int
    seconds: float
    bytes: int
    chapter_pages: dict[str, int] = field(default_factory=dict)
    parts_rendered: int = 0
    parts_cached: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each step took
    refused: list[str] = field(default_factory=list)  # URLs the content asked for, not fetched
    parts_reused: int = 0  # parts taken over from the last book joined in the cache
