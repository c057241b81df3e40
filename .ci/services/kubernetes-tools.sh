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
SERVICE=kubernetes-tools
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

kustomize_version() { "$1" version | head -n 1; }
kube_score_version() { "$1" version | sed -n 's/^kube-score version: \([^,]*\),.*/\1/p' | head -n 1; }

go_install_tool kustomize "$KUSTOMIZE_MODULE" "$KUSTOMIZE_VERSION" "$KUSTOMIZE_VERSION" kustomize_version
# kube-score's release tooling stamps its version into the binary; `go install` leaves
# "development" unless told, and go_install_tool's version check needs it.
go_install_tool kube-score "$KUBE_SCORE_MODULE" "$KUBE_SCORE_VERSION" "${KUBE_SCORE_VERSION#v}" kube_score_version "-X main.version=${KUBE_SCORE_VERSION#v}"
say "ready: kustomize $KUSTOMIZE_VERSION, kube-score $KUBE_SCORE_VERSION"
