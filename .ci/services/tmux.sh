#!/usr/bin/env bash
# tmux, the real terminal tests/test_prompts.py answers Copier's questions in (80 columns).
# Not a server: the test starts its own tmux server on a socket of its own and stops it.
# Idempotent: installs Debian's tmux only when it is missing (that needs root).
set -euo pipefail

SERVICE=tmux
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

if command -v tmux >/dev/null; then
  say "present: $(tmux -V)"
  exit 0
fi
apt_install tmux
command -v tmux >/dev/null || fail "apt-get installed tmux but no tmux is on PATH"
say "installed: $(tmux -V)"
