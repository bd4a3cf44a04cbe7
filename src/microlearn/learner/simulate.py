"""The self-learning loop (Edge2Train) in Python: the bit-exact reference of include/mlrn_learner.h.

`RefLearner` repeats every decision of the C learner (mistake counting, the sliding
window trigger, the held-out split, FIFO / reservoir (xorshift32) / class-balanced
eviction, time-sliced training completing at the same step call, acceptance in integer
arithmetic, the queue of samples arriving mid-training) with the float32 SMO reference
(microlearn.trainer.reference), so the device and Python make the same predictions
and retrain/rollback at the same rows.

`simulate(stream, ...)` runs it over a labelled stream, row by row: predict, feedback
(the label), step(budget), and reports per-window accuracy with two baselines (a static
model trained once on the first rows; an oracle refitted on everything seen so far at
the start of each window).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.svm import LinearSVC

from microlearn.core import f32 as _f32, store as _store, vocab
from microlearn.core.f32 import F
from microlearn.core.rng import XorShift32
from microlearn.core.vocab import EV_ACCEPTED, EV_FAILED, EV_NONE, EV_ROLLBACK
from microlearn.data import streams
from microlearn.data.datasets import read_table
from microlearn.trainer import reference as _solvers

U32_MAX = 0xFFFFFFFF   # the C learner's uint32 counters


@dataclass
class LearnerConfig:
    """Everything that fixes a learner's behaviour (the C mlrn_learner_params + sizes)."""
    n_features: int
    n_classes: int
    capacity: int = 60            # samples in total (training + held-out stores)
    holdout_every: int = 4        # every k-th stored sample is held out (0: none)
    store: str = "all"            # "all" | "mistakes"
    replace: str = "fifo"         # "fifo" | "reservoir" | "balanced"
    k_mistakes: int = 5
    trigger_window: int = 20
    err_pct: int = 30
    drift_pct: int = 40           # drift: the last trigger_window outcomes hold > drift_pct % errors (0: off)
    margin_pct: int = 0
    queue: int = 8 
    budget: int = 0               # SMO iterations per step call (0: train to completion)
    seed: int = 1
    C: float = 1.0
    tol: float = 1e-3
    max_iter: int = 2000
    storage: str = "float32"      # "float32" | "int16" | "int8" (affine, see mlrn_store.h)
    scale: object = None          # float32 per feature (quantised storage)
    offset: object = None

    def __post_init__(self):
        """Refuse what mlrn_learner_init would refuse (MLRN_ERR_ARG) or what does not fit the C types of
        mlrn_learner_params and the buffer sizes (uint16), before anything is built or simulated."""
        I = _solvers.check_int
        I("n_features", self.n_features, 1, vocab.MAX_FEATURES, "uint16 d")
        I("n_classes", self.n_classes, 2, vocab.SMO_MAX_CLASSES, "MLRN_SMO_MAX_CLASSES")
        if self.storage not in vocab.STORAGES:
            raise ValueError("storage must be float32, int16 or int8")
        if self.store not in vocab.STORE_POLICIES:
            raise ValueError(f"store must be one of {sorted(vocab.STORE_POLICIES)}")
        if self.replace not in vocab.REPLACE_POLICIES:
            raise ValueError(f"replace must be one of {sorted(vocab.REPLACE_POLICIES)}")
        I("holdout_every", self.holdout_every, 0, _solvers.U8, "uint8")
        if self.holdout_every == 1:
            raise ValueError("holdout_every must be 0 (no held-out store) or >= 2, got 1")
        lo = max(3, self.holdout_every) if self.holdout_every else 2
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, numbers.Integral) or \
                not lo <= self.capacity <= vocab.MAX_CAPACITY:
            raise ValueError(f"capacity must be an integer in {lo}..{vocab.MAX_CAPACITY:,} (uint16 stores; at "
                             f"least 2 training samples" + (f" and 1 held out with holdout_every "
                                                            f"{self.holdout_every}" if self.holdout_every else "")
                             + f"), got {self.capacity!r}")
        if self.hold_capacity == 0 and self.holdout_every:
            raise ValueError("capacity too small for a held-out store")
        if self.train_capacity < 2:
            raise ValueError("capacity too small")
        for name, ctype in (("k_mistakes", "uint16"), ("trigger_window", "uint16"), ("queue", "uint16")):
            I(name, getattr(self, name), 0, _solvers.U16, ctype)
        for name in ("err_pct", "margin_pct", "drift_pct"):
            I(name, getattr(self, name), 0, 100, "uint8 percent")
        I("budget", self.budget, 0, _solvers.U32, "uint32")
        I("seed", self.seed, 0, _solvers.U32, "uint32")
        _solvers.check_params(C=self.C, tol=self.tol, max_iter=self.max_iter)
        if self.storage != "float32":
            if self.scale is None or self.offset is None:
                raise ValueError("int16/int8 storage needs scale and offset (see affine_from_range)")
            self.scale = np.asarray(self.scale, np.float32)
            self.offset = np.asarray(self.offset, np.float32)

    @property
    def hold_capacity(self) -> int:
        return self.capacity // self.holdout_every if self.holdout_every else 0

    @property
    def train_capacity(self) -> int:
        return self.capacity - self.hold_capacity

    @property
    def params(self) -> _solvers.Params:
        return _solvers.Params.make(C=self.C, tol=self.tol, max_iter=self.max_iter)


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
        self.rng = XorShift32(cfg.seed)
        self.n_stored = self.seen_train = self.seen_hold = 0
        self.n_feedback = self.n_mistakes = self.n_retrains = self.n_accepted = 0
        self.n_rollbacks = self.n_failed = self.n_dropped = self.n_discarded = 0
        self.event = EV_NONE
        self.last = {}
        self.train_iters: list[int] = []

    # -- prediction
    def predict(self, x) -> int:
        if self.model is None:
            return -1
        W, b, cmap = self.model
        return int(predict_model(W, b, cmap, x)[0])

    def _holdout_correct(self, model) -> int:
        if not self.hold_x:
            return 0
        W, b, cmap = model
        return int(np.sum(predict_model(W, b, cmap, np.vstack(self.hold_x)) == np.asarray(self.hold_y)))

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
        if len(xs) < cap:
            xs.append(x); ys.append(y)
            return where
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
        del xs[e]; del ys[e]
        xs.append(x); ys.append(y)
        return where

    def _drift(self):
        """mlrn_learner__drift: the stores keep only the samples stored during the window (newest entries:
        the stores are in arrival order), a training in progress is abandoned and its queue stored."""
        W = self.cfg.trigger_window
        keep_train = sum((v >> 1) & 1 for v in self.win[:W])
        keep_hold = sum((v >> 2) & 1 for v in self.win[:W])
        if self.training:
            self.training = False
            self.cand = None
            self.calls_left = 0
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
            if c.drift_pct and self.win_fill == W and self.win_err * 100 > c.drift_pct * W:
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
            return False
        inv = {cl: i for i, cl in enumerate(present)}
        lab = np.array([inv[v] for v in labels], np.int64)
        try:
            q = {} if self.cfg.storage == "float32" else dict(scale=self.cfg.scale, offset=self.cfg.offset)
            subs = _solvers.train(self.cfg.params, np.vstack(self.train_x), lab, len(present), **q)
            W = np.vstack([s.w for s in subs]).astype(np.float32)
            b = np.array([s.b for s in subs], np.float32)
            T = int(sum(s.n_iter for s in subs))
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
                self.model = self.cand
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


