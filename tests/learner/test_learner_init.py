"""The learner starts from a model trained in Python (mlrn_learner_set_model, the generated header's
NAME_init_* tables): the device predicts with it from the first row and keeps learning from there, row for
row as the Python reference does; a bad initial model is refused before any C is written, and on the
device with a status code."""
import numpy as np
import pytest

from conftest import board_param
from microlearn.learner import codegen as lc
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import RefLearner
from microlearn.learner.runner import run_on_target
from microlearn.learner.simulate import fit_static, run_reference


def _stream(n=400, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
    y = np.where(X[:, 0] + 0.6 * X[:, 1] > 0.2, 2, np.where(X[:, 0] < -0.4, 0, 1)).astype(np.int64)
    y[n // 2:] = (y[n // 2:] + 1) % 3          # abrupt drift half way: the learner must move off its start
    return X, y


def _init(cfg, X, y, rows=60):
    return fit_static(cfg, X[:rows], y[:rows])


@pytest.mark.parametrize("target", ["host", board_param("uno"), board_param("nrf52840")])
def test_device_starts_from_the_python_model_and_agrees_row_for_row(target):
    X, y = _stream()
    cfg = LearnerConfig(n_features=3, n_classes=3, capacity=24, queue=4)
    init = _init(cfg, X, y)
    ref = run_reference(cfg, X[60:], y[60:], init=init)
    cold = run_reference(cfg, X[60:], y[60:])
    assert ref["predictions"][0] >= 0 and cold["predictions"][0] == -1     # a prediction from the first row
    assert np.mean(ref["predictions"][:40] == y[60:100]) > 0.8                # and a good one (before the drift)
    assert ref["accepted"], "the learner keeps learning after its start"
    dev = run_on_target(cfg, X[60:], y[60:], target, init=init)
    assert np.array_equal(dev["predictions"], ref["predictions"])
    for k in ("retrains", "accepted", "rollbacks", "failed"):
        assert dev[k] == ref[k], k


def test_a_bad_initial_model_is_refused_before_any_c():
    cfg = LearnerConfig(n_features=3, n_classes=3, capacity=24)
    W, b = np.zeros((3, 3), np.float32), np.zeros(3, np.float32)
    for bad in [(W, b, [0, 0, 1]),                      # not increasing
                (W, b, [0, 1, 3]),                      # a class the learner does not have
                (W[:1], b[:1], [0]),                    # one class
                (W[:2], b[:2], [0, 1, 2]),              # 2 rows for 3 classes (3 pairs)
                (np.full((3, 3), np.nan, np.float32), b, [0, 1, 2])]:
        with pytest.raises(ValueError):
            lc.render_header(cfg, "lrn", init=bad)
        with pytest.raises(ValueError):
            RefLearner(cfg).set_model(*bad)
    header = lc.render_header(cfg, "lrn", init=(W, b, [0, 1, 2]))
    assert "mlrn_learner_set_model(&lrn, lrn_init_w, lrn_init_b, lrn_init_map, 3u)" in header
    assert lc.render_header(cfg, "lrn") == lc.render_header(cfg, "lrn", init=None)


def test_loop_init_rows_starts_the_device_from_the_first_rows(tmp_path):
    """`microlearn loop --init-rows N`: the first N rows train the starting model in Python; the device
    predicts from the first row of the rest and agrees with the reference row for row."""
    import subprocess
    import sys

    from microlearn.learner.runner import loop
    rep = loop("rotating_hyperplane", "host", capacity=24, init_rows=40, baselines=False)
    assert rep["n_rows"] == 560 and rep["agreement"] == 1.0 and rep["same_events"]
    assert rep["predictions"][0] >= 0
    cold = loop("rotating_hyperplane", "host", capacity=24, baselines=False)
    assert cold["predictions"][0] < 0            # without it: no model before the first feedback
    p = subprocess.run([sys.executable, "-m", "microlearn", "loop", "rotating_hyperplane", "--init-rows", "600"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--init-rows must be" in p.stderr and p.stderr.count("\n") == 1
