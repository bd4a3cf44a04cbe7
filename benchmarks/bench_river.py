"""Issue 12 re-measured: microlearn's self-learning loop on streams no one here wrote (river's synthetic
generators and the datasets shipped inside the river package), prequential test-then-train accuracy, side by
side with river's online classifiers. Not a timed test; river is a benchmark-only dependency (the `bench` extra).

    python benchmarks/bench_river.py [--seeds 7,8,9] [--tune-seeds 0,1,2] [--n 6000] [--n-multi 2000]
                                     [--streams led,sea,...] [--jobs 2] [--targets uno,nrf52840] [--board-rows 300]
                                     [--out benchmarks/results/river]

What runs (docs/self-learning.md, "Choosing a policy: measured"):

- streams: river.datasets.synth LED (10 classes, 10 % noise, 17 irrelevant features), LED -> LEDDrift (7 swapped
  segments) at the middle, RandomRBF and RandomRBFDrift (3 classes, 10 features, 50 centroids; drift speed 1e-4),
  Agrawal (function 0), Hyperplane (10 features, mag_change 1e-3, 5 % noise), SEA (variants 0 -> 1 -> 2 -> 3 every
  quarter, 10 % noise), STAGGER (functions 0 -> 1 -> 2 every third), all seeded; river.datasets that ship inside the
  package (load offline): Bananas, ImageSegments, Phishing, in their file order.
- features, as a device would scale them (causal, labels never used): min-max from the first PREFIX (200) rows'
  features, then clipped to [0, 1]; categorical features one-hot (STAGGER's size / colour / shape: 3 x 3 columns;
  Agrawal's elevel: 5 columns; Agrawal's car and zipcode enter none of its class functions and stay one scaled
  column each). Every learner, microlearn's and river's, gets the same float32 rows in the same order.
- microlearn: the reference learners (microlearn.learner.simulate.run_reference: RefLearner / RefOnline, the
  bit-exact twins of mlrn_learner.h / mlrn_online.h), prequential accuracy (each row predicted before its label
  is given; "no model yet" counts as wrong); "static": the same SVM (simulate.fit_static) trained once on the first
  PREFIX rows and never updated, scored on the rows after them (every learner's accuracy on those rows is
  reported too). Memory: the learner's static bytes on the uno from the planner (learner.planner: buffers +
  struct + padding, exact by C name; the stream driver's fixed part left out) and whether it fits an uno.
- river: PAClassifier (PA-II, C 1), LogisticRegression, Perceptron (one-vs-rest above two classes),
  KNNClassifier (5 neighbours, LazySearch window 200), HoeffdingAdaptiveTreeClassifier, GaussianNB; predict_one
  then learn_one on each row. Memory: an estimate of the float32 equivalent of the state (linear: outputs x
  (d + 1) x 4 B; kNN: 200 x (4 d + 1) B; GaussianNB: classes x d x 3 x 4 B; the tree: leaves x classes x d x 3 x
  4 B, a lower bound, with river's own Python-object figure beside it).
- seeds: policies are compared on the tuning seeds (--tune-seeds) and reported on unseen ones (--seeds).
- --targets: a --board-rows prefix of two streams through microlearn.learner.runner.loop on emulated boards
  (agreement with the reference, same events).

Writes river.json, river.md and river.png next to --out.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from microlearn.core import progress as _progress
from microlearn.core.store import affine_from_range
from microlearn.learner import planner as lplanner
from microlearn.learner.config import LearnerConfig
from microlearn.learner.reference import predict_model
from microlearn.learner.simulate import fit_static, run_reference

PREFIX = 200          # rows of the scaling prefix and of the static model's training
KNN_WINDOW = 200
N_SYNTH = 6000

# --- streams -------------------------------------------------------------------------------------------------


def _rows(gen, n):
    return list(itertools.islice(gen, n))


def _table(rows, cols=None, onehot=None):
    """rows of (dict, label) -> raw float64 X (columns in `cols` order, one-hot columns appended), labels."""
    onehot = onehot or {}
    cols = cols or [k for k in rows[0][0] if k not in onehot]
    X = []
    for x, _ in rows:
        r = [float(x[k]) for k in cols]
        for k, levels in onehot.items():
            r += [1.0 if x[k] == v else 0.0 for v in levels]
        X.append(r)
    labels = [t for _, t in rows]
    return np.array(X, np.float64), labels


def _labels(labels):
    """labels (bool, int or str) -> class indices 0..k-1 (sorted distinct values)."""
    values = sorted(set(labels), key=lambda v: (str(type(v)), v))
    idx = {v: i for i, v in enumerate(values)}
    return np.array([idx[v] for v in labels], np.int64), len(values)


def _concat(parts, n):
    """Abrupt concept changes: n rows split evenly over the generators in `parts`."""
    k = len(parts)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    rows, points, at = [], [], 0
    for g, m in zip(parts, sizes):
        rows += _rows(g, m)
        at += m
        points.append(at)
    return rows, points[:-1]


def stream(name: str, seed: int | None, n: int):
    """(X raw float64, y int64, n_classes, drift points, description) of a named stream."""
    from river import datasets
    from river.datasets import synth
    pts = []
    onehot = None
    if name == "led":
        rows = _rows(synth.LED(seed=seed, noise_percentage=0.1, irrelevant_features=True), n)
    elif name == "led_drift":
        rows, pts = _concat([synth.LED(seed=seed, noise_percentage=0.1, irrelevant_features=True),
                             synth.LEDDrift(seed=seed + 1000, noise_percentage=0.1, irrelevant_features=True,
                                            n_drift_features=7)], n)
    elif name == "rbf":
        rows = _rows(synth.RandomRBF(seed_model=seed, seed_sample=seed + 1000, n_classes=3, n_features=10,
                                     n_centroids=50), n)
    elif name == "rbf_drift":
        rows = _rows(synth.RandomRBFDrift(seed_model=seed, seed_sample=seed + 1000, n_classes=3, n_features=10,
                                          n_centroids=50, change_speed=1e-4, n_drift_centroids=50), n)
    elif name == "agrawal":
        rows = _rows(synth.Agrawal(classification_function=0, seed=seed), n)
        onehot = {"elevel": list(range(5))}
    elif name == "hyperplane":
        rows = _rows(synth.Hyperplane(seed=seed, n_features=10, n_drift_features=2, mag_change=1e-3,
                                      noise_percentage=0.05), n)
    elif name == "sea":
        rows, pts = _concat([synth.SEA(variant=v, noise=0.1, seed=seed * 10 + v) for v in range(4)], n)
    elif name == "stagger":
        rows, pts = _concat([synth.STAGGER(classification_function=f, seed=seed * 10 + f) for f in range(3)], n)
        onehot = {"size": [0, 1, 2], "color": [0, 1, 2], "shape": [0, 1, 2]}
    elif name == "bananas":
        rows = list(datasets.Bananas())
    elif name == "image_segments":
        rows = list(datasets.ImageSegments())
    elif name == "phishing":
        rows = list(datasets.Phishing())
    else:
        raise ValueError(f"unknown stream {name!r}")
    X, labels = _table(rows, onehot=onehot)
    if onehot:   # the one-hot columns are the whole categorical feature: drop nothing else
        pass
    y, nc = _labels(labels)
    return X, y, nc, pts


SYNTHETIC = ["led", "led_drift", "rbf", "rbf_drift", "agrawal", "hyperplane", "sea", "stagger"]
DATASETS = ["bananas", "image_segments", "phishing"]   # river.datasets shipped in the package (no download)
MULTI = {"led", "led_drift", "rbf", "rbf_drift", "image_segments"}   # >2 classes: one-vs-one SVMs cost more
DESCRIBE = {
    "led": "LED, 10 classes, 24 binary features (17 irrelevant), 10 % noise",
    "led_drift": "LED, then LEDDrift (7 segments swapped) from the middle",
    "rbf": "RandomRBF, 3 classes, 10 features, 50 centroids",
    "rbf_drift": "RandomRBFDrift, as RandomRBF, 50 centroids moving at 1e-4 per row",
    "agrawal": "Agrawal function 0, 9 attributes -> 13 features (elevel one-hot)",
    "hyperplane": "Hyperplane, 10 features, 2 drifting at 1e-3, 5 % noise",
    "sea": "SEA, variants 0 -> 1 -> 2 -> 3 (abrupt, every quarter), 10 % noise",
    "stagger": "STAGGER, functions 0 -> 1 -> 2 (abrupt, every third), 3 x 3 one-hot",
    "bananas": "river.datasets.Bananas (5,300 rows, 2 features)",
    "image_segments": "river.datasets.ImageSegments (2,310 rows, 18 features, 7 classes)",
    "phishing": "river.datasets.Phishing (1,250 rows, 9 features)",
}


def scale(X: np.ndarray, prefix: int = PREFIX) -> np.ndarray:
    """Causal min-max: the range of the first `prefix` rows' features (labels unused), applied to every row and
    clipped to [0, 1]; a column constant over the prefix maps to 0 (and to 1 above it)."""
    p = X[:prefix]
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip((X - lo) / span, 0.0, 1.0).astype(np.float32)


def prepared(name: str, seed, n: int):
    X, y, nc, pts = stream(name, seed, n)
    return scale(X), y, nc, pts


# --- learners ------------------------------------------------------------------------------------------------

def uno_capacity(d: int, nc: int, storage: str = "int8", **kw) -> int:
    return lplanner.max_learner_capacity("uno", d, nc, storage=storage, **kw)


def ml_learners(d: int, nc: int) -> list[dict]:
    """microlearn configurations (name, LearnerConfig keywords). uno-sized: the planner's largest int8 capacity on
    the uno for this stream's shape (skipped when none fits)."""
    out = [
        {"name": "svm60/window", "model": "svm", "drift": "window", "capacity": 60},
        {"name": "svm60/ddm", "model": "svm", "drift": "ddm", "capacity": 60},
        {"name": "svm200/window", "model": "svm", "drift": "window", "capacity": 200},
        {"name": "svm200/ddm", "model": "svm", "drift": "ddm", "capacity": 200},
        {"name": "svm200/nodrift", "model": "svm", "drift": "window", "capacity": 200, "drift_pct": 0},
        {"name": "online16/window", "model": "online", "drift": "window", "capacity": 16},
        {"name": "online16/ddm", "model": "online", "drift": "ddm", "capacity": 16},
    ]
    for drift in ("window", "ddm"):
        cap = uno_capacity(d, nc, "int8", drift=drift)
        if cap >= 3:
            out.append({"name": f"svm-uno-int8/{drift}", "model": "svm", "drift": drift, "capacity": cap,
                        "storage": "int8"})
    # the kernel learner (MLRN_LEARNER_KERNEL rbf): gamma by scikit-learn's "scale" rule over the scaling prefix's
    # features (1 / (d var), labels unused: run_ml resolves it), not tuned on any stream
    out.append({"name": "rbf60/window", "model": "svm", "drift": "window", "capacity": 60, "kernel": "rbf",
                "gamma": "scale"})
    # with the default detector, and nrf52840-sized (200 float32 rows: ~6 KB of its 256 KB with the snapshot)
    out.append({"name": "rbf60/ddm", "model": "svm", "drift": "ddm", "capacity": 60, "kernel": "rbf",
                "gamma": "scale"})
    out.append({"name": "rbf200/ddm", "model": "svm", "drift": "ddm", "capacity": 200, "kernel": "rbf",
                "gamma": "scale"})
    cap = uno_capacity(d, nc, "int8", kernel="rbf")
    if cap >= 3:
        out.append({"name": "rbf-uno-int8/window", "model": "svm", "drift": "window", "capacity": cap,
                    "storage": "int8", "kernel": "rbf", "gamma": "scale"})
    return out


