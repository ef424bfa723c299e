#!/usr/bin/env bash
# Install Det Fælles Designsystem (npm package dkfds, pinned in package-lock.json) and copy
# the built files laks serves into static/dkfds/: CSS, JS, the IBM Plex Sans fonts and the
# icons. Third-party files are never committed; this script makes them from the lock file.
# npm runs only when node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "assets: npm is missing - install Node.js (with npm) to build laks' front-end assets" >&2
  exit 1
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ ! -d node_modules/dkfds/dist ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

dist=node_modules/dkfds/dist
out=static/dkfds
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' node_modules/dkfds/package.json | head -1)
if [ -f "$out/VERSION" ] && [ "$(cat "$out/VERSION")" = "$version" ]; then
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/css" "$out/js" "$out/fonts/IBMPlexSans"
cp "$dist/css/dkfds.min.css" "$dist/css/dkfds.min.css.map" "$out/css/"
cp "$dist/js/dkfds.min.js" "$dist/js/dkfds.min.js.map" "$out/js/"
# The stylesheet refers to ../fonts/IBMPlexSans/complete/* and ../img/*.
cp -R "$dist/fonts/IBMPlexSans/complete" "$out/fonts/IBMPlexSans/"
cp -R "$dist/img" "$out/"
cp node_modules/dkfds/LICENSE.md "$out/"
echo "$version" >"$out/VERSION"
echo "assets: Det Fælles Designsystem $version copied into $out/"
