"""Time the main pages and saves of laks on a network much larger than LAKS, and count the
SQL statements each request makes (a count that grows with the data is an N+1).

    python -m bench [--units 300] [--repeat 30]

Runs on a temporary SQLite database (or LAKS_DATABASE_URL if set) through the real app and
its test client, so everything but the network is measured.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event

from laks import create_app
from laks.enums import Role
from laks.extensions import db
from laks.models import Membership, Municipality, Programme, Unit, UnitModule, User
from laks.services.definitions import get_spec
from laks.services.modules import save_answers, submit, unit_module_for
from laks.services.seed import load_seed

PASSWORD = "benchmark-password"  # noqa: S105 - a throw-away account in a temporary database


def build(units: int) -> dict:
    """The seed with demo content, plus ``units`` extra units with two modules each."""
    load_seed(demo=True)
    programme = db.session.query(Programme).filter_by(slug="laks").one()
    municipality = db.session.query(Municipality).filter_by(code="0751").one()
    facilitator = db.session.query(User).filter_by(email="facilitator1@demo.laks.dk").one()
    staff = None
    answers = {"challenge_title": "Vi når ikke enlige mænd", "challenge_type": "rekruttering",
               "health_offer": "Rygestop", "target_group": "Enlige mænd " * 40,
               "why_it_matters": "Fordi " * 60}
    for i in range(units):
        unit = Unit(programme=programme, municipality=municipality, name=f"Benchenhed {i:04d}",
                    places=[f"Sted {i}"])
        db.session.add(unit)
        staff = User(email=f"bench{i}@example.org", name=f"Bench {i}", role=Role.STAFF)
        staff.set_password(PASSWORD) if i == 0 else None
        staff.password_hash = staff.password_hash or db.session.query(User).filter_by(
            email="bench0@example.org").one().password_hash
        staff.memberships = [Membership(unit=unit, is_tovholder=True)]
        facilitator.memberships.append(Membership(unit=unit))
        db.session.add(staff)
        db.session.flush()
        um = unit_module_for(unit, "udfordring")
        save_answers(um, answers, actor=staff, base_version=0)
        submit(um, get_spec("udfordring"), actor=staff)
        save_answers(unit_module_for(unit, "praecisering"), {"barriers": "Afstand"},
                     actor=staff, base_version=0)
    db.session.commit()
    first = db.session.query(Unit).filter_by(name="Benchenhed 0000").one()
    return {"unit_id": first.id}


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.count += 1


def measure(client, counter, method: str, path: str, repeat: int, data=None) -> tuple:
    times, queries = [], []
    for _ in range(repeat):
        counter.count = 0
        start = time.perf_counter()
        response = client.open(path, method=method, data=data() if data else None)
        times.append((time.perf_counter() - start) * 1000)
        queries.append(counter.count)
        assert response.status_code in (200, 302), (path, response.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, max(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="laks-bench-"))
    url = os.environ.get("LAKS_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(48),
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        ids = build(args.units)
        setup_s = time.perf_counter() - started
        counter = QueryCounter(db.engine)
        total_units = db.session.query(Unit).count()
        version = {"v": db.session.query(UnitModule).filter_by(
            unit_id=ids["unit_id"], module_key="praecisering").one().version}
    # Requests run outside any app context, as in production: each gets its own g and session.
    rows = []
    admin, facilitator, staff = app.test_client(), app.test_client(), app.test_client()
    admin.post("/log-ind", data={"email": "admin@demo.laks.dk", "password": "laks-demo-2026"})
    facilitator.post("/log-ind", data={"email": "facilitator1@demo.laks.dk",
                                       "password": "laks-demo-2026"})
    staff.post("/log-ind", data={"email": "bench0@example.org", "password": PASSWORD})
    unit = f"/enheder/{ids['unit_id']}"

    def autosave_times(path):
        result = []
        for _ in range(args.repeat):
            counter.count = 0
            start = time.perf_counter()
            response = staff.post(path, data={"version": str(version["v"]),
                                              "barriers": f"Afstand {time.perf_counter()}"})
            result.append(((time.perf_counter() - start) * 1000, counter.count))
            assert response.status_code == 200, (response.status_code, response.get_data()[:200])
            version["v"] = response.get_json()["version"]
        times = sorted(t for t, _ in result)
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        return statistics.median(times), p95, max(q for _, q in result)

    rows.append((f"admin overview ({total_units} units)", *measure(
        admin, counter, "GET", "/hjem", args.repeat)))
    rows.append((f"facilitator home ({args.units + 9} units)", *measure(
        facilitator, counter, "GET", "/hjem", args.repeat)))
    rows.append(("unit page", *measure(staff, counter, "GET", unit, args.repeat)))
    rows.append(("module page (edit form)", *measure(
        staff, counter, "GET", f"{unit}/moduler/praecisering", args.repeat)))
    rows.append(("module page (read, submitted)", *measure(
        facilitator, counter, "GET", f"{unit}/moduler/udfordring", args.repeat)))
    rows.append(("autosave (POST)", *autosave_times(f"{unit}/moduler/praecisering/autosave")))
    rows.append(("revisions diff", *measure(
        staff, counter, "GET", f"{unit}/moduler/praecisering/revisioner", args.repeat)))
    backend = url.split(":", 1)[0]
    print(f"\nlaks benchmark – {backend}, {total_units} units, {args.repeat} requests each, "
          f"set-up {setup_s:.1f} s\n")
    print(f"| {'request':<40} | {'median ms':>9} | {'p95 ms':>7} | {'SQL statements':>14} |")
    print(f"|{'-' * 42}|{'-' * 11}|{'-' * 9}|{'-' * 16}|")
    for name, median, p95, queries in rows:
        print(f"| {name:<40} | {median:>9.1f} | {p95:>7.1f} | {queries:>14} |")


if __name__ == "__main__":
    main()
