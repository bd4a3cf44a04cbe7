"""The one way tests compile C: the project's compilers and warning flags.

Every program is held to the flags the targets build the runtime with (microlearn.targets.base.COMMON_CFLAGS:
warnings as errors, conversions, double promotion, no FMA contraction) plus -pedantic, as C99 or as C++11.
Host programs are built with cc / c++ (as the host target builds them), board programs with the board's cross
compiler and CPU flags. The runtime's headers (microlearn.include_dir()) are always on the include path.
A test that needs more (sanitizers, a warning on top) passes `extra`; one that needs other warnings passes
`warnings`, with a comment saying why.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

import pytest

import microlearn
from microlearn.boards import get_board
from microlearn.targets.base import COMMON_CFLAGS

INCLUDE = Path(microlearn.include_dir())
WARNINGS = (*COMMON_CFLAGS, "-pedantic")
LANGUAGES = {"c": ("-std=c99",), "c++": ("-x", "c++", "-std=c++11")}
HOST_COMPILER = {"c": "cc", "c++": "c++"}
CROSS_COMPILER = {"avr": "avr-gcc", "cortex-m": "arm-none-eabi-gcc"}
# UBSan, no recovery: the first report ends the program. float-cast-overflow is not part of gcc's
# -fsanitize=undefined and is asked for explicitly (clang has it already).
UBSAN = ("-fsanitize=undefined,float-cast-overflow", "-fno-sanitize-recover=all")
# ASan + UBSan, with the frames a report needs.
SANITIZE = ("-fsanitize=address", *UBSAN, "-g", "-fno-omit-frame-pointer")
# What a sanitized program runs with: leaks reported, stack traces, no other environment.
SANITIZED_ENV = {"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1", "PATH": "/usr/bin:/bin"}


def host_compilers() -> list[tuple[str, str, str]]:
    """(id, compiler, language) of every host compiler installed: gcc / g++ always, clang / clang++ when
    installed (the runtime must be clean under both)."""
    out = []
    for cc, cxx in (("gcc", "g++"), ("clang", "clang++")):
        if shutil.which(cc):
            out.append((f"{cc}-c99", cc, "c"))
        if shutil.which(cxx):
            out.append((f"{cxx}-c++11", cxx, "c++"))
    return out


def compile_command(sources: Sequence[Path | str], out: Path | str | None = None, *, lang: str = "c",
                    board: str | None = None, compiler: str | None = None, opt: str | None = None,
                    defines: Mapping[str, str | int] | None = None, include_dirs: Sequence[Path | str] = (),
                    extra: Sequence[str] = (), warnings: Sequence[str] = WARNINGS, stage: str = "link",
                    libs: Sequence[str] = ("-lm",)) -> list[str]:
    """The command line. `board`: cross-compile for a board of the registry (its compiler and CPU flags,
    -Os); else the host (cc / c++, -O2). `stage`: 'link' (a program), 'object' (-c) or 'syntax'
    (-fsyntax-only, no output). `defines` become -DNAME=VALUE; `libs` are linked after the sources."""
    if board is not None:
        b = get_board(board)
        cmd = [compiler or CROSS_COMPILER[b.arch], *b.cflags, opt or "-Os"]
    else:
        cmd = [compiler or HOST_COMPILER[lang], opt or "-O2"]
    cmd += [*LANGUAGES[lang], *warnings, *extra]
    for d in (*include_dirs, INCLUDE):
        cmd += ["-I", str(d)]
    cmd += [f"-D{k}={v}" for k, v in (defines or {}).items()]
    cmd += [str(s) for s in sources]
    if stage == "syntax":
        return cmd + ["-fsyntax-only"]
    if stage == "object":
        return cmd + ["-c", "-o", str(out)]
    return cmd + ["-o", str(out), *libs]


def compile_c(sources: Sequence[Path | str] | Path | str, out: Path | str | None = None, *, check: bool = True,
              **options) -> subprocess.CompletedProcess:
    """Compile (see compile_command for the options). With `check`, a failure fails the test with the
    compiler's message; without, the caller reads returncode and stderr (tests of what must not compile).
    A sanitizer runtime that is not installed skips the test."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    cmd = compile_command(sources, out, **options)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 and "cannot find" in proc.stderr and "san" in proc.stderr.lower():
        pytest.skip(f"{cmd[0]}: sanitizer runtime not installed")
    if check:
        assert proc.returncode == 0, f"build failed:\n{' '.join(cmd)}\n{proc.stderr[:3000]}"
    return proc


def run_sanitized(exe: Path | str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a program built with SANITIZE (text output, the sanitizers' environment)."""
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=SANITIZED_ENV)


def program_output(source: Path, workdir: Path, *, timeout: float = 120, **options) -> str:
    """Build the C test program `source` into `workdir`, run it, and return what it printed; it must exit 0
    (its output and errors are the failure message)."""
    exe = Path(workdir) / source.stem
    compile_c(source, exe, **options)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout

