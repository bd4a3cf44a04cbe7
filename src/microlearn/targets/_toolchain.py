"""Helpers shared by the emulated targets: running tools, reading sizes and symbols,
turning linker overflow messages into DoesNotFit, and caching host-built helpers."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from microlearn.core import paths
from .base import COMMON_CFLAGS, SUPPORT_DIR
from .errors import BuildError, DoesNotFit, TargetUnavailable


def require_tool(path: str, hint: str) -> str:
    """Absolute path of an executable, or TargetUnavailable with an install hint."""
    found = shutil.which(path)
    if found is None:
        raise TargetUnavailable(f"'{path}' not found: {hint}")
    return found


_BUILT: dict[tuple, tuple[tuple, Path]] = {}   # cached_host_binary's answers in this process


def cached_host_binary(source: Path, stem: str, cmd_tail: Sequence[str], cc: str = "cc",
                       shared: bool = False, depends: Sequence[Path] = ()) -> Path:
    """Compile `source` with the host compiler once; the result is keyed by a hash of the
    source, the headers it `depends` on and the command, so editing the C rebuilds it. Written
    atomically (parallel tests)."""
    cache = paths.cache_dir()   # kept between runs, with the planner's figures
    memo_key = (str(source), stem, tuple(cmd_tail), cc, shared, tuple(map(str, depends)), str(cache))
    files = [source, *map(Path, depends)]
    stamp = tuple((st.st_mtime_ns, st.st_size) for st in map(os.stat, files))
    hit = _BUILT.get(memo_key)
    if hit is not None and hit[0] == stamp and hit[1].exists():
        return hit[1]   # every run asks: no re-hashing while the sources are unchanged
    cc_path = require_tool(cc, "install a host C compiler (apt-get install gcc)")
    flags = ["-O2", "-Wall", "-Wextra", "-Werror"] + (["-shared", "-fPIC"] if shared else [])
    key = hashlib.sha256(source.read_bytes() + b"".join(Path(d).read_bytes() for d in depends)
                         + repr((flags, list(cmd_tail))).encode()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{stem}-{key}{'.so' if shared else ''}"
    if out.exists():
        _BUILT[memo_key] = (stamp, out)
        return out
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{stem}-")
    os.close(fd)
    try:
        proc = subprocess.run([cc_path, *flags, str(source), "-o", tmp, *cmd_tail], capture_output=True, text=True)
        if proc.returncode != 0:
            raise TargetUnavailable(f"could not build {source.name} with {cc}: {first_error(proc.stderr)}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _BUILT[memo_key] = (stamp, out)
    return out


def first_error(log: str) -> str:
    """The first line of a compiler/linker log that says what went wrong."""
    for line in log.splitlines():
        if "error" in line.lower() or "undefined reference" in line:
            return line.strip()
    return log.strip()[:300]


def define_flags(defines: Mapping[str, str | int] | None) -> list[str]:
    return [f"-D{k}={v}" for k, v in (defines or {}).items()]


def source_args(sources: Sequence[Path], language: str) -> list[str]:
    """User sources, as C (-std=c99) or C++ (-std=c++11, no exceptions/RTTI on a microcontroller)."""
    if language == "c++":
        return ["-x", "c++", "-std=c++11", "-fno-exceptions", "-fno-rtti", *map(str, sources), "-x", "none"]
    if language != "c":
        raise ValueError(f"language must be 'c' or 'c++', not {language!r}")
    return ["-std=c99", *map(str, sources)]


_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes?")
# avr-ld's other form: "address 0x800865 of x.elf section `.bss' is not within region `data'"
_OUTSIDE = re.compile(r"address (0x[0-9a-fA-F]+) of .* section [`'][^']+' is not within region [`'](\w+)'")
# ... and one with no byte count at all: "section `.text' will not fit in region `text'"
_NO_FIT = re.compile(r"section [`'][^']+' will not fit in region [`'](\w+)'")


def check_link(proc: subprocess.CompletedProcess, board, regions: Mapping[str, tuple[str, int]],
               stack_reserve: int, measure_over=None) -> None:
    """Raise DoesNotFit for a region overflow, BuildError for any other failure.
    `regions` maps a linker region name to ('flash'|'sram', address just past the region's end).
    `measure_over(kind)` -> bytes over, for linker messages that give no count."""
    log = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return
    over: dict[str, int] = {}
    for region, n in _OVERFLOW.findall(log):
        if region in regions:
            kind = regions[region][0]
            over[kind] = max(over.get(kind, 0), int(n))
    for addr, region in _OUTSIDE.findall(log):
        if region in regions:
            kind, end = regions[region]
            over[kind] = max(over.get(kind, 0), int(addr, 16) - end)
    for region in _NO_FIT.findall(log):
        if region in regions and regions[region][0] not in over and measure_over is not None:
            kind = regions[region][0]
            over[kind] = measure_over(kind)
    if over:
        kind = "flash" if "flash" in over else "sram"
        n = over[kind]
        if kind == "flash":
            msg = (f"does not fit the {board.name}: flash needs {n} bytes more than its "
                   f"{board.flash_bytes} bytes")
        else:
            msg = (f"does not fit the {board.name}: static RAM (.data + .bss) is {n} bytes over the "
                   f"{board.sram_bytes - stack_reserve} bytes available "
                   f"({board.sram_bytes} bytes SRAM minus a {stack_reserve}-byte stack reserve)")
        raise DoesNotFit(msg, region=kind, over=n, log=log)
    raise BuildError(f"{board.name} build failed: {first_error(log)}", log)


def section_sizes(size_tool: str, elf: Path) -> dict[str, int]:
    """Section name -> size, from `size -A` (SysV format)."""
    out = subprocess.run([size_tool, "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def memory_use(sections: Mapping[str, int], flash: Sequence[str], ram: Sequence[str]) -> tuple[int, int]:
    """(flash bytes, static RAM bytes) from section sizes. .data counts in both: its initial
    values live in flash and are copied to RAM at start-up."""
    return (sum(sections.get(s, 0) for s in flash), sum(sections.get(s, 0) for s in ram))


def symbols(nm_tool: str, elf: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(name -> size in bytes for every sized symbol, name -> address for every symbol).
    A name defined twice (file-local statics) keeps its largest size."""
    out = subprocess.run([nm_tool, "--size-sort", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = max(sizes.get(parts[3], 0), int(parts[1], 16))
    out = subprocess.run([nm_tool, str(elf)], capture_output=True, text=True, check=True).stdout
    addrs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            addrs[parts[2]] = int(parts[0], 16)
    return sizes, addrs


def kill_group(proc: subprocess.Popen) -> None:
    """Stop an emulator we started (and only it)."""
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


def start_cross_build(target, workdir) -> tuple[Path, Path, list[str]]:
    """What every board build starts with: the tools checked, the work folder, the ELF's path and the
    compiler command shared by the support code and the user's sources (size-optimised, the board's CPU
    flags, the project's warnings, sections the linker can drop)."""
    target.check()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    common = [target.cc, "-Os", *target.board.cflags, *COMMON_CFLAGS, "-ffunction-sections", "-fdata-sections",
              "-I", str(SUPPORT_DIR)]
    return workdir, workdir / "program.elf", common
