#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: formatting, lints, unit and router
# tests on SQLite and again on PostgreSQL, then the end-to-end tests in headless Chromium against
# the built shop (on SQLite).
#
# The PostgreSQL run uses TEST_DATABASE_URL when given (a server where the tests may CREATE
# DATABASE); otherwise scripts/pg.sh starts a throwaway server from Debian's packages.
#
#   scripts/test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  bash scripts/setup.sh --browser
else
  bash scripts/setup.sh --browser --postgres
fi

# A run from a fresh clone (CI) builds the workspace once: incremental compilation would only
# write caches nobody reads.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "front end: building in the background (log shown before the end-to-end tests)"
# The bundle has its own target dir (target/front) and needs nothing from the native steps. Its
# last stages (LTO into one codegen unit, wasm-opt, brotli) use one core, and the native steps
# leave one idle while they link and run tests: side by side they finish sooner than in turn.
front_log=$(mktemp)
setsid -w bash scripts/build.sh --front-only >"$front_log" 2>&1 &
front_pid=$!
stop_front() { kill -- "-$front_pid" 2>/dev/null || true; }
trap stop_front EXIT

step "cargo clippy"
# The bench too: nothing else compiles it, and it once stopped compiling unnoticed.
cargo clippy --locked -p app -p server -p telegram-emulator -p starfront-clock -p bench --all-targets -- -D warnings

step "S3-compatible test server"
# The storage tests run against it; STARFRONT_REQUIRE_S3 makes them fail rather than skip
# should it be missing. It stops when this script exits.
source scripts/s3.sh
s3_start
trap 's3_stop; stop_front' EXIT
export STARFRONT_REQUIRE_S3=1

step "production build: no emulator, no dev preview"
# Before the tests: they rebuild target/debug/starfront with the dev-preview feature, which the
# end-to-end tests below run. The two builds share every dependency.
bash scripts/check-production.sh

step "cargo test (unit, SSR and in-process router tests)"
env -u TEST_DATABASE_URL cargo test --locked -p app -p server -p telegram-emulator -p starfront-clock

step "cargo test on PostgreSQL (the server's tests again, each on a fresh database)"
bash scripts/pg.sh cargo test --locked -p server

step "front end (built alongside the steps above)"
if ! wait "$front_pid"; then cat "$front_log"; die "the front-end build failed"; fi
cat "$front_log"
rm -f "$front_log"
bash scripts/budget.sh

# The end-to-end tests drive the dev preview (the shop's in-process emulator plays Telegram) on
# target/debug/starfront as `cargo test -p server` left it: built with the dev-preview feature
# the server's tests turn on.

step "end-to-end tests (headless Chromium)"
cd end2end
npx playwright test

step "all tests passed in $(( $(date +%s) - T0 ))s"
