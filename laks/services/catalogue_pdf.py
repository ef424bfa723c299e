"""The catalogue's PDF: an edition made into a book (laks.render), built outside the web
request, stored in the instance folder and recorded on the edition.

The book of an edition is made from what the web shows: each case's frozen snapshot
rendered with the same Jinja macro as the public case page (templates/catalogue/_case.html),
in the order of the edition's parts. The engine caches each batch of cases by a hash of its
HTML in one cache folder shared by every edition, so a new edition in which one case changed
renders that case's batch only.

A build is claimed atomically (``queued`` → ``building`` in one UPDATE), so that two
workers never build the same edition; its progress is written in short transactions of its
own, for the admin's page to show. A finished PDF is written to a temporary file and renamed
into place (``edition-<number>-<hash>.pdf``) before the edition points to it; a failed build
records its error and leaves the previous file – and the edition's link to it – as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update

from laks.enums import BuildStatus, EditionStatus
from laks.extensions import db
from laks.models import Edition, utcnow
from laks.render import Book, BuildReport, Chapter, build_book
from laks.rendering import render_markdown
from laks.services.catalogue import edition_cases, group_contents

log = logging.getLogger(__name__)

#: Who publishes the catalogue, as the cover and the document's author say.
#: The folder inside the instance folder that holds the PDFs, and its cache of parts.
STORAGE_FOLDER = "catalogue"

#: The engine's steps (the start of its Danish progress messages) as a percentage done.
PHASES = (("Sætter indhold", 75), ("Sætter", 10), ("Samler", 90), ("Færdig", 100))

Progress = Callable[[int, str], None]


class PdfBuildError(Exception):
    """A build failed; the message is what the admin is shown (Danish)."""


# --- where the files are ----------------------------------------------------------------------

def storage_dir() -> Path:
    """The folder of the built PDFs: ``<instance>/catalogue``, or ``LAKS_CATALOGUE_DIR``
    (the app's config, else the environment) – a folder every web process and every RQ
    worker must share."""
    folder = (current_app.config.get("LAKS_CATALOGUE_DIR")
              or os.environ.get("LAKS_CATALOGUE_DIR")
              or Path(current_app.instance_path) / STORAGE_FOLDER)
    return Path(folder)


def cache_dir() -> Path:
    """The engine's cache of rendered parts, shared by every edition."""
    return storage_dir() / "cache"


def pdf_path(edition: Edition) -> Path | None:
    """The edition's stored PDF, or None when it has none (or the file is gone)."""
    if not edition.pdf_file:
        return None
    path = storage_dir() / edition.pdf_file
    return path if path.is_file() else None


# --- the book ---------------------------------------------------------------------------------

_CASE_MACRO = ('{% from "catalogue/_case.html" import case_body %}'
               '{{ case_body(case, heading_level=2, facts=False) }}')


def case_body_html(content: dict) -> str:
    """A case's body for its chapter: the web's case macro, in Danish. The chapter's title,
    its facts (municipality, unit, type, themes) and its run chart are the engine's to set,
    so the macro is asked for the sections only and given no chart."""
    case = {**content, "chart_svg": None}
    with force_locale("da"):
        markup = current_app.jinja_env.from_string(_CASE_MACRO).render(case=case)
    return markup.strip()


def chapter_key(content: dict, fallback: str) -> str:
    """A chapter's key: the unit's, so that a unit's case keeps its place (and its batch)
    from one edition to the next."""
    unit_id = content.get("unit_id")
    return f"unit-{unit_id}" if unit_id is not None else fallback


def chapter_for(content: dict, key: str) -> Chapter:
    """One case as a chapter of the book."""
    return Chapter(
        key=key,
        title=content.get("title") or "",
        municipality=content.get("municipality") or "",
        unit=content.get("unit") or "",
        themes=tuple(content.get("theme_labels") or ()),
        challenge_type=content.get("challenge_type_label") or "",
        body_html=case_body_html(content),
        chart_svg=content.get("chart_svg") or None,
        chart_alt=content.get("chart_alt") or None,
    )


def book_for(edition: Edition) -> Book:
    """The edition as a book: its cases in the order its parts show them (the web's order),
    from the frozen snapshots – or, for a draft, the cases as they are now (a preview)."""
    contents = [{**content, "_key": chapter_key(content, f"case-{case.id}")}
                for case, content in edition_cases(edition)]
    with force_locale("da"):
        parts = group_contents(contents, edition.grouping)
    chapters = tuple(replace(chapter_for(content, content["_key"]), group=label)
                     for label, cases in parts for content in cases)
    published = edition.published_at or utcnow()
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Copenhagen")
    return Book(
        title=edition.title,
        edition_number=edition.number,
        published_on=published.astimezone(UTC).astimezone(zone).date(),
        network_name=current_app.config["LAKS_NETWORK_NAME"],
        foreword_html=str(render_markdown(edition.foreword)),
        introduction_html=str(render_markdown(edition.introduction)),
        chapters=chapters,
    )


def percent(message: str) -> int | None:
    """How far a build is, from one of the engine's progress messages."""
    for start, done in PHASES:
        if message.startswith(start):
            return done
    return None


def write_book(edition: Edition, out_path: str | Path,
               progress: Progress | None = None) -> BuildReport:
    """Build the edition's book into ``out_path`` now, in this process, with the shared
    cache; the edition itself is not changed (the command line's ``catalogue build``).
    ``progress`` gets (percent, message) at each step. Raises what the engine raises."""
    book = book_for(edition)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)

    def step(message: str) -> None:
        done = percent(message)
        if progress and done is not None:
            progress(done, message)

    return build_book(book, cache, out_path, progress=step)


