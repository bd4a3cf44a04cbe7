"""Building and running the Arduino library's examples: arduino-mk against the real Arduino AVR core (through
deploy/build_avr.py, as `microlearn build` does), the Arduino IDE's own builder (arduino-builder) when
installed, simavr for the runs, and the Python twins of what the sketches compute."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from compile_c import compile_c
from microlearn.core.rng import XorShift32
from microlearn.core.vocab import EV_ACCEPTED, EV_ROLLBACK
from microlearn.deploy import build_avr
from microlearn.deploy.arduino_library import build_library
from microlearn.deploy.sketch_build import BuildError
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import RefLearner
from microlearn.targets import get_target
from microlearn.targets.base import SUPPORT_DIR, Build
from microlearn.targets.errors import TargetUnavailable
from microlearn.targets.simavr_quirks import misexecuted_skips

ARDUINO_DIR = build_avr.ARDUINO_DIR
ARDUINO_MK = build_avr.ARDUINO_MK
BOARDS_TXT = ARDUINO_DIR / "hardware" / "arduino" / "avr" / "boards.txt"
# board -> (BOARD_TAG, BOARD_SUB (the boards.txt cpu menu), simavr MCU, arduino-builder FQBN)
BOARDS = {
    "uno": ("uno", None, "atmega328p", "arduino:avr:uno"),
    "nano": ("nano", "atmega328", "atmega328p", "arduino:avr:nano:cpu=atmega328"),
    "mega2560": ("mega", "atmega2560", "atmega2560", "arduino:avr:mega:cpu=atmega2560"),
}
MAX_CYCLES = 2_000_000_000

needs_arduino_mk = pytest.mark.skipif(
    not ARDUINO_MK.exists() or shutil.which("make") is None or shutil.which("avr-gcc") is None,
    reason="arduino-mk / Arduino AVR core / avr-gcc missing (apt-get install arduino-mk arduino-core-avr gcc-avr)")
needs_arduino_builder = pytest.mark.skipif(
    shutil.which("arduino-builder") is None or not BOARDS_TXT.exists(),
    reason="arduino-builder (the Arduino IDE 1.8 builder: apt-get install arduino-builder) missing")


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> Path:
    """The library, built once: <tmp>/libraries/microlearn (the folder arduino-mk's USER_LIB_PATH and the
    IDE's -libraries point at)."""
    return build_library(tmp_path_factory.mktemp("arduino") / "libraries" / "microlearn")


def makefile(board: str, libraries: Path) -> str:
    """The arduino-mk Makefile of deploy/build_avr.py for `board`, the library in libraries/microlearn."""
    return build_avr.makefile(board, libraries)


def build_sketch(library: Path, example: str, workdir: Path, board: str = "uno") -> Path:
    """Build examples/<example>/ in workdir/<example>-<board>/ with deploy/build_avr.py (a copy of the sketch
    and an arduino-mk Makefile), return the ELF; the compiler's first error fails the test."""
    try:
        build = build_avr.build_sketch_avr(library / "examples" / example, board, library,
                                           workdir / f"{example}-{board}")
    except BuildError as exc:
        pytest.fail(str(exc))
    return build.elf


def avr_size(elf: Path) -> tuple[int, int]:
    """(flash bytes = .text + .data, static SRAM bytes = .data + .bss), by section: an .eeprom section (the
    power-cycle test adds one) is neither (deploy/build_avr.avr_size)."""
    return build_avr.avr_size(elf)


def run_uno(elf: Path, workdir: Path):
    """Run the ELF in simavr through the uno target, as every other AVR run: sandboxed, checked for the
    instruction sequences simavr mis-executes (targets/simavr_quirks.py), for crashes and for a stack that
    ran into static data. (the Serial lines, the RunResult)."""
    target = get_target("uno")
    try:
        target.check()
    except TargetUnavailable as exc:
        pytest.skip(f"simavr unavailable: {exc}")
    res = target.run(Build(target="uno", path=elf, static_ram_bytes=avr_size(elf)[1]), timeout=600)
    return res.output.splitlines(), res


def eeprom_runner(workdir: Path) -> Path:
    """support/avr/eeprom_runner.c (run a firmware, dump its EEPROM), built as tests/learner/test_persist.py
    builds it; skips when libsimavr does not link."""
    runner = workdir / "eeprom_runner"
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        pytest.skip("libsimavr headers missing: apt-get install libsimavr-dev")
    p = compile_c(SUPPORT_DIR / "avr" / "eeprom_runner.c", runner, check=False,
                  warnings=("-Wall", "-Wextra", "-Werror"), include_dirs=["/usr/include/simavr"], libs=["-lsimavr"])
    if p.returncode:
        pytest.skip(f"cannot build eeprom_runner against libsimavr: {p.stderr[:300]}")
    return runner


def run_for_eeprom(runner: Path, elf: Path, workdir: Path) -> bytes:
    """Run the firmware on a blank (erased) EEPROM; the whole EEPROM afterwards. (The EEPROM runner is not
    the uno target: the sequences simavr mis-executes are checked here the same way.)"""
    assert not misexecuted_skips(elf), "simavr would run this firmware wrongly (targets/simavr_quirks.py)"
    out = workdir / "eeprom.bin"
    p = subprocess.run([str(runner), "atmega328p", "16000000", str(MAX_CYCLES), str(elf), "-", str(out), "-1",
                        "clean", "0"], capture_output=True, timeout=600)
    rep = dict(re.findall(r"(\w+)=(\w+)", p.stderr.decode().strip().splitlines()[-1]))
    assert p.returncode == 0 and rep["status"] == "exit", p.stderr[-800:]
    return out.read_bytes()


def with_eeprom(elf: Path, image: bytes, out: Path) -> Path:
    """A copy of the ELF whose .eeprom section holds `image` (what avrdude's -U eeprom:w would leave on a
    board): simavr loads it into the EEPROM at reset, as if the board had been switched off and on."""
    img = out.with_suffix(".eeprom.bin")
    img.write_bytes(image)
    p = subprocess.run(["avr-objcopy", "--add-section", f".eeprom={img}", "--set-section-flags",
                        ".eeprom=alloc,load,contents,data", "--change-section-address", ".eeprom=0x810000",
                        str(elf), str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out


def arduino_builder(library: Path, example: str, workdir: Path, board: str = "uno") -> subprocess.CompletedProcess:
    """Build examples/<example> with the Arduino IDE 1.8's own builder (library discovery from -libraries,
    the 1.5 format's src/, -Wall -Wextra)."""
    sketch = workdir / f"ide-{example}-{board}" / example
    shutil.copytree(library / "examples" / example, sketch)
    build = sketch.parent / "build"
    build.mkdir()
    cmd = ["arduino-builder", "-compile", "-hardware", str(ARDUINO_DIR / "hardware"), "-tools",
           str(ARDUINO_DIR / "hardware" / "tools"), "-libraries", str(library.parent), "-fqbn", BOARDS[board][3],
           "-build-path", str(build), "-warnings", "all", "-verbose", "-prefs=compiler.cpp.extra_flags=-DDECIMAL_DIG=17",
           str(sketch / f"{example}.ino")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "LC_ALL": "C"})


# ------------------------------------------------------------------ the sketches' Python twins

def ino_table(ino: str, name: str) -> list[list[str]]:
    """The rows `{a, b, c}` of the C table `name` in a sketch (as written: strings)."""
    m = re.search(rf"\b{re.escape(name)}\[\][^=]*=\s*{{(.*?)\n}};", ino, re.S)
    assert m, f"no table {name}"
    return [re.split(r"\s*,\s*", row.strip()) for row in re.findall(r"{([^{}]*)}", m.group(1))]


def ino_list(ino: str, name: str) -> list[str]:
    m = re.search(rf"\b{re.escape(name)}\[\][^=]*=\s*{{([^}}]*)}};", ino, re.S)
    assert m, f"no table {name}"
    return [v.strip() for v in m.group(1).split(",") if v.strip()]


def vibration_features(rows) -> tuple[np.ndarray, np.ndarray]:
    """TrainOnDevice's features: x0 = (float)rms_mg / 1000.0f, x1 = (float)freq_hz / 100.0f; labels."""
    a = np.array([[int(v) for v in r] for r in rows])
    X = np.stack([a[:, 0].astype(np.float32) / np.float32(1000), a[:, 1].astype(np.float32) / np.float32(100)],
                 axis=1).astype(np.float32)
    return X, a[:, 2]


ROOM_ROWS = 600


def room(n: int = ROOM_ROWS, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SelfLearningLoop's simulated room, integer for integer: (temperature 1/100 degC, humidity 1/100 %,
    vote) per row."""
    rng = XorShift32(seed)
    t, rh, target, hold = 1900, 4500, 2100, 0
    T, H, V = [], [], []
    for row in range(n):
        r = rng.next()
        if hold == 0:
            target, hold = 1600 + r % 1300, 4 + (r >> 12) % 13
        hold -= 1
        t = t + 60 if target > t + 60 else t - 60 if target + 60 < t else target
        t = t + (r >> 20) % 21 - 10
        rh = min(max(rh - rh // 16 + (r >> 8) % 201 + 212, 2000), 8000)
        felt = t + rh // 20 - 250
        pref, band = (2100, 100) if row < 240 else (2450, 100) if row < 408 else (2250, 70)
        v = 0 if felt < pref - band else 2 if felt > pref + band else 1
        if (r >> 27) == 0:
            v = (r >> 24) % 3
        T.append(t)
        H.append(rh)
        V.append(v)
    return np.array(T), np.array(H), np.array(V)


def room_features(T, H) -> np.ndarray:
    """(float)t / 100.0f, then (t - 22.0f) / 5.0f and (h - 50.0f) / 20.0f, in float32."""
    t = np.asarray(T).astype(np.float32) / np.float32(100)
    h = np.asarray(H).astype(np.float32) / np.float32(100)
    return np.stack([(t - np.float32(22)) / np.float32(5), (h - np.float32(50)) / np.float32(20)],
                    axis=1).astype(np.float32)


# drift "window": the sketch is hand-written C, whose header default is the window detector (LearnerConfig's is DDM)
LOOP_CONFIG = dict(n_features=2, n_classes=3, capacity=60, holdout_every=4, k_mistakes=5, trigger_window=20,
                   err_pct=30, budget=20, queue=8, max_iter=2000, drift="window")


def run_learner(X, y, model=None) -> dict:
    """The sketch's loop in Python (learner.simulate.run_reference's loop), optionally starting from a model
    (W, b, class map) restored as mlrn_learner_load restores a format-1 save."""
    lr = RefLearner(LearnerConfig(**LOOP_CONFIG))
    lr.model = model
    preds, accepted, rollbacks = np.empty(len(X), np.int64), [], []
    for i in range(len(X)):
        preds[i] = lr.predict(X[i])
        lr.feedback(X[i], int(y[i]))
        lr.step()
        if lr.event == EV_ACCEPTED:
            accepted.append(i)
        elif lr.event == EV_ROLLBACK:
            rollbacks.append(i)
    return {"predictions": preds, "accepted": accepted, "rollbacks": rollbacks, "learner": lr}


def loop_report(lines: list[str]) -> dict:
    """SelfLearningLoop's Serial lines, parsed."""
    ev = [ln.split() for ln in lines if ln.startswith("E ")]
    done = [ln.split() for ln in lines if ln.startswith("DONE ")]
    assert len(done) == 1, lines[-5:]
    return {"accepted": [int(e[1]) for e in ev if e[2] == "A"], "rollbacks": [int(e[1]) for e in ev if e[2] == "R"],
            "windows": [int(ln.split()[2]) for ln in lines if ln.startswith("W ")],
            "saves": [(int(s[1]), int(s[2])) for s in (ln.split() for ln in lines if ln.startswith("S "))],
            "done": [int(v) for v in done[0][1:]]}


def expected_loop(ref: dict, y) -> dict:
    correct = ref["predictions"] == np.asarray(y)
    lr = ref["learner"]
    return {"accepted": ref["accepted"], "rollbacks": ref["rollbacks"],
            "windows": [int(correct[i - 50:i].sum()) for i in range(50, len(y) + 1, 50)],
            "saves": [(i, 0) for i in ref["accepted"]],
            "done": [int(correct.sum()), len(y), lr.n_retrains, lr.n_accepted, lr.n_rollbacks]}


def decode_model_payload(payload: bytes):
    """A format-1 learner save (mlrn_learner_save): (n_classes, d, (W, b, class map))."""
    assert payload[0] == 1, payload[:5]
    nc, d, m = payload[1], payload[2] | payload[3] << 8, payload[4]
    cmap = list(payload[5:5 + m])
    nsub = 1 if m <= 2 else m * (m - 1) // 2
    off = 5 + m
    W = np.frombuffer(payload, "<f4", nsub * d, off).reshape(nsub, d).astype(np.float32)
    b = np.frombuffer(payload, "<f4", nsub, off + 4 * nsub * d).astype(np.float32)
    assert len(payload) == off + 4 * nsub * (d + 1)
    return nc, d, (W, b, cmap)

