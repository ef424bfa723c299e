"""Load without loss: ``python -m bench.load [--seconds 60] [--people 50]`` (``make load``).

Starts a throw-away PostgreSQL for the run (scripts/with-postgres.sh; or uses the empty
database given with ``--database-url``), builds the schema with the migrations, seeds it
with the demo and a programme of its own for the load (``--units`` units, each with two or
more staff members – one the tovholder – and a facilitator; an observer or two; each unit's
first two modules filled in, the first submitted in every other unit), serves laks under
gunicorn (2 workers, 127.0.0.1, a free port) configured by ``LAKS_*`` variables only, and
lets ``--people`` simulated people work at once for ``--seconds`` (bench.load_driver). Then
it checks the database (bench.load_check) and prints requests per second, latency
percentiles per kind of request, the saves acknowledged, the conflicts, the 5xx answers –
and the verdict. The exit code is 1 if any save was lost, written twice or silently
overwritten, any answer was 5xx or none came.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import quantiles

import pyotp
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from bench.load_browser import Record
from bench.load_check import Verdict, check
from bench.load_driver import MODULE_KEYS, Cast, Person, drive
from laks.enums import MODULE_KEYS as ALL_MODULE_KEYS
from laks.enums import ObserverGroup, Role
from laks.extensions import db
from laks.models import Membership, ModuleDue, Municipality, Programme, Unit, User
from laks.services.definitions import get_spec
from laks.services.modules import save_answers, submit, unit_module_for

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
#: Each load unit's first two modules, filled in so that they can be submitted; the staff
#: then change the answer to one question of each (MARKER_KEYS) with every save.
ANSWERS = {
    "udfordring": {
        "challenge_title": "Vi mister enlige mænd før 3. træningsgang",
        "challenge_type": "fastholdelse",
        "health_offer": "Genoptræning efter hofteoperation",
        "target_group": "Enlige mænd over 65 år, der bor alene.",
        "why_it_matters": "Udgangspunkt for belastningsprøven.",
    },
    "praecisering": {
        "barriers": "Udgangspunkt for belastningsprøven.",
        "causes": "Transporten er lang, og holdene mødes midt på dagen.",
        "action_question": "Hvordan får vi flere til at komme igen efter første gang?",
        "success_criteria": "Halvdelen af deltagerne gennemfører forløbet.",
    },
}
MARKER_KEYS = {"udfordring": "why_it_matters", "praecisering": "barriers"}
#: When the facilitators' second factor was last used: long ago, so the code of now is new.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


# --- the network of the load ----------------------------------------------------------------


def roles_for(people: int, units: int) -> tuple[int, int, int]:
    """(staff, facilitators, observers) among ``people``: about one in six a facilitator
    (at most one per unit), one in 25 an observer, the rest staff – at least two per unit."""
    observers = people // 25
    facilitators = max(1, min(units, round(people / 6)))
    staff = people - facilitators - observers
    if staff < 2 * units:
        raise SystemExit(f"{people} people are too few for {units} units: each unit needs "
                         "two staff members and the load some facilitators")
    return staff, facilitators, observers


def prepare(*, people: int, units: int) -> Cast:
    """In an app context on a database with the module definitions: a programme of
    ``units`` units and ``people`` people for the load, with the units' first two modules
    filled in. Commits. Staff sign in with the password alone; facilitators have a second
    factor, with a key the load knows."""
    staff_count, facilitator_count, observer_count = roles_for(people, units)
    tag = secrets.token_hex(3)
    password = secrets.token_urlsafe(16)
    password_hash = generate_password_hash(password)
    municipality = db.session.scalar(select(Municipality).order_by(Municipality.code))
    if municipality is None:
        municipality = Municipality(code="0999", name="Belastningskommune")
    today = date.today()
    programme = Programme(
        slug=f"belastning-{tag}", name=f"Belastningsprøve {tag}",
        starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=365),
        module_dues=[ModuleDue(module_key=key, position=i,
                               due_on=today + timedelta(days=60 * i))
                     for i, key in enumerate(ALL_MODULE_KEYS, start=1)])
    made_units = [Unit(name=f"Belastningsenhed {i}", programme=programme,
                       municipality=municipality, places=[f"Belastningsenhed {i}"],
                       target_group="Enlige mænd over 65 år")
                  for i in range(1, units + 1)]
    db.session.add_all(made_units)
    roles = ([Role.STAFF] * staff_count + [Role.FACILITATOR] * facilitator_count
             + [Role.OBSERVER] * observer_count)
    users, tovholders = [], {}
    for n, role in enumerate(roles, start=1):
        label = f"p{n:02d}"
        user = User(email=f"belastning-{label}-{tag}@example.org", name=f"Person {label}",
                    role=role, password_hash=password_hash,
                    observer_group=ObserverGroup.STEERING if role == Role.OBSERVER else None)
        if role == Role.STAFF:
            unit = made_units[(n - 1) % units]
            first = unit not in tovholders
            user.memberships = [Membership(unit=unit, is_tovholder=first)]
            if first:
                tovholders[unit] = user
        elif role == Role.FACILITATOR:
            index = n - 1 - staff_count
            user.memberships = [Membership(unit=unit) for unit in made_units
                                [index::facilitator_count]]
            user.totp_secret = pyotp.random_base32()
            user.totp_confirmed_at = LONG_AGO
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    for n, unit in enumerate(made_units):
        for key in MODULE_KEYS:
            module = unit_module_for(unit, key)
            save_answers(module, dict(ANSWERS[key]), actor=tovholders[unit], base_version=0)
            if n % 2 == 0 and key == MODULE_KEYS[0]:  # the facilitators' first reviews
                submit(module, get_spec(key, programme.id), actor=tovholders[unit])
    db.session.commit()
    cast = Cast(
        password=password,
        people=tuple(Person(label=u.name.removeprefix("Person "), email=u.email,
                            role=u.role.value,
                            unit_ids=tuple(m.unit_id for m in u.memberships),
                            totp_secret=u.totp_secret) for u in users),
        programme_id=programme.id,
        unit_ids=tuple(unit.id for unit in made_units),
        marker_keys=dict(MARKER_KEYS))
    db.session.remove()
    return cast


# --- laks under gunicorn --------------------------------------------------------------------


def laks_environment(database_url: str, folder: Path) -> dict[str, str]:
    """The ``LAKS_*`` variables laks is configured with for the run: its database, a key
    of its own, and its mail and catalogue folders in ``folder``."""
    return {
        "LAKS_DATABASE_URL": database_url,
        "LAKS_SECRET_KEY": secrets.token_urlsafe(48),
        "LAKS_OUTBOX_DIR": str(folder / "outbox"),
        "LAKS_CATALOGUE_DIR": str(folder / "catalogue"),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(laks_env: dict[str, str], *, log: Path, workers: int = WORKERS) -> Iterator[int]:
    """gunicorn serving ``laks:create_app()`` on 127.0.0.1 until the block ends, configured
    by ``laks_env`` (every other ``LAKS_*`` variable of this process left out); yields the
    port once it answers. Its log (with any traceback) goes to ``log``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKS_")} | laks_env
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--timeout", "60",
             "--log-level", "warning", "--bind", f"127.0.0.1:{port}", "laks:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer in 60 s") from None
                time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: the run is over
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the table ------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def table(record: Record, verdict: Verdict, *, title: str) -> str:
    """Requests per second and latency per kind, the saves, the conflicts, the verdict."""
    hits = [h for h in record.hits if h.at >= record.started]
    seconds = max(record.ended - record.started, 1e-9)
    kinds: dict[str, list[float]] = {}
    for hit in hits:
        kinds.setdefault(hit.kind, []).append(hit.ms)
    lines = [title, "",
             f"| {'request':<18} | {'count':>6} | {'per s':>6} | {'p50 ms':>7} | "
             f"{'p95 ms':>7} | {'p99 ms':>7} |",
             f"|{'-' * 20}|{'-' * 7}:|{'-' * 7}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|"]
    rows = [("all", [h.ms for h in hits])] + sorted(kinds.items(),
                                                      key=lambda kv: -len(kv[1]))
    for kind, values in rows:
        p50, p95, p99 = _percentiles(values) if values else (0.0, 0.0, 0.0)
        lines.append(f"| {kind:<18} | {len(values):>6} | {len(values) / seconds:>6.1f} | "
                     f"{p50:>7.1f} | {p95:>7.1f} | {p99:>7.1f} |")
    ack = verdict.acknowledged
    reviews = ", ".join(f"{k} {v}" for k, v in sorted(record.reviews.items())) or "none"
    lines += [
        "",
        f"saves acknowledged:  {sum(ack.values())} (save {ack.get('save', 0)}, submit "
        f"{ack.get('submit', 0)}, autosave {ack.get('autosave', 0)}; of the autosaves "
        f"{verdict.replaced_in_place} replaced in place by the same person's next one)",
        f"conflicts:           {verdict.conflicts_answered} answered with the two versions "
        f"to merge; {verdict.conflict_revisions} conflict revisions stored",
        f"refused, locked:     {verdict.locked} (the module had been submitted meanwhile; "
        "the text given back)",
        f"reviews:             {reviews}",
        f"5xx answers:         {verdict.five_xx}",
        f"no answer:           {verdict.no_answer}",
        f"lost: {len(verdict.lost)}, written twice: {len(verdict.twice)}, silently "
        f"overwritten: {len(verdict.overwrites)}, stored though refused: "
        f"{len(verdict.unacknowledged)}",
        "verdict:             " + ("nothing lost, no 5xx" if verdict.ok
                                   else "FAILED – " + "; ".join(verdict.problems[:20])),
    ]
    return "\n".join(lines)