# --- the job: claim, build, store, record -----------------------------------------------------

def queued_edition_ids() -> list[int]:
    """The editions waiting for their PDF, oldest first."""
    return list(db.session.scalars(
        select(Edition.id).where(Edition.pdf_status == BuildStatus.QUEUED)
        .order_by(Edition.id)))


def claim(edition_id: int) -> bool:
    """Take the edition's queued build for this worker, in one UPDATE: True for exactly one
    of any number of workers asking at once, False if it was not queued (any more)."""
    with db.engine.begin() as conn:
        result = conn.execute(
            update(Edition)
            .where(Edition.id == edition_id, Edition.pdf_status == BuildStatus.QUEUED)
            .values(pdf_status=BuildStatus.BUILDING, pdf_progress=0, pdf_error=""))
    return result.rowcount == 1


def _set(edition_id: int, **values) -> None:
    """Write to the edition in a short transaction of its own (not the caller's session),
    so that the admin's page sees it at once and no lock is held during the build."""
    with db.engine.begin() as conn:
        conn.execute(update(Edition).where(Edition.id == edition_id).values(**values))


def error_message(error: BaseException) -> str:
    """What the admin reads when a build failed."""
    detail = str(error).strip() or type(error).__name__
    return f"PDF'en kunne ikke laves: {detail}"


def build_edition_pdf(edition_id: int, progress: Progress | None = None) -> BuildReport | None:
    """The background job: claim the edition's queued build, build its PDF and store it.

    Returns the engine's report, or None when the build was not this worker's to do (not
    queued, already taken by another worker, or the edition is gone or not published).
    On failure the edition is marked failed with a readable message, its previous PDF left
    in place, and PdfBuildError raised. Uses its own transactions: call it outside a
    request, in an app context.
    """
    if not claim(edition_id):
        return None
    db.session.expire_all()
    tmp_path: Path | None = None
    try:
        edition = db.session.get(Edition, edition_id)
        if edition is None or edition.status == EditionStatus.DRAFT:
            raise PdfBuildError("Udgaven er ikke udgivet.")
        number, previous = edition.number, edition.pdf_file
        book = book_for(edition)
        db.session.rollback()  # nothing to write here: end the read, hold no lock

        folder = storage_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".edition-{number}-", suffix=".pdf.part",
                                    dir=folder)
        os.close(fd)
        tmp_path = Path(name)
        cache = cache_dir()
        cache.mkdir(parents=True, exist_ok=True)

        def step(message: str) -> None:
            done = percent(message)
            if done is None:
                return
            _set(edition_id, pdf_progress=min(done, 99))
            if progress:
                progress(done, message)

        report = build_book(book, cache, tmp_path, progress=step)
        digest = hashlib.sha256(tmp_path.read_bytes()).hexdigest()
        final = f"edition-{number}-{digest[:12]}.pdf"
        os.replace(tmp_path, folder / final)
        tmp_path = None
        _set(edition_id, pdf_status=BuildStatus.READY, pdf_progress=100, pdf_error="",
             pdf_file=final, pdf_pages=report.pages, pdf_bytes=report.bytes,
             pdf_built_at=utcnow())
        if previous and previous != final:
            (folder / previous).unlink(missing_ok=True)
        log.info("catalogue edition %s: PDF built, %d pages, %d cases rendered, %d cached",
                 number, report.pages, report.chapters_rendered, report.chapters_cached)
        return report
    except Exception as error:
        db.session.rollback()
        message = error_message(error)
        log.exception("catalogue edition id %s: PDF build failed", edition_id)
        _set(edition_id, pdf_status=BuildStatus.FAILED, pdf_progress=0,
             pdf_error=message[:2000])
        raise PdfBuildError(message) from error
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def mark_queued(edition: Edition) -> None:
    """Ask for the edition's PDF (again): queued, no progress, no error. Its previous file
    stays until the new one is there. Flushes; the caller commits."""
    edition.pdf_status = BuildStatus.QUEUED
    edition.pdf_progress = 0
    edition.pdf_error = ""
    db.session.flush()
