#!/usr/bin/env bash
# Checks that the production server carries no Bot API emulator and no dev preview: the server
# built without features (as `cargo build --release -p server` and the Dockerfile build it) has
# no path to the telegram-emulator crate, none of the emulator's or the WebApp stand-in's
# strings, and refuses DEV_PREVIEW and SEED_DEMO at start, saying why.
#
#   scripts/check-production.sh [--release]
#
# Without --release it builds and checks the dev profile (the same features as a release build,
# and it shares the tests' compiled dependencies); --release checks target/release/starfront.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

profile=debug
cargo_profile=()
for arg in "$@"; do
  case "$arg" in
    --release) profile=release; cargo_profile=(--release) ;;
    *) die "unknown argument: $arg (usage: scripts/check-production.sh [--release])" ;;
  esac
done

if cargo tree --locked -p server -e normal,build --prefix none | grep -q '^telegram-emulator '; then
  die "the server's production build depends on telegram-emulator"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo build --locked -p server "${cargo_profile[@]}" 2>&1 | tee "$log"
# Code behind #[cfg(feature = ...)] is compiled here only: anything it leaves unused shows now.
if grep -q '^warning' "$log"; then die "the production build of the server has warnings"; fi

bin="target/$profile/starfront"
# Found in the binary (so the search works) ...
grep -aq '/telegram/webhook' "$bin" || die "$bin: the webhook route is missing; is this the server?"
# ... and never: the emulator's control routes, the WebApp stand-in's script and its sign-in
# cookie (all of them are in a --features dev-preview build).
for marker in '/control/invoices/pay' '/control/clock/advance' '__tgCalls' 'starfront_dev_user'; do
  if grep -aq -- "$marker" "$bin"; then die "$bin contains \"$marker\": the emulator or the dev preview is in the production build"; fi
done

data=$(mktemp -d)
trap 'rm -rf "$log" "$data"' EXIT
for var in DEV_PREVIEW SEED_DEMO; do
  if out=$(env "$var=1" DATA_DIR="$data" BIND=127.0.0.1:0 timeout 20 "$bin" 2>&1); then
    die "$bin started with $var=1"
  fi
  grep -q "$var=\"1\" is invalid: this build has no" <<<"$out" || die "$bin with $var=1 said: $out"
done
note "$bin: no emulator, no dev preview, no demo catalog"
