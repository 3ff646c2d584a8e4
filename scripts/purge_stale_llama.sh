#!/usr/bin/env bash
# llama-cpp-sys-2 configures its cmake build only once per build folder (always_configure is
# off), so compiler flags added later (.cargo/config.toml: no AMX) never reach a cached build.
# Remove cached llama.cpp builds configured without them; cargo then rebuilds llama.cpp once.
# Usage: scripts/purge_stale_llama.sh TARGET_DIR
set -euo pipefail
target=${1:?target dir}
[[ -d $target ]] || exit 0
for cache in "$target"/*/build/llama-cpp-sys-2-*/out/build/CMakeCache.txt; do
  [[ -f $cache ]] || continue
  grep -q 'mno-amx-int8' "$cache" && continue
  build=${cache%/out/build/CMakeCache.txt}
  profile_dir=${build%/build/*}
  echo "removing a llama.cpp build configured without the current flags: $build"
  rm -rf "$build" "$profile_dir"/.fingerprint/llama-cpp-sys-2-*
done
