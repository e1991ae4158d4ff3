#!/usr/bin/env bash
# Installs what building (and, with --browser, testing) Starfront needs. Idempotent: whatever is
# already in place is checked and skipped, so a second run takes about a second.
#
#   scripts/setup.sh [--browser] [--postgres]
#
# --postgres installs a PostgreSQL server (Debian's `postgresql`) when none is installed, for the
# test run on PostgreSQL (scripts/pg.sh starts a throwaway one from it).
#
# The wasm32 toolchain, in order of preference:
#   1. a wasm32-unknown-unknown target already installed in rustup;
#   2. on Debian with rustc-web in apt (e.g. bookworm-security): Debian's rustc-web + rust-web-src
#      (std built with -Zbuild-std) and lld's wasm-ld, linked into rustup as a named toolchain;
#      this needs nothing but Debian's archive, so it works where rustup's servers are unreachable;
#   3. elsewhere, `rustup target add wasm32-unknown-unknown`.
# STARFRONT_WASM_ROUTE=rustup|debian forces a route.
#
# Beside it: wasm-bindgen-cli (the version in Cargo.lock), wasm-split-cli (splits the lazy routes
# out of the linked wasm) and binaryen's wasm-opt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

WANT_BROWSER=0
WANT_POSTGRES=0
for arg in "$@"; do
  case "$arg" in
    --browser) WANT_BROWSER=1 ;;
    --postgres) WANT_POSTGRES=1 ;;
    *) die "unknown argument: $arg (usage: scripts/setup.sh [--browser] [--postgres])" ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
has_apt() { command -v apt-get >/dev/null; }
APT_UPDATED=0
apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
installed_version() { dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null | awk '$1 == "installed" { print $2 }'; }
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    note "apt-get update"
    $SUDO apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
}
# apt_install PKG[=VERSION]...: installs quietly; a stale package list gets one refresh and retry.
apt_install() {
  local log="${TMPDIR:-/tmp}/starfront-apt.log"
  until DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; do
    if [ "$APT_UPDATED" = 1 ]; then tail -20 "$log" >&2; die "apt-get install $* failed"; fi
    apt_update_once
  done
}
# The oldest rustc that builds the front end (leptos 0.8 needs 1.88).
MIN_RUST_WEB=1.88
rust_web_usable() {
  local v; v=$(apt_candidate rustc-web)
  case "$v" in ""|"(none)") return 1 ;; esac
  dpkg --compare-versions "$v" ge "$MIN_RUST_WEB"
}

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"

# ------------------------------------------------------------------ wasm32 toolchain
step "WebAssembly toolchain"
route=$(wasm_route)
if [ "$route" = none ] || { [ "$route" = debian ] && ! debian_toolchain_ready; }; then
  use_debian=0
  if [ "${STARFRONT_WASM_ROUTE:-}" = debian ]; then use_debian=1
  elif [ "${STARFRONT_WASM_ROUTE:-}" != rustup ] && has_apt; then
    # An old or missing package list may not show bookworm-security's rustc-web yet.
    rust_web_usable || apt_update_once
    rust_web_usable && use_debian=1
  fi
  if [ "$use_debian" = 1 ]; then
    rust_web_usable || apt_update_once
    rust_web_usable || die "apt offers no rustc-web >= $MIN_RUST_WEB (Debian 12 has it in bookworm-security)"
    version=$(apt_candidate rustc-web)
    note "Debian route: rustc-web $version, rust-web-src, $WASM_LINKER"
    pkgs=()
    for p in rustc-web cargo-web rust-web-src; do
      [ "$(installed_version "$p")" = "$version" ] || pkgs+=("$p=$version")
    done
    command -v "$WASM_LINKER" >/dev/null || pkgs+=("lld-${WASM_LINKER##*-}")
    if [ ${#pkgs[@]} -gt 0 ]; then apt_update_once; apt_install "${pkgs[@]}"; fi
    # rustup wants bin/ and lib/; the compiler keeps its own sysroot under /usr.
    mkdir -p "$DEBIAN_TOOLCHAIN_DIR/bin" "$DEBIAN_TOOLCHAIN_DIR/lib"
    for b in rustc cargo rustdoc; do ln -sfn "/usr/bin/$b" "$DEBIAN_TOOLCHAIN_DIR/bin/$b"; done
    rustup toolchain list | grep -q "^$DEBIAN_TOOLCHAIN" || rustup toolchain link "$DEBIAN_TOOLCHAIN" "$DEBIAN_TOOLCHAIN_DIR"
    sysroot=$(rustc "+$DEBIAN_TOOLCHAIN" --print sysroot)
    [ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ] || die "rust-web-src is missing under $sysroot"
  else
    note "rustup route: rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown || die "could not add the wasm32 target; on Debian, make rustc-web available in apt"
  fi
fi
route=$(wasm_route)
case "$route" in
  rustup) note "using rustup's wasm32-unknown-unknown target ($(rustc -V))" ;;
  debian) note "using Debian's $(rustc "+$DEBIAN_TOOLCHAIN" -V) with -Zbuild-std, linker $WASM_LINKER" ;;
  *) die "no WebAssembly toolchain could be set up" ;;
