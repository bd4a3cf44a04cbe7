"""One task, run on a Dask worker with the product functions themselves: `train` is
trainer.runner.train_and_report on a target, `loop` is learner.runner.loop on a target, `reference` is
learner.simulate.simulate (the bit-exact Python reference learner, no toolchain needed). A task never
raises: what went wrong becomes the record's status and message, so one failing configuration (or a
worker without the toolchain) is reported in its row and the sweep goes on."""
from __future__ import annotations

import socket
import time
import warnings

import numpy as np

from microlearn.data import streams
from microlearn.data.datasets import load, split
from microlearn.learner.runner import loop
from microlearn.learner.simulate import simulate
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit, TargetError, TargetUnavailable
from microlearn.trainer.planner import STORAGES, max_capacity
from microlearn.trainer.runner import train_and_report

from .keys import fingerprint
from .user_data import verify
from .spec import LEARNER_PARAMS, TRAINER_PARAMS

# Statuses that say something about the machine rather than the configuration: never cached, so a
# rerun (on a worker that has the tools, after a fix) computes them again.
TRANSIENT = ("error", "unavailable")


def check_tools(target: str) -> None:
    """TargetUnavailable (with the install hint) when this worker lacks the target's compiler or
    emulator: the targets' own checks."""
    get_target(target).check()


def runtime_mismatch(task: dict) -> dict | None:
    """An error record when this worker's microlearn is not the client's (task["runtime"], set by the
    client, is not part of the key): its results would be cached under the client's fingerprint."""
    expected = task.get("runtime")
    if expected is not None and expected != fingerprint():
        return {"status": "error", "fingerprint": fingerprint(),
                "message": f"worker {socket.gethostname()} runs another microlearn (runtime {fingerprint()}, the "
                           f"client's is {expected}): install the same version on every worker"}
    return None


def run_task(task: dict, shared: dict | None = None) -> dict:
    """The task's record: the measures, `status` (the trainer's status, or ok / does_not_fit / error /
    unavailable) and `message`, the wall time, and the fingerprint of the runtime this worker holds.
    shared: the spec's own datasets by name (user_data.UserData), scattered to the workers once."""
    wrong = runtime_mismatch(task)
    if wrong is not None:
        return wrong
    t0 = time.perf_counter()
    p = task["params"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if "target" in p:
                check_tools(p["target"])
            rec = RUNNERS[task["kind"]](p, task, shared or {})
        except TargetUnavailable as exc:
            rec = {"status": "unavailable", "message": f"{_line(exc)} (worker {socket.gethostname()})"}
        except DoesNotFit as exc:
            rec = {"status": "does_not_fit", "message": _line(exc)}
        except (TargetError, ValueError, FloatingPointError, ArithmeticError, MemoryError) as exc:
            rec = {"status": "error", "message": _line(exc) or type(exc).__name__}
        except Exception as exc:     # a bug in a product: still one task's row, not the whole sweep
            rec = {"status": "error", "message": f"internal error: {type(exc).__name__}: {_line(exc)}"}
    if caught and not rec.get("message"):
        rec["message"] = "warning: " + _line(caught[0].message)
    rec["wall_seconds"] = round(time.perf_counter() - t0, 4)
    rec["fingerprint"] = fingerprint()
    return rec


def _line(exc) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:500]


# ---- train: the dataset split as the benchmark does (tools/experiments.data), then train_and_report
def own_data(p: dict, shared: dict | None, name: str):
    """The spec's dataset `name` when the task was keyed with one (its rows checked against the key)."""
    if "data_sha256" not in p:
        return None
    data = (shared or {}).get(name)
    if data is None:
        raise ValueError(f"dataset {name}: its rows did not reach this worker")
    verify(data, p["data_sha256"])
    return data


