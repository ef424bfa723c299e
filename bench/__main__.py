"""The request benchmark: laks under gunicorn with concurrent clients, on a network of 1,000
units (each with five modules, revisions, timelines and comments), beside a hello-world
Flask app served by gunicorn with the same settings in the same run.

    python -m bench [--units 1000] [--workers 2] [--clients 2] [--seconds 5] [--warm-up 1]
                    [--rounds 3]

Each row is measured by ``--clients`` client processes sending requests one after the
other: ``--warm-up`` seconds unmeasured, then ``--seconds`` measured. The module page's share
of hello world's requests per second is the median of ``--rounds`` pairs of half as long runs
of the two, one after the other. Autosaves come from one client (one person typing; two would
be a conflict). The database is a temporary SQLite file,
or LAKS_DATABASE_URL if set (it must be empty). The SQL statements are those the measured
requests made, reported by the server in a header (bench/wsgi.py).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from bench import client as http
from bench.server import gunicorn_args, serve
from bench.wsgi import HEADER

#: The overviews' target: p95 in ms through the WSGI stack, at 1,000 units.
OVERVIEW_P95_MS = 150
#: The module page's target: its requests per second as a share of hello world's.
MODULE_SHARE = 0.10


@dataclass
class Row:
    name: str
    clients: int
    latencies: list[float]
    failures: int
    seconds: float
    statements: int | None = None
    kind: str = ""  # "overview", "module", "hello", …
    cpu_ms: float | None = None  # the server's CPU time per request

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


class Runner:
    def __init__(self, args):
        self.args = args
        self.pool = ProcessPoolExecutor(max_workers=args.clients, mp_context=get_context("spawn"))
        self.rows: list[Row] = []

    def run(self, name: str, server, path: str, *, session: http.Session | None = None,
            kind: str = "", headers: dict | None = None, seconds: float | None = None,
            keep: bool = True) -> Row:
        """GET ``path`` from every client at once; the statements of one request first.
        ``keep``: a row of the table (else only returned)."""
        base = server.url
        statements = None
        if session is not None:
            status, answer, _body = session.request("GET", path, headers=headers)
            if status != 200:
                raise RuntimeError(f"{path}: {status}")
            statements = int(answer.get(HEADER, 0)) if HEADER in answer else None
        cookies = dict(session.cookies) if session is not None else {}
        start_at = time.time() + 0.5
        seconds = seconds or self.args.seconds
        futures = [self.pool.submit(http.load, base, "GET", path, cookies, None, headers,
                                    start_at, self.args.warm_up, seconds)
                   for _ in range(self.args.clients)]
        time.sleep(max(0.0, start_at + self.args.warm_up - time.time()))
        cpu_before = server.cpu_seconds()
        latencies, failures, sent = [], 0, 0
        for future in futures:
            measured, failed, count = future.result()
            latencies += measured
            failures += failed
            sent += count
        cpu_after = server.cpu_seconds()
        row = Row(name, self.args.clients, latencies, failures, seconds, statements,
                  kind, _per_request(cpu_before, cpu_after, sent))
        if keep:
            self.rows.append(row)
        return row

    def shares(self, hello_server, server, path: str, session: http.Session,
               rounds: int) -> list[float]:
        """The page's requests per second as a share of hello world's, measured in
        ``rounds`` alternating pairs of short runs: a burst of other work on the machine
        falls on both sides of a pair, not on one row of the table."""
        out = []
        for _ in range(rounds):
            hello = self.run("hello", hello_server, "/", keep=False,
                             seconds=self.args.seconds / 2)
            page = self.run("page", server, path, session=session, keep=False,
                            seconds=self.args.seconds / 2)
            out.append(page.per_second / hello.per_second)
        return out

    def autosave(self, name: str, server, session: http.Session, path: str, form: dict
                 ) -> Row:
        """Autosave one module again and again from one client, as one person typing."""
        page = path.rsplit("/autosave", 1)[0]
        token = session.csrf_token(page)
        latencies, failures, statements = [], 0, 0
        version = int(form["version"])
        stop_at = time.time() + self.args.warm_up + self.args.seconds
        measure_from = time.time() + self.args.warm_up
        n, cpu_before = 0, None
        while time.time() < stop_at:
            n += 1
            sent = {**form, "version": str(version), "csrf_token": token,
                    "responsible": f"Tovholderen ({n})"}
            began = time.perf_counter()
            status, answer, body = session.request("POST", path, sent)
            took = (time.perf_counter() - began) * 1000
            if status != 200:
                raise RuntimeError(f"autosave {path}: {status} {body[:200]!r}")
            version = int(re.search(rb'"version":\s*(\d+)', body).group(1))
            if time.time() >= measure_from:
                if cpu_before is None:
                    cpu_before = server.cpu_seconds()
                    continue  # measured from the next one, with the CPU clock
                latencies.append(took)
                statements = max(statements, int(answer.get(HEADER, 0)))
        cpu = _per_request(cpu_before, server.cpu_seconds(), len(latencies))
        row = Row(name, 1, latencies, failures, self.args.seconds, statements, "autosave", cpu)
        self.rows.append(row)
        return row


def _per_request(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return (after - before) * 1000 / requests


def _form(answers: dict, version: int) -> dict:
    """The action plan's answers as its form posts them."""
    form = {"version": str(version)}
    for key, value in answers.items():
        if key == "activities":
            for n, row in enumerate(value or []):
                for column, cell in row.items():
                    form[f"activities-{n}-{column}"] = cell or ""
        elif value is not None:
            form[key] = str(value)
    return form


