"""The self-learning loop (Edge2Train) over a stream, in Python: the reference learner
(learner.reference.RefLearner) row by row, with baselines and reports.

`simulate(stream, ...)` runs it over a labelled stream, row by row: predict, feedback
(the label), step(budget), and reports per-window accuracy with two baselines (a static
model trained once on the first rows; an oracle refitted on everything seen so far at
the start of each window).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from sklearn.svm import SVC, LinearSVC

from microlearn.core import store as _store, vocab
from microlearn.core.vocab import EV_ACCEPTED, EV_FAILED, EV_ROLLBACK
from microlearn.data import streams
from microlearn.data.datasets import read_table
from microlearn.trainer import reference as _solvers

from .config import LearnerConfig, check_window
from .online import RefOnline
from .reference import RefLearner, kernel_candidate, predict_any

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


def _stream_names():
    return set(streams.STREAMS)


def fit_static(cfg: LearnerConfig, X, y):
    """The static baseline: the learner's SVM (float32 reference, same C and tol) trained once on X, y, as
    (W, b, classes present) for predict_model; None when y holds fewer than two classes."""
    present = sorted(set(int(v) for v in y))
    if len(present) < 2:
        return None
    inv = {c: i for i, c in enumerate(present)}
    lab = np.array([inv[int(v)] for v in y])
    subs = _solvers.train(cfg.params, X, lab, len(present))
    if cfg.kernel != "linear":   # the kernel learner's model: a snapshot of the support vectors
        return kernel_candidate(subs, lab, np.asarray(X, np.float32), present).snapshot()
    return (np.vstack([s.w for s in subs]).astype(np.float32), np.array([s.b for s in subs], np.float32), present)


def _fit_oracle(cfg: LearnerConfig, X, y):
    if len(set(int(v) for v in y)) < 2:
        return None
    if cfg.kernel != "linear":   # the learner's kernel, on everything seen so far
        return SVC(C=cfg.C, kernel=cfg.kernel, gamma=cfg.gamma, degree=cfg.degree, coef0=cfg.coef0).fit(X, y)
    return LinearSVC(C=cfg.C, max_iter=5000).fit(X, y)


def run_reference(cfg: LearnerConfig, X, y, init=None):
    """The loop over the stream: per row the prediction (-1: no model yet), and the events.
    init: an initial model (W, b, classes), as fit_static returns it (mlrn_learner_set_model)."""
    lr = RefOnline(cfg) if cfg.model == "online" else RefLearner(cfg)
    if init is not None:
        lr.set_model(*init)
    preds = np.empty(len(X), np.int64)
    begins, accepted, rollbacks, failed, drift_rows = [], [], [], [], []
    for i in range(len(X)):
        preds[i] = lr.predict(X[i])
        d0 = lr.n_drifts
        lr.feedback(X[i], int(y[i]))
        if lr.n_drifts != d0:
            drift_rows.append(i)
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
            "failed": failed, "drift_rows": drift_rows, "learner": lr}


def simulate(stream, y=None, *, n_classes=None, capacity=60, window=100, holdout_every=4, store="all",
             replace="fifo", k_mistakes=5, trigger_window=20, err_pct=30, drift_pct=40, margin_pct=0, queue=8,
             budget=0, seed=1, C=1.0, tol=1e-3, max_iter=2000, storage="float32", feature_range=None, scale=None,
             offset=None, static_rows=None, baselines=True, plot=None, drift="ddm",
             ddm_min_rows=vocab.DDM_MIN_ROWS, ddm_warn_k10=vocab.DDM_WARN_K10,
             ddm_drift_k10=vocab.DDM_DRIFT_K10, model="svm", warm=False, kernel="linear", gamma=1.0, degree=3,
             coef0=0.0) -> dict:
    """Run the reference self-learning loop over a labelled stream.

    stream: a streams.Stream / (X, y[, drift]) tuple, X with `y`, a stream name, or a CSV path.
    Returns a dict with `windows` (per-window accuracy of learner, static and oracle), `retrains`
    (rows where training started), `accepted`, `rollbacks`, `final_accuracy`,
    `static_final_accuracy`, `oracle_final_accuracy` (over the last window), `predictions`.
    warm: warm-started retraining (LearnerConfig.warm); adds `warm_starts` (trainings started warm).
    kernel, gamma, degree, coef0: the SVM learner's kernel (LearnerConfig: "linear", "rbf", "poly")."""
    check_window(window, static_rows)
    X, yv, drift_points, nc = load_stream(stream, y, n_classes)
    if storage != "float32" and scale is None:
        lo, hi = feature_range if feature_range is not None else (X.min(axis=0), X.max(axis=0))
        scale, offset = _store.affine_from_range(lo, hi, storage, X.shape[1])
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc, capacity=capacity, holdout_every=holdout_every,
                        store=store, replace=replace, k_mistakes=k_mistakes, trigger_window=trigger_window,
                        err_pct=err_pct, drift_pct=drift_pct, margin_pct=margin_pct, queue=queue, budget=budget, seed=seed, C=C,
                        tol=tol, max_iter=max_iter, storage=storage, scale=scale, offset=offset, drift=drift,
                        ddm_min_rows=ddm_min_rows, ddm_warn_k10=ddm_warn_k10, ddm_drift_k10=ddm_drift_k10, model=model,
                        warm=warm, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0)
    ref = run_reference(cfg, X, yv)
    return report(cfg, X, yv, drift_points, ref, window=window, static_rows=static_rows, baselines=baselines, plot=plot)


def report(cfg, X, yv, drift, ref, *, window=100, static_rows=None, baselines=True, plot=None) -> dict:
    n = len(X)
    preds = ref["predictions"]
    correct = preds == yv
    static_pred = np.full(n, -1)
    oracle_pred = np.full(n, -1)
    if baselines:
        k = int(static_rows or cfg.capacity)
        st = fit_static(cfg, X[:k], yv[:k])
        if st is not None:
            static_pred = predict_any(st, X, cfg.params)
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
        "drift_rows": [int(v) for v in ref.get("drift_rows", [])],
        "accuracy": float(np.mean(correct)),
        "final_accuracy": windows[-1]["learner"] if windows else None,
        "static_final_accuracy": windows[-1]["static"] if windows else None,
        "oracle_final_accuracy": windows[-1]["oracle"] if windows else None,
        "static_accuracy": float(np.mean(static_pred == yv)),
        "oracle_accuracy": float(np.mean(oracle_pred == yv)),
        "predictions": [int(v) for v in preds],
    }
    if lr is not None:
        out.update({"mistakes": lr.n_mistakes, "dropped": lr.n_dropped, "train_iterations": lr.train_iters,
                    "train_sizes": lr.train_sizes[:len(lr.train_iters)]})
        if cfg.warm:   # trainings that started from the kept alphas (the others were cold)
            out.update({"warm": True, "warm_starts": lr.warm_starts})
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
