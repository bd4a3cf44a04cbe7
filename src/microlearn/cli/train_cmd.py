"""`microlearn train`: train on a target (host or an emulated board) from a CSV, evaluate there,
compare with the Python reference."""
from __future__ import annotations

import json
import math

import numpy as np

from microlearn.core import vocab
from microlearn.core.progress import spinner
from microlearn.data.datasets import read_csv, split
from microlearn.trainer import reference as _solvers
from microlearn.trainer.estimator import SMOClassifier
from microlearn.trainer.runner import MAX_ROWS, predict_cost, train_and_report

from . import CheckFailed, CLIError, as_option


def register(sub):
    p = sub.add_parser("train", help="train an SVM on a target from a CSV and evaluate it there",
                       description="Generates the trainer for the data's shape, builds it for the target, trains "
                                   "ON the target (samples added one by one), evaluates there, and compares with "
                                   "the Python reference.")
    add_data_options(p)
    p.add_argument("--data-in", default="ram", choices=list(vocab.DATA_IN),
                   help="where the device holds the training rows: ram (default: streamed in, one add_sample per "
                        "row), flash (compiled into the trainer as a const table: PROGMEM on AVR, .rodata on ARM; "
                        "SRAM holds no rows) or callback (read through the application's mlrn_store_read_fn; here "
                        "the driver's stand-in for an external EEPROM). The capacity is then the training rows")
    p.add_argument("--target", default="host", help="host or a board (see `microlearn boards`)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before a hung run is killed")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--cache-cols", type=int, metavar="N",
                   help="kernel columns the device caches while training rbf/poly/sigmoid with wss2 (the same "
                        "result, fewer kernel evaluations): 0 for none, 2..min(255, capacity); default: the planner's "
                        "count from the SRAM left on the board (on the host: every column up to 255)")
    p.add_argument("--predict-cost", action="store_true",
                   help="on a board: also measure one prediction (a second build and run): infer_cycles / "
                        "infer_instructions, infer_seconds, infer_energy_mj")
    p.set_defaults(func=run)


