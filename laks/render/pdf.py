"""build_book: the catalogue as one print-ready, tagged (PDF/UA-1) A4 PDF, built from
cached parts.

Why it is built this way (measured with WeasyPrint 70): rendering 500 cases as one
document takes about 46 s and 1.2 GB, and rendering the whole book again when one case
changed wastes all of it. So the cases are rendered in small batches, each a complete
tagged PDF cached by a hash of its HTML and the layout, in this process and one worker
process per further core (each stays small). The front matter (whose contents list needs
every case's first page) and the index are rendered once the batches' page counts are
known. pikepdf (qpdf) then joins the parts, grafts their structure trees into one, shares
one font subset per face across the parts, and stamps the running header and "side X af
Y" on every page (milliseconds, where rendering them would take seconds), so that none of
these whole-book facts lives in a cached part: a new edition in which one case changed
renders one batch, and the contents and index only if page numbers moved. The join starts
from the last book joined in the cache (laks.render.join), so it copies only the parts
that differ from that book.

Batches are cut where a chapter's key hashes to a boundary (content-defined chunking), so
inserting or removing a case changes only the batch it falls in, not every batch after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from . import html, parts
from .join import Joiner
from .model import Book, BuildReport, Chapter

# Chapters per batch: WeasyPrint's time per page grows with the document (20 cases take
# five times as long as 5), so small batches cost nothing in a full build and make a
# rebuild after one change quick. Batches end at content-defined points, about BATCH_SIZE
# cases apart, and never grow past BATCH_SIZE + 1: a changed case is more likely to sit
# in a long batch than in a short one, so the cap decides what a rebuild renders (with a
# cap of 8, a changed case's batch held 5.6 cases on average; with 5, 4.0).
BATCH_SIZE = 4
# Cached parts that no build has used for this many days are deleted after a build, so the
# cache holds what the editions of the last months are made of, not every draft ever set.
CACHE_DAYS = 60


def max_batch(size: int) -> int:
    """The most chapters a batch of about ``size`` may hold."""
    return size + max(1, size // 4)


def plan_batches(chapters: list[Chapter], size: int = BATCH_SIZE) -> list[list[Chapter]]:
    """Split the chapters in order into batches of about ``size``: a batch ends after a
    chapter whose key hashes to 0 modulo ``size``, or at ``max_batch(size)`` chapters. A
    boundary depends on the chapter's key, not on its position, so inserting or removing a
    case changes only its own batch (and, where it was full, the next up to a boundary)."""
    batches: list[list[Chapter]] = [[]]
    for chapter in chapters:
        batches[-1].append(chapter)
        digest = int(hashlib.sha256(chapter.key.encode()).hexdigest()[:8], 16)
        if digest % size == 0 or len(batches[-1]) >= max_batch(size):
            batches.append([])
    return [batch for batch in batches if batch]


def build_book(book: Book, cache_dir: str | Path, out_path: str | Path,
               progress: Callable[[str], None] | None = None,
               workers: int | None = None, batch_size: int = BATCH_SIZE) -> BuildReport:
    """Build ``book`` into ``out_path``, reusing the parts cached in ``cache_dir``.

    ``progress`` is called with a short Danish message at each step; ``workers`` caps the
    rendering processes (default: one per core); ``batch_size`` is the average number of
    cases per cached part. Raises ValueError for a book without chapters or with two
    chapters of the same key, RuntimeError if a rendering worker fails.
    """
    started = time.perf_counter()
    phases: dict[str, float] = {}
    step = ["Forbereder", started]

    def note(message: str) -> None:
        now = time.perf_counter()
        phases[step[0]] = now - step[1]
        step[:] = [message, now]
        if progress:
            progress(message)

    chapters = list(book.chapters)
    if not chapters:
        raise ValueError("Kataloget har ingen cases.")
    if len({c.key for c in chapters}) != len(chapters):
        raise ValueError("To cases har samme nøgle.")
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)

    batches = plan_batches(chapters, batch_size)
    batch_parts = [parts.Part("chapters", html.chapters_html(batch),
                              tuple(f"case-{i}" for i in range(1, len(batch) + 1)))
                   for batch in batches]
    # The front matter's length does not depend on the page numbers it prints (they sit in
    # a fixed-width column), so a render with placeholder numbers tells how long it is and
    # where its sections start. Only that is kept, not the render.
    probe = parts.Part("front", html.front_html(book, _toc(book, {}, {})), FRONT_ANCHORS)
    front_layout = _known_layout(cache, probe)
    todo = [p for p in batch_parts if parts.cached(p, cache) is None]
    if front_layout is None:
        todo.append(probe)
    rendered_chapters = sum(len(b) for b, p in zip(batches, batch_parts, strict=True)
                            if p in todo)
    note(f"Sætter {rendered_chapters} af {len(chapters)} cases")

    with parts.Workers(workers) as pool:
        fresh = {p.key: r for p, r in zip(todo, parts.render_parts(todo, cache, pool),
                                          strict=True)}
        if front_layout is None:
            front_layout = {"pages": fresh[probe.key].pages, **fresh[probe.key].anchors}
            _remember_layout(cache, probe, front_layout)
            for suffix in (".pdf", ".json"):  # only its layout is of use
                (cache / f"{probe.key}{suffix}").unlink(missing_ok=True)
        batch_results = [fresh.get(p.key) or parts.cached(p, cache) for p in batch_parts]

        # The contents and the index need every case's first page, and nothing else from
        # each other: render them together (in parallel when both changed). Should the
        # contents come out longer than the probe said, number again with its length.
        note("Sætter indhold og indeks")
        for _attempt in range(3):
            first_pages, sections = _numbers(front_layout, batches, batch_results)
            front = parts.Part("front", html.front_html(
                book, _toc(book, first_pages, sections)), FRONT_ANCHORS)
            index = parts.Part("index", html.index_html(book, first_pages), INDEX_ANCHORS)
            last = [p for p in (front, index) if parts.cached(p, cache) is None]
            parts.render_parts(last, cache, pool)
            front_result, index_result = parts.cached(front, cache), parts.cached(index, cache)
            if front_result.pages == front_layout["pages"]:
                break
            front_layout = {"pages": front_result.pages, **front_result.anchors}
        else:  # pragma: no cover - only a layout whose length swings with its numbers
            raise RuntimeError("Indholdsfortegnelsen fik ikke en fast længde.")
    sections.update({name: sections["indeks"] + index_result.anchors[name]
                     for name in INDEX_ANCHORS})

    note("Samler bogen")
    slots = [front, *batch_parts, index]
    results = [front_result, *batch_results, index_result]
    out = Path(out_path)
    tmp = out.with_name(out.name + ".tmp")
    with Joiner.resume(cache, [p.key for p in slots]) as joiner:
        joined_from_last = len(joiner.sizes)
        for slot, result in enumerate(results):
            if slot not in joiner.sizes:
                joiner.add(slot, str(result.path))
        total = joiner.finish(str(tmp), [p.key for p in slots], cache, title=book.title,
                              author=book.network_name, subject=book.edition_title,
                              outline=_outline(book, first_pages, sections))
    os.replace(tmp, out)
    parts.keep([cache / f"{p.key}{suffix}" for p in slots for suffix in (".pdf", ".json")]
               + [cache / f"{probe.key}.layout.json"])
    parts.prune(cache, CACHE_DAYS)
    note("Færdig")

    rendered_parts = len(fresh) - (probe.key in fresh) + len(last)  # the last attempt's
    return BuildReport(
        pages=total, chapters_rendered=rendered_chapters,
        chapters_cached=len(chapters) - rendered_chapters,
        seconds=time.perf_counter() - started, bytes=out.stat().st_size,
        chapter_pages=first_pages, parts_rendered=rendered_parts,
        parts_cached=len(batch_parts) + 2 - rendered_parts, phases=phases,
        parts_reused=joined_from_last,
        refused=sorted({url for r in [*batch_results, front_result, index_result]
                        for url in r.refused}))


FRONT_ANCHORS = ("forord", "indhold", "introduktion")
INDEX_ANCHORS = ("indeks-tema", "indeks-kommune")


def _numbers(front_layout: dict, batches: list[list[Chapter]],
             results: list[parts.Rendered]) -> tuple[dict[str, int], dict[str, int]]:
    """Each case's first page and the front sections' and index's first pages (1-based,
    as printed), from the front matter's layout and the batches' page counts."""
    first_pages: dict[str, int] = {}
    page = front_layout["pages"] + 1
    for batch, result in zip(batches, results, strict=True):
        for i, chapter in enumerate(batch, start=1):
            first_pages[chapter.key] = page + result.anchors[f"case-{i}"]
        page += result.pages
    sections = {name: front_layout[name] + 1 for name in FRONT_ANCHORS if name in front_layout}
    sections["indeks"] = page
    return first_pages, sections


def _toc(book: Book, pages: dict[str, int], sections: dict[str, int]) -> list[html.Entry]:
    """The contents. Without ``pages`` the numbers are placeholders (the layout is the
    same: numbers sit in a fixed-width column)."""
    entries = []
    if book.foreword_html:
        entries.append(html.Entry("Forord", sections.get("forord", 0), kind="major"))
    if book.introduction_html:
        entries.append(html.Entry("Introduktion", sections.get("introduktion", 0),
                                  kind="major"))
    group = None
    for chapter in book.chapters:
        if chapter.group and chapter.group != group:
            entries.append(html.Entry(chapter.group, pages.get(chapter.key, 0), kind="group"))
        group = chapter.group
        entries.append(html.Entry(chapter.title, pages.get(chapter.key, 0),
                                  municipality=chapter.municipality))
    entries.append(html.Entry("Indeks efter tema og kommune", sections.get("indeks", 0),
                              kind="major"))
    return entries


def _known_layout(cache: Path, part: parts.Part) -> dict | None:
    path = cache / f"{part.key}.layout.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _remember_layout(cache: Path, part: parts.Part, layout: dict) -> None:
    (cache / f"{part.key}.layout.json").write_text(json.dumps(layout))


def _outline(book: Book, pages: dict[str, int],
             sections: dict[str, int]) -> list[tuple[str, int]]:
    """Bookmarks for the reader's side panel (title, 0-based page): front matter, each
    case, the indexes."""
    items = [(book.title, 0)]
    for name, title in (("forord", "Forord"), ("indhold", "Indhold"),
                        ("introduktion", "Introduktion")):
        if name in sections:
            items.append((title, sections[name] - 1))
    items += [(f"{c.title} ({c.municipality})", pages[c.key] - 1) for c in book.chapters]
    items.append(("Indeks efter tema", sections["indeks-tema"] - 1))
    items.append(("Indeks efter kommune", sections["indeks-kommune"] - 1))
    return items
