"""The self-learning loop's Python reference: RefLearner repeats every decision of the C learner
(include/mlrn_learner.h) in the same float32 operations, so the device and Python make the same
predictions and retrain, accept and roll back at the same rows.

It counts mistakes, keeps the sliding window trigger, splits held-out samples, evicts FIFO / reservoir
(xorshift32) / class-balanced, completes time-sliced training at the same step call, accepts in integer
arithmetic and queues the samples that arrive mid-training, with the float32 SMO reference
(microlearn.trainer.reference)."""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32, store as _store
from microlearn.core.f32 import F
from microlearn.core.rng import XorShift32
from microlearn.core.vocab import DDM_DRIFT, DDM_NONE, EV_ACCEPTED, EV_FAILED, EV_NONE, EV_ROLLBACK
from microlearn.trainer import reference as _solvers

from .config import LearnerConfig
from .drift import Ddm

U32_MAX = 0xFFFFFFFF   # the C learner's uint32 counters


def predict_model(W, b, cmap, X) -> np.ndarray:
    """mlrn_learner__predict_model for every row of X (float32, C order)."""
    X = np.atleast_2d(np.asarray(X, np.float32))
    m = len(cmap)
    cmap = np.asarray(cmap)
    if m <= 2:
        f = _f32.dot_rows(X, W[0]) + b[0]
        return np.where(f >= F(0.0), cmap[1], cmap[0])
    votes = np.zeros((len(X), m), np.int64)
    sub = 0
    for p in range(m - 1):
        for q in range(p + 1, m):
            f = _f32.dot_rows(X, W[sub]) + b[sub]
            pos = f >= F(0.0)
            votes[pos, q] += 1
            votes[~pos, p] += 1
            sub += 1
    return cmap[np.argmax(votes, axis=1)]   # first maximum, like the C loop


class KernelModel:
    """A kernel learner's model (mlrn_learner.h, "Kernel learners"): rows X (float32, as the store gives them
    back), their local classes `lab` (0..m-1), coefficients coef (m-1 rows, or 1 for two classes, one column per
    row: the trainer's signed alphas in libsvm's layout), b per pair, the class map. The candidate is the
    trainer's solution over the whole training store; the snapshot keeps the support vectors only."""

    def __init__(self, X, lab, coef, b, cmap):
        self.X = np.asarray(X, np.float32)
        self.lab = np.asarray(lab, np.int64)
        self.coef = np.asarray(coef, np.float32)
        self.b = np.asarray(b, np.float32)
        self.cmap = list(cmap)

    def snapshot(self) -> "KernelModel":
        """mlrn_learner__snapshot: the rows with a non-zero coefficient in any row, in store order."""
        sv = np.flatnonzero(np.any(self.coef != 0, axis=0))
        return KernelModel(self.X[sv], self.lab[sv], self.coef[:, sv], self.b.copy(), self.cmap)

    @property
    def n_sv(self) -> int:
        return int(self.X.shape[0])


def kernel_candidate(subs, labels, X, present) -> KernelModel:
    """The trainer's solution as the C leaves it in its alpha rows (mlrn_smo__finish_sub: coef = y alpha;
    mlrn_smo__coef_row: a sample of class p sits in row q - 1 of pair (p, q), one of class q in row p)."""
    m = len(present)
    coef = np.zeros((1 if m <= 2 else m - 1, len(labels)), np.float32)
    for s in subs:
        p, q = s.pair
        signed = np.where(s.y > 0, s.alpha, -s.alpha).astype(np.float32)
        rows = np.where(labels[s.members] == p, q - 1, p) if m > 2 else np.zeros(len(s.members), np.int64)
        coef[rows, s.members] = signed
    return KernelModel(X, labels, coef, np.array([s.b for s in subs], np.float32), present)


def predict_kernel(model: KernelModel, X, params) -> np.ndarray:
    """mlrn_learner__predict_kernel for every row of X: per pair (p, q), acc = 0; acc = acc + c_t K(x_t, x) over
    the model's rows in order (c_t != 0 only); f = acc + b; f >= 0 votes for q; the first most-voted class."""
    X = np.atleast_2d(np.asarray(X, np.float32))
    m = len(model.cmap)
    K = _f32.kernel_matrix_f32(params.kernel, X, model.X, params.gamma, params.coef0, params.degree)
    votes = np.zeros((len(X), m), np.int64)
    sub = 0
    for p in range(m - 1):
        for q in range(p + 1, m):
            row = np.where(model.lab == p, q - 1, p) if m > 2 else np.zeros(model.n_sv, np.int64)
            inpair = (model.lab == p) | (model.lab == q)
            c = model.coef[np.where(inpair, row, 0), np.arange(model.n_sv)]
            sel = np.flatnonzero(inpair & (c != 0))
            acc = np.zeros(len(X), np.float32)
            if sel.size:   # ((0 + p0) + p1) + ...: the same value as the sequential accumulation of p0, p1, ...
                acc = acc + np.add.accumulate(c[sel][None, :] * K[:, sel], axis=1)[:, -1]
            pos = acc + model.b[sub] >= F(0.0)
            votes[pos, q] += 1
            votes[~pos, p] += 1
            sub += 1
    return np.asarray(model.cmap)[np.argmax(votes, axis=1)]


