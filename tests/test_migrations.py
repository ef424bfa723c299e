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
