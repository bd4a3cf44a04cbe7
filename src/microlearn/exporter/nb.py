"""Gaussian naive Bayes: per-class means, -0.5/var and constants, float32 log-likelihoods."""
from __future__ import annotations

import numpy as np

from .model import CModel, Table, f32
from .prep import scaled_input
from .linear import softmax_mirror


def lower_gnb(est, N, prescale, opts) -> CModel:
    theta = np.asarray(est.theta_, dtype=np.float64)
    var = np.asarray(est.var_, dtype=np.float64)
    prior = np.asarray(est.class_prior_, dtype=np.float64)
    C, d = theta.shape
    cst = np.log(prior) - 0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    nhiv = -0.5 / var
    th32, nh32, cst32 = f32(theta), f32(nhiv), f32(cst)
    m = CModel(name=N, source="sklearn GaussianNB", n_features=d, classes=est.classes_,
               includes=["mlrn_nb.h", "mlrn_linear.h"])
    m.tables = [Table("theta", "float", th32), Table("nhiv", "float", nh32), Table("cst", "float", cst32)]
    pre, xin, pre_ram = scaled_input(m, prescale, N, d)
    args = f"{N}_theta, {N}_nhiv, {N}_cst, {C}, {N}_N_FEATURES, {xin}"
    m.predict_body = pre + f"    return mlrn_nb_argmax({args});"
    m.proba_body = pre + f"    mlrn_nb_jlls({args}, out);\n    mlrn_linear_softmax(out, {C});"
    m.ram_bytes = pre_ram

    def jll(X):
        X = f32(X)
        if prescale:
            X = prescale.mirror(X)
        J = np.empty((X.shape[0], C), dtype=np.float32)
        for c in range(C):
            acc = np.zeros(X.shape[0], dtype=np.float32)
            for k in range(d):
                t = X[:, k] - th32[c, k]
                acc = acc + (t * t) * nh32[c, k]
            J[:, c] = acc + cst32[c]
        return J

    m.ref_predict = lambda X: np.argmax(jll(X), axis=1)
    m.ref_proba = lambda X: softmax_mirror(jll(X))
    return m
