#!/usr/bin/env bash
# Installs everything microlearn needs on a bare Debian/Ubuntu machine: the cross toolchains and
# emulators (skipping packages already present) and the Python package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(gcc g++ clang gcc-avr avr-libc simavr libsimavr-dev libelf-dev gcc-arm-none-eabi libnewlib-arm-none-eabi
      qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc gcc-xtensa-lx106
      picolibc-xtensa-lx106-elf arduino-core-avr arduino-mk avrdude)
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

# clang's sanitizer runtime (the runtime's fuzz tests run under ASan/UBSan with gcc and clang) comes in a
# package named after clang's major version: libclang-rt-14-dev on Debian 12.
clang_major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
if [ -n "$clang_major" ] && ! dpkg-query -W -f='${Status}' "libclang-rt-$clang_major-dev" 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing libclang-rt-$clang_major-dev"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "libclang-rt-$clang_major-dev" >/dev/null \
    || echo "setup: libclang-rt-$clang_major-dev not available: clang's sanitizer tests will be skipped"
fi

# test: pytest; sweep: Dask (microlearn sweep/fleet/bench and their tests start a scheduler and workers), pyarrow
python3 -m pip install -q --disable-pip-version-check -e ".[test,sweep]"
