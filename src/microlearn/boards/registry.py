"""The boards microlearn plans for, and how each is emulated here.

Sizes are the REAL board's (what the planner and the linker enforce); `machine`,
`flash_origin` and `ram_origin` say where the program runs in the emulator.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

KB = 1024


@dataclass(frozen=True)
class Board:
    name: str
    core: str                       # e.g. 'ATmega328P (AVR8)', 'Cortex-M4F'
    mcu: str                        # chip
    clock_hz: int
    flash_bytes: int
    sram_bytes: int
    fpu: bool
    arch: str                       # 'avr' | 'cortex-m' | 'riscv' | 'xtensa'
    compiler: str | None            # cross compiler executable, None if none here
    cflags: tuple[str, ...] = ()    # CPU flags for the compiler (and linker)
    emulator: str | None = None     # 'simavr' | 'qemu-system-arm' | 'qemu-system-riscv32' | None
    machine: str | None = None      # simavr MCU name or qemu -M machine
    machine_args: tuple[str, ...] = ()  # extra emulator arguments (e.g. memory sizes)
    measure: str | None = None      # 'cycles' (exact) | 'instructions' (executed) | None
    stack_reserve_bytes: int = 256  # SRAM kept free for the stack when linking
    # Flash wait states a taken branch's instruction refetch pays at `clock_hz` on a part whose flash has
    # no instruction cache in front of it (targets/cycle_model.py); 0 where a cache or zero-wait flash hides it.
    flash_wait_states: int = 0
    flash_origin: int = 0           # where the program is linked on the emulated machine
    ram_origin: int = 0
    aliases: tuple[str, ...] = ()
    notes: str = ""

    @property
    def emulated(self) -> bool:
        return self.emulator is not None

    def tools_installed(self) -> dict[str, bool]:
        """Which of this board's tools are installed (compiler, emulator)."""
        tools = {}
        if self.compiler:
            tools[self.compiler] = shutil.which(self.compiler) is not None
        if self.emulator == "simavr":
            # The runner links libsimavr; the `simavr` command itself is not used.
            tools["libsimavr-dev"] = os.path.exists("/usr/include/simavr/sim_avr.h")
        elif self.emulator:
            tools[self.emulator] = shutil.which(self.emulator) is not None
        if self.arch == "xtensa" and self.compiler:
            # the C library, whose specs live outside gcc's search path (targets/xtensa.py)
            tools["picolibc-xtensa-lx106-elf"] = os.path.exists("/usr/lib/xtensa-lx106-elf/picolibc.specs")
        return tools


_AVR_NOTES = ("Cycles are exact (simavr executes the real instruction timings). "
              "Output and input go through USART0 at 2 Mbaud. double is 32-bit in avr-gcc.")
_M0_NOTES = ("Emulated on qemu's 'microbit' machine (nRF51, Cortex-M0: ARMv6-M, the same instruction set "
             "as the M0+, so code using an instruction the part lacks faults). Its memory is resized with "
             "-global nrf51-soc.flash-size/sram-size to this board's, so the emulator holds everything "
             "that fits the board (the default microbit has only 256 KB flash and 16 KB RAM). "
             "Instruction counts, and cycles estimated from the Cortex-M0+ timing table (loads/stores and "
             "taken branches 2 cycles, BL 3; targets/cycle_model.py).")

_RV_FLASH = 0x8000_0000  # in the RAM of qemu's virt machine: where -bios none starts the program
_RV_RAM = 0x8400_0000    # 64 MB above: the board's SRAM, whatever its flash size
_RV_NOTES = ("Emulated on qemu's virt machine (qemu-system-riscv32, machine mode, -bios none), its CPU limited "
             "to the part's extensions; linked at 0x80000000 with the board's real flash size and its SRAM "
             "at 0x84000000, and start-up locks PMP over exactly those regions (a store past SRAM or into flash "
             "faults). Instruction counts, and cycles estimated from third parties' measurements on the silicon "
             "and the documented pipeline (targets/cycle_model.py: no maker publishes per-instruction timings "
             "for these cores, so the range is wider than on Cortex-M; docs/targets.md).")
_RV32E_NOTE = ("qemu 7.2 runs the CPU with E instead of I (-cpu rv32,e=true,i=false); see docs/targets.md for "
               "whether it enforces the 16-register limit. gcc -march=rv32ec -mabi=ilp32e never uses x16-x31.")

