#!/usr/bin/env bash
# Builds the hydration bundle (target/site/pkg: .js, .wasm, .css) and the server binary.
#
#   scripts/build.sh [--release]
#
# The bundle is always size-optimised (profile wasm-release + wasm-opt -Oz). The server is built
# with the dev profile, which the tests share, unless --release is given.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SERVER_PROFILE=dev
for arg in "$@"; do
  case "$arg" in
    --release) SERVER_PROFILE=release ;;
    *) die "unknown argument: $arg (usage: scripts/build.sh [--release])" ;;
  esac
done
cd "$ROOT"

step "front end: wasm32 ($(wasm_route) route)"
t=$(date +%s)
# Its own target dir: another compiler (and std built from source) must not evict the native build.
wasm_cargo build --locked -p frontend --lib --profile wasm-release --target-dir "$FRONT_TARGET_DIR"
note "cargo: $(( $(date +%s) - t ))s"

raw_wasm="$FRONT_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
pkg="$SITE_DIR/pkg"
mkdir -p "$pkg"
if [ "$raw_wasm" -nt "$pkg/$OUTPUT_NAME.wasm" ] || [ ! -f "$pkg/$OUTPUT_NAME.js" ]; then
  t=$(date +%s)
  wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name "$OUTPUT_NAME" "$raw_wasm"
  # Leptos loads pkg/<name>.wasm when LEPTOS_OUTPUT_NAME is set at compile time (.cargo/config.toml).
  "$WASM_OPT" -Oz "$pkg/${OUTPUT_NAME}_bg.wasm" -o "$pkg/$OUTPUT_NAME.wasm"
  rm -f "$pkg/${OUTPUT_NAME}_bg.wasm"
  note "wasm-bindgen + wasm-opt: $(( $(date +%s) - t ))s"
else
  note "bundle up to date"
fi
cp style/main.css "$pkg/$OUTPUT_NAME.css"
cp style/favicon.svg "$SITE_DIR/favicon.svg"

size_line() {
  printf '   %-16s %9s bytes raw %9s gzip\n' "$(basename "$1")" "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"
}
step "bundle sizes"
for f in "$pkg/$OUTPUT_NAME.wasm" "$pkg/$OUTPUT_NAME.js" "$pkg/$OUTPUT_NAME.css"; do size_line "$f"; done
total=$(cat "$pkg/$OUTPUT_NAME".{wasm,js,css} | wc -c)
total_gz=0
for f in "$pkg/$OUTPUT_NAME".{wasm,js,css}; do total_gz=$(( total_gz + $(gzip -9c "$f" | wc -c) )); done
printf '   %-16s %9s bytes raw %9s gzip\n' "first load" "$total" "$total_gz"

step "server ($SERVER_PROFILE profile)"
t=$(date +%s)
if [ "$SERVER_PROFILE" = release ]; then cargo build --locked -p server --release
else cargo build --locked -p server; fi
note "cargo: $(( $(date +%s) - t ))s"
