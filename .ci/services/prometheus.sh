#!/usr/bin/env bash
# Prometheus for tests/test_observability.py: Debian's `prometheus` package, for its binary.
#
# Idempotent: installs the package only when the prometheus binary is missing, and starts
# nothing. The test runs its own Prometheus process on a free loopback port, with a temporary
# config that scrapes only the generated API's metrics listener and a temporary storage
# directory, and stops it. Debian's own prometheus service (which would scrape localhost:9090
# and the node exporter, and keep a database in /var/lib/prometheus) is kept from starting at
# install, and stopped and disabled if it runs. Says what it did; exits non-zero naming what is
# missing or failed.
set -euo pipefail

SERVICE=prometheus
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

version() { prometheus --version 2>&1 | head -n 1; }

# 1. The package.
if command -v prometheus >/dev/null; then
  say "installed already: $(version)"
else
  # Keep the package's service from starting during the install: a policy-rc.d that refuses
  # every start (https://people.debian.org/~hmh/invokerc.d-policyrc.d-specification.txt),
  # only when the machine has none of its own (containers usually do), and removed after.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\n# written by .ci/services/prometheus.sh for the install only\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  # --no-install-recommends: the recommended prometheus-node-exporter is a service of its own.
  apt_install --no-install-recommends prometheus
  command -v prometheus >/dev/null || fail "apt-get installed prometheus but no prometheus is on PATH"
  say "installed $(version)"
fi

# 2. Debian's own service: not running, not started at boot. The test's Prometheus needs none.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  if systemctl is-active --quiet prometheus 2>/dev/null || systemctl is-enabled --quiet prometheus 2>/dev/null; then
    say "stopping and disabling Debian's prometheus service (systemctl disable --now prometheus)"
    systemctl disable --now prometheus >/dev/null 2>&1 || fail "systemctl disable --now prometheus failed"
  fi
elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
  say "stopping Debian's prometheus service (/etc/init.d/prometheus stop) and its start at boot"
  /etc/init.d/prometheus stop >/dev/null 2>&1 || fail "/etc/init.d/prometheus stop failed"
  if command -v update-rc.d >/dev/null; then update-rc.d prometheus disable >/dev/null 2>&1 || true; fi
fi

say "ready: $(command -v prometheus) ($(version)); the tests start their own on a free loopback port"
