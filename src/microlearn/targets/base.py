"""The target abstraction: compile C for a place where it runs, run it, measure it.

A *driver* program talks to the world only through `mlrn_target.h` (getc/putc,
begin/end markers around the measured region, exit), so the same C source runs
on the host, on simavr (ATmega) and on qemu (Cortex-M). Each target turns the
markers into its best measurement: wall time on the host, exact cycles on
simavr, executed instructions on qemu.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

SUPPORT_DIR = Path(__file__).resolve().parent / "support"

# Flags every target shares: the runtime must be warning-free and reproducible
# (no FMA contraction, so float32 results match the Python reference bit for bit).
COMMON_CFLAGS = (
    "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-Wconversion",
    "-ffp-contract=off",
)


@dataclass
class Build:
    target: str
    path: Path                      # executable or ELF
    flash_bytes: int | None = None  # .text + .data (+ .rodata): what occupies flash
    static_ram_bytes: int | None = None  # .data + .bss: static SRAM
    symbol_sizes: dict[str, int] = field(default_factory=dict)  # sizes of named objects (for the planner check)
    log: str = ""


@dataclass
class RunResult:
    output: str                      # what the program printed (measurement lines removed)
    exit_code: int = 0
    cycles: int | None = None        # exact CPU cycles of the measured region (simavr)
    instructions: int | None = None  # executed instructions of the measured region (qemu)
    cycles_est: object = None          # estimated cycles, with bounds (qemu, cycle_model.py)
    seconds: float | None = None     # time of the measured region
    seconds_kind: str | None = None  # 'wall' (host), 'exact' (cycles/clock), 'estimate' (cycles_est/clock)
    stack_bytes: int | None = None   # stack high-water mark during the run
    extra: dict = field(default_factory=dict)


class Target(abc.ABC):
    """Where generated C is compiled and run."""

    name: str = "?"
    kind: str = "?"   # 'host' | 'avr' | 'cortex-m' | 'riscv'
    board = None      # microlearn.boards.registry.Board or None for the host

    def check(self) -> None:
        """Raise TargetUnavailable with an install hint if a tool is missing."""

    @abc.abstractmethod
    def build(self, sources: Sequence[Path], workdir: Path, *, include_dirs: Sequence[Path] = (),
              defines: Mapping[str, str | int] | None = None, cflags: Sequence[str] = (),
              language: str = "c") -> Build:
        """Compile and link `sources` (plus this target's support code) into `workdir`."""

    @abc.abstractmethod
    def run(self, build: Build, input_bytes: bytes = b"", timeout: float = 120.0) -> RunResult:
        """Run to completion, feeding `input_bytes` to mlrn_target_getc(); kill after `timeout` s."""


def parse_measurements(raw: str) -> tuple[str, dict[str, str]]:
    """Split a program's output into user text and '@key value' measurement lines."""
    text, meas = [], {}
    for line in raw.splitlines(keepends=True):
        if line.startswith("@"):
            key, _, value = line[1:].strip().partition(" ")
            meas[key] = value
        else:
            text.append(line)
    return "".join(text), meas
