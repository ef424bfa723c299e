"""One font subset per face for the whole book.

Each part embeds its own subset of each face it uses, so a book joined from 50 parts
would carry 50 copies of nearly the same font. WeasyPrint subsets with the original glyph
ids kept (CIDToGIDMap /Identity), so every part's subset of a face can be replaced by one
subset of the original font that holds the union of the glyphs the parts use: the parts'
font dictionaries (widths, ToUnicode) stay as they are and all point to one font file.
"""

from __future__ import annotations

import hashlib
import io
import os
from functools import cache
from pathlib import Path

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name

from .assets import DEJAVU, font_files


@cache
def _bundled_by_postscript_name() -> dict[str, Path]:
    """PostScript name → file, for the bundled faces and the DejaVu Sans fallback."""
    names = {}
    for path in [*font_files().values(), *sorted(DEJAVU.glob("DejaVuSans*.ttf"))]:
        with TTFont(str(path), lazy=True) as font:
            names[font["name"].getDebugName(6)] = path
    return names


def share_subsets(pdf: pikepdf.Pdf, cache: Path | None = None) -> int:
    """Point every embedded subset of a bundled face (or of DejaVu Sans, the fallback) to
    one shared subset; returns the number of font files replaced. Other fonts are left
    alone. Subsets are kept in ``cache`` (by face and glyphs), since making one takes a
    tenth of a second and a rebuild mostly needs the same ones."""
    groups: dict[str, list] = {}
    for descriptor, cids in _cid_fonts(pdf):
        name = str(descriptor.FontName).split("+", 1)[-1]
        groups.setdefault(name, []).append((descriptor, cids))
    bundled = _bundled_by_postscript_name()
    replaced = 0
    for name, members in groups.items():
        path = bundled.get(name) or bundled.get(_postscript_name(members[0][0]))
        if path is None or len(members) < 2:
            continue
        union = sorted(set().union(*(cids for _, cids in members)))
        shared = pikepdf.Stream(pdf, _subset(path, union, cache))
        for descriptor, _ in members:
            descriptor.FontFile2 = shared
            replaced += 1
    return replaced


def _subset(path: Path, gids: list[int], cache: Path | None) -> bytes:
    """The font at ``path`` cut to ``gids`` (glyph ids kept), from ``cache`` if there."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.name}:{stat.st_size}:{gids}".encode()).hexdigest()[:32]
    kept = cache / f"font-{key}.ttf" if cache is not None else None
    if kept is not None and kept.is_file():
        os.utime(kept)  # used: see laks.render.parts.prune
        return kept.read_bytes()
    font = without_layout(TTFont(io.BytesIO(path.read_bytes())))
    options = subset.Options(retain_gids=True, hinting=False, notdef_outline=True,
                             passthrough_tables=True, name_IDs=["*"],
                             layout_features=[], glyph_names=False)
    options.drop_tables += ["meta"]  # fontTools cannot subset it; a PDF needs none
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=gids)
    subsetter.subset(font)
    data = io.BytesIO()
    font.save(data)
    if kept is not None:
        tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data.getvalue())
        os.replace(tmp, kept)
    return data.getvalue()


def without_layout(font: TTFont) -> TTFont:
    """Text is shaped before it reaches the PDF, so the layout tables are dead weight; they
    are removed before subsetting because reading them (GPOS) takes about a second."""
    for tag in ("GSUB", "GPOS", "GDEF", "kern", "meta", "DSIG"):
        if tag in font:
            del font[tag]
    return font


def _postscript_name(descriptor) -> str | None:
    try:
        data = descriptor.FontFile2.read_bytes()
        with TTFont(io.BytesIO(data), lazy=True) as font:
            return font["name"].getDebugName(6)
    except Exception:  # noqa: BLE001 - an unreadable font is simply not shared
        return None


def _cid_fonts(pdf: pikepdf.Pdf):
    """(FontDescriptor, used CIDs) of every TrueType CID font the pages use, once each."""
    seen = set()
    stack = []
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        if resources is not None:
            stack.append(resources)
    visited_resources = set()
    while stack:
        resources = stack.pop()
        if resources.is_indirect:
            if resources.objgen in visited_resources:
                continue
            visited_resources.add(resources.objgen)
        for font in (resources.get("/Font") or Dictionary()).values():
            if font.get("/Subtype") != Name.Type0:
                continue
            cid_font = font.DescendantFonts[0]
            descriptor = cid_font.get("/FontDescriptor")
            if descriptor is None or "/FontFile2" not in descriptor:
                continue
            if descriptor.objgen in seen:
                continue
            seen.add(descriptor.objgen)
            yield descriptor, _cids(cid_font.get("/W", Array()))
        for xobject in (resources.get("/XObject") or Dictionary()).values():
            inner = xobject.get("/Resources")
            if inner is not None:
                stack.append(inner)


def _cids(widths) -> set[int]:
    """The CIDs listed in a /W array: ``c [w1 w2 …]`` or ``cfirst clast w``."""
    cids = set()
    i = 0
    while i < len(widths):
        first = int(widths[i])
        if isinstance(widths[i + 1], Array):
            cids.update(range(first, first + len(widths[i + 1])))
            i += 2
        else:
            cids.update(range(first, int(widths[i + 1]) + 1))
            i += 3
    return cids
