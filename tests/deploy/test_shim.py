"""The Arduino shim (deploy/shim, deploy/build_arm.py): the library's very sketches, unchanged, built with
arm-none-eabi-g++ for the Cortex-M boards and run on qemu with UART0 as Serial. They print what the same
sketch prints on an Uno under simavr through the real Arduino AVR core (all but the measured milliseconds)
and what their Python twins compute; the self-learning loop keeps its model in the shim's EEPROM across a
power cycle; Print formats numbers as the AVR core does (against the core itself and against a float32
mirror of its printFloat); time, EEPROM and Serial input behave; bad sketch folders, boards and run-file
names give one clear error."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from arduino_sketches import (ARDUINO_DIR, ROOM_ROWS, build_sketch, decode_model_payload, expected_loop,
                              ino_list, ino_table, library, loop_report, makefile, needs_arduino_mk, room,
                              room_features, run_learner, run_uno, vibration_features)
from conftest import board_param, tools_missing
from microlearn.boards import get_board
from microlearn.deploy.arduino_library import EXAMPLES, iris_estimator
from microlearn.deploy.build_arm import EEPROM_BYTES, SketchError, build_sketch_arm
from microlearn.learner import persist_format as pf
from microlearn.targets import get_target
from microlearn.targets.errors import BuildError
from microlearn.trainer.estimator import SMOClassifier

__all__ = ["library"]   # the session fixture

SKETCHES = Path(__file__).resolve().parent / "sketches"
EEPROM_FILE = "mlrn_eeprom.bin"
MS = re.compile(r"\b\d+ ms$")          # TrainOnDevice's measured time: the one thing that differs
RUN_TIMEOUT = 300


def shim_run(library: Path, sketch: Path, board: str, workdir: Path, **run):
    """Build `sketch` through the shim for `board`, run it with UART0 as its I/O: (Serial lines, Build,
    RunResult)."""
    build = build_sketch_arm(sketch, get_board(board), library, workdir / f"{sketch.name}-{board}")
    res = get_target(board).run(build, uart=True, timeout=RUN_TIMEOUT, **run)
    return res.output.splitlines(), build, res


def check_fits(board: str, build, res) -> None:
    b = get_board(board)
    assert build.flash_bytes <= b.flash_bytes
    assert build.static_ram_bytes + res.stack_bytes <= b.sram_bytes


_UNO: dict[str, list[str]] = {}


def uno_lines(library: Path, example: str, workdir: Path) -> list[str] | None:
    """The example's Serial lines on the Uno (arduino-mk + the AVR core, simavr), once per session; None
    when arduino-mk or simavr is missing (then only the Python twins are the reference)."""
    if example not in _UNO:
        if not (ARDUINO_DIR / "Arduino.mk").exists() or tools_missing("uno"):
            return None
        _UNO[example] = run_uno(build_sketch(library, example, workdir, board="uno"), workdir)[0]
    return _UNO[example]


def same_as_uno(lines: list[str], uno: list[str] | None) -> None:
    if uno is not None:
        assert [MS.sub("N ms", ln) for ln in lines] == [MS.sub("N ms", ln) for ln in uno]


# ------------------------------------------------------------------- what each example must print

def check_train_on_device(library: Path, lines: list[str]) -> None:
    ino = (library / "examples" / "TrainOnDevice" / "TrainOnDevice.ino").read_text()
    X, y = vibration_features(ino_table(ino, "training_readings"))
    Xt, yt = vibration_features(ino_table(ino, "test_readings"))
    ref = SMOClassifier(kernel="linear", C=1.0).fit(X, y)
    assert lines[0].startswith("TrainOnDevice: microlearn ")
    assert f"stored {len(X)} readings" in lines
    m = [re.match(r"trained: status (-?\d+) \(ok\), (\d+) iterations, \d+ ms$", ln) for ln in lines
         if ln.startswith("trained: ")]
    assert m and m[0], lines
    assert int(m[0].group(1)) == 0 and int(m[0].group(2)) == int(np.sum(ref.n_iter_))
    tests = [re.match(r"test (\d+): (\d+) mg (\d+) Hz -> class (-?\d+) \(.*\), true (\d+) ", ln) for ln in lines
             if ln.startswith("test ")]
    assert len(tests) == len(Xt) and all(tests)
    got = np.array([int(t.group(4)) for t in tests])
    assert got.tolist() == ref.predict(Xt).tolist()
    assert f"accuracy {int((got == yt).sum())}/{len(yt)}" in lines and lines[-1] == "DONE"


def check_exported_model(library: Path, lines: list[str]) -> None:
    ino = (library / "examples" / "ExportedModel" / "ExportedModel.ino").read_text()
    X = np.array([[float(v.rstrip("f")) for v in row] for row in ino_table(ino, "flowers")], np.float32)
    truth = [int(v) for v in ino_list(ino, "species")]
    est, _, names = iris_estimator()
    want, proba = est.predict(X), est.predict_proba(X)
    rows = [re.match(r"flower (\d+):((?: [\d.]+){4}) -> class (\d+) (\w+) p=([\d.]+), true (\w+)$", ln)
            for ln in lines if ln.startswith("flower ")]
    assert len(rows) == len(X) and all(rows), lines
    assert [r.group(4) for r in rows] == want.tolist()
    assert [r.group(6) for r in rows] == [names[t] for t in truth]
    k = [list(est.classes_).index(w) for w in want]
    assert np.allclose([float(r.group(5)) for r in rows], proba[np.arange(len(X)), k], atol=6e-5)
    right = int(sum(w == names[t] for w, t in zip(want, truth)))
    assert f"right {right}/{len(X)}" in lines and lines[-1] == "DONE"


def check_self_learning_loop(library: Path, lines: list[str]) -> dict:
    T, H, V = room()
    ref = run_learner(room_features(T, H), V)
    assert lines[1].startswith("no saved model (status -9)")          # a blank EEPROM: nothing valid
    assert loop_report(lines) == expected_loop(ref, V)
    return ref


CHECKS = {"TrainOnDevice": check_train_on_device, "ExportedModel": check_exported_model,
          "SelfLearningLoop": check_self_learning_loop}
# One default run per board; the rest of the matrix is slow.
DEFAULT = {("TrainOnDevice", "nrf52840"), ("SelfLearningLoop", "samd21")}


@pytest.mark.parametrize("example,board", [
    pytest.param(ex, b, marks=board_param(b, slow=(ex, b) not in DEFAULT).marks, id=f"{ex}-{b}")
    for ex in EXAMPLES for b in ("nrf52840", "samd21")])
def test_example_through_the_shim_prints_what_the_uno_and_python_print(library, tmp_path, example, board):
    lines, build, res = shim_run(library, library / "examples" / example, board, tmp_path)
    check_fits(board, build, res)
    CHECKS[example](library, lines)
    same_as_uno(lines, uno_lines(library, example, tmp_path))
    assert res.extra["semihosting_output"] == ""          # Serial is the UART, nothing else printed


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_self_learning_loop_survives_a_power_cycle(library, tmp_path, board):
    sketch = library / "examples" / "SelfLearningLoop"
    T, H, V = room()
    X = room_features(T, H)
    # first power-on: no EEPROM file (erased), learns from scratch, saves each accepted model
    lines, build, res = shim_run(library, sketch, board, tmp_path, keep=[EEPROM_FILE])
    ref = check_self_learning_loop(library, lines)
    assert loop_report(lines)["saves"] == [(i, 0) for i in ref["accepted"]] and ref["accepted"]
    image = res.extra["files"][EEPROM_FILE]
    assert len(image) == EEPROM_BYTES[board]
    slot = pf.load(image[:256])
    assert slot.tag == 0x4C52 and slot.seq == len(ref["accepted"])
    nc, d, (W, b, cmap) = decode_model_payload(slot.payload)
    W_ref, b_ref, cmap_ref = ref["learner"].model
    assert (nc, d, cmap) == (3, 2, list(cmap_ref))
    assert W.tobytes() == np.asarray(W_ref, np.float32).tobytes()
    assert b.tobytes() == np.asarray(b_ref, np.float32).tobytes()
    assert set(image[256:]) == {0xFF}                                   # the rest of the EEPROM is the user's

    # second power-on of the same firmware with that EEPROM: restored, used from the first reading
    res2 = get_target(board).run(build, uart=True, timeout=RUN_TIMEOUT, files={EEPROM_FILE: image},
                                 keep=[EEPROM_FILE])
    lines2 = res2.output.splitlines()
    assert lines2[1] == "restored a model of 3 classes from the EEPROM"
    ref2 = run_learner(X, V, model=(W, b, cmap))
    assert loop_report(lines2) == expected_loop(ref2, V)
    assert (ref2["predictions"][:50] == V[:50]).sum() > (ref["predictions"][:50] == V[:50]).sum()
    assert pf.load(res2.extra["files"][EEPROM_FILE][:256]).seq == len(ref["accepted"]) + len(ref2["accepted"])
    assert len(V) == ROOM_ROWS


# ------------------------------------------------------------------------------ Print's formatting

def avr_printf(x: np.float32, digits: int) -> str:
    """The AVR core's Print::printFloat (Print.cpp) in float32, step for step (double is float on AVR)."""
    f32 = np.float32
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    if x > f32(4294967040.0) or x < f32(-4294967040.0):
        return "ovf"
    out = ""
    if x < 0:
        out, x = "-", f32(-x)
    rounding = f32(0.5)
    for _ in range(digits):
        rounding = f32(rounding / f32(10))
    x = f32(x + rounding)
    int_part = int(x)
    rem = f32(x - f32(int_part))
    out += str(int_part) + ("." if digits > 0 else "")
    for _ in range(digits):
        rem = f32(rem * f32(10))
        d = int(rem)
        out += str(d)
        rem = f32(rem - f32(d))
    return out


