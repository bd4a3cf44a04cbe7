"""Loop sketches of the other learners (`microlearn sketch loop --model online | svm-rbf | svm-poly`, int16/int8
stores): written, planned, built with the real Arduino AVR core (or the shim), run on the emulated board through
a serial session, and checked against the Python reference (learner.simulate.run_reference) bit for bit: every
prediction, the accepted / rolled-back rows, the MODEL bytes, and (uno) the model restored from the EEPROM after a
power cycle. The CLI's refusals of bad options are here too."""
from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys

import numpy as np
import pytest

from microlearn.core import store as _store
from microlearn.core import vocab
from microlearn.core.store import affine_from_range
from microlearn.data import streams
from microlearn.deploy.sketch import SketchError, max_loop_capacity, read_manifest, sketch_loop
from microlearn.learner.config import LearnerConfig
from microlearn.learner.online import predict_weights
from microlearn.learner.simulate import fit_static, run_reference
from microlearn.deploy.arduino_library import build_library
from test_sketch import _csv, banner, built, serial_cli, session


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return build_library(tmp_path_factory.mktemp("lib") / "libraries" / "microlearn")


def rbf_int8_cfg(X, **kw) -> LearnerConfig:
    """The rbf learner over an int8 store mapped on the stream's range, as `microlearn loop --storage int8` maps it."""
    scale, offset = affine_from_range(X.min(axis=0), X.max(axis=0), "int8", X.shape[1])
    return LearnerConfig(n_features=X.shape[1], n_classes=2, kernel="rbf", gamma=2.0, storage="int8", scale=scale,
                         offset=offset, drift="window", **kw)


def expected_model_bytes(cfg: LearnerConfig, learner) -> bytes:
    """The MODEL reply of loop.ino, built from the reference learner (docs/serial-protocol.md, "The loop sketch's
    model"): u8 m, m class indices, then the learner's model."""
    if cfg.model == "online":
        if not learner.has_model:
            return b"\0"
        m, d = cfg.n_classes, cfg.n_features
        return bytes([m, *range(m)]) + learner.cur[:, :d].astype("<f4").tobytes() + \
            learner.cur[:, d].astype("<f4").tobytes()
    model = learner.model
    if model is None:
        return b"\0"
    if cfg.kernel == "linear":
        W, b, cmap = model
        return bytes([len(cmap), *cmap]) + np.asarray(W, "<f4").tobytes() + np.asarray(b, "<f4").tobytes()
    rows = (np.asarray(model.X, "<f4") if cfg.storage == "float32" else
            _store.quantize(model.X, cfg.scale, cfg.offset, cfg.storage).astype("<i2" if cfg.storage == "int16"
                                                                                 else "i1"))
    return (bytes([len(model.cmap), *model.cmap]) + struct.pack("<H", model.n_sv) + rows.tobytes()
            + np.asarray(model.lab, np.uint8).tobytes() + np.asarray(model.coef, "<f4").tobytes()
            + np.asarray(model.b, "<f4").tobytes())


def check_learner_session(board, library, tmp_path, cfg, X, y, *, persist=None, power_cycle=False):
    """The sketch of cfg on the board fed X, y as FEEDBACK frames through `microlearn serial`: every prediction,
    every event and the model's bytes as the reference's. Returns (sketch, build, stack high-water or None)."""
    from microlearn.deploy import build
    sk = sketch_loop(cfg, board, tmp_path / "sk", persist=persist)
    cfg = dataclasses.replace(cfg, drift=read_manifest(sk.folder)["learner"]["drift"])
    elf = built(sk, board, library)
    ref = run_reference(cfg, X, y)
    assert ref["accepted"], "the stream must make the learner accept a model"
    with session(board, elf) as port:
        lines = banner(port.port)
        assert lines[1] == "learner set-up: 0" and lines[-1] == "READY", lines
        out = tmp_path / "log.csv"
        rep = serial_cli(port.port, sk.folder, "--feedback", str(_csv(tmp_path, X, y)), "--out", str(out),
                         "--model", str(tmp_path / "m.bin"))
    res = port.close()
    rows = out.read_text().splitlines()[1:]
    got = [int(r.split(",")[1]) if r.split(",")[1] else -1 for r in rows]
    assert got == ref["predictions"].tolist()
    assert rep["feedback"]["accepted"] == ref["accepted"] and rep["feedback"]["rollbacks"] == ref["rollbacks"]
    assert (tmp_path / "m.bin").read_bytes() == expected_model_bytes(cfg, ref["learner"])
    if power_cycle:   # the same firmware, powered on with the EEPROM it left: the last accepted model is back
        from microlearn.targets import emulated_serial_port
        m = (tmp_path / "m.bin").read_bytes()[0]
        with emulated_serial_port(board, elf, timeout=300, eeprom=res.extra["eeprom"]) as port:
            assert banner(port.port)[2] == f"restored a saved model of {m}"
            again = serial_cli(port.port, sk.folder, "--predict", str(_csv(tmp_path, X[:40])), "--model",
                               str(tmp_path / "m2.bin"))
        assert (tmp_path / "m2.bin").read_bytes() == (tmp_path / "m.bin").read_bytes()
        if cfg.model == "online":
            assert again["predictions"] == predict_weights(ref["learner"].cur, X[:40]).tolist()
    b = build.build_sketch(sk.folder, board, library_dir=library, log=lambda s: None)   # cached: the figures
    return sk, b, res.stack_bytes


