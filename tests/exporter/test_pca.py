"""PCA (whiten or not) and the scalers, before and after it, in front of any exported model: folded into the
weights of linear models, else one float32 projection matrix applied into a stack buffer before the model. On
the host the C equals the mirror bit for bit and predicts scikit-learn's classes on every test row (regressors:
within the documented bound); unsupported combinations are refused in one line. Boards: test_pca_targets.py."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.decomposition import PCA, KernelPCA
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier

import microlearn
from compile_c import compile_c
from microlearn.exporter import UnsupportedModel, export, lower, regression_errors
from microlearn.exporter.prep import Projection, pipeline_affine
from knn_cases import fit, reg_split, split

CLASSIFIERS = {
    "pca_logreg": lambda: make_pipeline(StandardScaler(), PCA(3), LogisticRegression(max_iter=2000)),
    "pca_whiten_knn": lambda: make_pipeline(StandardScaler(), PCA(3, whiten=True), KNeighborsClassifier(5)),
    "pca_knn_distance": lambda: make_pipeline(PCA(2), KNeighborsClassifier(4, weights="distance")),
    "pca_scaler_tree": lambda: make_pipeline(PCA(3), StandardScaler(), DecisionTreeClassifier(max_depth=4,
                                                                                             random_state=0)),
    "pca_forest": lambda: make_pipeline(MinMaxScaler(), PCA(3), RandomForestClassifier(8, max_depth=4,
                                                                                       random_state=0)),
    "pca_svc": lambda: make_pipeline(StandardScaler(), PCA(3, whiten=True), SVC()),
    "pca_gnb": lambda: make_pipeline(StandardScaler(), PCA(2), GaussianNB()),
    "pca_mlp": lambda: make_pipeline(StandardScaler(), PCA(3), MLPClassifier((8,), max_iter=800, random_state=0)),
}
REGRESSORS = {
    "pca_ridge": lambda: make_pipeline(StandardScaler(), PCA(2), Ridge()),
    "pca_svr": lambda: make_pipeline(StandardScaler(), PCA(2, whiten=True), SVR(C=10.0)),
    "pca_knn_reg": lambda: make_pipeline(StandardScaler(), PCA(2), KNeighborsRegressor(3, algorithm="brute")),
}
DETECTORS = {
    "pca_elliptic": lambda: make_pipeline(StandardScaler(), PCA(3), EllipticEnvelope(random_state=0)),
    "pca_iforest": lambda: make_pipeline(PCA(3, whiten=True), IsolationForest(n_estimators=20, random_state=0)),
}


def _bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


@pytest.mark.parametrize("ds", ["iris", "wine", "sensor"])
@pytest.mark.parametrize("model", list(CLASSIFIERS))
def test_classifier_host(model, ds, tmp_path):
    est = fit(CLASSIFIERS[model](), ds)
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target="host", name="p", workdir=tmp_path)
    m = cm.model
    idx = cm.predict_index(Xte)
    np.testing.assert_array_equal(idx, m.ref_predict(Xte))
    np.testing.assert_array_equal(cm.classes_[idx], est.predict(Xte))
    if m.proba_body is not None:
        np.testing.assert_array_equal(_bits(cm.predict_proba(Xte)), _bits(m.ref_proba(Xte)))
    if model == "pca_logreg":      # folded: no projection table, one weight row per class over the raw inputs
        assert "p_proj_w" not in cm.header and m.table("w").values.shape == (len(est.classes_), Xte.shape[1])
    else:
        n_comp = est.named_steps["pca"].n_components_
        assert m.table("proj_w").values.shape == (n_comp, Xte.shape[1])
        assert f"#define p_N_COMPONENTS {n_comp}" in cm.header


@pytest.mark.parametrize("ds", ["iris", "sensor"])
@pytest.mark.parametrize("model", list(REGRESSORS))
def test_regressor_host(model, ds, tmp_path):
    est = fit(REGRESSORS[model](), ds, kind="reg")
    _, Xte, _, _ = reg_split(ds)
    cm = microlearn.compile(est, target="host", name="p", workdir=tmp_path)
    V = cm.predict_values(Xte)
    np.testing.assert_array_equal(_bits(V), _bits(cm.model.ref_value(Xte)))
    want = est.predict(Xte)
    if model != "pca_knn_reg":
        assert regression_errors(V, want)[2]
        return
    # kNN behind a float32 projection: a row can differ only through a near-tie at the k-th distance
    # (scikit-learn's k-th and (k+1)-th float64 distances within 1e-5 relative; iris: 1 of 45 test rows)
    bad = np.flatnonzero(np.abs(V[:, 0] - want) > 1e-5 * np.maximum(np.abs(want), 1.0))
    if len(bad):
        dist, _ = est[-1].kneighbors(est[:-1].transform(Xte[bad]), 4)
        assert np.all(dist[:, 3] - dist[:, 2] <= 1e-5 * dist[:, 3])
    assert len(bad) <= 0.05 * len(Xte)


@pytest.mark.parametrize("ds", ["anomaly", "iris"])
@pytest.mark.parametrize("model", list(DETECTORS))
def test_detector_host(model, ds, tmp_path):
    est = fit(DETECTORS[model](), ds, kind="anomaly")
    _, Xte, _, _ = split(ds)
    cm = microlearn.compile(est, target="host", name="p", workdir=tmp_path)
    got = cm.predict(Xte)
    np.testing.assert_array_equal(got, cm.model.ref_predict(Xte))
    np.testing.assert_array_equal(got, est.predict(Xte))
    np.testing.assert_array_equal(_bits(cm.decision_function(Xte)), _bits(cm.model.ref_decision(Xte)[:, 0]))


@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_quantized_knn_behind_pca(dtype, tmp_path):
    est = fit(CLASSIFIERS["pca_whiten_knn"](), "iris")
    _, Xte, _, _ = split("iris")
    cm = microlearn.compile(est, target="host", name="p", dtype=dtype, workdir=tmp_path)
    idx = cm.predict_index(Xte)
    np.testing.assert_array_equal(idx, cm.model.ref_predict(Xte))
    assert np.mean(cm.classes_[idx] == est.predict(Xte)) >= 0.95


def test_projection_matches_scikit_learn_transform():
    """The folded float32 projection against scikit-learn's float64 transform of the same Pipeline steps."""
    est = fit(make_pipeline(StandardScaler(), PCA(3, whiten=True), MinMaxScaler(), KNeighborsClassifier(3)), "wine")
    _, Xte, _, _ = split("wine")
    want = est[:-1].transform(Xte.astype(np.float64))
    proj = Projection(*pipeline_affine([s for _, s in est.steps[:-1]], Xte.shape[1]))
    assert proj.n_components == 3 and proj.n_features == Xte.shape[1]
    np.testing.assert_allclose(proj.mirror(Xte), want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_caller_owned_projection_buffer(tmp_path):
    """p_project(x, z) into the caller's buffer of p_N_COMPONENTS floats, then the model on z (p_predict_z):
    the class of p_predict(x), C99 and C++11."""
    est = fit(CLASSIFIERS["pca_scaler_tree"](), "iris")
    export(est, tmp_path / "p.h", name="p")
    src = tmp_path / "use.c"
    src.write_text('#include <stdio.h>\n#include "p.h"\n'
                   "int main(void) {\n"
                   "    static const float x[p_N_FEATURES] = {6.3f, 2.5f, 5.0f, 1.9f};\n"
                   "    float z[p_N_COMPONENTS];\n"
                   "    p_project(x, z);\n"
                   "    printf(\"%ld %ld\\n\", (long)p_predict_z(z), (long)p_predict(x));\n"
                   "    return 0;\n}\n")
    for lang in ("c", "c++"):
        exe = tmp_path / f"use_{lang.replace('+', 'x')}"
        compile_c(src, exe, lang=lang, include_dirs=[tmp_path])
        a, b = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
        want = est.predict(np.array([[6.3, 2.5, 5.0, 1.9]], dtype=np.float32))[0]
        assert a == b == str(int(np.flatnonzero(est.classes_ == want)[0]))


@pytest.mark.hostile
def test_unsupported_pipelines_are_refused_in_one_line():
    X, _, y, _ = split("iris")
    cases = [
        (make_pipeline(KernelPCA(2), LogisticRegression()), "KernelPCA is not supported"),
        (make_pipeline(MinMaxScaler(clip=True), PCA(2), KNeighborsClassifier(3)), "clip=True"),
    ]
    for est, words in cases:
        est.fit(X, y)
        with pytest.raises(UnsupportedModel) as e:
            lower(est, name="p")
        assert "\n" not in str(e.value) and words in str(e.value)
    tree = fit(CLASSIFIERS["pca_scaler_tree"](), "iris")
    with pytest.raises(UnsupportedModel, match="only dtype='float32'"):
        lower(tree, name="p", dtype="int8")
