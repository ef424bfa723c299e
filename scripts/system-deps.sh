#!/usr/bin/env bash
# Install the Debian packages laks needs that are missing. `run` needs what WeasyPrint uses;
# `test` adds Chromium for the browser tests, poppler for looking at PDFs, PostgreSQL and
# Redis (both started by the tests themselves on 127.0.0.1).
# Does nothing when everything is there; needs root (or sudo) only when something is missing.
# When another installation holds the apt/dpkg lock, apt waits for it (up to 10 minutes)
# instead of failing.
set -euo pipefail
want=(libharfbuzz-subset0)
if [ "${1:-run}" = test ]; then
  want+=(chromium poppler-utils redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
wait_lock=(-o DPkg::Lock::Timeout=600)
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get "${wait_lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${wait_lock[@]}" install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
