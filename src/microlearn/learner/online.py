"""The compact online learner's Python reference (include/mlrn_online.h): Passive-Aggressive II,
one-vs-rest, float32 in the C order, with the self-learning loop's held-out validation, rollback and drift
detectors, so that the reference and every device predict, validate, accept and signal drift at the same
rows. RefOnline has RefLearner's interface (predict, feedback, step, request_train and the counters)."""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32
from microlearn.core.f32 import F
from microlearn.core.vocab import DDM_DRIFT, DDM_NONE, EV_ACCEPTED, EV_NONE, EV_ROLLBACK

from .config import LearnerConfig
from .drift import Ddm


def n_out(n_classes: int) -> int:
    """mlrn_online_n_out: one score for two classes, else one per class."""
    return 1 if n_classes <= 2 else n_classes


def weight_floats(n_features: int, n_classes: int) -> int:
    """MLRN_ONLINE_WEIGHT_FLOATS: one weight set (the accepted and the candidate take this many each)."""
    return n_out(n_classes) * (n_features + 1)


def predict_weights(w: np.ndarray, X) -> np.ndarray:
    """mlrn_online__predict_w for every row of X: w is n_out x (d + 1) float32 (w then b per output)."""
    X = np.atleast_2d(np.asarray(X, np.float32))
    d = X.shape[1]
    if w.shape[0] == 1:
        return (_f32.dot_rows(X, w[0, :d]) + w[0, d] >= F(0.0)).astype(np.int64)
    scores = np.stack([_f32.dot_rows(X, w[c, :d]) + w[c, d] for c in range(w.shape[0])], axis=1)
    return np.argmax(scores, axis=1)   # first maximum, like the C loop (f > best)


class RefOnline:
    """Python twin of mlrn_online."""

    def __init__(self, cfg: LearnerConfig):
        self.cfg = cfg
        self.d = d = cfg.n_features
        self.n_out = n_out(cfg.n_classes)
        self.cur = np.zeros((self.n_out, d + 1), np.float32)
        self.cand = np.zeros((self.n_out, d + 1), np.float32)
        self.half_inv_c = F(1.0) / (F(2.0) * F(cfg.C))
        self.hold_cap = cfg.capacity if cfg.holdout_every else 0
        self.hold_x: list[np.ndarray] = []
        self.hold_y: list[int] = []
        W = cfg.trigger_window
        self.win = [0] * max(W, 1)
        self.win_pos = self.win_fill = self.win_err = 0
        self.mistakes_since = 0
        self.warn_hold = 0
        self.ddm = Ddm()
        self.has_model = False
        self.pending = False
        self.training = False
        self.event = EV_NONE
        self.n_seen = 0
        self.n_feedback = self.n_mistakes = self.n_retrains = self.n_accepted = self.n_rollbacks = 0
        self.n_failed = self.n_dropped = self.n_drifts = self.n_updates = 0
        self.last: dict = {}
        self.train_iters: list[int] = []   # no iterative training: stays empty
        self.train_sizes: list[int] = []   # as RefLearner's (simulate's report reads it): stays empty

    @property
    def model(self):
        return self.cur if self.has_model else None

    def predict(self, x) -> int:
        if not self.has_model:
            return -1
        return int(predict_weights(self.cur, x)[0])

    def _update(self, x: np.ndarray, y: int) -> None:
        d = self.d
        denom = _f32.dot_rows(x[None, :], x)[0] + F(1.0) + self.half_inv_c
        for c in range(self.n_out):
            wc = self.cand[c]
            pos = (y == 1) if self.n_out == 1 else (y == c)
            f = _f32.dot_rows(x[None, :], wc[:d])[0] + wc[d]
            loss = F(1.0) - (f if pos else -f)
            if loss > F(0.0):
                tau = loss / denom
                st = tau if pos else -tau
                wc[:d] = wc[:d] + st * x
                wc[d] = wc[d] + st
        self.n_updates += 1

    def _hold(self, x: np.ndarray, y: int) -> None:
        if len(self.hold_x) == self.hold_cap:
            if self.ddm.warn and self.warn_hold == len(self.hold_x):
                self.warn_hold -= 1
            del self.hold_x[0]; del self.hold_y[0]
        self.hold_x.append(x); self.hold_y.append(y)
        if self.ddm.warn:
            self.warn_hold += 1

    def _drift(self, keep: int) -> None:
        cut = max(len(self.hold_x) - keep, 0)
        del self.hold_x[:cut]; del self.hold_y[:cut]
        self.ddm.reset()
        self.warn_hold = 0
        self.win_pos = self.win_fill = self.win_err = 0
        self.n_drifts += 1
        self.pending = True

    def feedback(self, x, y: int) -> int:
        c = self.cfg
        x = np.asarray(x, np.float32).copy()
        if not np.all(np.isfinite(x)):
            raise ValueError("non-finite feature")
        if not 0 <= y < c.n_classes:
            raise ValueError("label out of range")
        y = int(y)
        wrong = int(not self.has_model or self.predict(x) != y)
        self.n_feedback += 1
        if wrong:
            self.n_mistakes += 1
            self.mistakes_since = min(self.mistakes_since + 1, 0xFFFF)
        held = bool(c.holdout_every) and self.n_seen % c.holdout_every == c.holdout_every - 1
        self.n_seen += 1
        if held:
            self._hold(x, y)
        else:
            self._update(x, y)
        W = c.trigger_window
        if W:
            if self.win_fill == W:
                self.win_err -= self.win[self.win_pos] & 1
            else:
                self.win_fill += 1
            self.win[self.win_pos] = wrong | (4 if held else 0)
            self.win_err += wrong
            self.win_pos = (self.win_pos + 1) % W
            if c.drift == "window" and c.drift_pct and self.win_fill == W and self.win_err * 100 > c.drift_pct * W:
                self._drift(sum((v >> 2) & 1 for v in self.win[:W]))
        if c.drift == "ddm" and self.has_model:
            was = self.ddm.warn
            level = self.ddm.update(wrong, c.ddm_min_rows, c.ddm_warn_k10, c.ddm_drift_k10)
            if level == DDM_NONE:
                self.warn_hold = 0
            elif not was:
                self.warn_hold = int(held)
            if level == DDM_DRIFT:
                self._drift(self.warn_hold)
        if not self.pending and c.k_mistakes and self.mistakes_since >= c.k_mistakes:
            self.pending = True
        return wrong

    def request_train(self):
        self.pending = True

    def _correct(self, w) -> int:
        if not self.hold_x:
            return 0
        return int(np.sum(predict_weights(w, np.vstack(self.hold_x)) == np.asarray(self.hold_y)))

    def step(self) -> bool:
        """mlrn_online_step: a pending validation (never spans calls). Returns False (never running)."""
        self.event = EV_NONE
        if not self.pending:
            return False
        self.pending = False
        self.mistakes_since = 0
        self.n_retrains += 1
        n = len(self.hold_x)
        cand = self._correct(self.cand)
        cur = self._correct(self.cur) if self.has_model else 0
        self.last = {"cand_correct": cand, "cur_correct": cur, "hold_n": n}
        if not self.has_model or n == 0 or cand * 100 + self.cfg.margin_pct * n > cur * 100:
            self.cur = self.cand.copy()
            self.has_model = True
            self.n_accepted += 1
            self.event = EV_ACCEPTED
        else:
            self.n_rollbacks += 1
            self.event = EV_ROLLBACK
        return False
