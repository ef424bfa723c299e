#!/usr/bin/env bash
# Record the versions of every Python package installed in .venv – the ones the test suite
# ran with – in constraints.txt, which `make setup` installs with. Run it after changing a
# dependency in pyproject.toml and a green `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# The versions laks was tested with (scripts/freeze-constraints.sh). pyproject.toml"
  echo "# holds the ranges laks supports; make setup installs these exact versions."
  .venv/bin/pip freeze --exclude-editable --exclude laks | LC_ALL=C sort -f
} >constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
