"""AVR boards (ATmega328P, ATmega2560): avr-gcc, run under simavr with exact cycle counts.

The run uses a small libsimavr host program (support/avr/simavr_runner.c), built once
with the host compiler and cached, that feeds the input through USART0, collects the
output, reads the cycle counter at the GPIOR1 markers and tracks the lowest SP.
"""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Sequence

from . import _toolchain as tc
from .base import SUPPORT_DIR, Build, RunResult, Target
from .errors import RunError, RunTimeout, TargetUnavailable
from .sandbox import DEFAULT_MAX_OUTPUT, run_confined
from .simavr_quirks import misexecuted_skips

AVR_SUPPORT = SUPPORT_DIR / "avr"
_INSTALL = "install the AVR toolchain and simulator (apt-get install gcc-avr avr-libc simavr libsimavr-dev)"
_RUNNER_MEMORY = 1 << 30   # address space of the simavr runner (it needs a few MB)


class AvrTarget(Target):
    kind = "avr"

    def __init__(self, board, *, cc: str = "avr-gcc", size: str = "avr-size", nm: str = "avr-nm",
                 objdump: str = "avr-objdump",
                 host_cc: str = "cc", max_cycles: int | None = None, stack_reserve_bytes: int | None = None,
                 max_output: int = DEFAULT_MAX_OUTPUT):
        """`max_cycles`: the simulation stops (RunTimeout) after this many cycles; default 10 minutes
        of the board's clock. `stack_reserve_bytes` overrides the board's reserve."""
        self.board = board
        self.name = board.name
        self.max_output = max_output
        self.cc, self.size, self.nm, self.host_cc = cc, size, nm, host_cc
        self.objdump = objdump
        self.max_cycles = max_cycles if max_cycles is not None else 600 * board.clock_hz
        self.stack_reserve = board.stack_reserve_bytes if stack_reserve_bytes is None else stack_reserve_bytes

    def check(self) -> None:
        for tool in (self.cc, self.size, self.nm):
            tc.require_tool(tool, _INSTALL)
        if not Path("/usr/include/simavr/sim_avr.h").exists():
            raise TargetUnavailable(f"simavr headers not found: {_INSTALL}")

    def runner(self) -> Path:
        """The cached simavr runner executable (built on first use)."""
        return tc.cached_host_binary(AVR_SUPPORT / "simavr_runner.c", "simavr_runner", ["-lsimavr"], cc=self.host_cc,
                                     depends=[AVR_SUPPORT / "mlrn_untrusted_elf.h", AVR_SUPPORT / "mlrn_mmcu_check.h",
                                              SUPPORT_DIR / "sandbox" / "mlrn_landlock.h"])

    def build(self, sources: Sequence[Path], workdir: Path, *, include_dirs: Sequence[Path] = (),
              defines: Mapping[str, str | int] | None = None, cflags: Sequence[str] = (),
              language: str = "c") -> Build:
        b = self.board
        workdir, elf, common = tc.start_cross_build(self, workdir)
        ram_budget = b.sram_bytes - self.stack_reserve
        data_origin = 0x800000 + b.ram_origin  # avr-ld's address space: data lives at 0x800000 + address
        regions = {"text": ("flash", b.flash_bytes), "data": ("sram", data_origin + ram_budget)}
        # The support code is compiled on its own, as C, whatever the language of the user's sources.
        support = workdir / "mlrn_target.o"
        proc = subprocess.run([*common, "-std=c99", "-c", str(AVR_SUPPORT / "mlrn_target.c"), "-o", str(support)],
                              capture_output=True, text=True)
        tc.check_link(proc, b, regions, self.stack_reserve)
        def link(out: Path, flash: int, ram: int) -> subprocess.CompletedProcess:
            cmd = [*common, *[f"-I{d}" for d in include_dirs], *tc.define_flags(defines), *cflags,
                   *tc.source_args(sources, language), str(support),
                   # The linker does not know the part's sizes: give it the board's, minus the stack
                   # reserve, and the real start of SRAM (the generic script assumes 0x60).
                   f"-Wl,--gc-sections,--defsym=__TEXT_REGION_LENGTH__={flash},"
                   f"--defsym=__DATA_REGION_ORIGIN__={data_origin:#x},--defsym=__DATA_REGION_LENGTH__={ram}",
                   "-o", str(out), "-lm"]
            return subprocess.run(cmd, capture_output=True, text=True)

        def measure_over(kind: str) -> int:
            # avr-ld says "will not fit" without a count: link once more without limits and measure.
            unbounded = workdir / "unbounded.elf"
            if link(unbounded, 0x400000, 0xFFFF).returncode != 0:
                return 0
            flash, ram = tc.memory_use(tc.section_sizes(self.size, unbounded), flash=(".text", ".data"),
                                       ram=(".data", ".bss", ".noinit"))
            return flash - b.flash_bytes if kind == "flash" else ram - ram_budget

        proc = link(elf, b.flash_bytes, ram_budget)
        tc.check_link(proc, b, regions, self.stack_reserve, measure_over)
        sections = tc.section_sizes(self.size, elf)
        flash, ram = tc.memory_use(sections, flash=(".text", ".data"), ram=(".data", ".bss", ".noinit"))
        sizes, addrs = tc.symbols(self.nm, elf)
        build = Build(target=self.name, path=elf, flash_bytes=flash, static_ram_bytes=ram, symbol_sizes=sizes,
                      log=proc.stdout + proc.stderr)
        build.exit_loop_addr = addrs.get("__stop_program")  # avr-libc's "cli; rjmp ." after main returns
        return build

    def run(self, build: Build, input_bytes: bytes = b"", timeout: float = 120.0) -> RunResult:
        runner = self.runner()
        wrong = misexecuted_skips(build.path, self.objdump)
        if wrong:
            raise RunError(f"{self.name}: simavr would run this program wrongly: a skip over adiw/sbiw at "
                           f"0x{', 0x'.join(wrong[:4])} (simavr 1.6 skips two words there, a real AVR one; see "
                           f"microlearn.targets.simavr_quirks); the program is not run, its results would be "
                           f"false. Unsigned arithmetic or another constant avoids the sequence.")
        with tempfile.TemporaryDirectory(prefix="mlrn-avr-") as tmp:
            infile = Path(tmp) / "input.bin"
            infile.write_bytes(input_bytes)
            elf = Path(build.path).resolve()
            exit_loop = getattr(build, "exit_loop_addr", None)
            if exit_loop is None:
                exit_loop = tc.symbols(self.nm, build.path)[1].get("__stop_program")
            cmd = [str(runner), self.board.machine, str(self.board.clock_hz), str(self.max_cycles), str(elf),
                   str(infile), hex(exit_loop) if exit_loop is not None else "-", str(self.max_output)]
            start = time.monotonic()
            try:
                # The runner reads the firmware and the input and writes nothing but its output (it also
                # confines itself to reading the firmware once it has the input: simavr_runner.c).
                proc = run_confined(cmd, cwd=tmp, read=[runner, elf, infile], write=[tmp], timeout=timeout,
                                    max_output=self.max_output, max_memory=_RUNNER_MEMORY, cc=self.host_cc)
            except subprocess.TimeoutExpired as exc:
                raise RunTimeout(f"{self.name}: simulation did not finish within {timeout:g} s (wall clock) "
                                 "and was killed", "") from exc
            wall = time.monotonic() - start
        output = proc.stdout.decode("utf-8", "replace")
        report = _parse_report(proc.stderr.decode("utf-8", "replace"))
        if proc.output_over or (report is not None and report["status"] == "output_limit"):
            raise RunError(f"{self.name}: the program wrote more than {self.max_output:,} bytes of output and "
                           "was stopped", output)
        refused = next((ln for ln in proc.stderr.decode("utf-8", "replace").splitlines()
                        if ln.startswith("simavr_runner: firmware refused: ")), None)
        if refused:
            raise RunError(f"{self.name}: the ELF file was refused: {refused.split(': ', 2)[2]} (simavr would "
                           "overflow its buffers reading it)", output)
        if proc.returncode != 0 or report is None:
            raise RunError(f"{self.name}: simavr runner failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()[-300:]}", output)
        status, code = report["status"], int(report["exit_code"])
        if status == "cycle_limit":
            raise RunTimeout(f"{self.name}: program still running after {self.max_cycles} cycles "
                             f"({self.max_cycles / self.board.clock_hz:g} s at {self.board.clock_hz / 1e6:g} MHz); "
                             "stopped", output)
        stack = int(report["stack_bytes"])
        static = build.static_ram_bytes or 0
        overflow = static + stack > self.board.sram_bytes
        if status == "crash":
            raise RunError(f"{self.name}: program crashed in simavr (bad opcode or address) at pc={report['pc']}"
                           + (f"; the stack had grown to {stack} bytes over {static} bytes of static data: "
                              "stack overflow" if overflow else ""), output)
        # exit_code -1 with status "exit": the program put itself to sleep with interrupts off without
        # writing a code (mlrn_target_exit always writes one; an Arduino sketch that is done just sleeps).
        if code != 0 and not (status == "exit" and code == -1):
            raise RunError(f"{self.name}: program exited with code {code}", output)
        if overflow:
            raise RunError(f"{self.name}: the stack ({stack} bytes) ran into static data ({static} bytes): "
                           f"together over the {self.board.sram_bytes}-byte SRAM", output)
        cycles = int(report["cycles"])
        cycles = cycles if cycles >= 0 else None
        return RunResult(output=output, exit_code=code, cycles=cycles,
                         seconds=cycles / self.board.clock_hz if cycles is not None else None,
                         seconds_kind="exact" if cycles is not None else None, stack_bytes=stack,
                         extra={"total_cycles": int(report["total_cycles"]), "exit": status,
                                **_marked(report),
                                "sram_used_bytes": static + stack,
                                "wall_seconds": wall})


def _marked(report: Mapping[str, str]) -> dict:
    """Every begin..end pair: marked_total (sum of their cycles), marked_pairs, marked_span (first
    pair's begin to last pair's end, None without pairs), marked_unpaired (begins never closed)."""
    span = int(report.get("marked_span", -1))
    return {"marked_total": int(report.get("marked_total", 0)), "marked_pairs": int(report.get("marked_pairs", 0)),
            "marked_span": span if span >= 0 else None,
            "marked_unpaired": int(report.get("marked_unpaired", 0))}


def _parse_report(stderr: str) -> dict[str, str] | None:
    """The runner's last '@mlrn-simavr key=value ...' line."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("@mlrn-simavr "):
            return dict(item.split("=", 1) for item in line.split()[1:])
    return None
