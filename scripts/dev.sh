#!/usr/bin/env bash
# Installs what is missing, builds (with the dev-preview feature), and runs the shop in dev preview
# on SQLite.
#
#   scripts/dev.sh [--release]
#
# Data lives in ./data (DATA_DIR); every variable in the README's configuration table applies.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/build.sh" --dev-preview "$@"

profile=debug
for arg in "$@"; do [ "$arg" = --release ] && profile=release; done
step "starting Starfront (dev preview)"
cd "$ROOT"
export DEV_PREVIEW=${DEV_PREVIEW:-1} LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$SITE_DIR}
exec "$ROOT/target/$profile/starfront"
