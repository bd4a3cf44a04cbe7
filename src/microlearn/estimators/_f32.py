"""float32 arithmetic in the C runtime's exact order (the reference of mlrn_math.h / mlrn_kernel.h).

Rules that make numpy agree with C bit for bit:
- elementwise float32 +, -, *, / are correctly rounded in both, so they agree;
- sums must run sequentially from 0 over the features, as C does: we vectorise over
  *samples* and loop over *features*, never using np.sum/np.dot (pairwise/BLAS order);
- math functions (exp, pow, tanh) are our own, built from exact steps.
"""
from __future__ import annotations

import numpy as np

F = np.float32
KERNELS = {"linear": 0, "rbf": 1, "poly": 2, "sigmoid": 3}


def as_f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def dot_rows(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """mlrn_dot(X[t], v) for every row t: acc = 0; acc = acc + X[t,k] * v[k], k = 0..d-1."""
    acc = np.zeros(X.shape[0], dtype=np.float32)
    for k in range(X.shape[1]):
        acc = acc + X[:, k] * v[k]
    return acc


def sqdist_rows(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """mlrn_sqdist(X[t], v): acc = acc + (X[t,k] - v[k])^2 sequentially."""
    acc = np.zeros(X.shape[0], dtype=np.float32)
    for k in range(X.shape[1]):
        t = X[:, k] - v[k]
        acc = acc + t * t
    return acc


def dot_seq(a: np.ndarray, b: np.ndarray) -> np.float32:
    """Sequential float32 dot product of two vectors (np.add.accumulate is a sequential loop)."""
    prod = as_f32(a) * as_f32(b)
    if prod.size == 0:
        return F(0.0)
    return F(0.0) + np.add.accumulate(prod)[-1]


def sum_seq(v: np.ndarray) -> np.float32:
    v = as_f32(v)
    if v.size == 0:
        return F(0.0)
    return F(0.0) + np.add.accumulate(v)[-1]


def expf(x) -> np.ndarray:
    """mlrn_expf, vectorised, identical bits."""
    x = np.array(x, dtype=np.float32, copy=True, ndmin=1)
    under = ~(x > F(-87.0))   # NaN too, as in C
    x = np.where(under, F(0.0), np.minimum(x, F(88.0)))
    u = x * F(1.44269504) + F(0.5)
    kf = np.floor(u)                                   # == mlrn_floor_i32 for |u| < 2^30
    r = (x - kf * F(0.693359375)) - kf * F(-2.12194440e-4)
    p = np.full_like(r, F(1.98412698e-4))
    for c in (1.38888889e-3, 8.33333333e-3, 4.16666667e-2, 1.66666667e-1, 0.5, 1.0, 1.0):
        p = p * r + F(c)
    k = kf.astype(np.int64)
    out = np.empty_like(p)
    hi = k > 127
    lo = k < -126
    mid = ~(hi | lo)
    out[mid] = p[mid] * _pow2i(k[mid])
    out[hi] = (p[hi] * _pow2i(np.full(hi.sum(), 127))) * F(2.0)
    out[lo] = (p[lo] * _pow2i(np.full(lo.sum(), -126))) * _pow2i(k[lo] + 126)
    out[under] = F(0.0)
    return out


def _pow2i(k) -> np.ndarray:
    return ((np.asarray(k, dtype=np.int64) + 127).astype(np.uint32) << np.uint32(23)).view(np.float32)


def powi(base: np.ndarray, degree: int) -> np.ndarray:
    p = np.ones_like(as_f32(base))
    for _ in range(int(degree)):
        p = p * base
    return p


def tanhf(z) -> np.ndarray:
    z = np.array(z, dtype=np.float32, ndmin=1)
    a = np.abs(z)
    t = F(1.0) - F(2.0) / (expf(F(2.0) * a) + F(1.0))
    return np.where(z < 0, -t, t).astype(np.float32)


def kernel_finish(kernel: str, s: np.ndarray, gamma, coef0, degree) -> np.ndarray:
    """mlrn_kernel_finish: s is the dot product (linear/poly/sigmoid) or squared distance (rbf)."""
    g, c0 = F(gamma), F(coef0)
    if kernel == "rbf":
        return expf(-(g * s))
    if kernel == "poly":
        return powi(g * s + c0, degree)
    if kernel == "sigmoid":
        return tanhf(g * s + c0)
    return as_f32(s)


def kernel_rows(kernel: str, X: np.ndarray, v: np.ndarray, gamma=1.0, coef0=0.0, degree=3) -> np.ndarray:
    """mlrn_kernel_eval(X[t], v) for every row t of X."""
    s = sqdist_rows(X, v) if kernel == "rbf" else dot_rows(X, v)
    return kernel_finish(kernel, s, gamma, coef0, degree)
