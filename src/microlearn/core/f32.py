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


def as_f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def dot_rows(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """mlrn_kernel_dot(X[t], v) for every row t: acc = 0; acc = acc + X[t,k] * v[k], k = 0..d-1."""
    acc = np.zeros(X.shape[0], dtype=np.float32)
    for k in range(X.shape[1]):
        acc = acc + X[:, k] * v[k]
    return acc


def sqdist_rows(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """mlrn_kernel_sqdist(X[t], v): acc = acc + (X[t,k] - v[k])^2 sequentially."""
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


# mlrn_math__exp2_16ths: 2^(j/16) rounded to float32 (the C table's decimal literals round to these).
EXP2_16THS = np.exp2(np.arange(16) / 16).astype(np.float32)
RBF_LOG2E16 = F(-23.0831203)           # -16 / ln 2, the factor folded into gamma for the RBF kernel


def _exp_scale(p: np.ndarray, k: np.ndarray) -> np.ndarray:
    """mlrn_math__exp_scale: p * table[k mod 16], then k div 16 added to the exponent bits."""
    u = k.astype(np.int64) + 2048
    bits = (p * EXP2_16THS[u & 15]).view(np.int32).astype(np.int64) + (((u >> 4) - 128) << 23)
    return bits.astype(np.int32).view(np.float32)


def expf(x) -> np.ndarray:
    """mlrn_math_expf, vectorised, identical bits."""
    x = np.array(x, dtype=np.float32, copy=True, ndmin=1)
    under = ~(x > F(-87.0))   # NaN too, as in C
    x = np.where(under, F(0.0), np.minimum(x, F(88.0)))
    kf = np.floor(x * F(23.0831203) + F(0.5))          # == mlrn_math_floor_i32 for |u| < 2^30
    r = (x - kf * F(0.043212890625)) - kf * F(1.08808162e-4)
    p = r * F(0.166666667) + F(0.5)
    p = p * r + F(1.0)
    p = p * r + F(1.0)
    out = _exp_scale(p, kf)
    out[under] = F(0.0)
    return out


EXP2_32NDS_Q30 = np.array([round(2.0 ** (j / 32) * 2.0 ** 30) for j in range(32)], dtype=np.int64)


def exp2_16(y) -> np.ndarray:
    """mlrn_math_exp2_16 (2^(y/16)), vectorised, identical bits: the same integer steps in int64."""
    y = np.array(y, dtype=np.float32, copy=True, ndmin=1)
    bits = y.view(np.uint32).astype(np.int64)
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    under = bits >= 0xC4FB0000
    neg = bits >= 0x80000000
    bits = np.where(~neg & (bits > 0x44FDE000), 0x44FDE000, bits)
    mag = bits & 0x7FFFFFFF
    a = np.where(mag >= 0x34800000, mag, 0).astype(np.uint32).view(np.float32).astype(np.float64)
    m = (np.floor(a * 2.0 ** 21).astype(np.int64) + 1) >> 1     # |y| 2^21 truncated, halved rounding
    m = np.where(mag >= 0x34800000, m, 0)
    U = np.where(neg, 0x80000000 - m, 0x80000000 + m)
    k = U >> 19
    fh = (U >> 16) & 7
    m16 = lambda a, b: (a & 0xFFFF) * (b & 0xFFFF)        # noqa: E731  (mlrn_math__mul16)
    f = (m16(fh, 177) << 16) + m16(fh, 29208) + m16(U, 177) + (m16(U, 29208) >> 16)
    f21 = (((f + 1024) << 5) >> 16) & 0xFFFF
    t16 = 32768 + (m16(f21, 10923) >> 21)
    u21 = m16(f21, t16) >> 16
    q = f + (m16(f21, u21) >> 10)
    T = EXP2_32NDS_Q30[k & 31]
    R = T + m16(T >> 16, q >> 16) + ((m16(T >> 16, q) + m16(T, q >> 16)) >> 16)
    k = k >> 5
    two = R >= 0x80000000
    k = k + two
    R = np.where(two, (R + 128) >> 8, ((R + 64) << 1) >> 8)
    out = (((k - 1) << 23) + R - 0x800000).astype(np.uint32).view(np.float32)
    out[nan | under] = F(0.0)
    return out


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
        return exp2_16(s * (g * RBF_LOG2E16))
    if kernel == "poly":
        return powi(g * s + c0, degree)
    if kernel == "sigmoid":
        return tanhf(g * s + c0)
    return as_f32(s)


def kernel_rows(kernel: str, X: np.ndarray, v: np.ndarray, gamma=1.0, coef0=0.0, degree=3) -> np.ndarray:
    """mlrn_kernel_eval(X[t], v) for every row t of X."""
    s = sqdist_rows(X, v) if kernel == "rbf" else dot_rows(X, v)
    return kernel_finish(kernel, s, gamma, coef0, degree)


def kernel_matrix_f32(kernel, A, B, gamma, coef0, degree) -> np.ndarray:
    """K[a, b] = mlrn_kernel_eval(B[b], A[a]) for all pairs, in the C order (sequential over features)."""
    A = np.asarray(A, np.float32)
    B = np.asarray(B, np.float32)
    acc = np.zeros((A.shape[0], B.shape[0]), np.float32)
    for k in range(A.shape[1]):
        if kernel == "rbf":
            t = B[None, :, k] - A[:, k, None]
            acc = acc + t * t
        else:
            acc = acc + B[None, :, k] * A[:, k, None]
    return kernel_finish(kernel, acc, gamma, coef0, degree)


def kernel_matrix_f64(kernel, A, B, gamma, coef0, degree) -> np.ndarray:
    A = np.asarray(A, np.float64)
    B = np.asarray(B, np.float64)
    if kernel == "rbf":
        d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
        return np.exp(-gamma * np.maximum(d2, 0))
    dot = A @ B.T
    if kernel == "poly":
        return (gamma * dot + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * dot + coef0)
    return dot
