"""laks as the benchmark serves it: ``create_app()`` from the environment, as in production,
plus one thing: each response says in a header how many SQL statements it took, so that the
table can show the count of the very requests it timed."""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import event

from laks import create_app
from laks.extensions import db

HEADER = "X-Bench-SQL-Statements"

app = create_app()


def _count(*_args) -> None:
    if has_app_context():
        g.bench_statements = g.get("bench_statements", 0) + 1


@app.after_request
def _report(response):
    response.headers[HEADER] = str(g.get("bench_statements", 0))
    return response


with app.app_context():
    event.listen(db.engine, "before_cursor_execute", _count)
