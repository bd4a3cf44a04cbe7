"""RISC-V boards: riscv64-unknown-elf-gcc + picolibc, run under qemu-system-riscv32's virt machine.

The same contract as the Cortex-M boards (cortexm.py), whose runner this target reuses: the same
semihosting file protocol (support/riscv/mlrn_target.c), the same instruction-counting TCG plugin
(support/cortexm/count_plugin.c, which is architecture-neutral), the same sandbox and bounds. What
differs: the compiler and C library, the start-up code and linker script (support/riscv/), and how a
run ends: through the virt machine's SiFive test finisher (qemu 7.2 does not end on a RISC-V
semihosting exit). Time = instructions / clock is an ESTIMATE (one instruction per cycle).

The program is linked at 0x80000000 (where -bios none starts the hart, in machine mode) with the
board's real flash size, its SRAM right after; start-up locks PMP entries over exactly those two
regions, so stores past SRAM or into flash fault as on the part. An RV32E board runs on qemu's rv32
CPU with E instead of I (`-cpu rv32,e=true,i=false`): see the board's notes for what qemu 7.2 checks.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from . import _toolchain as tc
from .base import SUPPORT_DIR, Build
from .cortexm import CortexMTarget, _markers
from .errors import TargetError
from .sandbox import DEFAULT_MAX_OUTPUT

RV_SUPPORT = SUPPORT_DIR / "riscv"
_INSTALL = ("install the RISC-V toolchain and qemu (apt-get install gcc-riscv64-unknown-elf "
            "picolibc-riscv64-unknown-elf qemu-system-misc)")
# Start-up and stack paint/scan loops must not become memset/memcpy calls (see startup.c).
_SUPPORT_FLAGS = ("-fno-tree-loop-distribute-patterns",)
_SUPPORT_SOURCES = ("startup.c", "mlrn_target.c")
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

    def __init__(self, board, *, cc: str = "riscv64-unknown-elf-gcc", size: str = "riscv64-unknown-elf-size",
                 nm: str = "riscv64-unknown-elf-nm", qemu: str = "qemu-system-riscv32", host_cc: str = "cc",
                 stack_reserve_bytes: int | None = None, max_instructions: int | None = None,
                 max_output: int = DEFAULT_MAX_OUTPUT):
        """As CortexMTarget: `max_instructions` (default 10 minutes' worth at the board's clock) and
        `max_output` bound a run."""
        super().__init__(board, cc=cc, size=size, nm=nm, qemu=qemu, host_cc=host_cc,
                         stack_reserve_bytes=stack_reserve_bytes, max_instructions=max_instructions,
                         max_output=max_output)

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

    def _linker_script(self, workdir: Path) -> Path:
        b = self.board
        text = (RV_SUPPORT / "link.ld.in").read_text()
        for key, value in {"FLASH_ORIGIN": hex(b.flash_origin), "FLASH_BYTES": str(b.flash_bytes),
                           "RAM_ORIGIN": hex(b.ram_origin), "RAM_BYTES": str(b.sram_bytes),
                           "STACK_RESERVE": str(self.stack_reserve)}.items():
            text = text.replace(f"@{key}@", value)
        path = workdir / "link.ld"
        path.write_text(text)
        return path

    def build(self, sources: Sequence[Path], workdir: Path, *, include_dirs: Sequence[Path] = (),
              defines: Mapping[str, str | int] | None = None, cflags: Sequence[str] = (),
              language: str = "c") -> Build:
        b = self.board
        workdir, elf, common = tc.start_cross_build(self, workdir)
        objs = []
        for src in _SUPPORT_SOURCES:
            obj = workdir / f"mlrn_{Path(src).stem}.o"
            proc = subprocess.run([*common, *_SUPPORT_FLAGS, "-std=c99", "--specs=picolibc.specs", "-I",
                                   str(RV_SUPPORT), "-c", str(RV_SUPPORT / src), "-o", str(obj)],
                                  capture_output=True, text=True)
            tc.check_link(proc, b, {}, self.stack_reserve)
            objs.append(str(obj))
        std = [f for f in cflags if f.startswith("-std=")]
        src_args = tc.source_args(sources, language)
        if std:
            src_args = [std[-1] if a.startswith("-std=") else a for a in src_args]
        # picolibc (libc, libm, libgcc's soft float) for the board's multilib; our start-up, no crt0.
        cmd = [*common, *[f"-I{d}" for d in include_dirs], *tc.define_flags(defines),
               *[f for f in cflags if not f.startswith("-std=")], "--specs=picolibc.specs", *src_args, *objs,
               "-nostartfiles", "-T", str(self._linker_script(workdir)), "-Wl,--gc-sections", "-o", str(elf),
               "-lm", *self._libgcc()]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        tc.check_link(proc, b, {"FLASH": ("flash", b.flash_origin + b.flash_bytes),
                                "RAM": ("sram", b.ram_origin + b.sram_bytes)}, self.stack_reserve)
        sections = tc.section_sizes(self.size, elf)
        flash, ram = tc.memory_use(sections, flash=(".text", ".data"), ram=(".data", ".bss"))
        sizes, addrs = tc.symbols(self.nm, elf)
        build = Build(target=self.name, path=elf, flash_bytes=flash, static_ram_bytes=ram, symbol_sizes=sizes,
                      log=proc.stdout + proc.stderr)
        build.marker_addrs = _markers(addrs)
        return build

    def qemu_command(self, build: Build, report_fd: int | None = None, *, uart: Path | None = None) -> list[str]:
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
                *self.plugin_args(build, report_fd)]
