#!/usr/bin/env bash
# Installs the Debian packages Kinderflow needs, only where they are missing.
#
#   ensure-system-deps.sh run   what the running service needs: CJK fonts (seals, stamps, documents),
#                               LibreOffice Writer (PDF copies of agreements, certificates) and
#                               SoftHSM2 (the PKCS#11 token that holds the signing keys).
#                               If they cannot be installed (no root, no registry), it warns and
#                               succeeds: the service starts, and each feature that needs a missing
#                               package answers a Chinese error naming it.
#   ensure-system-deps.sh test  the above, plus what the tests use: Chromium (browser tests),
#                               LibreOffice Calc (workbooks are opened in it), poppler-utils (PDF to
#                               PNG), docker-compose (to check docker-compose.yml). Failure fails.
#
# CI and a new machine start with none of these, so installing them is the project's own step.
set -euo pipefail
profile="${1:-run}"

need=()
fc-list :lang=zh 2>/dev/null | grep -qi "noto" || need+=(fonts-noto-cjk)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
if [ "$profile" = "test" ]; then
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  [ -x /usr/lib/chromium/chromium ] || need+=(chromium)
  [ -e /usr/lib/libreoffice/program/libscfiltlo.so ] || need+=(libreoffice-calc-nogui)
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages (安装系统软件包): ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="missing"; fi
fi
install() {
  [ "$SUDO" != "missing" ] || return 1
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
}
if ! install; then
  if [ "$profile" = "test" ]; then
    echo "Could not install: ${need[*]}" >&2
    exit 1
  fi
  echo "警告：未能安装 ${need[*]}。服务照常启动，需要这些软件包的功能会提示缺少哪个软件包。" >&2
fi
exit 0
