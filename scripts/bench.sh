#!/usr/bin/env bash
# Measures the shop: installs what the benchmark needs, builds the release server and the
# bundle, then runs the bench (benches/), which prints one table.
#
#   scripts/bench.sh [--large] [--secs N] [--only load] [--shoppers N] [--load-secs N]
#
# --large seeds 100,000 products and 1,000,000 orders instead of 1,000 products; --secs sets the
# length of each HTTP measurement (default 5). Load comes from wrk (Debian's package), nginx is
# the reference for file downloads, gzip and brotli size the bundle. The load test (500 shoppers
# for 60 s through the whole shop and the Bot API emulator) ends the table; `--only load` runs
# it alone and needs only the release server (no bundle, no wrk or nginx).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [[ " $* " == *" --only load "* ]]; then
  step "release server and the bench (load test only)"
  t=$(date +%s)
  cargo build --locked --release -p server -p bench
  note "cargo: $(( $(date +%s) - t ))s"
  exec "$ROOT/target/release/bench" "$@"
fi

"$ROOT/scripts/setup.sh"

step "benchmark tools: wrk, nginx, brotli"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v brotli >/dev/null || missing+=(brotli)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "install ${missing[*]} (the bench needs them)"
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
  note "apt-get install ${missing[*]}"
  log="${TMPDIR:-/tmp}/starfront-apt.log"
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 \
      || { tail -20 "$log" >&2; die "apt-get install ${missing[*]} failed"; }
  fi
else
  note "already installed"
fi

"$ROOT/scripts/build.sh" --release

step "benchmark"
t=$(date +%s)
cargo build --locked -p bench --release
note "cargo: $(( $(date +%s) - t ))s"
exec "$ROOT/target/release/bench" "$@"
