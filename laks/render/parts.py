"""Rendering the parts of the book with WeasyPrint, each cached on disk by a hash of its
HTML and the layout.

A part is a complete PDF/UA-1 document: the front matter, a batch of cases or the index.
WeasyPrint is single-threaded, so parts are rendered in this process and in one worker
process (laks.render.worker) per further core; workers stay small and give their memory
back when they exit. A single part (a rebuild after one change) starts no worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from queue import Empty, Queue

from .assets import ROOT, layout_fingerprint

# Bump when the engine changes what a part's PDF contains (not needed for template, CSS or
# font changes: those are in the layout fingerprint).
ENGINE_VERSION = "4"
PDF_VARIANT = "pdf/ua-1"
JOBS_PER_WORKER = 40  # a worker stays at about 120 MB; replaced now and then all the same


@dataclass(frozen=True)
class Part:
    """A part to render: its HTML and the anchors whose page the engine needs."""

    kind: str
    html: str
    anchors: tuple[str, ...] = ()

    @cached_property
    def key(self) -> str:
        digest = hashlib.sha256(f"{ENGINE_VERSION}:{layout_fingerprint()}:{self.kind}:".encode())
        digest.update(self.html.encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Rendered:
    """A rendered part in the cache: its file, its page count, the 0-based page of each
    anchor asked for, and the URLs the fetcher refused."""

    path: Path
    pages: int
    anchors: dict[str, int]
    refused: tuple[str, ...] = ()


def cached(part: Part, cache_dir: Path) -> Rendered | None:
    """The part from the cache, or None."""
    meta = cache_dir / f"{part.key}.json"
    pdf = cache_dir / f"{part.key}.pdf"
    if not (meta.is_file() and pdf.is_file()):
        return None
    data = json.loads(meta.read_text())
    return Rendered(pdf, data["pages"], data["anchors"], tuple(data.get("refused", ())))


def render_parts(parts: list[Part], cache_dir: Path, pool: Workers) -> list[Rendered]:
    """Render the parts (none of them cached) into the cache, here and in ``pool``'s
    worker processes. Raises RuntimeError if a worker fails."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = [{"html": part.html, "anchors": list(part.anchors),
             "stem": str(cache_dir / part.key)} for part in parts]
    results = pool.run(jobs)
    return [Rendered(Path(path), pages, anchors, tuple(refused))
            for path, pages, anchors, refused in results]


class Workers:
    """``count`` renderers (default: one per core): this process and ``count - 1`` worker
    processes, started on first need and kept for the build (a worker takes most of a
    second to start, during which this process is already rendering); each worker is
    replaced after JOBS_PER_WORKER jobs so that none grows for long. A rebuild after one
    change renders its one part here and starts no worker. Use as a context manager."""

    def __init__(self, count: int | None = None):
        count = max(1, count or os.cpu_count() or 1)
        self.slots: list[list] = [[None, 0] for _ in range(count - 1)]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        for slot in self.slots:
            _stop(slot[0])
            slot[0] = None

    def run(self, jobs: list[dict]) -> list:
        """Run the jobs, the next one on whichever worker is free; results in job order."""
        queue: Queue = Queue()
        for number, job in enumerate(jobs):
            queue.put((number, job))
        results: list = [None] * len(jobs)
        errors: list[str] = []

        def drive(slot):
            while not errors:
                try:
                    number, job = queue.get_nowait()
                except Empty:
                    return
                if slot[0] is None or slot[1] >= JOBS_PER_WORKER:
                    _stop(slot[0])
                    slot[:] = [_start_worker(), 0]
                slot[0].stdin.write(json.dumps(job) + "\n")
                slot[0].stdin.flush()
                answer = json.loads(slot[0].stdout.readline() or '{"ok": false, '
                                    '"error": "the worker stopped"}')
                slot[1] += 1
                if not answer["ok"]:
                    errors.append(answer["error"])
                    return
                results[number] = answer["result"]

        def here(number, job):
            while not errors:
                try:
                    results[number] = render_one(job["html"], tuple(job["anchors"]),
                                                 job["stem"])
                except Exception as error:  # noqa: BLE001 - raised below, as a worker's
                    errors.append(f"{type(error).__name__}: {error}")
                try:
                    number, job = queue.get_nowait()
                except Empty:
                    return

        if not jobs:
            return []
        # This process takes the first job before any worker is started, so that a single
        # job starts none.
        first = queue.get_nowait()
        threads = [threading.Thread(target=drive, args=(slot,), daemon=True)
                   for slot in self.slots[:len(jobs) - 1]]
        for thread in threads:
            thread.start()
        here(*first)
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"A PDF worker failed: {errors[0]}")
        return results


def _start_worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("worker.py"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(ROOT), bufsize=1)


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.stdin.close()
        process.wait(timeout=60)
        process.stdout.close()


def render_one(html: str, anchors: tuple[str, ...], stem: str):
    """Render one part to ``stem``.pdf and write ``stem``.json (in a worker or here)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from .assets import stylesheet_text
    from .fetcher import SafeFetcher
    from .tagging import tidy_part

    fetcher = SafeFetcher()
    fonts = FontConfiguration()
    document = HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=stylesheet_text(), url_fetcher=fetcher, font_config=fonts)],
        font_config=fonts)
    wanted = set(anchors)
    found = {}
    for number, page in enumerate(document.pages):
        for name in wanted.intersection(page.anchors):
            found.setdefault(name, number)
    tmp = f"{stem}.{os.getpid()}.tmp"
    document.write_pdf(tmp, pdf_variant=PDF_VARIANT)
    pages = len(document.pages)
    del document
    tidy_part(tmp, Path(stem).name[:8])
    os.replace(tmp, f"{stem}.pdf")
    # The description last, and whole: a part counts as cached only once it is there.
    Path(tmp).write_text(json.dumps(
        {"pages": pages, "anchors": found, "refused": fetcher.refused}))
    os.replace(tmp, f"{stem}.json")
    return f"{stem}.pdf", pages, found, fetcher.refused


def keep(paths) -> None:
    """Mark cache files as used by this build (their time is what ``prune`` reads)."""
    for path in paths:
        try:
            os.utime(path)
        except FileNotFoundError:
            pass


def prune(cache_dir: Path, days: float) -> int:
    """Delete the cached parts, layouts and font subsets that no build has used for
    ``days`` days; returns how many files went. The last joined book and its manifest are
    the join's to replace (laks.render.join)."""
    cutoff = time.time() - days * 86400
    removed = 0
    for path in cache_dir.iterdir():
        if path.name == "book.json" or path.name.startswith("book-"):
            continue
        if path.suffix not in (".pdf", ".json", ".ttf", ".tmp"):
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # another build pruned it first
    return removed
