"""The running header (edition title, network) and the "side X af Y" footer, stamped on the
joined book's pages as artifacts.

They depend on the whole book (its title, its page count), so drawing them in the parts
would make every cached part stale whenever the book changed anywhere. Drawing them here
costs milliseconds: a small subset of the bundled font is embedded once and each page gets
a few text operators, marked as pagination artifacts so that they stay out of the
structure tree, as PDF/UA expects of running headers and page numbers.
"""

from __future__ import annotations

import io

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name, String

from .assets import DEJAVU, font_files
from .fonts import without_layout

MM = 72 / 25.4
MARGIN_X = 22 * MM
HEADER_Y = 14 * MM  # from the top edge to the header's baseline
FOOTER_Y = 12 * MM  # from the bottom edge to the footer's baseline
SIZE = 7.5
GREY = "0.337 0.376 0.416"
FONT_NAME = Name("/LaksStamp")


class StampFont:
    """A subset of the regular face (IBM Plex Sans, else DejaVu Sans) as a Type 0 font
    with Identity-H encoding and a ToUnicode map, so that the stamped text can be
    extracted and read."""

    def __init__(self, pdf: pikepdf.Pdf, text: str):
        path = font_files().get((400, "normal"), DEJAVU / "DejaVuSans.ttf")
        font = without_layout(TTFont(io.BytesIO(path.read_bytes())))
        cmap = font.getBestCmap()
        chars = sorted({ch for ch in text if ord(ch) in cmap})
        self.gids = {ch: font.getGlyphID(cmap[ord(ch)]) for ch in chars}
        scale = 1000 / font["head"].unitsPerEm
        self.widths = {ch: font["hmtx"][cmap[ord(ch)]][0] * scale for ch in chars}
        options = subset.Options(retain_gids=True, hinting=False, notdef_outline=True,
                                 name_IDs=["*"], layout_features=[])
        options.drop_tables += ["meta"]  # fontTools cannot subset it; a PDF needs none
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(ch) for ch in chars])
        subsetter.subset(font)
        data = io.BytesIO()
        font.save(data)
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        ps_name = font["name"].getDebugName(6) or "LaksSans"
        descriptor = Dictionary(
            Type=Name.FontDescriptor, FontName=Name(f"/LAKSST+{ps_name}"), Flags=32,
            FontBBox=Array([round(v * scale) for v in
                            (head.xMin, head.yMin, head.xMax, head.yMax)]),
            ItalicAngle=0, Ascent=round(hhea.ascent * scale),
            Descent=round(hhea.descent * scale),
            CapHeight=round(getattr(os2, "sCapHeight", hhea.ascent) * scale), StemV=80,
            FontFile2=pikepdf.Stream(pdf, data.getvalue()))
        widths = Array()
        for ch in chars:
            widths.extend([self.gids[ch], Array([round(self.widths[ch])])])
        cid_font = Dictionary(
            Type=Name.Font, Subtype=Name.CIDFontType2, BaseFont=Name(f"/LAKSST+{ps_name}"),
            CIDSystemInfo=Dictionary(Registry=String("Adobe"), Ordering=String("Identity"),
                                     Supplement=0),
            CIDToGIDMap=Name.Identity, W=widths,
            FontDescriptor=pdf.make_indirect(descriptor))
        self.font = pdf.make_indirect(Dictionary(
            Type=Name.Font, Subtype=Name.Type0, BaseFont=Name(f"/LAKSST+{ps_name}"),
            Encoding=Name("/Identity-H"), DescendantFonts=Array([pdf.make_indirect(cid_font)]),
            ToUnicode=pikepdf.Stream(pdf, self._to_unicode(chars))))

    def _to_unicode(self, chars: list[str]) -> bytes:
        lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
                 "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                 "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
                 "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
        for start in range(0, len(chars), 100):
            chunk = chars[start:start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines += [f"<{self.gids[ch]:04X}> <{ch.encode('utf-16-be').hex().upper()}>"
                      for ch in chunk]
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines).encode()

    def width(self, text: str) -> float:
        """The width of ``text`` in points at the stamp's size."""
        return sum(self.widths.get(ch, 0) for ch in text) * SIZE / 1000

    def show(self, text: str, x: float, y: float) -> str:
        """Operators that draw ``text`` with its left end at (x, y)."""
        glyphs = "".join(f"{self.gids[ch]:04X}" for ch in text if ch in self.gids)
        return (f"BT {FONT_NAME} {SIZE} Tf {GREY} rg {x:.2f} {y:.2f} Td <{glyphs}> Tj ET")


def stamp_pages(pdf: pikepdf.Pdf, header_left: str, header_right: str,
                skip_first: bool = True) -> None:
    """Stamp the running header and "side X af Y" on every page (but the cover)."""
    total = len(pdf.pages)
    font = StampFont(pdf, f"{header_left}{header_right}side af 0123456789")
    save = pdf.make_stream(b"q\n")
    headers: dict[tuple[float, float], str] = {}  # page size → the header's operators
    for number, page in enumerate(pdf.pages, start=1):
        if skip_first and number == 1:
            continue
        width, height = (float(v) for v in page.mediabox[2:4])
        right = width - MARGIN_X
        top = height - HEADER_Y
        if (width, height) not in headers:
            headers[width, height] = "\n".join([
                "/Artifact << /Type /Pagination /Subtype /Header >> BDC",
                font.show(header_left, MARGIN_X, top),
                font.show(header_right, right - font.width(header_right), top),
                f"{GREY} RG 0.4 w {MARGIN_X:.2f} {top - 2.8 * MM:.2f} m "
                f"{right:.2f} {top - 2.8 * MM:.2f} l S",
                "EMC"])
        footer = f"side {number} af {total}"
        ops = [
            "Q q",
            headers[width, height],
            "/Artifact << /Type /Pagination /Subtype /Footer >> BDC",
            font.show(footer, right - font.width(footer), FOOTER_Y),
            "EMC",
            "Q",
        ]
        page.contents_add(save, prepend=True)
        page.contents_add(pdf.make_stream("\n".join(ops).encode()))
        resources = page.obj.get("/Resources")
        if resources is None:
            page.obj.Resources = resources = Dictionary()
        if "/Font" not in resources:
            resources.Font = Dictionary()
        resources.Font[FONT_NAME] = font.font


STAMP_START = b"Q q\n/Artifact << /Type /Pagination"


def unstamp_pages(pdf: pikepdf.Pdf) -> int:
    """Take stamp_pages' header and footer off again (a book that is being joined anew
    gets new ones: its page count and title may differ); returns the pages unstamped."""
    unstamped = 0
    save = None  # stamp_pages' one "q" stream, shared by every stamped page
    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        if not isinstance(contents, Array) or len(contents) < 3:
            continue
        if save is None or contents[0].objgen != save:
            if contents[0].read_bytes() != b"q\n":
                continue
            save = contents[0].objgen
        if not contents[-1].read_bytes().startswith(STAMP_START):
            continue
        inner = list(contents)[1:-1]
        page.obj.Contents = inner[0] if len(inner) == 1 else Array(inner)
        fonts = page.obj.get("/Resources", Dictionary()).get("/Font")
        if fonts is not None and FONT_NAME in fonts:
            del fonts[FONT_NAME]
        unstamped += 1
    return unstamped
