"""`microlearn loop`: the self-learning loop (mlrn_learner) on a target over a labelled stream,
compared row by row with the Python reference, with static and oracle baselines."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from microlearn.core.progress import spinner
from microlearn.learner.runner import loop
from microlearn.learner.simulate import MAX_STREAM_ROWS

from . import CheckFailed, CLIError, as_option, clean
from .learner_options import LEARNER_OPTIONS, add_learner_options, learner_kwargs


def register(sub):
    p = sub.add_parser("loop", help="run the self-learning loop on a target over a labelled stream",
                       description="Feeds STREAM.csv (features..., class index in the last column) to the C learner "
                                   "on the target one row at a time: predict, then the label as feedback, then a "
                                   "training step. Reports windowed accuracy, retrain/rollback points, agreement "
                                   "with the Python reference, baselines and the device's cost. STREAM may also be "
                                   "a stream name of microlearn.data.streams (e.g. rotating_hyperplane).")
    p.add_argument("stream", metavar="STREAM.csv")
    p.add_argument("--target", default="host", help="host or a board (uno, nrf52840, ...)")
    add_learner_options(p, capacity_help="stored samples (training + held-out), default 60",
                        budget_help="SMO iterations per step call (0: no slicing)",
                        storage_help="sample store type (int16/int8: affine over the stream's feature range)")
    p.add_argument("--window", type=int, default=100, help="rows per reported accuracy window (default 100)")
    p.add_argument("--warm", action="store_true",
                   help="warm-started retraining (--model svm only): a retrain starts from the last training's "
                        "alphas of the rows still stored (made feasible, gradient rebuilt) instead of zero; same "
                        "stopping criterion; costs (n_sub - 1) x training capacity floats of SRAM, none for 2 classes "
                        "(MLRN_LEARNER_WARM, docs/self-learning.md \"Warm starts\")")
    p.add_argument("--persist", choices=["model", "all"],
                   help="after the stream, save the model (model) or the whole state (all) and load it back on "
                        "the device (AVR: its EEPROM); the report says whether the round trip succeeded")
    p.add_argument("--n-classes", type=int, help="classes declared up front (default: max label + 1)")
    p.add_argument("--init-rows", type=int, default=0,
                   help="train the model the device starts from, in Python, on the first N rows; the loop runs "
                        "over the rest (rows renumbered from 0)")
    p.add_argument("--static-rows", type=int, help="rows the static baseline trains on (default: capacity)")
    p.add_argument("--train-cost", action="store_true",
                   help="AVR: also a second run timing the step() calls that trained with Timer1, a cross-check "
                        "(the training cost is measured anyway on simavr/qemu: markers around those calls)")
    p.add_argument("--plot", metavar="PNG", help="write windowed accuracy with retrain/rollback marks")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--max-rows", type=int, default=None,
                   help="rows a CSV stream may hold (default 100000: the Python reference runs ~7,000 rows/s); "
                        "reading stops at the first row past it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


OPTIONS = (*LEARNER_OPTIONS, "window", "n_classes", "static_rows", "timeout", "init_rows", "max_rows", "persist",
           "warm")


def run(args) -> int:

    names = {o: "--" + o.replace("_", "-") for o in OPTIONS}
    max_rows = MAX_STREAM_ROWS if args.max_rows is None else args.max_rows
    if max_rows < 1:
        raise CLIError(f"--max-rows must be an integer >= 1, got {max_rows}")
    if args.plot and not Path(args.plot).resolve().parent.is_dir():
        raise CLIError(f"--plot: no such folder {str(Path(args.plot).parent)!r} ({args.plot})")
    try:
        kw = learner_kwargs(args)
        with spinner("reading the stream") as spin:
            rep = loop(args.stream, args.target, on_step=spin.update, n_classes=args.n_classes, window=args.window,
                       static_rows=args.static_rows, plot=args.plot, timeout=args.timeout, max_rows=max_rows,
                       storage=args.storage, train_cost=args.train_cost, init_rows=args.init_rows,
                       persist=args.persist, warm=args.warm, **kw)
    except ValueError as exc:
        raise CLIError(as_option(exc, names)) from None
    rep.pop("predictions", None)
    if args.json:
        json.dump(rep, sys.stdout)
        sys.stdout.write("\n")
        return _checked(rep)
    w = sys.stdout.write
    w(f"target {rep['target']}: {rep['n_rows']} rows, {rep['n_features']} features, {rep['n_classes']} classes, "
      f"capacity {rep['capacity']} ({rep['train_capacity']} train + {rep['hold_capacity']} held out)\n")
    w(f"{'rows':>12} {'learner':>8} {'static':>8} {'oracle':>8}\n")
    for v in rep["windows"]:
        w(f"{v['start']:>5}-{v['end']:<6} {v['learner']:8.3f} {v['static']:8.3f} {v['oracle']:8.3f}\n")
    w(f"learner {rep.get('model')}, drift detector {rep.get('drift')}: drifts signalled {rep.get('drifts')}, retrains {len(rep['retrains'])}, accepted {len(rep['accepted'])}, rollbacks {len(rep['rollbacks'])} "
      f"(at rows {rep['rollbacks']})\n")
    if rep.get("drift_note"):
        w(f"drift detector: {rep['drift_note']}\n")
    w(f"final accuracy {rep['final_accuracy']:.3f} (static {rep['static_final_accuracy']:.3f}, "
      f"oracle {rep['oracle_final_accuracy']:.3f})\n")
    if rep.get("persist"):
        w(f"persistence ({rep['persist']}): save + load on the device returned {rep.get('persist_status')}"
          f" ({'ok' if rep.get('persist_status') == 0 else 'FAILED'})\n")
    w(f"agreement with the Python reference {rep['agreement']:.4f}, same retrain/rollback rows: {rep['same_events']}\n")
    if rep.get("kernel"):
        w(f"{rep['kernel']} kernel: the current model holds {rep.get('n_sv')} support vectors (Python "
          f"{rep.get('python_n_sv')}), same snapshot bits: {rep.get('same_model')}\n")
    if rep.get("warm"):
        w(f"warm starts: {rep.get('warm_starts')} of {len(rep['retrains'])} retrains started from the kept alphas; "
          f"SMO iterations {rep.get('smo_iterations')} (Python {rep.get('python_smo_iterations')}), "
          f"same final model bits: {rep.get('same_model')}\n")
    cost = []
    if rep.get("cycles") is not None:
        cost.append(f"{rep['cycles']} cycles")
    if rep.get("instructions") is not None:
        cost.append(f"{rep['instructions']} instructions")
    if rep.get("sram_bytes") is not None:
        cost.append(f"SRAM {rep['sram_bytes']} B (static {rep['static_ram_bytes']} + stack {rep['stack_bytes']})")
    if rep.get("flash_bytes") is not None:
        cost.append(f"flash {rep['flash_bytes']} B")
    if cost:
        w("device: " + ", ".join(cost) + " for the whole stream\n")
    unit = "cycles" if rep.get("train_cycles") is not None else "instructions"
    train = rep.get(f"train_{unit}")
    if train is not None:
        share = train / rep[unit] if rep.get(unit) else float("nan")
        how = ("Timer1 in a second run" if rep.get("train_cost_source") == "timer1" else
               f"markers around each call, net of {rep.get('marker_overhead')} {unit} of marker overhead")
        w(f"training: {train} {unit} in {rep['train_calls']} step() calls that trained "
          f"({share:.1%} of the stream; {train / max(len(rep['retrains']), 1):.0f} per retrain, "
          f"{len(rep['retrains'])} retrains; {how})\n")
        if rep.get("train_cycles_timer1") is not None and rep.get("train_cost_source") != "timer1":
            w(f"training by Timer1 (second run): {rep['train_cycles_timer1']} cycles "
              f"(includes its overflow interrupts)\n")
    if rep.get("train_cycles_error"):
        w(f"training cost not measured: {clean(rep['train_cycles_error'])}\n")
    if rep.get("plot"):
        w(f"plot: {rep['plot']}\n")
    return _checked(rep)


def _checked(rep) -> int:
    """Exit status 1 (one line) when the device and the Python reference did not decide the same."""
    if rep.get("agreement") is not None and rep["agreement"] < 1.0:
        raise CheckFailed(f"the device's predictions agree with the Python reference on "
                          f"{100 * rep['agreement']:.2f}% of the rows, not 100%")
    if rep.get("persist") and rep.get("persist_status") != 0:
        raise CheckFailed(f"the device's save + load round trip returned {rep.get('persist_status')}, not 0 (ok)")
    if not rep.get("same_events", True):
        raise CheckFailed("the device retrained or rolled back at other rows than the Python reference")
    if rep.get("kernel") and not rep.get("same_model"):
        raise CheckFailed(f"the device's support-vector snapshot ({rep.get('n_sv')} rows) differs from the Python "
                          f"reference's ({rep.get('python_n_sv')} rows)")
    if rep.get("warm") and (rep.get("smo_iterations") != rep.get("python_smo_iterations") or not rep.get("same_model")):
        raise CheckFailed(f"warm starts: the device ran {rep.get('smo_iterations')} SMO iterations and the Python "
                          f"reference {rep.get('python_smo_iterations')}; same final model: {rep.get('same_model')}")
    return 0
