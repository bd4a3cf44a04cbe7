"""Build an Arduino sketch for an AVR board with arduino-mk against Debian's Arduino AVR core.

`build_sketch_avr(sketch_dir, board_name, library_dir, workdir)` copies the sketch into `workdir` (the user's
folder is never written to), writes an arduino-mk Makefile next to the copy, runs `make` with a time limit
and returns the ELF, the .hex, the flash and static SRAM used (by section, `avr-size -A`) and the build log.
Boards by the name the user types: the Arduino board tag differs between uno and nano although the registry
counts the Nano as an Uno (same chip, same memory).

Debian 12's arduino-mk 1.5.2 + arduino-core-avr 1.8.x + gcc-avr 5.4 is the toolchain this was written for;
the checks below name the apt-get line when a piece is missing.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from microlearn.boards.registry import get_board

from .sketch_build import BuildError, BuildUnavailable, SketchBuild

ARDUINO_DIR = Path("/usr/share/arduino")
ARDUINO_MK = ARDUINO_DIR / "Arduino.mk"
AVR_CORE_HEADER = ARDUINO_DIR / "hardware" / "arduino" / "avr" / "cores" / "arduino" / "Arduino.h"
INSTALL_HINT = "apt-get install make arduino-mk arduino-core-avr gcc-avr avr-libc binutils-avr"
LIBRARY_NAME = "microlearn"          # ARDUINO_LIBS names the library by its folder under USER_LIB_PATH
MAKE_TIMEOUT_S = 600                 # a cold build of the core plus a sketch takes 10-40 s here
PROBE_TIMEOUT_S = 60
LOG_NAME = "build.log"
MAX_LOG_SCAN_BYTES = 4 * 1024 * 1024  # a runaway log is not read whole to find its first error
CXX_STD = "-std=gnu++11"              # what the Arduino IDE builds C++ with
AVR_DATA_SPACE = 0x800000            # where the AVR toolchain puts SRAM addresses (data space) in an ELF
# Characters a path may hold inside a Makefile: make splits on blanks and expands $, #, : and % mean things.
MAKE_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+@,-]+$")
# Make variables of the caller's environment that would change our Makefile's meaning or make's behaviour.
MAKE_ENV_DROP = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "GNUMAKEFLAGS")


@dataclass(frozen=True)
class AvrBoard:
    tag: str               # arduino-mk BOARD_TAG (boards.txt's board id)
    sub: str | None        # BOARD_SUB: the boards.txt cpu menu entry, where the board has one
    mcu: str               # avr-gcc / avr-size / simavr MCU name
    bootloader_bytes: int  # flash the serial bootloader keeps: boards.txt's upload.maximum_size is the rest


AVR_BOARDS = {
    "uno": AvrBoard("uno", None, "atmega328p", 512),                 # optiboot
    # the ATmega328P Nano (boards.txt cpu menu); 2 KB: the old ATmegaBOOT's size, which boards.txt also
    # keeps for the new optiboot Nanos (upload.maximum_size 30720 for both)
    "nano": AvrBoard("nano", "atmega328", "atmega328p", 2048),
    "mega2560": AvrBoard("mega", "atmega2560", "atmega2560", 8192),  # stk500v2 bootloader
}


def avr_board(board_name: str) -> AvrBoard:
    try:
        return AVR_BOARDS[board_name]
    except KeyError:
        raise BuildError(f"not an AVR board arduino-mk builds here: {board_name!r} "
                         f"(choose from {', '.join(AVR_BOARDS)})") from None


def check_tools() -> None:
    """BuildUnavailable naming the apt-get line when make, arduino-mk, the Arduino AVR core or avr-gcc is
    missing."""
    missing = [what for what, ok in (("make", shutil.which("make")), ("avr-gcc", shutil.which("avr-gcc")),
                                     ("avr-size", shutil.which("avr-size")), ("arduino-mk", ARDUINO_MK.is_file()),
                                     ("the Arduino AVR core", AVR_CORE_HEADER.is_file())) if not ok]
    if missing:
        raise BuildUnavailable(f"cannot build for AVR boards: {', '.join(missing)} not installed ({INSTALL_HINT})")


@functools.lru_cache(maxsize=1)
def needs_decimal_dig() -> bool:
    """Whether avr-g++ lacks DECIMAL_DIG in C++11. The core's WString.cpp (arduino-core-avr 1.8) uses it; gcc 5's
    <float.h> defines it for C99 only (gcc 7, the IDE's compiler, also for C++11), so Debian's avr-gcc 5.4 fails
    on the core unless the build supplies it. Probed, not assumed, so a newer avr-gcc builds unchanged."""
    with tempfile.TemporaryDirectory(prefix="microlearn-probe-") as tmp:
        probe = Path(tmp) / "probe.cpp"
        probe.write_text("#include <float.h>\n#ifndef DECIMAL_DIG\n#error no DECIMAL_DIG\n#endif\n")
        try:
            p = subprocess.run(["avr-g++", CXX_STD, "-fsyntax-only", str(probe)], capture_output=True,
                               timeout=PROBE_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            return True          # no compiler to ask: the build will say what is missing
        return p.returncode != 0


def cxxflags_std() -> str:
    # The workaround uses the compiler's own value (__DECIMAL_DIG__, what its <float.h> gives C99 code).
    return CXX_STD + (" -DDECIMAL_DIG=__DECIMAL_DIG__" if needs_decimal_dig() else "")


# The libraries the Arduino AVR core bundles (EEPROM, SPI, Wire, ...): a sketch's `#include <EEPROM.h>` names
# one. arduino-mk links only the libraries ARDUINO_LIBS lists, so they are found in the sketch's includes, as
# the Arduino IDE finds them.
CORE_LIBRARIES = ARDUINO_DIR / "hardware" / "arduino" / "avr" / "libraries"
_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([A-Za-z0-9_]+)\.h[>"]', re.M)


def core_libraries(sketch_dir: Path) -> list[str]:
    """The core's bundled libraries the sketch's files include (sorted)."""
    found = set()
    for f in sorted(Path(sketch_dir).iterdir()):
        if f.suffix in (".ino", ".cpp", ".c", ".h") and f.is_file() and f.stat().st_size < (1 << 24):
            for name in _INCLUDE.findall(f.read_text(errors="replace")):
                if name != LIBRARY_NAME and (CORE_LIBRARIES / name / "src" / f"{name}.h").is_file():
                    found.add(name)
    return sorted(found)


def makefile(board_name: str, libraries: Path, objdir: str | None = None, core_libs: tuple[str, ...] = ()) -> str:
    """The arduino-mk Makefile for a sketch on `board_name` with the microlearn library found in `libraries`
    (the folder holding microlearn/) and the core's bundled libraries `core_libs` (see core_libraries).
    `objdir`: where the objects, ELF and .hex go (arduino-mk's default: build-<tag>[-<sub>])."""
    b = avr_board(board_name)
    for p in (libraries, ARDUINO_DIR):
        if not MAKE_SAFE_PATH.match(str(p)):
            raise BuildError(f"make cannot take this path (blanks or make's special characters): {str(p)!r}; "
                             "use a plain folder (set TMPDIR for the work folder)")
    lines = [f"BOARD_TAG    = {b.tag}"]
    if b.sub:
        lines.append(f"BOARD_SUB    = {b.sub}")
    lines += [f"ARDUINO_DIR  = {ARDUINO_DIR}", f"ARDMK_DIR    = {ARDUINO_DIR}", f"USER_LIB_PATH = {libraries}",
              f"ARDUINO_LIBS = {' '.join([LIBRARY_NAME, *core_libs])}", f"CXXFLAGS_STD = {cxxflags_std()}", "ARDUINO_QUIET = 1"]
    if objdir:
        lines.append(f"OBJDIR       = {objdir}")
    lines += ["include $(ARDMK_DIR)/Arduino.mk", ""]
    return "\n".join(lines)


def avr_size(elf: Path) -> tuple[int, int]:
    """(flash bytes = .text + .data, static SRAM bytes = .data + .bss), by section: an .eeprom section is
    neither (it is written to the EEPROM, not the flash, and takes no SRAM)."""
    try:
        p = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except OSError as exc:
        raise BuildUnavailable(f"avr-size cannot run ({exc.strerror}; {INSTALL_HINT})") from None
    if p.returncode:
        raise BuildError(f"avr-size cannot read {elf}: {p.stderr.strip()[:200]}")
    size = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\w+)\s+(\d+)", p.stdout, re.M)}
    text, data, bss = size.get(".text", 0), size.get(".data", 0), size.get(".bss", 0)
    return text + data, data + bss


_COMPILER_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+)(?::\d+)?: (?:fatal )?error: (?P<msg>.*)$", re.M)
_OTHER_ERROR = re.compile(r"^.*(?:error|undefined reference|No such file|\*\*\*).*$", re.M | re.I)