KERNEL_LEARNERS = ("rbf60/window", "rbf60/ddm", "rbf200/ddm", "rbf-uno-int8/window")


def scale_gamma(X) -> float:
    """scikit-learn's gamma='scale', 1 / (d Var(X)), over the scaling prefix (the rows a device has seen first)."""
    v = float(np.var(X[:PREFIX]))
    return 1.0 / (X.shape[1] * v) if v > 0 else 1.0


def learner_config(spec: dict, d: int, nc: int) -> LearnerConfig:
    kw = {k: v for k, v in spec.items() if k != "name"}
    if kw.get("storage", "float32") != "float32":   # the features' known range after scaling: [0, 1]
        kw["scale"], kw["offset"] = affine_from_range(np.zeros(d), np.ones(d), kw["storage"], d)
    return LearnerConfig(n_features=d, n_classes=nc, **kw)


def uno_bytes(cfg: LearnerConfig) -> tuple[int, bool]:
    """The learner's static SRAM on the uno (planner: buffers + struct + padding, exact by C name, without the
    stream driver's fixed part) and whether the whole program fits the uno."""
    p = lplanner.plan_learner_config(cfg, "uno")
    return int(p.static_ram_bytes - p.static_buffers.get(lplanner.FIXED, 0)), bool(p.fits)


