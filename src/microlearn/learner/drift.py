"""The drift detectors' Python twin (include/mlrn_drift.h): DDM (Gama et al. 2004) in the header's fixed
point, integer for integer, so that the reference and every device signal warnings and drifts at the same
rows. See the header for the arithmetic and why it is done so (Laplace's estimate, Q16, uint32 ranges)."""
from __future__ import annotations

from microlearn.core import vocab

Q_BITS = vocab.DDM_Q_BITS
NO_MIN = vocab.DDM_NO_MIN
U16_MAX = 0xFFFF


def isqrt(v: int) -> int:
    """mlrn_ddm_isqrt: floor(sqrt(v)) for a uint32 (math.isqrt gives the same integer)."""
    r, bit = 0, 1 << 30
    while bit > v:
        bit >>= 2
    while bit:
        if v >= r + bit:
            v -= r + bit
            r = (r >> 1) + bit
        else:
            r >>= 1
        bit >>= 2
    return r


class Ddm:
    """mlrn_ddm: rows n and errors e of the current model, the minimum of p + s and s there, the warning flag."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.n = self.e = 0
        self.q_min = NO_MIN
        self.s_min = 0
        self.warn = 0

    def update(self, wrong: int, min_rows: int, warn_k10: int, drift_k10: int) -> int:
        """mlrn_ddm_update: DDM_NONE, DDM_WARNING or DDM_DRIFT for one row's outcome."""
        if self.n == U16_MAX:   # halved at the uint16 limit: the rate stays
            self.n >>= 1
            self.e >>= 1
        self.n += 1
        self.e += 1 if wrong else 0
        if self.n < min_rows:
            return vocab.DDM_NONE
        n2 = self.n + 2
        p = ((self.e + 1) << Q_BITS) // n2
        s = isqrt(p * ((1 << Q_BITS) - p) // n2)
        q = p + s
        if q < self.q_min:
            self.q_min, self.s_min = q, s
        if 10 * q >= 10 * self.q_min + (drift_k10 - 10) * self.s_min:
            self.warn = 1
            return vocab.DDM_DRIFT
        if 10 * q >= 10 * self.q_min + (warn_k10 - 10) * self.s_min:
            self.warn = 1
            return vocab.DDM_WARNING
        self.warn = 0
        return vocab.DDM_NONE

    def state_bytes(self) -> bytes:
        """The detector's part of a save_all payload (mlrn_learner.h, MLRN_LEARNER__DDM_LEN), less the marks."""
        return (self.n.to_bytes(2, "little") + self.e.to_bytes(2, "little") + self.q_min.to_bytes(4, "little")
                + self.s_min.to_bytes(4, "little") + bytes([self.warn]))
