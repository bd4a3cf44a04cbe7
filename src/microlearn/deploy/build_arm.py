"""Arduino sketches for the Cortex-M boards, built through microlearn's Arduino shim (deploy/shim/).

There is no Arduino core for the emulated Cortex-M boards here, so `build_sketch_arm` does what the Arduino
builder does, minimally, against the shim: the sketch folder's `<name>.ino` (its name must be the folder's)
and any other .ino files are joined into one C++ file that starts with `#include <Arduino.h>` and marks each
part with `#line 1 "<file>.ino"` (compiler messages name the .ino and its line); the folder's .cpp and .c
files are compiled with it, its .h files are on the include path. Unlike the Arduino IDE, NO function
prototypes are generated: a function must be defined (or declared) before it is used, as the library's
examples and microlearn's generated sketches do.

The program is built by the board's own target (targets/cortexm.py): its start-up code, linker script with
the real board's flash and SRAM, stack reserve, size figures and measurement markers, the project's warnings
(-Wall -Wextra -Werror -Wdouble-promotion -Wconversion), C++ as gnu++11 without exceptions or RTTI.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from microlearn.boards import get_board
from microlearn.boards.registry import Board
from microlearn.targets import target_for
from microlearn.targets.base import COMMON_CFLAGS, SUPPORT_DIR, Build
from microlearn.targets.cortexm import CM_SUPPORT, uart_defines
from microlearn.targets.errors import BuildError

SHIM_DIR = Path(__file__).resolve().parent / "shim"
SHIM_SOURCES = ("mlrn_shim.cpp",)
# The EEPROM the shim gives each board (bytes): what its Arduino core's EEPROM emulation offers by default
# (SAMD21: FlashStorage's FlashAsEEPROM, 1 KB); any other Cortex-M board 1 KB.
EEPROM_BYTES = {"samd21": 1024, "nrf52840": 4096}
DEFAULT_EEPROM_BYTES = 1024
CXX_FLAGS = ("-std=gnu++11", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics")
C_STD = "-std=gnu99"
# The Arduino specification's rule for sketch (and file) names: a letter or digit, then letters, digits,
# '_', '.', '-'; at most 63 characters.
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}")
SOURCE_SUFFIXES = (".ino", ".cpp", ".c", ".h")
MAX_SOURCE_BYTES = 4 << 20   # a sketch file larger than this is not a sketch


class SketchError(BuildError):
    """A sketch folder that cannot be built (one line for the command line)."""


def _board(board: Board | str) -> Board:
    b = get_board(board) if isinstance(board, str) else board
    if b.arch != "cortex-m" or b.machine is None:
        raise SketchError(f"{b.name} is not a Cortex-M board: the Arduino shim builds for the Cortex-M boards "
                          "only (build AVR sketches with the Arduino AVR core)")
    return b


def _sketch_files(sketch_dir: Path) -> tuple[str, list[Path]]:
    """(sketch name, its source files: <name>.ino first, then the other files sorted), checked."""
    if not sketch_dir.is_dir():
        raise SketchError(f"sketch folder {sketch_dir} does not exist or is not a folder")
    name = sketch_dir.name
    main = sketch_dir / f"{name}.ino"
    if not main.is_file():
        inos = sorted(p.name for p in sketch_dir.glob("*.ino"))
        found = f" (found {', '.join(inos)})" if inos else " (no .ino file in it)"
        raise SketchError(f"sketch folder {sketch_dir}: the main file must be {name}.ino, named after the "
                          f"folder{found}")
    if not NAME_RULE.fullmatch(name):
        raise SketchError(f"sketch name {name!r}: use letters, digits, '_', '.', '-' (starting with a letter "
                          "or digit, at most 63 characters)")
    others = []
    for p in sorted(sketch_dir.iterdir()):
        if p.suffix not in SOURCE_SUFFIXES or p == main or not p.is_file():
            continue
        if not NAME_RULE.fullmatch(p.name):
            raise SketchError(f"sketch file {p.name!r}: use letters, digits, '_', '.', '-' in file names")
        others.append(p)
    for p in (main, *others):
        if p.stat().st_size > MAX_SOURCE_BYTES:
            raise SketchError(f"sketch file {p}: larger than {MAX_SOURCE_BYTES >> 20} MB")
    return name, [main, *others]


def sketch_cpp(name: str, inos: Sequence[tuple[str, str]]) -> str:
    """The one C++ file of the sketch's .ino files ((file name, text), the main one first)."""
    parts = ["#include <Arduino.h>\n"]
    for fname, text in inos:
        parts.append(f'#line 1 "{fname}"\n')
        parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts)


