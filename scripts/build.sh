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
# (Cargo joins these with .cargo/config.toml's `--cfg erase_components`.)
if [ "$(wasm_route)" = debian ] && [ "${STARFRONT_WASM_PANIC_MESSAGES:-0}" != 1 ]; then
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
fi
# Its own target dir: another compiler (and std built from source) must not evict the native build.
wasm_cargo build --locked -p frontend --lib --profile wasm-release --target-dir "$FRONT_TARGET_DIR"
note "cargo: $(( $(date +%s) - t ))s"

raw_wasm="$FRONT_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
# The split, wasm-bindgen and wasm-opt write under plain names here; the site gets
# content-hashed copies.
bundle="$FRONT_TARGET_DIR/bundle"
if [ "$raw_wasm" -nt "$bundle/$OUTPUT_NAME.wasm" ] || [ ! -f "$bundle/$OUTPUT_NAME.js" ]; then
  t=$(date +%s)
  rm -rf "$bundle" "$FRONT_TARGET_DIR/split"
  mkdir -p "$bundle" "$FRONT_TARGET_DIR/split"
  # Lazy routes (app/src/screens.rs) are split out of the linked wasm: the main module, one
  # module per lazy route (split_*.wasm), modules of code several of them share (chunk_*.wasm)
  # and the loader that fetches them (__wasm_split.js, imported by the main module's glue).
  wasm-split-cli --target web --out-name "$OUTPUT_NAME" "$raw_wasm" "$FRONT_TARGET_DIR/split"
  # The loader is reached through exports the linker made for it: wasm-bindgen must keep them.
  wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$bundle" \
    --out-name "$OUTPUT_NAME" "$FRONT_TARGET_DIR/split/$OUTPUT_NAME.wasm"
  "$WASM_OPT" -Oz "$bundle/${OUTPUT_NAME}_bg.wasm" -o "$bundle/$OUTPUT_NAME.wasm"
  rm -f "$bundle/${OUTPUT_NAME}_bg.wasm"
  for f in "$FRONT_TARGET_DIR"/split/split_*.wasm "$FRONT_TARGET_DIR"/split/chunk_*.wasm; do
    [ -f "$f" ] || continue
    "$WASM_OPT" -Oz "$f" -o "$bundle/$(basename "$f")"
  done
  cp "$FRONT_TARGET_DIR/split/__wasm_split.js" "$bundle/__wasm_split.js"
  note "wasm-split + wasm-bindgen + wasm-opt: $(( $(date +%s) - t ))s"
else
  note "bundle up to date"
fi

# Content-hashed names: the server serves /pkg/ as immutable for a year, so a file's name must
# change whenever its bytes do. The files of one build refer to each other (glue → loader →
# glue and chunks), so they share one hash, taken over all of them before their references are
# renamed: `<name>.<hash>.js|wasm` (the glue and the main module, as Leptos names them from one
# output name), `<name>.<hash>.split.js` (the loader), `<name>.<hash>.<module>.wasm` (the lazy
# modules). The stylesheet has its own hash. The server reads the names from
# $SITE_DIR/assets.json at start and puts them in every page.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
lazy_modules=()
for f in "$bundle"/__wasm_split.js "$bundle"/split_*.wasm "$bundle"/chunk_*.wasm; do
  [ -f "$f" ] && lazy_modules+=("$f")
done
bundle_name="$OUTPUT_NAME.$(hash_of "$bundle/$OUTPUT_NAME.wasm" "$bundle/$OUTPUT_NAME.js" "${lazy_modules[@]}")"
css_name="$OUTPUT_NAME.$(hash_of style/main.css).css"
pkg="$SITE_DIR/pkg"
mkdir -p "$pkg"
staged="$FRONT_TARGET_DIR/hashed"
rm -rf "$staged"
mkdir -p "$staged"
cp "$bundle/$OUTPUT_NAME.wasm" "$staged/$bundle_name.wasm"
# The glue imports the loader by module path (`from './__wasm_split.js'`); the same string also
# keys the wasm's imports, which must stay as the wasm names them, so only the import is renamed.
# (A build without lazy routes has no loader to import.)
first_load=("$pkg/$bundle_name.wasm" "$pkg/$bundle_name.js" "$pkg/$css_name")
sed "s#from '\./__wasm_split\.js'#from './$bundle_name.split.js'#; s#from \"\./__wasm_split\.js\"#from \"./$bundle_name.split.js\"#" \
  "$bundle/$OUTPUT_NAME.js" >"$staged/$bundle_name.js"
if grep -q "$bundle_name.split.js" "$staged/$bundle_name.js"; then
  # The loader imports the glue and fetches the modules by relative URL.
  sed -E "s#\"\./$OUTPUT_NAME\.js\"#\"./$bundle_name.js\"#; s#\"\./((split|chunk)_[A-Za-z0-9_]+)\.wasm\"#\"./$bundle_name.\1.wasm\"#g" \
    "$bundle/__wasm_split.js" >"$staged/$bundle_name.split.js"
  grep -q "\"./$bundle_name.js\"" "$staged/$bundle_name.split.js" || die "the split loader does not import the glue"
  first_load+=("$pkg/$bundle_name.split.js")
fi
for f in "${lazy_modules[@]}"; do
  case "$f" in *.wasm) cp "$f" "$staged/$bundle_name.$(basename "$f")" ;; esac
