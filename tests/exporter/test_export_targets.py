"""The generated C on emulated boards: ATmega328P (uno, simavr) and Cortex-M4F (nrf52840, qemu).
One fast case per target in the default run; the full matrix is -m slow."""
from __future__ import annotations

import numpy as np
import pytest

import microlearn
from export_cases import DATASETS, MODELS, dataset, fitted, threshold_points
from microlearn.targets import BuildError, DoesNotFit, TargetUnavailable, get_target


def _target_or_skip(name):
    try:
        get_target(name).check()
    except TargetUnavailable as exc:
        pytest.skip(f"{name}: {exc}")


def _check(model, ds, target, tmp_path, n_rows=None):
    _target_or_skip(target)
    X, _ = dataset(ds)
    est = fitted(model, ds)
    try:
        cm = microlearn.compile(est, target=target, name="m", workdir=tmp_path)
    except DoesNotFit as exc:
        pytest.skip(f"{model}/{ds} does not fit {target}: {exc}")
    except BuildError as exc:
        if "too large" in str(exc):    # avr-gcc: one table above 32 KB cannot exist on a 328P
            pytest.skip(f"{model}/{ds} does not fit {target}: {exc}")
        raise
    rows = X if n_rows is None else X[np.random.default_rng(0).permutation(len(X))[:n_rows]]
    hard = threshold_points(est, X, limit=60)
    if len(hard):
        rows = np.concatenate([rows, hard])
    got = cm.predict_index(rows)
    np.testing.assert_array_equal(got, cm.model.ref_predict(rows))
    np.testing.assert_array_equal(cm.classes_[got], est.predict(rows))
    if cm.model.decision_body is not None:
        D = cm.decision_function(rows[:20])
        R = cm.model.ref_decision(rows[:20])
        R = R[:, 0] if R.shape[1] == 1 else R
        np.testing.assert_array_equal(D.view(np.uint32), R.view(np.uint32))
    return cm


@pytest.mark.avr
def test_uno_linear_svc_cancer(tmp_path):
    cm = _check("svc_linear", "cancer", "uno", tmp_path)
    assert cm.cycles_per_prediction is not None and cm.cycles_per_prediction < 20000


@pytest.mark.avr
def test_uno_forest_iris(tmp_path):
    _check("forest", "iris3", "uno", tmp_path)


@pytest.mark.avr
@pytest.mark.parametrize("layout", ["table", "rank", "code"])
def test_uno_forest_layouts_wine(layout, tmp_path):
    _target_or_skip("uno")
    X, _ = dataset("wine")
    est = fitted("forest_depth4", "wine")
    cm = microlearn.compile(est, target="uno", name="m", workdir=tmp_path, tree_layout=layout)
    rows = np.concatenate([X[::3], threshold_points(est, X, limit=60)])
    got = cm.predict_index(rows)
    np.testing.assert_array_equal(got, cm.model.ref_predict(rows))
    np.testing.assert_array_equal(cm.classes_[got], est.predict(rows))
    P = cm.predict_proba(X[:10])
    np.testing.assert_array_equal(P.view(np.uint32), cm.model.ref_proba(X[:10]).view(np.uint32))


@pytest.mark.cortexm
def test_nrf52840_svc_rbf_wine(tmp_path):
    cm = _check("svc_rbf", "wine", "nrf52840", tmp_path)
    assert cm.instructions is not None


@pytest.mark.cortexm
def test_nrf52840_forest_depth4_digits(tmp_path):
    _check("forest_depth4", "digits10", "nrf52840", tmp_path, n_rows=200)


@pytest.mark.slow
@pytest.mark.avr
@pytest.mark.parametrize("ds", DATASETS)
@pytest.mark.parametrize("model", list(MODELS))
def test_uno_matrix(model, ds, tmp_path):
    _check(model, ds, "uno", tmp_path, n_rows=120)


@pytest.mark.slow
@pytest.mark.cortexm
@pytest.mark.parametrize("ds", DATASETS)
@pytest.mark.parametrize("model", list(MODELS))
def test_nrf52840_matrix(model, ds, tmp_path):
    _check(model, ds, "nrf52840", tmp_path, n_rows=300)