def run_ml(spec: dict, X, y, nc: int) -> dict:
    if spec.get("gamma") == "scale":
        spec = {**spec, "gamma": scale_gamma(X)}
    cfg = learner_config(spec, X.shape[1], nc)
    t0 = time.time()
    ref = run_reference(cfg, X, y)
    pred = ref["predictions"]
    ok = pred == y
    mem, fits = uno_bytes(cfg)
    n = len(y)
    return {"accuracy": float(ok.mean()), "accuracy_after_prefix": float(ok[PREFIX:].mean()),
            "signals": len(ref["drift_rows"]), "signals_per_1000": 1000.0 * len(ref["drift_rows"]) / n,
            "retrains": len(ref["retrains"]), "accepted": len(ref["accepted"]), "rollbacks": len(ref["rollbacks"]),
            "memory_bytes": mem, "memory_kind": "uno static SRAM (planner)", "fits_uno": fits,
            "capacity": cfg.capacity, "storage": cfg.storage, "seconds": round(time.time() - t0, 2),
            "predictions": pred, **({"kernel": cfg.kernel, "gamma": float(cfg.gamma),
                                     "n_sv": ref["learner"].model.n_sv if ref["learner"].model is not None else 0}
                                    if cfg.kernel != "linear" else {})}


def run_static(X, y, nc: int) -> dict:
    """The learner's SVM trained once on the first PREFIX rows (float32 reference), scored on the rows after."""
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc, capacity=PREFIX)
    st = fit_static(cfg, X[:PREFIX], y[:PREFIX])
    pred = predict_model(*st, X) if st is not None else np.full(len(y), -1)
    ok = pred == y
    nsub = len(st[1]) if st is not None else 0
    return {"accuracy": None, "accuracy_after_prefix": float(ok[PREFIX:].mean()), "signals": 0,
            "signals_per_1000": 0.0, "retrains": 0, "memory_bytes": nsub * (X.shape[1] + 1) * 4 + len(st[2] if st else []),
            "memory_kind": "model only: pairs x (d + 1) x 4 B + class map", "fits_uno": None, "capacity": PREFIX,
            "predictions": pred}


RIVER = ["PA-II", "LogisticRegression", "Perceptron", "kNN-200", "HAT", "GaussianNB"]


def _river_model(name: str, nc: int, seed: int):
    from river import linear_model, multiclass, naive_bayes, neighbors, tree
    linear = {"PA-II": lambda: linear_model.PAClassifier(C=1.0, mode=2),
              "LogisticRegression": lambda: linear_model.LogisticRegression(),
              "Perceptron": lambda: linear_model.Perceptron()}
    if name in linear:
        return linear[name]() if nc == 2 else multiclass.OneVsRestClassifier(linear[name]())
    if name == "kNN-200":
        return neighbors.KNNClassifier(n_neighbors=5, engine=neighbors.LazySearch(window_size=KNN_WINDOW))
    if name == "HAT":
        return tree.HoeffdingAdaptiveTreeClassifier(seed=seed)
    if name == "GaussianNB":
        return naive_bayes.GaussianNB()
    raise ValueError(name)


def river_memory(name: str, model, d: int, nc: int) -> tuple[int, str]:
    outs = 1 if nc == 2 else nc
    if name in ("PA-II", "LogisticRegression", "Perceptron"):
        return outs * (d + 1) * 4, "estimate: outputs x (d + 1) float32"
    if name == "kNN-200":
        return KNN_WINDOW * (4 * d + 1), "estimate: 200 rows x (d float32 + 1 B label)"
    if name == "GaussianNB":
        return nc * d * 3 * 4 + nc * 4, "estimate: classes x d x (count, mean, var) float32"
    if name == "HAT":
        leaves = int(getattr(model, "n_leaves", 1) or 1)
        raw = getattr(model, "_raw_memory_usage", None)
        return leaves * nc * d * 3 * 4, (f"lower bound: {leaves} leaves x classes x d x 3 float32 (river's "
                                         f"Python objects: {raw:,} B)" if raw else f"lower bound: {leaves} leaves")
    raise ValueError(name)


def run_river(name: str, X, y, nc: int, seed: int = 0) -> dict:
    """Prequential: predict_one (None before the first learn_one counts as wrong), then learn_one, row by row."""
    model = _river_model(name, nc, seed)
    t0 = time.time()
    pred = np.full(len(y), -1, np.int64)
    for i in range(len(y)):
        xi = {j: float(v) for j, v in enumerate(X[i])}
        p = model.predict_one(xi)
        if p is not None:
            pred[i] = int(p)
        model.learn_one(xi, bool(y[i]) if nc == 2 else int(y[i]))
    ok = pred == y
    mem, kind = river_memory(name, model, X.shape[1], nc)
    return {"accuracy": float(ok.mean()), "accuracy_after_prefix": float(ok[PREFIX:].mean()), "signals": None,
            "signals_per_1000": None, "retrains": None, "memory_bytes": mem, "memory_kind": kind, "fits_uno": None,
            "seconds": round(time.time() - t0, 2), "predictions": pred}


# --- the run -------------------------------------------------------------------------------------------------

_CACHE: dict = {}


def _data(name, seed, n):
    key = (name, seed, n)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = prepared(name, seed, n)
    return _CACHE[key]


def run_case(case: dict) -> dict:
    """One (stream, seed, learner) case; returns its figures (predictions dropped unless keep_predictions)."""
    X, y, nc, pts = _data(case["stream"], case["seed"], case["n"])
    kind = case["kind"]
    if kind == "microlearn":
        r = run_ml(case["spec"], X, y, nc)
    elif kind == "static":
        r = run_static(X, y, nc)
    else:
        r = run_river(case["learner"], X, y, nc, seed=case["seed"] or 0)
    if not case.get("keep_predictions"):
        r.pop("predictions")
    else:
        r["predictions"] = [int(v) for v in r["predictions"]]
    out = {k: v for k, v in case.items() if k != "spec"}
    out.update({"rows": len(y), "n_features": int(X.shape[1]), "n_classes": nc, "drift_points": pts, **r})
    return out


def cases_for(streams, seeds, tune_seeds, n, n_multi, river=True) -> list[dict]:
    out = []
    for s in streams:
        synth = s in SYNTHETIC
        rows = (n_multi if s in MULTI else n) if synth else None
        rows_for_load = rows or 10 ** 6
        X, y, nc, _ = prepared(s, 0 if synth else None, min(rows_for_load, 400))
        d = X.shape[1]
        nc = max(nc, {"led": 10, "led_drift": 10, "rbf": 3, "rbf_drift": 3}.get(s, nc))
        groups = [("unseen", seeds), ("tuning", tune_seeds)] if synth else [("dataset", [None])]
        for role, ss in groups:
            for seed in ss:
                base = {"stream": s, "seed": seed, "role": role, "n": rows_for_load}
                for spec in ml_learners(d, nc):
                    out.append({**base, "kind": "microlearn", "learner": spec["name"], "spec": spec})
                out.append({**base, "kind": "static", "learner": f"static{PREFIX}"})
                if river and role != "tuning":
                    for r in RIVER:
                        out.append({**base, "kind": "river", "learner": r})
    return out


def _priority(c) -> tuple:
    """Run order: what the report needs first (cheap learners, unseen seeds, binary streams), the long
    one-vs-one SVM cases last; with --resume an interrupted run keeps everything finished so far."""
    cheap = c["kind"] != "microlearn" or c["spec"]["model"] == "online"
    svm = c.get("spec", {})
    big = svm.get("capacity", 0) > 100 or svm.get("drift_pct") == 0
    multi = c["stream"] in MULTI
    seed = {None: 0, 7: 0, 8: 1, 9: 2, 0: 3, 1: 4, 2: 5}.get(c["seed"], 6)
    if multi:   # seed by seed: a complete table for the first seeds before the next
        return (not cheap, multi, c["role"] == "tuning", seed, big, svm.get("drift_pct") == 0)
    return (not cheap, multi, c["role"] == "tuning", big, seed, False)


def case_key(c) -> str:
    return f"{c['stream']}|{c['seed']}|{c['learner']}|{c['n']}"


def run_all(cases, jobs: int, log: Path | None = None) -> list[dict]:
    """Every case, in _priority order, on `jobs` processes; each result is appended to `log` (JSON lines) as it
    comes, and cases already in `log` are not run again."""
    done = {}
    if log is not None and log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done[case_key(r)] = r
    todo = sorted([c for c in cases if case_key(c) not in done], key=_priority)
    results = [done[case_key(c)] for c in cases if case_key(c) in done]
    fh = log.open("a") if log is not None else None
    try:
        with _progress.progress(len(todo), "bench_river") as p:
            def got(r):
                results.append(r)
                if fh is not None:
                    fh.write(json.dumps(r) + "\n")
                    fh.flush()
                p.advance(detail=f"{r['stream']} {r['learner']}")
            if jobs <= 1:
                for c in todo:
                    got(run_case(c))
            else:
                import multiprocessing as mp
                with mp.get_context("fork").Pool(jobs) as pool:
                    for r in pool.imap_unordered(run_case, todo, chunksize=1):
                        got(r)
    finally:
        if fh is not None:
            fh.close()
    return results


