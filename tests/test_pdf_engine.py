"""The catalogue PDF engine (laks.render): the text and page numbers of the book, its tagged
structure and metadata, the URL fetcher, and incremental rebuilds.

One small book is built once for the module (five cases in batches of about two, so that it
is joined from several parts); the tests read it with pdftotext and pikepdf.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pikepdf
import pytest

from laks.render import Book, Chapter, build_book
from laks.render.assets import font_files
from laks.render.checks import figures, headings, parent_tree, structure_problems, walk
from laks.render.html import shift_headings
from laks.render.pdf import CACHE_DAYS, plan_batches
from laks.rendering import render_markdown

CHART = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
         '<rect x="10" y="10" width="50" height="80" fill="#0f3b5f"/></svg>')
CHART_ALT = "Søjlediagram: fremmøde steg fra 4 til 9 borgere"


def body(number: int, extra: str = "") -> str:
    text = f"""# Udfordringen

Borgerne i målgruppen kom sjældent til rygestop. Æble, ø og å; ÆØÅ {number}.

## Det gjorde vi

- Vi mødte borgerne i fodboldklubben.
- Vi flyttede forløbet til aftentimer.

| Måned | Fremmødte |
|---|---|
| Januar | 4 |
| Februar | 9 |

{"Vi lærte meget af at prøve igen. " * 40 * (number % 2 + 1)}

