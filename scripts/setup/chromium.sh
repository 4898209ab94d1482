#!/usr/bin/env bash
# Debian's Chromium for the browser tests: playwright-core drives /usr/bin/chromium (its own
# browser download is not reachable on the project's machines). Without apt-get (a laptop that
# is not Debian) it only warns: the browser tests then skip, except with CI=true.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ -x /usr/bin/chromium ] && exit 0
if has_apt; then
  apt_install chromium
  [ -x /usr/bin/chromium ] || fail "apt-get installed chromium but /usr/bin/chromium is missing."
else
  say "WARNING: /usr/bin/chromium is missing and there is no apt-get: install Chromium there for the browser tests."
fi
