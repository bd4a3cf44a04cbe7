"""The ESP8266 (Xtensa lx106): Debian's xtensa-lx106-elf-gcc, run under qemu-system-xtensa's sim machine.

The same contract as the Cortex-M boards (cortexm.py), whose runner this target reuses: the same file
protocol over semihosting (here the sim machine's `simcall`, support/xtensa/mlrn_target.c), the same
instruction-counting TCG plugin (support/cortexm/count_plugin.c, architecture-neutral), the same sandbox and
bounds. The C library is Debian's picolibc for the lx106; Debian's lx106 libgcc lacks the soft-float add,
subtract and multiply, integer division and more: support/xtensa/ brings start-up, I/O and those libgcc
routines (mlrn_xt_libgcc.c, checked against IEEE arithmetic by tests/targets/test_xtensa.py).
Time = estimated cycles / clock, an ESTIMATE: cycle_model.XT_CORES costs each executed instruction by the figures
people measured on the ESP8266 with its cycle counter (no maker publishes the lx106's timings), through the same
cost table and plugin as the other qemu boards (docs/targets.md "ESP8266 cycle estimates").
"""
from __future__ import annotations

from pathlib import Path

from .base import SUPPORT_DIR, Build
from .cortexm import CortexMTarget
from .errors import TargetError, TargetUnavailable

XT_SUPPORT = SUPPORT_DIR / "xtensa"
# Debian's picolibc-xtensa-lx106-elf puts its specs outside gcc's search path: named by full path.
PICOLIBC_SPECS = Path("/usr/lib/xtensa-lx106-elf/picolibc.specs")
_INSTALL = ("install the lx106 toolchain and qemu (apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf "
            "qemu-system-misc)")


class XtensaTarget(CortexMTarget):
    kind = "xtensa"
    install_hint = _INSTALL
    support_dir = XT_SUPPORT
    support_sources = ("startup.c", "mlrn_target.c", "mlrn_xt_libgcc.c")

    tools = {"cc": "xtensa-lx106-elf-gcc", "size": "xtensa-lx106-elf-size", "nm": "xtensa-lx106-elf-nm",
             "qemu": "qemu-system-xtensa"}

    def check(self) -> None:
        super().check()
        if not PICOLIBC_SPECS.is_file():
            raise TargetUnavailable(f"{self.name}: {PICOLIBC_SPECS} not found: {self.install_hint}")

    def _libc_compile_flags(self) -> list[str]:
        # picolibc (Debian's picolibc-xtensa-lx106-elf): headers, libc and libm; our start-up, no crt0.
        return [f"--specs={PICOLIBC_SPECS}"]

    def _libc_link_flags(self) -> list[str]:
        return []

    def _link_libs(self) -> list[str]:
        return ["-lm"]

    def qemu_command(self, build: Build, report_fd: int | None = None, *, uart: Path | None = None,
                     costs: Path | None = None) -> list[str]:
        """The qemu command line (as CortexMTarget.qemu_command; no UART)."""
        if uart is not None:
            raise TargetError(f"{self.name}: runs over the UART are not supported on the ESP8266")
        b = self.board
        # The sim machine serves semihosting (simcall) only with -semihosting; -sandbox, -nodefaults,
        # -net none, no monitor or serial port: as on the other qemu boards.
        return [self.qemu, "-M", b.machine, *b.machine_args, "-nographic", "-monitor", "none",
                "-serial", "none", "-nodefaults", "-net", "none",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                "-semihosting-config", "enable=on,target=native", "-kernel", str(Path(build.path).resolve()),
                *self.plugin_args(build, report_fd, costs)]
