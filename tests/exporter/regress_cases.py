"""Shared cases for the regression / gradient-boosting export tests: datasets and models."""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1, make_regression
from sklearn.ensemble import (ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestRegressor)
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVR, LinearSVR, NuSVR
from sklearn.tree import DecisionTreeRegressor

# diabetes: 10 centred features, y 25..346; friedman: make_friedman1 (nonlinear, 10 features in [0, 1]);
# multi: make_regression with 3 targets (multi-output models only); diabetes_nan: diabetes with 10% of
# the cells missing (HistGradientBoosting learns where NaN goes).
REG_DATASETS = ["diabetes", "friedman"]


@lru_cache(None)
def reg_dataset(name):
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    elif name == "friedman":
        X, y = make_friedman1(300, random_state=0)
    elif name == "multi":
        X, y = make_regression(200, 6, n_targets=3, noise=5.0, random_state=0)
    elif name == "diabetes_nan":
        X, y = load_diabetes(return_X_y=True)
        X = X.copy()
        X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    else:
        raise KeyError(name)
    return X.astype(np.float32), y


REG_MODELS = {
    "linear": lambda: LinearRegression(),
    "ridge_scaled": lambda: make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
    "lasso": lambda: Lasso(alpha=0.01),
    "elasticnet_minmax": lambda: make_pipeline(MinMaxScaler(), ElasticNet(alpha=0.001)),
    "sgd_scaled": lambda: make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
    "linearsvr": lambda: make_pipeline(StandardScaler(), LinearSVR(random_state=0)),
    "svr_rbf": lambda: make_pipeline(StandardScaler(), SVR(C=100.0)),
    "svr_linear": lambda: make_pipeline(MaxAbsScaler(), SVR(kernel="linear", C=10.0)),
    "svr_poly": lambda: make_pipeline(StandardScaler(), SVR(kernel="poly", degree=3, coef0=1.0)),
    "nusvr": lambda: make_pipeline(MinMaxScaler(), NuSVR(C=10.0)),
    "tree": lambda: DecisionTreeRegressor(random_state=0),
    "tree_scaled": lambda: make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=6, random_state=0)),
    "forest": lambda: RandomForestRegressor(n_estimators=10, max_depth=8, random_state=0),
    "extratrees_minmax": lambda: make_pipeline(MinMaxScaler(), ExtraTreesRegressor(n_estimators=10, max_depth=6,
                                                                                   random_state=0)),
    "gbr": lambda: GradientBoostingRegressor(n_estimators=50, random_state=0),
    "gbr_huber": lambda: GradientBoostingRegressor(loss="huber", n_estimators=30, max_depth=2, random_state=0),
    "hgb": lambda: HistGradientBoostingRegressor(max_iter=30, random_state=0),
    "hgb_scaled": lambda: make_pipeline(StandardScaler(), HistGradientBoostingRegressor(max_iter=20,
                                                                                       random_state=0)),
}
# models that take several targets at once
MULTI_MODELS = ["linear", "ridge_scaled", "lasso", "tree", "forest", "extratrees_minmax"]

CLF_MODELS = {
    "gbc": lambda: GradientBoostingClassifier(n_estimators=30, random_state=0),
    "gbc_exponential": lambda: GradientBoostingClassifier(loss="exponential", n_estimators=20, random_state=0),
    "gbc_scaled": lambda: make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=20, max_depth=2,
                                                                                     random_state=0)),
    "hgbc": lambda: HistGradientBoostingClassifier(max_iter=30, random_state=0),
}
CLF_DATASETS = ["iris2", "iris3", "cancer", "wine"]


@lru_cache(None)
def reg_fitted(model, ds):
    X, y = reg_dataset(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return REG_MODELS[model]().fit(X, y)


@lru_cache(None)
def clf_fitted(model, ds):
    from export_cases import dataset
    X, y = dataset(ds)
    if model == "gbc_exponential" and len(np.unique(y)) > 2:
        y = (y == y.max()).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CLF_MODELS[model]().fit(X, y), y


def hard_rows(m, X, limit=120, seed=0):
    """Rows with one feature exactly at a stored float32 threshold and at the next float32 above it (raw
    input units), from the exported model's own tables (m.info)."""
    if "features" not in m.info or len(m.info["features"]) == 0:
        return np.empty((0, X.shape[1]), np.float32)
    feats, thr = np.asarray(m.info["features"]), np.asarray(m.info["thresholds"], np.float32)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(feats), size=min(limit // 2, len(feats)), replace=False)
    rows = []
    for i in idx:
        base = np.nan_to_num(X[rng.integers(len(X))]).copy()
        for v in (thr[i], np.nextafter(thr[i], np.float32(np.inf))):
            r = base.copy()
            r[feats[i]] = v
            rows.append(r)
    return np.asarray(rows, dtype=np.float32)