# --- the script -----------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.5,
                        help="a person's mean pause between two steps, in seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="an empty database (default: a PostgreSQL "
                        "started for the run by scripts/with-postgres.sh)")
    return parser.parse_args(argv)


#: Set for the command run again under scripts/with-postgres.sh: its database is the fresh one.
_FRESH_POSTGRES = "BENCH_LOAD_FRESH_POSTGRES"


def _flask(laks_env: dict[str, str], *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKS_")} | laks_env
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "laks", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not args.database_url and os.environ.get(_FRESH_POSTGRES):
        args.database_url = os.environ["LAKS_TEST_DATABASE_URL"]  # with-postgres.sh's
    if not args.database_url:
        # A PostgreSQL of its own for the run: this same command under with-postgres.sh.
        env = {**os.environ, _FRESH_POSTGRES: "1",
               "LAKS_PG_PORT": os.environ.get("LAKS_PG_PORT", str(free_port()))}
        return subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable,
                                "-m", "bench.load", *(sys.argv[1:] if argv is None else argv)],
                               cwd=ROOT, env=env)
    from laks import create_app

    with tempfile.TemporaryDirectory(prefix="laks-load-") as name:
        folder = Path(name)
        load_before = os.getloadavg()[0]  # the machine's other work, for reading the figures
        laks_env = laks_environment(args.database_url, folder)
        print("Migrating and seeding (the demo and the load's programme) …", flush=True)
        _flask(laks_env, "db", "upgrade")
        _flask(laks_env, "seed", "--demo")
        os.environ.update(laks_env)  # this process reads the database as gunicorn does
        app = create_app()
        with app.app_context():
            cast = prepare(people=args.people, units=args.units)
            database = f"{db.engine.dialect.name} " + ".".join(
                map(str, db.engine.dialect.server_version_info or ()))
            db.engine.dispose()
        staff, facilitators, observers = roles_for(args.people, args.units)
        print(f"{args.people} people – {staff} staff in {args.units} units, {facilitators} "
              f"facilitator(s), {observers} observer(s) – for {args.seconds:g} s …", flush=True)
        log = folder / "gunicorn.log"
        with serve(laks_env, log=log) as port:
            record = drive(port, cast, seconds=args.seconds, think=args.think, seed=args.seed)
        with app.app_context():
            verdict = check(cast, record)
            db.engine.dispose()
        print(table(record, verdict, title=(
            f"{args.people} simulated people ({staff} staff in {args.units} units, "
            f"{facilitators} facilitators, {observers} observers), {args.seconds:g} s, "
            f"laks under gunicorn ({WORKERS} workers) on {database}, {os.cpu_count()} cores; "
            f"load average {load_before:.1f} at the start")))
        if not verdict.ok:
            for line in record.errors[:20]:
                print("  ", line)
            print(log.read_text()[-6000:])
        return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
