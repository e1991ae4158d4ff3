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

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked -p app -p server -p telegram-emulator -p starfront-clock --all-targets -- -D warnings

step "S3-compatible test server"
# The storage tests run against it; STARFRONT_REQUIRE_S3 makes them fail rather than skip
# should it be missing. It stops when this script exits.
source scripts/s3.sh
s3_start
export STARFRONT_REQUIRE_S3=1

step "production build: no emulator, no dev preview"
# Before the tests: they rebuild target/debug/starfront with the dev-preview feature, which the
# end-to-end tests below run. The two builds share every dependency.
bash scripts/check-production.sh

step "cargo test (unit, SSR and in-process router tests)"
env -u TEST_DATABASE_URL cargo test --locked -p app -p server -p telegram-emulator -p starfront-clock

step "cargo test on PostgreSQL (the server's tests again, each on a fresh database)"
bash scripts/pg.sh cargo test --locked -p server

# The end-to-end tests drive the dev preview (the shop's in-process emulator plays Telegram) on
# target/debug/starfront as `cargo test -p server` left it: built with the dev-preview feature
# the server's tests turn on, so only the bundle is left to build.
bash scripts/build.sh --front-only

step "end-to-end tests (headless Chromium)"
cd end2end
npx playwright test

step "all tests passed in $(( $(date +%s) - T0 ))s"