MAX_STREAM_ROWS = 100_000   # default row limit of a CSV stream (the Python reference runs ~7,000 rows/s)


def _label_index(text: str):
    """An error text if a stream label is not a class index 0..MLRN_SMO_MAX_CLASSES-1 (integral: '1', '1.0')."""
    try:
        v = float(text)
    except ValueError:
        return (f"label {text[:40]!r} is not a class index: the last column of a stream holds class indices "
                f"0..{vocab.SMO_MAX_CLASSES - 1}")
    if not math.isfinite(v) or v < 0 or v != int(v):
        return f"label {text[:40]!r} is not a class index 0..{vocab.SMO_MAX_CLASSES - 1}"
    if v >= vocab.SMO_MAX_CLASSES:
        return (f"class index {int(v)} is over {vocab.SMO_MAX_CLASSES - 1}: at most {vocab.SMO_MAX_CLASSES} classes "
                f"(MLRN_SMO_MAX_CLASSES in mlrn_smo.h)")
    return None


def load_stream(stream, y=None, n_classes=None, *, max_rows: int | None = MAX_STREAM_ROWS):
    """(X float32, y int, drift_points, n_classes) from a Stream/tuple, arrays, a stream name or a CSV path
    (last column = class index 0..15, optional header row: a first row of numbers is data; read by
    microlearn.data.datasets with its limits, and at most `max_rows` rows; arrays in memory have no row limit)."""
    drift, where = [], None
    if isinstance(stream, (str, Path)) and not Path(stream).exists() and str(stream) in _stream_names():
        stream = streams.make(str(stream))
    if isinstance(stream, (str, Path)):
        t = read_table(stream, max_rows=max_rows, rows_limit=" (the loop's row limit: --max-rows)",
                        label_check=_label_index)
        X, yv = t.X, np.array([int(float(v)) for v in t.labels], np.int64)
        where = lambda i: f" ({stream}, line {t.lines[i]})"   # noqa: E731
    elif isinstance(stream, tuple) and y is None:
        X, yv = stream[0], stream[1]
        drift = list(stream[2]) if len(stream) > 2 else []
    else:
        X, yv = stream, y
    with np.errstate(over="ignore", invalid="ignore"):
        X = np.ascontiguousarray(X, np.float32)
    yv = np.asarray(yv)
    if X.ndim != 2 or len(X) != len(yv):
        raise ValueError(f"a stream needs rows of features (2-D) and one label per row, got X {X.shape}, "
                         f"y {yv.shape}")
    if len(X) == 0:
        raise ValueError("the stream has no rows")
    if not np.isfinite(X).all():
        raise ValueError("the stream has non-finite feature values (or values too large for float32)")
    if yv.dtype.kind not in "biuf" or not np.all(yv == np.round(yv)) or yv.min() < 0:
        raise ValueError("labels must be class indices 0..n_classes-1")
    yv = yv.astype(np.int64)
    if n_classes is not None:
        _solvers.check_int("n_classes", n_classes, 2, vocab.SMO_MAX_CLASSES, "MLRN_SMO_MAX_CLASSES")
        if yv.max() >= n_classes:
            i = int(np.argmax(yv >= n_classes))
            raise ValueError(f"class index {int(yv[i])} is outside 0..{n_classes - 1} (n_classes {n_classes})"
                             + (where(i) if where else f" (row {i + 1})"))
    elif yv.max() >= vocab.SMO_MAX_CLASSES:
        raise ValueError(f"class index {int(yv.max())} is over {vocab.SMO_MAX_CLASSES - 1}: at most "
                         f"{vocab.SMO_MAX_CLASSES} classes (MLRN_SMO_MAX_CLASSES in mlrn_smo.h)")
    nc = int(n_classes or max(2, int(yv.max()) + 1))
    return X, yv, drift, nc


