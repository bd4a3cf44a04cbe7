"""Build a sketch folder for a named board: `build_sketch(sketch_dir, board)`.

The folder is checked first (Arduino's rules: exactly one <folder name>.ino, a valid sketch name, no link
that leads out of it), the microlearn Arduino library is built when none is given (once per package version,
in microlearn's cache folder), the build goes to the board's builder (AVR boards: arduino-mk, build_avr.py;
Cortex-M boards: the Arduino shim of build_arm.py, loaded when asked for), the result is checked against the
board's flash and SRAM (boards/registry.py) and the artifacts are copied to DIR/build-<board>/ (or `out_dir`):
<Name>.elf, <Name>.hex, <Name>.bin (Cortex-M), build.log and build.json (what was built, for `microlearn
flash`). The user's folder is never built in: the builders work on a copy.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Callable

from microlearn._version import __version__
from microlearn.boards.registry import Board, UnknownBoard, get_board
from microlearn.core.paths import cache_dir
from microlearn.targets.errors import TargetError, TargetUnavailable

from .arduino_library import NAME as LIBRARY_NAME, build_library
from .build_arm import build_sketch_arm
from .build_avr import AVR_BOARDS, build_sketch_avr
from .sketch_build import BuildError, BuildUnavailable, SketchBuild

# The boards as the user types them, and which builder each goes to. nano is the registry's uno (same chip
# and memory) but arduino-mk's board tag differs, so the user's name is kept for the build.
ARM_BOARDS = ("nrf52840", "samd21", "bluepill", "rp2040")
BUILD_BOARDS = (*AVR_BOARDS, *ARM_BOARDS)
ARM_OBJCOPY = "arm-none-eabi-objcopy"
ARM_INSTALL_HINT = "apt-get install binutils-arm-none-eabi gcc-arm-none-eabi"
OBJCOPY_TIMEOUT_S = 60

# Arduino's sketch specification: a name starts with a letter or digit, then letters, digits, '_', '.', '-';
# at most 63 characters.
SKETCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SKETCH_EXT = ".ino"
MAX_SKETCH_FILES = 2000     # a sketch is a handful of files: refuse to copy a home folder given by mistake
BUILD_PREFIX = "build-"     # DIR/build-<board>/: skipped when checking and copying the sketch
MANIFEST = "build.json"
LOG_NAME = "build.log"


def _err(msg: str) -> BuildError:
    return BuildError(msg)


# ------------------------------------------------------------------------------------------ the inputs

def resolve_board(board: str) -> tuple[str, Board]:
    """(the name the build uses, the registry's board). Registry aliases are accepted (mega -> mega2560, pico
    -> rp2040) except that nano stays nano (its own Arduino board tag). ValueError with one line otherwise."""
    if not isinstance(board, str) or not board.strip() or len(board) > 64 or not board.isprintable():
        raise BuildError(f"no such board: {board!r} (choose from {', '.join(BUILD_BOARDS)})")
    key = board.strip().lower()
    try:
        entry = get_board(key)
    except UnknownBoard:
        raise BuildError(f"unknown board {board!r} (choose from {', '.join(BUILD_BOARDS)})") from None
    name = key if key in BUILD_BOARDS else entry.name
    if name not in BUILD_BOARDS:
        raise BuildError(f"no toolchain here builds sketches for {entry.name} ({entry.core}): "
                         f"microlearn builds for {', '.join(BUILD_BOARDS)}")
    return name, entry


def validate_sketch(sketch_dir, skip: tuple[Path, ...] = ()) -> tuple[Path, str]:
    """(the folder, resolved; the sketch's name). BuildError when the folder is missing, holds no or several
    .ino files or a misnamed one, has a name Arduino refuses, or a link leading out of it. `skip`: folders
    inside it that are not part of the sketch (the build output)."""
    raw = Path(sketch_dir)
    if not raw.exists():
        raise BuildError(f"no such sketch folder: {raw}")
    if not raw.is_dir():
        raise BuildError(f"not a sketch folder (a sketch is a folder <Name>/<Name>.ino): {raw}")
    root = raw.resolve()
    name = root.name
    if not SKETCH_NAME.match(name):
        raise BuildError(f"{name!r} is not a valid sketch name: Arduino wants a letter or digit first, then "
                         "letters, digits, '_', '.' or '-', at most 63 characters (rename the folder and its .ino)")
    inos = sorted(p.name for p in root.iterdir() if p.name.lower().endswith(SKETCH_EXT))
    if not inos:
        raise BuildError(f"no {name}{SKETCH_EXT} in {root} (a sketch is a folder <Name>/<Name>{SKETCH_EXT})")
    if len(inos) > 1:
        raise BuildError(f"{len(inos)} .ino files in {root} ({', '.join(inos[:5])}): microlearn builds a sketch "
                         f"of one file, {name}{SKETCH_EXT} (put the rest in .h/.cpp files)")
    if inos[0] != name + SKETCH_EXT:
        raise BuildError(f"the sketch file must be named after its folder: {inos[0]} in {name}/ should be "
                         f"{name}{SKETCH_EXT}")
    main = root / inos[0]
    if main.is_symlink() or not main.is_file():
        raise BuildError(f"{main} is not a regular file")
    skip_resolved = {s.resolve() for s in skip}
    count = 0
    for folder, dirs, files in os.walk(root):          # links are not followed: each one is checked
        here = Path(folder)
        dirs[:] = [d for d in dirs if not (here == root and d.startswith(BUILD_PREFIX))
                   and (here / d).resolve() not in skip_resolved]
        for entry in [*dirs, *files]:
            p = here / entry
            count += 1
            if count > MAX_SKETCH_FILES:
                raise BuildError(f"{root} holds more than {MAX_SKETCH_FILES} files: is it really a sketch folder?")
            if p.is_symlink():
                target = p.resolve()
                if target in p.parents:     # copying the sketch would follow it round forever
                    raise BuildError(f"{p.relative_to(root)} is a link to a folder that holds it (a loop)")
                if root not in target.parents:
                    raise BuildError(f"{p.relative_to(root)} is a link leading out of the sketch folder "
                                     f"(to {target}): copy the file into the sketch instead")
                if not target.exists():
                    raise BuildError(f"{p.relative_to(root)} is a broken link")
    return root, name


def check_library(library_dir) -> Path:
    lib = Path(library_dir)
    if not (lib / "library.properties").is_file() or not (lib / "src" / f"{LIBRARY_NAME}.h").is_file():
        raise BuildError(f"not a microlearn Arduino library (no library.properties or src/{LIBRARY_NAME}.h): "
                         f"{lib} (write one with `microlearn arduino-library`)")
    return lib.resolve()


def library_sources_digest() -> str:
    """What the library is written from: the runtime headers and the library's own files (a changed header
    under an unchanged version, as in a development install, must not reuse an older cached library)."""
    pkg = Path(str(resources.files("microlearn")))
    h = hashlib.sha256()
    for f in sorted([*(pkg / "include").glob("*.h"), *(p for p in (pkg / "deploy" / "arduino").rglob("*")
                                                        if p.is_file())]):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def library_cache_dir() -> Path:
    return cache_dir() / "arduino-library" / f"{__version__}-{library_sources_digest()}" / LIBRARY_NAME


def cached_library(log: Callable[[str], None] = print) -> Path:
    """The microlearn Arduino library of this package version, built once into the cache folder. Written
    beside and renamed into place, so an interrupted or concurrent build never leaves half a library."""
    final = library_cache_dir()
    if (final / "library.properties").is_file():
        return final
    parent = final.parent.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=parent))
    try:
        log(f"writing the microlearn {__version__} Arduino library to {final.parent}")
        build_library(tmp / LIBRARY_NAME)
        try:
            os.rename(tmp, final.parent)
        except OSError:
            if not (final / "library.properties").is_file():   # not a concurrent build that won: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# ------------------------------------------------------------------------------------------ the build

def _build_arm(sketch: Path, name: str, board: Board, library: Path, workdir: Path) -> SketchBuild:
    start = time.monotonic()
    log_path = workdir / LOG_NAME
    try:
        build = build_sketch_arm(sketch, board, library, workdir)
    except TargetUnavailable as exc:
        raise BuildUnavailable(str(exc)) from None
    except TargetError as exc:
        # The target's error (a compiler error, over the board's memory) as this module's, with its log kept
        # like an AVR build's: build_sketch copies it next to the artifacts.
        log_path.write_text(getattr(exc, "log", "") or "")
        raise BuildError(str(exc), log=log_path) from None
    seconds = time.monotonic() - start
    elf = Path(build.path)
    if shutil.which(ARM_OBJCOPY) is None:
        raise BuildUnavailable(f"{ARM_OBJCOPY} not installed ({ARM_INSTALL_HINT})")
    out = {}
    for fmt, ext in (("ihex", ".hex"), ("binary", ".bin")):
        dest = elf.with_suffix(ext)
        p = subprocess.run([ARM_OBJCOPY, "-O", fmt, str(elf), str(dest)], capture_output=True, text=True,
                           timeout=OBJCOPY_TIMEOUT_S)
        if p.returncode:
            raise BuildError(f"{ARM_OBJCOPY} -O {fmt} failed: {p.stderr.strip()[:200]}")
        out[ext] = dest
    log_path.write_text(build.log or "")
    return SketchBuild(board=board.name, sketch=name, elf=elf, hex=out[".hex"], bin=out[".bin"],
                       flash_bytes=int(build.flash_bytes or out[".bin"].stat().st_size),
                       static_ram_bytes=int(build.static_ram_bytes or 0), seconds=seconds, log=log_path)


def flash_budget(name: str, board: Board) -> int:
    """The flash a sketch may take: the registry's, less what an AVR board's serial bootloader keeps (the
    Arduino IDE's limit; the registry counts the whole chip)."""
    return board.flash_bytes - (AVR_BOARDS[name].bootloader_bytes if name in AVR_BOARDS else 0)


def check_fits(result: SketchBuild, board: Board) -> list[str]:
    """BuildError when the flash (result.flash_budget) or the static SRAM is over the board's; warnings
    (returned) when the static SRAM leaves less than the board's stack reserve."""
    over = []
    budget = result.flash_budget if result.flash_budget is not None else board.flash_bytes
    if result.flash_bytes > budget:
        kept = board.flash_bytes - budget
        over.append(f"flash {result.flash_bytes} bytes of {budget} "
                    f"({result.flash_bytes - budget} bytes over" + (f"; the bootloader keeps {kept})" if kept else ")"))
    if result.static_ram_bytes > board.sram_bytes:
        over.append(f"static SRAM {result.static_ram_bytes} bytes of {board.sram_bytes} "
                    f"({result.static_ram_bytes - board.sram_bytes} bytes over)")
    if over:
        raise BuildError(f"{result.sketch} does not fit the {result.board}: {'; '.join(over)}")
    free = board.sram_bytes - result.static_ram_bytes
    if free < board.stack_reserve_bytes:
        return [f"only {free} bytes of SRAM are left for the stack (the {result.board} should keep "
                f"{board.stack_reserve_bytes}): the sketch may crash when it runs"]
    return []


def _copy_artifacts(result: SketchBuild, out: Path) -> SketchBuild:
    copied = {}
    for kind, src in result.artifacts().items():
        dest = out / f"{result.sketch}{src.suffix}"
        shutil.copyfile(src, dest)
        copied[kind] = dest
    log = None
    if result.log is not None and result.log.is_file():
        log = out / LOG_NAME
        shutil.copyfile(result.log, log)
    final = SketchBuild(board=result.board, sketch=result.sketch, elf=copied["elf"], hex=copied.get("hex"),
                        bin=copied.get("bin"), flash_bytes=result.flash_bytes,
                        static_ram_bytes=result.static_ram_bytes, flash_budget=result.flash_budget,
                        sram_budget=result.sram_budget, seconds=result.seconds, log=log)
    (out / MANIFEST).write_text(json.dumps({**final.to_json(), "microlearn": __version__}, indent=1) + "\n")
    return final


def default_out_dir(sketch_dir: Path, board: str) -> Path:
    return Path(sketch_dir) / f"{BUILD_PREFIX}{board}"


def _prepare_out(out_dir) -> Path:
    out = Path(out_dir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BuildError(f"the output folder is not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BuildError(f"cannot create the output folder {out} (a file is in the way)") from None
    return out


def build_sketch(sketch_dir, board: str, *, out_dir=None, library_dir=None,
                 log: Callable[[str], None] = print) -> SketchBuild:
    """Build the sketch folder for `board` (uno, nano, mega2560, nrf52840, samd21, bluepill, rp2040) with the
    microlearn Arduino library (`library_dir`, else the cached one of this version) and copy the artifacts to
    `out_dir` (default: <sketch_dir>/build-<board>/). BuildError (a ValueError) with one line on any failure;
    a failed build's log is kept in `out_dir/build.log`."""
    name_b, board_entry = resolve_board(board)
    skip = (Path(out_dir),) if out_dir is not None else ()
    sketch, name = validate_sketch(sketch_dir, skip)
    given = check_library(library_dir) if library_dir is not None else None
    out = _prepare_out(out_dir if out_dir is not None else default_out_dir(sketch, name_b))
    library = given if given is not None else cached_library(log)
    workdir = Path(tempfile.mkdtemp(prefix="microlearn-build-"))
    try:
        try:
            if name_b in AVR_BOARDS:
                result = build_sketch_avr(sketch, name_b, library, workdir)
            else:
                result = _build_arm(sketch, name, board_entry, library, workdir)
        except BuildError as exc:
            if exc.log is not None and Path(exc.log).is_file():     # keep the log: the work folder goes
                kept = out / LOG_NAME
                shutil.copyfile(exc.log, kept)
                raise BuildError(f"{exc.summary} (full log: {kept})", log=kept, summary=exc.summary) from None
            raise
        result.board = name_b
        result.flash_budget, result.sram_budget = flash_budget(name_b, board_entry), board_entry.sram_bytes
        for warning in check_fits(result, board_entry):
            log(f"warning: {warning}")
        return _copy_artifacts(result, out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def load_build(out_dir, board: str, sketch: str) -> SketchBuild | None:
    """The build `build_sketch` left in `out_dir` for `board` and the sketch named `sketch`, or None when there
    is none, it is for another board, sketch or microlearn version, or an artifact is missing. The manifest is
    not trusted further than that: its artifacts must be <sketch>.elf/.hex/.bin files in `out_dir` itself."""
    out = Path(out_dir).resolve()
    try:
        data = json.loads((out / MANIFEST).read_text())
        if data.get("board") != board or data.get("sketch") != sketch or data.get("microlearn") != __version__:
            return None
        arts = {k: Path(v) for k, v in data["artifacts"].items()}
        if set(arts) - {"elf", "hex", "bin"} or "elf" not in arts:
            return None
        if any(p != out / f"{sketch}.{k}" or p.is_symlink() or not p.is_file() for k, p in arts.items()):
            return None
        return SketchBuild(board=board, sketch=str(data["sketch"]), elf=arts["elf"], hex=arts.get("hex"),
                           bin=arts.get("bin"), flash_bytes=int(data["flash_bytes"]),
                           static_ram_bytes=int(data["static_ram_bytes"]), flash_budget=data.get("flash_budget"),
                           sram_budget=data.get("sram_budget"), seconds=float(data.get("seconds", 0)),
                           log=Path(data["log"]) if data.get("log") else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def is_stale(build: SketchBuild, sketch_dir, out_dir) -> bool:
    """Whether a file of the sketch changed after the build (the build folders themselves excepted)."""
    built = Path(out_dir, MANIFEST).stat().st_mtime
    root, out = Path(sketch_dir).resolve(), Path(out_dir).resolve()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not (here == root and d.startswith(BUILD_PREFIX)) and (here / d).resolve() != out]
        for f in files:
            try:
                if (here / f).stat().st_mtime > built:
                    return True
            except OSError:
                return True
    return False


__all__ = ["ARM_BOARDS", "BUILD_BOARDS", "BuildError", "BuildUnavailable", "SketchBuild", "build_sketch",
           "cached_library", "check_fits", "default_out_dir", "flash_budget", "is_stale", "load_build", "resolve_board",
           "validate_sketch"]
