"""The sketch planner (deploy/sketch_plan.py) against real builds of sketches it was not calibrated on:
other shapes, storage, kernels, estimators than deploy/sketch_calibrate.py's reference sketches."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import LinearSVC

from microlearn.deploy import sketch as S
from microlearn.deploy.arduino_library import build_library
from microlearn.deploy.sketch_calibrate import KINDS, reference_data
from microlearn.deploy.sketch_plan import calibration, plan_sketch
from microlearn.learner.config import LearnerConfig

build = pytest.importorskip("microlearn.deploy.build")
FLASH_TOLERANCE = 0.03      # measured: within 1.5% on uno and nrf52840
STATIC_TOLERANCE = 16       # bytes; measured: exact but for 4 B on one Cortex-M model sketch


def sketches(board, out):
    X, y = reference_data(5, d=3, classes=2, n=60)
    return [S.sketch_train(X[:40], y[:40], X[40:], y[40:], board, out, kernel="linear", storage="int8"),
            S.sketch_train(X[:20], y[:20], X[40:], y[40:], board, out, kernel="rbf", name="Rbf"),
            S.sketch_loop(LearnerConfig(n_features=2, n_classes=3, capacity=30), board, out),
            # the other learners (their difference from the linear loop's fixed part is measured at d = 4, 2 classes)
            S.sketch_loop(LearnerConfig(n_features=12, n_classes=3, model="online", capacity=6), board, out,
                          name="Online"),
            S.sketch_loop(LearnerConfig(n_features=3, n_classes=2, capacity=20, kernel="rbf", storage="int8",
                                        scale=np.full(3, 0.05, np.float32), offset=np.zeros(3, np.float32)),
                          board, out, name="Rbf8", persist=False),
            S.sketch_model(LinearSVC().fit(X, y), board, out)]


def check(board, tmp_path):
    from test_sketch import need_board
    need_board(board)
    lib = build_library(tmp_path / "libraries" / "microlearn")
    for sk in sketches(board, tmp_path / "s"):
        try:
            b = build.build_sketch(sk.folder, board, library_dir=lib, log=lambda s: None)
        except build.BuildUnavailable as exc:
            pytest.skip(str(exc))
        p = sk.plan
        assert not p.estimate, p.basis
        assert abs(p.flash_bytes - b.flash_bytes) <= FLASH_TOLERANCE * b.flash_bytes, (sk.name, p, b)
        assert abs(p.static_ram_bytes - b.static_ram_bytes) <= STATIC_TOLERANCE, (sk.name, p, b)


def test_plan_matches_builds_on_the_uno(tmp_path):
    check("uno", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mega2560", "nrf52840", "samd21"])
def test_plan_matches_builds_other_boards(board, tmp_path):
    check(board, tmp_path)


def test_every_emulated_board_and_kind_is_calibrated():
    cal = calibration()["boards"]
    for board in ("uno", "mega2560", "nrf52840", "samd21"):
        assert set(cal[board]) == set(KINDS)
    assert all(cal[b][k]["stack_measured"] for b in ("uno", "mega2560") for k in cal[b])


def test_boards_without_a_measured_sketch_say_estimate():
    p = plan_sketch("model", "rp2040", n_features=4, n_classes=3, capacity=0, table_bytes=100, reply_bytes=3)
    assert p.estimate and "samd21" in p.basis
    q = plan_sketch("model", "nano", n_features=4, n_classes=3, capacity=0, table_bytes=100, reply_bytes=3)
    assert not q.estimate and q.board_flash_bytes == 30720     # the Nano's bootloader leaves 30 KB


def test_sketch_calibration_is_current():
    """The templates, the shim and the runtime are what deploy/sketch_calibration.json was measured on
    (after a change: `microlearn calibrate --sketches`)."""
    from microlearn.deploy.sketch_plan import calibration_is_current
    assert calibration_is_current(), "run `microlearn calibrate --sketches`"
