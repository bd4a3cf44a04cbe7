"""Cortex-M boards: arm-none-eabi-gcc + newlib-nano, run under qemu-system-arm.

Measurement: a TCG plugin (support/cortexm/count_plugin.c, built once with the host
compiler and cached) counts the guest instructions executed between the markers, and, for
the cores cycle_model.py knows, an estimate of their cycles from the ARM manuals' timing
tables (qemu itself has no cycle model): time = estimated cycles / clock, an ESTIMATE. I/O is semihosting on files in a private run directory; a run with
`uart=True` takes UART0 instead (what an Arduino sketch's Serial drives, deploy/shim): qemu's pipe chardev
on two regular files of the run directory feeds it the input bytes and collects what the guest sends.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Sequence

from . import _toolchain as tc
from . import cycle_model
from .base import SUPPORT_DIR, Build, RunResult, Target, parse_measurements
from .errors import RunError, RunTimeout
from .sandbox import DEFAULT_MAX_OUTPUT, run_confined

_QEMU_MEMORY = 4 << 30   # address space of qemu (it reserves about 1.3 GB, mostly its code buffer)

CM_SUPPORT = SUPPORT_DIR / "cortexm"
_INSTALL = ("install the Arm toolchain and qemu (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
            "qemu-system-arm)")
# Start-up and stack paint/scan loops must not become memset/memcpy calls (see startup.c).
_SUPPORT_FLAGS = ("-fno-tree-loop-distribute-patterns",)
# Files of the run directory the runner itself uses (semihosting I/O, the UART's chardev).
_INPUT, _OUTPUT, _MEAS = "mlrn_input.bin", "mlrn_output.bin", "mlrn_meas.txt"
_UART_BASE = "mlrn_uart0"
_UART_OUT, _UART_IN = f"{_UART_BASE}.out", f"{_UART_BASE}.in"
_RESERVED = frozenset({_INPUT, _OUTPUT, _MEAS, _UART_OUT, _UART_IN})
# A file the caller puts in (or takes out of) the run directory: a plain name, no path.
_RUN_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_UART_CHARDEV = "mlrn_uart0"


class CortexMTarget(Target):
    kind = "cortex-m"
    install_hint = _INSTALL

    # The cross tools of this kind of core (a subclass for another core names its own).
    tools = {"cc": "arm-none-eabi-gcc", "size": "arm-none-eabi-size", "nm": "arm-none-eabi-nm",
             "qemu": "qemu-system-arm"}

    def __init__(self, board, *, cc: str | None = None, size: str | None = None, nm: str | None = None,
                 qemu: str | None = None, host_cc: str = "cc", stack_reserve_bytes: int | None = None,
                 max_instructions: int | None = None, max_output: int = DEFAULT_MAX_OUTPUT):
        """The tools default to the class's `tools`. `max_instructions`: the run stops (RunTimeout) after this
        many guest instructions; default 10 minutes' worth at the board's clock. `max_output`: bytes of output
        (and of any file) a run may write."""
        cc, size, nm, qemu = (v or self.tools[k] for k, v in (("cc", cc), ("size", size), ("nm", nm), ("qemu", qemu)))
        self.max_instructions = max_instructions if max_instructions is not None else 600 * board.clock_hz
        self.max_output = max_output
        self.board = board
        self.name = board.name
        self.cc, self.size, self.nm, self.qemu, self.host_cc = cc, size, nm, qemu, host_cc
        self.objdump = nm[:-2] + "objdump" if nm.endswith("nm") else "objdump"
        self.stack_reserve = board.stack_reserve_bytes if stack_reserve_bytes is None else stack_reserve_bytes

    def check(self) -> None:
        for tool in (self.cc, self.size, self.nm, self.qemu):
            tc.require_tool(tool, self.install_hint)

    def plugin(self) -> Path:
        """The cached instruction-counting plugin (built on first use)."""
        return tc.cached_host_binary(CM_SUPPORT / "count_plugin.c", "count_plugin", [], cc=self.host_cc,
                                     shared=True)

    # What a subclass for another core changes (targets/riscv.py): its support folder, the C library's
    # flags (at compile time, before the sources; at link time, after the objects) and the libraries last.
    support_dir = CM_SUPPORT
    support_sources = ("startup.c", "mlrn_target.c")   # compiled on their own, then linked with the program

    def _libc_compile_flags(self) -> list[str]:
        return []

    def _libc_link_flags(self) -> list[str]:
        # nosys: stray libc calls (printf...) still link, to stubs; _sbrk is ours (startup.c).
        return ["--specs=nano.specs", "--specs=nosys.specs"]

    def _link_libs(self) -> list[str]:
        return ["-lm"]

    def _linker_script(self, workdir: Path) -> Path:
        b = self.board
        text = (self.support_dir / "link.ld.in").read_text()
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
        b, sup = self.board, self.support_dir
        workdir, elf, common = tc.start_cross_build(self, workdir)
        # The support code is compiled on its own (its flags must not leak into user code).
        objs = []
        for src in self.support_sources:
            obj = workdir / f"mlrn_{Path(src).stem}.o"
            proc = subprocess.run([*common, *_SUPPORT_FLAGS, "-std=c99", *self._libc_compile_flags(), "-I",
                                   str(sup), "-c", str(sup / src), "-o", str(obj)], capture_output=True, text=True)
            tc.check_link(proc, b, {}, self.stack_reserve)
            objs.append(str(obj))
        # A -std= among cflags replaces the language's default standard (e.g. an Arduino sketch's gnu++11).
        std = [f for f in cflags if f.startswith("-std=")]
        src_args = tc.source_args(sources, language)
        if std:
            src_args = [std[-1] if a.startswith("-std=") else a for a in src_args]
        cmd = [*common, *[f"-I{d}" for d in include_dirs], *tc.define_flags(defines),
               *[f for f in cflags if not f.startswith("-std=")], *self._libc_compile_flags(), *src_args, *objs,
               *self._libc_link_flags(), "-nostartfiles", "-T", str(self._linker_script(workdir)),
               "-Wl,--gc-sections", "-o", str(elf), *self._link_libs()]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        tc.check_link(proc, b, {"FLASH": ("flash", b.flash_origin + b.flash_bytes),
                                "RAM": ("sram", b.ram_origin + b.sram_bytes)}, self.stack_reserve)
        sections = tc.section_sizes(self.size, elf)
        # .stack_reserve is accounting only (it is the stack), not static RAM.
        flash, ram = tc.memory_use(sections, flash=(".text", ".ARM.exidx", ".data"), ram=(".data", ".bss"))
        sizes, addrs = tc.symbols(self.nm, elf)
        build = Build(target=self.name, path=elf, flash_bytes=flash, static_ram_bytes=ram, symbol_sizes=sizes,
                      log=proc.stdout + proc.stderr)
        build.marker_addrs = _markers(addrs)
        return build

    def cost_table(self, build: Build) -> str | None:
        """The cycle model's cost table of a build (cycle_model.write_cost_file's format), made once per
        build; None when the board's core has no model."""
        if cycle_model.core_for(self.board) is None:
            return None
        if getattr(build, "cycle_costs", None) is None:
            with tempfile.TemporaryDirectory(prefix="mlrn-costs-") as tmp:
                out = Path(tmp) / "costs.txt"
                cycle_model.write_cost_file(Path(build.path), self.board, out, objdump=self.objdump)
                build.cycle_costs = out.read_text()
        return build.cycle_costs

    def qemu_command(self, build: Build, report_fd: int | None = None, *, uart: Path | None = None,
                     costs: Path | None = None) -> list[str]:
        """The qemu command line. The plugin's report goes to `report_fd` (an inherited descriptor the
        guest cannot reach), or without one to qemu's log on stderr (add it with -d plugin). UART0 is off
        (the pair "-serial", "none") unless `uart` is a base path: then qemu feeds UART0 the bytes of the
        existing file <uart>.in and writes what the guest sends to the existing file <uart>.out."""
        b = self.board
        # -sandbox: seccomp, so no process can be spawned (semihosting's SYS_SYSTEM fails) and qemu cannot
        # raise its privileges; file access is confined by sandbox.run_confined (Landlock). Semihosting
        # is all the guest has to reach the host (no monitor, network or disk; UART0 only to files of the
        # run directory, and only when asked).
        serial = ["-serial", "none"]
        if uart is not None:
            # qemu 7.2's file chardev has no input-path: its pipe chardev opens <base>.in and <base>.out,
            # which may be regular files (the input is read to its end, the output appended).
            base = Path(uart)
            spec = f"pipe,id={_UART_CHARDEV},path={_qemu_opt(base)}"
            serial = ["-chardev", spec, "-serial", f"chardev:{_UART_CHARDEV}"]
        return [self.qemu, "-M", b.machine, *b.machine_args, "-nographic", "-monitor", "none", *serial,
                "-nodefaults", "-net", "none",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                "-semihosting-config", "enable=on,target=native", "-kernel", str(Path(build.path).resolve()),
                *self.plugin_args(build, report_fd, costs)]

    def plugin_args(self, build: Build, report_fd: int | None, costs: Path | None = None) -> list[str]:
        """qemu's -plugin arguments: the counting plugin on the marker addresses, the instruction limit,
        the cycle model's cost table (`costs`) and where the report goes (qemu's log with -d plugin when
        there is no report_fd)."""
        markers = getattr(build, "marker_addrs", None)
        if markers is None:
            markers = _markers(tc.symbols(self.nm, build.path)[1])
        args = "".join(f",{k}={a:#x}" for k, a in zip(("begin", "end"), markers) if a is not None)
        if self.max_instructions:
            args += f",limit={self.max_instructions}"
        if report_fd is not None:
            args += f",report_fd={report_fd}"
        if costs is not None:
            args += f",costs={_qemu_opt(costs)}"
        return ["-plugin", f"{self.plugin()}{args}", *([] if report_fd is not None else ["-d", "plugin"])]

    def run(self, build: Build, input_bytes: bytes = b"", timeout: float = 120.0, *, uart: bool = False,
            files: Mapping[str, bytes] | None = None, keep: Sequence[str] = ()) -> RunResult:
        """Run the firmware. By default its input is `input_bytes` through semihosting (mlrn_target_getc)
        and its output what it wrote through semihosting. With `uart`, UART0 is the I/O instead:
        `input_bytes` arrive on UART0, the output is what the guest sent on UART0, and anything written
        through semihosting is in extra["semihosting_output"]. `files` ({plain file name: bytes}) are put
        in the run directory before the run (where the guest's semihosting opens them, e.g. the Arduino
        shim's mlrn_eeprom.bin); the files named in `keep` are read back afterwards into extra["files"]
        (absent ones left out), at most max_output bytes each."""
        for name in [*(files or {}), *keep]:
            _check_run_file(name)
        tc.require_tool(self.qemu, self.install_hint)
        # Two private directories: run_dir, the guest's (its files, via semihosting), and a second one
        # for the plugin's report, which the guest can neither name nor open.
        with tempfile.TemporaryDirectory(prefix="mlrn-qemu-") as tmp, \
                tempfile.TemporaryDirectory(prefix="mlrn-qemu-report-") as rep:
            run_dir = Path(tmp)
            # the guest opens these names via semihosting
            (run_dir / _INPUT).write_bytes(b"" if uart else input_bytes)
            for name, data in (files or {}).items():
                (run_dir / name).write_bytes(bytes(data))
            uart_files = None
            if uart:
                (run_dir / _UART_IN).write_bytes(input_bytes)
                (run_dir / _UART_OUT).write_bytes(b"")
                uart_files = run_dir / _UART_BASE
            report_fd = os.open(Path(rep) / "report", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            table = self.cost_table(build)
            costs = None
            if table is not None:
                costs = Path(rep) / "costs.txt"
                costs.write_text(table)
            start = time.monotonic()
            try:
                cmd = self.qemu_command(build, report_fd=report_fd, uart=uart_files, costs=costs)
                # The guest reaches the host through semihosting: it may read the firmware, the plugin and
                # its cost table, and write only in run_dir (sandbox.run_confined).
                proc = run_confined(cmd, cwd=run_dir, read=[Path(build.path).resolve(), self.plugin(),
                                                            *([costs] if costs is not None else [])],
                                    write=[run_dir], timeout=timeout, max_output=self.max_output,
                                    watch=[run_dir / _OUTPUT, run_dir / _MEAS, run_dir / _UART_OUT],
                                    max_memory=_QEMU_MEMORY, pass_fds=[report_fd], cc=self.host_cc)
            except subprocess.TimeoutExpired as exc:
                raise RunTimeout(f"{self.name}: qemu did not finish within {timeout:g} s and was killed "
                                 "(a guest that never exits runs forever, e.g. one waiting in WFI)",
                                 _read(run_dir / (_UART_OUT if uart else _OUTPUT), self.max_output)) from exc
            finally:
                os.close(report_fd)
            wall = time.monotonic() - start
            semihosting_output = _read(run_dir / _OUTPUT, self.max_output)
            output = _read(run_dir / _UART_OUT, self.max_output) if uart else semihosting_output
            over = proc.output_over or any(_size(run_dir / f) >= self.max_output for f in (_OUTPUT, _UART_OUT))
            kept = {}
            for name in keep:
                p = run_dir / name
                if p.is_file() and not p.is_symlink():
                    with open(p, "rb") as fh:
                        kept[name] = fh.read(self.max_output)
            _, meas = parse_measurements(_read(run_dir / _MEAS, self.max_output))
            _, plugin_meas = parse_measurements(_read(Path(rep) / "report", 1 << 16))
        log = proc.stderr.decode("utf-8", "replace")
        # The plugin's numbers replace any the guest wrote itself.
        for key in [k for k in meas if k in _PLUGIN_KEYS]:
            del meas[key]
        meas.update(plugin_meas)
        if over:
            raise RunError(f"{self.name}: the program wrote more than {self.max_output:,} bytes of output and "
                           "was stopped", output)
        if "instruction_limit" in meas:
            raise RunTimeout(f"{self.name}: program still running after {self.max_instructions:,} instructions "
                             f"({self.max_instructions / self.board.clock_hz:g} s at {self.board.clock_hz / 1e6:g} MHz, "
                             "one instruction per cycle); stopped", output)
        if "fault" in meas:
            raise RunError(f"{self.name}: program crashed (fault, {meas['fault']})", output)
        if proc.returncode == -signal.SIGSYS:
            raise RunError(f"{self.name}: the firmware asked the host to start a host process (semihosting "
                           "SYS_SYSTEM); the sandbox stopped the emulator", output)
        if proc.returncode != 0:
            # qemu's own complaints (e.g. "Lockup: can't escalate...", exit 134) are the non-'@' lines.
            qemu_lines = [ln for ln in log.splitlines() if ln.strip() and not ln.startswith("@")]
            what = (f"qemu aborted (signal {-proc.returncode}; a fault while handling a fault, e.g. the stack "
                    "ran off the bottom of RAM)" if proc.returncode < 0 else f"program exited with code {proc.returncode}")
            raise RunError(f"{self.name}: {what}" + (f": {qemu_lines[0].strip()}" if qemu_lines else ""),
                           output + "".join(ln + "\n" for ln in qemu_lines))
        n = int(meas.get("instructions", -1))
        instructions = n if n >= 0 else None
        stack = int(meas["stack_bytes"]) if "stack_bytes" in meas else None
        static = build.static_ram_bytes or 0
        if stack is not None and static + stack >= self.board.sram_bytes:
            # The scan found no paint left at all: the stack went through the heap into static data.
            raise RunError(f"{self.name}: stack overflow: the stack used all {self.board.sram_bytes - static} "
                           "bytes of RAM left after static data", output)
        est = (cycle_model.estimate(self.board, int(meas.get("cycles_est", -1)), int(meas.get("cycles_taken", 0)),
                                    int(meas.get("cycles_div", 0))) if instructions is not None else None)
        est_total = cycle_model.estimate(self.board, int(meas.get("cycles_est_total", -1)),
                                         int(meas.get("cycles_taken_total", 0)), int(meas.get("cycles_div_total", 0)))
        counted = est.nominal if est is not None else instructions
        return RunResult(output=output, exit_code=0, instructions=instructions, cycles_est=est,
                         seconds=counted / self.board.clock_hz if counted is not None else None,
                         seconds_kind="estimate" if counted is not None else None, stack_bytes=stack,
                         extra={"total_instructions": int(meas.get("total_instructions", 0)),
                                # every begin..end pair (see count_plugin.c for the pairing rules)
                                "marked_total": int(meas.get("marked_total", 0)),
                                "marked_pairs": int(meas.get("marked_pairs", 0)),
                                "marked_span": (int(meas["marked_span"]) if int(meas.get("marked_span", -1)) >= 0
                                                else None),
                                "marked_unpaired": int(meas.get("marked_unpaired", 0)),
                                "seconds_assumes": (f"cycle model of the {self.board.core} "
                                                    "(targets/cycle_model.py)" if est is not None
                                                    else "1 instruction per cycle"),
                                **({"cycles_est_total": est_total.nominal,
                                    "cycles_est_total_range": (est_total.low, est_total.high)}
                                   if est_total is not None else {}),
                                "sram_used_bytes": static + (stack or 0),
                                "wall_seconds": wall,
                                **({"semihosting_output": semihosting_output} if uart else {}),
                                **({"files": kept} if keep else {})})


_PLUGIN_KEYS = frozenset({"instructions", "marked_total", "marked_pairs", "marked_span", "marked_unpaired",
                          "total_instructions", "instruction_limit", "cycles_est", "cycles_taken", "cycles_div",
                          "cycles_est_total", "cycles_taken_total", "cycles_div_total"})


def _markers(addrs: Mapping[str, int]) -> tuple[int | None, int | None]:
    """Marker entry addresses (None when unused: --gc-sections dropped them). Thumb function
    symbols may carry bit 0; qemu reports instruction addresses without it."""
    return tuple(addrs[n] & ~1 if n in addrs else None  # type: ignore[return-value]
                 for n in ("mlrn_target_mark_begin", "mlrn_target_mark_end"))


def _check_run_file(name) -> None:
    """A file name the caller may put in or take out of the run directory: plain, not the runner's own."""
    if not isinstance(name, str) or not _RUN_FILE.fullmatch(name) or name in _RESERVED:
        raise ValueError(f"run directory file {name!r}: give a plain file name (letters, digits, '_', '.', '-'; "
                         f"at most 64 characters; not one of {', '.join(sorted(_RESERVED))})")


def _qemu_opt(path: Path) -> str:
    """A path as a qemu option value (a comma is written twice)."""
    return str(path).replace(",", ",,")


def _read(path: Path, limit: int) -> str:
    """At most `limit` bytes of a file the guest wrote, as text (it is bounded by RLIMIT_FSIZE too)."""
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        return fh.read(limit).decode("utf-8", "replace")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


# qemu machine -> the define that selects its UART0 in support/cortexm/mlrn_cm_uart.h.
_UART_MACHINES = {"mps2-an385": "MLRN_CM_MACHINE_MPS2", "mps2-an386": "MLRN_CM_MACHINE_MPS2",
                  "microbit": "MLRN_CM_MACHINE_NRF51"}


def uart_defines(board) -> dict[str, int]:
    """The define that makes mlrn_cm_uart.h drive the UART0 of the machine `board` is emulated on."""
    try:
        return {_UART_MACHINES[board.machine]: 1}
    except KeyError:
        raise ValueError(f"{board.name}: no UART driver for the emulated machine {board.machine!r}") from None
