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
cargo clippy --locked -p app -p server --all-targets -- -D warnings

step "S3-compatible test server"
# The storage tests run against it; STARFRONT_REQUIRE_S3 makes them fail rather than skip
# should it be missing. It stops when this script exits.
source scripts/s3.sh
s3_start
export STARFRONT_REQUIRE_S3=1

step "cargo test (unit, SSR and in-process router tests)"
env -u TEST_DATABASE_URL cargo test --locked -p app -p server

step "cargo test on PostgreSQL (the server's tests again, each on a fresh database)"
bash scripts/pg.sh cargo test --locked -p server

bash scripts/build.sh

step "end-to-end tests (headless Chromium)"
cd end2end
npx playwright test

step "all tests passed in $(( $(date +%s) - T0 ))s"
