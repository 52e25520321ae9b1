#!/bin/sh
# Makes sure the real peers the tests drive are installed (Debian packages).
# `npm test` runs this first, so the README's test command is the whole set-up:
# - everything present: prints nothing, exits 0;
# - something missing and we are root: apt-get installs it;
# - something missing and we are not root: one line naming the packages and
#   the command that installs them, exit 1 (the suite never runs with
#   interop tests silently missing their peers).
set -eu

missing=""
need() { # need PACKAGE CHECK...: PACKAGE is missing unless the check succeeds
  package=$1
  shift
  "$@" >/dev/null 2>&1 || missing="$missing $package"
}
has() { command -v "$1"; }

need aria2 has aria2c
need transmission-cli has transmission-cli
need transmission-cli has transmission-show
need transmission-cli has transmission-remote
need transmission-daemon has transmission-daemon
need opentracker has opentracker
need mktorrent has mktorrent
need tmux has tmux
# libtorrent's Python binding is installed for the system Python only.
need python3-libtorrent /usr/bin/python3 -c 'import libtorrent'

# One name once, in a stable order.
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ' | sed 's/ *$//')
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "shoal tests: missing Debian packages: $missing; install them with: sudo apt-get install -y $missing" >&2
  exit 1
fi

echo "shoal tests: installing $missing (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# transmission-daemon's package starts a system service on port 9091; the tests
# start their own daemons, so the packaged one is stopped and left disabled.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now transmission-daemon >/dev/null 2>&1 || true
fi
pkill -x transmission-da >/dev/null 2>&1 || true