def avr_print_long(n: int, base: int) -> str:
    """Print::print(long, base): '-' only in base 10; other bases print the two's-complement unsigned long."""
    if base == 10 and n < 0:
        return "-" + str(-n)
    return np.base_repr(n & 0xFFFFFFFF, base)


def _float(token: str) -> np.float32:
    special = {"NAN": np.nan, "INFINITY": np.inf, "-INFINITY": -np.inf}
    return np.float32(special[token] if token in special else float(token.rstrip("f")))


def print_format_expected() -> list[str]:
    ino = (SKETCHES / "PrintFormat" / "PrintFormat.ino").read_text()
    digits = int(re.search(r"#define MAX_DIGITS (\d+)", ino).group(1))
    floats = [_float(v) for v in ino_list(ino, "floats")]
    longs = [eval(v.replace("L", "")) for v in ino_list(ino, "longs")]   # integer literals of the table
    lines = [" ".join([f"f {i}:", avr_printf(v, 2), *(avr_printf(v, d) for d in range(digits + 1))])
             for i, v in enumerate(floats)]
    lines += [" ".join([f"l {i}:", *(s for b in (10, 16, 8, 2) for s in (avr_print_long(n, b),
                                                                          np.base_repr(n & 0xFFFFFFFF, b)))])
              for i, n in enumerate(longs)]
    return lines