done
cp style/main.css "$staged/$css_name"
files=()
for f in "$staged"/*; do
  files+=("$pkg/$(basename "$f")")
  cmp -s "$f" "$pkg/$(basename "$f")" || cp "$f" "$pkg/$(basename "$f")"
done
cp style/favicon.svg "$SITE_DIR/favicon.svg"

# The reader's frame and its viewers (frontend/reader/; the npm packages are installed by
# scripts/setup.sh), served from /reader/ and fetched only when a book is opened: nothing here is
# part of the first load. Copied whole into place, so a server never sees half of them.
step "reader and video player: frame, PDF.js, foliate-js, hls.js"
reader_src="$ROOT/frontend/reader"
reader_modules="$reader_src/node_modules"
for package in pdfjs-dist foliate-js construct-style-sheets-polyfill hls.js; do
  [ -d "$reader_modules/$package" ] || die "the reader's npm package $package is missing: run scripts/setup.sh"
done
reader_out="$SITE_DIR/reader"
rm -rf "$reader_out.new"
mkdir -p "$reader_out.new/pdfjs" "$reader_out.new/foliate/vendor" "$reader_out.new/hls"
cp "$reader_src/frame.html" "$reader_src/reader.js" "$reader_src/reader.css" "$reader_out.new/"
# Video lessons' player: loaded by the lesson page itself (no frame), with hls.js's light build
# (no subtitles or alternate audio, which the shop's ladders never have).
cp "$reader_src/video.js" "$reader_out.new/"
cp "$reader_modules/hls.js/dist/hls.light.min.mjs" "$reader_modules/hls.js/LICENSE" "$reader_out.new/hls/"
pdfjs="$reader_modules/pdfjs-dist"
cp "$pdfjs/build/pdf.min.mjs" "$pdfjs/build/pdf.worker.min.mjs" "$pdfjs/LICENSE" "$reader_out.new/pdfjs/"
# Character maps (CJK text), the standard fonts PDFs name without embedding, the image decoders.
cp -r "$pdfjs/cmaps" "$pdfjs/standard_fonts" "$pdfjs/wasm" "$reader_out.new/pdfjs/"
foliate="$reader_modules/foliate-js"
# Its modules import one another by relative path; the lint and bundler configs and its demo
# reader are not for browsers.
for f in "$foliate"/*.js; do
  case "$(basename "$f")" in eslint.config.js | rollup.config.js | reader.js) continue ;; esac
  cp "$f" "$reader_out.new/foliate/"
done
cp "$foliate/LICENSE" "$reader_out.new/foliate/"
cp "$foliate"/vendor/*.js "$reader_out.new/foliate/vendor/"
# fixed-layout.js imports its polyfill by package name, which a browser cannot resolve: a copy
# beside it, imported by path.
cp "$reader_modules/construct-style-sheets-polyfill/dist/adoptedStyleSheets.js" "$reader_out.new/foliate/vendor/"
sed -i "s#^import 'construct-style-sheets-polyfill'#import './vendor/adoptedStyleSheets.js'#" \
  "$reader_out.new/foliate/fixed-layout.js"
grep -q "^import './vendor/adoptedStyleSheets.js'" "$reader_out.new/foliate/fixed-layout.js" \
  || die "foliate-js's fixed-layout.js no longer imports its polyfill as expected"
# Compressed once, like the bundle (the server picks by Accept-Encoding): PDF.js's worker is
# about 1 MB raw, 300 KB gzipped. Files too small to gain are left alone.
find "$reader_out.new" -type f -size +1k ! -name LICENSE | while read -r f; do
  gzip -9 -n -k -f "$f"
  if command -v brotli >/dev/null; then brotli -q 11 -f -k "$f"; fi
done
rm -rf "$reader_out.old"
[ -d "$reader_out" ] && mv "$reader_out" "$reader_out.old"
mv "$reader_out.new" "$reader_out"
rm -rf "$reader_out.old"
note "$(du -sk "$reader_out" | cut -f1) KiB in $(find "$reader_out" -type f | wc -l) files, served from /reader/"

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
  printf '   %-44s %9s bytes raw %9s gzip\n' "$(basename "$1")" "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"
}
gzip_total() {
  local n=0 f
  for f in "$@"; do n=$(( n + $(gzip -9c "$f" | wc -c) )); done
  echo "$n"
}
step "bundle sizes"
for f in "${first_load[@]}"; do size_line "$f"; done
printf '   %-44s %9s bytes raw %9s gzip\n' "first load" "$(cat "${first_load[@]}" | wc -c)" "$(gzip_total "${first_load[@]}")"
note "loaded when their route opens:"
for f in "$pkg/$bundle_name".split_*.wasm "$pkg/$bundle_name".chunk_*.wasm; do [ -f "$f" ] && size_line "$f"; done

[ "$BUILD_SERVER" = 1 ] || exit 0
step "server ($SERVER_PROFILE profile${SERVER_FEATURES[*]:+, ${SERVER_FEATURES[1]}})"
t=$(date +%s)
if [ "$SERVER_PROFILE" = release ]; then cargo build --locked -p server --release "${SERVER_FEATURES[@]}"
else cargo build --locked -p server "${SERVER_FEATURES[@]}"; fi
note "cargo: $(( $(date +%s) - t ))s"
