"""The supply chain: dependencies with ranges in pyproject.toml, the exact versions tested
recorded in constraints.txt and installed from it, the npm lock used with `npm ci` only, and
bandit's security checks part of `make test`."""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project["dependencies"] + [
        item for extra in project["optional-dependencies"].values() for item in extra]
    return [Requirement(item) for item in listed]


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not an exact version"
            pins[canonicalize_name(name)] = pinned.strip()
    return pins


def test_every_dependency_has_a_range_with_an_upper_bound():
    for requirement in _requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {">=", "~=", "=="} and operators & {"<", "~=", "=="}, \
            f"{requirement} needs a lower and an upper bound"


def test_constraints_pin_every_dependency_inside_its_range():
    pins = _constraints()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt: run scripts/freeze-constraints.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement.specifier}"


def test_the_versions_installed_are_the_ones_recorded():
    mismatched = []
    for name, pinned in _constraints().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            mismatched.append(f"{name}: not installed")
            continue
        if installed != pinned:
            mismatched.append(f"{name}: {installed} installed, {pinned} recorded")
    assert not mismatched


def test_setup_installs_with_the_constraints_and_lint_runs_bandit():
    dry = subprocess.run(["make", "-n", "-B", ".venv/.installed", "lint"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    assert re.search(r"pip install -q -e \"?\.\[test\]\"? -c constraints\.txt", dry)
    assert ".venv/bin/bandit -q -r laks -ll" in dry


def test_npm_installs_from_the_lock_only():
    script = (ROOT / "scripts" / "assets.sh").read_text(encoding="utf-8")
    assert "npm ci " in script and "npm install" not in script
    assert (ROOT / "package-lock.json").is_file()
