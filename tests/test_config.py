"""Configuration from the environment with safe defaults."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from laks import config, create_app
from laks.extensions import db


def test_config_secret_key_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("LAKS_SECRET_KEY", raising=False)
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    second = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 40
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_config_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKS_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("LAKS_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/laks")
    settings = config.from_environment(str(tmp_path))
    assert settings["SECRET_KEY"] == "from-the-environment"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/laks"
    assert not (tmp_path / "secret_key").exists()


def test_config_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LAKS_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAKS_SECRET_KEY", "x")
    url = config.from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{tmp_path / 'laks.sqlite'}"


def test_config_session_and_login_defaults(tmp_path, monkeypatch):
    for name in ("LAKS_SESSION_IDLE_MINUTES", "LAKS_SESSION_MAX_HOURS", "LAKS_REDIS_URL",
                 "LAKS_LOGIN_LIMIT", "LAKS_LOGIN_ADDRESS_LIMIT", "LAKS_PROXY_COUNT",
                 "LAKS_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["LAKS_SESSION_IDLE_MINUTES"] == 120
    assert settings["LAKS_SESSION_MAX_HOURS"] == 12
    assert settings["LAKS_LOGIN_LIMIT"] == "5 per 15 minutes"
    assert settings["LAKS_LOGIN_ADDRESS_LIMIT"] == "30 per 15 minutes"
    assert settings["LAKS_REDIS_URL"] == "" and settings["LAKS_PROXY_COUNT"] == 0
    assert settings["LAKS_SECURE_COOKIES"] is False


def test_config_session_and_login_settings_from_environment(tmp_path, monkeypatch,
                                                            _schema, database_url):
    monkeypatch.setenv("LAKS_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LAKS_DATABASE_URL", database_url)
    monkeypatch.setenv("LAKS_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("LAKS_SESSION_MAX_HOURS", "8")
    monkeypatch.setenv("LAKS_LOGIN_LIMIT", "3 per hour")
    monkeypatch.setenv("LAKS_REDIS_URL", "redis://127.0.0.1:6390/2")
    monkeypatch.setenv("LAKS_PROXY_COUNT", "1")
    app = create_app({"TESTING": True})
    assert app.config["LAKS_SESSION_IDLE_MINUTES"] == 30
    assert app.permanent_session_lifetime == timedelta(hours=8)
    assert app.config["LAKS_LOGIN_LIMIT"] == "3 per hour"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6390/2"
    assert app.config["LAKS_PROXY_COUNT"] == 1


def test_config_login_counts_live_in_memory_without_redis(tmp_path, monkeypatch, _schema,
                                                          database_url):
    monkeypatch.setenv("LAKS_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LAKS_DATABASE_URL", database_url)
    monkeypatch.delenv("LAKS_REDIS_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("key", ["x", "test-secret-key", "k" * 31, "æ" * 15],
                         ids=["one-byte", "short", "31-bytes", "30-bytes-in-15-letters"])
def test_config_short_secret_key_refused_at_start(monkeypatch, database_url, key):
    monkeypatch.setenv("LAKS_SECRET_KEY", key)
    monkeypatch.setenv("LAKS_DATABASE_URL", database_url)
    with pytest.raises(RuntimeError, match="LAKS_SECRET_KEY is too short .* at least 32 bytes"):
        create_app()
    with pytest.raises(RuntimeError, match="too short"):
        create_app({"SECRET_KEY": key})


def test_config_secret_key_of_32_bytes_is_accepted(monkeypatch, database_url):
    monkeypatch.setenv("LAKS_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LAKS_DATABASE_URL", database_url)
    assert create_app().secret_key == "k" * 32


def test_config_generated_secret_key_is_long_enough(tmp_path, monkeypatch):
    monkeypatch.delenv("LAKS_SECRET_KEY", raising=False)
    key = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert len(key.encode()) >= config.MIN_SECRET_KEY_BYTES


@pytest.mark.parametrize("secure", ["1", "0"])
def test_config_hsts_only_when_served_over_https(monkeypatch, _schema, database_url, secure):
    monkeypatch.setenv("LAKS_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LAKS_DATABASE_URL", database_url)
    monkeypatch.setenv("LAKS_SECURE_COOKIES", secure)
    app = create_app({"TESTING": True})
    with app.app_context():
        client = app.test_client()
        response = client.get("/")
        cookie = client.get("/sprog/en").headers["Set-Cookie"]  # the language is in the session
        db.session.remove()  # give back the connection the requests used, then close it
        db.engine.dispose()
    assert response.status_code == 200
    hsts = response.headers.get("Strict-Transport-Security")
    if secure == "1":
        assert hsts == "max-age=31536000; includeSubDomains"
        assert "; Secure" in cookie
    else:
        assert hsts is None
        assert "Secure" not in cookie