def board_check(targets, rows: int) -> list[dict]:
    """A prefix of two streams through learner.runner.loop on emulated boards (agreement, same events)."""
    from microlearn.learner.runner import loop
    out = []
    plan = [("sea", 7, {"model": "svm", "drift": "window", "capacity": 40}),
            ("phishing", None, {"model": "svm", "drift": "ddm", "capacity": None, "storage": "int8"}),
            ("phishing", None, {"model": "online", "drift": "window", "capacity": 16}),
            ("bananas", None, {"model": "svm", "drift": "window", "capacity": None, "storage": "int8", "kernel": "rbf",
                               "gamma": "scale"})]
    for name, seed, kw in plan:
        X, y, nc, _ = prepared(name, seed, rows)
        X, y = X[:rows], y[:rows]
        kw = dict(kw)
        if kw.get("gamma") == "scale":
            kw["gamma"] = scale_gamma(X)
        if kw.get("capacity") is None:   # the kernel learner: the uno's largest (the linear ones: at most 60)
            kern = {"kernel": kw["kernel"]} if "kernel" in kw else {}
            cap = uno_capacity(X.shape[1], nc, kw.get("storage", "float32"), drift=kw["drift"], **kern)
            kw["capacity"] = cap if kern else min(60, cap)
        if kw.get("storage", "float32") != "float32":
            kw["feature_range"] = (np.zeros(X.shape[1]), np.ones(X.shape[1]))
        for tgt in targets:
            t0 = time.time()
            rep = loop((X, y), tgt, n_classes=nc, baselines=False, window=100, **kw)
            out.append({"stream": name, "seed": seed, "rows": rows, "target": tgt,
                        **{k: v for k, v in kw.items() if k != "feature_range"},
                        "agreement": rep["agreement"], "same_events": rep["same_events"], "accuracy": rep["accuracy"],
                        "drifts": rep["drifts"], "retrains": len(rep["retrains"]), "sram_bytes": rep["sram_bytes"],
                        "static_ram_bytes": rep["static_ram_bytes"], "flash_bytes": rep["flash_bytes"],
                        "seconds": round(time.time() - t0, 1)})
            print(f"  {tgt:<9} {name:<9} {kw['model']}/{kw['drift']}{' ' + kw['kernel'] if 'kernel' in kw else ''} "
                  f"cap {kw['capacity']} "
                  f"{kw.get('storage', 'float32')}: agreement {rep['agreement']} same_events {rep['same_events']} "
                  f"drifts {rep['drifts']} SRAM {rep['sram_bytes']} B", flush=True)
    return out


# --- the report ----------------------------------------------------------------------------------------------

def summarise(results, role_names=("unseen", "dataset")) -> dict:
    """Per stream x learner: mean, min, max of accuracy (and after-prefix accuracy), signals/1000, retrains, memory
    over the runs of the given roles."""
    table: dict = {}
    for r in results:
        if r["role"] not in role_names:
            continue
        table.setdefault(r["stream"], {}).setdefault(r["learner"], []).append(r)
    out = {}
    for s, by in table.items():
        out[s] = {}
        for lrn, rs in by.items():
            def stat(key):
                v = [x[key] for x in rs if x.get(key) is not None]
                return None if not v else {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)),
                                           "n": len(v)}
            out[s][lrn] = {k: stat(k) for k in ("accuracy", "accuracy_after_prefix", "signals_per_1000", "retrains",
                                                "memory_bytes")}
            out[s][lrn]["fits_uno"] = rs[0].get("fits_uno")
            out[s][lrn]["capacity"] = rs[0].get("capacity")
    return out


def _fmt_acc(st, pct=True):
    if st is None:
        return "-"
    m = st["mean"] * 100
    if st["n"] > 1:
        return f"{m:.1f} ±{(st['max'] - st['min']) * 50:.1f}"
    return f"{m:.1f}"


def learner_order(results):
    ml = list(dict.fromkeys(r["learner"] for r in results if r["kind"] == "microlearn"))
    ml = [x for x in ["svm60/window", "svm60/ddm", "svm200/window", "svm200/ddm", "svm200/nodrift",
                      "svm-uno-int8/window", "svm-uno-int8/ddm", "online16/window", "online16/ddm",
                      *KERNEL_LEARNERS] if x in ml]
    return ml + [f"static{PREFIX}"] + [r for r in RIVER if any(x["learner"] == r for x in results)]


def ranking(summary, learners, streams) -> list[tuple[str, float, int]]:
    """Mean accuracy over the streams where every listed learner ran, and how many streams it wins or ties."""
    common = [s for s in streams if s in summary and all(l in summary[s] and summary[s][l]["accuracy"] for l in learners)]
    rows = []
    for l in learners:
        accs = [summary[s][l]["accuracy"]["mean"] for s in common]
        rows.append((l, float(np.mean(accs)) if accs else float("nan"), len(common)))
    return sorted(rows, key=lambda t: -t[1])


