"""Put a built sketch on the user's board: the exact command per board, run for AVR boards, printed for the rest.

AVR boards are flashed through their serial bootloader with avrdude (the Arduino IDE's command: -D, because
the bootloader erases the pages it writes and a chip erase would take the bootloader with it):

    uno       avrdude -p atmega328p -c arduino -P PORT -b 115200 -D -U flash:w:<hex>:i    (optiboot)
    nano      the same at 57600 baud (the ATmegaBOOT of Nanos sold before 2018, the default here);
              variant new-bootloader: 115200 (optiboot, newer Nanos)
    mega2560  avrdude -p atmega2560 -c wiring -P PORT -b 115200 -D -U flash:w:<hex>:i     (stk500v2)

For the Cortex-M boards microlearn only prints the vendor's command (it has no such board to check a flash
against, and their bootloaders need a button press or a 1200-baud touch first): nrf52840 (Adafruit Feather
nRF52840: adafruit-nrfutil; Arduino Nano 33 BLE: Arduino's bossac), samd21 (bossac; Arduino Zero / MKR,
UF2-bootloader boards), rp2040 (picotool, or a UF2 copy to the RPI-RP2 drive), bluepill (st-flash or openocd
through an ST-Link). Commands are argument lists: nothing goes through a shell.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .sketch_build import SketchBuild

AVRDUDE = "avrdude"
AVRDUDE_INSTALL = "apt-get install avrdude"
FLASH_TIMEOUT_S = 300            # a full Mega 2560 at 115200 baud with verification takes about a minute
# A serial port name: a path of plain characters (a tty, a pty, a link made by socat or udev). Refusing the
# rest keeps shell and avrdude syntax (';', '$', ':', blanks, a leading '-') out of every command printed.
PORT_NAME = re.compile(r"^/[A-Za-z0-9_./+-]{1,255}$")
MAX_ERROR_CHARS = 300


class FlashError(ValueError):
    """A flash that cannot be done (one line for the command line)."""


@dataclass(frozen=True)
class Variant:
    name: str
    title: str                   # which board / bootloader the variant is for
    needs_port: bool
    run_here: bool               # microlearn runs it (True only for avrdude)
    note: str = ""


@dataclass(frozen=True)
class Avrdude:
    part: str
    programmer: str
    baud: int


# board -> variant -> avrdude settings (boards.txt's upload.protocol and upload.speed)
AVRDUDE_SETTINGS = {
    "uno": {"default": Avrdude("atmega328p", "arduino", 115200)},
    "nano": {"old-bootloader": Avrdude("atmega328p", "arduino", 57600),
             "new-bootloader": Avrdude("atmega328p", "arduino", 115200)},
    "mega2560": {"default": Avrdude("atmega2560", "wiring", 115200)},
}

VARIANTS: dict[str, tuple[Variant, ...]] = {
    "uno": (Variant("default", "Arduino Uno (optiboot)", True, True),),
    "nano": (Variant("old-bootloader", "Arduino Nano, ATmega328P (Old Bootloader), 57600 baud", True, True),
             Variant("new-bootloader", "Arduino Nano, ATmega328P (new optiboot bootloader), 115200 baud", True,
                     True)),
    "mega2560": (Variant("default", "Arduino Mega 2560 (stk500v2 bootloader)", True, True),),
    "nrf52840": (Variant("feather", "Adafruit Feather nRF52840 (serial DFU bootloader; pip install "
                         "adafruit-nrfutil)", True, False,
                         "the --touch 1200 puts the board in its bootloader"),
                 Variant("nano33ble", "Arduino Nano 33 BLE (Arduino's BOSSA fork)", True, False,
                         "double-tap reset first: the LED pulses in the bootloader")),
    "samd21": (Variant("default", "Arduino Zero (native USB port) / MKR, SAMD21 with the 8 KB bootloader "
                       "(apt-get install bossa-cli)", True, False,
                       "double-tap reset first; the application starts at 0x2000, after the bootloader"),),
    "rp2040": (Variant("picotool", "Raspberry Pi Pico (apt-get install picotool)", False, False,
                       "hold BOOTSEL while plugging in, or -f reboots a running Pico into BOOTSEL"),
               Variant("uf2", "Raspberry Pi Pico, UF2 copy", False, False,
                       "hold BOOTSEL while plugging in, then copy to the RPI-RP2 drive (e.g. /media/<you>/RPI-RP2/)")),
    "bluepill": (Variant("st-flash", "STM32F103C8 through an ST-Link (apt-get install stlink-tools)", False,
                         False, "the flash starts at 0x08000000"),
                 Variant("openocd", "STM32F103C8 through an ST-Link (apt-get install openocd)", False, False)),
}
UF2_DRIVE = "/path/to/RPI-RP2/"     # shown, never used: the mount point of the Pico's BOOTSEL drive varies
STM32_FLASH_BASE = "0x08000000"
SAMD21_APP_OFFSET = "0x2000"


def variants(board_name: str) -> tuple[Variant, ...]:
    try:
        return VARIANTS[board_name]
    except KeyError:
        raise FlashError(f"microlearn does not know how to flash {board_name!r} "
                         f"(boards: {', '.join(VARIANTS)})") from None


def variant(board_name: str, name: str | None = None) -> Variant:
    options = variants(board_name)
    if name is None:
        return options[0]
    for v in options:
        if v.name == name:
            return v
    raise FlashError(f"no flash variant {name!r} for {board_name} (choose from "
                     f"{', '.join(v.name for v in options)})")


def check_port_name(port) -> str:
    """The port, if it is a plain path (no shell or avrdude syntax, no control characters); FlashError
    otherwise. Says nothing about whether it exists (see check_port)."""
    if not isinstance(port, str) or not port:
        raise FlashError("no serial port given (e.g. --port /dev/ttyACM0)")
    if not PORT_NAME.match(port) or "/../" in port + "/":
        shown = port.encode("unicode_escape").decode("ascii")[:80]
        raise FlashError(f"refusing the port {shown!r}: a serial port is an absolute path of letters, digits "
                         "and / . _ - + (e.g. /dev/ttyACM0, /dev/ttyUSB0)")
    return port


def check_port(port) -> str:
    """The port, if it names an existing character device that is a terminal (a serial port, a pty);
    FlashError with one line otherwise. Opened without becoming the controlling terminal and without waiting
    for a carrier, and closed at once."""
    check_port_name(port)
    try:
        st = os.stat(port)
    except FileNotFoundError:
        raise FlashError(f"no such serial port: {port} (is the board plugged in? see `ls /dev/tty*`)") from None
    except OSError as exc:
        raise FlashError(f"cannot use the port {port}: {exc.strerror}") from None
    if not stat.S_ISCHR(st.st_mode):
        raise FlashError(f"not a serial port (not a character device): {port}")
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        hint = " (add yourself to the dialout group)" if exc.errno == 13 else ""
        raise FlashError(f"cannot open the port {port}: {exc.strerror}{hint}") from None
    try:
        if not os.isatty(fd):
            raise FlashError(f"not a serial port (a character device, but not a terminal): {port}")
    finally:
        os.close(fd)
    return port


def _artifact(build: SketchBuild, kind: str) -> str:
    path = build.artifacts().get(kind)
    if path is None:
        raise FlashError(f"the build of {build.sketch} for {build.board} has no .{kind} file")
    text = str(path)
    if kind == "hex" and ":" in text:    # avrdude's -U memory:op:file:format splits on ':'
        raise FlashError(f"avrdude cannot take a file path holding ':': {text} (build into another folder)")
    return text


def _port_or_placeholder(port: str | None, needed: bool) -> str:
    if port is None:
        if needed:
            raise FlashError("this board is flashed through its serial port: give --port (e.g. /dev/ttyACM0)")
        return ""
    return check_port_name(port)


def flash_steps(board_name: str, artifacts: SketchBuild, port: str | None, *,
                variant_name: str | None = None) -> list[list[str]]:
    """The commands, in order, that put the build on the board (one for most boards; adafruit-nrfutil packs
    first, the UF2 copy converts first). Argument lists, for subprocess and for shlex.join."""
    v = variant(board_name, variant_name)
    p = _port_or_placeholder(port, v.needs_port)
    if board_name in AVRDUDE_SETTINGS:
        a = AVRDUDE_SETTINGS[board_name][v.name]
        return [[AVRDUDE, "-p", a.part, "-c", a.programmer, "-P", p, "-b", str(a.baud), "-D",
                 "-U", f"flash:w:{_artifact(artifacts, 'hex')}:i"]]
    if board_name == "nrf52840" and v.name == "feather":
        hexfile = _artifact(artifacts, "hex")
        pkg = str(Path(hexfile).with_suffix(".zip"))
        return [["adafruit-nrfutil", "dfu", "genpkg", "--dev-type", "0x0052", "--sd-req", "0xFFFE",
                 "--application", hexfile, pkg],
                ["adafruit-nrfutil", "--verbose", "dfu", "serial", "--package", pkg, "-p", p, "-b", "115200",
                 "--singlebank", "--touch", "1200"]]
    if board_name == "nrf52840":
        return [["bossac", "-d", f"--port={p}", "-U", "-i", "-e", "-w", _artifact(artifacts, "bin"), "-R"]]
    if board_name == "samd21":
        return [["bossac", f"--port={p}", "-U", "-i", "-e", "-w", "-v", f"--offset={SAMD21_APP_OFFSET}",
                 _artifact(artifacts, "bin"), "-R"]]
    if board_name == "rp2040" and v.name == "picotool":
        return [["picotool", "load", "-x", _artifact(artifacts, "elf"), "-f"]]
    if board_name == "rp2040":
        elf = _artifact(artifacts, "elf")
        uf2 = str(Path(elf).with_suffix(".uf2"))
        return [["picotool", "uf2", "convert", elf, uf2], ["cp", uf2, UF2_DRIVE]]
    if board_name == "bluepill" and v.name == "st-flash":
        return [["st-flash", "--reset", "write", _artifact(artifacts, "bin"), STM32_FLASH_BASE]]
    if board_name == "bluepill":
        return [["openocd", "-f", "interface/stlink.cfg", "-f", "target/stm32f1x.cfg", "-c",
                 f"program {_artifact(artifacts, 'elf')} verify reset exit"]]
    raise FlashError(f"microlearn does not know how to flash {board_name!r}")


def flash_command(board_name: str, artifacts: SketchBuild, port: str | None, *,
                  variant_name: str | None = None) -> list[str]:
    """The command that writes the flash (the last of flash_steps)."""
    return flash_steps(board_name, artifacts, port, variant_name=variant_name)[-1]


def _avrdude_error(text: str) -> str:
    """The line of avrdude's output that says why it failed: its last error (its summary, e.g. 'unable to
    open programmer arduino on port ...'), not the first of the retries' OS errors."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    plain = [ln for ln in errors if "os error" not in ln.lower()]
    return ((plain or errors or lines or ["no message"])[-1])[:MAX_ERROR_CHARS]