esac

# ------------------------------------------------------------------ wasm-bindgen CLI
want=$(wasm_bindgen_version)
[ -n "$want" ] || die "wasm-bindgen not found in Cargo.lock"
step "wasm-bindgen-cli $want"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $want" ]; then
  note "already installed"
else
  # --locked can fail when the CLI's own lock names a crate version the registry no longer
  # serves; a fresh resolution of its dependencies is then the way.
  (cd / && { cargo install --locked --force wasm-bindgen-cli --version "=$want" \
      || cargo install --force wasm-bindgen-cli --version "=$want"; })
fi

# ------------------------------------------------------------------ wasm-split-cli
step "wasm-split-cli (wasm_split_cli_support $WASM_SPLIT_VERSION)"
if cargo install --list 2>/dev/null | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  note "already installed"
else
  (cd / && cargo install --locked --force wasm_split_cli_support --version "=$WASM_SPLIT_VERSION" \
    --features build-binary)
fi

# ------------------------------------------------------------------ wasm-opt
step "wasm-opt (npm binaryen@$BINARYEN_VERSION)"
if [ -x "$WASM_OPT" ]; then
  note "already installed"
else
  command -v npm >/dev/null || die "npm not found: install Node.js 18 or newer"
  npm install --prefix "$(dirname "$(dirname "$(dirname "$WASM_OPT")")")" --no-audit --no-fund \
    --loglevel=error "binaryen@$BINARYEN_VERSION"
fi
"$WASM_OPT" --version

# ------------------------------------------------------------------ the reader's viewers
# PDF.js and foliate-js for the reader (/read/…), from npm at the versions frontend/reader's
# lock names; scripts/build.sh copies what the browser loads into the site. Optional packages
# (PDF.js's canvas for Node.js) are not needed in a browser.
step "reader: npm packages (frontend/reader)"
if [ -d "$ROOT/frontend/reader/node_modules/pdfjs-dist" ] \
   && [ "$ROOT/frontend/reader/node_modules/.package-lock.json" -nt "$ROOT/frontend/reader/package-lock.json" ]; then
  note "already installed"
else
  command -v npm >/dev/null || die "npm not found: install Node.js 18 or newer"
  (cd "$ROOT/frontend/reader" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi

# ------------------------------------------------------------------ ffmpeg (video lessons)
# The shop prepares lesson videos with ffmpeg and ffprobe (Debian's build has libx264 and AAC);
# the tests and the demo seed make their short videos with it too.
step "ffmpeg (video lessons)"
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  note "$(ffmpeg -version | head -1)"
elif has_apt; then
  apt_update_once; apt_install ffmpeg
  note "$(ffmpeg -version | head -1)"
else
  die "no ffmpeg: install it (with ffprobe) from your system's packages"
fi

# ------------------------------------------------------------------ browser tests
if [ "$WANT_BROWSER" = 1 ]; then
  step "Chromium and Playwright (end-to-end tests)"
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    note "using CHROMIUM_PATH=$CHROMIUM_PATH"
  elif command -v chromium >/dev/null; then
    note "$(chromium --version 2>/dev/null || echo chromium)"
  elif has_apt; then
    apt_update_once; apt_install chromium
    note "$(chromium --version)"
  else
    die "no Chromium: install it, or set CHROMIUM_PATH to a Chrome/Chromium binary"
  fi
  if [ -d "$ROOT/end2end/node_modules/@playwright/test" ] \
     && [ "$ROOT/end2end/node_modules/.package-lock.json" -nt "$ROOT/end2end/package-lock.json" ]; then
    note "Playwright already installed"
  else
    # Playwright's browser download is never used: the tests drive the system Chromium.
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# ------------------------------------------------------------------ PostgreSQL for tests
if [ "$WANT_POSTGRES" = 1 ]; then
  step "PostgreSQL server (tests on PostgreSQL)"
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
    note "already installed: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  elif has_apt; then
    # The package creates the `postgres` user the throwaway server runs as when we are root.
    # Its own cluster is not used (and may well stay down in a container).
    apt_install postgresql
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || die "apt installed postgresql, yet no initdb"
    note "installed: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  else
    die "no PostgreSQL: install its server, or set TEST_DATABASE_URL to one the tests may use"
  fi
fi

step "setup done"
