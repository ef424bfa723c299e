"""The archive's format: what is in it (the tables, the secrets left out), how a value is
written to JSON and read back, and the errors and reports of an export and a restore."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import JSON, Connection, Table, TypeDecorator, inspect, text

from laks.models import Base
from laks.models.catalogue import SEARCH_TABLE, is_search_table
from laks.models.users import new_session_token

#: The name of the format, in every manifest.
FORMAT = "laks-backup"
#: The version of the format this laks writes and reads. Raise it when the layout of the
#: archive changes (not when a table or column does: the Alembic revision says that).
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLES_FOLDER = "tables/"
FILES_FOLDER = "files/catalogue/"

#: Tables of the database that are not in the archive, and why.
EXCLUDED_TABLES = {
    "alembic_version": "the schema's revision, not data: the manifest records it, and a "
                       "restore needs a database migrated to that same revision",
    SEARCH_TABLE: "the SQLite search index of the published cases (and its FTS5 shadow "
                  "tables): derived from catalogue_edition_case.search_text and rebuilt "
                  "by the restore",
}

#: Secret columns, left out unless the export is asked for them; for each, what a restore
#: of an archive without them puts in their place.
SECRET_COLUMNS: dict[str, dict[str, Callable[[], object]]] = {
    "user_account": {
        "password_hash": lambda: None,  # no password: an invitation link chooses one
        "totp_secret": lambda: None,  # no second factor: set up again at the next login
        "totp_confirmed_at": lambda: None,
        "recovery_codes": lambda: None,
        "session_token": new_session_token,  # every session made before ends
    },
}

#: The kinds of mail whose text holds a link to choose a password (see the module's text).
LINK_MAIL_KINDS = ("invitation", "password_reset")


class BackupError(Exception):
    """An export or a restore that cannot be done; the message says why, for the person at
    the command line."""


@dataclass
class ExportReport:
    path: Path
    rows: dict[str, int]
    files: int
    bytes: int
    seconds: float
    with_secrets: bool
    left_out_mails: int = 0
    #: PDFs an edition names that are not in the catalogue's folder (not in the archive).
    missing_files: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: dict[str, int]
    files: int
    seconds: float
    with_secrets: bool


@dataclass
class Archive:
    """A read and checked archive, held in memory until it is restored."""

    manifest: dict
    tables: dict[str, dict] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


# --- what is in the archive ---------------------------------------------------------------------

def is_excluded(name: str) -> bool:
    """Whether a table of the database is deliberately not in the archive."""
    return name in EXCLUDED_TABLES or is_search_table(name)


def exported_tables() -> list[Table]:
    """The tables in the archive, parents before children (the order of a restore)."""
    return [table for table in Base.metadata.sorted_tables if not is_excluded(table.name)]


def _columns(table: Table, with_secrets: bool) -> list:
    secret = set() if with_secrets else set(SECRET_COLUMNS.get(table.name, ()))
    return [column for column in table.columns if column.name not in secret]


def _row_filter(table: Table, with_secrets: bool):
    if table.name == "mail_message" and not with_secrets:
        return table.c.kind.not_in(LINK_MAIL_KINDS)
    return None


def _kind(column) -> type:
    """The Python type of a column's values (str for an enumeration, object for JSON)."""
    type_ = column.type
    if isinstance(type_, TypeDecorator):  # UTCDateTime: what it stores
        type_ = type_.impl_instance
    if isinstance(type_, JSON):
        return object
    try:
        kind = type_.python_type
    except NotImplementedError:  # a type without one: handed over as JSON gives it
        return object
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return str
    return kind


def _to_json(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:  # only UTC is ever stored
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _from_json(kind: type, value):
    """A value of the archive as the column takes it; ValueError when it cannot be one."""
    if value is None or kind is object:
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a date and time")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return parsed
    if kind is date:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a date")
        return date.fromisoformat(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        return value
    return value


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _table_json(name: str, columns: list[str], rows: list[dict]) -> bytes:
    """A table's file: one row a line, keys sorted, so that two archives compare line by
    line."""
    head = json.dumps({"table": name, "columns": columns}, ensure_ascii=False)[:-1]
    lines = [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows]
    body = ",\n".join(lines)
    return f'{head}, "rows": [\n{body}\n]}}\n'.encode() if lines else \
        f'{head}, "rows": []}}\n'.encode()


def laks_version() -> str:
    try:
        return version("laks")
    except PackageNotFoundError:
        return "unknown"


def database_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is migrated to; None for a database without the
    schema."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revisions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(sorted(revisions)) or None
