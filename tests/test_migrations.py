"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from laks.extensions import db
from laks.models import Base
from laks.models.catalogue import is_search_table
from tests.conftest import make_test_app


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A brand-new empty database on the same backend as the suite."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    name = f"laks_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_match_models(empty_database, instance_path):
    app = make_test_app(empty_database, instance_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={
                    "compare_type": True,
                    # the SQLite full-text index is a virtual table that no model maps
                    "include_name": lambda name, type_, _parents: not (
                        type_ == "table" and is_search_table(name)),
                }), Base.metadata
            )
        db.engine.dispose()
    assert diff == []


def test_migrations_downgrade_to_empty_and_back(empty_database, instance_path):
    app = make_test_app(empty_database, instance_path)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "unit" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_migrations_turn_the_old_log_into_pdsa_cycles(empty_database, instance_path):
    """A database made before the test log had the old module 4 (a log of date, what we
    did, what we saw, a count): the migration gives it the PDSA cycles, and the rows written
    before read as cycles with nothing lost."""
    import copy
    import json

    import yaml

    from laks.definitions import parse_module
    from laks.services.seed import SEED_DIR

    new = yaml.safe_load((SEED_DIR / "modules" / "4_afproevning.yaml").read_text())
    old = copy.deepcopy(new)
    cycles = old["sections"][0]["questions"][0]
    for key in ("layout", "item_label"):
        del cycles[key]
    cycles["columns"] = [
        {"key": "date", "kind": "date", "label": {"da": "Dato", "en": "Date"}},
        {"key": "did", "kind": "text", "label": {"da": "Hvad gjorde vi"}, "max_length": 300},
        {"key": "saw", "kind": "text", "label": {"da": "Hvad så vi"}, "max_length": 300},
        {"key": "count", "kind": "number", "label": {"da": "Antal borgere"}, "min": 0}]
    old["sections"][0]["title"] = {"da": "Logbog", "en": "Log"}
    contact = yaml.safe_load((SEED_DIR / "modules" / "5_refleksion.yaml").read_text())
    for section in contact["sections"]:
        for question in section["questions"]:
            question.pop("role_only", None)
    row = {"date": "2015-10-01", "did": "Ringede til 12", "saw": "4 kom", "count": 4}

    app = make_test_app(empty_database, instance_path)
    with app.app_context():
        upgrade(revision="f89acff02114")
        with db.engine.begin() as conn:
            for key, content in (("afproevning", old), ("refleksion", contact)):
                conn.execute(text(
                    "INSERT INTO module_definition (module_key, content, revision, updated_at) "
                    "VALUES (:key, :content, 1, CURRENT_TIMESTAMP)"),
                    {"key": key, "content": json.dumps(content)})
        upgrade()
        with db.engine.connect() as conn:
            stored = {k: json.loads(c) if isinstance(c, str) else c for k, c in conn.execute(
                text("SELECT module_key, content FROM module_definition"))}
        downgrade(revision="f89acff02114")
        upgrade()
        db.engine.dispose()
    spec = parse_module(stored["afproevning"])
    question = spec.questions_by_key["cycles"]
    assert question.layout == "cards" and str(question.item_label) == "Cyklus"
    columns = {c.key: c for c in question.columns}
    assert set(row) <= set(columns)  # every old answer has its column still
    assert str(columns["prediction"].label) == "Forventet udfald"
    assert [o.value for o in columns["decision"].options] == ["adopt", "adapt", "abandon"]
    assert spec.sections[0].title.da == "Testlog"
    contact_role = parse_module(stored["refleksion"]).questions_by_key["case_contact_role"]
    assert contact_role.role_only


def test_migrations_give_halsnaes_its_own_kommunekode(empty_database, instance_path):
    """Halsnæs is kommune 0260; a database seeded when the list said 0250 (Frederikssund's
    code) gets the right one, and no other municipality is touched."""
    app = make_test_app(empty_database, instance_path)
    with app.app_context():
        upgrade(revision="8a6589a4408d")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO municipality (code, name) VALUES "
                              "('0250', 'Halsnæs'), ('0316', 'Holbæk')"))
        upgrade()
        with db.engine.connect() as conn:
            after = dict(conn.execute(text("SELECT name, code FROM municipality")).all())
        downgrade(revision="8a6589a4408d")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT name, code FROM municipality")).all())
        db.engine.dispose()
    assert after == {"Halsnæs": "0260", "Holbæk": "0316"}
    assert back == {"Halsnæs": "0250", "Holbæk": "0316"}
