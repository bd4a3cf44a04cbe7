"""Shared cases of the kNN, anomaly-detection and PCA export tests: a sensor-like set (three Gaussian classes
from microlearn.data.streams read as 10-bit ADC counts: integers), the same with injected anomalies, and the
train/test splits."""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import train_test_split

from microlearn.data.streams import switched_means


@lru_cache(None)
def sensor(n=300, d=6, seed=0):
    """(X, y): integer readings (ADC counts around 512), three classes."""
    s = switched_means(n=n, n_features=d, n_classes=3, drift_points=(), seed=seed)
    return np.round(s.X.astype(np.float64) * 60.0 + 512.0).astype(np.float32), np.asarray(s.y)


@lru_cache(None)
def sensor_anomalies(n=300, d=6, frac=0.05, seed=0):
    """(X, y) with y = +1 for the sensor rows and -1 for injected anomalies: uniform in a box twice the data's
    span, rows inside the data's range rejected (they are not anomalous), integer readings as well."""
    X, _ = sensor(n, d, seed)
    rng = np.random.default_rng(seed + 1)
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    out = []
    while len(out) < int(frac * n):
        v = rng.uniform(lo - span / 2, hi + span / 2)
        if np.any((v < lo) | (v > hi)):
            out.append(np.round(v))
    A = np.asarray(out, dtype=np.float32)
    Xa = np.concatenate([X, A])
    ya = np.concatenate([np.ones(len(X), int), -np.ones(len(A), int)])
    p = rng.permutation(len(Xa))
    return Xa[p], ya[p]


@lru_cache(None)
def split(name):
    """(Xtr, Xte, ytr, yte) float32 of 'iris', 'wine', 'sensor', 'anomaly'."""
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    elif name == "wine":
        X, y = load_wine(return_X_y=True)
    elif name == "sensor":
        X, y = sensor()
    else:
        X, y = sensor_anomalies()
    X = np.asarray(X, dtype=np.float32)
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0, stratify=y))


def reg_split(name, col=0):
    """A regression problem from `name`: feature `col` predicted from the others: (Xtr, Xte, ytr, yte)."""
    Xtr, Xte, _, _ = split(name)
    return (np.delete(Xtr, col, axis=1), np.delete(Xte, col, axis=1), Xtr[:, col].astype(np.float64),
            Xte[:, col].astype(np.float64))


def fit(est, name, kind="clf"):
    """est fitted on the training part of `name`: kind 'clf' (labels), 'reg' (reg_split), 'anomaly' (no labels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "reg":
            Xtr, _, ytr, _ = reg_split(name)
            return est.fit(Xtr, ytr)
        Xtr, _, ytr, _ = split(name)
        return est.fit(Xtr) if kind == "anomaly" else est.fit(Xtr, ytr)
