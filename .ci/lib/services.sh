# shellcheck shell=bash
# Shared by the scripts in .ci/services/ (sourced, never run; it lives outside that directory
# so that .ci/run's loop over .ci/services/*.sh does not run it). The caller sets SERVICE to
# the name its messages start with before sourcing:
#
#   SERVICE=redis
#   . "$(dirname "$0")/../lib/services.sh"
#
# What each script would otherwise write again: its messages, Debian packages installed only
# when missing (which needs root), finding Go, and a tool built from its Go module at an exact
# version and checked to be that version.

say() { printf '%s: %s\n' "$SERVICE" "$*"; }
fail() {
  printf '%s: FAILED: %s\n' "$SERVICE" "$*" >&2
  exit 1
}

# apt_install [--no-install-recommends] PACKAGE... : installs Debian packages, quietly. Fails
# naming what to do when not root or without apt-get. The caller checks afterwards that what it
# needed is on PATH.
apt_install() {
  [ "$(id -u)" -eq 0 ] || fail "installing what is missing needs root: apt-get update && apt-get install -y $*"
  command -v apt-get >/dev/null || fail "apt-get is not available to install what is missing: install by hand the Debian package(s) of apt-get install -y $*"
  say "not installed: apt-get update && apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "apt-get update failed: Debian's package mirrors are unreachable"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || fail "apt-get install -y $* failed"
}

# go_binary: the path of Go, or nothing. Go's official archive installs into /usr/local/go
# without touching PATH.
go_binary() {
  if command -v go; then return; fi
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; fi
}

# go_install_tool NAME MODULE VERSION WANT VERSION_OF [LDFLAGS] : builds NAME with
# `go install MODULE@VERSION` into TOOLS_BIN_DIR, unless the NAME on PATH (or in TOOLS_BIN_DIR)
# already reports WANT through the function VERSION_OF (called with the binary's path).
TOOLS_BIN_DIR=${RAMPART_TOOLS_BIN:-/usr/local/bin}
go_install_tool() {
  local name=$1 module=$2 version=$3 want=$4 version_of=$5 ldflags=${6:-} binary go built
  binary="$(command -v "$name" || true)"
  [ -n "$binary" ] || binary="$TOOLS_BIN_DIR/$name"
  if [ -x "$binary" ] && [ "$("$version_of" "$binary" 2>/dev/null || true)" = "$want" ]; then
    say "$name $version installed already"
    return
  fi
  go="$(go_binary)"
  [ -n "$go" ] || fail "$name $version is missing and building it needs Go (1.24 or newer), which is not installed; or put $name $version on PATH"
  mkdir -p "$TOOLS_BIN_DIR" || fail "cannot create $TOOLS_BIN_DIR (set RAMPART_TOOLS_BIN to a directory on PATH)"
  say "building $name $version with $("$go" version) into $TOOLS_BIN_DIR"
  # GOTOOLCHAIN=local: use this Go, never download another toolchain.
  GOBIN="$TOOLS_BIN_DIR" GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go" install -ldflags="$ldflags" "$module@$version" ||
    fail "go install $module@$version failed (the Go module proxy unreachable, or Go too old)"
  built="$("$version_of" "$TOOLS_BIN_DIR/$name" 2>/dev/null || true)"
  [ "$built" = "$want" ] || fail "built $name reports version '$built', not $want"
  command -v "$name" >/dev/null || fail "$name is in $TOOLS_BIN_DIR, which is not on PATH"
  say "installed $name $version at $TOOLS_BIN_DIR/$name"
}
