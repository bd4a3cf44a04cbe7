"""Linear regressors and kernel SVRs: the classifiers' runtime (mlrn_linear.h, mlrn_svm.h) returning values.

Linear models: y = w.x + b per output, scalers folded into w and b (float64, then float32), summed as
mlrn_linear_value does: b first, then each product in index order. SVR / NuSVR: y = sum_s coef[s] K(sv_s, x) + b, exactly the binary
SVM decision value (mlrn_svm_binary_decision); a linear kernel is collapsed to one w.x + b row.
"""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32

from .model import CModel, Table, f32
from .prep import UnsupportedModel, scaled_input
from .svm import SVMTables, check_gamma, combine_kernel_values, kernel_params

# scikit-learn regressors whose predict is exactly X @ coef_.T + intercept_ (identity link).
LINEAR_REGRESSORS = ("LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV",
                     "SGDRegressor", "LinearSVR", "HuberRegressor", "BayesianRidge", "ARDRegression", "Lars",
                     "LassoLars", "LassoLarsCV", "LassoLarsIC", "LarsCV", "OrthogonalMatchingPursuit",
                     "PassiveAggressiveRegressor", "TheilSenRegressor", "QuantileRegressor")
KERNEL_REGRESSORS = ("SVR", "NuSVR")


def values_mirror(X, W32, b32):
    """mlrn_linear_value for every row of W: acc = b, then acc + w[k] * x[k] in index order; (n, rows)."""
    X = f32(X)
    out = np.empty((X.shape[0], W32.shape[0]), dtype=np.float32)
    for r in range(W32.shape[0]):
        acc = np.full(X.shape[0], b32[r], dtype=np.float32)
        for k in range(W32.shape[1]):
            acc = (acc + (W32[r, k] * X[:, k]).astype(np.float32)).astype(np.float32)
        out[:, r] = acc
    return out


def _value_bodies(m: CModel, N: str, rows: int, single_expr: str, multi_stmt: str):
    m.n_outputs = rows
    m.value_body = f"    return {single_expr};" if rows == 1 else multi_stmt


def build_linear_regressor(N, source, W, b, notes=()) -> CModel:
    W32 = f32(np.atleast_2d(W))
    b32 = f32(np.atleast_1d(b))
    if not (np.all(np.isfinite(W32)) and np.all(np.isfinite(b32))):
        raise UnsupportedModel("weights that are not finite in float32")
    rows, d = W32.shape
    m = CModel(name=N, source=source, n_features=d, classes=np.asarray([]), includes=["mlrn_linear.h"],
               tables=[Table("w", "float", W32), Table("b", "float", b32)], notes=list(notes))
    _value_bodies(m, N, rows, f"mlrn_linear_value({N}_w, mlrn_flash_f32(&{N}_b[0]), {N}_N_FEATURES, x)",
                  f"    mlrn_linear_values({N}_w, {N}_b, {rows}, {N}_N_FEATURES, x, out);")
    m.ref_value = lambda X: values_mirror(X, W32, b32)
    return m


def lower_linear_regressor(est, N, prescale, opts) -> CModel:
    name = type(est).__name__
    W = np.asarray(est.coef_, dtype=np.float64)
    single = W.ndim == 1
    W = np.atleast_2d(W)
    b = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64).reshape(-1), (W.shape[0],)).copy()
    notes = []
    if prescale:
        W, b = prescale.fold(W, b)
        notes.append(f"{prescale.describe()} folded into the weights.")
    m = build_linear_regressor(N, f"sklearn {name}", W, b, notes)
    if single and m.n_outputs != 1:
        raise UnsupportedModel(f"{name}: unexpected coef_ shape")
    return m


def lower_svr(est, N, prescale, opts) -> CModel:
    name = type(est).__name__
    kernel = est.kernel
    if not isinstance(kernel, str) or kernel not in ("linear", "rbf", "poly", "sigmoid"):
        raise UnsupportedModel(f"{name} kernel={kernel!r}: supported kernels are linear, rbf, poly, sigmoid")
    if int(est.degree) > 255 or int(est.degree) < 0:
        raise UnsupportedModel("poly degree must be 0..255")
    src = f"sklearn {name}(kernel={kernel!r})"
    t = SVMTables(kernel, est._gamma, est.coef0, est.degree, est.support_vectors_, est.dual_coef_[0:1],
                  np.asarray(est.intercept_).reshape(-1)[0:1], np.asarray([0, 1]), "binary", None, src)
    check_gamma(t)
    if kernel == "linear":
        W, b = t.coef @ t.sv, t.b
        notes = ["Linear kernel: support vectors collapsed to one w.x + b row."]
        if prescale:
            W, b = prescale.fold(W, b)
            notes.append(f"{prescale.describe()} folded into the weights.")
        return build_linear_regressor(N, src, W, b, notes)
    sv32, coef32, b32 = f32(t.sv), f32(t.coef), f32(t.b)
    if not (np.all(np.isfinite(sv32)) and np.all(np.isfinite(coef32)) and np.all(np.isfinite(b32))):
        raise UnsupportedModel("support vectors or coefficients that are not finite in float32")
    n_sv, d = sv32.shape
    if n_sv > 65535:
        raise UnsupportedModel(f"{n_sv} support vectors: at most 65535 (uint16_t counts in mlrn_svm.h)")
    g32, c32 = np.float32(t.gamma), np.float32(t.coef0)
    m = CModel(name=N, source=src, n_features=d, classes=np.asarray([]), includes=["mlrn_svm.h"])
    m.tables = [Table("sv", "float", sv32), Table("coef", "float", coef32), Table("b", "float", b32)]
    m.kernels = [kernel]
    m.extra_defines["N_SV"] = n_sv
    pre, xin, pre_ram = scaled_input(m, prescale, N, d, " before the kernel")
    m.n_outputs = 1
    m.value_body = (pre + kernel_params(kernel, t.degree, g32, c32) +
                    f"    return mlrn_svm_binary_decision(&kp, {N}_sv, {N}_coef, mlrn_flash_f32(&{N}_b[0]), "
                    f"{n_sv}, {N}_N_FEATURES, {xin});")
    m.ram_bytes = pre_ram

    def values(X):
        X = f32(X)
        if prescale:
            X = prescale.mirror(X)
        K = np.empty((X.shape[0], n_sv), dtype=np.float32)
        for s in range(n_sv):
            K[:, s] = _f32.kernel_rows(kernel, X, sv32[s], g32, c32, t.degree)
        return combine_kernel_values(t, K, coef32, b32)

    m.ref_value = values
    return m
