"""Backup and restore: everything laks holds as one versioned archive, and back.

The archive is a zip file:

- ``manifest.json``: the format's name and version, laks' version, the database's Alembic
  revision, when it was made, whether it holds the secrets, the rows of each table, the
  files, and the SHA-256 of every other member;
- ``tables/<table>.json``: one file per table, ``{"table", "columns", "rows"}``, the rows
  ordered by primary key, each an object of column → value: dates and times in ISO 8601
  (times in UTC, with the zone), JSON columns as JSON, enumerations by their value;
- ``files/catalogue/<name>``: the PDF of every edition that has one.

The tables are found in the models' metadata (``Base.metadata.sorted_tables``), so that a
new table is in the archive without anyone remembering it; a table of the database that is
not in the archive is named in :data:`EXCLUDED_TABLES`, with the reason.

Secrets stay out unless asked for (``with_secrets``): the columns of
:data:`SECRET_COLUMNS` (password hashes, second factors, recovery codes, session tokens)
and the mails whose text carries a link to choose a password (:data:`LINK_MAIL_KINDS`):
after a restore without password hashes every person is back where an invitation link
opens, so such a link – still valid for days, and readable by anyone who holds the
archive – would let its holder choose the person's password.

A restore goes into an empty database at the same Alembic revision, in one transaction:
the tables in dependency order with their primary keys, then what is derived from them
(the search index on SQLite, PostgreSQL's sequences), then the PDF files. Anything wrong –
a damaged or altered archive, another format or revision, a database that is not empty –
is refused with a message before anything is written.

This module sits beside the background jobs: above the services (it reads where the
catalogue keeps its PDFs) and below the command line that calls it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from sqlalchemy import (
    JSON,
    Connection,
    Table,
    TypeDecorator,
    bindparam,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from laks.audit import record
from laks.extensions import db
from laks.models import Base, Edition
from laks.models.catalogue import SEARCH_TABLE, is_search_table
from laks.models.users import new_session_token
from laks.services.catalogue_pdf import storage_dir

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


# --- export --------------------------------------------------------------------------------------

def _snapshot(conn: Connection) -> None:
    """Make every read of ``conn`` see the database at one moment."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")  # a read transaction: writers wait until it ends


def export_archive(out: str | Path, *, with_secrets: bool = False) -> ExportReport:
    """Write everything in the database, and the catalogue's PDFs, to the archive ``out``.

    Without ``with_secrets`` the secret columns and the mails with a link to choose a
    password are left out (see the module's text). The file appears only once it is
    complete (written beside it, then renamed), readable by its owner only. Records
    ``backup.export`` in the audit log (flushed; the caller commits). Raises BackupError
    when the file cannot be written or the database has no schema.
    """
    started = time.perf_counter()
    out = Path(out)
    with db.engine.connect() as conn:
        _snapshot(conn)
        revision = database_revision(conn)
        if revision is None:
            raise BackupError("The database has no laks schema (no Alembic revision): "
                              "there is nothing to export.")
        members, rows_of, left_out = _read_tables(conn, with_secrets)
        pdf_names = sorted(conn.execute(
            select(Edition.pdf_file).where(Edition.pdf_file.is_not(None))).scalars())
        conn.rollback()
    files, missing = [], []
    for name in pdf_names:
        path = storage_dir() / name
        if not path.is_file():
            missing.append(name)
            continue
        members[f"{FILES_FOLDER}{name}"] = data = path.read_bytes()
        files.append({"name": name, "bytes": len(data)})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "laks_version": laks_version(),
        "alembic_revision": revision,
        "created_at": datetime.now(UTC).isoformat(),
        "database": db.engine.dialect.name,
        "with_secrets": with_secrets,
        "tables": {name: {"member": f"{TABLES_FOLDER}{name}.json", "rows": count}
                   for name, count in rows_of.items()},
        "files": files,
        "missing_files": missing,
        "left_out": {"mail_message": left_out} if left_out else {},
        "members": {name: _sha256(data) for name, data in members.items()},
    }
    size = _write_zip(out, manifest, members)
    record(None, "backup.export", None, with_secrets=with_secrets,
           rows=sum(rows_of.values()), files=len(files))
    db.session.flush()
    return ExportReport(path=out, rows=rows_of, files=len(files), bytes=size,
                        seconds=time.perf_counter() - started, with_secrets=with_secrets,
                        left_out_mails=left_out, missing_files=missing)