def uno_sketch(library: Path, sketch: Path, workdir: Path) -> list[str]:
    """A test sketch built with arduino-mk against the AVR core (with the microlearn library) and run on the
    uno target."""
    folder = workdir / "uno" / sketch.name
    shutil.copytree(sketch, folder)
    (folder / "Makefile").write_text(makefile("uno", library.parent))
    p = subprocess.run(["make"], cwd=folder, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "LC_ALL": "C"})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    (elf,) = sorted((folder / "build-uno").glob("*.elf"))
    return run_uno(elf, workdir)[0]


@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("samd21")])
def test_print_formats_numbers_as_the_avr_core_printfloat(library, tmp_path, board):
    """Against a float32 mirror of the AVR core's printFloat and printNumber (no AVR tools needed)."""
    lines, _, _ = shim_run(library, SKETCHES / "PrintFormat", board, tmp_path)
    assert lines[0] == "PrintFormat" and lines[-1] == "DONE"
    want = print_format_expected()
    assert lines[1:1 + len(want)] == want
    # the sketch's last line: unsigned char DEC and HEX, a char, an int, an unsigned, base 0, a double
    assert lines[-2] == " ".join([str(200), format(200, "X"), "x", avr_print_long(-12345, 10), str(54321),
                                  chr(65), avr_printf(np.float32(2.5), 3)])


@pytest.mark.avr
@needs_arduino_mk
@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("samd21", slow=True)])
def test_print_text_is_the_uno_text(library, tmp_path, board):
    """The same sketch through the real AVR core on the Uno and through the shim: the same text, line for line."""
    lines, _, _ = shim_run(library, SKETCHES / "PrintFormat", board, tmp_path)
    assert lines == uno_sketch(library, SKETCHES / "PrintFormat", tmp_path)


# ------------------------------------------------------------------------ time, EEPROM, Serial input

