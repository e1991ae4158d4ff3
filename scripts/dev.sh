#!/usr/bin/env bash
# Installs what is missing, builds (with the dev-preview feature), and runs the shop in dev preview
# on SQLite.
#
#   scripts/dev.sh [--release] [--watch]
#
# --watch keeps going after the start: every saved change under the sources (app/, server/,
# emulator/, clock/, style/, migrations/, the manifests) is rebuilt, the shop restarts on the new
# build, and the dev preview's open pages reload themselves (DEV_RELOAD). A build that fails is
# reported and the shop keeps running the last good one.
#
# Data lives in ./data (DATA_DIR); every variable in the README's configuration table applies.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

watch=0
build_args=()
profile=debug
for arg in "$@"; do
  case "$arg" in
    --watch) watch=1 ;;
    --release) build_args+=("$arg"); profile=release ;;
    *) die "unknown argument: $arg (usage: scripts/dev.sh [--release] [--watch])" ;;
  esac
done

bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/build.sh" --dev-preview "${build_args[@]}"

cd "$ROOT"
export DEV_PREVIEW=${DEV_PREVIEW:-1} LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$SITE_DIR}
shop="$ROOT/target/$profile/starfront"
if [ "$watch" = 0 ]; then
  step "starting Starfront (dev preview)"
  exec "$shop"
fi

export DEV_RELOAD=1
WATCHED=(app clock emulator server style migrations Cargo.toml Cargo.lock)
stamp=$(mktemp)
pid=""
start() {
  step "starting Starfront (dev preview, watching for changes)"
  "$shop" &
  pid=$!
}
stop() {
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap 'stop; rm -f "$stamp"' EXIT
trap 'exit 130' INT TERM
start
# Polling with find(1) works the same on Linux and macOS and needs nothing installed.
while sleep 1; do
  changed=$(find "${WATCHED[@]}" -newer "$stamp" -type f ! -name '*.sw?' ! -name '*~' ! -name '.#*' \
    -print -quit 2>/dev/null || true)
  [ -n "$changed" ] || continue
  # An editor saving several files, or a formatter run, arrives as one change.
  sleep 0.5
  touch "$stamp"
  step "changed: $changed (and whatever else was saved with it): rebuilding"
  if bash "$ROOT/scripts/build.sh" --dev-preview "${build_args[@]}"; then
    stop
    start
  else
    note "the build failed: the shop keeps running the last good build"
  fi
done
