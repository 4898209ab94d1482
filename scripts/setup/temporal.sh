#!/usr/bin/env bash
# A Temporal CLI (its dev server, with the Web UI) for `npm run demo`, the end-to-end tests and
# the orchestration benchmark. Links it as .osusume/bin/temporal, which the code starts through
# the SDK; when that link is absent the SDK downloads the CLI itself at run time.
#   1. OSUSUME_TEMPORAL_CLI=/path/to/temporal: that binary.
#   2. A CLI built earlier, cached in ${XDG_CACHE_HOME:-~/.cache}/osusume/temporal-cli-VERSION/.
#   3. The SDK's own download works (a laptop with internet): nothing to do.
#   4. Else `go install` of the CLI from the Go module proxy (Go >= 1.23; about 3 minutes on
#      2 cores the first time, then cached).
# Without any of these it warns: the Temporal tests then skip, except with CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/lib.sh

# v1.9.1's go.mod has replace directives, so `go install` refuses it; v1.5.1 builds.
VERSION=v1.5.1
link=.osusume/bin/temporal
cache="${XDG_CACHE_HOME:-$HOME/.cache}/osusume/temporal-cli-$VERSION"

use() {
  "$1" --version >/dev/null 2>&1 || fail "$1 does not run ('$1 --version' failed); remove it and run 'npm run setup' again."
  mkdir -p "$(dirname "$link")"
  ln -sfn "$1" "$link"
}

if [ -n "${OSUSUME_TEMPORAL_CLI:-}" ]; then
  use "$OSUSUME_TEMPORAL_CLI"
  exit 0
fi
if [ -x "$cache/temporal" ]; then
  use "$cache/temporal"
  exit 0
fi
rm -f "$link"

sdk_download_reachable() {
  node -e 'fetch("https://temporal.download/", { method: "HEAD", signal: AbortSignal.timeout(5000) }).then(() => process.exit(0), () => process.exit(1))'
}
if sdk_download_reachable; then
  say "the Temporal SDK downloads its dev server (Temporal CLI) when first needed"
  exit 0
fi

go=$(command -v go || echo /usr/local/go/bin/go)
if [ ! -x "$go" ]; then
  say "WARNING: no Temporal CLI: the SDK cannot download it here and there is no Go toolchain to build it (install Go 1.23 or newer, or set OSUSUME_TEMPORAL_CLI to a 'temporal' binary, then run 'npm run setup' again). The Temporal tests skip."
  exit 0
fi
say "building the Temporal CLI $VERSION with 'go install' (about 3 minutes the first time; cached in $cache)"
rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
GOBIN="$cache.tmp" "$go" install "github.com/temporalio/cli/cmd/temporal@$VERSION" \
  || fail "'go install github.com/temporalio/cli/cmd/temporal@$VERSION' failed (see above); it needs the Go module proxy. Set OSUSUME_TEMPORAL_CLI to a 'temporal' binary instead, then run 'npm run setup' again."
rm -rf "$cache" && mv "$cache.tmp" "$cache"
use "$cache/temporal"
