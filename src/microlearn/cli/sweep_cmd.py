"""`microlearn sweep SPEC.toml`: a grid of configurations (trainer on boards, the learner's loop, the Python
reference learner) run as tasks on Dask, locally or on a cluster, cached by configuration and runtime;
one tidy results table (CSV, Parquet), a markdown summary and plots. docs/sweeps.md."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from microlearn.sweep.engine import EngineUnavailable
from microlearn.sweep.run_sweep import keyed, run_sweep
from microlearn.sweep.spec import SpecError, read_spec

from . import CheckFailed, CLIError

MAX_WORKERS = 1024


def register(sub):
    p = sub.add_parser("sweep", help="run a grid of configurations on Dask (local or a cluster), cached",
                       description="Expands SPEC.toml (docs/sweeps.md) to tasks and runs them on Dask: a local "
                                   "cluster by default (one process per core), or --scheduler ADDRESS. Results are "
                                   "cached per task under OUT/cache: an interrupted sweep resumes, a repeated one "
                                   "is free. Writes OUT/results.csv (and .parquet with pyarrow), OUT/summary.md, "
                                   "OUT/plots/*.png. Exit status 1 when a task failed (its row says why).")
    p.add_argument("spec", help="the sweep specification (TOML)")
    p.add_argument("--out", default=".", help="output folder (default: the current directory)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the cores)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786) instead of a local "
                                       "cluster")
    p.add_argument("--fresh", action="store_true", help="ignore the cache: run every task again (and re-cache)")
    p.add_argument("--dry-run", action="store_true", help="check the spec and list the tasks; run nothing")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout (no progress bar)")
    p.set_defaults(func=run)


def check_out(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {path}: exists and is not a folder")
    return out


def check_workers(args):
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise CLIError(f"--workers must be an integer in 1..{MAX_WORKERS}, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise CLIError("--workers is for a local cluster; a --scheduler's cluster has its own workers")
    if args.scheduler is not None and (not args.scheduler.strip() or len(args.scheduler) > 300
                                       or any(c.isspace() for c in args.scheduler)):
        raise CLIError(f"--scheduler: not an address: {args.scheduler[:60]!r}")


def run(args) -> int:
    check_workers(args)
    try:
        spec = read_spec(args.spec)
    except SpecError as exc:
        raise CLIError(str(exc)) from None
    out = check_out(args.out)
    if args.dry_run:
        tasks, keys = keyed(spec)
        if args.json:
            print(json.dumps({"tasks": len(tasks), "keys": keys, "params": [t["params"] for t in tasks]}))
        else:
            print(f"{spec.name}: {len(tasks)} {spec.kind} tasks")
            for t, k in list(zip(tasks, keys))[:20]:
                print(f"  {k}  " + " ".join(f"{a}={b}" for a, b in t["params"].items()))
            if len(tasks) > 20:
                print(f"  ... and {len(tasks) - 20} more")
        return 0

    def started(outcome):
        where = (f"{args.scheduler} ({outcome.workers} worker(s) connected now)" if args.scheduler
                 else f"a local cluster of {outcome.workers} worker process(es)")
        print(f"microlearn sweep: {len(outcome.results)} cached, running the rest on {where}"
              + (f"; dashboard {outcome.dashboard}" if outcome.dashboard else ""), file=sys.stderr)

    command = " ".join(["microlearn sweep", args.spec] + ([f"--out {args.out}"] if args.out != "." else []))
    try:
        res = run_sweep(spec, out, scheduler=args.scheduler, workers=args.workers, fresh=args.fresh,
                        command=command, on_start=started, plots_too=not args.no_plots)
    except EngineUnavailable as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        if exc.filename is None and args.scheduler:   # a scheduler that does not answer: one line
            raise CLIError(f"cannot reach the scheduler {args.scheduler}: {exc}") from None
        raise
    statuses = {}
    for r in res.table:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    if args.json:
        print(json.dumps({"spec": spec.name, "tasks": len(res.tasks), "computed": res.outcome.computed,
                          "cached": res.outcome.cached, "status": statuses, "wall_seconds": round(res.wall, 3),
                          "files": [str(f) for f in res.files]}))
    else:
        print(f"{spec.name}: {len(res.tasks)} tasks ({res.outcome.computed} computed, {res.outcome.cached} cached) "
              f"in {res.wall:.1f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        for r in res.failed[:10]:
            print(f"  {r['status']}: {r['key']}: {r.get('message')}")
        for f in res.files:
            print(f"wrote {f}")
    if res.failed:
        raise CheckFailed(f"{len(res.failed)} of {len(res.tasks)} tasks did not run (see {out / 'summary.md'})")
    return 0
