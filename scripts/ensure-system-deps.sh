#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only where they are missing:
# docker-compose (to check docker-compose.yml), Chromium (browser tests), LibreOffice and CJK fonts
# (document conversion). CI runs on a clean machine, so this must be the project's own step.
set -euo pipefail

need=()
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
# Calc: the tests open the generated .xlsx workbooks in LibreOffice too.
[ -e /usr/lib/libreoffice/program/libscfiltlo.so ] || need+=(libreoffice-calc-nogui)
fc-list :lang=zh 2>/dev/null | grep -qi "noto" || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
