"""Generated sketches (microlearn.deploy.sketch) end to end: written, planned, built for the board (the real
Arduino AVR core for uno / nano / mega2560, the shim for nrf52840 / samd21), run on the emulated board with
its UART on a pseudo-terminal, and driven by `microlearn serial` / the Link exactly as a real board would be.
Each checks the board against the Python reference: iterations, model bits, every prediction."""
from __future__ import annotations

import dataclasses
import json
import os
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from faults import Faults, FaultyTransport
from microlearn.core import vocab
from microlearn.data import streams
from microlearn.deploy.arduino_library import build_library
from microlearn.deploy.link import Device, Link, open_port
from microlearn.deploy.sketch import SketchError, read_manifest, sketch_loop, sketch_model, sketch_train
from microlearn.learner.config import LearnerConfig
from microlearn.learner.simulate import fit_static, run_reference
from microlearn.trainer.estimator import SMOClassifier

build = pytest.importorskip("microlearn.deploy.build")
AVR_BOARDS = ("uno", "nano", "mega2560")
TIMEOUT = 300


# ----------------------------------------------------------------------------------------------- data
def iris_split():
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    idx = np.random.default_rng(7).permutation(len(X))
    X, y = X[idx].astype(np.float32), y[idx]
    return X[:30], y[:30], X[100:], y[100:]


def loop_stream(n=240):
    s = streams.make("rotating_hyperplane")
    return s.X[:n].astype(np.float32), s.y[:n].astype(np.int64)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    return build_library(tmp_path_factory.mktemp("lib") / "libraries" / "microlearn")


def need_board(board: str) -> None:
    from microlearn.boards.registry import get_board
    b = get_board(board)
    missing = [t for t, ok in b.tools_installed().items() if not ok]
    if b.arch == "avr" and not Path("/usr/share/arduino/Arduino.mk").exists():
        missing.append("arduino-mk")
    if missing:
        pytest.skip(f"{board}: {', '.join(missing)} missing (bash scripts/setup.sh installs them)")


def built(sk, board, library) -> Path:
    need_board(board)
    try:
        return build.build_sketch(sk.folder, board, library_dir=library, log=lambda s: None).elf
    except build.BuildUnavailable as exc:
        pytest.skip(str(exc))


