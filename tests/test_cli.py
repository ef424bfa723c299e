"""The command line: seed and user management, including every way to get it wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from laks.enums import Role
from laks.extensions import db
from laks.models import User


def run(runner, *args):
    return runner.invoke(args=list(args), catch_exceptions=False)


def test_cli_seed_prints_demo_logins_and_is_idempotent(runner):
    first = run(runner, "seed", "--demo")
    assert first.exit_code == 0
    assert "admin@demo.laks.dk" in first.output
    assert "laks-demo-2026" in first.output
    second = run(runner, "seed", "--demo")
    assert "0 new rows" in second.output


def test_cli_user_create_prints_invitation(runner, make_unit):
    unit = make_unit("Sletten")
    result = run(runner, "user", "create", "--email", "Anna@Example.org", "--name", "Anna",
                 "--role", "staff", "--unit", "Sletten", "--tovholder")
    assert result.exit_code == 0, result.output
    assert "http://laks.test/invitation/" in result.output
    user = db.session.scalar(select(User).where(User.email == "anna@example.org"))
    assert user.role == Role.STAFF and user.is_tovholder_of(unit.id)
    assert user.password_hash is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "staff", "--unit", "Findes ikke"], "No unit is called 'Findes ikke'"),
        (["--role", "staff", "--unit", "999999"], "No unit has the id 999999"),
        (["--role", "wizard"], "'wizard' is not one of"),
        (["--role", "staff"], "must belong to at least one unit"),
        (["--role", "admin", "--unit", "Sletten"], "has no units"),
    ],
    ids=["unknown-unit-name", "unknown-unit-id", "unknown-role", "staff-without-unit",
         "admin-with-unit"],
)
def test_cli_user_create_refuses_bad_input(runner, make_unit, args, message):
    make_unit("Sletten")
    result = runner.invoke(args=["user", "create", "--email", "x@example.org", "--name", "X",
                                 *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_cli_user_create_refuses_duplicate_email(runner, make_user):
    existing = make_user(Role.ADMIN, email="dup@example.org")
    result = runner.invoke(args=["user", "create", "--email", "DUP@example.org", "--name", "Y",
                                 "--role", "admin"])
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert db.session.scalars(select(User)).all() == [existing]


def test_cli_user_create_refuses_second_tovholder(runner, make_unit, make_user):
    unit = make_unit("Parablyen")
    make_user(Role.STAFF, unit, tovholder=True)
    result = runner.invoke(args=["user", "create", "--email", "t2@example.org", "--name", "T",
                                 "--role", "staff", "--unit", str(unit.id), "--tovholder"])
    assert result.exit_code != 0
    assert "already has a tovholder" in result.output


def test_cli_user_create_refuses_invalid_email(runner):
    result = runner.invoke(args=["user", "create", "--email", "not-an-address", "--name", "Z",
                                 "--role", "admin"])
    assert result.exit_code != 0
    assert "not a valid e-mail address" in result.output


def test_cli_set_password(runner, make_user):
    user = make_user(Role.ADMIN)
    result = run(runner, "user", "set-password", "--email", user.email,
                 "--password", "ny adgangskode 1")
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.check_password("ny adgangskode 1")


def test_cli_set_password_unknown_email(runner):
    result = runner.invoke(args=["user", "set-password", "--email", "ghost@example.org",
                                 "--password", "whatever long"])
    assert result.exit_code != 0
    assert "No user has the e-mail ghost@example.org" in result.output


def test_cli_set_password_too_short(runner, make_user):
    user = make_user(Role.ADMIN)
    result = runner.invoke(args=["user", "set-password", "--email", user.email,
                                 "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output


def test_cli_invite_and_deactivate(runner, make_user):
    user = make_user(Role.OBSERVER)
    assert "/invitation/" in run(runner, "user", "invite", "--email", user.email).output
    assert run(runner, "user", "deactivate", "--email", user.email).exit_code == 0
    db.session.refresh(user)
    assert not user.active
    refused = runner.invoke(args=["user", "invite", "--email", user.email])
    assert refused.exit_code != 0 and "deactivated" in refused.output


# --- the catalogue's PDF and the background jobs ----------------------------------------------


def _pdf_words(path) -> str:
    import subprocess

    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    return " ".join(out.decode().replace("-\n", "").split())


@pytest.fixture
def pdf_storage(app, tmp_path):
    app.config["LAKS_CATALOGUE_DIR"] = str(tmp_path / "catalogue")
    return tmp_path / "catalogue"


def test_cli_seed_demo_builds_the_catalogue_pdf_then_catalogue_build_reuses_it(
        runner, client, pdf_storage, tmp_path):
    """`make run` seeds the demo: its edition's PDF is there to download at once; the
    command line then builds the same book into a file from the cache."""
    from laks.enums import BuildStatus
    from laks.models import Edition
    from laks.services.catalogue import edition_cases

    seeded = run(runner, "seed", "--demo")
    assert seeded.exit_code == 0, seeded.output
    edition = db.session.scalar(select(Edition).where(Edition.number == 1))
    assert edition.pdf_status == BuildStatus.READY
    assert f"Edition 1: PDF built, {edition.pdf_pages} pages" in seeded.output
    download = client.get("/katalog/1/pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == (pdf_storage / edition.pdf_file).read_bytes()
    download.close()

    out = tmp_path / "katalog.pdf"
    built = run(runner, "catalogue", "build", "--edition", "1", "--out", str(out))
    assert built.exit_code == 0, built.output
    cases = len(edition.cases)
    assert f"0 cases rendered, {cases} from the cache." in built.output
    assert f"{out}: {edition.pdf_pages} pages" in built.output
    words = _pdf_words(out)
    for _case, content in edition_cases(edition):
        assert " ".join(content["title"].split()) in words
    assert db.session.scalar(select(Edition.pdf_file).where(Edition.number == 1)) \
        == edition.pdf_file  # the command writes its file only


def test_cli_catalogue_build_of_a_draft_is_a_preview(runner, team, pdf_storage, tmp_path):
    """A draft is built from its cases as they are now; nothing is stored or changed."""
    from laks.enums import BuildStatus
    from laks.services import catalogue
    from tests.catalogue_support import fill_case

    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              changes={"refleksion": {"case_title": "Et udkast til en case"}})
    catalogue.give_consent(team.unit, team.tovholder)
    draft = catalogue.create_edition(team.admin, "Udkast", team.unit.programme, "theme")
    catalogue.set_edition_cases(draft, [team.unit.id], team.admin)
    db.session.commit()
    out = tmp_path / "udkast.pdf"
    result = run(runner, "catalogue", "build", "--edition", str(draft.number), "--out",
                 str(out))
    assert result.exit_code == 0, result.output
    assert (f"Edition {draft.number} is a draft: built from its cases as they are now "
            "(a preview).") in result.output
    assert "1 case rendered, 0 from the cache." in result.output
    assert "Et udkast til en case" in _pdf_words(out)
    db.session.expire_all()
    assert draft.pdf_status == BuildStatus.NONE and draft.pdf_file is None
    assert list(pdf_storage.glob("*.pdf")) == []  # only the cache of rendered cases


@pytest.mark.parametrize(("setup", "args", "message"), [
    (None, ["--edition", "99"], "No edition has the number 99."),
    ("empty", ["--edition", "7"], "Edition 7 has no cases."),
    ("one", ["--edition", "8", "--out", "/nonexistent-folder/x.pdf"],
     "The PDF could not be built:"),
], ids=["unknown", "no-cases", "unwritable"])
def test_cli_catalogue_build_refuses_bad_input(runner, pdf_storage, tmp_path, setup, args,
                                               message):
    from tests.catalogue_factories import make_edition, snapshot

    if setup == "empty":
        make_edition([], number=7)
    elif setup == "one":
        make_edition([snapshot(unit_id=1)], number=8)
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "x.pdf")]
    result = runner.invoke(args=["catalogue", "build", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_jobs_run_builds_what_waits(runner, pdf_storage):
    from laks.enums import BuildStatus
    from laks.models import Edition
    from tests.catalogue_factories import make_edition, snapshot

    assert "No PDF is waiting to be built." in run(runner, "jobs", "run").output
    ok = make_edition([snapshot(unit_id=1)], number=3, pdf_status=BuildStatus.QUEUED).id
    bad = make_edition([snapshot(unit_id=1), snapshot(unit_id=1, title="Samme enhed")],
                       number=4, pdf_status=BuildStatus.QUEUED).id
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 1
    assert "Edition 3: PDF built" in result.output
    assert "Edition 4: PDF'en kunne ikke laves: To cases har samme nøgle." in result.output
    assert "Some PDFs could not be built" in result.output
    assert db.session.get(Edition, ok).pdf_status == BuildStatus.READY
    assert db.session.get(Edition, bad).pdf_status == BuildStatus.FAILED
    assert "No PDF is waiting to be built." in run(runner, "jobs", "run").output


def test_cli_jobs_worker_needs_redis(runner):
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 1
    assert "LAKS_REDIS_URL is not set" in result.output


def test_cli_jobs_run_builds_an_edition_left_being_made(runner, pdf_storage):
    """A process stopped in the middle of a build leaves it 'building'; the command line
    builds it again."""
    from laks.enums import BuildStatus, EditionStatus
    from laks.models import Edition
    from tests.catalogue_factories import make_edition, snapshot

    stuck = make_edition([snapshot(unit_id=1)], number=3, pdf_status=BuildStatus.BUILDING).id
    make_edition([snapshot(unit_id=2)], number=4, status=EditionStatus.DRAFT)
    assert "No PDF is waiting to be built." in run(runner, "jobs", "run").output
    result = run(runner, "jobs", "run", "--edition", "3")
    assert result.exit_code == 0, result.output
    assert "Edition 3: PDF built" in result.output
    assert db.session.get(Edition, stuck).pdf_status == BuildStatus.READY
    for number in ("4", "99"):
        refused = runner.invoke(args=["jobs", "run", "--edition", number])
        assert refused.exit_code == 1
        assert f"No published edition has the number {number}." in refused.output


def test_cli_user_reset_two_factor_lets_a_locked_out_admin_set_it_up_again(runner,
                                                                            make_user):
    from laks.models import AuditEvent
    from laks.services import twofactor

    admin = make_user(Role.ADMIN)
    assert twofactor.is_on(admin)
    token = admin.session_token
    result = run(runner, "user", "reset-two-factor", "--email", admin.email.upper())
    assert result.exit_code == 0, result.output
    assert "They set it up again at their next login" in result.output
    db.session.expire_all()
    assert not twofactor.is_on(admin) and admin.session_token != token
    assert admin.totp_secret is None and not admin.recovery_codes
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "user.two_factor_reset", AuditEvent.object_id == admin.id))
    unknown = run(runner, "user", "reset-two-factor", "--email", "ingen@example.org")
    assert unknown.exit_code != 0
