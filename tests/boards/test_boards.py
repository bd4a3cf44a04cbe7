"""Board registry and the `microlearn boards` command (no emulator needed)."""
from __future__ import annotations

import json

import pytest

from microlearn.boards import Board, UnknownBoard, get_board, list_boards
from microlearn.cli.main import main
from microlearn.targets import TargetUnavailable, get_target

KB = 1024

# name: (core, clock_hz, flash, sram, fpu, emulator machine, measure)
EXPECTED = {
    "uno": ("AVR8", 16_000_000, 32 * KB, 2 * KB, False, "atmega328p", "cycles"),
    "mega2560": ("AVR8", 16_000_000, 256 * KB, 8 * KB, False, "atmega2560", "cycles"),
    "nrf52840": ("Cortex-M4F", 64_000_000, 1024 * KB, 256 * KB, True, "mps2-an386", "instructions"),
    "bluepill": ("Cortex-M3", 72_000_000, 64 * KB, 20 * KB, False, "mps2-an385", "instructions"),
    "samd21": ("Cortex-M0+", 48_000_000, 256 * KB, 32 * KB, False, "microbit", "instructions"),
    "rp2040": ("Cortex-M0+", 133_000_000, 2048 * KB, 264 * KB, False, "microbit", "instructions"),
    "esp32c3": ("RV32IMC", 160_000_000, 4096 * KB, 400 * KB, False, "virt", "instructions"),
    "ch32v003": ("RV32EC", 48_000_000, 16 * KB, 2 * KB, False, "virt", "instructions"),
    "esp8266": ("Xtensa LX106", 80_000_000, 1024 * KB, 80 * KB, False, "sim", "instructions"),
    "esp32": ("Xtensa LX6", 240_000_000, 4096 * KB, 520 * KB, True, None, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_board_facts(name):
    b = get_board(name)
    core, clock, flash, sram, fpu, machine, measure = EXPECTED[name]
    assert (b.core, b.clock_hz, b.flash_bytes, b.sram_bytes, b.fpu, b.machine, b.measure) == \
        (core, clock, flash, sram, fpu, machine, measure)
    assert 0 < b.stack_reserve_bytes < b.sram_bytes // 4
    assert b.notes


def test_list_and_aliases():
    assert [b.name for b in list_boards()] == list(EXPECTED)
    assert get_board("nano") is get_board("uno")
    assert get_board(" UNO ") is get_board("uno")
    assert isinstance(get_board("pico"), Board)


def test_unknown_board_lists_valid_names():
    with pytest.raises(UnknownBoard) as info:
        get_board("arduino-due")
    msg = str(info.value)
    assert "arduino-due" in msg and all(name in msg for name in EXPECTED)
    assert isinstance(info.value, ValueError)


def test_compiler_flags_match_the_core():
    assert get_board("uno").cflags == ("-mmcu=atmega328p",)
    assert get_board("mega2560").cflags == ("-mmcu=atmega2560",)
    assert get_board("nrf52840").cflags == ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
    assert get_board("bluepill").cflags == ("-mcpu=cortex-m3", "-mthumb")
    assert get_board("samd21").cflags == get_board("rp2040").cflags == ("-mcpu=cortex-m0plus", "-mthumb")
    assert get_board("esp32c3").cflags == ("-march=rv32imc", "-mabi=ilp32")
    assert get_board("ch32v003").cflags == ("-march=rv32ec", "-mabi=ilp32e")


@pytest.mark.parametrize("name", ["samd21", "rp2040"])
def test_microbit_memory_is_resized_to_the_board(name):
    """qemu's microbit has 256 KB flash / 16 KB RAM by default; the board's sizes are passed instead."""
    b = get_board(name)
    args = " ".join(b.machine_args)
    assert f"nrf51-soc.flash-size={b.flash_bytes}" in args and f"nrf51-soc.sram-size={b.sram_bytes}" in args


def test_targets_by_kind():
    assert get_target("uno").kind == "avr" and get_target("uno").board is get_board("uno")
    assert get_target("nano").name == "uno"
    assert get_target("rp2040").kind == "cortex-m"
    assert get_target("ch32v003").kind == get_target("esp32c3").kind == "riscv"
    with pytest.raises(TargetUnavailable):
        get_target("esp32")


def test_boards_command_json(capsys):
    assert main(["boards", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == set(EXPECTED)
    assert by_name["uno"]["sram_bytes"] == 2048 and by_name["uno"]["measure"] == "cycles"
    assert by_name["esp32"]["available"] is False and by_name["esp32"]["emulator"] is None
    assert all(isinstance(v, bool) for r in rows for v in r["tools"].values())


def test_boards_command_table(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert "nrf52840" in out and "mps2-an386" in out and "no emulator" in out
