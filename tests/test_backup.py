"""Backup and restore: ``flask export`` writes everything to one archive and ``flask import``
restores it into an empty database – on SQLite and on PostgreSQL, as the suite runs.

The round trip is the proof that nothing is lost: a database with a row in every table (the
demo, and what it lacks added) is exported, restored into a brand-new database and exported
again, and the two archives hold the same tables, byte for byte, and the same PDFs.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import uuid
import zipfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from flask import session
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from laks import backup, catalogue_search, jobs
from laks.enums import Role, audit_action_label
from laks.extensions import db
from laks.models import (
    AuditEvent,
    Base,
    Edition,
    MailMessage,
    Municipality,
    ProgressScore,
    SharedMeasure,
    Unit,
    User,
    utcnow,
)
from laks.services import accounts, mail
from laks.services.catalogue_pdf import storage_dir
from laks.services.seed import load_seed
from tests.conftest import PASSWORD, make_test_app

#: A revision before the newest: an archive of today is not restored into it.
OLDER_REVISION = "9bd877adeb8b"


@contextmanager
def inside(target):
    """``target``'s app context; its connections are closed when it ends."""
    with target.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


# --- fresh databases -----------------------------------------------------------------------------

def _new_database(database_url: str, folder: Path) -> tuple[str, object]:
    """A brand-new empty database on the suite's backend; its URL and how to drop it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite'}", lambda: None
    name = f"laks_backup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def fresh_app(database_url, tmp_path, make_app):
    """Make an app on a brand-new database (migrated to ``revision``, the newest by default,
    or not at all), with a catalogue folder of its own."""
    drops = []

    def make(revision: str | None = "head"):
        url, drop = _new_database(database_url, tmp_path)
        drops.append(drop)
        other = make_app(url, LAKS_CATALOGUE_DIR=str(tmp_path / f"catalogue-{len(drops)}"))
        if revision:
            with inside(other):
                upgrade(revision=revision)
        return other

    yield make
    for drop in drops:
        drop()


@pytest.fixture(scope="module")
def empty_target(database_url, instance_path, tmp_path_factory):
    """One migrated, empty database for the restores that must be refused: it stays empty."""
    folder = tmp_path_factory.mktemp("backup-target")
    url, drop = _new_database(database_url, folder)
    target = make_test_app(url, instance_path, LAKS_CATALOGUE_DIR=str(folder / "catalogue"))
    with inside(target):
        upgrade()
    yield target
    drop()


def row_counts(target=None) -> dict[str, int]:
    """The rows of each table, in ``target``'s database (the suite's by default)."""
    if target is not None:
        with inside(target):
            return row_counts()
    with db.engine.connect() as conn:
        return {table.name: conn.scalar(select(func.count()).select_from(table))
                for table in backup.exported_tables()}


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


# --- archives ------------------------------------------------------------------------------------

def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def manifest_of(path: Path) -> dict:
    return json.loads(read_members(path)[backup.MANIFEST])


def rewrite(path: Path, out: Path, change, *, rehash: bool = True) -> Path:
    """A copy of the archive with ``change(members)`` applied; with ``rehash`` the manifest's
    checksums are made to match again (a well-formed archive with wrong content)."""
    members = read_members(path)
    change(members)
    if rehash:
        manifest = json.loads(members[backup.MANIFEST])
        manifest["members"] = {name: hashlib.sha256(data).hexdigest()
                               for name, data in members.items()
                               if name != backup.MANIFEST and name in manifest["members"]}
        members[backup.MANIFEST] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    out.write_bytes(buffer.getvalue())
    return out


def table_rows(members: dict[str, bytes], name: str) -> list[dict]:
    return json.loads(members[f"tables/{name}.json"])["rows"]


# --- a database with a row in every table --------------------------------------------------------

def build_rich_database():
    """The demo (programmes with due dates, municipalities, units, people, module questions
    and their versions, answers and test logs, revisions, reviews, comments, consents, an
    edition with its PDF, the audit log, notifications and mails) and what it lacks: a
    shared measure, a progress score and an audit event with an address and a browser."""
    report = load_seed(demo=True)
    db.session.commit()
    for edition_id in list(db.session.scalars(select(Edition.id))):
        assert jobs.run_edition_pdf(edition_id)
    unit = db.session.scalars(select(Unit).order_by(Unit.id)).first()
    facilitator = db.session.scalars(select(User).where(User.role == Role.FACILITATOR)).first()
    db.session.add(SharedMeasure(programme_id=unit.programme_id, key="fremmoede",
                                 name="Fremmøde", kind="proportion", better="up", goal=0.8,
                                 position=1))
    db.session.add(ProgressScore(unit_id=unit.id, half_steps=5, note="Godt i gang",
                                 set_by_id=facilitator.id, set_at=utcnow()))
    db.session.add(AuditEvent(actor_id=facilitator.id, action="unit.view", object_type="unit",
                              object_id=unit.id, unit_id=unit.id, details={"page": "unit"},
                              ip_address="192.0.2.17", user_agent="Mozilla/5.0 (Testbrowser)",
                              at=utcnow()))
    db.session.commit()
    return report


def same_content(first: Path, second: Path) -> None:
    """Two archives hold the same tables and files, whatever the time they were made."""
    one, two = read_members(first), read_members(second)
    assert sorted(one) == sorted(two)
    for name in one:
        if name != backup.MANIFEST:
            assert one[name] == two[name], name
    left, right = manifest_of(first), manifest_of(second)
    assert left.pop("created_at") != "" and right.pop("created_at") != ""
    # What an export held back is not in the restored database to be held back again.
    assert not right.pop("left_out")
    left.pop("left_out")
    assert left == right


# --- what is in the archive ---------------------------------------------------------------------

def test_backup_every_table_is_exported_or_excluded_with_a_reason(app):
    """A new table is in the archive unless it is named, with a reason, as left out; and
    every table the migrations make is one or the other."""
    exported = {table.name for table in backup.exported_tables()}
    for table in Base.metadata.sorted_tables:
        assert table.name in exported or backup.EXCLUDED_TABLES.get(table.name), table.name
    for reason in backup.EXCLUDED_TABLES.values():
        assert len(reason) > 30
    in_database = set(inspect(db.engine).get_table_names())
    assert in_database
    for name in in_database:
        assert name in exported or backup.is_excluded(name), name
    assert "alembic_version" in in_database and "alembic_version" not in exported
    # Parents before children, so that a restore can insert in this order.
    order = [table.name for table in backup.exported_tables()]
    for table in backup.exported_tables():
        for key in table.foreign_keys:
            assert order.index(key.column.table.name) < order.index(table.name)


@pytest.mark.parametrize("with_secrets", [True, False], ids=["with-secrets", "without"])
def test_backup_round_trip_loses_nothing(app, fresh_app, tmp_path, with_secrets):
    build_rich_database()
    source_counts = row_counts()
    assert all(source_counts.values()), source_counts  # every table has something to lose
    link_mails = db.session.scalar(select(func.count(MailMessage.id)).where(
        MailMessage.kind.in_(backup.LINK_MAIL_KINDS)))
    assert link_mails  # the demo's outbox holds an invitation and a password reset
    first = tmp_path / "first.zip"
    report = backup.export_archive(first, with_secrets=with_secrets)
    db.session.commit()

    manifest = manifest_of(first)
    assert manifest["format"] == "laks-backup" and manifest["format_version"] == 1
    assert manifest["laks_version"] == backup.laks_version() != "unknown"
    assert re.fullmatch(r"[0-9a-f]{12}", manifest["alembic_revision"])
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["with_secrets"] is with_secrets
    expected = dict(source_counts)
    if not with_secrets:
        expected["mail_message"] -= link_mails
        assert manifest["left_out"] == {"mail_message": link_mails}
    assert {name: entry["rows"] for name, entry in manifest["tables"].items()} == expected
    members = read_members(first)
    for name, digest in manifest["members"].items():
        assert hashlib.sha256(members[name]).hexdigest() == digest
    for name in manifest["tables"]:
        ids = [row["id"] for row in table_rows(members, name)]
        assert ids == sorted(ids), name  # rows by id
    pdf_file = db.session.scalars(select(Edition)).one().pdf_file
    pdf = (storage_dir() / pdf_file).read_bytes()
    assert members[f"files/catalogue/{pdf_file}"] == pdf
    assert manifest["files"] == [{"name": pdf_file, "bytes": len(pdf)}]
    # Dates and times in ISO 8601 with the zone, JSON columns as JSON.
    unit_row = table_rows(members, "unit")[0]
    assert isinstance(unit_row["places"], list)
    programme_row = table_rows(members, "programme")[0]
    assert date.fromisoformat(programme_row["starts_on"])
    audit_rows = table_rows(members, "audit_event")
    assert all(row["at"].endswith("+00:00") for row in audit_rows)
    assert any(row["ip_address"] == "192.0.2.17" and row["user_agent"] for row in audit_rows)
    assert isinstance(table_rows(members, "module_definition")[0]["content"], dict)
    # Module 4's answers carry the test log.
    assert any("cycles" in row["answers"] for row in table_rows(members, "unit_module")
               if row["module_key"] == "afproevning")
    assert report.bytes == first.stat().st_size

    restored = fresh_app()
    with inside(restored):
        result = backup.import_archive(first)
        assert result.rows == expected and result.files == 1
        assert (storage_dir() / pdf_file).read_bytes() == pdf
        second = tmp_path / "second.zip"
        backup.export_archive(second, with_secrets=with_secrets)
        db.session.commit()
    same_content(first, second)


def test_backup_restored_laks_works_as_before(app, fresh_app, tmp_path):
    """With the secrets, people sign in as before; the catalogue's PDF downloads and its
    search finds what it found; new rows get new ids (PostgreSQL's sequences are set past
    the restored ones)."""
    report = build_rich_database()
    edition = db.session.scalars(select(Edition)).one()
    word = edition.cases[0].search_text.split()[0]
    found = [case.id for case in catalogue_search.search_cases(edition, word)]
    assert found
    staff = db.session.scalars(select(User).where(User.role == Role.STAFF)).first()
    email, name, number, pdf_file = staff.email, staff.name, edition.number, edition.pdf_file
    without_codes = select(func.count(User.id)).where(User.recovery_codes.is_(None))
    nulls = db.session.scalar(without_codes)
    assert nulls
    edition_id = edition.id
    archive = tmp_path / "laks.zip"
    backup.export_archive(archive, with_secrets=True)
    db.session.commit()
    largest = {table.name: max(row["id"] for row in table_rows(read_members(archive),
                                                                table.name))
               for table in (AuditEvent.__table__, Municipality.__table__)}

    restored = fresh_app()
    with inside(restored):
        backup.import_archive(archive)
        client = restored.test_client()
        response = client.post("/log-ind", data={"email": email,
                                                 "password": report.demo_password})
        assert response.status_code == 302 and not response.location.endswith("/log-ind")
        profile = client.get("/konto")
        assert profile.status_code == 200 and name in profile.get_data(as_text=True)
        download = client.get(f"/katalog/{number}/pdf")
        assert download.status_code == 200
        assert download.data == (storage_dir() / pdf_file).read_bytes()
        download.close()
        again = db.session.get(Edition, edition_id)
        assert [case.id for case in catalogue_search.search_cases(again, word)] == found
        assert db.session.scalar(without_codes) == nulls  # SQL NULL stays NULL, not JSON null
        municipality = Municipality(code="9999", name="Nykommune")
        db.session.add(municipality)
        db.session.commit()  # would collide with a restored id on PostgreSQL without setval
        assert municipality.id > largest["municipality"]
        event_id = db.session.scalar(select(func.max(AuditEvent.id)))
        assert event_id > largest["audit_event"]  # the login above was audited with a new id


def test_backup_without_secrets_people_choose_a_password_again(app, fresh_app, tmp_path,
                                                                make_user, make_unit):
    """No password hash, second factor, recovery code or session token leaves laks without
    --with-secrets, nor a mail with a link to choose a password: after a restore without
    hashes every person is where an invitation opens, so an old link would work again."""
    unit = make_unit()
    person = make_user(Role.STAFF, unit, email="anna@kommune.dk")
    admin = make_user(Role.ADMIN)
    admin.recovery_codes = ["digest-of-a-recovery-code"]
    person.password_hash = None
    invitation = mail.send_invitation(person, actor=admin)
    token = re.search(r"/invitation/(\S+)", invitation.text_body).group(1)
    accounts.set_password(actor=person, user=person, password=PASSWORD)
    db.session.commit()
    with pytest.raises(accounts.AccountError):  # the person has chosen a password since
        accounts.user_from_invitation(token)
    archive = tmp_path / "laks.zip"
    backup.export_archive(archive)
    db.session.commit()

    raw = b"".join(read_members(archive).values())
    for secret in (person.password_hash, admin.totp_secret, admin.session_token,
                   person.session_token, "digest-of-a-recovery-code", token):
        assert secret.encode() not in raw
    assert table_rows(read_members(archive), "mail_message") == []
    assert "password_hash" not in json.loads(read_members(archive)["tables/user_account.json"])[
        "columns"]

    restored = fresh_app()
    with inside(restored):
        backup.import_archive(archive)
        people = db.session.scalars(select(User)).all()
        assert {p.email for p in people} == {person.email, admin.email}
        for someone in people:
            assert someone.password_hash is None and someone.totp_secret is None
            assert someone.totp_confirmed_at is None and someone.recovery_codes is None
            assert someone.session_token not in (person.session_token, admin.session_token)
        # Why the invitation mails stay out: the used link opens again.
        assert accounts.user_from_invitation(token).email == person.email
        client = restored.test_client()
        refused = client.post("/log-ind", data={"email": person.email, "password": PASSWORD})
        assert refused.status_code == 422
        assert client.post("/ny-invitation", data={"email": person.email}).status_code == 200
        sent = db.session.scalars(select(MailMessage)).all()
        assert [(m.kind, m.to_address) for m in sent] == [("invitation", person.email)]
        invited = restored.test_cli_runner().invoke(
            args=["user", "invite", "--email", admin.email])
        assert invited.exit_code == 0 and "/invitation/" in invited.output


# --- refusals ------------------------------------------------------------------------------------

@pytest.fixture
def small_archive(app, team, tmp_path) -> Path:
    """An archive of a small database (a programme, two units, seven people, the module
    questions)."""
    path = tmp_path / "small.zip"
    backup.export_archive(path)
    db.session.commit()
    return path


def test_backup_refuses_a_database_that_is_not_empty(app, small_archive):
    before = row_counts()
    with pytest.raises(backup.BackupError, match="The database is not empty .*user_account.*"
                                                 "empty database only. Nothing was written"):
        backup.import_archive(small_archive)
    assert row_counts() == before


def test_backup_refuses_another_revision(small_archive, fresh_app):
    older = fresh_app(revision=OLDER_REVISION)
    head = manifest_of(small_archive)["alembic_revision"]
    with inside(older), pytest.raises(
            backup.BackupError, match=f"made at the database revision {head}; this database "
                                      f"is at {OLDER_REVISION}"):
        backup.import_archive(small_archive)
    assert not any(row_counts(older).values())


def test_backup_refuses_a_database_without_schema(small_archive, fresh_app):
    bare = fresh_app(revision=None)
    with inside(bare):
        with pytest.raises(backup.BackupError, match="has no laks schema.*db upgrade"):
            backup.import_archive(small_archive)
        assert inspect(db.engine).get_table_names() == []


def _set(table: str, index: int, column: str, value):
    def change(members):
        content = json.loads(members[f"tables/{table}.json"])
        content["rows"][index][column] = value
        members[f"tables/{table}.json"] = json.dumps(content).encode()
    return change


def _manifest_change(**values):
    def change(members):
        manifest = json.loads(members[backup.MANIFEST])
        manifest.update(values)
        members[backup.MANIFEST] = json.dumps(manifest).encode()
    return change


def _rows_claimed(table: str, rows: int):
    def change(members):
        manifest = json.loads(members[backup.MANIFEST])
        manifest["tables"][table]["rows"] = rows
        members[backup.MANIFEST] = json.dumps(manifest).encode()
    return change


def _flip_a_byte(members):
    data = bytearray(members["tables/unit.json"])
    data[40] ^= 1
    members["tables/unit.json"] = bytes(data)


TAMPERED = [
    ("checksum", _flip_a_byte, False, "tables/unit.json does not match its checksum"),
    ("missing-member", lambda m: m.pop("tables/membership.json"), False,
     "lacks members its manifest lists: tables/membership.json"),
    ("extra-member", lambda m: m.__setitem__("tables/extra.json", b"{}"), False,
     "holds members its manifest does not list: tables/extra.json"),
    ("no-manifest", lambda m: m.pop(backup.MANIFEST), False, "has no manifest.json"),
    ("manifest-not-json", lambda m: m.__setitem__(backup.MANIFEST, b"{oops"), False,
     "manifest.json is not valid JSON"),
    ("other-format", _manifest_change(format="something-else"), False,
     "not a laks archive .*'something-else'"),
    ("format-version", _manifest_change(format_version=2), False,
     "format version 2; this laks .* reads version 1 only"),
    ("table-not-json", lambda m: m.__setitem__("tables/unit.json", b"[1, 2"), True,
     "tables/unit.json is not valid JSON"),
    ("wrong-type", _set("unit", 0, "programme_id", "one"), True,
     r"tables/unit.json, row 1: 'one' is not a whole number"),
    ("time-without-zone", _set("user_account", 0, "created_at", "2026-01-01T10:00:00"), True,
     "tables/user_account.json, row 1: .* has no time zone"),
    ("manifest-without-tables", _manifest_change(tables=None), False, "lacks 'tables'"),
    ("row-count", _rows_claimed("unit", 99), False,
     "tables/unit.json has 2 rows; the manifest says 99"),
    ("unknown-column", _set("unit", 0, "colour", "blue"), True,
     "tables/unit.json, row 1: not the columns of unit"),
]


@pytest.mark.parametrize(("change", "rehash", "message"),
                         [case[1:] for case in TAMPERED], ids=[case[0] for case in TAMPERED])
def test_backup_refuses_a_damaged_archive(small_archive, empty_target, tmp_path, change,
                                          rehash, message):
    broken = rewrite(small_archive, tmp_path / "broken.zip", change, rehash=rehash)
    with inside(empty_target), pytest.raises(backup.BackupError, match=message):
        backup.import_archive(broken)
    assert not any(row_counts(empty_target).values())


def test_backup_refuses_what_is_not_a_zip(empty_target, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    with inside(empty_target):
        with pytest.raises(backup.BackupError, match="is not a readable zip archive"):
            backup.import_archive(junk)
        with pytest.raises(backup.BackupError, match="There is no file"):
            backup.import_archive(tmp_path / "nowhere.zip")
    assert not any(row_counts(empty_target).values())


def test_backup_a_refusal_half_way_writes_nothing(small_archive, empty_target, tmp_path):
    """Rows the database refuses (two memberships with one id) undo every row written
    before them – the municipalities, the programme, the people, the units –: one
    transaction."""
    def duplicate(members):
        content = json.loads(members["tables/membership.json"])
        content["rows"][1]["id"] = content["rows"][0]["id"]
        members["tables/membership.json"] = json.dumps(content).encode()

    broken = rewrite(small_archive, tmp_path / "broken.zip", duplicate)
    with inside(empty_target), pytest.raises(
            backup.BackupError, match="The database refused the archive's rows, so nothing "
                                      "was restored"):
        backup.import_archive(broken)
    assert not any(row_counts(empty_target).values())


def test_backup_leaves_a_different_pdf_in_place(app, fresh_app, tmp_path):
    """A file of the archive's name with other content in the catalogue's folder is never
    replaced: the restore is refused and the database stays empty."""
    build_rich_database()
    pdf_file = db.session.scalars(select(Edition)).one().pdf_file
    archive = tmp_path / "laks.zip"
    backup.export_archive(archive)
    db.session.commit()
    restored = fresh_app()
    with inside(restored):
        folder = storage_dir()
        folder.mkdir(parents=True)
        (folder / pdf_file).write_bytes(b"another file")
        with pytest.raises(backup.BackupError, match="exists with other content"):
            backup.import_archive(archive)
        assert (folder / pdf_file).read_bytes() == b"another file"
        assert files_in(folder) == [pdf_file]
    assert not any(row_counts(restored).values())


# --- the command line ----------------------------------------------------------------------------

def test_backup_commands(app, runner, team, fresh_app, tmp_path):
    # An edition whose PDF has gone from the catalogue's folder: said, not hidden.
    db.session.add(Edition(number=9, title="Udgave 9", pdf_file="edition-9-gone.pdf"))
    db.session.commit()
    archive = tmp_path / "laks.zip"
    result = runner.invoke(args=["export", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Not in the archive: edition-9-gone.pdf" in result.output
    assert manifest_of(archive)["missing_files"] == ["edition-9-gone.pdf"]
    assert re.search(r"laks\.zip: [\d,]+ rows in 20 tables, 0 PDF files, [\d,]+ bytes in "
                     r"[\d.]+ s\.", result.output)
    assert "0 mails with a link to choose a password left out" in result.output
    assert zipfile.is_zipfile(archive)
    assert archive.stat().st_mode & 0o777 == 0o600  # readable by its owner only
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "backup.export")).one().details["with_secrets"] is False
    with app.test_request_context("/"):
        session["lang"] = "da"
        assert audit_action_label("backup.export") == "Alt eksporteret til en sikkerhedskopi"

    restored = fresh_app()
    with inside(restored):  # the command runs in the app context it finds
        result = restored.test_cli_runner().invoke(args=["import", str(archive)])
    assert result.exit_code == 0, result.output
    assert "restored" in result.output and "flask --app laks user invite" in result.output
    assert row_counts(restored)["user_account"] == len(vars(team)) - 2

    refused = runner.invoke(args=["import", str(archive)])
    assert refused.exit_code != 0
    assert "The database is not empty" in refused.output


@pytest.mark.parametrize("where", ["missing-folder", "under-a-file"])
def test_backup_export_to_an_unwritable_path_fails_clearly(app, runner, tmp_path, where):
    (tmp_path / "a-file").write_text("")
    out = tmp_path / ("no-such-folder" if where == "missing-folder" else "a-file") / "x.zip"
    result = runner.invoke(args=["export", "--out", str(out)])
    assert result.exit_code != 0
    assert f"The archive cannot be written to {out}" in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_backup_demo_figures(app, fresh_app, tmp_path):
    """The figures README gives for the demo, with room for a busy machine: an archive of
    about 240 kB (most of it the PDF), exported and restored in well under a second each
    (measured: 0.1–0.8 s), here held under 2 s."""
    build_rich_database()
    archive = tmp_path / "demo.zip"
    started = time.perf_counter()
    report = backup.export_archive(archive)
    exported = time.perf_counter() - started
    db.session.commit()
    restored = fresh_app()
    with inside(restored):
        started = time.perf_counter()
        backup.import_archive(archive)
        imported = time.perf_counter() - started
    assert 200_000 < report.bytes < 300_000
    assert len(report.rows) == 20 and 900 < sum(report.rows.values()) < 1100
    pdf = read_members(archive)[f"files/catalogue/{manifest_of(archive)['files'][0]['name']}"]
    assert 100_000 < len(pdf) < 170_000
    assert exported < 2.0 and imported < 2.0