def markdown(doc) -> str:
    res = doc["results"]
    summ = summarise(res)
    tune = summarise(res, ("tuning",))
    streams = [s for s in SYNTHETIC + DATASETS if s in summ]
    learners = learner_order(res)
    L = [f"# microlearn on river's streams (issue 12 re-measured)", "",
         f"Command: `{doc['command']}` ({doc['seconds']:.0f} s, {doc['jobs']} processes; {doc['python']}, river "
         f"{doc['river']}). Numbers from that run only; every figure is in `river.json`.", "",
         "Accuracy: prequential (test-then-train, %), mean over the unseen seeds "
         f"{doc['seeds']} (± half the range) for the synthetic streams; one pass in file order for the datasets. "
         f"static{PREFIX} is scored on the rows after its {PREFIX} training rows; the column "
         f"'after {PREFIX}' of the second table gives every learner on those same rows.", "",
         "Streams:", ""]
    for s in streams:
        r0 = next(r for r in res if r["stream"] == s)
        L.append(f"- `{s}`: {DESCRIBE[s]}; {r0['rows']} rows, {r0['n_features']} features after one-hot, "
                 f"{r0['n_classes']} classes" + (f", drifts at {r0['drift_points']}" if r0["drift_points"] else ""))
    L += ["", "## Prequential accuracy (%)", "", "| learner | " + " | ".join(streams) + " |",
          "|---|" + "---|" * len(streams)]
    for l in learners:
        cells = []
        for s in streams:
            st = summ[s].get(l)
            key = "accuracy_after_prefix" if l.startswith("static") else "accuracy"
            cells.append(_fmt_acc(st[key]) if st else "n/a")
        L.append(f"| {l} | " + " | ".join(cells) + " |")
    short = sorted({f"{s} {l} ({summ[s][l]['accuracy']['n']})" for s in streams if s in SYNTHETIC for l in summ[s]
                    if summ[s][l]["accuracy"] and summ[s][l]["accuracy"]["n"] < len(doc["seeds"])})
    if short:
        L += ["", "Run on fewer unseen seeds than asked (the run was stopped; seeds run in brackets): " + ", ".join(short)
              + ". A single seed has no ±."]
    L += ["", f"## Accuracy on the rows after the first {PREFIX} (%), against the static model", "",
          "| learner | " + " | ".join(streams) + " |", "|---|" + "---|" * len(streams)]
    for l in learners:
        L.append(f"| {l} | " + " | ".join(_fmt_acc(summ[s][l]["accuracy_after_prefix"]) if l in summ[s] else "n/a"
                                        for s in streams) + " |")
    L += ["", "## Drift signals per 1,000 rows (microlearn learners; mean over seeds)", "",
          "| learner | " + " | ".join(streams) + " |", "|---|" + "---|" * len(streams)]
    for l in learners:
        if not any(l in summ[s] and summ[s][l]["signals_per_1000"] and res for s in streams) and "/" not in l:
            continue
        L.append(f"| {l} | " + " | ".join(f"{summ[s][l]['signals_per_1000']['mean']:.1f}"
                                        if l in summ[s] and summ[s][l]["signals_per_1000"] else "-" for s in streams) + " |")
    L += ["", "## Retrains per stream (mean)", "", "| learner | " + " | ".join(streams) + " |",
          "|---|" + "---|" * len(streams)]
    for l in learners:
        if "/" not in l:
            continue
        L.append(f"| {l} | " + " | ".join(f"{summ[s][l]['retrains']['mean']:.0f}"
                                        if l in summ[s] and summ[s][l]["retrains"] else "-" for s in streams) + " |")
    L += ["", "## Memory (bytes)", "",
          "microlearn: the learner's static SRAM on the uno (planner, exact by C name: buffers, struct, padding; "
          "the stream driver's fixed part left out); * = the whole loop program fits an uno (2 KB). static: the "
          "model alone. river: estimates of the float32 equivalent of the state (see `memory_kind` in the JSON); "
          "HAT: a lower bound.", "",
          "| learner | " + " | ".join(streams) + " |", "|---|" + "---|" * len(streams)]
    for l in learners:
        cells = []
        for s in streams:
            st = summ[s].get(l)
            if not st or not st["memory_bytes"]:
                cells.append("-")
                continue
            m = st["memory_bytes"]["mean"]
            cells.append(f"{m:,.0f}" + ("*" if st.get("fits_uno") else "")
                         + (f" (cap {st['capacity']})" if "-uno-" in l else ""))
        L.append(f"| {l} | " + " | ".join(cells) + " |")
    # policy choice: tuning seeds vs unseen seeds
    pol = [l for l in learners if "/" in l and not l.startswith("svm-uno") and l != "svm200/nodrift"
           and l not in KERNEL_LEARNERS]   # the drift policies of the linear learner
    syn = [s for s in SYNTHETIC if s in summ]
    if tune:
        both = [s for s in syn if s in tune and all(l in summ[s] and l in tune[s] for l in pol)]
        L += ["", "## Choosing the policy: tuning seeds vs unseen seeds", "",
              f"Mean accuracy (%) over the synthetic streams where every policy ran on both seed sets ({', '.join(both)}; "
              f"each stream weighs the same), tuning seeds {doc['tune_seeds']} vs unseen seeds {doc['seeds']}; then the "
              "unseen seeds over every synthetic stream where every policy ran, and with the datasets:", "",
              "| policy | tuning | unseen, same streams | unseen, all synthetic | unseen + datasets |", "|---|---|---|---|---|"]
        rt = dict((l, a) for l, a, _ in ranking(tune, pol, both))
        ru = dict((l, a) for l, a, _ in ranking(summ, pol, both))
        rs = dict((l, a) for l, a, _ in ranking(summ, pol, syn))
        ra = dict((l, a) for l, a, _ in ranking(summ, pol, streams))
        for l in sorted(pol, key=lambda x: -rt.get(x, 0)):
            L.append(f"| {l} | {rt.get(l, float('nan')) * 100:.1f} | {ru.get(l, float('nan')) * 100:.1f} | "
                     f"{rs.get(l, float('nan')) * 100:.1f} | {ra.get(l, float('nan')) * 100:.1f} |")
        uno = [l for l in learners if l.startswith("svm-uno") or l.startswith("online")]
        common = [s for s in streams if all(l in summ[s] for l in uno)]
        if common:
            L += ["", f"uno-sized learners on the streams where all of them fit ({', '.join(common)}), unseen seeds "
                  "and datasets:", "", "| learner | mean accuracy | uno static SRAM (mean) |", "|---|---|---|"]
            for l in uno:
                L.append(f"| {l} | {np.mean([summ[s][l]['accuracy']['mean'] for s in common]) * 100:.1f} | "
                         f"{np.mean([summ[s][l]['memory_bytes']['mean'] for s in common]):,.0f} |")
    L += issue_lines(summ)
    L += kernel_uno_lines()
    if doc.get("boards"):
        L += ["", f"## On emulated boards (the first {doc['board_rows']} rows)", "",
              "| stream | board | learner | capacity | storage | agreement | same events | drifts | SRAM B |",
              "|---|---|---|---|---|---|---|---|---|"]
        for b in doc["boards"]:
            L.append(f"| {b['stream']} | {b['target']} | {b['model']}/{b['drift']}"
                     f"{' ' + b['kernel'] if b.get('kernel') else ''} | {b['capacity']} | "
                     f"{b.get('storage', 'float32')} | {b['agreement']} | {b['same_events']} | {b['drifts']} | "
                     f"{b['sram_bytes']} |")
    return "\n".join(L) + "\n"


