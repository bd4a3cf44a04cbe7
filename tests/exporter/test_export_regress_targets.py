"""Regressors and boosted classifiers on emulated boards: ATmega328P (uno, simavr) and Cortex-M4F (nrf52840,
qemu). The device's values are the exporter's float32 mirror bit for bit. A few fast cases per target in the
default run; every model x dataset with -m slow."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

import microlearn
from microlearn.exporter import regression_errors
from microlearn.targets import BuildError, DoesNotFit
from export_cases import dataset
from regress_cases import (CLF_MODELS, MULTI_MODELS, REG_DATASETS, REG_MODELS, clf_fitted, hard_rows, reg_dataset,
                           reg_fitted)
from test_export_regress import _nan_rows
from test_export_targets import _target_or_skip


def _compile(est, target, tmp_path):
    _target_or_skip(target)
    try:
        return microlearn.compile(est, target=target, name="m", workdir=tmp_path)
    except DoesNotFit as exc:
        pytest.skip(f"does not fit {target}: {exc}")
    except BuildError as exc:
        if "too large" in str(exc):
            pytest.skip(f"does not fit {target}: {exc}")
        raise


def _check_regressor(est, X, target, tmp_path, n_rows=60):
    cm = _compile(est, target, tmp_path)
    rows = X[np.random.default_rng(0).permutation(len(X))[:n_rows]]
    hard = hard_rows(cm.model, X, limit=40)
    if len(hard):
        rows = np.concatenate([rows, hard])
    V = cm.predict_values(rows)
    np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(rows).view(np.uint32))
    assert regression_errors(V, est.predict(rows))[2]
    return cm


def _check_classifier(est, X, target, tmp_path, n_rows=60):
    cm = _compile(est, target, tmp_path)
    rows = X[np.random.default_rng(0).permutation(len(X))[:n_rows]]
    hard = hard_rows(cm.model, X, limit=40)
    if len(hard):
        rows = np.concatenate([rows, hard])
    idx = cm.predict_index(rows)
    np.testing.assert_array_equal(idx, cm.model.ref_predict(rows))
    np.testing.assert_array_equal(cm.classes_[idx], est.predict(rows))
    P = cm.predict_proba(rows[:10])
    np.testing.assert_array_equal(P.view(np.uint32), cm.model.ref_proba(rows[:10]).view(np.uint32))
    return cm


FAST = {"uno": [("linear", "diabetes"), ("forest", "friedman"), ("hgb", "diabetes")],
        "nrf52840": [("svr_rbf", "friedman"), ("gbr", "diabetes"), ("extratrees_minmax", "diabetes")]}


@pytest.mark.avr
@pytest.mark.parametrize("model, ds", FAST["uno"])
def test_uno_regressor(model, ds, tmp_path):
    X, _ = reg_dataset(ds)
    cm = _check_regressor(reg_fitted(model, ds), X, "uno", tmp_path)
    assert cm.cycles_per_prediction is not None


@pytest.mark.cortexm
@pytest.mark.parametrize("model, ds", FAST["nrf52840"])
def test_nrf52840_regressor(model, ds, tmp_path):
    X, _ = reg_dataset(ds)
    cm = _check_regressor(reg_fitted(model, ds), X, "nrf52840", tmp_path)
    assert cm.instructions is not None


@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
def test_hgb_nan_and_multi_output_on_boards(target, tmp_path):
    """NaN inputs of both signs take each node's missing-value direction on the device too; a multi-output
    forest writes all its values."""
    X, y = reg_dataset("diabetes_nan")
    est = HistGradientBoostingRegressor(max_iter=15, random_state=0).fit(X, y)
    cm = _compile(est, target, tmp_path / "h")
    rows = np.concatenate([X[:30], _nan_rows(X)[:40]])
    V = cm.predict_values(rows)
    np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(rows).view(np.uint32))
    assert regression_errors(V, est.predict(rows))[2]
    Xm, _ = reg_dataset("multi")
    _check_regressor(reg_fitted("forest", "multi"), Xm, target, tmp_path / "f", n_rows=30)


@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
def test_boosted_classifiers_on_boards(target, tmp_path):
    X, _ = dataset("iris3")
    _check_classifier(clf_fitted("gbc", "iris3")[0], X, target, tmp_path / "g")
    Xc, _ = dataset("cancer")
    _check_classifier(clf_fitted("hgbc", "cancer")[0], Xc, target, tmp_path / "h")


@pytest.mark.slow
@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
@pytest.mark.parametrize("ds", REG_DATASETS)
@pytest.mark.parametrize("model", list(REG_MODELS))
def test_regressor_matrix(model, ds, target, tmp_path):
    X, _ = reg_dataset(ds)
    _check_regressor(reg_fitted(model, ds), X, target, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
@pytest.mark.parametrize("model", MULTI_MODELS)
def test_multi_output_matrix(model, target, tmp_path):
    X, _ = reg_dataset("multi")
    _check_regressor(reg_fitted(model, "multi"), X, target, tmp_path, n_rows=40)


@pytest.mark.slow
@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
@pytest.mark.parametrize("ds", ["iris2", "iris3", "cancer", "wine"])
@pytest.mark.parametrize("model", list(CLF_MODELS))
def test_boosted_classifier_matrix(model, ds, target, tmp_path):
    X, _ = dataset(ds)
    _check_classifier(clf_fitted(model, ds)[0], X, target, tmp_path)


@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_quantized_linear_regressor_on_boards(dtype, target, tmp_path):
    _target_or_skip(target)
    X, _ = reg_dataset("diabetes")
    est = reg_fitted("ridge_scaled", "diabetes")
    cm = microlearn.compile(est, target=target, name="m", dtype=dtype, calib_X=X, workdir=tmp_path)
    V = cm.predict_values(X[:60])
    np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(X[:60]).view(np.uint32))
    Xm, _ = reg_dataset("multi")
    em = reg_fitted("linear", "multi")
    cm = microlearn.compile(em, target=target, name="m", dtype=dtype, calib_X=Xm, workdir=tmp_path / "multi")
    V = cm.predict_values(Xm[:40])
    np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(Xm[:40]).view(np.uint32))


@pytest.mark.parametrize("target", [pytest.param("uno", marks=pytest.mark.avr),
                                    pytest.param("nrf52840", marks=pytest.mark.cortexm)])
@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_quantized_tree_regressors_on_boards(dtype, target, tmp_path):
    _target_or_skip(target)
    for model, ds in (("forest", "friedman"), ("gbr", "diabetes"), ("extratrees_minmax", "multi")):
        X, _ = reg_dataset(ds)
        cm = microlearn.compile(reg_fitted(model, ds), target=target, name="m", dtype=dtype, calib_X=X,
                                workdir=tmp_path / model)
        V = cm.predict_values(X[:50])
        np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(X[:50]).view(np.uint32))
