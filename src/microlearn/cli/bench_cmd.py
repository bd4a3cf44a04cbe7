"""`microlearn bench`: rerun the seeds' experiments on the emulated boards and write results
(JSON, CSV, markdown) and PNG plots. A benchmark, not a test."""
from __future__ import annotations

import math
import sys
import time
import warnings

from microlearn.boards.registry import UnknownBoard, get_board
from microlearn.core.progress import spinner
from microlearn.sweep import engine
from microlearn.sweep.keys import task_key
from microlearn.tools import experiments as ex
from microlearn.tools.experiments import run_case
from microlearn.tools.published import PUBLISHED
from microlearn.tools.report import write

from . import CLIError

EXPERIMENTS = ("goals", "edge2train", "sweep")


def register(sub):
    p = sub.add_parser("bench", help="rerun the seeds' experiments (Edge2Train, blog) on the emulated boards",
                       description="Trains ON the emulated boards: the Edge2Train protocol (binary Iris, breast "
                                   "cancer, digits 6-vs-rest; first 70%% / last 30%% and shuffled; C=1, "
                                   "alpha_tol=1e-7, linear; both solvers), training-size sweeps and the project's "
                                   "goal configurations. Writes results.json, results.csv, results.md and PNG plots, "
                                   "with the seeds' published figures alongside (never mixed with measurements).")
    p.add_argument("--quick", action="store_true",
                   help="fewer cases (ordered split only, sweeps on iris/cancer at 6 sizes): a few minutes")
    p.add_argument("--boards", default="uno,nrf52840,bluepill,samd21", help="comma-separated boards")
    p.add_argument("--experiments", default=",".join(EXPERIMENTS), help=f"subset of {','.join(EXPERIMENTS)}")
    p.add_argument("--out", default="benchmarks/results/seeds", help="output folder")
    p.add_argument("--jobs", type=int, default=2, help="local worker processes, each running one emulator at a time "
                                                       "(default 2)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler: the cases run on its workers "
                                       "(docs/sweeps.md) instead of --jobs local processes")
    p.add_argument("--timeout", type=float, help="wall-clock seconds per emulator run before it is killed and the "
                                                  "case reported as an error (default 1200; --quick: 60)")
    p.set_defaults(func=run)


def _run(case):
    """On a worker: one case, its warnings (a max_iter reached...) kept out of the worker's stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_case(case)


def run(args) -> int:

    if not 1 <= args.jobs <= 1024:
        raise CLIError(f"--jobs must be an integer in 1..1024, got {args.jobs}")
    if args.timeout is not None and not (math.isfinite(args.timeout) and 0 < args.timeout <= 1e6):
        raise CLIError(f"--timeout must be a number of seconds in (0, 1e+06], got {args.timeout!r}")
    try:
        boards = tuple(get_board(b).name for b in args.boards.split(","))
    except UnknownBoard as exc:
        raise CLIError(str(exc)) from None
    for b in boards:
        if not get_board(b).emulated:
            raise CLIError(f"{b} is not emulated here (planner figures only); choose among uno, mega2560, "
                           "nrf52840, bluepill, samd21, rp2040")
        missing = [t for t, ok in get_board(b).tools_installed().items() if not ok]
        if missing:
            raise CLIError(f"{b}: missing tools {', '.join(missing)} (see `microlearn boards`)")
    exps = args.experiments.split(",")
    bad = [e for e in exps if e not in EXPERIMENTS]
    if bad:
        raise CLIError(f"unknown experiment(s) {', '.join(bad)}; choose from {', '.join(EXPERIMENTS)}")
    cases = []
    if "goals" in exps:
        cases += [c for c in ex.goal_cases() if c["board"] in boards]
    if "edge2train" in exps:
        cases += ex.edge2train_cases(args.quick, boards)
    if "sweep" in exps:
        cases += ex.sweep_cases(args.quick, boards)
    timeout = args.timeout or (60.0 if args.quick else 1200.0)
    for c in cases:
        c["timeout"] = timeout
    # Longest first (big training sets), so the workers do not end on one long case.
    order = sorted(range(len(cases)), key=lambda i: -(cases[i].get("n") or 10_000))
    t0 = time.perf_counter()
    where = f"the cluster at {args.scheduler}" if args.scheduler else f"{args.jobs} process(es)"
    print(f"microlearn bench: {len(cases)} cases on {', '.join(boards)} with {where}", file=sys.stderr)
    # The cases run on the sweep engine (Dask): local worker processes, or a cluster's workers. No cache:
    # a benchmark measures now (the key only names each case to the scheduler).
    ordered = [cases[i] for i in order]
    keys = [task_key(c) for c in ordered]
    try:
        out = engine.run(ordered, _run, keys, workers=args.jobs, scheduler=args.scheduler, label="bench",
                         unit="cases", describe=ex.case_name)
    except engine.EngineUnavailable as exc:
        raise CLIError(str(exc)) from None
    # a case the cluster lost (it killed its workers) keeps its description next to the error
    done = {i: {**cases[i], **out.results[k]} if "experiment" not in out.results[k] else out.results[k]
            for i, k in zip(order, keys)}
    recs = [done[i] for i in range(len(cases))]
    wall = time.perf_counter() - t0
    argv = " ".join(["microlearn bench"] + (["--quick"] if args.quick else [])
                    + ([f"--boards {args.boards}"] if args.boards != "uno,nrf52840,bluepill,samd21" else [])
                    + ([f"--experiments {args.experiments}"] if args.experiments != ",".join(EXPERIMENTS) else []))
    results = {"meta": {"quick": args.quick, "boards": list(boards), "experiments": exps, "cases": len(cases),
                        "jobs": args.jobs, "scheduler": args.scheduler, "wall_seconds": round(wall, 1), "command": argv},
               "records": recs}
    results["published"] = PUBLISHED
    with spinner(f"writing the results and plots to {args.out}"):
        files = write(results, args.out)
    n_ok = sum(r.get("status") in ("converged", "max_iter") for r in recs)
    n_agree = sum(r.get("agreement") == 1.0 for r in recs)
    print(f"{len(cases)} cases in {wall:.0f} s: {n_ok} trained, {n_agree} with agreement 1.0, "
          f"{sum(r.get('status') == 'does_not_fit' for r in recs)} do not fit, "
          f"{sum(r.get('status') == 'error' for r in recs)} errors")
    goals = [r for r in recs if r["experiment"] == "goal"]
    for r in goals:
        print(f"  goal {'met' if ex.goal_met(r) else 'MISSED'}: {r['goal']} -> {r.get('status')}, "
              f"{r.get('cycles') or r.get('instructions')} {'cycles' if r.get('cycles') else 'instructions'}, "
              f"SRAM {r.get('sram_bytes')} B")
    for f in files:
        print(f"wrote {f}")
    return 0
