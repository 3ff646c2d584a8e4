#!/usr/bin/env bash
# Browser end-to-end tests: starts a real `tripwright serve` on a free port of 127.0.0.1 with a
# throw-away data directory and the small SmolLM2 model (its online lookups pointed at an
# Overpass stand-in on loopback, e2e/lib/overpass-stand-in.mjs), waits for /healthz, runs the tests in
# e2e/tests/ (node's built-in runner, headless Chromium through playwright-core) with BASE_URL
# set, stops the server, and exits with the tests' status. It builds nothing: build the binary
# first (`cargo build -p tripwright`).
#
# Environment:
#   TRIPWRIGHT_BIN         the binary (default $CARGO_TARGET_DIR/debug/tripwright, else target/debug/tripwright)
#   TRIPWRIGHT_ASSETS_DIR  the assets directory (default ./assets)
#   CHROMIUM_PATH          the browser (default /usr/bin/chromium, Debian package `chromium`)
#   E2E_STARTUP_TIMEOUT    seconds to wait for /healthz (default 180)
#   Extra arguments are passed to `node --test` (e.g. --test-name-pattern=share).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bin=${TRIPWRIGHT_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/tripwright}
assets=${TRIPWRIGHT_ASSETS_DIR:-$root/assets}
model=$assets/models/SmolLM2-135M-Instruct.Q4_1.gguf
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
startup_timeout=${E2E_STARTUP_TIMEOUT:-180}
artifacts=$root/e2e/artifacts

fail() {
  echo "e2e: $*" >&2
  exit 2
}
[ -x "$bin" ] || fail "no tripwright binary at $bin; build it with 'cargo build -p tripwright' or set TRIPWRIGHT_BIN"
[ -f "$model" ] || fail "no test model at $model; run scripts/fetch_assets.sh or set TRIPWRIGHT_ASSETS_DIR"
[ -x "$chromium" ] || fail "no Chromium at $chromium; install it with 'apt-get install -y chromium' or set CHROMIUM_PATH"
command -v node >/dev/null || fail "node is not installed (Node.js 20 or newer is needed)"
command -v pdftotext >/dev/null || fail "pdftotext is not installed (Debian package poppler-utils)"
if [ ! -d "$root/e2e/node_modules/playwright-core" ]; then
  echo "e2e: installing playwright-core from e2e/package-lock.json" >&2
  (cd "$root/e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$artifacts"
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/tripwright-e2e.XXXXXX")
server_log=$artifacts/server.log
server_pid=

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${overpass_pid:-}" ]; then
    kill "$overpass_pid" 2>/dev/null || true
    wait "$overpass_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Overpass stand-in (real places of central Rome; the real service is not reachable from
# CI): plans for a city without local data fetch their places from it, as they would online.
overpass_log=$artifacts/overpass.log
: >"$overpass_log"
overpass_port_file=$data_dir/overpass.port
node "$root/e2e/lib/overpass-stand-in.mjs" "$overpass_log" >"$overpass_port_file" &
overpass_pid=$!
for _ in $(seq 1 50); do
  [ -s "$overpass_port_file" ] && break
  sleep 0.1
done
[ -s "$overpass_port_file" ] || fail "the Overpass stand-in did not start"
overpass_url=http://127.0.0.1:$(head -n1 "$overpass_port_file")

# A free port: bind port 0, read it back, release it.
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
base_url=http://127.0.0.1:$port

TRIPWRIGHT_DATA_DIR=$data_dir \
  TRIPWRIGHT_ASSETS_DIR=$assets \
  TRIPWRIGHT_LLM__MODEL_PATH=$model \
  TRIPWRIGHT_ONLINE__ENABLED=true \
  TRIPWRIGHT_ONLINE__OVERPASS_URL=$overpass_url \
  TRIPWRIGHT_ONLINE__NOMINATIM_URL=off \
  TRIPWRIGHT_ONLINE__WIKIPEDIA_URL=off \
  TRIPWRIGHT_ONLINE__USER_AGENT_CONTACT=e2e@tripwright.invalid \
  TRIPWRIGHT_LIMITS__PLAN_REQUESTS_PER_MINUTE=600 \
  TRIPWRIGHT_LIMITS__EXPORTS_PER_MINUTE=600 \
  TRIPWRIGHT_LIMITS__TILES_PER_MINUTE=6000 \
  RUST_LOG=${RUST_LOG:-warn} \
  "$bin" serve --addr "127.0.0.1:$port" >"$server_log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + startup_timeout))
until curl -fs -o /dev/null --max-time 2 "$base_url/healthz"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: the server exited before answering /healthz; its log:" >&2
    tail -n 40 "$server_log" >&2
    server_pid=
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "e2e: the server did not answer $base_url/healthz within ${startup_timeout}s; its log:" >&2
    tail -n 40 "$server_log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "e2e: server up at $base_url (log: $server_log)" >&2

# One test file at a time: they share the server and its one model.
status=0
BASE_URL=$base_url CHROMIUM_PATH=$chromium E2E_ARTIFACTS=$artifacts OVERPASS_LOG=$overpass_log \
  node --test --test-concurrency=1 "$@" "$root/e2e/tests/" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: tests failed (status $status); server log tail:" >&2
  tail -n 30 "$server_log" >&2
fi
exit "$status"
