# An S3-compatible server for the storage tests: moto's server from PyPI, in its own virtualenv
# under .tools/, on a free loopback port.
# shellcheck shell=bash
#
#   source scripts/s3.sh && s3_start   # exports TEST_S3_ENDPOINT; the server stops when the shell exits
#   bash scripts/s3.sh [PORT]          # runs it in the foreground (e.g. for STORAGE=s3 by hand)
#
# The tests create their own buckets on it; moto accepts any access key.

MOTO_VERSION=${MOTO_VERSION:-5.2.1}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MOTO_DIR="$TOOLS_DIR/moto-$MOTO_VERSION"
MOTO_SERVER="$MOTO_DIR/bin/moto_server"

s3_install() {
  [ -x "$MOTO_SERVER" ] && return 0
  command -v python3 >/dev/null || die "python3 not found: moto (the S3 test server) needs it"
  note "installing moto[server]==$MOTO_VERSION into $MOTO_DIR"
  if ! python3 -m venv "$MOTO_DIR" >/dev/null 2>&1; then
    # Debian ships venv separately.
    rm -rf "$MOTO_DIR"
    command -v apt-get >/dev/null || die "python3 -m venv failed and there is no apt-get to add python3-venv"
    local sudo=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$MOTO_DIR" || die "cannot create a virtualenv in $MOTO_DIR"
  fi
  "$MOTO_DIR/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    || { rm -rf "$MOTO_DIR"; die "pip install moto[server]==$MOTO_VERSION failed"; }
}

s3_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto in the background, waits until it answers, exports TEST_S3_ENDPOINT and stops the
# server when the calling shell exits.
s3_start() {
  s3_install
  local port=${STARFRONT_S3_PORT:-$(s3_free_port)}
  local log="${TMPDIR:-/tmp}/starfront-moto-$port.log"
  "$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  S3_PID=$!
  trap 's3_stop' EXIT
  local i
  for i in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null; then
      export TEST_S3_ENDPOINT="http://127.0.0.1:$port"
      note "S3 test server (moto $MOTO_VERSION) at $TEST_S3_ENDPOINT, pid $S3_PID"
      return 0
    fi
    kill -0 "$S3_PID" 2>/dev/null || { cat "$log" >&2; die "moto_server exited at start"; }
    sleep 0.1
  done
  cat "$log" >&2
  die "moto_server did not answer on port $port"
}

s3_stop() {
  if [ -n "${S3_PID:-}" ]; then
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
    S3_PID=""
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  s3_install
  port=${1:-${STARFRONT_S3_PORT:-9310}}
  note "S3 test server (moto $MOTO_VERSION) on http://127.0.0.1:$port; Ctrl-C stops it"
  exec "$MOTO_SERVER" -H 127.0.0.1 -p "$port"
fi
