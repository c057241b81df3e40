#!/usr/bin/env bash
# Jaeger, the trace backend of tests/test_observability.py and of bench/run's traced cells:
# the `jaeger` binary (Jaeger v2, an OpenTelemetry Collector distribution with Jaeger's
# storage and query API) of the Go module github.com/jaegertracing/jaeger at v1.76.0, the
# tag of Jaeger v2.13.0 and the newest whose go.mod (go 1.24.6) Go 1.24 and later accept.
#
# Idempotent: builds the binary only when it is missing or is not that version, and starts
# nothing. The test starts its own Jaeger on free loopback ports (OTLP/HTTP receiver in, query
# API out, in-memory storage) with a config it writes, and stops it; a shared long-running
# Jaeger would mix the traces of concurrent runs. Says what it did; exits non-zero naming what
# is missing or failed.
#
# Why not `go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0`: the module's go.mod
# has a replace directive (Shopify/sarama), which `go install module@version` refuses. So, as
# .ci/services/mongodb.sh does for FerretDB, the module is downloaded through the Go module
# proxy, copied and built there; the version goes in with -ldflags the way Jaeger's Makefile
# (scripts/makefiles/BuildInfo.mk) puts it, so that `jaeger version` can be checked.
#
# Settings (environment):
#   JAEGER_BIN_DIR  where the binary goes  (default: "$(go env GOPATH)/bin", usually ~/go/bin,
#                   where the FerretDB of mongodb.sh is)
set -euo pipefail

readonly MODULE=github.com/jaegertracing/jaeger
readonly MODULE_VERSION=v1.76.0
# The Jaeger v2 release built from that tag (its CHANGELOG: "v1.76.0 / v2.13.0").
readonly VERSION=v2.13.0

SERVICE=jaeger
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

GO=$(go_binary)

BIN_DIR=${JAEGER_BIN_DIR:-}
if [ -z "$BIN_DIR" ]; then
  if [ -n "$GO" ]; then BIN_DIR="$("$GO" env GOPATH | cut -d: -f1)/bin"; else BIN_DIR="$HOME/go/bin"; fi
fi
BIN="$BIN_DIR/jaeger"

# `jaeger version` prints JSON with "gitVersion": "<the -ldflags version>".
has_version() {
  local output
  [ -x "$1" ] && output=$("$1" version 2>/dev/null) && grep -q "\"gitVersion\": *\"$VERSION\"" <<<"$output"
}

if has_version "$BIN"; then
  say "Jaeger $VERSION ($MODULE@$MODULE_VERSION) already installed at $BIN"
  exit 0
fi
if [ -e "$BIN" ]; then
  say "$BIN is not a working Jaeger $VERSION ($("$BIN" version 2>&1 | head -n 3 | tr '\n' ' ' || true)); rebuilding it"
fi
[ -n "$GO" ] || fail "Go is required to build Jaeger $VERSION and was not found on PATH or at /usr/local/go/bin/go (install Go 1.24.6 or later)"
say "building Jaeger $VERSION from $MODULE@$MODULE_VERSION with $("$GO" version) (ten minutes or more on a fresh machine)"
module_dir=$(cd / && GOFLAGS=-mod=mod "$GO" mod download -json "$MODULE@$MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
{ [ -n "$module_dir" ] && [ -d "$module_dir" ]; } || fail "could not download $MODULE@$MODULE_VERSION through the Go module proxy ($("$GO" env GOPROXY))"
build_dir=$(mktemp -d "${TMPDIR:-/tmp}/jaeger-build.XXXXXX")
trap 'rm -rf "$build_dir"' EXIT
cp -R "$module_dir/." "$build_dir/"
chmod -R u+w "$build_dir"
mkdir -p "$BIN_DIR"
# Without the `ui` build tag the query service embeds a placeholder page instead of Jaeger UI's
# built assets (not in the module); the query API the tests read is the same.
build_info="-X $MODULE/internal/version.latestVersion=$VERSION -X $MODULE/internal/version.commitSHA=$MODULE_VERSION"
(cd "$build_dir" && GOFLAGS=-mod=mod "$GO" build -buildvcs=false -trimpath -ldflags "$build_info" -o "$BIN.tmp.$$" ./cmd/jaeger) \
  || { rm -f "$BIN.tmp.$$"; fail "go build of Jaeger $VERSION ($MODULE@$MODULE_VERSION ./cmd/jaeger) failed (see the output above)"; }
mv -f "$BIN.tmp.$$" "$BIN"
has_version "$BIN" || fail "the Jaeger built at $BIN does not report version $VERSION: $("$BIN" version 2>&1 | head -n 3)"
say "installed Jaeger $VERSION at $BIN"
