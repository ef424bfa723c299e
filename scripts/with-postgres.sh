#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL on 127.0.0.1: initdb in a temporary folder,
# start, create the database, export LAKS_TEST_DATABASE_URL, run "$@", stop (always).
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
root=$(mktemp -d /tmp/laks-pg.XXXXXX)
port=${LAKS_PG_PORT:-54329}
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$root"
  as_pg=(runuser -u postgres --)
fi
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap stop EXIT
"${as_pg[@]}" "$bin/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# A server that does not start says why (its log), and is tried again on the next port: the
# port may be taken, or a busy machine slow to give the server what it asks for.
for attempt in 1 2 3; do
  if "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -l "$root/log" -w -t 120 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off" start >/dev/null; then
    break
  fi
  echo "PostgreSQL did not start on port $port (attempt $attempt of 3); its log:" >&2
  tail -n 20 "$root/log" >&2 || true
  if [ "$attempt" -eq 3 ]; then exit 1; fi
  "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null 2>&1 || true
  port=$((port + 1))
  sleep 2
done
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres laks_test
export LAKS_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/laks_test"
"$@"
