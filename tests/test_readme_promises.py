"""README's promises point at what holds them: every test file its security table and its
reliability section name exists and has tests, and `make load` and `make lint` exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {name}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_every_test_file_named_by_a_promise_exists_and_tests():
    named = set()
    for section in ("Security", "Reliability"):
        named |= set(re.findall(r"`(tests/[\w/]+\.py)`", _section(section)))
    assert len(named) >= 10
    for path in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(r"^def test_", source, re.MULTILINE), path


def test_the_promise_table_covers_what_the_issue_names():
    table = _section("Security").split("(the details follow):", 1)[1].split("\n\n", 2)[1]
    for promise in ("personal data about citizens", "access policy", "Sessions", "limited",
                    "logged", "backed up", "Nothing acknowledged is lost", "bandit"):
        assert promise in table, promise


def test_the_make_targets_named_exist():
    for target in ("load", "lint", "bench"):
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, target
