#!/usr/bin/env bash
# tmux, the real terminal tests/test_prompts.py answers Copier's questions in (80 columns).
# Not a server: the test starts its own tmux server on a socket of its own and stops it.
# Idempotent: installs Debian's tmux only when it is missing (that needs root).
set -euo pipefail

say() { printf 'tmux: %s\n' "$*"; }
fail() { printf 'tmux: FAILED: %s\n' "$*" >&2; exit 1; }

if command -v tmux >/dev/null; then
  say "present: $(tmux -V)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "tmux is not installed, and installing it needs root: apt-get update && apt-get install -y tmux"
command -v apt-get >/dev/null || fail "tmux is not installed and apt-get is missing: install tmux by hand"
say "not installed: apt-get update && apt-get install -y tmux"
apt-get update -qq || fail "apt-get update failed: Debian's package mirrors are unreachable"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null || fail "apt-get install -y tmux failed"
say "installed: $(tmux -V)"
