"""The seeds' experiments rerun on the emulated boards: the Edge2Train protocol, training-size sweeps,
and the project's goal configurations. Each case trains ON the emulated board (train_and_report:
Python reference alongside, agreement checked) and, for the Edge2Train table, times one prediction
with a second run of the same driver built to measure its first prediction instead of training."""
from __future__ import annotations

import time

import numpy as np

from microlearn.trainer.planner import STORAGES, max_capacity, plan
from microlearn.trainer.config import config_from_estimator
from microlearn.data.datasets import load, split
from microlearn.trainer.runner import predict_cost, train_and_report
from microlearn.boards import power
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit, TargetError

BOARDS = ("uno", "nrf52840", "bluepill", "samd21")
DATASETS = ("iris", "cancer", "digits6")
PARAMS = dict(C=1.0, alpha_tol=1e-7, kernel="linear")   # the Edge2Train protocol

def data(dataset: str, split_kind: str, scale: str = "minmax"):
    """The split; with scale='minmax' every feature is mapped to [0, 1] by the training part's range
    (applied to the test part too; a device would use the sensor's known range). Unscaled breast cancer
    (features up to ~4,000) needs > 100,000 SMO iterations even in libsvm; scale='none' keeps raw values."""
    X, y = load(dataset)
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=(split_kind == "shuffled"), seed=0)
    if scale == "minmax":
        lo, hi = X_tr.min(axis=0), X_tr.max(axis=0)
        rng = np.where(hi > lo, hi - lo, 1.0)
        X_tr, X_te = (X_tr - lo) / rng, (X_te - lo) / rng
    elif scale != "none":
        raise ValueError(f"scale must be 'minmax' or 'none', got {scale!r}")
    return X_tr, X_te, y_tr, y_te


def choose_storage(board, n_features, n, classes=2, solver="wss2", need=None):
    """The widest storage type in which `need` (default n) samples fit the board; None if none."""
    for st in STORAGES:
        if max_capacity(board, n_features, classes, kernel=PARAMS["kernel"], storage=st, solver=solver) >= (need or n):
            return st
    return None


def run_case(case: dict) -> dict:
    """case: experiment, dataset, split ('ordered'|'shuffled'), scale ('minmax'|'none'), n (None: the whole
    training part), board,
    solver, storage (None: the widest that fits), infer (time one prediction too)."""
    X_tr, X_te, y_tr, y_te = data(case["dataset"], case["split"], case.get("scale", "minmax"))
    n = case.get("n") or len(X_tr)
    X_tr, y_tr = X_tr[:n], y_tr[:n]
    d = X_tr.shape[1]
    rec = {**case, "n": n, "n_features": d, "n_test": len(X_te)}
    board, solver = case["board"], case["solver"]
    storage = case.get("storage") or choose_storage(board, d, n, solver=solver)
    if storage is None:
        p = plan(board, d, n, 2, storage="int8", solver=solver)
        rec.update(status="does_not_fit", storage="int8", plan_sram_bytes=p.sram_bytes,
                   plan_over_bytes=max(p.over.values()) if p.over else 0, max_capacity_int8=p.max_capacity["int8"],
                   message=p.message())
        return rec
    rec["storage"] = storage
    t0 = time.perf_counter()
    try:
        r = train_and_report(X_tr, y_tr, X_te, y_te, board, capacity=n, solver=solver, storage=storage,
                             timeout=case.get("timeout", 1200.0), **PARAMS)
    except DoesNotFit as exc:
        rec.update(status="does_not_fit", message=str(exc))
        return rec
    except (TargetError, ValueError, RuntimeError) as exc:
        rec.update(status="error", message=str(exc).splitlines()[0])
        return rec
    rec["wall_seconds"] = round(time.perf_counter() - t0, 3)
    for k in ("status", "iterations", "python_iterations", "accuracy", "python_accuracy", "agreement",
              "max_alpha_diff", "flash_bytes", "sram_bytes", "static_ram_bytes", "stack_bytes", "buffer_bytes",
              "cycles", "instructions", "cycles_est", "cycles_est_range", "seconds", "seconds_kind"):
        rec[k] = r[k]
    rec["energy_mj"] = r.get("energy_mj")    # boards/power.py: None where no datasheet current is cited
    if case.get("infer") and r["status"] in ("converged", "max_iter"):
        est = r["_estimator"]
        try:
            rec.update(predict_cost(est, n, board, X_tr, np.searchsorted(est.classes_, y_tr), X_te[0]))
        except TargetError as exc:
            rec["infer_error"] = str(exc).splitlines()[0]
    return rec


