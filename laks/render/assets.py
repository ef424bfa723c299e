"""The files the PDF may use: the stylesheet, the templates and the bundled font, and the
fingerprint of them all that is part of every cached part's key.

Free of WeasyPrint, so that the joining process (which renders nothing) starts quickly;
the URL fetcher that lets WeasyPrint read only these files is in laks.render.fetcher.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

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
