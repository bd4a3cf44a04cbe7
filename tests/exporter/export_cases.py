"""Shared cases for the export tests: datasets, models, and hard inputs (tree thresholds,
points next to the SVM / linear decision boundary)."""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Perceptron, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC
from sklearn.tree import DecisionTreeClassifier

DATASETS = ["iris2", "iris3", "cancer", "wine", "digits2", "digits10"]


@lru_cache(None)
def dataset(name):
    if name.startswith("iris"):
        X, y = load_iris(return_X_y=True)
        if name == "iris2":
            y = (y == 2).astype(int)
    elif name == "cancer":
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "wine":
        X, y = load_wine(return_X_y=True)
    else:
        X, y = load_digits(return_X_y=True)
        if name == "digits2":
            y = (y >= 5).astype(int)
    return X.astype(np.float32), y


MODELS = {
    "svc_rbf": lambda: SVC(),
    "svc_rbf_scaled": lambda: make_pipeline(StandardScaler(), SVC(C=10)),
    "svc_linear": lambda: make_pipeline(StandardScaler(), SVC(kernel="linear")),
    "svc_poly": lambda: make_pipeline(StandardScaler(), SVC(kernel="poly", degree=3, coef0=1.0)),
    "svc_sigmoid": lambda: make_pipeline(StandardScaler(), SVC(kernel="sigmoid", gamma=0.01)),
    "nusvc": lambda: make_pipeline(MinMaxScaler(), NuSVC(nu=0.2)),
    "linearsvc": lambda: make_pipeline(StandardScaler(), LinearSVC(max_iter=5000)),
    "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "logreg_raw": lambda: LogisticRegression(max_iter=200),
    "sgd": lambda: make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)),
    "perceptron": lambda: make_pipeline(MaxAbsScaler(), Perceptron(random_state=0)),
    "ridge": lambda: RidgeClassifier(),
    "tree": lambda: DecisionTreeClassifier(random_state=0),
    "tree_depth3": lambda: DecisionTreeClassifier(max_depth=3, random_state=0),
    "tree_scaled": lambda: make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=6, random_state=0)),
    "forest": lambda: RandomForestClassifier(n_estimators=10, random_state=0),
    "forest_depth4": lambda: RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
    "extratrees": lambda: make_pipeline(MinMaxScaler(), ExtraTreesClassifier(n_estimators=10, max_depth=6,
                                                                              random_state=0)),
    "gnb": lambda: GaussianNB(),
    "gnb_scaled": lambda: make_pipeline(StandardScaler(), GaussianNB()),
}


@lru_cache(None)
def fitted(model, ds):
    X, y = dataset(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MODELS[model]().fit(X, y)


def final_step(est):
    return est.steps[-1][1] if hasattr(est, "steps") else est


def threshold_points(est, X, limit=400):
    """Rows with one feature set exactly at a tree threshold and at the next float32 above it
    (in raw input units: the exporter's stored thresholds are the exact boundaries)."""
    from microlearn.exporter import lower
    m = lower(est, name="t")
    if "features" in m.info:        # float32 trees (record tables have no separate feature table)
        feats = np.asarray(m.info["features"])
    elif "threshold" in [t.suffix for t in m.tables]:
        feats = m.table("feature").values
    else:
        return np.empty((0, X.shape[1]), np.float32)
    if len(feats) == 0:
        return np.empty((0, X.shape[1]), np.float32)
    thr = np.asarray(m.info["thresholds"] if "thresholds" in m.info else m.table("threshold").values,
                     dtype=np.float32)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(feats), size=min(limit // 2, len(feats)), replace=False)
    rows = []
    for i in idx:
        base = X[rng.integers(len(X))].copy()
        for v in (thr[i], np.nextafter(thr[i], np.float32(np.inf))):
            r = base.copy()
            r[feats[i]] = v
            rows.append(r)
    return np.asarray(rows, dtype=np.float32)


def boundary_points(est, X, n=200, iters=40):
    """Points next to the decision boundary: bisection between pairs of rows the estimator
    classifies differently (vectorised), keeping the last point on each side."""
    rng = np.random.default_rng(1)
    pred = est.predict(X)
    i, j = rng.integers(len(X), size=(2, 20 * n))
    keep = pred[i] != pred[j]
    i, j = i[keep][: n // 2], j[keep][: n // 2]
    if len(i) == 0:
        return np.empty((0, X.shape[1]), np.float32)
    A, B = X[i].astype(np.float64), X[j].astype(np.float64)
    pa = pred[i]
    lo, hi = np.zeros(len(i)), np.ones(len(i))
    for _ in range(iters):
        mid = (lo + hi) / 2
        p = est.predict((A + mid[:, None] * (B - A)).astype(np.float32))
        same = p == pa
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    pts = np.concatenate([A + lo[:, None] * (B - A), A + hi[:, None] * (B - A)])
    return pts.astype(np.float32)