def add_data_options(p):
    """The data and training options `train` and `sketch train` share."""
    p.add_argument("train_csv", metavar="TRAIN.csv")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--test", metavar="TEST.csv", help="test rows (same columns)")
    g.add_argument("--test-size", type=float, default=0.3, help="fraction held out for testing (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="shuffle seed for --test-size (default 0)")
    p.add_argument("--no-shuffle", action="store_true", help="first rows train, last rows test (Edge2Train)")
    p.add_argument("--label", help="label column name (default: the last column)")
    p.add_argument("--kernel", default="linear", choices=["linear", "rbf", "poly", "sigmoid"])
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--gamma", default="scale", help="'scale', 'auto' or a number")
    p.add_argument("--degree", type=int, default=3)
    p.add_argument("--coef0", type=float, default=0.0)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--max-iter", type=int, default=100000)
    p.add_argument("--solver", default="wss2", choices=list(vocab.SOLVERS),
                   help="wss2 (default; libsvm's SMO), simplified (the seeds' baseline) or dcd (linear kernel "
                        "only: liblinear's dual coordinate descent, bias regularised)")
    p.add_argument("--loss", default="hinge", choices=list(vocab.LOSSES),
                   help="dcd: hinge (L1-loss SVM, default) or squared_hinge (L2-loss)")
    p.add_argument("--arith", default="auto", choices=["auto", "float", "fixed"],
                   help="wss2, linear or rbf kernel, int8 storage: 'fixed' scans the samples in integers "
                        "(MLRN_SMO_FIXED; 2..512 features); 'auto' (default) uses it on boards without an FPU where "
                        "its code fits, float32 elsewhere")
    p.add_argument("--max-passes", type=int, default=10)
    p.add_argument("--alpha-tol", type=float, default=1e-7)
    p.add_argument("--multiclass", default="ovo", choices=["ovo", "ovr"])
    p.add_argument("--storage", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--capacity", type=int, help="store capacity compiled in (default: the training rows)")


def _gamma(text):
    if text in ("scale", "auto"):
        return text
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"--gamma must be 'scale', 'auto' or a number, got {text!r}") from None


# Python names of the estimator's parameters -> the options that set them (for messages)
OPTIONS = {"C": "--C", "tol": "--tol", "alpha_tol": "--alpha-tol", "coef0": "--coef0", "gamma": "--gamma",
           "max_iter": "--max-iter", "max_passes": "--max-passes", "degree": "--degree", "random_state": "--seed",
           "capacity": "--capacity", "data_in": "--data-in", "cache_cols": "--cache-cols", "test_size": "--test-size", "seed": "--seed", "timeout": "--timeout",
           "arith": "--arith"}


MAX_TIMEOUT = 1e6   # seconds (11 days): subprocess timeouts overflow far above


def max_split_rows(test_size: float, train_limit: int, test_limit: int) -> int:
    """The most rows a file split by test_size can have with at most train_limit training and test_limit test
    rows (the split's counts never decrease with the rows: bisect)."""
    def ok(n):
        n_test = int(round(n * test_size))
        return n - n_test <= train_limit and n_test <= test_limit
    lo, hi = 1, train_limit + test_limit + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _check_options(args) -> dict:
    """Every option, before any file is read: what the C trainer would refuse, in the option's name."""

    params = dict(C=args.C, kernel=args.kernel, gamma=_gamma(args.gamma), degree=args.degree, coef0=args.coef0,
                  tol=args.tol, max_iter=args.max_iter, solver=args.solver, max_passes=args.max_passes,
                  alpha_tol=args.alpha_tol, multiclass=args.multiclass, storage=args.storage,
                  random_state=args.seed, loss=args.loss)
    try:
        SMOClassifier(**params)._check_params()
        if args.arith != "auto":
            _solvers.check_arith(args.arith, solver=args.solver, kernel=args.kernel, storage=args.storage)
        _solvers.check_int("seed", args.seed, 0, _solvers.U32, "uint32")
        if args.capacity is not None:
            _solvers.check_int("capacity", args.capacity, 2, vocab.MAX_CAPACITY, "uint16")
        if not args.test and not (math.isfinite(args.test_size) and 0 < args.test_size < 1):
            raise ValueError(f"test_size must be a number in (0, 1), got {args.test_size!r}")
        if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
            raise ValueError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {args.timeout!r}")
    except ValueError as exc:
        raise CLIError(as_option(exc, OPTIONS)) from None
    if args.test and args.test == args.train_csv == "-":
        raise CLIError("TRAIN.csv and --test cannot both be '-' (standard input)")
    return params


def load_data(args):
    """The training and test rows the options name: (X_train, y_train, X_test, y_test)."""
    # Reading stops at the first row past what the device can take (a bigger --capacity cannot help):
    # the store's uint16 capacity for training rows, the driver's u16 count for test rows.
    why_train = f": the device stores at most {MAX_ROWS:,} training rows (uint16 capacity)"
    classes = dict(max_classes=vocab.SMO_MAX_CLASSES_LIMIT,
                   classes_limit=" (the C trainer's MLRN_SMO_MAX_CLASSES in mlrn_smo.h)")
    if args.test:
        X, y, _ = read_csv(args.train_csv, args.label, max_rows=MAX_ROWS, rows_limit=why_train, **classes)
        X_te, y_te, _ = read_csv(args.test, args.label, max_rows=MAX_ROWS, rows_limit=f": the driver sends at "
                                 f"most {MAX_ROWS:,} test rows (u16 count)", **classes)
        if X_te.shape[1] != X.shape[1]:
            raise CLIError(f"{X_te.shape[1]} features, {args.train_csv} has {X.shape[1]} ({args.test})")
        X_tr, y_tr = X, y
    else:
        n_max = max_split_rows(args.test_size, MAX_ROWS, MAX_ROWS)
        n_te = int(round(n_max * args.test_size))
        over = (f"{MAX_ROWS:,} training rows, the device's store capacity (uint16)" if n_max - n_te == MAX_ROWS
                else f"{MAX_ROWS:,} test rows, what the driver sends (u16 count)")
        X, y, _ = read_csv(args.train_csv, args.label, max_rows=n_max,
                           rows_limit=f": with --test-size {args.test_size:g} more would be over {over}", **classes)
        try:
            X_tr, X_te, y_tr, y_te = split(X, y, args.test_size, shuffle=not args.no_shuffle, seed=args.seed)
        except ValueError as exc:
            raise CLIError(f"{as_option(exc, OPTIONS)} ({args.train_csv})") from None
    if y_tr.dtype != y_te.dtype:
        y_tr, y_te = y_tr.astype(str), y_te.astype(str)
    return X_tr, y_tr, X_te, y_te


def run(args) -> int:

    params = _check_options(args)
    X_tr, y_tr, X_te, y_te = load_data(args)
    try:
        with spinner("checking the options") as spin:   # then fitting, building for / running on the target
            rep = train_and_report(X_tr, y_tr, X_te, y_te, args.target, capacity=args.capacity,
                                   timeout=args.timeout, on_step=spin.update, data_in=args.data_in,
                                   cache_cols=getattr(args, "cache_cols", None), arith=args.arith, **params)
        if args.predict_cost and rep["target"] != "host" and rep["status"] in ("converged", "max_iter"):
            est = rep["_estimator"]
            with spinner(f"measuring one prediction on {rep['target']}"):
                rep.update(predict_cost(est, args.capacity or len(X_tr), args.target, X_tr,
                                        np.searchsorted(est.classes_, y_tr), X_te[0], timeout=args.timeout,
                                        data_in=args.data_in))
    except ValueError as exc:
        raise CLIError(as_option(exc, OPTIONS)) from None
    rep = {k: v for k, v in rep.items() if not k.startswith("_")}
    if args.json:
        print(json.dumps(rep))
    else:
        print(format_report(rep))
    if rep["status"] not in ("converged", "max_iter"):
        raise CheckFailed(f"training on {rep['target']} ended with status {rep['status']} (see the report)")
    if rep["agreement"] is not None and rep["agreement"] < 1.0:
        raise CheckFailed(f"the device's predictions agree with the Python reference on "
                          f"{100 * rep['agreement']:.1f}% of the test rows, not 100%")
    return 0


def format_report(r: dict) -> str:
    lines = [f"trained on {r['target']}: {r['n_train']} samples x {r['n_features']} features, "
             f"{len(r['classes'])} classes, {r['kernel']} kernel, {r['solver']} solver"
             + (f" ({r['loss']} loss)" if r.get("solver") == "dcd" else "") + f", {r['storage']} storage"
             + (", fixed-point scans" if r.get("arith") == "fixed" else "")
             + (f", samples in {r['data_in']}" if r.get("data_in", "ram") != "ram" else ""),
             *([f"  {r['arith_note']}"] if r.get("arith_note") else []),
             f"  status {r['status']} after {r['iterations']} iterations (Python reference: {r['python_iterations']})",
             f"  accuracy on {r['n_test']} test rows: device {_pct(r['accuracy'])}, Python {_pct(r['python_accuracy'])}, "
             f"agreement {_pct(r['agreement'])}, max |alpha diff| {r['max_alpha_diff']}"]
    cost = []
    if r.get("cycles") is not None:
        cost.append(f"{r['cycles']:,} cycles")
    if r.get("instructions") is not None:
        cost.append(f"{r['instructions']:,} instructions")
    if r.get("cycles_est") is not None:
        low, high = r["cycles_est_range"]
        cost.append(f"~{r['cycles_est']:,} cycles (estimate, {low:,}-{high:,})")
    if r.get("seconds") is not None:
        per = ("estimated cycles" if r.get("cycles_est") is not None else "1 instruction per cycle")
        kind = {"wall": "wall time", "exact": "exact at the board clock",
                "estimate": f"estimate at the board clock, {per}"}.get(r["seconds_kind"], "")
        cost.append(f"{r['seconds']:.6g} s ({kind})")
    if r.get("energy_mj") is not None:
        cost.append(f"~{r['energy_mj']:.3g} mJ (estimate: datasheet run current x supply x time, docs/energy.md)")
    if cost:
        lines.append("  training: " + ", ".join(cost))
    infer = [f"{r[k]:,} {u}" for k, u in (("infer_cycles", "cycles"), ("infer_instructions", "instructions"),
                                          ("infer_cycles_est", "cycles (estimate)")) if r.get(k) is not None]
    if infer:
        infer.append(f"{r['infer_seconds']:.3g} s")
        if r.get("infer_energy_mj") is not None:
            infer.append(f"~{r['infer_energy_mj'] * 1000:.3g} uJ")
        lines.append("  one prediction: " + ", ".join(infer))
    if r.get("cache_cols"):
        lines.append(f"  kernel cache: {r['cache_cols']} columns ({r['cache_bytes']:,} B)"
                     + (f", {r['cache_hits']:,} hits, {r['cache_misses']:,} columns computed"
                        if r.get("cache_hits") is not None else ""))
    mem = [f"buffers {r['buffer_bytes']:,} B"]
    if r.get("flash_bytes") is not None:
        mem.append(f"flash {r['flash_bytes']:,} B")
    if r.get("sram_bytes") is not None:
        mem.append(f"SRAM {r['sram_bytes']:,} B (static {r['static_ram_bytes']:,} + stack {r['stack_bytes']:,})")
    lines.append("  memory: " + ", ".join(mem))
    return "\n".join(lines)


def _pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