def training_data(p: dict, shared: dict | None = None):
    own = own_data(p, shared, p["dataset"])
    X, y = (own.X, own.y) if own is not None else load(p["dataset"])
    X_tr, X_te, y_tr, y_te = split(X, y, p["test_size"], shuffle=p["split"] == "shuffled", seed=p["split_seed"])
    if p["scale"] == "minmax":    # the training part's range, applied to the test part too
        lo, hi = X_tr.min(axis=0), X_tr.max(axis=0)
        rng = np.where(hi > lo, hi - lo, 1.0)
        X_tr, X_te = (X_tr - lo) / rng, (X_te - lo) / rng
    n = len(X_tr) if p["n"] == "all" else p["n"]
    if n > len(X_tr):
        raise ValueError(f"n = {n}, but the training part of {p['dataset']} has {len(X_tr)} rows")
    return X_tr[:n], X_te, y_tr[:n], y_te


def widest_storage(target: str, p: dict, n_features: int, n_classes: int, capacity: int) -> str:
    """storage = "auto": the widest type in which `capacity` samples fit the board (the planner); float32 on
    the host. ValueError-free: the narrowest when none fits (the planner then refuses with its figures)."""
    if target == "host":
        return "float32"
    for st in STORAGES:
        if max_capacity(target, n_features, n_classes, kernel=p["kernel"], storage=st, solver=p["solver"],
                        multiclass=p.get("multiclass", "ovo")) >= capacity:
            return st
    return STORAGES[-1]


def run_train(p: dict, task: dict, shared: dict) -> dict:
    X_tr, X_te, y_tr, y_te = training_data(p, shared)
    capacity = len(X_tr) if p["capacity"] == "n" else p["capacity"]
    n_classes = len(np.unique(y_tr))
    storage = p["storage"]
    if storage == "auto":
        storage = widest_storage(p["target"], p, X_tr.shape[1], n_classes, capacity)
    est = {k: p[k] for k in TRAINER_PARAMS if k in p}
    r = train_and_report(X_tr, y_tr, X_te, y_te, p["target"], capacity=capacity, timeout=task["timeout"],
                         storage=storage, **est)
    rec = {k: v for k, v in r.items() if not k.startswith("_") and _scalar(v)}
    rec["n_classes"] = len(r["classes"])
    return rec


# ---- loop and reference: a seeded drift scenario (data/streams.py), its first `rows` rows
def stream_for(p: dict, shared: dict | None = None):
    """(X, y class indices, drift points) of the task's stream: a seeded synthetic scenario, or the spec's own
    CSV stream in file order (its drift points unknown: none)."""
    rows = p["rows"]
    own = own_data(p, shared, p["scenario"])
    if own is not None:
        return own.X[:rows], own.class_indices()[:rows], []
    s = streams.make(p["scenario"], seed=p["stream_seed"], n_features=p["n_features"])
    return s.X[:rows], s.y[:rows], [d for d in s.drift_points if d < rows]


def learner_options(p: dict) -> dict:
    return {k: p[k] for k in LEARNER_PARAMS if k in p}


def event_counts(r: dict) -> dict:
    """Lists of rows become counts (the table holds one value per cell)."""
    rec = {k: v for k, v in r.items() if _scalar(v)}
    for k in ("retrains", "accepted", "rollbacks", "failed"):
        rec[k] = len(r.get(k) or [])
    iters = r.get("train_iterations")      # SMO iterations of each training: their total
    if isinstance(iters, (list, tuple)):
        rec["train_iterations"] = int(sum(iters))
    return rec


def run_reference(p: dict, task: dict, shared: dict) -> dict:
    X, y, drift = stream_for(p, shared)
    r = simulate((X, y, drift), window=p["window"], baselines=task.get("baselines", False),
                 **learner_options(p))
    rec = event_counts(r)
    rec["status"] = "ok"
    if not task.get("baselines"):
        rec.pop("static_accuracy", None), rec.pop("oracle_accuracy", None)
    return rec


def run_loop(p: dict, task: dict, shared: dict) -> dict:
    X, y, drift = stream_for(p, shared)
    r = loop((X, y, drift), p["target"], window=p["window"], baselines=task.get("baselines", False),
             timeout=task["timeout"], **learner_options(p))
    rec = event_counts(r)
    rec["status"] = "ok"
    if not task.get("baselines"):
        rec.pop("static_accuracy", None), rec.pop("oracle_accuracy", None)
    return rec


RUNNERS = {"train": run_train, "loop": run_loop, "reference": run_reference}


def _scalar(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str)) or (isinstance(v, np.generic) and v.ndim == 0)
