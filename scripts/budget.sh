#!/usr/bin/env bash
# Fails when the first load (wasm + js + css as scripts/build.sh left them, gzip -9: the main
# module, its glue, the split loader the glue imports, the stylesheet) has grown past the budget
# in first-load-budget.txt, or when a module loaded later (a lazy route's, or code lazy routes
# share) is over 150,000 bytes gzip. Run after scripts/build.sh (scripts/test.sh does).
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
first_load=("$SITE_DIR/pkg/$bundle_name.wasm" "$SITE_DIR/pkg/$bundle_name.js" "$SITE_DIR/pkg/$css_name")
[ -f "$SITE_DIR/pkg/$bundle_name.split.js" ] && first_load+=("$SITE_DIR/pkg/$bundle_name.split.js")
total=0
for f in "${first_load[@]}"; do
  total=$(( total + $(gzip -9c "$f" | wc -c) ))
done
step "first-load budget"
note "first load: $total bytes gzip; budget: $budget bytes ($budget_file)"
if [ "$total" -gt "$budget" ]; then
  die "the first load grew past its budget by $(( total - budget )) bytes"
fi
# Each lazily loaded module, against the same limit for all (the issue's 150 KB a chunk).
chunk_budget=150000
largest=0
for f in "$SITE_DIR/pkg/$bundle_name".split_*.wasm "$SITE_DIR/pkg/$bundle_name".chunk_*.wasm; do
  [ -f "$f" ] || continue
  size=$(gzip -9c "$f" | wc -c)
  [ "$size" -le "$chunk_budget" ] || die "$(basename "$f") is $size bytes gzip, past $chunk_budget"
  [ "$size" -le "$largest" ] || largest=$size
done
note "largest module loaded later: $largest bytes gzip; limit: $chunk_budget bytes"
