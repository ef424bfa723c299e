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