def kernel_uno_lines(d: int = 4) -> list[str]:
    """Issue 12's uno goal for the kernel learner: the largest capacity of a d-feature, two-class int8 rbf learner
    on the uno (2 KB), with microlearn's stream driver and inside an Arduino sketch (the Arduino core, Serial and the
    serial protocol: the measured fixed part of a generated loop sketch, deploy/sketch_calibration.json, and its
    link buffers), from the planners. The kernel code's flash and stack come from the "kernel" section of the
    learner calibration (tools/calibrate.py, _learner_kernel); without it the figures would leave them out."""
    from microlearn.deploy.sketch import _reply_bytes
    from microlearn.deploy.sketch_plan import plan_sketch
    cal = lplanner.learner_calibration()["boards"].get("uno", {})
    calibrated = "rbf" in cal.get("kernel", {})
    drv = uno_capacity(d, 2, "int8", kernel="rbf")
    pl = lplanner.plan_learner("uno", d, drv, 2, storage="int8", kernel="rbf")
    best = None
    for cap in range(3, drv + 1):
        try:
            cfg = lplanner.learner_config(d, cap, 2, storage="int8", kernel="rbf")
        except ValueError:
            continue
        sk = plan_sketch("loop", "uno", n_features=d, n_classes=2, capacity=cap, table_bytes=0,
                         reply_bytes=_reply_bytes("loop"), learner=cfg)
        if sk.fits:
            best = (cap, cfg, sk)
    L = ["", f"## The kernel learner on the uno ({d} features, 2 classes, int8 storage, rbf)", "",
         "From the planners (static SRAM exact by C name; flash and stack calibrated"
         + ("" if calibrated else ": NOT CALIBRATED for kernel learners here, the kernel code's flash and stack are "
                                  "left out") + "):", "",
         f"- with microlearn's stream driver (`microlearn loop --target uno`): up to capacity {drv} "
         f"({pl.train_capacity} + {pl.hold_capacity}): static {pl.static_ram_bytes:,} B + stack {pl.stack_bytes} B "
         f"= {pl.sram_bytes:,} B of 2,048; flash {pl.flash_bytes:,} B."]
    if best:
        cap, cfg, sk = best
        L.append(f"- in an Arduino sketch with Serial (the generated loop sketch's measured core + Serial + protocol: "
                 f"{sk.fixed['static']} B static plus its link buffers): up to capacity {cap} ({cfg.train_capacity} + "
                 f"{cfg.hold_capacity}): {sk.sram_bytes:,} B of SRAM (static {sk.static_ram_bytes:,} + stack "
                 f"{sk.stack_bytes}), flash {sk.flash_bytes:,} B. (`microlearn sketch` does not write kernel "
                 f"learners yet: a planner figure, not a built sketch.)")
    return L


def issue_lines(summ) -> list[str]:
    """Issue 12's bullets, each with today's figures from `summ` (unseen seeds and datasets)."""
    def g(s, l, key="accuracy", scale=100.0):
        st = summ.get(s, {}).get(l, {}).get(key)
        return None if st is None else st["mean"] * scale

    def f(v, fmt="{:.1f}"):
        return "not run" if v is None else fmt.format(v)
    L = ["", "## Issue 12, bullet by bullet (today's figures)", ""]
    sig = lambda s, l: g(s, l, "signals_per_1000", 6.0)   # noqa: E731  signals per 6,000 rows
    L.append("- Drift signals per 6,000 rows (signals/1000 x 6): " + "; ".join(
        f"{s}: window {f(sig(s, 'svm200/window'), '{:.0f}')} (capacity 60: {f(sig(s, 'svm60/window'), '{:.0f}')}), "
        f"DDM {f(sig(s, 'svm200/ddm'), '{:.0f}')} (capacity 60: {f(sig(s, 'svm60/ddm'), '{:.0f}')})"
        for s in ("led", "rbf_drift", "bananas")) + ".")
    L.append(f"- LED at capacity 200: window {f(g('led', 'svm200/window'))} %, DDM {f(g('led', 'svm200/ddm'))} %, "
             f"no detector {f(g('led', 'svm200/nodrift'))} %; river's PA-II {f(g('led', 'PA-II'))} %.")
    best = lambda s: max(((g(s, l), l) for l in summ.get(s, {})   # noqa: E731
                          if "/" in l and g(s, l) is not None), default=(None, "-"))
    for s, peer in (("bananas", "kNN-200"), ("rbf_drift", "kNN-200"), ("agrawal", "HAT"), ("rbf", "kNN-200")):
        b, bl = best(s)
        L.append(f"- {s}: best microlearn learner {bl} {f(b)} %, river's {peer} {f(g(s, peer))} %.")
    L.append(f"- image_segments (stationary), rows after the first {PREFIX}: static{PREFIX} "
             f"{f(g('image_segments', f'static{PREFIX}', 'accuracy_after_prefix'))} %; " + ", ".join(
                 f"{l} {f(g('image_segments', l, 'accuracy_after_prefix'))} %" for l in
                 ("svm60/window", "svm60/ddm", "svm200/window", "svm200/ddm", "online16/window", "online16/ddm")) + ".")
    for s in ("bananas", "rbf_drift", "agrawal"):
        if any(l in summ.get(s, {}) for l in KERNEL_LEARNERS):
            uno = summ[s].get("rbf-uno-int8/window", {})
            L.append(f"- Kernel learner on {s}: rbf60/window {f(g(s, 'rbf60/window'))} % (linear svm60/window "
                     f"{f(g(s, 'svm60/window'))} %); uno-sized rbf int8 (capacity {uno.get('capacity')}) "
                     f"{f(g(s, 'rbf-uno-int8/window'))} %; river's kNN-200 {f(g(s, 'kNN-200'))} %, HAT "
                     f"{f(g(s, 'HAT'))} %.")
    m = lambda s, l: g(s, l, "memory_bytes", 1.0)   # noqa: E731
    fits = summ.get("phishing", {}).get("svm60/window", {}).get("fits_uno")
    L.append(f"- Memory: phishing (9 features) svm60/window float32: {f(m('phishing', 'svm60/window'), '{:,.0f}')} B "
             f"static, fits an uno: {fits}; the uno-sized int8 learner: capacity "
             f"{summ.get('phishing', {}).get('svm-uno-int8/window', {}).get('capacity')}, "
             f"{f(m('phishing', 'svm-uno-int8/window'), '{:,.0f}')} B, {f(g('phishing', 'svm-uno-int8/window'))} %. "
             f"Hyperplane: PA-II {f(g('hyperplane', 'PA-II'))} % with ~{f(m('hyperplane', 'PA-II'), '{:,.0f}')} B of "
             f"weights; svm60/window {f(g('hyperplane', 'svm60/window'))} % with "
             f"{f(m('hyperplane', 'svm60/window'), '{:,.0f}')} B; online16/ddm {f(g('hyperplane', 'online16/ddm'))} % "
             f"with {f(m('hyperplane', 'online16/ddm'), '{:,.0f}')} B.")
    return L


