#!/usr/bin/env bash
# The tools that check generated projects' Kubernetes manifests (tests/test_kubernetes.py),
# none of which needs a cluster: kustomize renders each base, kube-score reviews it, both built
# from their Go modules at exact versions; the schemas come from kubernetes-validate, a PyPI
# package pinned in requirements-test.txt.
#
# Idempotent: builds a tool only when the one on PATH is missing or another version. Says what
# it did; exits non-zero naming what is missing or what failed.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.2
KUSTOMIZE_MODULE=sigs.k8s.io/kustomize/kustomize/v5
KUBE_SCORE_VERSION=v1.20.0
KUBE_SCORE_MODULE=github.com/zegl/kube-score/cmd/kube-score
BIN_DIR=${RAMPART_TOOLS_BIN:-/usr/local/bin}

say() { printf 'kubernetes-tools: %s\n' "$*"; }
fail() {
  printf 'kubernetes-tools: FAILED: %s\n' "$*" >&2
  exit 1
}

# The version a tool on PATH (or in BIN_DIR) reports, or nothing.
installed_version() {
  local name=$1 binary
  binary="$(command -v "$name" || true)"
  [ -n "$binary" ] || binary="$BIN_DIR/$name"
  [ -x "$binary" ] || return 0
  case "$name" in
    kustomize) "$binary" version 2>/dev/null | head -n 1 ;;
    kube-score) "$binary" version 2>/dev/null | sed -n 's/^kube-score version: \([^,]*\),.*/\1/p' | head -n 1 ;;
  esac
}

build() {
  local name=$1 module=$2 version=$3 want=$4 ldflags=${5:-} go_binary built
  if [ "$(installed_version "$name")" = "$want" ]; then
    say "$name $version installed already"
    return
  fi
  go_binary="$(command -v go || true)"
  # Go's official archive installs here without touching PATH.
  if [ -z "$go_binary" ] && [ -x /usr/local/go/bin/go ]; then go_binary=/usr/local/go/bin/go; fi
  [ -n "$go_binary" ] || fail "$name $version is missing and building it needs Go (1.24 or newer), which is not installed; or put $name $version on PATH"
  mkdir -p "$BIN_DIR" || fail "cannot create $BIN_DIR (set RAMPART_TOOLS_BIN to a directory on PATH)"
  say "building $name $version with $("$go_binary" version) into $BIN_DIR"
  # GOTOOLCHAIN=local: use this Go, never download another toolchain.
  GOBIN="$BIN_DIR" GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go_binary" install -ldflags="$ldflags" "$module@$version" ||
    fail "go install $module@$version failed (the Go module proxy unreachable, or Go too old)"
  built="$(installed_version "$name")"
  [ "$built" = "$want" ] || fail "built $name reports version '$built', not $want"
  command -v "$name" >/dev/null || fail "$name is in $BIN_DIR, which is not on PATH"
  say "installed $name $version at $BIN_DIR/$name"
}

build kustomize "$KUSTOMIZE_MODULE" "$KUSTOMIZE_VERSION" "$KUSTOMIZE_VERSION"
# kube-score's release tooling stamps its version into the binary; `go install` leaves
# "development" unless told, and the version check above needs it.
build kube-score "$KUBE_SCORE_MODULE" "$KUBE_SCORE_VERSION" "${KUBE_SCORE_VERSION#v}" "-X main.version=${KUBE_SCORE_VERSION#v}"
say "ready: kustomize $KUSTOMIZE_VERSION, kube-score $KUBE_SCORE_VERSION"
