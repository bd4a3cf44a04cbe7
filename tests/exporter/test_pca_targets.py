"""PCA pipelines on emulated boards: the device equals the exporter's float32 mirror bit for bit and predicts
scikit-learn's classes on every test row. One case per default board; the rest with -m slow."""
from __future__ import annotations

import numpy as np
import pytest

import microlearn
from conftest import board_param
from knn_cases import fit, split
from test_knn_targets import SLOW_BOARDS
from test_pca import CLASSIFIERS, DETECTORS


def check(model, ds, board, tmp_path):
    est = fit(CLASSIFIERS[model](), ds)
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target=board, name="p", workdir=tmp_path)
    idx = cm.predict_index(Xte)
    np.testing.assert_array_equal(idx, cm.model.ref_predict(Xte))
    np.testing.assert_array_equal(cm.classes_[idx], est.predict(Xte))
    return cm


@pytest.mark.parametrize("board", [board_param("uno")])
def test_uno_pca_knn(board, tmp_path):
    assert check("pca_whiten_knn", "sensor", board, tmp_path).cycles_per_prediction is not None


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_nrf52840_pca_forest(board, tmp_path):
    assert check("pca_forest", "wine", board, tmp_path).instructions is not None


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ["uno", "nrf52840"] + SLOW_BOARDS])
@pytest.mark.parametrize("model", ["pca_logreg", "pca_svc", "pca_scaler_tree"])
def test_matrix(model, board, tmp_path):
    check(model, "iris", board, tmp_path)


@pytest.mark.parametrize("board", [board_param("uno", slow=True), board_param("nrf52840", slow=True)])
def test_detector_behind_pca(board, tmp_path):
    est = fit(DETECTORS["pca_iforest"](), "anomaly", kind="anomaly")
    _, Xte, _, _ = split("anomaly")
    cm = microlearn.compile(est, target=board, name="p", workdir=tmp_path)
    got = cm.predict(Xte)
    np.testing.assert_array_equal(got, cm.model.ref_predict(Xte))
    np.testing.assert_array_equal(got, est.predict(Xte))
