#!/usr/bin/env bash
# The outside linters of the generated GitHub workflows (tests/test_workflows.py):
# actionlint, built from its Go module at an exact version, and shellcheck from Debian, which
# actionlint runs on every `run:` script. (zizmor, the third, is a PyPI package pinned in
# requirements.txt.)
#
# Idempotent: builds actionlint only when the one on PATH is missing or another version, and
# installs shellcheck only when it is missing. Says what it did; exits non-zero naming what
# is missing or what failed.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
ACTIONLINT_MODULE=github.com/rhysd/actionlint/cmd/actionlint
BIN_DIR=${RAMPART_TOOLS_BIN:-/usr/local/bin}

say() { printf 'workflow-linters: %s\n' "$*"; }
fail() {
  printf 'workflow-linters: FAILED: %s\n' "$*" >&2
  exit 1
}

# 1. shellcheck, from Debian.
if command -v shellcheck >/dev/null; then
  say "shellcheck installed already: $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
else
  [ "$(id -u)" -eq 0 ] || fail "shellcheck is missing, and installing it needs root: apt-get update && apt-get install -y shellcheck"
  command -v apt-get >/dev/null || fail "shellcheck is missing and apt-get is not available: install shellcheck by hand"
  say "shellcheck missing: apt-get install -y shellcheck"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed: Debian's package mirrors are unreachable"
  apt-get install -y -qq shellcheck >/dev/null || fail "apt-get install -y shellcheck failed"
  command -v shellcheck >/dev/null || fail "apt-get installed shellcheck but no shellcheck is on PATH"
  say "installed $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
fi

# 2. actionlint, exactly $ACTIONLINT_VERSION, built with the local Go toolchain.
installed_actionlint() {
  local binary
  binary="$(command -v actionlint || true)"
  [ -n "$binary" ] || binary="$BIN_DIR/actionlint"
  [ -x "$binary" ] && "$binary" -version 2>/dev/null | head -n 1
}

if [ "$(installed_actionlint || true)" = "$ACTIONLINT_VERSION" ]; then
  say "actionlint $ACTIONLINT_VERSION installed already"
else
  go_binary="$(command -v go || true)"
  # Go's official archive installs here without touching PATH.
  if [ -z "$go_binary" ] && [ -x /usr/local/go/bin/go ]; then go_binary=/usr/local/go/bin/go; fi
  [ -n "$go_binary" ] || fail "actionlint $ACTIONLINT_VERSION is missing and building it needs Go (1.24 or newer), which is not installed; or put actionlint $ACTIONLINT_VERSION on PATH"
  mkdir -p "$BIN_DIR" || fail "cannot create $BIN_DIR (set RAMPART_TOOLS_BIN to a directory on PATH)"
  say "building actionlint $ACTIONLINT_VERSION with $("$go_binary" version) into $BIN_DIR"
  # GOTOOLCHAIN=local: use this Go, never download another toolchain.
  GOBIN="$BIN_DIR" GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go_binary" install "$ACTIONLINT_MODULE@$ACTIONLINT_VERSION" ||
    fail "go install $ACTIONLINT_MODULE@$ACTIONLINT_VERSION failed (the Go module proxy unreachable, or Go too old)"
  built="$("$BIN_DIR/actionlint" -version | head -n 1)"
  [ "$built" = "$ACTIONLINT_VERSION" ] || fail "built actionlint reports version '$built', not $ACTIONLINT_VERSION"
  command -v actionlint >/dev/null || fail "actionlint is in $BIN_DIR, which is not on PATH"
  say "installed actionlint $ACTIONLINT_VERSION at $BIN_DIR/actionlint"
fi

say "ready: actionlint $ACTIONLINT_VERSION, $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
