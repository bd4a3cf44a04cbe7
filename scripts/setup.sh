#!/usr/bin/env bash
# Installs everything microlearn needs on a bare Debian/Ubuntu machine: the cross toolchains and
# emulators (skipping packages already present) and the Python package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(gcc g++ clang gcc-avr avr-libc simavr libsimavr-dev libelf-dev gcc-arm-none-eabi libnewlib-arm-none-eabi
      qemu-system-arm arduino-core-avr arduino-mk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