def check_window(window, static_rows=None):
    """The report's options: window (rows per accuracy window) >= 1, static_rows >= 1 when given."""
    for name, v in (("window", window), ("static_rows", static_rows)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")


def _stream_names():
    return set(streams.STREAMS)


def _fit_static(cfg: LearnerConfig, X, y):
    present = sorted(set(int(v) for v in y))
    if len(present) < 2:
        return None
    inv = {c: i for i, c in enumerate(present)}
    subs = _solvers.train(cfg.params, X, np.array([inv[int(v)] for v in y]), len(present))
    return (np.vstack([s.w for s in subs]).astype(np.float32), np.array([s.b for s in subs], np.float32), present)


def _fit_oracle(cfg: LearnerConfig, X, y):
    if len(set(int(v) for v in y)) < 2:
        return None
    return LinearSVC(C=cfg.C, max_iter=5000).fit(X, y)


def run_reference(cfg: LearnerConfig, X, y):
    """The loop over the stream: per row the prediction (-1: no model yet), and the events."""
    lr = RefLearner(cfg)
    preds = np.empty(len(X), np.int64)
    begins, accepted, rollbacks, failed = [], [], [], []
    for i in range(len(X)):
        preds[i] = lr.predict(X[i])
        lr.feedback(X[i], int(y[i]))
        n0 = lr.n_retrains
        lr.step()
        if lr.n_retrains != n0:
            begins.append(i)
        if lr.event == EV_ACCEPTED:
            accepted.append(i)
        elif lr.event == EV_ROLLBACK:
            rollbacks.append(i)
        elif lr.event == EV_FAILED:
            failed.append(i)
    return {"predictions": preds, "retrains": begins, "accepted": accepted, "rollbacks": rollbacks,
            "failed": failed, "learner": lr}


def simulate(stream, y=None, *, n_classes=None, capacity=60, window=100, holdout_every=4, store="all",
             replace="fifo", k_mistakes=5, trigger_window=20, err_pct=30, drift_pct=40, margin_pct=0, queue=8,
             budget=0, seed=1, C=1.0, tol=1e-3, max_iter=2000, storage="float32", feature_range=None, scale=None,
             offset=None, static_rows=None, baselines=True, plot=None) -> dict:
    """Run the reference self-learning loop over a labelled stream.

    stream: a streams.Stream / (X, y[, drift]) tuple, X with `y`, a stream name, or a CSV path.
    Returns a dict with `windows` (per-window accuracy of learner, static and oracle), `retrains`
    (rows where training started), `accepted`, `rollbacks`, `final_accuracy`,
    `static_final_accuracy`, `oracle_final_accuracy` (over the last window), `predictions`."""
    check_window(window, static_rows)
    X, yv, drift, nc = load_stream(stream, y, n_classes)
    if storage != "float32" and scale is None:
        lo, hi = feature_range if feature_range is not None else (X.min(axis=0), X.max(axis=0))
        scale, offset = _store.affine_from_range(lo, hi, storage, X.shape[1])
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc, capacity=capacity, holdout_every=holdout_every,
                        store=store, replace=replace, k_mistakes=k_mistakes, trigger_window=trigger_window,
                        err_pct=err_pct, drift_pct=drift_pct, margin_pct=margin_pct, queue=queue, budget=budget, seed=seed, C=C,
                        tol=tol, max_iter=max_iter, storage=storage, scale=scale, offset=offset)
    ref = run_reference(cfg, X, yv)
    return report(cfg, X, yv, drift, ref, window=window, static_rows=static_rows, baselines=baselines, plot=plot)


