"""`microlearn train`: train on a target (host or an emulated board) from a CSV, evaluate there,
compare with the Python reference."""
from __future__ import annotations

import json

from .main import CLIError


def register(sub):
    p = sub.add_parser("train", help="train an SVM on a target from a CSV and evaluate it there",
                       description="Generates the trainer for the data's shape, builds it for the target, trains "
                                   "ON the target (samples added one by one), evaluates there, and compares with "
                                   "the Python reference.")
    p.add_argument("train_csv", metavar="TRAIN.csv")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--test", metavar="TEST.csv", help="test rows (same columns)")
    g.add_argument("--test-size", type=float, default=0.3, help="fraction held out for testing (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="shuffle seed for --test-size (default 0)")
    p.add_argument("--no-shuffle", action="store_true", help="first rows train, last rows test (Edge2Train)")
    p.add_argument("--label", help="label column name (default: the last column)")
    p.add_argument("--target", default="host", help="host or a board (see `microlearn boards`)")
    p.add_argument("--kernel", default="linear", choices=["linear", "rbf", "poly", "sigmoid"])
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--gamma", default="scale", help="'scale', 'auto' or a number")
    p.add_argument("--degree", type=int, default=3)
    p.add_argument("--coef0", type=float, default=0.0)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--max-iter", type=int, default=100000)
    p.add_argument("--solver", default="wss2", choices=["wss2", "simplified"])
    p.add_argument("--max-passes", type=int, default=10)
    p.add_argument("--alpha-tol", type=float, default=1e-7)
    p.add_argument("--multiclass", default="ovo", choices=["ovo", "ovr"])
    p.add_argument("--storage", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--capacity", type=int, help="store capacity compiled in (default: the training rows)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before a hung run is killed")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _gamma(text):
    if text in ("scale", "auto"):
        return text
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"--gamma must be 'scale', 'auto' or a number, got {text!r}") from None


def run(args) -> int:
    from ..datasets import DataError, read_csv, split
    from ..ondevice import train_and_report
    from ..targets.errors import TargetError

    try:
        X, y, _ = read_csv(args.train_csv, args.label)
        if args.test:
            X_te, y_te, _ = read_csv(args.test, args.label)
            if X_te.shape[1] != X.shape[1]:
                raise CLIError(f"{args.test}: {X_te.shape[1]} features, {args.train_csv} has {X.shape[1]}")
            X_tr, y_tr = X, y
        else:
            X_tr, X_te, y_tr, y_te = split(X, y, args.test_size, shuffle=not args.no_shuffle, seed=args.seed)
        if y_tr.dtype != y_te.dtype:
            y_tr, y_te = y_tr.astype(str), y_te.astype(str)
        rep = train_and_report(
            X_tr, y_tr, X_te, y_te, args.target, capacity=args.capacity, timeout=args.timeout,
            C=args.C, kernel=args.kernel, gamma=_gamma(args.gamma), degree=args.degree, coef0=args.coef0,
            tol=args.tol, max_iter=args.max_iter, solver=args.solver, max_passes=args.max_passes,
            alpha_tol=args.alpha_tol, multiclass=args.multiclass, storage=args.storage, random_state=args.seed)
    except (DataError, TargetError) as exc:
        raise CLIError(str(exc)) from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    rep = {k: v for k, v in rep.items() if not k.startswith("_")}
    if args.json:
        print(json.dumps(rep))
    else:
        print(format_report(rep))
    return 0 if rep["status"] in ("converged", "max_iter") else 1


def format_report(r: dict) -> str:
    lines = [f"trained on {r['target']}: {r['n_train']} samples x {r['n_features']} features, "
             f"{len(r['classes'])} classes, {r['kernel']} kernel, {r['solver']} solver, {r['storage']} storage",
             f"  status {r['status']} after {r['iterations']} iterations (Python reference: {r['python_iterations']})",
             f"  accuracy on {r['n_test']} test rows: device {_pct(r['accuracy'])}, Python {_pct(r['python_accuracy'])}, "
             f"agreement {_pct(r['agreement'])}, max |alpha diff| {r['max_alpha_diff']}"]
    cost = []
    if r.get("cycles") is not None:
        cost.append(f"{r['cycles']:,} cycles")
    if r.get("instructions") is not None:
        cost.append(f"{r['instructions']:,} instructions")
    if r.get("seconds") is not None:
        kind = {"wall": "wall time", "exact": "exact at the board clock",
                "estimate": "estimate at the board clock, 1 instruction per cycle"}.get(r["seconds_kind"], "")
        cost.append(f"{r['seconds']:.6g} s ({kind})")
    if cost:
        lines.append("  training: " + ", ".join(cost))
    mem = [f"buffers {r['buffer_bytes']:,} B"]
    if r.get("flash_bytes") is not None:
        mem.append(f"flash {r['flash_bytes']:,} B")
    if r.get("sram_bytes") is not None:
        mem.append(f"SRAM {r['sram_bytes']:,} B (static {r['static_ram_bytes']:,} + stack {r['stack_bytes']:,})")
    lines.append("  memory: " + ", ".join(mem))
    return "\n".join(lines)


def _pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


