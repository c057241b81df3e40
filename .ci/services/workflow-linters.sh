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
SERVICE=workflow-linters
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

shellcheck_version() { shellcheck --version | sed -n 's/^version: /shellcheck /p'; }
actionlint_version() { "$1" -version | head -n 1; }

# 1. shellcheck, from Debian.
if command -v shellcheck >/dev/null; then
  say "shellcheck installed already: $(shellcheck_version)"
else
  apt_install shellcheck
  command -v shellcheck >/dev/null || fail "apt-get installed shellcheck but no shellcheck is on PATH"
  say "installed $(shellcheck_version)"
fi

# 2. actionlint, exactly $ACTIONLINT_VERSION, built with the local Go toolchain.
go_install_tool actionlint "$ACTIONLINT_MODULE" "$ACTIONLINT_VERSION" "$ACTIONLINT_VERSION" actionlint_version

say "ready: actionlint $ACTIONLINT_VERSION, $(shellcheck_version)"