def case_name(case: dict) -> str:
    """A case in a few words, for progress lines: 'edge2train iris ordered uno wss2', 'sweep cancer n=40 ...'."""
    parts = [case.get("experiment", "case"), case.get("dataset")]
    if case.get("experiment") == "edge2train":
        parts.append(case.get("split"))
    if case.get("n"):
        parts.append(f"n={case['n']}")
    parts += [case.get("board"), case.get("solver") if case.get("experiment") != "goal" else case.get("storage")]
    return " ".join(str(p) for p in parts if p)


def edge2train_cases(quick: bool, boards=BOARDS) -> list[dict]:
    splits = ("ordered",) if quick else ("ordered", "shuffled")
    return [dict(experiment="edge2train", dataset=ds, split=sp, n=None, board=b, solver=s, storage=None,
                 infer=True)
            for ds in DATASETS for sp in splits for b in boards for s in ("wss2", "simplified")]


def sweep_sizes(board, dataset, solver, quick: bool):
    """10..100 in steps of 10, then beyond while the memory (and the training part) allows."""
    X_tr = data(dataset, "shuffled")[0]
    d, avail = X_tr.shape[1], len(X_tr)
    storage = choose_storage(board, d, 100, solver=solver) or "int8"
    cap = min(avail, max_capacity(board, d, 2, storage=storage, solver=solver))
    base = [10, 20, 40, 60, 80, 100] if quick else list(range(10, 101, 10))
    beyond = [] if quick else [150, 200, 300, 400, 600, 800, 1000]
    sizes = [n for n in base + beyond if n <= cap]
    if not quick and cap > 100 and cap not in sizes:
        sizes.append(cap)
    return storage, sizes


def sweep_cases(quick: bool, boards=BOARDS) -> list[dict]:
    out = []
    datasets = ("iris", "cancer") if quick else DATASETS
    for ds in datasets:
        for b in boards:
            for s in ("wss2", "simplified"):
                storage, sizes = sweep_sizes(b, ds, s, quick)
                out += [dict(experiment="sweep", dataset=ds, split="shuffled", n=n, board=b, solver=s,
                             storage=storage, infer=False) for n in sizes]
    return out


GOALS = [
    dict(goal="iris setosa vs rest, 100 samples, nrf52840: <= 200,000 instructions", dataset="iris", n=100,
         board="nrf52840", storage="float32", metric="instructions", limit=200_000, scale="none"),
    dict(goal="iris setosa vs rest, 100 samples, uno: <= 5,000,000 cycles, SRAM <= 2,048 B", dataset="iris",
         n=100, board="uno", storage="int8", metric="cycles", limit=5_000_000, sram_limit=2048, scale="none"),
    dict(goal="(same, features min-max scaled)", dataset="iris", n=100, board="nrf52840", storage="float32",
         metric="instructions", limit=200_000),
    dict(goal="(same, features min-max scaled)", dataset="iris", n=100, board="uno", storage="int8",
         metric="cycles", limit=5_000_000, sram_limit=2048),
    dict(goal="breast cancer, 60 samples, nrf52840: <= 2,000,000 instructions", dataset="cancer", n=60,
         board="nrf52840", storage="float32", metric="instructions", limit=2_000_000),
    dict(goal="digits 6 vs rest, 120 samples, bluepill, int8 storage: trains", dataset="digits6", n=120,
         board="bluepill", storage="int8", metric="instructions", limit=None),
    # The RISC-V and Xtensa boards (issue 14): Iris-100 and breast cancer-60 train with agreement 1.0.
    *[dict(goal=f"{label}, {b}, {st}: trains", dataset=ds, n=n, board=b, storage=st, metric="instructions",
           limit=None)
      for ds, n, label in (("iris", 100, "iris setosa vs rest, 100 samples"),
                           ("cancer", 60, "breast cancer, 60 samples"))
      for b, st in (("esp32c3", "float32"), ("ch32v003", "int8"), ("esp8266", "float32"))],
]


def goal_cases() -> list[dict]:
    return [dict(experiment="goal", split="shuffled", solver="wss2", infer=False, **{"scale": "minmax", **g})
            for g in GOALS]


def goal_met(rec: dict) -> bool:
    if rec.get("status") not in ("converged", "max_iter") or rec.get("agreement") != 1.0:
        return False
    if rec.get("limit") is not None and not (rec.get(rec["metric"]) or 0) <= rec["limit"]:
        return False
    if rec.get("sram_limit") is not None and not rec["sram_bytes"] <= rec["sram_limit"]:
        return False
    return True
