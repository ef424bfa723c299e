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

The package – the format (``archive``), ``export`` and ``restore`` – sits beside the
background jobs: above the services (it reads where the catalogue keeps its PDFs) and below
the command line that calls it.
"""

from laks.backup.archive import (
    EXCLUDED_TABLES,
    LINK_MAIL_KINDS,
    MANIFEST,
    SECRET_COLUMNS,
    Archive,
    BackupError,
    ExportReport,
    ImportReport,
    database_revision,
    exported_tables,
    is_excluded,
    laks_version,
)
from laks.backup.export import export_archive
from laks.backup.restore import import_archive, read_archive

__all__ = [
    "Archive",
    "BackupError",
    "EXCLUDED_TABLES",
    "ExportReport",
    "ImportReport",
    "LINK_MAIL_KINDS",
    "MANIFEST",
    "SECRET_COLUMNS",
    "database_revision",
    "export_archive",
    "exported_tables",
    "import_archive",
    "is_excluded",
    "laks_version",
    "read_archive",
]
