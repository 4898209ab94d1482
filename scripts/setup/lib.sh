# Shared by the set-up scripts (sourced, not run): messages and Debian package installs.

say() { printf '[setup] %s\n' "$*" >&2; }
fail() {
  say "ERROR: $*"
  exit 1
}

has_apt() { command -v apt-get >/dev/null; }

# apt_install PACKAGE...: `apt-get update` first (a fresh machine's package lists are empty).
apt_install() {
  has_apt || fail "there is no apt-get to install $*: install them with your package manager, then run 'npm run setup' again."
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  say "installing Debian packages: $*"
  $sudo apt-get update -qq || fail "apt-get update failed; run it by hand, then 'npm run setup' again."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || fail "apt-get install $* failed; install them by hand, then run 'npm run setup' again."
}
