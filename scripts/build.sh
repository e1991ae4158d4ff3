#!/usr/bin/env bash
# Builds the hydration bundle (target/site/pkg: .js, .wasm, .css under content-hashed names,
# listed in target/site/assets.json) and the server binary.
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
# wasm-bindgen and wasm-opt write under the plain name here; the site gets content-hashed copies.
bundle="$FRONT_TARGET_DIR/bundle"
mkdir -p "$bundle"
if [ "$raw_wasm" -nt "$bundle/$OUTPUT_NAME.wasm" ] || [ ! -f "$bundle/$OUTPUT_NAME.js" ]; then
  t=$(date +%s)
  wasm-bindgen --target web --no-typescript --out-dir "$bundle" --out-name "$OUTPUT_NAME" "$raw_wasm"
  "$WASM_OPT" -Oz "$bundle/${OUTPUT_NAME}_bg.wasm" -o "$bundle/$OUTPUT_NAME.wasm"
  rm -f "$bundle/${OUTPUT_NAME}_bg.wasm"
  note "wasm-bindgen + wasm-opt: $(( $(date +%s) - t ))s"
else
  note "bundle up to date"
fi

# Content-hashed names: the server serves /pkg/ as immutable for a year, so a file's name must
# change whenever its bytes do. The JS glue and its wasm share one hash (one belongs to the
# other; Leptos names both from one output name); the stylesheet has its own. The server reads
# the names from $SITE_DIR/assets.json at start and puts them in every page.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
bundle_name="$OUTPUT_NAME.$(hash_of "$bundle/$OUTPUT_NAME.wasm" "$bundle/$OUTPUT_NAME.js")"
css_name="$OUTPUT_NAME.$(hash_of style/main.css).css"
pkg="$SITE_DIR/pkg"
mkdir -p "$pkg"
files=("$pkg/$bundle_name.wasm" "$pkg/$bundle_name.js" "$pkg/$css_name")
cmp -s "$bundle/$OUTPUT_NAME.wasm" "${files[0]}" || cp "$bundle/$OUTPUT_NAME.wasm" "${files[0]}"
cmp -s "$bundle/$OUTPUT_NAME.js" "${files[1]}" || cp "$bundle/$OUTPUT_NAME.js" "${files[1]}"
cmp -s style/main.css "${files[2]}" || cp style/main.css "${files[2]}"
cp style/favicon.svg "$SITE_DIR/favicon.svg"

# Compressed once here, served as they are (the server's ServeDir picks .br or .gz by the
# browser's Accept-Encoding) instead of sending the raw wasm or compressing per request.
# brotli is optional (scripts/bench.sh installs it); without it browsers get gzip.
for f in "${files[@]}"; do
  [ -f "$f.gz" ] || gzip -9 -n -k -f "$f"
  if command -v brotli >/dev/null; then
    [ -f "$f.br" ] || brotli -q 11 -f -k "$f"
  else
    rm -f "$f.br"
  fi
done
# Earlier builds' files go: this site serves one build, and an old name answers 404.
keep=" ${files[*]} "
for f in "$pkg"/*; do
  case "$keep" in *" ${f%.gz} "* | *" ${f%.br} "*) continue ;; esac
  rm -f "$f"
done
# Written last, and by rename: a server starting meanwhile reads either the old or the new names.
printf '{"bundle":"%s","css":"%s"}\n' "$bundle_name" "$css_name" >"$SITE_DIR/assets.json.tmp"
mv "$SITE_DIR/assets.json.tmp" "$SITE_DIR/assets.json"

size_line() {
  printf '   %-28s %9s bytes raw %9s gzip\n' "$(basename "$1")" "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"
}
step "bundle sizes"
for f in "${files[@]}"; do size_line "$f"; done
total=$(cat "${files[@]}" | wc -c)
total_gz=0
for f in "${files[@]}"; do total_gz=$(( total_gz + $(gzip -9c "$f" | wc -c) )); done
printf '   %-28s %9s bytes raw %9s gzip\n' "first load" "$total" "$total_gz"

[ "$BUILD_SERVER" = 1 ] || exit 0
step "server ($SERVER_PROFILE profile${SERVER_FEATURES[*]:+, ${SERVER_FEATURES[1]}})"
t=$(date +%s)
if [ "$SERVER_PROFILE" = release ]; then cargo build --locked -p server --release "${SERVER_FEATURES[@]}"
else cargo build --locked -p server "${SERVER_FEATURES[@]}"; fi
note "cargo: $(( $(date +%s) - t ))s"