def first_error(log_text: str, sketch_dir: Path | None = None) -> str:
    """The first line of a build log that says what went wrong: the compiler's first error (its file shown
    relative to the sketch copy), else the first line naming an error, else the log's last line."""
    m = _COMPILER_ERROR.search(log_text)
    if m:
        path = m.group("file")
        if sketch_dir is not None:
            path = path.removeprefix(str(sketch_dir) + os.sep)
        return f"{path}:{m.group('line')}: error: {m.group('msg').strip()}"
    m = _OTHER_ERROR.search(log_text)
    if m:
        return m.group(0).strip()
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    return lines[-1] if lines else "make failed without a message"


_REGION_OVERFLOW = re.compile(r"region `(?P<region>\w+)' overflowed by (?P<over>\d+) bytes")
_NOT_WITHIN_DATA = re.compile(r"address (?P<addr>0x[0-9a-fA-F]+) of \S+ section `(?P<section>[^']+)' is not within "
                              r"region `data'")


def fit_error(log_text: str, board_name: str, sketch: str) -> str | None:
    """When the link failed because the sketch is too large for the chip (the device's linker script holds
    the real flash and SRAM sizes): the line saying by how much, in the words of build.check_fits."""
    board = get_board(board_name)
    m = _REGION_OVERFLOW.search(log_text)
    if m and m.group("region") == "text":
        used = board.flash_bytes + int(m.group("over"))       # the linker's region is the whole chip
        budget = board.flash_bytes - AVR_BOARDS[board_name].bootloader_bytes
        return (f"{sketch} does not fit the {board_name}: flash {used} bytes of {budget} ({used - budget} bytes "
                f"over; the bootloader keeps {board.flash_bytes - budget})")
    m = _NOT_WITHIN_DATA.search(log_text)
    if m:
        # SRAM is filled from its start (.data, .bss, .noinit in a row): the end address gives the static size
        end = int(m.group("addr"), 16) - AVR_DATA_SPACE - board.ram_origin
        over = end - board.sram_bytes
        if over > 0:
            return (f"{sketch} does not fit the {board_name}: static SRAM {end} bytes of {board.sram_bytes} "
                    f"({over} bytes over)")
    if m or (_REGION_OVERFLOW.search(log_text)):
        return f"{sketch} does not fit the {board_name}: {(m or _REGION_OVERFLOW.search(log_text)).group(0)}"
    return None


