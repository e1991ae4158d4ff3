#!/usr/bin/env bash
# Builds the hydration bundle (target/site/pkg: .js, .wasm, .css) and the server binary.
#
#   scripts/build.sh [--release] [--dev-preview] [--front-only]
#
# The bundle is always size-optimised (profile wasm-release + wasm-opt -Oz). The server is built
# with the dev profile, which the tests share, unless --release is given. --dev-preview builds it
# with the browser dev preview (cargo feature dev-preview: the Bot API emulator and demo catalog);
# without it the server is the production one and refuses DEV_PREVIEW. --front-only builds the
# bundle alone (scripts/test.sh runs the end-to-end tests on the server its tests built).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SERVER_PROFILE=dev
SERVER_FEATURES=()
BUILD_SERVER=1
for arg in "$@"; do
  case "$arg" in
    --release) SERVER_PROFILE=release ;;
    --dev-preview) SERVER_FEATURES=(--features dev-preview) ;;
    --front-only) BUILD_SERVER=0 ;;
    *) die "unknown argument: $arg (usage: scripts/build.sh [--release] [--dev-preview] [--front-only])" ;;
  esac
done
cd "$ROOT"

step "front end: wasm32 ($(wasm_route) route)"
t=$(date +%s)
# Where the compiler takes unstable flags (the Debian route builds std from source anyway): a
# panic aborts at once instead of formatting its message, and panics carry no file/line strings.
# Both only shrink what a panic reports (the app has no panics it recovers from); together they
# take about 9 % off the wasm (7 % gzipped). STARFRONT_WASM_PANIC_MESSAGES=1 keeps the messages.
if [ "$(wasm_route)" = debian ] && [ "${STARFRONT_WASM_PANIC_MESSAGES:-0}" != 1 ]; then
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
fi
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
cmp -s style/main.css "$pkg/$OUTPUT_NAME.css" || cp style/main.css "$pkg/$OUTPUT_NAME.css"
cp style/favicon.svg "$SITE_DIR/favicon.svg"

# Compressed once here, served as they are (the server's ServeDir picks .br or .gz by the
# browser's Accept-Encoding) instead of sending the raw wasm or compressing per request.
# brotli is optional (scripts/bench.sh installs it); without it browsers get gzip.
for f in "$pkg/$OUTPUT_NAME".{wasm,js,css}; do
  if [ ! -f "$f.gz" ] || [ "$f" -nt "$f.gz" ]; then gzip -9 -n -k -f "$f"; fi
  if command -v brotli >/dev/null; then
    if [ ! -f "$f.br" ] || [ "$f" -nt "$f.br" ]; then brotli -q 11 -f -k "$f"; fi
  else
    rm -f "$f.br"
  fi
done

size_line() {
  printf '   %-16s %9s bytes raw %9s gzip\n' "$(basename "$1")" "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"
}
step "bundle sizes"
for f in "$pkg/$OUTPUT_NAME.wasm" "$pkg/$OUTPUT_NAME.js" "$pkg/$OUTPUT_NAME.css"; do size_line "$f"; done
total=$(cat "$pkg/$OUTPUT_NAME".{wasm,js,css} | wc -c)
total_gz=0
for f in "$pkg/$OUTPUT_NAME".{wasm,js,css}; do total_gz=$(( total_gz + $(gzip -9c "$f" | wc -c) )); done
printf '   %-16s %9s bytes raw %9s gzip\n' "first load" "$total" "$total_gz"

[ "$BUILD_SERVER" = 1 ] || exit 0
step "server ($SERVER_PROFILE profile${SERVER_FEATURES[*]:+, ${SERVER_FEATURES[1]}})"
t=$(date +%s)
if [ "$SERVER_PROFILE" = release ]; then cargo build --locked -p server --release "${SERVER_FEATURES[@]}"
else cargo build --locked -p server "${SERVER_FEATURES[@]}"; fi
note "cargo: $(( $(date +%s) - t ))s"
