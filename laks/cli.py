"""Command-line tools: ``flask --app laks seed``, ``flask --app laks user ...``,
``flask --app laks catalogue build`` and ``flask --app laks jobs run|worker``.

Every command commits once at the end, or not at all when it fails; a failure exits
non-zero with a message that says what was wrong.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from laks import backup, jobs
from laks.definitions import DefinitionError
from laks.enums import BuildStatus, EditionStatus, ObserverGroup, Role
from laks.extensions import db
from laks.models import Edition, Municipality, Unit
from laks.services import accounts, catalogue_pdf, mail
from laks.services.demo import DemoContentError
from laks.services.seed import SeedError, load_seed

user_cli = AppGroup("user", help="Create people, set passwords, print invitation links.")


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also create demo accounts and print their logins.")
@click.option("--base", is_flag=True,
              help="Only the municipalities and the module questions: no programmes.")
def seed_command(demo: bool, base: bool) -> None:
    """Load municipalities, programmes and module questions from seed_data/ (idempotent)."""
    try:
        report = load_seed(demo=demo, base=base)
    except (SeedError, DefinitionError, DemoContentError) as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Seed loaded: {len(report.created)} new rows.")
    if demo:
        click.echo(f"\nDemo logins (password for all: {report.demo_password}):")
        width = max(len(e) for e, _, _ in report.demo_logins)
        for email, role, unit in report.demo_logins:
            click.echo(f"  {email:<{width}}  {role:<11}  {unit}")
        _build_queued_pdfs()


def _build_queued_pdfs() -> None:
    """Build the PDFs the seed asked for (the demo's edition) now, so that the demo's
    catalogue has its PDF when laks starts – unless an RQ worker is there to do it."""
    if jobs.mode() == "rq":
        return
    for edition_id in catalogue_pdf.queued_edition_ids():
        _run_build(edition_id)


def _run_build(edition_id: int) -> bool:
    """Run one queued build and say how it went; True if the PDF is ready."""
    jobs.run_edition_pdf(edition_id)
    edition = db.session.get(Edition, edition_id)
    if edition.pdf_status == BuildStatus.READY:
        click.echo(f"Edition {edition.number}: PDF built, {edition.pdf_pages} pages, "
                   f"{edition.pdf_bytes:,} bytes ({edition.pdf_file}).")
        return True
    if edition.pdf_status == BuildStatus.FAILED:
        click.echo(f"Edition {edition.number}: {edition.pdf_error}", err=True)
        return False
    click.echo(f"Edition {edition.number}: taken by another worker.")
    return True


def _find_unit(spec: str) -> Unit:
    """A unit by id, or by name (optionally 'Municipality: name'); fails if not one match."""
    if spec.isdigit():
        unit = db.session.get(Unit, int(spec))
        if unit is None:
            _fail(f"No unit has the id {spec}.")
        return unit
    query = select(Unit).join(Municipality)
    if ":" in spec:
        municipality, name = (part.strip() for part in spec.split(":", 1))
        query = query.where(Municipality.name == municipality, Unit.name == name)
    else:
        query = query.where(Unit.name == spec.strip())
    found = list(db.session.scalars(query))
    if not found:
        _fail(f"No unit is called {spec!r}. Use its id or its exact name "
              "(`flask --app laks user units` lists them).")
    if len(found) > 1:
        _fail(f"{len(found)} units are called {spec!r}; give its id instead.")
    return found[0]


def _find_user(email: str):
    user = accounts.find_user(email)
    if user is None:
        _fail(f"No user has the e-mail {email}.")
    return user


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_specs", multiple=True, help="Unit id or name; repeat for several.")
@click.option("--tovholder", is_flag=True, help="Make this staff member the unit's tovholder.")
@click.option("--group", type=click.Choice([g.value for g in ObserverGroup]),
              help="For observers: the steering or the follow group.")
def create_user_command(email, name, role, unit_specs, tovholder, group) -> None:
    """Create a person and print an invitation link for choosing a password."""
    units = [_find_unit(spec) for spec in unit_specs]
    try:
        user = accounts.create_user(
            actor=None, email=email, name=name, role=Role(role), units=units,
            tovholder=tovholder, observer_group=ObserverGroup(group) if group else None,
        )
    except accounts.AccountError as exc:
        _fail(str(exc))
    mail.send_invitation(user, actor=None)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")
    click.echo(f"Invitation mail queued for {user.email}.")
    click.echo(f"Invitation link: {accounts.invitation_url(user)}")


@user_cli.command("set-password")
@click.option("--email", required=True)
@click.password_option("--password", prompt="New password")
def set_password_command(email, password) -> None:
    """Set a person's password (prompted, or --password)."""
    user = _find_user(email)
    try:
        accounts.set_password(actor=None, user=user, password=password)
    except accounts.AccountError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Password set for {user.email}; every session they had has ended.")


@user_cli.command("invite")
@click.option("--email", required=True)
def invite_command(email) -> None:
    """Queue an invitation mail and print its link (valid for LAKS_INVITATION_MAX_AGE
    seconds, once)."""
    user = _find_user(email)
    try:
        mail.send_invitation(user, actor=None)
    except mail.MailError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Invitation mail queued for {user.email}.", err=True)
    click.echo(accounts.invitation_url(user))


@user_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate_command(email) -> None:
    """Stop a person from logging in (their work stays)."""
    user = _find_user(email)
    accounts.set_active(actor=None, user=user, active=False)
    db.session.commit()
    click.echo(f"{user.email} can no longer log in; every session they had has ended.")


@user_cli.command("activate")
@click.option("--email", required=True)
def activate_command(email) -> None:
    """Let a deactivated person log in again."""
    user = _find_user(email)
    accounts.set_active(actor=None, user=user, active=True)
    db.session.commit()
    click.echo(f"{user.email} can log in again.")


@user_cli.command("reset-two-factor")
@click.option("--email", required=True)
def reset_two_factor_command(email) -> None:
    """Take away a person's second factor (a lost phone and lost recovery codes – also the
    only network admin's): every session they had ends, and at their next login they set
    it up again if their role requires it."""
    from laks.services import twofactor

    user = _find_user(email)
    twofactor.reset(user, actor=None)
    db.session.commit()
    click.echo(f"Two-factor sign-in of {user.email} is reset; every session they had has "
               "ended. They set it up again at their next login if their role requires it.")


@user_cli.command("units")
def list_units_command() -> None:
    """List the units with their ids, to use with --unit."""
    for unit in db.session.scalars(select(Unit).join(Municipality).order_by(Unit.id)):
        click.echo(f"{unit.id:>4}  {unit.programme.slug:<10} {unit.title}")


catalogue_cli = AppGroup("catalogue", help="The inspiration catalogue: build an edition's PDF.")


@catalogue_cli.command("build")
@click.option("--edition", "number", required=True, type=int, help="The edition's number.")
@click.option("--out", required=True, help="The PDF file to write.",
              type=click.Path(dir_okay=False, path_type=Path))
def catalogue_build_command(number: int, out: Path) -> None:
    """Build an edition's PDF into a file now, with the shared cache of rendered cases.

    A published (or withdrawn) edition is built from its frozen cases; a draft from its
    cases as they are now, as a preview. The edition and its stored PDF are not changed.
    """
    edition = db.session.scalar(select(Edition).where(Edition.number == number))
    if edition is None:
        _fail(f"No edition has the number {number}.")
    if not edition.cases:
        _fail(f"Edition {number} has no cases.")
    if edition.status == EditionStatus.DRAFT:
        click.echo(f"Edition {number} is a draft: built from its cases as they are now "
                   "(a preview).")
    elif edition.status == EditionStatus.WITHDRAWN:
        click.echo(f"Edition {number} is withdrawn: built as it was published.")
    with click.progressbar(length=100, label=f"Edition {number}", show_eta=False,
                           item_show_func=lambda message: message) as bar:
        def step(done: int, message: str) -> None:
            bar.update(max(0, done - bar.pos), message)

        try:
            report = catalogue_pdf.write_book(edition, out, progress=step)
        except (ValueError, RuntimeError, OSError) as exc:
            _fail(f"The PDF could not be built: {exc}")
    click.echo(f"{out}: {report.pages} pages, {report.bytes:,} bytes in {report.seconds:.1f} s; "
               f"{report.chapters_rendered} case{'' if report.chapters_rendered == 1 else 's'} "
               f"rendered, {report.chapters_cached} from the cache.")


jobs_cli = AppGroup("jobs", help="Background jobs: the catalogue's PDF builds.")


@jobs_cli.command("run")
@click.option("--edition", "number", type=int,
              help="Build this published edition's PDF again, whatever its state (say, "
                   "left 'being made' by a process that was stopped).")
def jobs_run_command(number: int | None) -> None:
    """Build every PDF that is waiting, now, then stop."""
    if number is not None:
        edition = db.session.scalar(select(Edition).where(Edition.number == number))
        if edition is None or edition.status != EditionStatus.PUBLISHED:
            _fail(f"No published edition has the number {number}.")
        catalogue_pdf.mark_queued(edition)
        db.session.commit()
    waiting = catalogue_pdf.queued_edition_ids()
    if not waiting:
        click.echo("No PDF is waiting to be built.")
        return
    results = [_run_build(edition_id) for edition_id in waiting]
    if not all(results):
        raise click.ClickException("Some PDFs could not be built (see above).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker_command(burst: bool) -> None:
    """Run an RQ worker for laks' jobs (needs LAKS_REDIS_URL). Start as many as you like,
    wherever the database and the instance folder are reachable."""
    if not current_app.config.get("LAKS_REDIS_URL"):
        _fail("LAKS_REDIS_URL is not set: without Redis the web process builds the PDFs "
              "itself (or run `flask --app laks jobs run`).")
    jobs.run_rq_worker(current_app._get_current_object(), burst=burst)


mail_cli = AppGroup("mail", help="The mail queue: send what is due.")


@mail_cli.command("send")
def mail_send_command() -> None:
    """Send every queued mail whose next attempt has come, now (through LAKS_SMTP_URL, or
    into the outbox folder), and say what was sent and what failed."""
    try:
        smtp = mail.smtp_settings()
    except mail.MailError as exc:
        _fail(str(exc))
    waiting = mail.due_ids()
    db.session.rollback()
    if not waiting:
        click.echo("No mail is waiting to be sent.")
        return
    sent, failed = mail.send_pending()
    where = f"through {smtp.host}:{smtp.port}" if smtp else f"to {mail.outbox_dir()}"
    click.echo(f"Sent {sent} mail{'' if sent == 1 else 's'} {where}; {failed} failed.")
    for message in mail.recent_failures(waiting):
        click.echo(f"  {message.to_address} ({message.kind}): {message.last_error} – "
                   + ("given up" if message.status.value == "failed"
                      else f"next attempt {message.next_attempt_at:%Y-%m-%d %H:%M} UTC"),
                   err=True)
    if failed:
        raise click.ClickException("Some mails could not be sent (see above).")


reminders_cli = AppGroup("reminders", help="Reminders of the modules' due dates.")


@reminders_cli.command("send")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to remind for (default: today, in Copenhagen).")
def reminders_send_command(today) -> None:
    """Queue the reminders due today: a week before a module is due, and once it is overdue.
    Safe to run as often as you like – each reminder goes out once."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from laks.services.notifications import send_reminders

    day = today.date() if today else datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    told = send_reminders(day)
    db.session.commit()
    click.echo(f"Queued {told} reminder{'' if told == 1 else 's'} for {day.isoformat()}.")


@click.command("export")
@click.option("--out", required=True, help="The archive to write (a .zip file).",
              type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-secrets", is_flag=True,
              help="Also password hashes, second factors, recovery codes, session tokens "
                   "and the mails with a link to choose a password.")
def export_command(out: Path, with_secrets: bool) -> None:
    """Write everything laks holds, with the catalogue's PDFs, to one archive."""
    try:
        report = backup.export_archive(out, with_secrets=with_secrets)
    except backup.BackupError as exc:
        _fail(str(exc))
    db.session.commit()  # the export's audit event
    click.echo(f"{out}: {sum(report.rows.values()):,} rows in {len(report.rows)} tables, "
               f"{report.files} PDF file{'' if report.files == 1 else 's'}, "
               f"{report.bytes:,} bytes in {report.seconds:.1f} s.")
    if not with_secrets:
        left = report.left_out_mails
        click.echo(f"Without secrets: no password, second factor or session in the archive; "
                   f"{left} mail{'' if left == 1 else 's'} with a link to choose a password "
                   "left out.")
    for name in report.missing_files:
        click.echo(f"Not in the archive: {name}, which an edition names, is missing from "
                   "the catalogue's folder (build the edition's PDF again after a restore).",
                   err=True)


@click.command("import")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def import_command(archive: Path) -> None:
    """Restore an archive made by `export` into an empty database at the same revision."""
    try:
        report = backup.import_archive(archive)
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(f"{archive}: restored {sum(report.rows.values()):,} rows in "
               f"{len(report.rows)} tables and {report.files} PDF "
               f"file{'' if report.files == 1 else 's'} in {report.seconds:.1f} s.")
    if not report.with_secrets:
        click.echo("The archive held no passwords: everyone chooses one through an invitation "
                   "link (`flask --app laks user invite --email …`, or the page /ny-invitation).")


audit_cli = AppGroup("audit", help="The audit log: delete what is older than it is kept.")


@audit_cli.command("prune")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def audit_prune_command(dry_run: bool) -> None:
    """Delete the audit events older than LAKS_AUDIT_RETENTION_DAYS days; the deletion is
    itself logged (audit.prune, with the number and the cutoff)."""
    from laks import audit_log

    days = current_app.config["LAKS_AUDIT_RETENTION_DAYS"]
    try:
        deleted, cutoff = audit_log.prune(days, dry_run=dry_run)
    except ValueError as exc:
        _fail(f"LAKS_AUDIT_RETENTION_DAYS={days}: {exc}.")
    older = f"older than {cutoff:%Y-%m-%d %H:%M} UTC (kept for {days} days)"
    if dry_run:
        db.session.rollback()
        click.echo(f"Would delete {deleted:,} audit event{'' if deleted == 1 else 's'} "
                   f"{older}; nothing deleted (--dry-run).")
        return
    db.session.commit()
    click.echo(f"Deleted {deleted:,} audit event{'' if deleted == 1 else 's'} {older}.")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(user_cli)
    app.cli.add_command(catalogue_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
