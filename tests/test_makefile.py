"""README's commands do what it says: `make run PORT=…` and `HOST=…` choose where laks
listens, and `make lint` checks the layering as well as the style."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return result.stdout


def test_makefile_run_serves_on_the_port_and_host_given():
    default = _dry_run("run")
    assert "run --host 127.0.0.1 --port 5000" in default
    chosen = _dry_run("run", "PORT=8080", "HOST=0.0.0.0")
    assert "run --host 0.0.0.0 --port 8080" in chosen


def test_makefile_lint_checks_style_and_layers():
    commands = _dry_run("lint")
    assert "ruff check laks tests bench" in commands
    assert "lint-imports" in commands
