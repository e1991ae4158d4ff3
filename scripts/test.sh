#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: formatting, lints, unit and router
# tests, then the end-to-end tests in headless Chromium against the built shop.
#
#   scripts/test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/setup.sh --browser

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
cargo test --locked -p app -p server

bash scripts/build.sh

step "end-to-end tests (headless Chromium)"
cd end2end
npx playwright test

step "all tests passed in $(( $(date +%s) - T0 ))s"
