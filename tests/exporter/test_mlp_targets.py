"""Exported MLPs on emulated boards: the device computes the exporter's mirror bit for bit (classes,
probabilities, values) and float32 predicts scikit-learn's classes. One case per board by default (uno:
float32 tanh multi-class, which runs mlrn_math_expf in soft float; nrf52840: int8 relu multi-class), the
matrix of kinds x dtypes x boards with -m slow."""
from __future__ import annotations

import numpy as np
import pytest

import microlearn
from microlearn.exporter import regression_errors
from microlearn.targets import BuildError, DoesNotFit
from mlp_cases import data, fitted
from test_export_targets import _target_or_skip


def _check(kind, act, dtype, target, tmp_path, n_rows=40):
    _target_or_skip(target)
    est = fitted(kind, act)
    Xtr, _, Xte, _ = data(kind)
    try:
        cm = microlearn.compile(est, target=target, name="m", workdir=tmp_path, dtype=dtype, calib_X=Xtr)
    except DoesNotFit as exc:
        pytest.skip(f"does not fit {target}: {exc}")
    except BuildError as exc:
        if "too large" in str(exc):
            pytest.skip(f"does not fit {target}: {exc}")
        raise
    rows = Xte[:n_rows].astype(np.float32)
    if kind.startswith("reg"):
        V = cm.predict_values(rows)
        np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(rows).view(np.uint32))
        if dtype == "float32":
            assert regression_errors(V, est.predict(rows))[2]
        return cm
    idx = cm.predict_index(rows)
    np.testing.assert_array_equal(idx, cm.model.ref_predict(rows))
    if dtype == "float32":
        np.testing.assert_array_equal(cm.classes_[idx], est.predict(rows))
    P = cm.predict_proba(rows[:8])
    np.testing.assert_array_equal(P.view(np.uint32), cm.model.ref_proba(rows[:8]).view(np.uint32))
    return cm


@pytest.mark.avr
def test_uno_float32_tanh_digits(tmp_path):
    cm = _check("multi", "tanh", "float32", "uno", tmp_path)
    cm.measure(data("multi")[2][:1])
    assert cm.cycles_per_prediction and cm.cycles_per_prediction > 0


@pytest.mark.cortexm
def test_nrf52840_int8_relu_digits(tmp_path):
    cm = _check("multi", "relu", "int8", "nrf52840", tmp_path)
    cm.measure(data("multi")[2][:1])
    assert cm.instructions and cm.instructions > 0


CASES = [(k, a, d) for k in ("binary", "multi", "reg1", "reg2") for a in ("relu", "logistic") for d in ("float32", "int8")]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["uno", "nrf52840", "bluepill", "samd21", "esp32c3"])
@pytest.mark.parametrize("kind,act,dtype", CASES)
def test_board_matrix(kind, act, dtype, target, tmp_path):
    _check(kind, act, dtype, target, tmp_path, n_rows=30)