def plot(doc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    res = doc["results"]
    summ = summarise(res)
    streams = [s for s in SYNTHETIC + DATASETS if s in summ]
    learners = [l for l in learner_order(res) if l != "svm200/nodrift"]
    fig, ax = plt.subplots(figsize=(14, 4.8))
    w = 0.85 / len(learners)
    cmap = plt.get_cmap("tab20")
    for k, l in enumerate(learners):
        key = "accuracy_after_prefix" if l.startswith("static") else "accuracy"
        m = [summ[s][l][key]["mean"] if l in summ[s] and summ[s][l][key] else np.nan for s in streams]
        lo = [summ[s][l][key]["mean"] - summ[s][l][key]["min"] if l in summ[s] and summ[s][l][key] else 0
              for s in streams]
        hi = [summ[s][l][key]["max"] - summ[s][l][key]["mean"] if l in summ[s] and summ[s][l][key] else 0
              for s in streams]
        xs = np.arange(len(streams)) - 0.425 + (k + 0.5) * w
        ax.bar(xs, m, w, yerr=[lo, hi], label=l, color=cmap(k % 20), error_kw={"lw": 0.6})
    ax.set_xticks(range(len(streams)))
    ax.set_xticklabels(streams, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("prequential accuracy")
    ax.set_title(f"microlearn (reference learners) vs river, unseen seeds {doc['seeds']}; datasets: one pass",
                 fontsize=9)
    ax.legend(fontsize=6.5, ncol=8, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="7,8,9", help="unseen seeds (reported)")
    ap.add_argument("--tune-seeds", default="0,1,2", help="tuning seeds (policies compared; '' for none)")
    ap.add_argument("--n", type=int, default=N_SYNTH, help="rows of a binary synthetic stream")
    ap.add_argument("--n-multi", type=int, default=N_SYNTH, help="rows of a multi-class synthetic stream")
    ap.add_argument("--streams", default=",".join(SYNTHETIC + DATASETS))
    ap.add_argument("--no-river", action="store_true")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--targets", default="", help="emulated boards for the agreement check (e.g. uno,nrf52840)")
    ap.add_argument("--board-rows", type=int, default=300)
    ap.add_argument("--boards-json", metavar="PATH", help="with --targets: also write the board check here; without: "
                                                          "read it from here (a check run apart from the streams)")
    ap.add_argument("--boards-only", action="store_true", help="only the board check (--targets, --boards-json)")
    ap.add_argument("--out", default="benchmarks/results/river")
    ap.add_argument("--resume", metavar="JSONL", help="append each result here as it finishes; skip cases already there")
    ap.add_argument("--report-only", action="store_true", help="no new runs: the report from --resume's results")
    ap.add_argument("--learners", default="",
                    help="run only these learners' cases (comma-separated names, e.g. rbf60/window); with --resume the "
                         "others' results already there are kept for a later --report-only")
    ap.add_argument("--nodrift-streams", default="led", help="streams that also run svm200 without a drift detector")
    a = ap.parse_args(argv)
    import river
    targets = [t for t in a.targets.split(",") if t]
    if a.boards_only:
        boards = board_check(targets, a.board_rows)
        Path(a.boards_json).write_text(json.dumps({"command": "python benchmarks/bench_river.py " + " ".join(argv or []),
                                                   "boards": boards}, indent=1))
        return
    seeds = [int(v) for v in a.seeds.split(",") if v]
    tune = [int(v) for v in a.tune_seeds.split(",") if v]
    names = [s for s in a.streams.split(",") if s]
    t0 = time.time()
    cases = cases_for(names, seeds, tune, a.n, a.n_multi, river=not a.no_river)
    print(f"{len(cases)} cases", file=sys.stderr)
    cases = [c for c in cases if c["learner"] != "svm200/nodrift" or c["stream"] in a.nodrift_streams.split(",")]
    if a.learners:
        cases = [c for c in cases if c["learner"] in a.learners.split(",")]
    log = Path(a.resume) if a.resume else None
    if a.report_only:
        keys = {case_key(c) for c in cases}
        results = [r for r in map(json.loads, log.read_text().splitlines()) if case_key(r) in keys]
    else:
        results = run_all(cases, a.jobs, log)
    boards = board_check(targets, a.board_rows) if targets else []
    if not targets and a.boards_json and Path(a.boards_json).exists():
        boards = json.loads(Path(a.boards_json).read_text())["boards"]
    doc = {"command": "python benchmarks/bench_river.py " + " ".join(argv or []), "cases": len(cases),
           "cases_run": len(results), "seeds": seeds, "tune_seeds": tune,
           "n": a.n, "n_multi": a.n_multi, "prefix": PREFIX, "jobs": a.jobs, "python": platform.python_version(),
           "river": river.__version__, "results": results, "boards": boards, "board_rows": a.board_rows,
           "seconds": round(time.time() - t0, 1)}
    doc["summary_unseen"] = summarise(results)
    doc["summary_tuning"] = summarise(results, ("tuning",))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    out.with_suffix(".md").write_text(markdown(doc))
    plot(doc, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')}, {out.with_suffix('.md')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main(sys.argv[1:])