def _stylesheet(html: str) -> str:
    found = re.search(r'href="(/static/css/laks[^"]*\.css)"', html)
    if found is None:
        raise RuntimeError("the page links no stylesheet of laks")
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warm-up", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="pairs of runs (hello world, module page) for the share")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from bench.data import DEMO_PASSWORD, PASSWORD, build
    from laks import create_app
    from laks.extensions import db
    from laks.models import UnitModule

    folder = Path(tempfile.mkdtemp(prefix="laks-bench-"))
    url = os.environ.get("LAKS_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    key = secrets.token_urlsafe(48)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": key})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        data = build(args.units)
        setup_s = time.perf_counter() - started
        plans = {unit_id: db.session.scalar(select(UnitModule).filter_by(
            unit_id=unit_id, module_key="handleplan"))
            for unit_id in (data.small_unit_id, data.large_unit_id)}
        forms = {unit_id: _form(um.answers, um.version) for unit_id, um in plans.items()}
        db.engine.dispose()
    print(f"set-up: {data.units} units in {setup_s:.1f} s", file=sys.stderr)

    env = {"LAKS_DATABASE_URL": url, "LAKS_SECRET_KEY": key,
           "LAKS_OUTBOX_DIR": str(folder / "outbox")}
    runner = Runner(args)
    runner.pool.submit(time.sleep, 0).result()  # start the client processes before timing
    settings = dict(env=env, workers=args.workers, threads=args.threads)
    # Both served all along: the module page's share is measured in pairs with hello world.
    with serve("bench.hello:app", **settings) as hello_server, \
            serve(os.environ.get("BENCH_APP", "bench.wsgi:app"), **settings) as server:
        hello = runner.run("hello world (Flask)", hello_server, "/", kind="hello")
        base = server.url
        people = {}
        for role, email, password in (("admin", data.admin_email, DEMO_PASSWORD),
                                      ("facilitator", data.facilitator_email, DEMO_PASSWORD),
                                      ("observer", data.observer_email, DEMO_PASSWORD),
                                      ("staff", data.staff_email, PASSWORD)):
            people[role] = http.Session(base)
            people[role].log_in(email, password)
        everyone = f"{data.units} units"
        overviews = [
            (f"admin home /hjem ({everyone})", "admin", "/hjem"),
            (f"facilitator home /hjem ({data.facilitator_units} units)", "facilitator",
             "/hjem"),
            (f"observer home /hjem ({everyone})", "observer", "/hjem"),
            (f"programme page ({data.programme_units} units)", "admin",
             f"/programmer/{data.programme_id}"),
            (f"matrix /oversigt/, admin ({everyone})", "admin", "/oversigt/"),
            (f"matrix /oversigt/, facilitator ({data.facilitator_units} units)",
             "facilitator", "/oversigt/"),
            (f"needs /oversigt/venter, admin ({everyone})", "admin", "/oversigt/venter"),
            (f"needs /oversigt/venter, facilitator ({data.facilitator_units} units)",
             "facilitator", "/oversigt/venter"),
            (f"totals /oversigt/tal, observer ({everyone})", "observer", "/oversigt/tal"),
        ]
        for name, role, path in overviews:
            runner.run(name, server, path, session=people[role], kind="overview")
        runner.run("unit page (staff)", server, f"/enheder/{data.small_unit_id}",
                   session=people["staff"])
        runner.run("unit at a glance (facilitator)", server, f"/enheder/{data.small_unit_id}",
                   session=people["facilitator"])
        small = f"/enheder/{data.small_unit_id}/moduler/handleplan"
        large = f"/enheder/{data.large_unit_id}/moduler/handleplan"
        module = runner.run("module page: Handleplan, 5 revisions", server, small,
                            session=people["staff"], kind="module")
        module_large = runner.run("module page: Handleplan, 500 revisions", server, large,
                                  session=people["staff"], kind="module-large")
        saves = runner.autosave("autosave: Handleplan, 5 revisions", server, people["staff"],
                                f"{small}/autosave", forms[data.small_unit_id])
        saves_large = runner.autosave("autosave: Handleplan, 500 revisions", server,
                                      people["staff"],
                                      f"{large}/autosave", forms[data.large_unit_id])
        shares = runner.shares(hello_server, server, small, people["staff"], args.rounds)
        _status, _headers, page = people["staff"].request("GET", small)
        css = _stylesheet(page.decode())
        runner.run("stylesheet laks.css (brotli)", server, css,
                   headers={"Accept-Encoding": "br, gzip"}, kind="static")
    runner.pool.shutdown()

    backend = url.split(":", 1)[0].split("+", 1)[0]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nlaks request benchmark – {backend}, {data.units} units, gunicorn "
          f"{' '.join(gunicorn_args(args.workers, args.threads))}, {args.clients} clients, "
          f"{args.warm_up:g} s warm-up + {args.seconds:g} s per row, {os.cpu_count()} cores "
          f"(load average now {load}), set-up {setup_s:.1f} s\n")
    print(f"| {'request':<50} | {'median ms':>9} | {'p95 ms':>7} | {'req/s':>7} | "
          f"{'of hello':>8} | {'CPU ms':>6} | {'SQL':>4} |")
    print(f"|{'-' * 52}|{'-' * 10}:|{'-' * 8}:|{'-' * 8}:|{'-' * 9}:|{'-' * 7}:|{'-' * 5}:|")
    for row in runner.rows:
        share = f"{row.per_second / hello.per_second:.1%}"
        statements = "" if row.statements is None else str(row.statements)
        cpu = "" if row.cpu_ms is None else f"{row.cpu_ms:.1f}"
        name = row.name + (f" ({row.failures} failed)" if row.failures else "") + (
            " ¹" if row.clients == 1 else "")
        print(f"| {name:<50} | {row.median:>9.1f} | {row.p95:>7.1f} | {row.per_second:>7.1f} | "
              f"{share:>8} | {cpu:>6} | {statements:>4} |")
    print("\nCPU ms: the server's CPU time per request (its workers' user and system time over "
          "the measured requests), which other work on the machine does not inflate. "
          "¹ one client.")

    print("\nTargets:")
    for row in runner.rows:
        if row.kind == "overview":
            verdict = "met" if row.p95 < OVERVIEW_P95_MS else "MISSED"
            print(f"- {row.name}: p95 {row.p95:.0f} ms < {OVERVIEW_P95_MS} ms – {verdict}")
    share = statistics.median(shares)
    by_cpu = (f"; by CPU time per request {hello.cpu_ms / module.cpu_ms:.1%}"
              if module.cpu_ms and hello.cpu_ms else "")
    print(f"- module page: {share:.1%} of hello world's requests per second, the median of "
          f"{len(shares)} pairs of runs ({', '.join(f'{s:.1%}' for s in shares)}; in the "
          f"table {module.per_second / hello.per_second:.1%}{by_cpu}) "
          f"(target {MODULE_SHARE:.0%}) – {'met' if share >= MODULE_SHARE else 'MISSED'}")
    for label, few, many in (("module page", module, module_large),
                             ("autosave", saves, saves_large)):
        # The server's CPU time per request where /proc tells it (other work on the
        # machine does not inflate it), else the median time.
        cost = ((many.cpu_ms, few.cpu_ms) if many.cpu_ms is not None and few.cpu_ms
                else (many.median, few.median))
        met = few.statements == many.statements and cost[0] < cost[1] * 1.25
        cpu = (f", CPU {many.cpu_ms:.1f} vs {few.cpu_ms:.1f} ms"
               if many.cpu_ms is not None and few.cpu_ms is not None else "")
        print(f"- {label} with 500 revisions vs 5: median {many.median:.1f} vs {few.median:.1f}"
              f" ms ({many.median / few.median:.2f}×){cpu}, SQL {many.statements} vs "
              f"{few.statements} – {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
