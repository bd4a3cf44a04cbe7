"""kNN on emulated boards: the device's classes / values / probabilities are the exporter's float32 mirror bit for
bit and scikit-learn's classes on every test row. One case on the uno (simavr) and one on the nrf52840 (qemu) by
default; the other boards and storages with -m slow."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import microlearn
from conftest import board_param
from knn_cases import fit, reg_split, split

SLOW_BOARDS = ["mega2560", "bluepill", "samd21", "rp2040", "esp32c3", "esp8266"]


def _bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def check_classifier(est, ds, board, tmp_path, dtype="float32"):
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target=board, name="k", dtype=dtype, workdir=tmp_path)
    idx = cm.predict_index(Xte)
    np.testing.assert_array_equal(idx, cm.model.ref_predict(Xte))
    if dtype == "float32":
        np.testing.assert_array_equal(cm.classes_[idx], est.predict(Xte))
    np.testing.assert_array_equal(_bits(cm.predict_proba(Xte[:8])), _bits(cm.model.ref_proba(Xte[:8])))
    return cm


@pytest.mark.parametrize("board", [board_param("uno")])
def test_uno_distance_weighted(board, tmp_path):
    est = fit(KNeighborsClassifier(5, weights="distance"), "iris")
    cm = check_classifier(est, "iris", board, tmp_path)
    assert cm.cycles_per_prediction is not None


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_nrf52840_sensor_int16_rows(board, tmp_path):
    est = fit(KNeighborsClassifier(5), "sensor")
    cm = check_classifier(est, "sensor", board, tmp_path)
    assert cm.model.table("rows").ctype == "int16_t" and cm.instructions is not None


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ["uno", "nrf52840"] + SLOW_BOARDS])
@pytest.mark.parametrize("case", ["manhattan_int8", "scaled_int16", "regressor"])
def test_matrix(case, board, tmp_path):
    if case == "manhattan_int8":
        check_classifier(fit(KNeighborsClassifier(3, metric="manhattan"), "iris"), "iris", board, tmp_path, "int8")
    elif case == "scaled_int16":
        est = fit(make_pipeline(StandardScaler(), KNeighborsClassifier(5, weights="distance")), "wine")
        check_classifier(est, "wine", board, tmp_path, "int16")
    else:
        est = fit(KNeighborsRegressor(4, weights="distance", algorithm="brute"), "sensor", kind="reg")
        _, Xte, _, _ = reg_split("sensor")
        cm = microlearn.compile(est, target=board, name="r", workdir=tmp_path)
        np.testing.assert_array_equal(_bits(cm.predict_values(Xte)), _bits(cm.model.ref_value(Xte)))
