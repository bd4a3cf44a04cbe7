"""Fitted MLPs for the exporter's MLP tests (cached: each is fitted once per session)."""
from __future__ import annotations

import functools
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, load_wine
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ACTIVATIONS = ("relu", "tanh", "logistic", "identity")
KINDS = ("binary", "multi", "reg1", "reg2")


@functools.lru_cache(maxsize=None)
def data(kind):
    """(X_train, y_train, X_test, y_test) float64; digits 8x8 (integer pixels), wine (scaled inside the
    model's Pipeline for the binary case), diabetes (one target, or two: y and y^2 scaled)."""
    if kind in ("multi", "binary"):
        X, y = load_digits(return_X_y=True)
        if kind == "binary":
            X, y = load_wine(return_X_y=True)
            y = (y == 1).astype(int)
    else:
        X, y = load_diabetes(return_X_y=True)
        y = y / 100.0
        if kind == "reg2":
            y = np.stack([y, (y - 1.5) ** 2], axis=1)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    n = int(0.75 * len(X))
    tr, te = idx[:n], idx[n:]
    return X[tr], y[tr], X[te], y[te]


@functools.lru_cache(maxsize=None)
def fitted(kind, activation="relu", hidden=(12, 7)):
    Xtr, ytr, _, _ = data(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("multi", "binary"):
            mlp = MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=300, random_state=0)
        else:
            mlp = MLPRegressor(hidden_layer_sizes=hidden, activation=activation, max_iter=500, random_state=0)
        est = make_pipeline(StandardScaler(), mlp) if kind in ("binary", "reg1", "reg2") else mlp
        return est.fit(Xtr, ytr)