def report(cfg, X, yv, drift, ref, *, window=100, static_rows=None, baselines=True, plot=None) -> dict:
    n = len(X)
    preds = ref["predictions"]
    correct = preds == yv
    static_pred = np.full(n, -1)
    oracle_pred = np.full(n, -1)
    if baselines:
        k = int(static_rows or cfg.capacity)
        st = _fit_static(cfg, X[:k], yv[:k])
        if st is not None:
            static_pred = predict_model(*st, X)
        for s in range(0, n, window):
            orc = _fit_oracle(cfg, X[:s], yv[:s]) if s else None
            if orc is not None:
                oracle_pred[s:s + window] = orc.predict(X[s:s + window])
    windows = []
    for s in range(0, n, window):
        e = min(n, s + window)
        windows.append({"start": s, "end": e, "learner": float(np.mean(correct[s:e])),
                        "static": float(np.mean(static_pred[s:e] == yv[s:e])),
                        "oracle": float(np.mean(oracle_pred[s:e] == yv[s:e]))})
    lr = ref.get("learner")
    out = {
        "n_rows": n, "n_features": int(X.shape[1]), "n_classes": cfg.n_classes, "capacity": cfg.capacity,
        "train_capacity": cfg.train_capacity, "hold_capacity": cfg.hold_capacity, "window": window,
        "drift_points": [int(v) for v in drift],
        "windows": windows,
        "retrains": [int(v) for v in ref["retrains"]],
        "accepted": [int(v) for v in ref["accepted"]],
        "rollbacks": [int(v) for v in ref["rollbacks"]],
        "failed": [int(v) for v in ref.get("failed", [])],
        "accuracy": float(np.mean(correct)),
        "final_accuracy": windows[-1]["learner"] if windows else None,
        "static_final_accuracy": windows[-1]["static"] if windows else None,
        "oracle_final_accuracy": windows[-1]["oracle"] if windows else None,
        "static_accuracy": float(np.mean(static_pred == yv)),
        "oracle_accuracy": float(np.mean(oracle_pred == yv)),
        "predictions": [int(v) for v in preds],
    }
    if lr is not None:
        out.update({"mistakes": lr.n_mistakes, "dropped": lr.n_dropped, "train_iterations": lr.train_iters})
    if plot:
        plot_windows(out, plot)
        out["plot"] = str(plot)
    return out


def plot_windows(result: dict, path, title: str | None = None):
    """PNG of windowed accuracy (learner, static, oracle) with retrain/rollback marks."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    w = result["windows"]
    mid = [(v["start"] + v["end"]) / 2 for v in w]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(mid, [v["learner"] for v in w], "-o", ms=3, label="learner")
    ax.plot(mid, [v["static"] for v in w], "--", label="static")
    ax.plot(mid, [v["oracle"] for v in w], ":", label="oracle (all data so far)")
    for i, r in enumerate(result.get("accepted", [])):
        ax.axvline(r, color="g", alpha=0.25, lw=1, label="retrain accepted" if i == 0 else None)
    for i, r in enumerate(result.get("rollbacks", [])):
        ax.axvline(r, color="r", alpha=0.6, lw=1.5, ls="--", label="rollback" if i == 0 else None)
    for i, p in enumerate(result.get("drift_points", [])):
        ax.axvline(p, color="k", lw=2, alpha=0.5, label="drift" if i == 0 else None)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("row of the stream")
    ax.set_ylabel(f"accuracy per {result.get('window')} rows")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