Læs mere hos [Sundhedsstyrelsen](https://www.sst.dk/case-{number}).
{extra}
"""
    return str(render_markdown(text))


class Recorder(BaseHTTPRequestHandler):
    """A local web server that records every request, to prove none is made."""

    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


SECRET_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40">'
              '<text x="5" y="30" font-size="20">HEMMELIG-FIL</text></svg>')


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    """A local file the case's HTML tries to pull into the PDF: an image with text in it,
    so that pdftotext shows whether it got in."""
    path = tmp_path_factory.mktemp("secret") / "hemmelig.svg"
    path.write_text(SECRET_SVG)
    return path


@pytest.fixture(scope="module")
def hostile_html(server, secret_file, tmp_path_factory):
    # Raw HTML that a sanitiser should have stopped: the engine must still fetch nothing.
    css = tmp_path_factory.mktemp("css") / "lokal.css"
    css.write_text("p { color: red }")
    return (f'<p>Billeder udefra</p><img src="{secret_file.as_uri()}" alt="x">'
            f'<img src="file:///etc/passwd" alt="x"><img src="{server}/ekstern.png" alt="y">'
            f'<style>@import url("{css.as_uri()}"); '
            f'p {{ background: url("{server}/baggrund.png") }}</style>'
            f'<p style="background: url(\'file:///etc/hostname\')">Slut</p>'
            '<p><a href="file:///etc/passwd">lokal fil</a> '
            '<a href="javascript:alert(1)">script</a></p>')


@pytest.fixture(scope="module")
def book(hostile_html) -> Book:
    municipalities = ["Århus", "Ærø", "Odense", "Ærø", "Ølstykke"]
    themes = [("Rygning",), ("Kost", "Rygning"), ("Ensomhed",), ("Kost",), ("Rygning",)]
    chapters = tuple(
        Chapter(key=f"case-{n}", title=f"Case {n}: Rygestop for enlige mænd på Æblevej",
                municipality=municipalities[n], unit=f"Sundhedscenter {n}",
                themes=themes[n], target_group="Enlige mænd over 60 år",
                challenge_type="Rekruttering",
                body_html=body(n) + (hostile_html if n == 3 else ""),
                chart_svg=CHART if n == 1 else None, chart_alt=CHART_ALT if n == 1 else None)
        for n in range(5))
    return Book(title="Lige adgang til sundhed", edition_number=2,
                published_on=date(2026, 11, 25), network_name="LAKS-netværket",
                foreword_html=str(render_markdown("Et forord om ulighed i sundhed.")),
                introduction_html=str(render_markdown("# Om kataloget\n\nSådan læser du det.")),
                chapters=chapters)


@pytest.fixture(scope="module")
def built(book, tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    report = build_book(book, folder / "cache", folder / "book.pdf", batch_size=2)
    return report, folder


def page_texts(path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def first_page_of(texts: list[str], title: str, after: int) -> int:
    return next(n for n, text in enumerate(texts, start=1) if n > after and title in text)


def test_pdf_engine_book_has_every_case_title_and_danish_letters(book, built):
    report, folder = built
    text = "\n".join(page_texts(folder / "book.pdf"))
    for chapter in book.chapters:
        assert chapter.title in text
    assert "Æble, ø og å; ÆØÅ" in text
    for heading in ("Forord", "Indhold", "Indeks efter tema", "Indeks efter kommune"):
        assert heading in text
    assert report.pages == len(page_texts(folder / "book.pdf"))


def test_pdf_engine_contents_numbers_are_the_chapters_first_pages(book, built):
    report, folder = built
    texts = page_texts(folder / "book.pdf")
    contents = next(n for n, text in enumerate(texts, start=1) if "Indhold" in text)
    for chapter in book.chapters:
        line = next(line for line in texts[contents - 1].splitlines() if chapter.title in line)
        printed = int(re.findall(r"\d+", line)[-1])
        assert printed == first_page_of(texts, chapter.title, contents)
        assert printed == report.chapter_pages[chapter.key]
    index_line = next(line for line in texts[contents - 1].splitlines() if "Indeks" in line)
    assert int(index_line.split()[-1]) == first_page_of(texts, "Indeks efter tema", contents)


def test_pdf_engine_contents_shows_the_editions_parts(book, tmp_path):
    """An edition grouped by theme shows each part's name in the contents, above its
    cases, with the page its first case starts on."""
    groups = ["Rygning", "Rygning", "Kost", "Kost", "Ensomhed"]
    grouped = replace(book, chapters=tuple(
        replace(c, group=g, body_html=body(n)) for n, (c, g) in
        enumerate(zip(book.chapters, groups, strict=True))))
    report = build_book(grouped, tmp_path / "cache", tmp_path / "book.pdf", batch_size=2)
    texts = page_texts(tmp_path / "book.pdf")
    contents = next(t for t in texts if "Indhold" in t)
    lines = [line.strip() for line in contents.splitlines() if line.strip()]
    for group, chapter in (("Rygning", 0), ("Kost", 2), ("Ensomhed", 4)):
        at = next(i for i, line in enumerate(lines) if line.startswith(group))
        assert lines[at].endswith(str(report.chapter_pages[grouped.chapters[chapter].key]))
        assert lines[at + 1].startswith(grouped.chapters[chapter].title[:20])
    assert sum(line.startswith("Rygning") for line in lines) == 1


def test_pdf_engine_side_x_af_y_on_every_page_but_the_cover(built):
    report, folder = built
    texts = page_texts(folder / "book.pdf")
    total = len(texts)
    assert f"side {total} af {total}" in texts[-1]
    assert "side 2 af" in texts[1]
    assert "side" not in texts[0]
    for number, text in enumerate(texts[1:], start=2):
        assert f"side {number} af {total}" in text
        assert "Lige adgang til sundhed · 2. udgave" in text  # the running header


def test_pdf_engine_index_pages_are_right(book, built):
    report, folder = built
    texts = page_texts(folder / "book.pdf")
    start = first_page_of(texts, "Indeks efter tema", report.pages - 3)
    index_text = "\n".join(texts[start - 1:])
    for chapter in book.chapters:
        lines = [line for line in index_text.splitlines() if chapter.title in line]
        # Once under each of its themes and once under its municipality.
        assert len(lines) == len(chapter.themes) + 1
        for line in lines:
            assert int(line.split()[-1]) == report.chapter_pages[chapter.key]
    kommune = index_text.split("Indeks efter kommune", 1)[1]
    # Danish order: Odense before Ærø before Ølstykke before Århus.
    positions = [kommune.index(name) for name in ("Odense", "Ærø", "Ølstykke", "Århus")]
    assert positions == sorted(positions)


def test_pdf_engine_metadata_language_and_title(book, built):
    _, folder = built
    with pikepdf.open(folder / "book.pdf") as pdf:
        assert str(pdf.docinfo["/Title"]) == book.title
        assert str(pdf.docinfo["/Author"]) == book.network_name
        assert pdf.Root.Lang == "da"
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        meta = pdf.open_metadata()
        assert meta["dc:title"] == book.title
        assert meta["pdfuaid:part"] == "1"
        assert len(pdf.pages) and all(
            abs(float(p.mediabox[2]) - 595.28) < 1 and abs(float(p.mediabox[3]) - 841.89) < 1
            for p in pdf.pages)  # A4


def test_pdf_engine_one_structure_tree_with_headings_in_order(book, built):
    report, folder = built
    with pikepdf.open(folder / "book.pdf") as pdf:
        assert structure_problems(pdf) == []
        root = pdf.Root.StructTreeRoot
        assert len(root.K) == 1 and root.K[0].S == "/Document"
        found = headings(pdf)
        h1_pages = [h.page for h in found if h.level == 1]
        # Cover, foreword, contents, introduction, one per case, two indexes, in page order.
        assert len(h1_pages) == 4 + len(book.chapters) + 2
        assert h1_pages == sorted(h1_pages)
        assert set(report.chapter_pages.values()) <= set(h1_pages)
        assert found[0].level == 1
        assert {h.level for h in found} == {1, 2, 3}  # case text: # → H2, ## → H3
        # Table header cells keep unique IDs across parts, listed in the IDTree.
        assert len(root.IDTree.Names) >= 2 * 2 * len(book.chapters)
        # Every page's marked content and every link is reachable from the one tree.
        keys = {int(p.obj.StructParents) for p in pdf.pages}
        assert len(keys) == len(pdf.pages)
        tree = parent_tree(root)
        links = [(n, annot) for n, p in enumerate(pdf.pages, start=1)
                 for annot in p.obj.get("/Annots", ())]
        assert len(links) == len(book.chapters) + 2  # a web link per case, two unsafe ones
        for _, annot in links:
            assert tree[int(annot.StructParent)].S == "/Link"
        link_pages = [n for n, annot in links]
        assert link_pages == sorted(link_pages) and len(set(map(int, (
            a.StructParent for _, a in links)))) == len(links)


def test_pdf_engine_checks_catch_a_naive_join(built, tmp_path):
    """Appending the parts' pages without grafting their trees (what a plain join does)
    leaves them outside the structure tree, and the checks say so."""
    report, folder = built
    parts = sorted((folder / "cache").glob("*.pdf"), key=lambda p: p.stat().st_mtime)
    with pikepdf.open(parts[0]) as book, pikepdf.open(parts[1]) as other:
        book.pages.extend(other.pages)
        book.save(tmp_path / "naive.pdf")
    with pikepdf.open(tmp_path / "naive.pdf") as pdf:
        problems = structure_problems(pdf)
    assert any("ParentTree entry names another page" in problem for problem in problems)


def test_pdf_engine_chart_is_a_figure_with_alt_text(book, built):
    report, folder = built
    with pikepdf.open(folder / "book.pdf") as pdf:
        charts = [(page, alt) for page, alt in figures(pdf) if alt == CHART_ALT]
    chart_case = book.chapters[1]
    assert len(charts) == 1
    assert charts[0][0] in range(report.chapter_pages[chart_case.key],
                                 report.chapter_pages[book.chapters[2].key])


def test_pdf_engine_uses_the_bundled_font(built):
    _, folder = built
    assert font_files(), "the asset step (make setup) installs IBM Plex Sans"
    fonts = subprocess.run(["pdffonts", str(folder / "book.pdf")], check=True,
                           capture_output=True, text=True).stdout
    assert "Laks-Plex" in fonts
    with pikepdf.open(folder / "book.pdf") as pdf:
        descriptors = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                       and o.get("/Type") == "/FontDescriptor"
                       and str(o.FontName).endswith("+Laks-Plex")]
        files = {d.FontFile2.objgen for d in descriptors}
    assert len(descriptors) > 1
    assert len(files) == 1  # the regular face is embedded once, shared by every part


def test_pdf_engine_fetches_nothing_from_case_html(built, server, secret_file):
    report, folder = built
    assert Recorder.requests == []
    assert "file:///etc/passwd" in report.refused
    assert "file:///etc/hostname" in report.refused
    assert secret_file.as_uri() in report.refused
    assert any(url.endswith("lokal.css") for url in report.refused)
    assert f"{server}/ekstern.png" in report.refused
    text = "\n".join(page_texts(folder / "book.pdf"))
    assert "HEMMELIG" not in text and "root:" not in text and "Slut" in text
    with pikepdf.open(folder / "book.pdf") as pdf:
        assert all(not page.get_images() for page in pdf.pages)
        annotations = [a for page in pdf.pages for a in page.obj.get("/Annots", ())]
        targets = [str(a.A.URI) for a in annotations if "/A" in a]
        assert targets and all(t.startswith("https://www.sst.dk/") for t in targets)
        assert not any("file:" in str(a.get("/Contents", "")) or "javascript:" in
                       str(a.get("/Contents", "")) for a in annotations)


def test_pdf_engine_default_fetcher_would_have_read_the_file(tmp_path, secret_file):
    """Why the restricted fetcher exists: WeasyPrint's own fetcher reads file: URLs."""
    from weasyprint import HTML

    HTML(string=f'<html lang="da"><img src="{secret_file.as_uri()}" alt="x"></html>'
         ).write_pdf(tmp_path / "default.pdf")
    assert "HEMMELIG-FIL" in "".join(page_texts(tmp_path / "default.pdf"))


def test_pdf_engine_rebuild_renders_only_the_changed_batch(book, built, tmp_path):
    report, folder = built
    cache = tmp_path / "cache"
    shutil.copytree(folder / "cache", cache)
    steps = []
    same = build_book(book, cache, tmp_path / "same.pdf", batch_size=2, progress=steps.append)
    assert same.chapters_rendered == 0 and same.parts_rendered == 0
    assert steps == ["Sætter 0 af 5 cases", "Sætter indhold og indeks", "Samler bogen",
                     "Færdig"]

    changed = list(book.chapters)
    changed[4] = replace(changed[4], body_html=body(4, "Ny tekst i anden udgave: Øresund."))
    batch = next(b for b in plan_batches(changed, 2) if changed[4] in b)
    again = build_book(replace(book, chapters=tuple(changed)), cache, tmp_path / "new.pdf",
                       batch_size=2)
    assert again.chapters_rendered == len(batch) < len(changed)
    assert again.chapters_cached == len(changed) - len(batch)
    texts = page_texts(tmp_path / "new.pdf")
    assert "Ny tekst i anden udgave: Øresund." in "\n".join(texts)
    assert f"side {len(texts)} af {len(texts)}" in texts[-1]
    with pikepdf.open(tmp_path / "new.pdf") as pdf:
        assert structure_problems(pdf) == []


def reading_order(pdf: pikepdf.Pdf) -> list[tuple[str, int | None]]:
    """Every structure element in reading order: its type and its 1-based page."""
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    return [(str(e.S), pages.get(e.Pg.objgen) if "/Pg" in e else None)
            for e in walk(pdf.Root.StructTreeRoot.K[0])]


@pytest.mark.parametrize("edit", ["change", "insert", "remove", "move"])
def test_pdf_engine_rebuild_from_the_last_book_equals_a_join_from_scratch(
        book, built, tmp_path, edit):
    """A rebuild starts from the last book joined in the cache and only cuts out and
    grafts in the parts that differ; the book must be the one a join from the parts alone
    gives: same text and stamps on every page, same tree, same bookmarks."""
    report, folder = built
    chapters = list(book.chapters)
    if edit == "change":
        chapters[2] = replace(chapters[2], body_html=body(2, "Ændret i tredje udgave."))
    elif edit == "insert":
        chapters.insert(3, replace(chapters[0], key="case-ny",
                                   title="Case ny: Motion for alle i Ærøskøbing"))
    elif edit == "remove":
        del chapters[1]
    else:
        chapters = [chapters[4], *chapters[:4]]
    edited = replace(book, chapters=tuple(chapters))

    resumed_cache, scratch_cache = tmp_path / "resumed", tmp_path / "scratch"
    shutil.copytree(folder / "cache", resumed_cache)
    shutil.copytree(folder / "cache", scratch_cache)
    (scratch_cache / "book.json").unlink()  # no last book: every part is grafted
    resumed = build_book(edited, resumed_cache, tmp_path / "resumed.pdf", batch_size=2)
    scratch = build_book(edited, scratch_cache, tmp_path / "scratch.pdf", batch_size=2)
    assert scratch.parts_reused == 0
    if edit == "change":
        assert resumed.parts_reused == resumed.parts_cached > 0

    assert page_texts(tmp_path / "resumed.pdf") == page_texts(tmp_path / "scratch.pdf")
    with pikepdf.open(tmp_path / "resumed.pdf") as a, pikepdf.open(tmp_path / "scratch.pdf") as b:
        assert structure_problems(a) == []
        assert reading_order(a) == reading_order(b)
        assert len(a.Root.StructTreeRoot.IDTree.Names) == len(b.Root.StructTreeRoot.IDTree.Names)
        with a.open_outline() as ao, b.open_outline() as bo:
            assert [(i.title, i.destination[0].objgen in {p.obj.objgen for p in a.pages})
                    for i in ao.root] == [(i.title, True) for i in bo.root]
        assert figures(a) == figures(b)
    assert len(list(resumed_cache.glob("book-*.pdf"))) == 1  # the books before it are gone


def test_pdf_engine_joins_from_scratch_when_the_last_book_is_gone(book, built, tmp_path):
    report, folder = built
    cache = tmp_path / "cache"
    shutil.copytree(folder / "cache", cache)
    for kept in cache.glob("book-*.pdf"):
        kept.unlink()
    again = build_book(book, cache, tmp_path / "again.pdf", batch_size=2)
    assert again.parts_reused == 0 and again.pages == report.pages
    assert page_texts(tmp_path / "again.pdf") == page_texts(folder / "book.pdf")


def test_pdf_engine_cache_forgets_parts_no_build_has_used_for_months(book, built, tmp_path):
    report, folder = built
    cache = tmp_path / "cache"
    shutil.copytree(folder / "cache", cache)
    months_ago = time.time() - (CACHE_DAYS + 1) * 86400
    for path in cache.iterdir():
        os.utime(path, (months_ago, months_ago))
    stale = cache / "0123456789abcdef0123456789abcdef.pdf"  # a part of an old draft
    stale.write_bytes(b"%PDF-1.7")
    (cache / "0123456789abcdef0123456789abcdef.json").write_text("{}")
    os.utime(stale, (months_ago, months_ago))
    os.utime(cache / "0123456789abcdef0123456789abcdef.json", (months_ago, months_ago))
    before = {p.name for p in cache.iterdir()}

    again = build_book(book, cache, tmp_path / "again.pdf", batch_size=2)
    assert again.parts_rendered == 0  # nothing used was pruned before it was read
    after = {p.name for p in cache.iterdir()}
    assert stale.name not in after
    assert "0123456789abcdef0123456789abcdef.json" not in after
    used = {p.name for p in cache.iterdir() if p.stat().st_mtime > months_ago + 86400}
    assert used == after  # what is left was used by this build
    assert {n for n in before - after if not n.startswith("book-")} == {
        stale.name, "0123456789abcdef0123456789abcdef.json"}


@pytest.mark.parametrize(
    "chapters", [(), (Chapter("a", "A", "X", "Y"), Chapter("a", "B", "X", "Y"))],
    ids=["no-cases", "same-key-twice"])
def test_pdf_engine_refuses_a_book_it_cannot_build(book, chapters, tmp_path):
    with pytest.raises(ValueError):
        build_book(replace(book, chapters=chapters), tmp_path, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_pdf_engine_batches_change_only_where_a_case_is_inserted():
    chapters = [Chapter(key=f"k{n}", title=str(n), municipality="A", unit="B")
                for n in range(60)]
    before = plan_batches(chapters, 5)
    after = plan_batches([*chapters[:30], Chapter(key="ny", title="ny", municipality="A",
                                                  unit="B"), *chapters[30:]], 5)
    keys_before = {tuple(c.key for c in b) for b in before}
    keys_after = {tuple(c.key for c in b) for b in after}
    assert len(keys_after - keys_before) == 1
    assert 3 < len(before) < 30


@pytest.mark.parametrize(
    ("source", "expected"),
    [("<h3>a</h3><h4>b</h4>", "<h2>a</h2><h3>b</h3>"),
     ("<h4>a</h4>", "<h2>a</h2>"),
     ("<p>ingen</p>", "<p>ingen</p>")],
    ids=["keeps-relative-levels", "single-level", "no-headings"])
def test_pdf_engine_shifts_case_headings_under_the_chapter_title(source, expected):
    assert shift_headings(source) == expected
