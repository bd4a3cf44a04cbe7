"""Regressors and gradient-boosting classifiers: the generated C equals the exporter's float32 mirror bit for
bit (host here; uno and nrf52840 in test_export_regress_targets.py), and the values are within the documented
bound of scikit-learn's float64 predictions (REGRESSION_REL_BOUND = 1e-5 of max(|y|, rms(y)); single trees:
the float32 of scikit-learn's leaf value exactly), on the data rows and at every tested tree threshold."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.svm import SVC, NuSVC

import microlearn
from microlearn.core.c_format import c_bytes
from microlearn.exporter import REGRESSION_REL_BOUND, UnsupportedModel, lower, regression_errors
from regress_cases import (CLF_DATASETS, CLF_MODELS, MULTI_MODELS, REG_DATASETS, REG_MODELS, clf_fitted, hard_rows,
                           reg_dataset, reg_fitted)
from export_cases import dataset

from compile_c import compile_c

C_DIR = Path(__file__).parent / "c"


def _rows(est, X, m):
    hard = hard_rows(m, X)
    return np.concatenate([X, hard]) if len(hard) else X


@pytest.mark.parametrize("ds", REG_DATASETS)
@pytest.mark.parametrize("model", list(REG_MODELS))
def test_regressor_host(model, ds, tmp_path):
    X, _ = reg_dataset(ds)
    est = reg_fitted(model, ds)
    cm = microlearn.compile(est, target="host", name="r", workdir=tmp_path)
    m = cm.model
    assert m.is_regressor and m.n_outputs == 1
    rows = _rows(est, X, m)
    V = cm.predict_values(rows)
    # 1. the C is the mirror, bit for bit
    np.testing.assert_array_equal(V.view(np.uint32), m.ref_value(rows).view(np.uint32))
    # 2. within the bound of scikit-learn's float64 predictions (and, on these data, 1e-5 relative per row)
    want = est.predict(rows)
    err_abs, err_rel, ok = regression_errors(V, want)
    assert ok, f"{model}/{ds}: max abs {err_abs:.3g}, max rel {err_rel:.3g}"
    assert err_rel <= REGRESSION_REL_BOUND, f"{model}/{ds}: max rel {err_rel:.3g}"
    # 3. a single tree returns scikit-learn's leaf value itself (rounded to float32), thresholds included
    if model in ("tree", "tree_scaled"):
        np.testing.assert_array_equal(V[:, 0], want.astype(np.float32))
    # 4. predict() is shaped like the estimator's
    assert cm.predict(rows[:3]).shape == (3,)


@pytest.mark.parametrize("model", MULTI_MODELS)
def test_multi_output_host(model, tmp_path):
    X, _ = reg_dataset("multi")
    est = reg_fitted(model, "multi")
    cm = microlearn.compile(est, target="host", name="r", workdir=tmp_path)
    m = cm.model
    assert m.n_outputs == 3 and "r_predict_values" in cm.header and "r_predict_value(" not in cm.header
    rows = _rows(est, X, m)
    V = cm.predict_values(rows)
    np.testing.assert_array_equal(V.view(np.uint32), m.ref_value(rows).view(np.uint32))
    _, _, ok = regression_errors(V, est.predict(rows))
    assert ok
    assert cm.predict(rows[:4]).shape == (4, 3)


@pytest.mark.parametrize("ds", CLF_DATASETS)
@pytest.mark.parametrize("model", list(CLF_MODELS))
def test_gb_classifier_host(model, ds, tmp_path):
    X, _ = dataset(ds)
    est, _ = clf_fitted(model, ds)
    cm = microlearn.compile(est, target="host", name="g", workdir=tmp_path)
    m = cm.model
    rows = _rows(est, X, m)
    idx = cm.predict_index(rows)
    np.testing.assert_array_equal(idx, m.ref_predict(rows))
    np.testing.assert_array_equal(cm.classes_[idx], est.predict(rows))
    D = cm.decision_function(X)
    R = m.ref_decision(X)
    np.testing.assert_array_equal(D.view(np.uint32), (R[:, 0] if R.shape[1] == 1 else R).view(np.uint32))
    S = est.decision_function(X)
    assert np.max(np.abs(D - S)) <= REGRESSION_REL_BOUND * (np.sqrt(np.mean(S ** 2)) + np.max(np.abs(S)))
    P = cm.predict_proba(X)
    np.testing.assert_array_equal(P.view(np.uint32), m.ref_proba(X).view(np.uint32))
    np.testing.assert_allclose(P, est.predict_proba(X), atol=1e-5)
    assert "g_class_names" in cm.header


def _nan_rows(X, seed=1):
    """Rows with missing cells, as quiet NaNs of both signs (the C must not care about the sign bit)."""
    rng = np.random.default_rng(seed)
    R = np.nan_to_num(X[:80]).copy()
    mask = rng.random(R.shape) < 0.3
    bits = R.view(np.uint32)
    bits[mask] = np.where(rng.random(mask.sum()) < 0.5, 0x7FC00000, 0xFFC00000).astype(np.uint32)
    return R


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_hist_gradient_boosting_nan_host(kind, tmp_path):
    X, y = reg_dataset("diabetes_nan")
    if kind == "regressor":
        est = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(X, y)
    else:
        est = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, (y > np.median(y)).astype(int))
    cm = microlearn.compile(est, target="host", name="h", workdir=tmp_path)
    bits = np.unpackbits(cm.model.table("nan_left").values.astype(np.uint8), bitorder="little")
    n = cm.model.extra_defines["N_NODES"]
    assert 0 < bits[:n].sum() < n        # NaN goes left at some nodes and right at others: the test means something
    rows = np.concatenate([X, _nan_rows(X)])
    if kind == "regressor":
        V = cm.predict_values(rows)
        np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(rows).view(np.uint32))
        assert regression_errors(V, est.predict(rows))[2]
    else:
        idx = cm.predict_index(rows)
        np.testing.assert_array_equal(idx, cm.model.ref_predict(rows))
        np.testing.assert_array_equal(cm.classes_[idx], est.predict(rows))


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("cls", [SVC, NuSVC])
def test_svc_probability_is_refused_in_one_line(cls, dtype):
    X, y = load_iris(return_X_y=True)
    est = cls(probability=True, random_state=0).fit(X, y)
    with pytest.raises(UnsupportedModel) as exc:
        lower(est, name="m", dtype=dtype, calib_X=X)
    msg = str(exc.value)
    assert "\n" not in msg and "probability=True" in msg and "decision_function" in msg
    # the same model without probabilities exports
    lower(cls(random_state=0).fit(X, y), name="m")


# Quantized linear regressors: the largest error as a fraction of the range of the predictions (measured on
# diabetes / friedman / multi: int16 <= 7e-5, int8 <= 0.7%; docs/export.md).
QUANT_RANGE_BOUND = {"int16": 2e-4, "int8": 1e-2}
QUANT_MODELS = ["linear", "ridge_scaled", "lasso", "elasticnet_minmax", "sgd_scaled", "linearsvr"]


@pytest.mark.parametrize("dtype", ["int16", "int8"])
@pytest.mark.parametrize("ds", REG_DATASETS + ["multi"])
@pytest.mark.parametrize("model", QUANT_MODELS)
def test_quantized_linear_regressor_host(model, ds, dtype, tmp_path):
    if ds == "multi" and model not in MULTI_MODELS:
        pytest.skip("single-output model")
    X, _ = reg_dataset(ds)
    est = reg_fitted(model, ds)
    cm = microlearn.compile(est, target="host", name="q", dtype=dtype, calib_X=X, workdir=tmp_path)
    m = cm.model
    V = cm.predict_values(X)
    np.testing.assert_array_equal(V.view(np.uint32), m.ref_value(X).view(np.uint32))
    want = est.predict(X).reshape(len(X), -1)
    err = np.max(np.abs(V - want), axis=0)
    assert np.all(err <= QUANT_RANGE_BOUND[dtype] * np.ptp(want, axis=0)), err
    assert ("q_predict_value_q" if m.n_outputs == 1 else "q_predict_values_q") in cm.header


# Quantized trees decide exactly like the float32 ones for inputs on the grid; a row whose feature falls in
# the same grid cell as a threshold may take the other branch (a whole leaf of difference). Fraction of rows
# whose value is scikit-learn's (within float32 rounding), measured: int16 >= 95.9%, int8 >= 86% (docs).
QUANT_TREE_SAME = {"int16": 0.95, "int8": 0.85}
QUANT_TREE_MODELS = ["tree", "tree_scaled", "forest", "extratrees_minmax", "gbr", "gbr_huber"]


@pytest.mark.parametrize("dtype", ["int16", "int8"])
@pytest.mark.parametrize("ds", REG_DATASETS + ["multi"])
@pytest.mark.parametrize("model", QUANT_TREE_MODELS)
def test_quantized_tree_regressor_host(model, ds, dtype, tmp_path):
    if ds == "multi" and model not in MULTI_MODELS:
        pytest.skip("single-output model")
    X, _ = reg_dataset(ds)
    est = reg_fitted(model, ds)
    cm = microlearn.compile(est, target="host", name="q", dtype=dtype, calib_X=X, workdir=tmp_path)
    V = cm.predict_values(X)
    np.testing.assert_array_equal(V.view(np.uint32), cm.model.ref_value(X).view(np.uint32))
    want = est.predict(X).reshape(len(X), -1)
    same = np.all(np.abs(V - want) <= 1e-5 * np.abs(want) + 1e-6, axis=1)
    assert np.mean(same) >= QUANT_TREE_SAME[dtype], np.mean(same)


@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_quantized_other_regressors_are_refused(dtype):
    from sklearn.svm import SVR
    X, y = reg_dataset("diabetes")
    for est in (SVR().fit(X, y), HistGradientBoostingRegressor(max_iter=3).fit(X, y),
                GradientBoostingClassifier(n_estimators=3).fit(X, y > 140)):
        with pytest.raises(UnsupportedModel, match="float32"):
            lower(est, name="m", dtype=dtype, calib_X=X)


@pytest.mark.hostile
@pytest.mark.parametrize("field, value", [("left", 10 ** 6), ("left", 1), ("right", 0), ("feature_idx", 99)])
def test_hostile_hist_tree_is_refused(field, value):
    """A tampered model file (node indices outside the tree, a node its own child, a feature the model does
    not have) is refused before any C is written, never turned into out-of-bounds table reads."""
    X, y = reg_dataset("diabetes")
    est = HistGradientBoostingRegressor(max_iter=2, random_state=0).fit(X, y)
    nodes = est._predictors[1][0].nodes
    inner = np.flatnonzero(~nodes["is_leaf"].astype(bool))
    nodes[field][inner[1] if value == 1 else inner[0]] = value
    with pytest.raises(UnsupportedModel):
        lower(est, name="m")


def test_regressor_model_file_and_cli(tmp_path, capsys):
    from microlearn.cli.main import main
    X, y = reg_dataset("diabetes_nan")
    est = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(X, y)
    microlearn.save_model(est, tmp_path / "m.skops")
    rows = np.nan_to_num(X[:30])
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",")
    assert main(["export", str(tmp_path / "m.skops"), "-o", str(tmp_path / "r.h"), "--name", "r",
                 "--check", str(tmp_path / "rows.csv"), "--target", "host"]) == 0
    out = capsys.readouterr().out
    assert "max abs error" in out and "bit for bit" in out and "1 output(s)" in out
    assert "float r_predict_value(const float *x)" in (tmp_path / "r.h").read_text()


def test_gb_classifier_hostile_class_names(tmp_path):
    """Class names of a boosted classifier go through c_format like every other classifier's: the C table
    holds exactly the labels' bytes (quotes, backslashes, newline, comment delimiters, UTF-8, 5000 chars)."""
    X, y = load_iris(return_X_y=True)
    names = np.array(['a"b\\c\n', "*/ int pwn; /* ??=", "é日本" + "x" * 5000], dtype=object)
    est = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, names[y])
    microlearn.export(est, tmp_path / "m.h", name="m")
    compile_c(C_DIR / "print_class_names.c", tmp_path / "names", include_dirs=[tmp_path],
              extra=["-Wno-overlength-strings"])
    out = subprocess.run([str(tmp_path / "names")], capture_output=True, text=True, check=True).stdout.split()
    assert out == [c_bytes(c).hex() for c in est.classes_]


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_regressor_headers_compile_pedantic(lang, tmp_path):
    """Each kind of regressor header (linear, multi-output, SVR, forest, GB, HistGB, quantized linear and
    trees) compiles as C99 and C++11 with -Wall -Wextra -Werror -Wdouble-promotion -Wconversion -pedantic."""
    cases = [("linear", "diabetes", "float32"), ("linear", "multi", "float32"), ("svr_rbf", "friedman", "float32"),
             ("forest", "multi", "float32"), ("gbr", "diabetes", "float32"), ("hgb_scaled", "diabetes", "float32"),
             ("ridge_scaled", "diabetes", "int8"), ("extratrees_minmax", "multi", "int16"), ("gbr", "friedman", "int8")]
    for model, ds, dtype in cases:
        X, _ = reg_dataset(ds)
        microlearn.export(reg_fitted(model, ds), tmp_path / "m.h", name="m", dtype=dtype, calib_X=X)
        qtype = {"int8": "int8_t", "int16": "int16_t"}.get(dtype, "float")
        compile_c(C_DIR / "regressor_entry.c", tmp_path / "main", lang=lang, include_dirs=[tmp_path],
                  defines={"MLRN_TEST_QTYPE": qtype})
        assert subprocess.run([str(tmp_path / "main")]).returncode == 0, (model, ds, dtype)
