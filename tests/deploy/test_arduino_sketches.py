"""The Arduino library's examples are real sketches: each builds with arduino-mk against the Arduino AVR core
(uno; TrainOnDevice also for nano and mega2560, slow), runs in simavr, and prints what the Python twin
computes: the trained SVM's predictions and iterations (TrainOnDevice), the self-learning loop's decisions
row by row, before and after a power cycle with the model in the EEPROM (SelfLearningLoop), the exported
model's predictions (ExportedModel). The Arduino IDE's own builder builds them too, when installed."""
from __future__ import annotations

import re

import numpy as np
import pytest

from arduino_sketches import (ROOM_ROWS, arduino_builder, avr_size, build_sketch, decode_model_payload,
                              eeprom_runner, expected_loop, ino_list, ino_table, library, loop_report, needs_arduino_builder,
                              needs_arduino_mk, room, room_features, run_for_eeprom, run_learner, run_uno,
                              vibration_features, with_eeprom)
from microlearn.deploy.arduino_library import EXAMPLES, iris_estimator
from microlearn.learner import persist_format as pf
from microlearn.trainer.estimator import SMOClassifier

__all__ = ["library"]   # the session fixture

UNO_FLASH, UNO_SRAM = 32256, 2048   # boards.txt: upload.maximum_size / maximum_data_size


def _check_fits_uno(elf, report):
    flash, static = avr_size(elf)
    assert flash <= UNO_FLASH, flash
    assert static + report.stack_bytes <= UNO_SRAM, (static, report.stack_bytes)
    return flash, static


@pytest.mark.avr
@needs_arduino_mk
def test_train_on_device_uno_equals_python(library, tmp_path):
    elf = build_sketch(library, "TrainOnDevice", tmp_path)
    lines, report = run_uno(elf, tmp_path)
    _check_fits_uno(elf, report)
    ino = (library / "examples" / "TrainOnDevice" / "TrainOnDevice.ino").read_text()
    X, y = vibration_features(ino_table(ino, "training_readings"))
    Xt, yt = vibration_features(ino_table(ino, "test_readings"))
    ref = SMOClassifier(kernel="linear", C=1.0).fit(X, y)       # what the sketch's default params are
    assert lines[0] == "TrainOnDevice: microlearn 0.1.0" or lines[0].startswith("TrainOnDevice: microlearn ")
    assert f"stored {len(X)} readings" in lines
    trained = [ln for ln in lines if ln.startswith("trained: ")]
    m = re.match(r"trained: status (-?\d+) \(ok\), (\d+) iterations, \d+ ms$", trained[0])
    assert m, trained
    assert int(m.group(1)) == 0 and list(ref.status_) == ["converged"] * len(ref.status_)
    assert int(m.group(2)) == int(np.sum(ref.n_iter_))
    tests = [re.match(r"test (\d+): (\d+) mg (\d+) Hz -> class (-?\d+) \(.*\), true (\d+) ", ln) for ln in lines
             if ln.startswith("test ")]
    assert len(tests) == len(Xt) and all(tests)
    got = np.array([int(t.group(4)) for t in tests])
    assert got.tolist() == ref.predict(Xt).tolist()
    assert [int(t.group(5)) for t in tests] == yt.tolist()
    assert f"accuracy {int((got == yt).sum())}/{len(yt)}" in lines
    assert lines[-1] == "DONE"


@pytest.mark.avr
@needs_arduino_mk
def test_exported_model_uno_equals_estimator(library, tmp_path):
    elf = build_sketch(library, "ExportedModel", tmp_path)
    lines, report = run_uno(elf, tmp_path)
    _check_fits_uno(elf, report)
    ino = (library / "examples" / "ExportedModel" / "ExportedModel.ino").read_text()
    X = np.array([[float(v.rstrip("f")) for v in row] for row in ino_table(ino, "flowers")], np.float32)
    truth = [int(v) for v in ino_list(ino, "species")]
    est, _, names = iris_estimator()
    want = est.predict(X)
    proba = est.predict_proba(X)
    rows = [re.match(r"flower (\d+):((?: [\d.]+){4}) -> class (\d+) (\w+) p=([\d.]+), true (\w+)$", ln)
            for ln in lines if ln.startswith("flower ")]
    assert len(rows) == len(X) and all(rows), lines
    assert [r.group(4) for r in rows] == want.tolist()                       # the estimator's labels
    assert [names[int(r.group(3))] for r in rows] == want.tolist()
    assert [r.group(6) for r in rows] == [names[t] for t in truth]
    k = [list(est.classes_).index(w) for w in want]
    assert np.allclose([float(r.group(5)) for r in rows], proba[np.arange(len(X)), k], atol=6e-5)
    right = int(sum(w == names[t] for w, t in zip(want, truth)))
    assert f"right {right}/{len(X)}" in lines and lines[-1] == "DONE"
    assert right < len(X)      # the table keeps flowers a linear model gets wrong (as the comment says)