def _read_tables(conn: Connection, with_secrets: bool
                 ) -> tuple[dict[str, bytes], dict[str, int], int]:
    """Every exported table as its archive member; the rows of each; the mails left out."""
    members: dict[str, bytes] = {}
    rows_of: dict[str, int] = {}
    left_out = 0
    for table in exported_tables():
        columns = _columns(table, with_secrets)
        query = select(*columns).order_by(*table.primary_key.columns)
        where = _row_filter(table, with_secrets)
        if where is not None:
            query = query.where(where)
            left_out += conn.scalar(select(func.count()).select_from(table).where(~where))
        rows = [{name: _to_json(value) for name, value in row._mapping.items()}
                for row in conn.execute(query)]
        rows_of[table.name] = len(rows)
        members[f"{TABLES_FOLDER}{table.name}.json"] = _table_json(
            table.name, [c.name for c in columns], rows)
    return members, rows_of, left_out


def _write_zip(out: Path, manifest: dict, members: dict[str, bytes]) -> int:
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise BackupError(f"The archive cannot be written to {out}: {exc.strerror or exc}.") \
            from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
            for member, data in members.items():
                zf.writestr(member, data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"The archive cannot be written to {out}: {exc.strerror or exc}.") \
            from exc
    return out.stat().st_size


# --- reading and checking an archive ---------------------------------------------------------