def build_sketch_arm(sketch_dir: Path, board: Board | str, library_dir: Path, workdir: Path, *,
                     cflags: Sequence[str] = ()) -> Build:
    """Build the Arduino sketch in `sketch_dir` for the Cortex-M `board` through the shim, with the Arduino
    library at `library_dir` (its src/ on the include path, its .c/.cpp files compiled), in `workdir`.
    Returns the target's Build (ELF, flash and static SRAM). SketchError (a BuildError) for a folder that is
    not a sketch or a board that is not Cortex-M; BuildError / DoesNotFit from the compiler and linker."""
    b = _board(board)
    sketch_dir, library_dir, workdir = Path(sketch_dir), Path(library_dir), Path(workdir)
    name, files = _sketch_files(sketch_dir)
    lib_src = library_dir / "src"
    if not lib_src.is_dir():
        raise SketchError(f"Arduino library {library_dir}: no src/ folder (build it with `microlearn arduino-library`)")
    target = target_for(b)
    target.check()
    # A copy of the sketch in the work folder: the build writes nothing beside the user's files, and
    # every path given to the compiler is absolute (a file named like an option stays a file).
    copy = workdir.resolve() / "sketch" / name
    if copy.exists():
        shutil.rmtree(copy)
    copy.mkdir(parents=True)
    for p in files:
        shutil.copyfile(p, copy / p.name)
    inos = [(p.name, (copy / p.name).read_text(encoding="utf-8", errors="replace"))
            for p in files if p.suffix == ".ino"]
    cpp = workdir.resolve() / f"{name}.ino.cpp"
    cpp.write_text(sketch_cpp(name, inos), encoding="utf-8")

    includes = [SHIM_DIR, lib_src, copy, CM_SUPPORT]
    defines = {**uart_defines(b), "MLRN_SHIM_EEPROM_BYTES": EEPROM_BYTES.get(b.name, DEFAULT_EEPROM_BYTES),
               "ARDUINO": 10819}   # the Arduino IDE version a sketch can test (1.8.19), as the cores define it
    cxx_sources = [cpp, *[copy / p.name for p in files if p.suffix == ".cpp"],
                   *sorted(lib_src.rglob("*.cpp")), *[SHIM_DIR / s for s in SHIM_SOURCES]]
    c_sources = [*[copy / p.name for p in files if p.suffix == ".c"], *sorted(lib_src.rglob("*.c"))]
    objects = [_compile_c(target, b, src, workdir.resolve() / f"c{i}_{src.stem}.o", includes, defines, cflags)
               for i, src in enumerate(c_sources)]
    return target.build(cxx_sources, workdir, include_dirs=includes, defines=defines,
                        cflags=[*CXX_FLAGS, *cflags, *map(str, objects)], language="c++")


def _compile_c(target, board: Board, src: Path, obj: Path, includes, defines, cflags) -> Path:
    """A .c file of the sketch or the library, with the flags the target gives C++ sources (as C)."""
    cmd = [target.cc, "-Os", *board.cflags, *COMMON_CFLAGS, "-ffunction-sections", "-fdata-sections", C_STD,
           "-I", str(SUPPORT_DIR), *[f"-I{d}" for d in includes], *[f"-D{k}={v}" for k, v in defines.items()],
           *[f for f in cflags if not f.startswith("-std=")], "-c", str(src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise BuildError(f"{board.name} build failed: {first.strip()}", proc.stdout + proc.stderr)
    return obj
