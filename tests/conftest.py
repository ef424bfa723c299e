"""Fixtures shared by every test: an app on a real database (SQLite by default, PostgreSQL when
``LAKS_TEST_DATABASE_URL`` is set), a fresh database per test, factories and a login helper.

The schema is created once per session by running the migrations, so every test also runs
on exactly the schema that production gets.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from itertools import count

import pyotp
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, text, update
from werkzeug.security import generate_password_hash

from laks import create_app
from laks.enums import MODULE_KEYS, ObserverGroup, Role
from laks.extensions import db
from laks.models import Base, Membership, ModuleDue, Municipality, Programme, Unit, User

PASSWORD = "correct horse battery"
_HASH = generate_password_hash(PASSWORD)  # hashed once: scrypt is slow on purpose
#: When the second factor of the test people was last used: long ago, so that a code of now
#: is accepted (see current_code).
TOTP_LAST_USED = datetime(2020, 1, 1, tzinfo=UTC)
_seq = count(1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("LAKS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'laks-test.sqlite'}"


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("instance"))


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production,
    and whose forms carry a CSRF token as a browser's would.

    Tests hold an app context open (to use ``db.session``); without this, each request
    would reuse it, sharing ``g`` (and so Flask-Login's cached user) and the database
    session between requests and between clients.

    CSRF protection stays on, as in production: a POST gets the token that the page's form
    would have carried – signed with the app's key and bound to this client's session –
    unless the test passes ``csrf=False`` (to send no token) or its own ``csrf_token``.
    """

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["data"] = self._with_csrf_token(kwargs.get("data"))
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def _with_csrf_token(self, data):
        if not self.application.config.get("WTF_CSRF_ENABLED", True):
            return data
        if data is None:
            data = {}
        if not hasattr(data, "keys") or "csrf_token" in data:
            return data  # a raw body, or a test that chose its own token
        data = data.copy()
        data["csrf_token"] = self.csrf_token()
        return data

    def csrf_token(self) -> str:
        """A valid CSRF token for this client's session (made as Flask-WTF makes one)."""
        import secrets

        from itsdangerous import URLSafeTimedSerializer

        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        secret = (self.application.config.get("WTF_CSRF_SECRET_KEY")
                  or self.application.secret_key)
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def make_test_app(database_url: str, instance_path: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "LAKS_BASE_URL": "http://laks.test",
        # Tests log in (and fail to) far more often than people do; the limits themselves
        # are tested with their real values in test_login_limits.py.
        "LAKS_LOGIN_LIMIT": "1000 per minute",
        "LAKS_LOGIN_ADDRESS_LIMIT": "1000 per minute",
        **overrides,
    }
    os.environ.setdefault("LAKS_SECRET_KEY", config["SECRET_KEY"])
    app = create_app(config)
    app.instance_path = instance_path
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def _schema(database_url, instance_path):
    """Build the schema once, through the migrations."""
    app = make_test_app(database_url, instance_path)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return True


@pytest.fixture
def app(_schema, database_url, instance_path):
    app = make_test_app(database_url, instance_path)
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
            if conn.dialect.name == "sqlite":  # the catalogue's search index is not mapped
                conn.execute(text("DELETE FROM catalogue_fts"))
        db.engine.dispose()


@pytest.fixture
def make_app(_schema, database_url, instance_path):
    """Another app (with other settings, say), on the test database unless given another;
    its connections are closed after the test."""
    made = []

    def make(url: str | None = None, **overrides):
        made.append(make_test_app(url or database_url, instance_path, **overrides))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories -------------------------------------------------------------------------------


@pytest.fixture
def make_programme(app):
    def make(**fields) -> Programme:
        n = next(_seq)
        programme = Programme(
            slug=fields.pop("slug", f"prog-{n}"),
            name=fields.pop("name", f"Forløb {n}"),
            starts_on=fields.pop("starts_on", date(2026, 1, 1)),
            ends_on=fields.pop("ends_on", date(2026, 12, 31)),
            **fields,
        )
        programme.module_dues = [
            ModuleDue(module_key=key, position=i, due_on=date(2026, 2 * i, 1))
            for i, key in enumerate(MODULE_KEYS, start=1)
        ]
        db.session.add(programme)
        db.session.flush()
        return programme

    return make