@pytest.mark.avr
@needs_arduino_mk
def test_self_learning_loop_uno_equals_python_and_survives_a_power_cycle(library, tmp_path):
    elf = build_sketch(library, "SelfLearningLoop", tmp_path)
    T, H, V = room()
    X = room_features(T, H)

    # first power-on: blank EEPROM, learns from scratch, saves each accepted model
    lines, report = run_uno(elf, tmp_path)
    _check_fits_uno(elf, report)
    assert lines[1].startswith("no saved model (status -9)")          # MLRN_ERR_CRC: nothing valid stored
    ref = run_learner(X, V)
    assert loop_report(lines) == expected_loop(ref, V)
    correct = ref["predictions"] == V
    assert correct[-100:].mean() > 0.8 and len(ref["accepted"]) > 3   # it does learn, and keeps learning

    # the EEPROM after that run holds the last accepted model, bit for bit the reference's
    image = run_for_eeprom(eeprom_runner(tmp_path), elf, tmp_path)
    slot = pf.load(image[:256])
    assert slot.tag == 0x4C52 and slot.seq == len(ref["accepted"])
    nc, d, (W, b, cmap) = decode_model_payload(slot.payload)
    W_ref, b_ref, cmap_ref = ref["learner"].model
    assert (nc, d, cmap) == (3, 2, list(cmap_ref))
    assert W.tobytes() == np.asarray(W_ref, np.float32).tobytes() and b.tobytes() == np.asarray(b_ref, np.float32).tobytes()
    assert set(image[256:]) == {0xFF}                                   # the rest of the EEPROM is the user's

    # second power-on with that EEPROM: the model is restored and used from the first reading
    lines2, _ = run_uno(with_eeprom(elf, image, tmp_path / "boot2.elf"), tmp_path)
    assert lines2[1] == "restored a model of 3 classes from the EEPROM"
    ref2 = run_learner(X, V, model=(W, b, cmap))
    assert loop_report(lines2) == expected_loop(ref2, V)
    assert ref2["predictions"][0] >= 0                                  # predicts before any retrain
    assert (ref2["predictions"][:50] == V[:50]).sum() > (ref["predictions"][:50] == V[:50]).sum()
    assert len(V) == ROOM_ROWS


@pytest.mark.avr
@pytest.mark.slow
@needs_arduino_mk
@pytest.mark.parametrize("board", ["nano", "mega2560"])
def test_train_on_device_builds_for(library, tmp_path, board):
    elf = build_sketch(library, "TrainOnDevice", tmp_path, board=board)
    flash, static = avr_size(elf)
    limits = {"nano": (30720, 2048), "mega2560": (253952, 8192)}[board]   # boards.txt maximum_size / data_size
    assert flash <= limits[0] and static <= limits[1]


@pytest.mark.avr
@needs_arduino_builder
@pytest.mark.parametrize("example", EXAMPLES)
def test_the_arduino_ide_builder_builds(library, tmp_path, example):
    """arduino-builder (the IDE 1.8's builder) finds the library by its library.properties and src/, and
    compiles the example with -Wall -Wextra without a warning from the library or the sketch."""
    p = arduino_builder(library, example, tmp_path)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "Using library microlearn at version" in out and f"-I{library}/src" in out.replace("\"", "")
    ours = [ln for ln in out.splitlines() if "warning:" in ln and (str(library) in ln or f"{example}.ino" in ln)]
    assert not ours, ours
    used = re.search(r"Sketch uses (\d+) bytes", out)
    assert used and int(used.group(1)) <= UNO_FLASH
