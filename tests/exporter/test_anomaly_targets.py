"""Anomaly detectors on emulated boards: the device's -1/+1 and decision values are the exporter's float32 mirror
bit for bit and scikit-learn's labels on every test row. One case per default board; the rest with -m slow."""
from __future__ import annotations

import numpy as np
import pytest

import microlearn
from conftest import board_param
from knn_cases import fit, split
from test_anomaly import MODELS, check_scores
from test_knn_targets import SLOW_BOARDS


def check(model, ds, board, tmp_path):
    est = fit(MODELS[model](), ds, kind="anomaly")
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target=board, name="a", workdir=tmp_path)
    got = cm.predict(Xte)
    np.testing.assert_array_equal(got, cm.model.ref_predict(Xte))
    np.testing.assert_array_equal(got, est.predict(Xte))
    D = cm.decision_function(Xte)
    np.testing.assert_array_equal(np.asarray(D, np.float32).view(np.uint32),
                                  cm.model.ref_decision(Xte)[:, 0].view(np.uint32))
    check_scores(est, D, Xte)
    return cm


@pytest.mark.parametrize("board", [board_param("uno")])
def test_uno_iforest(board, tmp_path):
    assert check("iforest_contamination", "anomaly", board, tmp_path).cycles_per_prediction is not None


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_nrf52840_elliptic(board, tmp_path):
    assert check("elliptic_scaled", "anomaly", board, tmp_path).instructions is not None


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ["uno", "nrf52840"] + SLOW_BOARDS])
@pytest.mark.parametrize("model", ["iforest_max_features", "elliptic_contamination"])
def test_matrix(model, board, tmp_path):
    check(model, "anomaly", board, tmp_path)


@pytest.mark.parametrize("board", [board_param("nrf52840", slow=True)])
def test_default_iforest_node_tables(board, tmp_path):
    """scikit-learn's default IsolationForest (100 trees of 256 samples: node tables beyond 64 KB) on a part with
    the flash for it."""
    from sklearn.ensemble import IsolationForest
    from knn_cases import sensor
    X, _ = sensor(n=1500)
    est = IsolationForest(random_state=0).fit(X[:1200])
    cm = microlearn.compile(est, target=board, name="a", workdir=tmp_path)
    got = cm.predict(X[1200:])
    np.testing.assert_array_equal(got, cm.model.ref_predict(X[1200:]))
    np.testing.assert_array_equal(got, est.predict(X[1200:]))
    assert cm.model.flash_bytes > 65536