def serial_cli(port, folder, *args):
    p = subprocess.run([sys.executable, "-m", "microlearn", "serial", "--port", port, "--sketch", str(folder),
                        "--json", *args], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def banner(port: str, timeout: float = 60.0) -> list[str]:
    """What the sketch printed from reset to READY, read raw (pyserial would flush it when it opens)."""
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    text, end = b"", time.monotonic() + timeout
    try:
        while b"READY\r\n" not in text and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                text += os.read(fd, 4096)
    finally:
        os.close(fd)
    assert b"READY\r\n" in text, text
    return text.decode().splitlines()


def session(board, elf):
    from microlearn.targets import emulated_serial_port
    return emulated_serial_port(board, elf, timeout=TIMEOUT)


# ------------------------------------------------------------------------------ writing and planning
def test_train_sketch_layout_and_manifest(tmp_path):
    Xtr, ytr, Xte, yte = iris_split()
    sk = sketch_train(Xtr, ytr, Xte, yte, "uno", tmp_path, kernel="linear")
    assert sk.folder == tmp_path / "TrainOnBoard" and sk.ino.name == "TrainOnBoard.ino"
    assert set(sk.files) == {"TrainOnBoard.ino", "sketch_link.h", "sketch_config.h", "trainer.h", "sketch_data.h",
                             "microlearn_sketch.json"}
    from microlearn.deploy.sketch import TEMPLATES
    assert sk.ino.read_bytes() == (TEMPLATES / "train.ino").read_bytes()   # the template, unchanged
    man = read_manifest(sk.folder)
    est = SMOClassifier(kernel="linear").fit(Xtr, ytr)
    assert man["kind"] == "train" and man["classes"] == [0, 1, 2] and man["n_features"] == 4
    assert man["reference"]["iterations"] == int(est.n_iter_.sum())
    assert man["plan"]["fits"] and man["plan"]["sram_bytes"] <= 2048
    cfg = (sk.folder / "sketch_config.h").read_text()
    assert "#define SKETCH_KIND MLRN_LINK_KIND_TRAIN" in cfg and "MLRN_RUNTIME_VERSION" in cfg


def test_a_sketch_that_does_not_fit_is_refused_with_what_fits(tmp_path):
    Xtr, ytr, Xte, yte = iris_split()
    X = np.vstack([Xtr] * 4)
    y = np.concatenate([ytr] * 4)
    with pytest.raises(SketchError) as e:
        sketch_train(X, y, Xte, yte, "uno", tmp_path)
    msg = str(e.value)
    assert "does not fit the uno" in msg and "over the" in msg and "int8 storage" in msg and "mega2560" in msg
    assert not any(tmp_path.iterdir())            # nothing written
    sk = sketch_train(X, y, Xte, yte, "uno", tmp_path, storage="int8")   # what the message proposed
    assert sk.plan.fits


def test_names_overwrite_and_hostile_labels(tmp_path):
    Xtr, ytr, Xte, yte = iris_split()
    for bad in ("", "_x", "a b", "x" * 64, "../up", "a/b", "é"):
        with pytest.raises(SketchError, match="sketch name"):
            sketch_train(Xtr, ytr, Xte, yte, "uno", tmp_path, name=bad)
    (tmp_path / "Mine").mkdir()
    (tmp_path / "Mine" / "notes.txt").write_text("mine")
    with pytest.raises(SketchError, match="not empty"):
        sketch_train(Xtr, ytr, Xte, yte, "uno", tmp_path, name="Mine")
    with pytest.raises(SketchError, match="not written by microlearn"):
        sketch_train(Xtr, ytr, Xte, yte, "uno", tmp_path, name="Mine", overwrite=True)
    assert (tmp_path / "Mine" / "notes.txt").read_text() == "mine"
    # labels from a CSV reach C only through the one escaping function (as string literals, octal escapes)
    evil = np.array(['*/ #include "x" \\', "\"); system(\"rm", "ok\n#error"], dtype=object)
    sk = sketch_train(Xtr, evil[ytr], Xte, evil[yte], "uno", tmp_path, name="Evil")
    for f in ("sketch_config.h", "trainer.h", "sketch_data.h"):
        text = (sk.folder / f).read_text()
        for raw in evil:
            assert raw not in text
        assert '"); system("' not in text
    assert read_manifest(sk.folder)["classes"] == sorted(evil.tolist())
    again = sketch_train(Xtr, ytr, Xte, yte, "uno", tmp_path, name="Evil", overwrite=True)
    assert read_manifest(again.folder)["classes"] == [0, 1, 2]


def test_loop_sketch_gets_ddm_where_it_fits_else_the_window_said(tmp_path):
    """The default detector (DDM) where the sketch fits; the Nano's sketch with persistence is over its 30 KB of
    flash with DDM's code (~1 KB) and gets the window detector, said in the manifest and the sketch's header; asked
    for DDM explicitly (drift_fallback=False, the CLI's --drift ddm) it is refused with the window among what fits.
    The uno's 32 KB hold DDM's sketch with persistence since builds compile one storage type (MLRN_STORE_TYPE)."""
    cfg = LearnerConfig(n_features=2, n_classes=3, capacity=30)
    assert cfg.drift == "ddm"
    sk = sketch_loop(cfg, "nano", tmp_path / "n")
    m = read_manifest(sk.folder)
    assert m["persist"] and m["learner"]["drift"] == "window"
    assert m["drift_note"].startswith("the window detector: DDM (the default) does not fit this sketch on the nano")
    assert "flash" in m["drift_note"]
    assert "#define MLRN_LEARNER_DDM 0 " in (sk.folder / "lrn.h").read_text()
    assert "Drift detector: window (the window detector: DDM" in (sk.folder / "sketch_config.h").read_text()
    with pytest.raises(SketchError, match=r"the window detector \(--drift window"):
        sketch_loop(cfg, "nano", tmp_path / "v", drift_fallback=False)
    for board, persist in (("uno", None), ("nano", False), ("nrf52840", None)):
        sk = sketch_loop(cfg, board, tmp_path / board, persist=persist)
        m = read_manifest(sk.folder)
        assert m["learner"]["drift"] == "ddm" and "drift_note" not in m
        assert "#define MLRN_LEARNER_DDM 1 " in (sk.folder / "lrn.h").read_text()


def test_platformio_project(tmp_path):
    X, y = loop_stream(60)
    cfg = LearnerConfig(n_features=4, n_classes=2, capacity=40)
    with pytest.raises(SketchError, match="--no-persist"):      # with persistence the Nano's SRAM holds 38 rows
        sketch_loop(cfg, "nano", tmp_path, platformio=True)
    sk = sketch_loop(cfg, "nano", tmp_path, platformio=True, persist=False)
    ini = (sk.folder / "platformio.ini").read_text()
    assert "[env:nano]" in ini and "board = nanoatmega328" in ini and "framework = arduino" in ini
    assert (sk.folder / "src" / "LearningLoop.ino").is_file() and (sk.folder / "lib" / "microlearn" /
                                                                   "library.properties").is_file()
    assert read_manifest(sk.folder)["kind"] == "loop"


def test_cli_sketch_errors_are_one_line(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "microlearn", "sketch", *args], capture_output=True,
                              text=True, timeout=120)
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    p = subprocess.run([sys.executable, "-m", "microlearn", "serial", "--port", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "nope" in p.stderr, p.stderr
    for args, words in ((["train", str(csv), "--board", "vax", "--out", str(tmp_path)], "unknown board"),
                        (["train", str(csv), "--board", "uno", "--out", str(tmp_path), "--name", "a;b"], "name"),
                        (["loop", "--board", "uno", "--n-features", "0", "--classes", "2", "--out", str(tmp_path)],
                         "--n-features"),
                        (["loop", "--board", "uno", "--n-features", "2", "--classes", "a,a", "--out", str(tmp_path)],
                         "distinct"),
                        (["loop", "--board", "uno", "--n-features", "2", "--classes", "10" * 9, "--out", str(tmp_path)],
                         "2..16"),
                        (["model", str(csv), "--board", "uno", "--out", str(tmp_path)], "")):
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and words in p.stderr, p.stderr
    p = run("train", str(csv), "--board", "uno", "--out", str(tmp_path), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["plan"]["fits"]


# ------------------------------------------------------------------------- on the emulated boards
def check_train_session(board, library, tmp_path, faults: bool = False):
    Xtr, ytr, Xte, yte = iris_split()
    sk = sketch_train(Xtr, ytr, Xte, yte, board, tmp_path, kernel="linear")
    elf = built(sk, board, library)
    est = SMOClassifier(kernel="linear").fit(Xtr, ytr)
    with session(board, elf) as port:
        lines = banner(port.port)
        assert lines[1] == f"stored {len(Xtr)} rows, status 0 (ok)", lines
        assert lines[2].startswith(f"trained: status 0 (ok), {int(est.n_iter_.sum())} iterations, "), lines
        assert lines[3] == f"accuracy {int(np.sum(est.predict(Xte) == yte))}/{len(Xte)}" and lines[4] == "READY"
        if not faults:
            rep = serial_cli(port.port, sk.folder, "--train", "--eval", "--model", str(tmp_path / "m.bin"))
            assert rep["train"]["status"] == "ok"
            assert rep["train"]["iterations"] == int(est.n_iter_.sum())
            assert rep["eval"] == {"correct": int(np.sum(est.predict(Xte) == yte)), "total": len(Xte)}
            blob = (tmp_path / "m.bin").read_bytes()
            pred = serial_cli(port.port, sk.folder, "--predict", str(_csv(tmp_path, Xte)))["predictions"]
            assert pred == np.searchsorted(est.classes_, est.predict(Xte)).tolist()
            # training rows streamed in over the wire: the same model again
            again = serial_cli(port.port, sk.folder, "--clear", "--rows", str(_csv(tmp_path, Xtr, ytr)), "--train",
                               "--model", str(tmp_path / "m2.bin"))
            assert again["rows_stored"] == len(Xtr) and again["train"]["iterations"] == int(est.n_iter_.sum())
            assert (tmp_path / "m2.bin").read_bytes() == blob
        else:
            # the same session through a wire that drops, flips, duplicates and cuts bytes both ways
            ser = open_port(port.port)
            link = Link(FaultyTransport(ser, Faults(1, p=0.004), Faults(2, p=0.004)), timeout=0.5, retries=30)
            dev = Device(link)
            dev.hello()
            dev.clear()
            for i, (x, lab) in enumerate(zip(Xtr, ytr)):
                assert dev.send_row(x, int(lab)) == i + 1      # applied exactly once, in order
            t = dev.train()
            assert t.iterations == int(est.n_iter_.sum())
            blob = dev.model_bytes()
            pred = [dev.predict(x) for x in Xte]
            assert pred == est.predict(Xte).tolist()
            assert link.resends > 0      # the faults did happen, and were survived
            ser.close()
    kernel, n_classes, n_sub, d, n_stored, rows = struct.unpack_from("<BBHHHH", blob)
    assert (kernel, n_classes, n_sub, d, n_stored, rows) == (vocab.KERNELS["linear"], 3, 3, 4, len(Xtr), 0)
    b = np.frombuffer(blob, "<f4", n_sub, 10)
    w = np.frombuffer(blob, "<f4", n_sub * d, 10 + 4 * n_sub).reshape(n_sub, d)
    assert b.view(np.uint32).tolist() == est.intercept_.view(np.uint32).tolist()
    assert w.view(np.uint32).tolist() == est.coef_.view(np.uint32).tolist()


def _csv(tmp_path, X, y=None) -> Path:
    p = tmp_path / ("rows.csv" if y is None else "labelled.csv")
    lines = [",".join(repr(float(v)) for v in x) + ("" if y is None else f",{int(t)}")
             for x, t in zip(X, y if y is not None else [None] * len(X))]
    p.write_text("\n".join(lines) + "\n")
    return p


def test_train_sketch_on_the_uno_through_microlearn_serial(library, tmp_path):
    check_train_session("uno", library, tmp_path)


def test_train_sketch_on_the_uno_through_a_faulty_wire(library, tmp_path):
    check_train_session("uno", library, tmp_path, faults=True)


def test_train_sketch_on_the_nrf52840_through_the_shim(library, tmp_path):
    check_train_session("nrf52840", library, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("board", ["nano", "mega2560", "samd21"])
def test_train_sketch_other_boards(board, library, tmp_path):
    check_train_session(board, library, tmp_path)


def check_loop_session(board, library, tmp_path, init: bool, persist=None):
    X, y = loop_stream()
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=2, capacity=24)
    start = fit_static(cfg, X[:40], y[:40]) if init else None
    sk = sketch_loop(cfg, board, tmp_path, init=start, persist=persist)
    # the detector the sketch got: DDM (the default) where it fits, else the window's (the uno with persistence)
    cfg = dataclasses.replace(cfg, drift=read_manifest(sk.folder)["learner"]["drift"])
    elf = built(sk, board, library)
    ref = run_reference(cfg, X[40:], y[40:], init=start)
    with session(board, elf) as port:
        lines = banner(port.port)
        assert lines[1] == "learner set-up: 0" and lines[-1] == "READY", lines
        assert lines[2].endswith(f" model classes: {2 if init else 0}") or \
            lines[2] == f"model classes: {2 if init else 0}", lines
        out = tmp_path / "log.csv"
        rep = serial_cli(port.port, sk.folder, "--feedback", str(_csv(tmp_path, X[40:], y[40:])), "--out", str(out),
                         "--model", str(tmp_path / "m.bin"))
    rows = out.read_text().splitlines()[1:]
    got = [int(r.split(",")[1]) if r.split(",")[1] else -1 for r in rows]
    assert got == ref["predictions"].tolist()
    assert rep["feedback"]["accepted"] == ref["accepted"] and rep["feedback"]["rollbacks"] == ref["rollbacks"]
    W, b, cmap = ref["learner"].model
    blob = (tmp_path / "m.bin").read_bytes()
    m = blob[0]
    assert list(blob[1:1 + m]) == list(cmap)
    w = np.frombuffer(blob, "<f4", W.size, 1 + m)
    assert w.view(np.uint32).tolist() == W.reshape(-1).view(np.uint32).tolist()
    assert np.frombuffer(blob, "<f4", b.size, 1 + m + 4 * W.size).view(np.uint32).tolist() == \
        b.view(np.uint32).tolist()
    if init:
        assert got[0] >= 0          # predicts from the first reading


def test_loop_sketch_on_the_uno_from_a_python_model(library, tmp_path):
    check_loop_session("uno", library, tmp_path, init=True)


def test_loop_sketch_on_the_samd21_through_the_shim(library, tmp_path):
    check_loop_session("samd21", library, tmp_path, init=False)


@pytest.mark.slow
@pytest.mark.parametrize("board,persist", [("mega2560", None), ("nrf52840", None), ("nano", False)])
def test_loop_sketch_other_boards(board, persist, library, tmp_path):
    check_loop_session(board, library, tmp_path, init=True, persist=persist)


def check_model_session(board, library, tmp_path, dtype="float32"):
    from sklearn.linear_model import LogisticRegression
    Xtr, ytr, Xte, yte = iris_split()
    est = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    sk = sketch_model(est, board, tmp_path, dtype=dtype, calib_X=Xtr)
    elf = built(sk, board, library)
    with session(board, elf) as port:
        assert banner(port.port)[1:] == ["inputs 4, classes 3", "READY"]
        rep = serial_cli(port.port, sk.folder, "--predict", str(_csv(tmp_path, Xte)))
    from microlearn.exporter import export
    ref = export(est, None, name="m", dtype=dtype, calib_X=Xtr).model.ref_predict(Xte)
    assert rep["predictions"] == np.asarray(ref).tolist()
    if dtype == "float32":
        assert rep["predictions"] == est.predict(Xte).tolist()


def test_model_sketch_on_the_uno(library, tmp_path):
    check_model_session("uno", library, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("board,dtype", [("nano", "int8"), ("mega2560", "float32"), ("nrf52840", "int8"),
                                         ("samd21", "float32")])
def test_model_sketch_other_boards(board, dtype, library, tmp_path):
    check_model_session(board, library, tmp_path, dtype)


def test_loop_sketch_keeps_its_model_across_a_power_cycle_on_the_uno(library, tmp_path):
    """The loop sketch saves each accepted model in the EEPROM (two slots, CRC); a second power-on of the same
    firmware with that EEPROM restores it: the board predicts as the reference's last accepted model."""
    from microlearn.learner.reference import predict_model
    from microlearn.targets import emulated_serial_port
    X, y = loop_stream(120)
    # the window detector: the uno's sketch with persistence has no flash for DDM's code (the default elsewhere)
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=2, capacity=24, drift="window")
    sk = sketch_loop(cfg, "uno", tmp_path)
    elf = built(sk, "uno", library)
    ref = run_reference(cfg, X, y)
    assert ref["accepted"], "the stream must make the learner accept a model"
    with emulated_serial_port("uno", elf, timeout=TIMEOUT) as port:
        assert banner(port.port)[2] == "no saved model; model classes: 0"
        serial_cli(port.port, sk.folder, "--feedback", str(_csv(tmp_path, X, y)))
    eeprom = port.close().extra["eeprom"]
    assert len(eeprom) == 1024 and eeprom[:4] in (b"MLPS", b"\xff\xff\xff\xff")
    W, b, cmap = ref["learner"].model
    with emulated_serial_port("uno", elf, timeout=TIMEOUT, eeprom=eeprom) as port:
        assert banner(port.port)[2] == "restored a saved model of 2", "the EEPROM's model was not restored"
        got = serial_cli(port.port, sk.folder, "--predict", str(_csv(tmp_path, X[:30])))["predictions"]
    assert got == np.asarray(predict_model(W, b, cmap, X[:30])).tolist()
