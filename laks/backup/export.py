"""Export: every table and the catalogue's PDFs, read at one moment, to one archive."""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, select

from laks.audit import record
from laks.backup.archive import (
    FILES_FOLDER,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    TABLES_FOLDER,
    BackupError,
    ExportReport,
    _columns,
    _row_filter,
    _sha256,
    _table_json,
    _to_json,
    database_revision,
    exported_tables,
    laks_version,
)
from laks.extensions import db
from laks.models import Edition
from laks.services.catalogue_pdf import storage_dir

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