@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("samd21")])
def test_time_eeprom_and_serial_input(library, tmp_path, board):
    text = "hello world\nmixed Case 123\n" + "x" * 70 + "\n.\n"
    lines, build, res = shim_run(library, SKETCHES / "ShimIO", board, tmp_path, input_bytes=text.encode(),
                                 keep=[EEPROM_FILE])
    kv = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in lines if " " in ln}
    ino = (SKETCHES / "ShimIO" / "ShimIO.ino").read_text()
    delay_ms = int(re.search(r"#define DELAY_MS (\d+)u", ino).group(1))
    delay_us = int(re.search(r"#define DELAY_US (\d+)u", ino).group(1))
    # SysTick follows the host's clock under qemu: at least the delay, and the run took that long
    assert delay_ms <= int(kv["delay"]) < delay_ms + 100
    assert delay_us <= int(kv["delayMicroseconds"]) < delay_us + 100_000
    assert res.extra["wall_seconds"] >= (delay_ms + delay_us / 1000) / 1000
    assert lines[lines.index("ready") - 5:lines.index("ready")] == [
        f"eeprom length {EEPROM_BYTES[board]}", "boots before 255", "got 3.50 1234 -7 0.250", "cell 2 5A",
        "outside 255 255 FFFF3344"]
    # every received line comes back upper-cased (70 bytes in a row: more than the 64-byte ring)
    echoed = [ln[len("echo "):] for ln in lines if ln.startswith("echo ")]
    assert echoed == [s.upper() for s in text.splitlines()[:-1]] and lines[-1] == "DONE"
    assert "peek differs from read" not in lines
    image = res.extra["files"][EEPROM_FILE]
    assert len(image) == EEPROM_BYTES[board] and image[0] == 0 and image[2] == 0x5A
    assert image[-2:] == bytes([0x44, 0x33])            # put() past the end: the bytes inside landed
    # the next run finds what this one left (a boot counter)
    res2 = get_target(board).run(build, uart=True, input_bytes=b".\n", timeout=RUN_TIMEOUT,
                                 files={EEPROM_FILE: image}, keep=[EEPROM_FILE])
    assert "boots before 0" in res2.output.splitlines() and res2.extra["files"][EEPROM_FILE][0] == 1


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_uart_off_by_default_and_run_files_checked(library, tmp_path, board):
    build = build_sketch_arm(SKETCHES / "ShimIO", board, library, tmp_path / "w")
    target = get_target(board)
    cmd = target.qemu_command(build)
    i = cmd.index("-serial")
    assert cmd[i:i + 2] == ["-serial", "none"] and "-chardev" not in cmd   # the pair the serial bridge replaces
    for bad in ("../x", "/etc/passwd", "", "a/b", "mlrn_output.bin", "mlrn_uart0.in", ".hidden", "x" * 80):
        with pytest.raises(ValueError, match="plain file name"):
            target.run(build, uart=True, files={bad: b"1"})
        with pytest.raises(ValueError, match="plain file name"):
            target.run(build, uart=True, keep=[bad])


# ------------------------------------------------------------------------------- bad sketch folders

@pytest.mark.hostile
def test_bad_sketch_folders_and_boards_give_one_clear_error(library, tmp_path):
    good = SKETCHES / "PrintFormat"
    wrong = tmp_path / "Wrong"
    wrong.mkdir()
    (wrong / "Other.ino").write_text("void setup() {}\nvoid loop() {}\n")
    bad = tmp_path / "-o x"
    bad.mkdir()
    (bad / "-o x.ino").write_text("void setup() {}\nvoid loop() {}\n")
    cases = [((good, "uno", library), "not a Cortex-M board"),
             ((tmp_path / "nope", "nrf52840", library), "does not exist"),
             ((wrong, "nrf52840", library), r"must be Wrong\.ino.*found Other\.ino"),
             ((bad, "nrf52840", library), "sketch name"),
             ((good, "nrf52840", tmp_path), "no src/")]
    for args, match in cases:
        with pytest.raises(SketchError, match=match) as err:
            build_sketch_arm(*args, tmp_path / "w")
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_compiler_errors_name_the_ino_and_its_line(library, tmp_path, board):
    """No generated prototypes, and the #line marks: an error points into the .ino the user wrote."""
    sketch = tmp_path / "Broken"
    sketch.mkdir()
    (sketch / "Broken.ino").write_text("void setup() {\n  helper();\n}\nvoid loop() {}\nvoid helper() {}\n")
    (sketch / "Extra.ino").write_text("int extra_value = 1;\n")
    with pytest.raises(BuildError, match=r"Broken\.ino:2:"):
        build_sketch_arm(sketch, board, library, tmp_path / "w")
