#!/usr/bin/env bash
# Fails when the first load (wasm + js + css as scripts/build.sh left them, gzip -9) has grown
# past the budget in first-load-budget.txt. Run after scripts/build.sh (scripts/test.sh does).
# A change that must grow the first load raises the budget in the same commit, saying why.
#
#   scripts/budget.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

budget_file=first-load-budget.txt
budget=$(grep -v '^#' "$budget_file" | tr -d '[:space:]')
[[ "$budget" =~ ^[0-9]+$ ]] || die "$budget_file holds no byte count"
manifest="$SITE_DIR/assets.json"
[ -f "$manifest" ] || die "$manifest is missing: run scripts/build.sh first"
# The names scripts/build.sh wrote: {"bundle":"starfront.<hash>","css":"starfront.<hash>.css"}.
bundle_name=$(sed -n 's/.*"bundle":"\([^"]*\)".*/\1/p' "$manifest")
css_name=$(sed -n 's/.*"css":"\([^"]*\)".*/\1/p' "$manifest")
total=0
for f in "$SITE_DIR/pkg/$bundle_name.wasm" "$SITE_DIR/pkg/$bundle_name.js" "$SITE_DIR/pkg/$css_name"; do
  total=$(( total + $(gzip -9c "$f" | wc -c) ))
done
step "first-load budget"
note "first load: $total bytes gzip; budget: $budget bytes ($budget_file)"
if [ "$total" -gt "$budget" ]; then
  die "the first load grew past its budget by $(( total - budget )) bytes"
fi
