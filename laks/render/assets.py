"""The files the PDF may use, and the URL fetcher that lets WeasyPrint read nothing else.

A case's text comes from users. It is sanitised before it reaches the engine, but the PDF
must stay safe even if something slips through: WeasyPrint's default fetcher would read
``file:`` URLs (pulling local files into a published PDF) and fetch any external URL. The
fetcher here serves an allow-list of laks' own files (the stylesheet and the bundled font)
and ``data:`` URIs (charts), and refuses everything else, recording what it refused.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "pdf"
STYLESHEET = ROOT / "static" / "css" / "pdf.css"
PLEX = ROOT / "static" / "dkfds" / "fonts" / "IBMPlexSans" / "complete" / "ttf"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

# (weight, style) → file name in PLEX. The PDF uses no other faces.
PLEX_FACES = {
    (400, "normal"): "IBMPlexSans-Regular.ttf",
    (400, "italic"): "IBMPlexSans-Italic.ttf",
    (600, "normal"): "IBMPlexSans-SemiBold.ttf",
    (700, "normal"): "IBMPlexSans-Bold.ttf",
    (700, "italic"): "IBMPlexSans-BoldItalic.ttf",
}


class RefusedURL(ValueError):
    """Raised (and caught by WeasyPrint, which then leaves the resource out) for any URL
    that is not a data: URI or one of laks' own allowed files."""


def font_files() -> dict[tuple[int, str], Path]:
    """The bundled faces that exist on this machine (none before the asset step has run)."""
    return {face: PLEX / name for face, name in PLEX_FACES.items() if (PLEX / name).is_file()}


def font_face_css() -> str:
    """@font-face rules for the bundled IBM Plex Sans; DejaVu Sans stays the fallback."""
    rules = []
    for (weight, style), path in font_files().items():
        rules.append(
            f'@font-face {{ font-family: "Laks Plex"; src: url("{path.as_uri()}"); '
            f"font-weight: {weight}; font-style: {style}; }}")
    return "\n".join(rules)


@cache
def stylesheet_text() -> str:
    """The PDF stylesheet with the font rules in front of it."""
    return font_face_css() + "\n" + STYLESHEET.read_text(encoding="utf-8")


@cache
def layout_fingerprint() -> str:
    """A hash of everything besides the content that changes the rendered pages: the
    stylesheet, the templates and the font files. Part of every cache key, so that a new
    design re-renders the cached chapters (read once per process, like the templates)."""
    digest = hashlib.sha256()
    digest.update(stylesheet_text().encode())
    for template in sorted(TEMPLATES.glob("*.html")):
        digest.update(template.name.encode() + template.read_bytes())
    for path in sorted(font_files().values()):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


class SafeFetcher(URLFetcher):
    """Serves laks' allowed files and data: URIs; refuses file:, http(s) and the rest.

    ``refused`` lists every URL that was asked for and not served.
    """

    def __init__(self, allowed: set[Path] | None = None):
        super().__init__(timeout=1, allowed_protocols={"data", "file"}, allow_redirects=False)
        self.allowed = {p.resolve() for p in (allowed or set(font_files().values()))}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path in self.allowed:
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/ttf"})
        self.refused.append(url)
        raise RefusedURL(f"laks renders no outside resource: {url}")
