"""`microlearn build` and `microlearn flash` (deploy/build.py, build_avr.py, flash.py): the library's examples
build for uno, nano and mega2560 through the command line, with the artifacts in DIR/build-<board>/ and the
sizes avr-size reports; the uno build runs in simavr and prints what the exported model predicts; the flash
commands are exact per board; every bad input is one line on stderr and a non-zero exit."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tty
from pathlib import Path

import pytest

import microlearn
from arduino_sketches import build_sketch, ino_table, library, needs_arduino_mk, run_uno
from microlearn.cli.main import main
from microlearn.deploy.arduino_library import EXAMPLES, iris_estimator
from fake_optiboot import SIGNATURES, FakeOptiboot, intel_hex_image
from microlearn.deploy.build import BUILD_BOARDS, MANIFEST, SketchBuild
from microlearn.deploy.build import build_sketch as build_sketch_fn
from microlearn.deploy.flash import VARIANTS, flash_command, flash_steps

__all__ = ["library"]   # the session fixture

MCU = {"uno": "atmega328p", "nano": "atmega328p", "mega2560": "atmega2560"}
# boards.txt's upload.maximum_size (the registry's flash less the bootloader) and maximum_data_size
BUDGET = {"uno": (32256, 2048), "nano": (30720, 2048), "mega2560": (253952, 8192)}
# (board, example) built by default: every example on the uno, one per other AVR board; the rest are slow.
TOO_BIG: set = set()    # every example fits every AVR board (see test_a_sketch_over_the_flash_is_refused)
DEFAULT_BUILDS = {("uno", e) for e in EXAMPLES} | {("nano", "ExportedModel"), ("mega2560", "ExportedModel")}


def cli(capsys, *args) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def sketch_copy(library: Path, example: str, where: Path) -> Path:
    dst = where / example
    shutil.copytree(library / "examples" / example, dst)
    return dst


def avr_size_c(elf: Path, mcu: str) -> tuple[int, int]:
    """avr-size's own AVR summary: Program (.text + .data + .bootloader), Data (.data + .bss + .noinit)."""
    out = subprocess.run(["avr-size", "-C", f"--mcu={mcu}", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return (int(re.search(r"Program:\s+(\d+)", out).group(1)), int(re.search(r"Data:\s+(\d+)", out).group(1)))


def one_line_error(rc: int, err: str, command: str) -> str:
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"microlearn {command}: error: "), lines[0]
    return lines[0]


def build_params():
    for board in ("uno", "nano", "mega2560"):
        for example in EXAMPLES:
            slow = (board, example) not in DEFAULT_BUILDS
            yield pytest.param(board, example, marks=[pytest.mark.slow] if slow else [], id=f"{board}-{example}")


# ------------------------------------------------------------------------------------------ builds

@pytest.mark.avr
@needs_arduino_mk
def test_a_sketch_over_the_flash_is_refused(library, tmp_path, capsys):
    """SelfLearningLoop with the DDM detector compiled in and chosen (MLRN_LEARNER_DDM 1, p.drift) is over a
    Nano's 30,720 B (the window build is 30,604 B even with the CRC table): refused with the figure, nothing
    written."""
    sketch = sketch_copy(library, "SelfLearningLoop", tmp_path)
    ino = sketch / "SelfLearningLoop.ino"
    text = ino.read_text()
    assert "#include <microlearn.h>" in text and "mlrn_learner_params p = mlrn_learner_default_params();" in text
    text = text.replace("#include <microlearn.h>", "#define MLRN_LEARNER_DDM 1\n#include <microlearn.h>", 1)
    text = text.replace("mlrn_learner_params p = mlrn_learner_default_params();",
                        "mlrn_learner_params p = mlrn_learner_default_params();\n  p.drift = MLRN_DRIFT_DDM;", 1)
    ino.write_text(text)
    rc, out, err = cli(capsys, "build", sketch, "--board", "nano", "--library", library)
    line = one_line_error(rc, err, "build")
    m = re.fullmatch(r"microlearn build: error: SelfLearningLoop does not fit the nano: flash (\d+) bytes of 30720 "
                     r"\((\d+) bytes over; the bootloader keeps 2048\)", line)
    assert m and int(m.group(1)) - 30720 == int(m.group(2)) > 0, line
    assert sorted(p.name for p in (sketch / "build-nano").iterdir()) == []    # no artifacts


@needs_arduino_mk
@pytest.mark.parametrize("board,example", build_params())
def test_build_the_examples(library, tmp_path, capsys, board, example):
    sketch = sketch_copy(library, example, tmp_path)
    before = sorted(p.name for p in sketch.iterdir())
    rc, out, err = cli(capsys, "build", sketch, "--board", board, "--library", library)
    if (board, example) in TOO_BIG:
        # docs/arduino.md: SelfLearningLoop takes about 30.7 KB, over the 30,720 B a Nano's bootloader leaves
        used = avr_size_c(build_sketch(library, example, tmp_path / "ref", board=board), MCU[board])[0]
        budget = BUDGET[board][0]
        line = one_line_error(rc, err, "build")
        assert line == (f"microlearn build: error: {example} does not fit the {board}: flash {used} bytes of "
                        f"{budget} ({used - budget} bytes over; the bootloader keeps {32768 - budget})")
        assert sorted(p.name for p in (sketch / f"build-{board}").iterdir()) == []    # no artifacts
        return
    assert rc == 0, err
    outdir = sketch / f"build-{board}"
    elf, hexfile = outdir / f"{example}.elf", outdir / f"{example}.hex"
    assert elf.is_file() and hexfile.is_file() and (outdir / "build.log").is_file()
    assert sorted(p.name for p in sketch.iterdir()) == sorted(before + [f"build-{board}"])   # nothing else written
    flash, sram = avr_size_c(elf, MCU[board])
    lines = out.splitlines()
    assert lines[0].startswith(f"built {example} for {board} in ")
    assert f"  elf   {elf}" in lines and f"  hex   {hexfile}" in lines
    budget_flash, budget_sram = BUDGET[board]
    assert f"  flash {flash} of {budget_flash} bytes ({100 * flash / budget_flash:.1f}%)" in lines
    assert any(ln.startswith(f"  SRAM  {sram} of {budget_sram} bytes static") for ln in lines)
    manifest = json.loads((outdir / MANIFEST).read_text())
    assert (manifest["flash_bytes"], manifest["static_ram_bytes"]) == (flash, sram)
    # the .hex is the image of the ELF's flash sections: as long as .text + .data
    data = b"".join(bytes.fromhex(ln[9:-2]) for ln in hexfile.read_text().split() if ln[7:9] == "00")
    assert len(data) == flash


@pytest.mark.avr
@needs_arduino_mk
def test_the_uno_build_runs_in_simavr_and_equals_the_test_build(library, tmp_path, capsys):
    """ExportedModel built by `microlearn build --json` is the firmware the sketch tests build (same .hex)
    and prints the exported estimator's predictions in simavr."""
    sketch = sketch_copy(library, "ExportedModel", tmp_path)
    rc, out, err = cli(capsys, "build", sketch, "--board", "uno", "--library", library, "--json")
    assert rc == 0, err
    res = json.loads(out)
    elf = Path(res["artifacts"]["elf"])
    assert res["board"] == "uno" and (res["flash_budget"], res["sram_budget"]) == BUDGET["uno"]
    assert (res["flash_bytes"], res["static_ram_bytes"]) == avr_size_c(elf, "atmega328p")
    ref_elf = build_sketch(library, "ExportedModel", tmp_path / "ref")
    assert Path(res["artifacts"]["hex"]).read_bytes() == ref_elf.with_suffix(".hex").read_bytes()

    lines, report = run_uno(elf, tmp_path)
    assert res["static_ram_bytes"] + report.stack_bytes <= BUDGET["uno"][1]
    ino = (sketch / "ExportedModel.ino").read_text()
    X = [[float(v.rstrip("f")) for v in row] for row in ino_table(ino, "flowers")]
    est, _, _ = iris_estimator()
    got = [m.group(1) for m in (re.match(r"flower \d+:.* -> class \d+ (\w+) p=", ln) for ln in lines) if m]
    assert got == est.predict(X).tolist()
    assert lines[-1] == "DONE"


@pytest.mark.avr
@needs_arduino_mk
def test_the_library_is_built_once_into_the_cache(library, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MICROLEARN_CACHE", str(tmp_path / "cache"))
    sketch = sketch_copy(library, "TrainOnDevice", tmp_path)
    rc, out, err = cli(capsys, "build", sketch, "--board", "uno")
    assert rc == 0, err
    assert out.splitlines()[0].startswith("writing the microlearn ")
    cached = next((tmp_path / "cache" / "arduino-library").glob("*/microlearn/library.properties"))
    assert cached.read_bytes() == (library / "library.properties").read_bytes()
    stamp = cached.stat().st_mtime_ns
    rc, out, err = cli(capsys, "build", sketch, "--board", "nano", "--out", tmp_path / "nano-out")
    assert rc == 0, err
    assert not out.startswith("writing") and cached.stat().st_mtime_ns == stamp
    assert (tmp_path / "nano-out" / "TrainOnDevice.hex").is_file()
    assert [p.name for p in (tmp_path / "cache" / "arduino-library").iterdir()] == [cached.parent.parent.name]


@pytest.mark.avr
@needs_arduino_mk
def test_a_compile_error_is_the_compilers_first_error_line(library, tmp_path, capsys):
    sketch = tmp_path / "Broken"
    sketch.mkdir()
    (sketch / "Broken.ino").write_text("#include <microlearn.h>\nvoid setup() { int x = ; }\nvoid loop() {}\n"
                                       "void more() { undeclared(); }\n")
    rc, out, err = cli(capsys, "build", sketch, "--board", "uno", "--library", library)
    line = one_line_error(rc, err, "build")
    assert re.search(r"the build for uno failed: \S*Broken\.ino:2: error: expected primary-expression", line), line
    log = sketch / "build-uno" / "build.log"
    assert f"(full log: {log})" in line and "undeclared" in log.read_text()    # the whole log is kept
    assert len(line) < 400


@pytest.mark.cortexm
def test_a_cortex_m_compile_error_is_one_line_and_its_log_is_kept(library, tmp_path, capsys):
    """The shim build's failure comes back as build.py's BuildError (a ValueError), as an AVR one does."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("not installed: arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")
    sketch = tmp_path / "Broken"
    sketch.mkdir()
    (sketch / "Broken.ino").write_text("#include <microlearn.h>\nvoid setup() { int x = ; }\nvoid loop() {}\n"
                                       "void more() { undeclared(); }\n")
    rc, out, err = cli(capsys, "build", sketch, "--board", "nrf52840", "--library", library)
    line = one_line_error(rc, err, "build")
    assert "Broken.ino" in line and "error" in line, line
    log = sketch / "build-nrf52840" / "build.log"
    assert f"(full log: {log})" in line and "undeclared" in log.read_text()
    with pytest.raises(ValueError):
        build_sketch_fn(sketch, "nrf52840", library_dir=library, log=lambda s: None)


@pytest.mark.avr
@needs_arduino_mk
def test_a_sketch_over_the_sram_says_by_how_much(library, tmp_path, capsys):
    sketch = tmp_path / "TooBig"
    sketch.mkdir()
    (sketch / "TooBig.ino").write_text("volatile unsigned char big[3000];\nvoid setup() { big[2999] = 1; }\n"
                                       "void loop() { big[0] = big[2999]; }\n")
    rc, out, err = cli(capsys, "build", sketch, "--board", "uno", "--library", library)
    line = one_line_error(rc, err, "build")
    m = re.search(r"TooBig does not fit the uno: static SRAM (\d+) bytes of 2048 \((\d+) bytes over\)", line)
    assert m, line
    assert int(m.group(1)) >= 3000 and int(m.group(2)) == int(m.group(1)) - 2048
    rc, out, err = cli(capsys, "build", sketch, "--board", "mega2560", "--library", library)   # 8 KB: fits
    assert rc == 0, err


@pytest.mark.cortexm
def test_a_cortex_m_build_gives_elf_hex_and_bin(library, tmp_path, capsys):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("not installed: arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")
    sketch = sketch_copy(library, "ExportedModel", tmp_path)
    rc, out, err = cli(capsys, "build", sketch, "--board", "nrf52840", "--library", library, "--json")
    assert rc == 0, err
    res = json.loads(out)
    assert set(res["artifacts"]) == {"elf", "hex", "bin"}
    assert all(Path(p).is_file() for p in res["artifacts"].values())
    assert 0 < res["flash_bytes"] <= res["flash_budget"] and res["static_ram_bytes"] <= res["sram_budget"]


# ------------------------------------------------------------------------------------------ flashing

def fake_build(tmp_path: Path, board: str) -> SketchBuild:
    d = tmp_path / f"build-{board}"
    return SketchBuild(board=board, sketch="Demo", elf=d / "Demo.elf", hex=d / "Demo.hex", bin=d / "Demo.bin")


AVRDUDE_EXPECTED = {
    ("uno", None): ["-p", "atmega328p", "-c", "arduino", "-P", "{port}", "-b", "115200", "-D"],
    ("nano", None): ["-p", "atmega328p", "-c", "arduino", "-P", "{port}", "-b", "57600", "-D"],
    ("nano", "new-bootloader"): ["-p", "atmega328p", "-c", "arduino", "-P", "{port}", "-b", "115200", "-D"],
    ("mega2560", None): ["-p", "atmega2560", "-c", "wiring", "-P", "{port}", "-b", "115200", "-D"],
}


@pytest.mark.parametrize("board,variant", list(AVRDUDE_EXPECTED))
def test_avrdude_commands_are_exact(tmp_path, board, variant):
    b = fake_build(tmp_path, board)
    port = "/dev/ttyACM0"
    want = ["avrdude", *[a.replace("{port}", port) for a in AVRDUDE_EXPECTED[board, variant]],
            "-U", f"flash:w:{b.hex}:i"]
    assert flash_command(board, b, port, variant_name=variant) == want


def test_cortex_m_commands_are_the_vendors(tmp_path):
    port = "/dev/ttyACM0"
    nrf, samd, pico, pill = (fake_build(tmp_path, n) for n in ("nrf52840", "samd21", "rp2040", "bluepill"))
    pkg = str(nrf.hex.with_suffix(".zip"))
    assert flash_steps("nrf52840", nrf, port) == [
        ["adafruit-nrfutil", "dfu", "genpkg", "--dev-type", "0x0052", "--sd-req", "0xFFFE", "--application",
         str(nrf.hex), pkg],
        ["adafruit-nrfutil", "--verbose", "dfu", "serial", "--package", pkg, "-p", port, "-b", "115200",
         "--singlebank", "--touch", "1200"]]
    assert flash_command("nrf52840", nrf, port, variant_name="nano33ble") == [
        "bossac", "-d", f"--port={port}", "-U", "-i", "-e", "-w", str(nrf.bin), "-R"]
    assert flash_command("samd21", samd, port) == [
        "bossac", f"--port={port}", "-U", "-i", "-e", "-w", "-v", "--offset=0x2000", str(samd.bin), "-R"]
    assert flash_command("rp2040", pico, None) == ["picotool", "load", "-x", str(pico.elf), "-f"]
    assert flash_steps("rp2040", pico, None, variant_name="uf2")[0] == [
        "picotool", "uf2", "convert", str(pico.elf), str(pico.elf.with_suffix(".uf2"))]
    assert flash_command("bluepill", pill, None) == ["st-flash", "--reset", "write", str(pill.bin), "0x08000000"]
    assert flash_command("bluepill", pill, None, variant_name="openocd") == [
        "openocd", "-f", "interface/stlink.cfg", "-f", "target/stm32f1x.cfg", "-c",
        f"program {pill.elf} verify reset exit"]
    assert set(VARIANTS) == set(BUILD_BOARDS)


@pytest.fixture(scope="module")
def built_uno(library, tmp_path_factory) -> Path:
    """ExportedModel built for the uno into <sketch>/build-uno/ (by the library function: the command line's
    build is tested above). Tests only read it."""
    if needs_arduino_mk.args[0]:      # the marker's skip condition: arduino-mk or avr-gcc missing
        pytest.skip(needs_arduino_mk.kwargs["reason"])
    sketch = sketch_copy(library, "ExportedModel", tmp_path_factory.mktemp("flash"))
    build_sketch_fn(sketch, "uno", library_dir=library, log=lambda _: None)
    return sketch


@pytest.fixture
def pty():
    """(master fd, the slave's name): a serial port nobody answers unless a test puts a bootloader on it."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)         # bytes pass unchanged (no echo, no CR/LF translation): a serial line
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def pty_port(pty):
    return pty[1]


@pytest.mark.avr
@pytest.mark.parametrize("board,variant", [("uno", None), ("nano", "new-bootloader")])
def test_flash_runs_avrdude_and_the_board_gets_the_hex(built_uno, library, tmp_path, capsys, pty, board, variant):
    """The real avrdude, run by `microlearn flash`, writes and verifies the .hex through a stand-in for the
    board's bootloader on a pty (fake_optiboot.py): what the bootloader received is the .hex, byte for byte."""
    if shutil.which("avrdude") is None:
        pytest.skip("not installed: avrdude (apt-get install avrdude)")
    master, port = pty
    boot = FakeOptiboot(master)
    boot.start()
    if board == "uno":
        sketch = built_uno
    else:   # a nano build of the same sketch (the uno's folder is shared by the module's tests)
        sketch = sketch_copy(library, "ExportedModel", tmp_path)
    args = ["flash", sketch, "--board", board, "--port", port, "--library", library]
    rc, out, err = cli(capsys, *args, *(["--variant", variant] if variant else []))
    assert rc == 0, err
    hexfile = sketch / f"build-{board}" / "ExportedModel.hex"
    assert out.splitlines()[-2] == shlex.join(flash_command(board, SketchBuild(board, "ExportedModel", Path(),
                                                                               hex=hexfile), port,
                                                            variant_name=variant))
    assert out.splitlines()[-1] == f"flashed ExportedModel to the {board} on {port}"
    image = intel_hex_image(hexfile.read_text())
    assert len(image) > 1000 and bytes(boot.flash[:len(image)]) == image


@pytest.mark.avr
def test_a_wrong_chip_is_avrdudes_one_line(built_uno, capsys, pty):
    """A Mega's bootloader answering for an Uno build: avrdude stops at the signature, and that is the line."""
    if shutil.which("avrdude") is None:
        pytest.skip("not installed: avrdude (apt-get install avrdude)")
    master, port = pty
    boot = FakeOptiboot(master, signature=SIGNATURES["atmega2560"])
    boot.start()
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", "--port", port)
    line = one_line_error(rc, err, "flash")
    assert line.startswith("microlearn flash: error: avrdude failed (exit 1): ") and "signature" in line, line
    assert not boot.flash        # nothing was written


@pytest.mark.avr
def test_flash_print_only_prints_the_exact_command(built_uno, capsys):
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", "--port", "/dev/ttyACM0", "--print-only")
    assert rc == 0, err
    hexfile = built_uno / "build-uno" / "ExportedModel.hex"
    assert out.splitlines()[-1] == shlex.join(["avrdude", "-p", "atmega328p", "-c", "arduino", "-P", "/dev/ttyACM0",
                                               "-b", "115200", "-D", "-U", f"flash:w:{hexfile}:i"])
    assert "built" not in out            # the existing build was used


@pytest.mark.avr
@needs_arduino_mk
def test_flash_builds_first_when_the_sketch_changed(library, tmp_path, capsys):
    sketch = sketch_copy(library, "ExportedModel", tmp_path)
    rc, out, err = cli(capsys, "flash", sketch, "--board", "nano", "--port", "/dev/ttyUSB0", "--print-only",
                       "--library", library, "--variant", "new-bootloader")
    assert rc == 0, err
    assert out.startswith("built ExportedModel for nano") and " -b 115200 " in out.splitlines()[-1]
    ino = sketch / "ExportedModel.ino"
    os.utime(ino, (ino.stat().st_atime + 5, (sketch / "build-nano" / MANIFEST).stat().st_mtime + 5))
    rc, out, err = cli(capsys, "flash", sketch, "--board", "nano", "--port", "/dev/ttyUSB0", "--print-only",
                       "--library", library)
    assert rc == 0 and out.startswith("built ExportedModel for nano") and " -b 57600 " in out.splitlines()[-1]


@pytest.mark.avr
def test_avrdude_missing_is_non_zero_with_the_command(built_uno, tmp_path, capsys, monkeypatch, pty_port):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", "--port", pty_port)
    line = one_line_error(rc, err, "flash")
    hexfile = built_uno / "build-uno" / "ExportedModel.hex"
    cmd = shlex.join(["avrdude", "-p", "atmega328p", "-c", "arduino", "-P", pty_port, "-b", "115200", "-D", "-U",
                      f"flash:w:{hexfile}:i"])
    assert line == f"microlearn flash: error: avrdude is not installed (apt-get install avrdude); the command " \
                   f"would be: {cmd}"


@pytest.mark.avr
@pytest.mark.slow
def test_avrdude_runs_and_its_failure_is_one_line(built_uno, capsys, pty_port):
    """avrdude really runs (argument list) against a pty nobody answers: it retries for about a minute."""
    if shutil.which("avrdude") is None:
        pytest.skip("not installed: avrdude (apt-get install avrdude)")
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", "--port", pty_port)
    line = one_line_error(rc, err, "flash")
    assert line.startswith("microlearn flash: error: avrdude failed (exit 1): ") and pty_port in line, line


def test_cortex_m_flash_prints_and_does_not_pretend(tmp_path, capsys):
    """With a build present (as build.py leaves it), the nrf52840 command is printed; without --print-only the
    exit is non-zero and says microlearn did not flash."""
    sketch = tmp_path / "Demo"
    sketch.mkdir()
    (sketch / "Demo.ino").write_text("void setup() {}\nvoid loop() {}\n")
    b = fake_build(sketch, "nrf52840")
    b.elf.parent.mkdir()
    for p in (b.elf, b.hex, b.bin):
        p.write_bytes(b"\0")
    (b.elf.parent / MANIFEST).write_text(json.dumps({**b.to_json(), "microlearn": microlearn.__version__}))
    rc, out, err = cli(capsys, "flash", sketch, "--board", "nrf52840", "--port", "/dev/ttyACM0", "--print-only")
    assert rc == 0, err
    assert out.splitlines()[-1] == shlex.join(flash_steps("nrf52840", b, "/dev/ttyACM0")[-1])
    b2 = fake_build(sketch, "bluepill")
    b2.elf.parent.mkdir()
    for p in (b2.elf, b2.hex, b2.bin):
        p.write_bytes(b"\0")
    (b2.elf.parent / MANIFEST).write_text(json.dumps({**b2.to_json(), "microlearn": microlearn.__version__}))
    rc, out, err = cli(capsys, "flash", sketch, "--board", "bluepill")
    line = one_line_error(rc, err, "flash")
    assert "does not flash the bluepill itself" in line and "--print-only" in line
    assert out.splitlines()[-1] == shlex.join(flash_command("bluepill", b2, None))


# ------------------------------------------------------------------------------------------ hostile input

def _sketch(tmp_path, name="Good", ino=None):
    d = tmp_path / name
    d.mkdir()
    (d / (ino or f"{name}.ino")).write_text("void setup() {}\nvoid loop() {}\n")
    return d


def _case(tmp_path, case):
    """(arguments after `build`, what the error line must say) for each hostile build case."""
    if case == "missing_dir":
        return [tmp_path / "nope", "--board", "uno"], "no such sketch folder"
    if case == "a_file":
        f = tmp_path / "file.ino"
        f.write_text("")
        return [f, "--board", "uno"], "not a sketch folder"
    if case == "no_ino":
        d = tmp_path / "Empty"
        d.mkdir()
        (d / "Empty.cpp").write_text("")
        return [d, "--board", "uno"], "no Empty.ino in"
    if case == "two_ino":
        d = _sketch(tmp_path)
        (d / "Other.ino").write_text("")
        return [d, "--board", "uno"], "2 .ino files in"
    if case == "misnamed":
        return [_sketch(tmp_path, "Good", "Bad.ino"), "--board", "uno"], "must be named after its folder"
    if case == "bad_name":
        return [_sketch(tmp_path, "my sketch"), "--board", "uno"], "is not a valid sketch name"
    if case == "symlink_out":
        d = _sketch(tmp_path)
        secret = tmp_path / "secret.h"
        secret.write_text("")
        (d / "config.h").symlink_to(secret)
        return [d, "--board", "uno"], "config.h is a link leading out of the sketch folder"
    if case == "symlink_loop":
        d = _sketch(tmp_path)
        (d / "sub").mkdir()
        (d / "sub" / "again").symlink_to(d)
        return [d, "--board", "uno"], "a loop"
    if case == "unknown_board":
        return [_sketch(tmp_path), "--board", "arduino-uno;rm"], "unknown board"
    if case == "esp32":
        return [_sketch(tmp_path), "--board", "esp32"], "no toolchain here builds sketches for esp32"
    if case == "not_a_library":
        return [_sketch(tmp_path), "--board", "uno", "--library", tmp_path], "not a microlearn Arduino library"
    if case == "out_is_a_file":
        d = _sketch(tmp_path)
        (tmp_path / "out").write_text("")
        return [d, "--board", "uno", "--out", tmp_path / "out"], "not a folder"
    raise AssertionError(case)


BUILD_CASES = ["missing_dir", "a_file", "no_ino", "two_ino", "misnamed", "bad_name", "symlink_out", "symlink_loop",
               "unknown_board", "esp32", "not_a_library", "out_is_a_file"]


@pytest.mark.hostile
@pytest.mark.parametrize("case", BUILD_CASES)
def test_bad_build_input_is_one_line(tmp_path, capsys, case):
    args, says = _case(tmp_path, case)
    rc, out, err = cli(capsys, "build", *args)
    line = one_line_error(rc, err, "build")
    assert says in line, line
    assert not any(p.name.startswith("build-") for p in tmp_path.rglob("*")), "nothing is built"


@pytest.mark.hostile
@pytest.mark.parametrize("port,says", [
    ("/dev/ttyUSB0; rm -rf ~", "refusing the port"),
    ("$(reboot)", "refusing the port"),
    ("-C/etc/passwd", "refusing the port"),
    ("/dev/tty\nUSB0", "refusing the port"),
    ("/dev/../etc/passwd", "refusing the port"),
    ("/dev/null", "not a serial port (a character device, but not a terminal)"),
    ("{tmp}/regular", "not a serial port (not a character device)"),
    ("/dev/ttyDOESNOTEXIST9", "no such serial port"),
])
def test_bad_port_is_one_line(built_uno, tmp_path, capsys, port, says):
    port = port.replace("{tmp}", str(tmp_path))
    (tmp_path / "regular").write_text("")
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", f"--port={port}")   # '=': argparse takes "-C..."
    line = one_line_error(rc, err, "flash")
    assert says in line, line
    assert "\n" not in line and "avrdude -p" not in out      # nothing was printed to run


@pytest.mark.hostile
def test_metacharacter_port_is_refused_even_for_printing(built_uno, capsys):
    rc, out, err = cli(capsys, "flash", built_uno, "--board", "uno", "--port", "/dev/ttyACM0 && echo", "--print-only")
    assert "refusing the port" in one_line_error(rc, err, "flash")


@pytest.mark.hostile
@pytest.mark.parametrize("args,says", [
    (["--board", "uno"], "give --port"),
    (["--board", "uno", "--port", "/dev/ttyACM0", "--print-only", "--variant", "turbo"], "no flash variant 'turbo'"),
    (["--board", "esp32", "--port", "/dev/ttyACM0"], "no toolchain here builds sketches for esp32"),
])
def test_bad_flash_arguments_are_one_line(built_uno, capsys, args, says):
    rc, out, err = cli(capsys, "flash", built_uno, *args)
    assert says in one_line_error(rc, err, "flash")


@pytest.mark.hostile
def test_the_command_line_exits_2_with_one_line(tmp_path):
    """The real entry point: exit status 2 and one line, for a missing --board too (argparse)."""
    for args in (["build", tmp_path / "nope", "--board", "uno"], ["build", tmp_path]):
        p = subprocess.run([sys.executable, "-m", "microlearn.cli.main", *map(str, args)], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert p.stderr.startswith("microlearn build: error: ")


@pytest.mark.hostile
@pytest.mark.avr
@needs_arduino_mk
def test_a_planted_manifest_is_not_flashed(library, tmp_path, capsys):
    """A sketch folder that arrives with a build-uno/build.json naming a file elsewhere: flash ignores it and
    builds, so the command names the folder's own fresh .hex."""
    sketch = sketch_copy(library, "ExportedModel", tmp_path)
    planted = tmp_path / "elsewhere.hex"
    planted.write_text(":00000001FF\n")
    (sketch / "build-uno").mkdir()
    (sketch / "build-uno" / MANIFEST).write_text(json.dumps({
        "board": "uno", "sketch": "ExportedModel", "microlearn": microlearn.__version__,
        "artifacts": {"elf": str(planted), "hex": str(planted)}, "flash_bytes": 1, "static_ram_bytes": 1}))
    rc, out, err = cli(capsys, "flash", sketch, "--board", "uno", "--port", "/dev/ttyACM0", "--print-only",
                       "--library", library)
    assert rc == 0, err
    assert out.startswith("built ExportedModel for uno")
    assert out.splitlines()[-1].endswith(f"flash:w:{sketch / 'build-uno' / 'ExportedModel.hex'}:i")
