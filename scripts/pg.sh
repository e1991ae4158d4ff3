#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at a PostgreSQL server the tests may create
# databases on. Given TEST_DATABASE_URL, that server is used as it is; otherwise a throwaway
# server is made from the installed PostgreSQL (scripts/setup.sh --postgres installs Debian's):
# initdb in a temp dir, its own port on 127.0.0.1, stopped and deleted when the command ends.
#
#   scripts/pg.sh cargo test --locked -p server
#
# STARFRONT_PG_PORT picks the first port tried (default 55432; the next free one is taken).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: scripts/pg.sh COMMAND [ARGS...]"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  note "PostgreSQL from TEST_DATABASE_URL"
  exec "$@"
fi

# The newest installed server (Debian keeps each major version under /usr/lib/postgresql/N).
PG_BIN=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then PG_BIN=$dir; break; fi
done
if [ -z "$PG_BIN" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  PG_BIN=$(dirname "$(command -v initdb)")
fi
[ -n "$PG_BIN" ] || die "PostgreSQL not found: run scripts/setup.sh --postgres, or set TEST_DATABASE_URL"

# initdb and postgres refuse to run as root: as root, the server runs as the `postgres` user
# Debian's package creates.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run the server"
  if command -v runuser >/dev/null; then AS=(runuser -u postgres --); else AS=(su postgres -s /bin/sh -c); fi
fi
as_pg() {
  if [ ${#AS[@]} -eq 0 ]; then "$@"
  elif [ "${AS[0]}" = runuser ]; then "${AS[@]}" "$@"
  else "${AS[@]}" "$(printf '%q ' "$@")"
  fi
}

PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/starfront-pg.XXXXXX")
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PG_PORT=${STARFRONT_PG_PORT:-55432}
while ! port_free "$PG_PORT"; do PG_PORT=$((PG_PORT + 1)); done

stop_pg() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_pg EXIT

step "throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
# C.UTF-8: full-text search lowercases every script (Cyrillic too) whatever the host's locale.
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
# Durability is worthless for a server deleted afterwards; every test opens its own pool.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-p $PG_PORT -h 127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
  start >/dev/null || { cat "$PG_DIR/server.log" >&2; die "the PostgreSQL server did not start"; }

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
note "TEST_DATABASE_URL=$TEST_DATABASE_URL"
"$@"