def read_archive(path: str | Path) -> Archive:
    """Read the archive at ``path`` and check all of it: a zip, with a manifest of this
    format and version, every member listed there present with its SHA-256 and nothing
    else, every table of this laks and no other, and every row with the table's columns
    and values of their types. Raises BackupError saying what is wrong."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if MANIFEST not in names:
                raise BackupError(f"{path} has no {MANIFEST}: it is not a laks archive.")
            manifest = _manifest(zf.read(MANIFEST))
            listed = manifest["members"]
            if not isinstance(listed, dict):
                raise BackupError(f"{MANIFEST} lists its members wrongly.")
            missing = sorted(set(listed) - names)
            if missing:
                raise BackupError(f"The archive lacks members its manifest lists: "
                                  f"{', '.join(missing)}.")
            extra = sorted(names - set(listed) - {MANIFEST})
            if extra:
                raise BackupError(f"The archive holds members its manifest does not list: "
                                  f"{', '.join(extra)}.")
            contents = {}
            for name, digest in listed.items():
                data = zf.read(name)
                if _sha256(data) != digest:
                    raise BackupError(f"{name} does not match its checksum in the manifest: "
                                      "the archive is damaged or has been altered.")
                contents[name] = data
    except FileNotFoundError as exc:
        raise BackupError(f"There is no file {path}.") from exc
    except IsADirectoryError as exc:
        raise BackupError(f"{path} is a folder, not an archive.") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BackupError(f"{path} is not a readable zip archive ({exc}).") from exc
    except OSError as exc:
        raise BackupError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    archive = Archive(manifest=manifest)
    _check_tables(archive, contents)
    for entry in manifest["files"]:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or PurePosixPath(name).name != name \
                or name.startswith("."):
            raise BackupError(f"{MANIFEST} names a file wrongly: {entry!r}.")
        member = f"{FILES_FOLDER}{name}"
        if member not in contents:
            raise BackupError(f"The archive lacks the file {member}.")
        archive.files[name] = contents[member]
    stray = sorted(m for m in contents if m.startswith(FILES_FOLDER)
                   and m[len(FILES_FOLDER):] not in archive.files)
    if stray:
        raise BackupError(f"The archive holds files its manifest does not name: "
                          f"{', '.join(stray)}.")
    return archive


def _manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON ({exc}).") from exc
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise BackupError(f"The archive is not a laks archive (its format is {found!r}, "
                          f"not {FORMAT!r}).")
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise BackupError(f"The archive is in format version {found}; this laks "
                          f"({laks_version()}) reads version {FORMAT_VERSION} only.")
    for key, kind in (("alembic_revision", str), ("tables", dict), ("members", dict),
                      ("files", list), ("with_secrets", bool)):
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"{MANIFEST} lacks {key!r} or has it wrongly.")
    return manifest


def _check_tables(archive: Archive, contents: dict[str, bytes]) -> None:
    manifest = archive.manifest
    known = {table.name: table for table in exported_tables()}
    listed = manifest["tables"]
    unknown = sorted(set(listed) - set(known))
    if unknown:
        raise BackupError(f"The archive holds tables this laks does not have: "
                          f"{', '.join(unknown)}.")
    lacking = sorted(set(known) - set(listed))
    if lacking:
        raise BackupError(f"The archive lacks tables: {', '.join(lacking)}.")
    with_secrets = manifest["with_secrets"]
    for name, table in known.items():
        entry = listed[name]
        member = entry.get("member") if isinstance(entry, dict) else None
        if member not in contents:
            raise BackupError(f"The archive lacks the table {name} ({member}).")
        try:
            data = json.loads(contents[member])
        except (UnicodeDecodeError, ValueError) as exc:
            raise BackupError(f"{member} is not valid JSON ({exc}).") from exc
        if not isinstance(data, dict) or data.get("table") != name \
                or not isinstance(data.get("rows"), list):
            raise BackupError(f"{member} is not the table {name} of a laks archive.")
        expected = [c.name for c in _columns(table, with_secrets)]
        if data.get("columns") != expected:
            raise BackupError(f"{member} has the columns {data.get('columns')}, not those "
                              f"of the table {name} in this laks: {expected}.")
        if len(data["rows"]) != entry.get("rows"):
            raise BackupError(f"{member} has {len(data['rows'])} rows; the manifest says "
                              f"{entry.get('rows')}.")
        kinds = {c.name: _kind(c) for c in table.columns}
        rows = []
        for number, row in enumerate(data["rows"], start=1):
            if not isinstance(row, dict) or sorted(row) != sorted(expected):
                raise BackupError(f"{member}, row {number}: not the columns of {name}.")
            try:
                rows.append({key: _from_json(kinds[key], value) for key, value in row.items()})
            except ValueError as exc:
                raise BackupError(f"{member}, row {number}: {exc}.") from exc
        archive.tables[name] = {"columns": expected, "rows": rows}


# --- restore --------------------------------------------------------------------------------------

def _refuse_unless_ready(conn: Connection, archive: Archive) -> None:
    revision = database_revision(conn)
    wanted = archive.manifest["alembic_revision"]
    if revision is None:
        raise BackupError(f"The database has no laks schema. Create it first with "
                          f"`flask --app laks db upgrade {wanted}`.")
    if revision != wanted:
        raise BackupError(f"The archive was made at the database revision {wanted}; this "
                          f"database is at {revision}. Restore into a database migrated to "
                          f"{wanted} (`flask --app laks db upgrade {wanted}` on an empty one), "
                          "with the laks version that made the archive.")
    filled = [table.name for table in exported_tables()
              if conn.scalar(select(select(table).exists()))]
    if filled:
        raise BackupError(f"The database is not empty ({', '.join(filled)} hold rows): an "
                          "archive is restored into an empty database only. Nothing was "
                          "written.")


def _insert(conn: Connection, table: Table, rows: list[dict], columns: list[str],
            with_secrets: bool) -> None:
    fill = {} if with_secrets else SECRET_COLUMNS.get(table.name, {})
    # A JSON column's None is SQL NULL where the column allows it (as a value never set is),
    # and JSON's null where it does not.
    json_columns = {c.name: c.nullable for c in table.columns
                    if isinstance(c.type, JSON) and c.name in columns}
    statement = table.insert().values(
        {name: bindparam(f"{name}__json", type_=JSON(none_as_null=nullable))
         for name, nullable in json_columns.items()})
    params = []
    for row in rows:
        values = {(f"{key}__json" if key in json_columns else key): value
                  for key, value in row.items()}
        for key, make in fill.items():
            values[key] = make()
        params.append(values)
    for start in range(0, len(params), 500):
        conn.execute(statement, params[start:start + 500])


_SETVAL = text("SELECT setval(CAST(:sequence AS regclass), :next, false)")


def _reset_sequences(conn: Connection) -> None:
    """On PostgreSQL, set each table's id sequence past the largest id restored, so that the
    next row gets a new one."""
    if conn.dialect.name != "postgresql":
        return  # SQLite gives the next rowid after the largest there is
    for table in exported_tables():
        for column in table.primary_key.columns:
            if column.autoincrement is False or _kind(column) is not int:
                continue
            sequence = conn.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
            if sequence is None:
                continue
            largest = conn.scalar(select(func.max(column))) or 0
            conn.execute(_SETVAL, {"sequence": sequence, "next": largest + 1})


def _rebuild_search_index(conn: Connection) -> None:
    """The SQLite search index of the published cases, as publishing fills it."""
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL searches the cases' text itself
    conn.execute(text("DELETE FROM catalogue_fts"))
    conn.execute(text("INSERT INTO catalogue_fts (rowid, text) SELECT id, search_text "
                      "FROM catalogue_edition_case WHERE snapshot IS NOT NULL"))


def _place_files(files: dict[str, bytes]) -> list[Path]:
    """Write the PDFs into the catalogue's folder; the paths written (to take back if the
    restore fails). A file already there with other content is refused, never replaced."""
    folder = storage_dir()
    for name, data in files.items():
        path = folder / name
        if path.exists() and (not path.is_file() or _sha256(path.read_bytes()) != _sha256(data)):
            raise BackupError(f"{path} exists with other content; move it away first.")
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = folder / name
            if path.exists():
                continue
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
            written.append(path)
    except OSError as exc:
        _remove(written)
        raise BackupError(f"The catalogue's PDFs cannot be written to {folder}: "
                          f"{exc.strerror or exc}.") from exc
    return written


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def import_archive(path: str | Path) -> ImportReport:
    """Restore the archive at ``path`` into this app's database, which must be empty and
    at the archive's Alembic revision, and put its PDFs into the catalogue's folder.

    One transaction: the archive is read and checked whole first, and on any refusal or
    failure nothing is written (and no file left). Commits itself (the restore is the
    whole unit of work). Without the secrets in the archive, people have no password, no
    second factor and new session tokens. Raises BackupError saying what was wrong.
    """
    started = time.perf_counter()
    archive = read_archive(path)
    with_secrets = archive.manifest["with_secrets"]
    db.session.rollback()  # hold nothing open on the database besides the restore
    written: list[Path] = []
    try:
        with db.engine.begin() as conn:
            _refuse_unless_ready(conn, archive)
            for table in exported_tables():
                content = archive.tables[table.name]
                if content["rows"]:
                    _insert(conn, table, content["rows"], content["columns"], with_secrets)
            _rebuild_search_index(conn)
            written = _place_files(archive.files)
            _reset_sequences(conn)
    except BackupError:
        _remove(written)
        raise
    except (DBAPIError, SQLAlchemyError) as exc:
        _remove(written)
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BackupError(f"The database refused the archive's rows, so nothing was "
                          f"restored: {detail}") from exc
    db.session.expire_all()
    return ImportReport(rows={name: len(content["rows"])
                              for name, content in archive.tables.items()},
                        files=len(archive.files), seconds=time.perf_counter() - started,
                        with_secrets=with_secrets)