def flash(board_name: str, artifacts: SketchBuild, port: str | None, *, variant_name: str | None = None,
          print_only: bool = False, log: Callable[[str], None] = print, timeout: float = FLASH_TIMEOUT_S) -> int:
    """Flash the build: print the command(s), then run avrdude for an AVR board (unless print_only). For the
    Cortex-M boards the command is only printed: FlashError (a non-zero exit) unless print_only, so a script
    never takes a printed command for a flashed board. Returns 0 when flashed (or printed, with print_only)."""
    v = variant(board_name, variant_name)
    if port is not None and not print_only:
        check_port(port)
    steps = flash_steps(board_name, artifacts, port, variant_name=v.name)
    log(f"# {v.title}" + (f": {v.note}" if v.note else ""))
    for cmd in steps:
        log(shlex.join(cmd))
    if print_only:
        return 0
    if not v.run_here:
        raise FlashError(f"microlearn does not flash the {board_name} itself: run the command above (or pass "
                         "--print-only to just print it)")
    cmd = steps[-1]
    if shutil.which(cmd[0]) is None:
        raise FlashError(f"{cmd[0]} is not installed ({AVRDUDE_INSTALL}); the command would be: {shlex.join(cmd)}")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                           errors="replace")
    except subprocess.TimeoutExpired:
        raise FlashError(f"{cmd[0]} did not finish in {timeout:g} s (is {port} the board's port?)") from None
    if p.returncode:
        raise FlashError(f"{cmd[0]} failed (exit {p.returncode}): {_avrdude_error(p.stderr or p.stdout)}")
    log(f"flashed {artifacts.sketch} to the {board_name} on {port}")
    return 0


__all__ = ["FlashError", "VARIANTS", "check_port", "check_port_name", "flash", "flash_command", "flash_steps",
           "variant", "variants"]
