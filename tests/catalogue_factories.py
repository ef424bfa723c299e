"""Published catalogue editions made directly from the models, for the tests of the public
side: an edition, its cases' frozen snapshots and search text, and on SQLite the rows of the
FTS5 index – what publishing leaves behind."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import text

from laks.enums import BuildStatus, CatalogueGrouping, EditionStatus
from laks.extensions import db
from laks.models import Edition, EditionCase, Unit

_numbers = count(1)


def snapshot(of: Unit | None = None, **fields) -> dict:
    """A complete case in the snapshot format, of the unit ``of`` if given; ``fields``
    override the defaults."""
    unit = of
    base = {
        "format": 1,
        "unit_id": unit.id if unit else None,
        "unit": unit.name if unit else "Sundhedscenteret",
        "municipality": unit.municipality.name if unit else "Holbæk",
        "municipality_code": unit.municipality.code if unit else "0316",
        "places": list(unit.places) if unit else ["Sundhedscenteret"],
        "programme": unit.programme.name if unit else "LAKS 2015–2016",
        "title": "Holdtræning tæt på hjemmet",
        "summary": "Vi flyttede træningen ud i boligområdet.",
        "challenge": "Vi mister mange undervejs",
        "challenge_type": "fastholdelse",
        "challenge_type_label": "Fastholdelse",
        "health_offer": "Sundhedstilbud",
        "themes": ["fysisk_aktivitet"],
        "theme_labels": ["Fysisk aktivitet"],
        "kram": [],
        "kram_labels": [],
        "target_group": "Borgere, der bor alene",
        "arena": "Lokalt",
        "barriers": "Lang transport.",
        "changed": "Vi ændrede tidspunktet.",
        "activities": [],
        "tested": "Tre runder med små justeringer.",
        "results": {"reached": 12, "started": 3, "completed": 0},
        "learned": "Nærhed betyder meget.",
        "tips": "Spørg først.",
        "resources": "To timer om ugen.",
        "transferability": "Ja, andre steder.",
        "anchoring": "Fast tilbud fra 2017.",
        "contact_role": "Sundhedskonsulent",
        "chart_svg": None,
        "chart_alt": None,
    }
    base.update(fields)
    return base


def search_text_of(content: dict) -> str:
    """The plain text a case is found by: its words, its place and its labels."""
    parts = [content.get(key) or "" for key in (
        "title", "unit", "municipality", "summary", "challenge", "challenge_type_label",
        "health_offer", "target_group", "arena", "barriers", "changed", "tested", "learned",
        "tips", "resources", "transferability", "anchoring")]
    parts += content.get("theme_labels") or []
    return "\n".join(part for part in parts if part)


def index_cases(cases: list[EditionCase]) -> None:
    """On SQLite, (re)fill the FTS5 rows of ``cases`` – rowid = the case's id – and drop
    rows left by cases that no longer exist (the test database is emptied table by table,
    which leaves the virtual table alone)."""
    if db.engine.dialect.name != "sqlite":
        return
    db.session.execute(text(
        "DELETE FROM catalogue_fts WHERE rowid NOT IN (SELECT id FROM catalogue_edition_case)"))
    for case in cases:
        db.session.execute(text("DELETE FROM catalogue_fts WHERE rowid = :id"), {"id": case.id})
        db.session.execute(text("INSERT INTO catalogue_fts (rowid, text) VALUES (:id, :text)"),
                           {"id": case.id, "text": case.search_text})


def make_edition(contents: list[dict], *, status: EditionStatus = EditionStatus.PUBLISHED,
                 number: int | None = None, title: str = "Inspirationskatalog",
                 grouping: CatalogueGrouping = CatalogueGrouping.THEME,
                 published_at: datetime | None = None, units: list[Unit] | None = None,
                 foreword: str = "", introduction: str = "",
                 pdf_status: BuildStatus = BuildStatus.NONE, programme=None) -> Edition:
    """An edition with one case per snapshot in ``contents`` (frozen as publishing freezes
    them; a draft's cases have no snapshot), committed."""
    edition = Edition(
        number=number or 1000 + next(_numbers), title=title, grouping=grouping, status=status,
        foreword=foreword, introduction=introduction, pdf_status=pdf_status,
        programme=programme,
        published_at=None if status == EditionStatus.DRAFT
        else published_at or datetime.now(UTC),
    )
    if status == EditionStatus.WITHDRAWN:
        edition.withdrawn_at = datetime.now(UTC)
        edition.withdrawn_reason = "Trukket tilbage i en test"
    for position, content in enumerate(contents):
        unit = units[position] if units else None
        frozen = None if status == EditionStatus.DRAFT else content
        edition.cases.append(EditionCase(
            unit=unit, position=position, snapshot=frozen,
            search_text=search_text_of(content) if frozen else ""))
    db.session.add(edition)
    db.session.flush()
    index_cases(edition.cases)
    db.session.commit()
    return edition
