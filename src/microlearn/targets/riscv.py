"""RISC-V boards: riscv64-unknown-elf-gcc + picolibc, run under qemu-system-riscv32's virt machine.

The same contract as the Cortex-M boards (cortexm.py), whose runner this target reuses: the same
semihosting file protocol (support/riscv/mlrn_target.c), the same instruction-counting TCG plugin
(support/cortexm/count_plugin.c, which is architecture-neutral), the same sandbox and bounds. What
differs: the compiler and C library, the start-up code and linker script (support/riscv/), and how a
run ends: through the virt machine's SiFive test finisher (qemu 7.2 does not end on a RISC-V
semihosting exit). Time = estimated cycles / clock, an ESTIMATE: cycle_model.RV_CORES costs each executed
instruction from third parties' measurements on the silicon and the documented pipeline (no maker publishes
per-instruction timings for these cores; docs/targets.md "RISC-V cycle estimates"), through the same cost
table the plugin reads on Cortex-M.

The program is linked at 0x80000000 (where -bios none starts the hart, in machine mode) with the
board's real flash size, its SRAM right after; start-up locks PMP entries over exactly those two
regions, so stores past SRAM or into flash fault as on the part. An RV32E board runs on qemu's rv32
CPU with E instead of I (`-cpu rv32,e=true,i=false`): see the board's notes for what qemu 7.2 checks.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from .base import SUPPORT_DIR, Build
from .cortexm import CortexMTarget
from .errors import TargetError

RV_SUPPORT = SUPPORT_DIR / "riscv"
_INSTALL = ("install the RISC-V toolchain and qemu (apt-get install gcc-riscv64-unknown-elf "
            "picolibc-riscv64-unknown-elf qemu-system-misc)")
# Debian's gcc and picolibc have no multilib with C for these boards' -march (rv32imc links rv32im's
# libraries, rv32ec rv32e's: uncompressed code), so libgcc, which holds the soft float (most of a float
# program's library code), comes from the nearest compressed multilib: the same extensions plus A. Its
# float routines hold no A instruction (only its __sync/__atomic helpers do, which nothing here calls,
# and qemu runs these boards without A: one would fault). 1.7 KB less on the CH32V003's 16 KB; vendors'
# toolchains ship rv32ec/rv32imc libraries, so this is also closer to a real build.
_COMPRESSED_LIBGCC = {"rv32imc": "rv32imac", "rv32ec": "rv32eac"}
_LIBGCC: dict[tuple, str] = {}   # (compiler, flags) -> libgcc.a path, asked once per process


class RiscVTarget(CortexMTarget):
    kind = "riscv"
    install_hint = _INSTALL

    tools = {"cc": "riscv64-unknown-elf-gcc", "size": "riscv64-unknown-elf-size", "nm": "riscv64-unknown-elf-nm",
             "qemu": "qemu-system-riscv32"}

    def _libgcc(self) -> list[str]:
        """The compressed multilib's libgcc.a for this board's -march ([] when gcc's own choice is kept)."""
        flags = list(self.board.cflags)
        march = next((f for f in flags if f.startswith("-march=")), "")[len("-march="):]
        if march not in _COMPRESSED_LIBGCC:
            return []
        flags[flags.index(f"-march={march}")] = f"-march={_COMPRESSED_LIBGCC[march]}"
        key = (self.cc, tuple(flags))
        if key not in _LIBGCC:
            out = subprocess.run([self.cc, *flags, "-print-libgcc-file-name"], capture_output=True, text=True)
            path = out.stdout.strip()
            if out.returncode != 0 or not Path(path).is_file():
                raise TargetError(f"{self.name}: {self.cc} has no libgcc for {' '.join(flags)}")
            _LIBGCC[key] = path
        return [_LIBGCC[key]]

    support_dir = RV_SUPPORT

    def _libc_compile_flags(self) -> list[str]:
        # picolibc (libc, libm, libgcc's soft float) for the board's multilib; our start-up, no crt0.
        return ["--specs=picolibc.specs"]

    def _libc_link_flags(self) -> list[str]:
        return []

    def _link_libs(self) -> list[str]:
        return ["-lm", *self._libgcc()]

    def qemu_command(self, build: Build, report_fd: int | None = None, *, uart: Path | None = None,
                     costs: Path | None = None) -> list[str]:
        """The qemu command line (as CortexMTarget.qemu_command; no UART: the virt machine's 16550 has no
        driver here, so `uart` is refused)."""
        if uart is not None:
            raise TargetError(f"{self.name}: runs over the UART are not supported on the RISC-V boards")
        b = self.board
        # -bios none: no OpenSBI; qemu's reset code jumps to the ELF at 0x80000000 in machine mode.
        # -sandbox, -nodefaults, -net none, no monitor or serial port: as on the Cortex-M boards.
        return [self.qemu, "-M", b.machine, *b.machine_args, "-bios", "none", "-nographic", "-monitor", "none",
                "-serial", "none", "-nodefaults", "-net", "none",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                "-semihosting-config", "enable=on,target=native", "-kernel", str(Path(build.path).resolve()),
                *self.plugin_args(build, report_fd, costs)]
