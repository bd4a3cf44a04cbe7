"""The reference of mlrn_store.h: how a sample is held on the device (float32, or int16/int8 affine)."""
from __future__ import annotations

import numpy as np

from .f32 import F

QRANGE = {"int16": (-32768, 32767), "int8": (-128, 127)}   # storage ids and sizes: microlearn.core.vocab


def affine_from_range(lo, hi, storage: str, n_features: int):
    """Per-feature float32 (scale, offset) mapping [lo, hi] onto the integer range: x = q * scale + offset."""
    qmin, qmax = QRANGE[storage]
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), (n_features,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_features,))
    if np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)):
        raise ValueError("feature_range must be finite")
    if np.any(hi < lo):
        raise ValueError("feature_range: every high bound must be >= its low bound")
    span = np.where(hi > lo, hi - lo, 1.0)
    scale = (span / (qmax - qmin)).astype(np.float32)
    offset = (lo - qmin * scale.astype(np.float64)).astype(np.float32)
    return scale, offset


def quantize(X, scale, offset, storage: str) -> np.ndarray:
    """mlrn_store_set: v = (x - offset) / scale; clamp to [qmin, qmax]; q = floor(v + 0.5)."""
    qmin, qmax = QRANGE[storage]
    v = (np.asarray(X, np.float32) - offset) / scale
    v = np.where(v >= F(qmin), v, F(qmin))     # also NaN, as the C test !(v >= qmin)
    v = np.where(v > F(qmax), F(qmax), v)
    return np.floor(v + F(0.5)).astype(np.int16 if storage == "int16" else np.int8)


def dequantize(Q, scale, offset) -> np.ndarray:
    """mlrn_store_row: x = (float)q * scale + offset."""
    return np.asarray(Q).astype(np.float32) * scale + offset


def stored_rows(X, storage: str, scale=None, offset=None) -> np.ndarray:
    """The float32 rows the device trains on after add_sample(X)."""
    X = np.asarray(X, np.float32)
    if storage == "float32":
        return X
    return dequantize(quantize(X, scale, offset, storage), scale, offset)
