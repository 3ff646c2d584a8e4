#!/usr/bin/env bash
# Runs every check and test: fetches the assets if missing, then rustfmt, clippy with
# warnings as errors, the whole Rust test suite (unit, integration, CLI end to end) and the
# browser end-to-end tests (needs Chromium: `apt-get install chromium`; .ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch_assets.sh
export TRIPWRIGHT_ASSETS_DIR=${TRIPWRIGHT_ASSETS_DIR:-$PWD/assets}
scripts/purge_stale_llama.sh "${CARGO_TARGET_DIR:-$PWD/target}"
cargo fmt --all -- --check
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