@pytest.fixture
def make_unit(app, make_programme):
    def make(name: str | None = None, programme: Programme | None = None, **fields) -> Unit:
        n = next(_seq)
        municipality = fields.pop("municipality", None)
        if municipality is None:
            municipality = Municipality(code=f"{9000 + n:04d}"[-4:], name=f"Testkommune {n}")
        unit = Unit(
            name=name or f"Enhed {n}",
            programme=programme or make_programme(),
            municipality=municipality,
            places=fields.pop("places", [name or f"Enhed {n}"]),
            **fields,
        )
        db.session.add(unit)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def make_user(app):
    def make(role: Role | str = Role.STAFF, unit: Unit | list[Unit] | None = None, *,
             tovholder: bool = False, active: bool = True, email: str | None = None,
             name: str | None = None, two_factor: bool | None = None) -> User:
        """A person; with a second factor set up if ``two_factor`` (by default: if their
        role requires one)."""
        n = next(_seq)
        role = Role(role)
        units = unit if isinstance(unit, list) else ([unit] if unit is not None else [])
        user = User(
            email=email or f"person{n}@example.org",
            name=name or f"Person {n}",
            role=role,
            active=active,
            password_hash=_HASH,
            observer_group=ObserverGroup.STEERING if role == Role.OBSERVER else None,
        )
        if two_factor or (two_factor is None and role in (Role.ADMIN, Role.FACILITATOR)):
            user.totp_secret, user.totp_confirmed_at = pyotp.random_base32(), TOTP_LAST_USED
        user.memberships = [Membership(unit=u, is_tovholder=tovholder) for u in units]
        db.session.add(user)
        db.session.commit()
        return user

    return make


def current_code(user: User) -> str:
    """The code ``user``'s authenticator app shows now. Their last accepted code is set back
    to long ago first: a test may log one person in several times within the 30 seconds of
    one code, and laks accepts each code once."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(totp_confirmed_at=TOTP_LAST_USED))
    db.session.commit()
    return pyotp.TOTP(db.session.get(User, user.id).totp_secret).now()


@pytest.fixture
def login(client):
    """Log ``user`` in through the real login form – and the code step for a person with a
    second factor; returns the last response."""

    def do(user: User, password: str = PASSWORD):
        response = client.post("/log-ind", data={"email": user.email, "password": password})
        if response.status_code == 302 and response.location.endswith("/log-ind/kode"):
            response = client.post("/log-ind/kode", data={"code": current_code(user)})
        return response

    return do


@pytest.fixture
def definitions(app):
    """The five module definitions from seed_data, loaded as the seed loads them."""
    from laks.services.definitions import load_definition_files
    from laks.services.seed import SEED_DIR

    load_definition_files(SEED_DIR / "modules")
    db.session.commit()


@pytest.fixture
def team(make_unit, make_user, definitions):
    """A unit with its tovholder, a second staff member and a facilitator; and strangers:
    another unit's staff and facilitator, an observer and the admin."""
    from types import SimpleNamespace

    unit, other = make_unit("Sundhedscenteret"), make_unit("Sletten")
    return SimpleNamespace(
        unit=unit,
        other_unit=other,
        tovholder=make_user(Role.STAFF, unit, tovholder=True, name="Tove Tovholder"),
        staff=make_user(Role.STAFF, unit, name="Sanne Sygeplejerske"),
        facilitator=make_user(Role.FACILITATOR, unit, name="Frida Facilitator"),
        other_staff=make_user(Role.STAFF, other),
        other_facilitator=make_user(Role.FACILITATOR, other),
        observer=make_user(Role.OBSERVER),
        admin=make_user(Role.ADMIN),
    )