def online_goal_stream(n=240):
    """Issue 12's goal: 16 features, 3 classes (Gaussian classes whose means jump: the learner must re-learn)."""
    s = streams.switched_means(n=n, n_features=16, n_classes=3, drift_points=(n // 2,), seed=3)
    return s.X.astype(np.float32), s.y.astype(np.int64)


def test_online_sketch_on_the_uno_16_features_3_classes_with_persistence(library, tmp_path):
    """Issue 12's goal: a 16-feature, 3-class online learner with persistence and Serial fits the uno's 2 KB; its
    decisions and model are the reference's, and the model survives a power cycle."""
    X, y = online_goal_stream()
    cfg = LearnerConfig(n_features=16, n_classes=3, model="online", capacity=8, drift="window")
    sk, b, stack = check_learner_session("uno", library, tmp_path, cfg, X, y, power_cycle=True)
    man = read_manifest(sk.folder)
    assert man["persist"] and man["learner"]["model"] == "online"
    assert b.static_ram_bytes + stack <= 2048, (b.static_ram_bytes, stack)
    check_plan(sk.plan, b, stack)


def check_plan(plan, b, stack):
    """The plan sized the sketch before it was built: static SRAM to the bytes of the measured fixed part
    (sketch_calibration.json; STATIC_TOLERANCE as tests/deploy/test_sketch_plan.py), and never less stack than the
    session's high-water mark (the refusal before building must not let a sketch through that overruns)."""
    assert plan.fits and abs(plan.static_ram_bytes - b.static_ram_bytes) <= 16, (plan.static_ram_bytes, b)
    assert stack <= plan.stack_bytes, (stack, plan.stack_bytes)


def test_rbf_int8_sketch_on_the_uno(library, tmp_path):
    """The rbf kernel learner over an int8 store on the uno (no persistence: the kernel learner's snapshot code and
    its save / load do not fit the uno's flash beside the Arduino core): every prediction, event and the
    support-vector snapshot's bytes as the reference's."""
    s = streams.make("rotating_hyperplane")
    X, y = s.X[:200].astype(np.float32), s.y[:200].astype(np.int64)
    cfg = rbf_int8_cfg(X, capacity=24)
    sk, b, stack = check_learner_session("uno", library, tmp_path, cfg, X, y, persist=False)
    assert b.static_ram_bytes + stack <= 2048
    check_plan(sk.plan, b, stack)
    assert f"#define MLRN_LEARNER_KERNEL {vocab.KERNELS['rbf']} " in (sk.folder / "lrn.h").read_text()


def test_online_sketch_on_the_nrf52840_through_the_shim(library, tmp_path):
    X, y = online_goal_stream()
    cfg = LearnerConfig(n_features=16, n_classes=3, model="online", capacity=16)
    check_learner_session("nrf52840", library, tmp_path, cfg, X, y)


@pytest.mark.slow
def test_rbf_int8_sketch_on_the_samd21_through_the_shim(library, tmp_path):
    s = streams.make("rotating_hyperplane")
    X, y = s.X[:200].astype(np.float32), s.y[:200].astype(np.int64)
    check_learner_session("samd21", library, tmp_path, rbf_int8_cfg(X, capacity=40), X, y)


# ------------------------------------------------------------------------------------ planning, refusals
def test_sketch_loop_refuses_an_initial_model_for_other_learners(tmp_path):
    X, y = online_goal_stream(60)
    lin = LearnerConfig(n_features=16, n_classes=3, capacity=12)
    init = fit_static(lin, X, y)
    for cfg in (dataclasses.replace(lin, model="online"), dataclasses.replace(lin, kernel="rbf")):
        with pytest.raises(SketchError, match="initial model is for the linear SVM learner"):
            sketch_loop(cfg, "nrf52840", tmp_path, init=init)
    assert not any(tmp_path.iterdir())


def test_max_loop_capacity_is_the_edge_of_the_plan(tmp_path):
    s = streams.make("rotating_hyperplane")
    cfg = rbf_int8_cfg(s.X.astype(np.float32), capacity=12)
    cap = max_loop_capacity(cfg, "uno", persist=False)
    assert cap > 12
    sketch_loop(dataclasses.replace(cfg, capacity=cap), "uno", tmp_path / "a", persist=False)
    with pytest.raises(SketchError, match=f"capacity {cap:,} "):   # the refusal names the largest that fits
        sketch_loop(dataclasses.replace(cfg, capacity=cap + 1), "uno", tmp_path / "b", persist=False)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "microlearn", "sketch", "loop", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.hostile
def test_cli_refuses_bad_learner_options_in_one_line(tmp_path, capsys):
    csv = tmp_path / "init.csv"
    csv.write_text("".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    base = ["--board", "uno", "--n-features", "2", "--classes", "2", "--out", str(tmp_path / "out")]
    cases = [
        (["--model", "svm-rbf", "--gamma", "nan"], "--gamma must be a finite number"),
        (["--model", "svm-rbf", "--gamma", "inf"], "--gamma must be a finite number"),
        (["--model", "svm-rbf", "--gamma", "-1"], "--gamma must be > 0"),
        (["--model", "svm-poly", "--degree", "300"], "--degree must be an integer in 0..255"),
        (["--model", "svm-poly", "--coef0", "nan"], "--coef0"),
        (["--model", "svm-rbf", "--kernel", "poly"], "contradicts --kernel poly"),
        (["--model", "online", "--kernel", "rbf"], "--kernel"),
        (["--model", "online", "--storage", "int8"], "online learner keeps float32 rows only"),
        (["--model", "svm-rbf", "--storage", "int8"], "--calib CSV"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range", "1,0"], "LO < HI"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range", "nan,1"], "finite"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range", "0,1e39"], "finite float32"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range", "1"], "two numbers"),
        (["--model", "svm-rbf", "--storage", "int8", "--calib", str(tmp_path / "none.csv")], "--calib"),
        (["--feature-range", "0,1"], "--storage int16 or int8"),
        (["--model", "online", "--init-data", str(csv)], "--init-data: a starting model is for the linear SVM"),
        (["--model", "svm-rbf", "--init-data", str(csv)], "snapshot of its own support vectors"),
        (["--model", "online", "--capacity", "0"], "--capacity must be an integer in 1.."),
        (["--model", "online", "--margin-pct", "101"], "--margin-pct"),
        (["--model", "online", "--ddm-warn-k10", "5"], "--ddm-warn-k10"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range=-1,1", "--capacity", "2000", "--no-persist"],
         "does not fit the uno"),
        (["--model", "svm-rbf", "--storage", "int8", "--feature-range=-1,1", "--capacity", "200"],
         "persistence slots"),
    ]
    from microlearn.cli.main import main
    for args, words in cases:   # in-process (a process each would take minutes); the exit status as the shell sees it
        rc = main(["sketch", "loop", *base, *args])
        out, err = capsys.readouterr()
        assert rc == 2, (args, out, err)
        assert err.count("\n") == 1 and words in err, (args, err)
    assert not (tmp_path / "out").exists()
    p = _cli(*base, "--model", "svm-rbf", "--gamma", "nan")     # and once through `python -m microlearn`
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--gamma" in p.stderr, p.stderr


def test_cli_writes_online_and_int8_rbf_sketches(tmp_path):
    import json
    calib = tmp_path / "calib.csv"
    calib.write_text("x0,x1\n-2,0.5\n3,1.5\n")
    p = _cli("--board", "uno", "--n-features", "2", "--classes", "a,b", "--model", "svm-rbf", "--gamma", "0.5",
             "--storage", "int8", "--calib", str(calib), "--capacity", "20", "--no-persist", "--out", str(tmp_path),
             "--json")
    assert p.returncode == 0, p.stderr
    man = read_manifest(json.loads(p.stdout)["folder"])
    lrn = man["learner"]
    assert (lrn["model"], lrn["kernel"], lrn["storage"], lrn["gamma"]) == ("svm", "rbf", "int8", 0.5)
    scale, offset = affine_from_range([-2, 0.5], [3, 1.5], "int8", 2)
    assert lrn["scale"] == scale.tolist() and lrn["offset"] == offset.tolist()
    again = LearnerConfig(**lrn)        # what a host rebuilds the reference from
    assert again.params == LearnerConfig(n_features=2, n_classes=2, kernel="rbf", gamma=0.5, storage="int8",
                                         scale=scale, offset=offset, capacity=20).params
    assert again.scale.tobytes() == scale.tobytes() and again.train_capacity == 15
    assert man["classes"] == ["a", "b"] and not man["persist"]
    p = _cli("--board", "uno", "--n-features", "16", "--classes", "3", "--model", "online", "--capacity", "8",
             "--out", str(tmp_path), "--name", "Online", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    man = read_manifest(out["folder"])
    assert man["learner"]["model"] == "online" and man["persist"] and out["plan"]["fits"]
    text = (tmp_path / "Online" / "lrn.h").read_text()
    assert "MLRN_ONLINE_DEFINE" in text and "#define LRN_SAVE mlrn_online_save_model" in text


def test_plan_adds_the_learners_measured_difference(monkeypatch):
    """A loop plan of the online / a kernel learner = the learner planner's figures + the linear loop sketch's fixed
    part + that learner's measured difference (sketch_calibrate.DELTAS: with or without persistence; a negative
    stack difference lowers the plan, never below 0); not measured yet: the plan says so and is an estimate."""
    from microlearn.deploy import sketch_plan as sp
    from microlearn.deploy.sketch_calibrate import DELTAS
    assert DELTAS["loop_online"] == "loop" and DELTAS["loop_online_bare"] == DELTAS["loop_kernel"] == "loop_bare"
    base = {"loop": {"flash": 4000, "static": 260, "stack": 0}, "loop_bare": {"flash": 3500, "static": 270, "stack": 0}}
    deltas = {"loop_online": {"flash": -1700, "static": 0, "stack": -80},
              "loop_online_bare": {"flash": -200, "static": 2, "stack": 20},
              "loop_kernel": {"flash": -270, "static": 0, "stack": 6}}
    online = LearnerConfig(n_features=16, n_classes=3, model="online", capacity=8)
    rbf = LearnerConfig(n_features=4, n_classes=2, kernel="rbf", capacity=24)
    shape = dict(n_classes=0, capacity=0, table_bytes=0, reply_bytes=35)

    def plan(cfg, persist):
        return sp.plan_sketch("loop", "uno", **{**shape, "n_features": cfg.n_features, "n_classes": cfg.n_classes,
                                                "capacity": cfg.capacity}, learner=cfg, persist=persist)
    monkeypatch.setattr(sp, "calibration_is_current", lambda: True)
    monkeypatch.setattr(sp, "calibration", lambda: {"boards": {"uno": base}})
    before = {(c.model, c.kernel, p): plan(c, p) for c, p in ((online, True), (online, False), (rbf, False))}
    for p in before.values():
        assert p.estimate and "is not measured yet" in p.basis
    monkeypatch.setattr(sp, "calibration", lambda: {"boards": {"uno": {**base, **deltas}}})
    for (model, kernel, persist), kind in ((("online", "linear", True), "loop_online"),
                                           (("online", "linear", False), "loop_online_bare"),
                                           (("svm", "rbf", False), "loop_kernel")):
        cfg = online if model == "online" else rbf
        after, was, d = plan(cfg, persist), before[(model, kernel, persist)], deltas[kind]
        assert not after.estimate, after.basis
        assert after.flash_bytes == was.flash_bytes + d["flash"]
        assert after.static_ram_bytes == was.static_ram_bytes + d["static"]
        assert after.stack_bytes == was.stack_bytes + d["stack"]
