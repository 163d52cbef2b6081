#!/usr/bin/env bash
# Debian packages the tests and the demo need: ffmpeg/ffprobe (plugin-validate, the demo), espeak-ng (real
# speech), fonts-dejavu-core (the font of the demo's scene cards and burned-in subtitles), prometheus and
# prometheus-alertmanager (integration tests), chromium (the dashboard's browser tests, driven by playwright-core:
# never a browser download), redis-server (the shared-state stores' tests start their own on 127.0.0.1). Installs only what is missing, through
# apt-get (as root, or with sudo). Where it cannot install, it says what is missing and how to install it, and
# exits 0 so the tests that need a missing binary skip with a reason; with TAPLINE_REQUIRE_INTEGRATION=1 (CI)
# a missing package is an error.
set -uo pipefail
need=()
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || need+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
fi
if [ "$SUDO" != "none" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}" >&2
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    exit 0
  fi
fi
echo "missing Debian packages: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
echo "(the tests that need them will skip; the demo needs ffmpeg)" >&2
[ "${TAPLINE_REQUIRE_INTEGRATION:-}" = "1" ] && exit 1
exit 0