BOARDS: tuple[Board, ...] = (
    Board("uno", "AVR8", "ATmega328P", 16_000_000, 32 * KB, 2 * KB, False, "avr", "avr-gcc",
          ("-mmcu=atmega328p",), "simavr", "atmega328p", measure="cycles", stack_reserve_bytes=256,
          ram_origin=0x100, aliases=("nano", "atmega328p"),
          notes="Arduino Uno / Nano. The 0.5 KB bootloader is not subtracted from the 32 KB flash. " + _AVR_NOTES),
    Board("mega2560", "AVR8", "ATmega2560", 16_000_000, 256 * KB, 8 * KB, False, "avr", "avr-gcc",
          ("-mmcu=atmega2560",), "simavr", "atmega2560", measure="cycles", stack_reserve_bytes=512,
          ram_origin=0x200, aliases=("mega", "atmega2560"),
          notes="Arduino Mega 2560. " + _AVR_NOTES),
    Board("nrf52840", "Cortex-M4F", "nRF52840", 64_000_000, 1024 * KB, 256 * KB, True, "cortex-m",
          "arm-none-eabi-gcc", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
          "qemu-system-arm", "mps2-an386", measure="instructions", stack_reserve_bytes=4 * KB,
          ram_origin=0x2000_0000, aliases=("nrf52",),
          notes="Emulated on qemu's mps2-an386 (Cortex-M4 with FPU; 4 MB code RAM at 0, 4 MB RAM at "
                "0x20000000), linked with the nRF52840's 1 MB flash / 256 KB RAM limits. Instruction "
                "counts, and cycles estimated from the Cortex-M4 timing tables (targets/cycle_model.py; "
                "flash cache misses not modelled)."),
    Board("bluepill", "Cortex-M3", "STM32F103C8", 72_000_000, 64 * KB, 20 * KB, False, "cortex-m",
          "arm-none-eabi-gcc", ("-mcpu=cortex-m3", "-mthumb"), "qemu-system-arm", "mps2-an385",
          measure="instructions", stack_reserve_bytes=2 * KB, ram_origin=0x2000_0000, aliases=("stm32f103",),
          # RM0008 (STM32F10x reference manual), FLASH_ACR.LATENCY: two wait states for 48 < SYSCLK <= 72 MHz;
          # its prefetch buffer hides them on sequential fetches, not after a taken branch.
          flash_wait_states=2,
          notes="Emulated on qemu's mps2-an385 (Cortex-M3), linked with the STM32F103C8's 64 KB flash / "
                "20 KB RAM limits (flash at 0, where the real part aliases it). No FPU: float is soft. "
                "At 72 MHz the real part has 2 flash wait states (prefetch hides them except after taken "
                "branches: the cycle estimate adds them there)."),
    Board("samd21", "Cortex-M0+", "ATSAMD21G18", 48_000_000, 256 * KB, 32 * KB, False, "cortex-m",
          "arm-none-eabi-gcc", ("-mcpu=cortex-m0plus", "-mthumb"), "qemu-system-arm", "microbit",
          ("-global", f"nrf51-soc.flash-size={256 * KB}", "-global", f"nrf51-soc.sram-size={32 * KB}"),
          measure="instructions", stack_reserve_bytes=2 * KB, ram_origin=0x2000_0000,
          aliases=("zero", "samd21g18"), notes="Arduino Zero / MKR class. " + _M0_NOTES),
    Board("rp2040", "Cortex-M0+", "RP2040", 133_000_000, 2048 * KB, 264 * KB, False, "cortex-m",
          "arm-none-eabi-gcc", ("-mcpu=cortex-m0plus", "-mthumb"), "qemu-system-arm", "microbit",
          ("-global", f"nrf51-soc.flash-size={2048 * KB}", "-global", f"nrf51-soc.sram-size={264 * KB}"),
          measure="instructions", stack_reserve_bytes=4 * KB, ram_origin=0x2000_0000, aliases=("pico",),
          notes="Raspberry Pi Pico (one core used). Flash is external QSPI (XIP, cached): real code from "
                "flash can be much slower than the estimate. " + _M0_NOTES),
    Board("esp32c3", "RV32IMC", "ESP32-C3", 160_000_000, 4096 * KB, 400 * KB, False, "riscv",
          "riscv64-unknown-elf-gcc", ("-march=rv32imc", "-mabi=ilp32"), "qemu-system-riscv32", "virt",
          ("-cpu", "rv32,a=false,f=false,d=false,h=false"), measure="instructions", stack_reserve_bytes=4 * KB,
          flash_origin=_RV_FLASH, ram_origin=_RV_RAM, aliases=("esp32-c3",),
          notes="ESP32-C3 (RV32IMC, no FPU: float is soft). " + _RV_NOTES +
                " Of the 400 KB SRAM, ESP-IDF itself takes a share (and 16 KB is cache): a real build has less."),
    Board("ch32v003", "RV32EC", "CH32V003", 48_000_000, 16 * KB, 2 * KB, False, "riscv",
          "riscv64-unknown-elf-gcc", ("-march=rv32ec", "-mabi=ilp32e"), "qemu-system-riscv32", "virt",
          ("-cpu", "rv32,e=true,i=false,m=false,a=false,f=false,d=false,h=false"), measure="instructions",
          stack_reserve_bytes=256, flash_origin=_RV_FLASH, ram_origin=_RV_RAM, aliases=("ch32v",),
          # CH32V003 reference manual V1.2, 16.3.1 (FLASH_ACTLR.LATENCY): 1 wait state for 24 < SYSCLK <= 48 MHz;
          # its prefetch hides it on sequential code, not after a taken branch (as on the bluepill).
          flash_wait_states=1,
          notes="WCH CH32V003 (RV32EC: 16 registers, no multiply/divide, no FPU), the RISC-V counterpart of the "
                "Uno. " + _RV_NOTES + " " + _RV32E_NOTE),
    Board("esp8266", "Xtensa LX106", "ESP8266EX", 80_000_000, 1024 * KB, 80 * KB, False, "xtensa",
          "xtensa-lx106-elf-gcc", ("-mlongcalls", "-mtext-section-literals"), "qemu-system-xtensa", "sim",
          ("-cpu", "lx106"), measure="instructions", stack_reserve_bytes=4 * KB, flash_origin=0x4020_0000,
          ram_origin=0x3FFE_8000, aliases=("nodemcu", "wemos-d1-mini", "esp-12e"),
          notes="ESP8266 (Xtensa LX106 at 80 MHz, no FPU: float is soft), emulated on qemu-system-xtensa's sim "
                "machine with its lx106 CPU; linked with code in the mapped flash at 0x40200000 (1 MB of the "
                "module's flash) and data in the 80 KB of data RAM the SDK leaves a program at 0x3FFE8000. "
                "Constants are in RAM, as in Arduino's ESP8266 core (the mapped flash takes only aligned 32-bit "
                "loads). A real program has less RAM: Wi-Fi and the SDK take a share (about 40-50 KB of heap is "
                "left with Wi-Fi on). The sim machine has more RAM than the part, so a store past the 80 KB does "
                "not fault; the linker enforces static data and the stack scan measures the stack. Debian's "
                "libgcc for the lx106 lacks soft-float add/multiply and integer division: the target brings its "
                "own (support/xtensa/); the C library is Debian's picolibc. Time is an estimate: executed instructions "
                "costed by the lx106 cycle model (CCOUNT figures others measured on the ESP8266 with code in IRAM; "
                "targets/cycle_model.py, docs/targets.md) / clock; flash-cache misses and the SDK's interrupts "
                "are not modelled (both make a real run slower)."),
    Board("esp32", "Xtensa LX6", "ESP32", 240_000_000, 4096 * KB, 520 * KB, True, "xtensa", None,
          (), None, None, measure=None, stack_reserve_bytes=8 * KB, aliases=("esp32-wroom",),
          notes="Planner figures only: no Xtensa toolchain or emulator here. Of the 520 KB SRAM, 192 KB is "
                "instruction RAM (IRAM) and about 328 KB data RAM (DRAM); ESP-IDF limits static "
                ".data + .bss to about 160 KB and leaves roughly 300 KB of heap with Wi-Fi off "
                "(much less with Wi-Fi/BLE). The FPU is single precision."),
)

_BY_NAME = {}
for _b in BOARDS:
    for _n in (_b.name, *_b.aliases):
        _BY_NAME[_n] = _b


class UnknownBoard(ValueError):
    """get_board() was given a name that is not a board or alias."""


def list_boards() -> list[Board]:
    """All boards, in display order."""
    return list(BOARDS)


def get_board(name: str) -> Board:
    """A board by name or alias (case-insensitive); UnknownBoard (a ValueError) lists the valid names."""
    board = _BY_NAME.get(name.strip().lower())
    if board is None:
        valid = ", ".join(f"{b.name}" + (f" ({', '.join(b.aliases)})" if b.aliases else "") for b in BOARDS)
        raise UnknownBoard(f"unknown board {name!r}; valid boards: {valid}")
    return board


__all__ = ["Board", "BOARDS", "UnknownBoard", "get_board", "list_boards"]