def _read_log(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(MAX_LOG_SCAN_BYTES).decode("utf-8", "replace")


def _ignore_build_output(folder, names):
    # A build folder left in the user's sketch (ours is DIR/build-<board>/) and a Makefile of their own are
    # not part of the sketch: arduino-mk would compile nothing from them, but our Makefile replaces theirs.
    return [n for n in names if n.startswith("build-") or n == "Makefile"]


def _run_make(cwd: Path, log_path: Path, timeout: float) -> int:
    env = {k: v for k, v in os.environ.items() if k not in MAKE_ENV_DROP}
    env["LC_ALL"] = "C"      # the compiler's messages in English, as first_error reads them
    jobs = str(max(1, min(os.cpu_count() or 1, 8)))
    with open(log_path, "wb") as log:
        # its own session, so a timeout kills make and every compiler it started, not just make
        proc = subprocess.Popen(["make", "-j", jobs], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise


def build_sketch_avr(sketch_dir: Path, board_name: str, library_dir: Path, workdir: Path, *,
                     timeout: float = MAKE_TIMEOUT_S) -> SketchBuild:
    """Build the sketch folder `sketch_dir` (<Name>/<Name>.ino + local files) for uno, nano or mega2560 with
    the microlearn Arduino library `library_dir`, working in `workdir` (created; the caller removes it).
    The sketch is expected to be checked already (build.py's validate_sketch). BuildError with the
    compiler's first error line on failure; the full log is `workdir/build.log`."""
    avr_board(board_name)
    check_tools()
    sketch_dir, library_dir, workdir = Path(sketch_dir), Path(library_dir), Path(workdir)
    if not (library_dir / "library.properties").is_file():
        raise BuildError(f"not an Arduino library (no library.properties): {library_dir}")
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    name = sketch_dir.name
    # USER_LIB_PATH/microlearn must be the library whatever its folder is called: a link in the work folder
    # (which also keeps a library path with blanks out of the Makefile).
    libraries = workdir / "libraries"
    libraries.mkdir(exist_ok=True)
    link = libraries / LIBRARY_NAME
    if not link.is_symlink() and not link.exists():
        link.symlink_to(library_dir.resolve(), target_is_directory=True)
    copy = workdir / name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(sketch_dir, copy, symlinks=False, ignore=_ignore_build_output)
    objdir = f"build-{board_name}"
    (copy / "Makefile").write_text(makefile(board_name, libraries, objdir, tuple(core_libraries(copy))))
    log_path = workdir / LOG_NAME
    start = time.monotonic()
    try:
        rc = _run_make(copy, log_path, timeout)
    except subprocess.TimeoutExpired:
        raise BuildError(f"the build for {board_name} took longer than {timeout:g} s and was stopped",
                         log=log_path) from None
    except OSError as exc:
        raise BuildUnavailable(f"make cannot run ({exc.strerror}; {INSTALL_HINT})") from None
    seconds = time.monotonic() - start
    # arduino-mk names its outputs <Name>_.elf / .hex (the suffix keeps them apart from <Name>.ino.o)
    elfs = sorted((copy / objdir).glob("*.elf")) if rc == 0 else []
    if len(elfs) != 1:
        text = _read_log(log_path)
        summary = fit_error(text, board_name, name) or f"the build for {board_name} failed: {first_error(text, copy)}"
        raise BuildError(f"{summary} (full log: {log_path})", log=log_path, summary=summary)
    elf = elfs[0]
    hexfile = elf.with_suffix(".hex")
    flash, static = avr_size(elf)
    return SketchBuild(board=board_name, sketch=name, elf=elf, hex=hexfile if hexfile.is_file() else None,
                       flash_bytes=flash, static_ram_bytes=static, seconds=seconds, log=log_path)


__all__ = ["AVR_BOARDS", "ARDUINO_DIR", "AvrBoard", "INSTALL_HINT", "avr_size", "build_sketch_avr", "check_tools",
           "first_error", "makefile", "needs_decimal_dig"]