def predict_any(model, X, params) -> np.ndarray:
    """The class of every row of X by a linear (W, b, classes) or a kernel model (KernelModel)."""
    if isinstance(model, KernelModel):
        return predict_kernel(model, X, params)
    return predict_model(*model, X)


class RefLearner:
    """Python twin of mlrn_learner."""

    def __init__(self, cfg: LearnerConfig):
        self.cfg = cfg
        self.d = cfg.n_features
        self.train_x: list[np.ndarray] = []
        self.train_y: list[int] = []
        self.hold_x: list[np.ndarray] = []
        self.hold_y: list[int] = []
        self.model = None          # (W, b, map)
        self.cand = None
        self.training = False
        self.pending = False
        self.calls_left = 0
        self.queue: list[tuple[np.ndarray, int]] = []
        self.win = [0] * max(cfg.trigger_window, 1)
        self.win_pos = self.win_fill = self.win_err = self.win_since = 0
        self.mistakes_since = 0
        self.n_drifts = 0
        self.ddm = Ddm()               # MLRN_DRIFT_DDM: the detector and the marks of what arrived since its warning
        self.warn_train = self.warn_hold = 0
        self.rng = XorShift32(cfg.seed)
        self.n_stored = self.seen_train = self.seen_hold = 0
        self.n_feedback = self.n_mistakes = self.n_retrains = self.n_accepted = 0
        self.n_rollbacks = self.n_failed = self.n_dropped = self.n_discarded = 0
        self.event = EV_NONE
        self.last = {}
        self.train_iters: list[int] = []
        self.train_sizes: list[int] = []   # training rows of each training begun (cost models: sweep/train_cost.py)
        # MLRN_LEARNER_WARM: the alphas of each training row per one-vs-one pair (they follow their rows), whether
        # they hold the last completed training's solution, the class map of the last training begun
        self.nsub_max = 1 if cfg.n_classes <= 2 else cfg.n_classes * (cfg.n_classes - 1) // 2
        self.warm_a: list[np.ndarray] = []
        self.warm_ok = False
        self.last_map: list[int] = []
        self.warm_flags: list[bool] = []   # per training begun: started from the kept alphas (else cold)
        self.params = cfg.params

    @property
    def warm_starts(self) -> int:
        """Trainings that started from the kept alphas."""
        return sum(self.warm_flags)

    def set_model(self, W, b, cmap) -> None:
        """mlrn_learner_set_model: start from a model trained elsewhere (W: one row per one-vs-one pair of
        the present classes, b: their intercepts, cmap: the class indices, increasing). Stores and counters
        are untouched; float32 as the device holds them."""
        if self.cfg.kernel != "linear":
            raise ValueError("set_model: an initial model is for the linear learner (a kernel learner's model is a "
                             "snapshot of its own support vectors)")
        W = np.asarray(W, np.float32).reshape(-1, self.d)
        b = np.asarray(b, np.float32).reshape(-1)
        cmap = [int(c) for c in cmap]
        m = len(cmap)
        if self.training or not 2 <= m <= self.cfg.n_classes or any(c >= self.cfg.n_classes for c in cmap) \
                or any(q <= p for p, q in zip(cmap, cmap[1:])):
            raise ValueError("set_model: 2..n_classes increasing class indices below n_classes, not while training")
        nsub = 1 if m <= 2 else m * (m - 1) // 2
        if W.shape != (nsub, self.d) or b.shape != (nsub,):
            raise ValueError(f"set_model: W must be {nsub} x {self.d} and b {nsub} values for {m} classes")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError("set_model: weights and intercepts must be finite")
        self.model = (W.copy(), b.copy(), cmap)
        self._ddm_reset()

    def _ddm_reset(self):
        self.ddm.reset()
        self.warn_train = self.warn_hold = 0

    # -- prediction
    def predict(self, x) -> int:
        if self.model is None:
            return -1
        return int(predict_any(self.model, x, self.params)[0])

    def _holdout_correct(self, model) -> int:
        if not self.hold_x:
            return 0
        return int(np.sum(predict_any(model, np.vstack(self.hold_x), self.params) == np.asarray(self.hold_y)))

    # -- the store
    def _insert(self, x, y) -> int:
        """mlrn_learner__insert: 1 if the sample went to the training store, 2 held-out (0: discarded)."""
        c = self.cfg
        to_hold = bool(c.holdout_every) and self.n_stored % c.holdout_every == c.holdout_every - 1
        xs, ys, cap = (self.hold_x, self.hold_y, c.hold_capacity) if to_hold else \
            (self.train_x, self.train_y, c.train_capacity)
        # uint32 counters that saturate, as in mlrn_learner__insert (a wrap to 0 would divide by zero)
        if to_hold:
            self.seen_hold = min(self.seen_hold + 1, U32_MAX)
            seen = self.seen_hold
        else:
            self.seen_train = min(self.seen_train + 1, U32_MAX)
            seen = self.seen_train
        self.n_stored += 1
        if c.storage != "float32":   # the row as the device's store gives it back
            x = _store.stored_rows(x[None, :], c.storage, c.scale, c.offset)[0]
        where = 2 if to_hold else 1
        if len(xs) >= cap:
            if c.replace == "reservoir":   # entry j goes; the newcomer joins at the end (arrival order kept)
                j = self.rng.next() % seen
                if j >= cap:
                    self.n_discarded += 1
                    return 0
                e = j
            elif c.replace == "fifo":
                e = 0
            else:
                counts = np.bincount(np.asarray(ys), minlength=c.n_classes)
                big = int(np.argmax(counts))
                e = ys.index(big)
            if self.ddm.warn:   # the newest marked entries arrived since the warning: one of them may go
                if to_hold and self.warn_hold and e >= len(xs) - self.warn_hold:
                    self.warn_hold -= 1
                elif not to_hold and self.warn_train and e >= len(xs) - self.warn_train:
                    self.warn_train -= 1
            del xs[e]; del ys[e]
            if not to_hold:
                del self.warm_a[e]
        xs.append(x); ys.append(y)
        if not to_hold:   # a row stored since the last training starts at 0
            self.warm_a.append(np.zeros(self.nsub_max, np.float32))
        if self.ddm.warn:
            if to_hold:
                self.warn_hold += 1
            else:
                self.warn_train += 1
        return where

    def _drift(self):
        """mlrn_learner__drift: the stores keep only the samples stored during the window (newest entries:
        the stores are in arrival order), a training in progress is abandoned and its queue stored."""
        W = self.cfg.trigger_window
        if self.cfg.drift == "ddm":   # what arrived since the warning is the new concept
            keep_train, keep_hold = self.warn_train, self.warn_hold
            self._ddm_reset()
        else:
            keep_train = sum((v >> 1) & 1 for v in self.win[:W])
            keep_hold = sum((v >> 2) & 1 for v in self.win[:W])
        if self.training:
            self.training = False
            self.cand = None
            self.calls_left = 0
            self.warm_ok = False   # a half-solved training: the next one starts cold
        del self.warm_a[:max(len(self.train_x) - keep_train, 0)]
        for xs, ys, k in ((self.train_x, self.train_y, keep_train), (self.hold_x, self.hold_y, keep_hold)):
            cut = max(len(xs) - k, 0)
            del xs[:cut]; del ys[:cut]
        self.seen_train, self.seen_hold = len(self.train_x), len(self.hold_x)
        q, self.queue = self.queue, []
        for x, y in q:
            self._insert(x, y)
        self.win_pos = self.win_fill = self.win_err = self.win_since = 0
        self.n_drifts += 1
        self.pending = True

    # -- the loop
    def feedback(self, x, y: int) -> int:
        c = self.cfg
        x = np.asarray(x, np.float32)
        if not np.all(np.isfinite(x)):
            raise ValueError("non-finite feature")
        if not 0 <= y < c.n_classes:
            raise ValueError("label out of range")
        pred = self.predict(x)
        wrong = int(pred != y)
        self.n_feedback += 1
        if wrong:
            self.n_mistakes += 1
            self.mistakes_since = min(self.mistakes_since + 1, 0xFFFF)
        where = 0
        if wrong or c.store == "all":
            if self.training:
                if len(self.queue) < c.queue:
                    self.queue.append((x.copy(), int(y)))
                else:
                    self.n_dropped += 1
            else:
                where = self._insert(x.copy(), int(y))
        W = c.trigger_window
        if W:   # ring of the last W outcomes: bit 0 wrong, bit 1 stored in train, bit 2 stored held out
            if self.win_fill == W:
                self.win_err -= self.win[self.win_pos] & 1
            else:
                self.win_fill += 1
            self.win[self.win_pos] = wrong | (2 if where == 1 else 4 if where == 2 else 0)
            self.win_err += wrong
            self.win_pos = (self.win_pos + 1) % W
            if self.win_since < W:
                self.win_since += 1
            if c.drift == "window" and c.drift_pct and self.win_fill == W and self.win_err * 100 > c.drift_pct * W:
                self._drift()
        if c.drift == "ddm" and self.model is not None:   # rows without a model tell nothing of one
            was = self.ddm.warn
            level = self.ddm.update(wrong, c.ddm_min_rows, c.ddm_warn_k10, c.ddm_drift_k10)
            if level == DDM_NONE:
                self.warn_train = self.warn_hold = 0
            elif not was:   # a new warning: this row is the first of the fresh window
                self.warn_train, self.warn_hold = int(where == 1), int(where == 2)
            if level == DDM_DRIFT:
                self._drift()
        if not self.training and not self.pending:
            if (c.k_mistakes and self.mistakes_since >= c.k_mistakes) or \
                    (W and self.win_since == W and self.win_err * 100 > c.err_pct * W):
                self.pending = True
        return wrong

    def request_train(self):
        if not self.training:
            self.pending = True

    def _begin(self) -> bool:
        labels = np.asarray(self.train_y, np.int64)
        present = sorted(set(self.train_y))
        if len(present) < 2:
            self.warm_ok = False   # the C's cand_map was overwritten
            return False
        inv = {cl: i for i, cl in enumerate(present)}
        lab = np.array([inv[v] for v in labels], np.int64)
        warm = None
        if self.cfg.warm:   # mlrn_learner__begin: the kept alphas when the class map is unchanged, else all 0
            m = len(present)
            nsub = 1 if m <= 2 else m * (m - 1) // 2
            warm = np.vstack(self.warm_a).T[:nsub].copy()
            self.warm_flags.append(self.warm_ok and present == self.last_map)
            if not self.warm_flags[-1]:
                warm[:] = F(0.0)
            self.last_map = list(present)
            self.warm_ok = False
        try:
            q = {} if self.cfg.storage == "float32" else dict(scale=self.cfg.scale, offset=self.cfg.offset)
            self.train_sizes.append(len(self.train_x))
            try:
                subs = _solvers.train(self.cfg.params, np.vstack(self.train_x), lab, len(present), **q, warm=warm)
            finally:
                if warm is not None:   # the C trains in these rows: they hold the (partial) solution
                    for t, a in enumerate(self.warm_a):
                        a[:warm.shape[0]] = warm[:, t]
            T = int(sum(s.n_iter for s in subs))
            if self.cfg.kernel != "linear":   # the trainer's alphas over the training store as it is now
                self.cand = kernel_candidate(subs, lab, np.vstack(self.train_x), present)
            else:
                W = np.vstack([s.w for s in subs]).astype(np.float32)
                b = np.array([s.b for s in subs], np.float32)
                self.cand = (W, b, present)
        except (FloatingPointError, ValueError):
            T = 0
            self.cand = None
        self.cand_iter = T
        self.pending = False
        self.mistakes_since = 0
        self.win_since = 0
        self.training = True
        self.n_retrains += 1
        B = self.cfg.budget
        self.calls_left = T // B if B > 0 else 0
        return True

    def _finish(self):
        self.training = False
        self.train_iters.append(self.cand_iter)
        self.warm_ok = self.cand is not None   # kept whether the candidate is accepted or not
        if self.cand is None:
            self.n_failed += 1
            self.event = EV_FAILED
        else:
            cand = self._holdout_correct(self.cand)
            cur = self._holdout_correct(self.model) if self.model is not None else 0
            n = len(self.hold_x)
            self.last = {"cand_correct": cand, "cur_correct": cur, "hold_n": n}
            # strictly better by the margin (ties keep the current model); an empty held-out store accepts
            if self.model is None or n == 0 or cand * 100 + self.cfg.margin_pct * n > cur * 100:
                self.model = self.cand.snapshot() if isinstance(self.cand, KernelModel) else self.cand
                self.n_accepted += 1
                self.event = EV_ACCEPTED
            else:
                self.n_rollbacks += 1
                self.event = EV_ROLLBACK
        q, self.queue = self.queue, []
        for x, y in q:
            self._insert(x, y)

    def step(self) -> bool:
        """One mlrn_learner_step(budget) call. Returns True while training (MLRN_RUNNING)."""
        self.event = EV_NONE
        if not self.training:
            if not self.pending or not self._begin():
                return False
        if self.calls_left > 0:
            self.calls_left -= 1
            return True
        self._finish()
        return False
