"""Configuration from the environment with safe defaults."""

from __future__ import annotations

import os
import stat

from laks import config


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
