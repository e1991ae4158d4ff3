# Shared by the project's scripts: paths, logging and the choice of WebAssembly toolchain.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned tool versions; the wasm-bindgen CLI always follows Cargo.lock.
BINARYEN_VERSION=${BINARYEN_VERSION:-132.0.0}
# The wasm splitter (crates.io wasm_split_cli_support, the library cargo-leptos splits with). Its
# 0.2 line reads the split points wasm_split_helpers 0.2 (Cargo.lock, via leptos) writes.
WASM_SPLIT_VERSION=${WASM_SPLIT_VERSION:-0.2.4}
TOOLS_DIR=${STARFRONT_TOOLS_DIR:-$ROOT/.tools}
WASM_OPT="$TOOLS_DIR/binaryen-$BINARYEN_VERSION/node_modules/.bin/wasm-opt"
# Debian's rustc-web, linked into rustup under this name when the Debian route is used.
DEBIAN_TOOLCHAIN=starfront-debian-web
DEBIAN_TOOLCHAIN_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/starfront/$DEBIAN_TOOLCHAIN
WASM_LINKER=${WASM_LINKER:-wasm-ld-22}

SITE_DIR="$ROOT/target/site"
FRONT_TARGET_DIR="$ROOT/target/front"
OUTPUT_NAME=starfront

T0=${T0:-$(date +%s)}
export T0
step() { printf '\n\033[1m== [%ss] %s\033[0m\n' "$(( $(date +%s) - T0 ))" "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock"
}

rustup_has_wasm_target() {
  command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}

debian_toolchain_ready() {
  command -v rustup >/dev/null && rustup toolchain list 2>/dev/null | grep -q "^$DEBIAN_TOOLCHAIN" \
    && command -v "$WASM_LINKER" >/dev/null
}

# Which way to build wasm32: "rustup" (a prebuilt std for the target) or "debian" (Debian's
# rustc-web with std built from source). STARFRONT_WASM_ROUTE forces one.
wasm_route() {
  if [ -n "${STARFRONT_WASM_ROUTE:-}" ]; then echo "$STARFRONT_WASM_ROUTE"
  elif rustup_has_wasm_target; then echo rustup
  elif debian_toolchain_ready; then echo debian
  else echo none
  fi
}

# cargo for wasm32-unknown-unknown along the chosen route; arguments are passed on.
wasm_cargo() {
  local sub=$1; shift
  case "$(wasm_route)" in
    rustup) cargo "$sub" --target wasm32-unknown-unknown "$@" ;;
    debian)
      # RUSTC_BOOTSTRAP lets Debian's stable compiler take -Zbuild-std. The linker must not
      # change between builds, or std is rebuilt too.
      RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$WASM_LINKER" \
        cargo "+$DEBIAN_TOOLCHAIN" "$sub" --target wasm32-unknown-unknown \
        -Zbuild-std=std,panic_abort "$@" ;;
    *) die "no WebAssembly toolchain: run scripts/setup.sh first" ;;
  esac
}
