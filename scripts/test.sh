#!/usr/bin/env bash
# Runs every check and test: fetches the assets if missing, then rustfmt, clippy with
# warnings as errors, the whole Rust test suite (unit, integration, CLI end to end), the
# storage tests again on a throwaway PostgreSQL server (`apt-get install postgresql`), and the
# browser end-to-end tests (needs Chromium: `apt-get install chromium`; .ci/run installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch_assets.sh
export TRIPWRIGHT_ASSETS_DIR=${TRIPWRIGHT_ASSETS_DIR:-$PWD/assets}
scripts/purge_stale_llama.sh "${CARGO_TARGET_DIR:-$PWD/target}"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --no-fail-fast
# The storage tests again on PostgreSQL: a throwaway server on loopback, from the
# distribution's packages (.ci/run installs them), stopped when this script ends.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql (the storage tests run on it too)" >&2
  exit 1
fi
pg_dir=$(mktemp -d)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap 'as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pg_dir"' EXIT
TRIPWRIGHT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres" \
  cargo test -p tripwright-store --locked --test store
# The evaluation suite, without the language model, against the thresholds in the repository.
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug/tripwright
eval_dir=$(mktemp -d)
TRIPWRIGHT_ONLINE__ENABLED=false "$bin" --data-dir "$eval_dir" eval --suite eval/suite.jsonl --no-llm \
  --thresholds eval/thresholds.toml --out "$eval_dir/report" 2>/dev/null
rm -rf "$eval_dir"
# Browser end-to-end tests in headless Chromium against the binary `cargo test` just built for
# the CLI tests (a separate `cargo build` would compile the dependencies again with other
# features: minutes for the same code).
e2e/run.sh
