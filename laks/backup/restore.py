"""Restore: read and check an archive, then write it into an empty database at the same
revision, in one transaction – or refuse, with a message, before anything is written."""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from sqlalchemy import JSON, Connection, Table, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from laks.backup.archive import (
    FILES_FOLDER,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SECRET_COLUMNS,
    Archive,
    BackupError,
    ImportReport,
    _columns,
    _from_json,
    _kind,
    _sha256,
    database_revision,
    exported_tables,
    laks_version,
)
from laks.extensions import db
from laks.services.catalogue_pdf import storage_dir

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
