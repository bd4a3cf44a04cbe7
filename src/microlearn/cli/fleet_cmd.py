"""`microlearn fleet`: N simulated devices, each learning from its own seeded drift stream with the bit-exact
Python reference learner, run on Dask (local or a cluster); --confirm K runs K of them on an emulated board.
Writes the per-device table, the distributions (markdown, JSON) and a plot. docs/sweeps.md."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from microlearn.data import streams
from microlearn.sweep import engine, fleet, table
from microlearn.sweep.cache import Cache
from microlearn.sweep.engine import EngineUnavailable
from microlearn.sweep.spec import LEARNER_PARAMS, MAX_STREAM_ROWS, check_target
from microlearn.sweep.tasks import TRANSIENT
from microlearn.sweep.keys import fingerprint, task_key

from . import CheckFailed, CLIError
from .sweep_cmd import check_out, check_workers

LEARNER_OPTIONS = ("capacity", "holdout_every", "store", "replace", "budget", "storage", "C")


def register(sub):
    p = sub.add_parser("fleet", help="simulate a fleet of self-learning devices on Dask (local or a cluster)",
                       description="Device i learns from its own drift stream (scenario i mod the list, seed "
                                   "--seed + i) with the bit-exact Python reference learner; the fleet runs on Dask "
                                   "in batches, cached under OUT/cache. --confirm K runs K sampled devices on "
                                   "--board (emulated) and checks they agree with the reference row by row.")
    p.add_argument("--devices", type=int, default=100, help="number of devices (default 100)")
    p.add_argument("--scenario", default="rotating_hyperplane",
                   help=f"comma-separated drift scenarios, devices take them in turn ({', '.join(streams.STREAMS)}; "
                        "'all' for every one)")
    p.add_argument("--rows", type=int, default=MAX_STREAM_ROWS, help=f"rows per device (at most {MAX_STREAM_ROWS})")
    p.add_argument("--seed", type=int, default=0, help="device i's stream seed is SEED + i (default 0)")
    p.add_argument("--n-features", type=int, default=4, help="features per row (default 4)")
    p.add_argument("--window", type=int, default=100, help="rows per accuracy window (final_accuracy: the last)")
    p.add_argument("--capacity", type=int, help="samples stored (learner default 60)")
    p.add_argument("--holdout-every", type=int, help="every k-th stored sample held out (default 4)")
    p.add_argument("--store", help="all | mistakes")
    p.add_argument("--replace", help="fifo | reservoir | balanced")
    p.add_argument("--budget", type=int, help="SMO iterations per step (0: to completion)")
    p.add_argument("--storage", help="float32 | int16 | int8")
    p.add_argument("--C", type=float, help="SVM C")
    p.add_argument("--confirm", type=int, default=0, metavar="K", help="run K sampled devices on --board too")
    p.add_argument("--board", default="uno", help="the emulated board of --confirm (default uno)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per --confirm emulator run")
    p.add_argument("--batch", type=int, help="devices per Dask task (default 25; fewer below 200 devices)")
    p.add_argument("--out", default=".", help="output folder (default: the current directory)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the cores)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler instead of a local cluster")
    p.add_argument("--fresh", action="store_true", help="ignore the cache")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    p.add_argument("--json", action="store_true", help="print the distributions as JSON on stdout")
    p.set_defaults(func=run)


def config(args) -> fleet.FleetConfig:
    try:
        fleet.check_count("--devices", args.devices, 1, fleet.MAX_DEVICES)
        fleet.check_count("--rows", args.rows, 10, MAX_STREAM_ROWS)
        fleet.check_count("--seed", args.seed, 0, 2**32 - 1 - args.devices)
        fleet.check_count("--n-features", args.n_features, 1, 64)
        fleet.check_count("--window", args.window, 1, MAX_STREAM_ROWS)
        fleet.check_count("--confirm", args.confirm, 0, 1000)
        if args.batch is not None:
            fleet.check_count("--batch", args.batch, 1, 10_000)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    names = list(streams.STREAMS) if args.scenario == "all" else args.scenario.split(",")
    bad = [s for s in names if s not in streams.STREAMS]
    if bad or not names:
        raise CLIError(f"--scenario: unknown {', '.join(repr(b[:40]) for b in bad)}; choose from "
                       f"{', '.join(streams.STREAMS)} or all")
    learner = {}
    for name in LEARNER_OPTIONS:
        v = getattr(args, name)
        if v is None:
            continue
        try:
            learner[name] = LEARNER_PARAMS[name](v)
        except ValueError as exc:
            raise CLIError(f"--{name.replace('_', '-')} {v}: expected {exc}") from None
    return fleet.FleetConfig(devices=args.devices, scenarios=tuple(dict.fromkeys(names)), rows=args.rows,
                             seed=args.seed, n_features=args.n_features, window=args.window, learner=learner,
                             batch=args.batch or fleet.default_batch(args.devices))


def simulate_fleet(cfg, args, cache, cluster, started):
    """The devices on the reference learner, then (--confirm) the sampled ones on the board, on one cluster."""
    tasks = fleet.batches(cfg)
    keys = fleet.batch_keys(tasks)
    done = engine.run(tasks, fleet.run_batch, keys, cache=cache, fresh=args.fresh, cluster=cluster, label="fleet",
                      on_start=started, describe=lambda t: f"devices {t['devices'][0][0]}..{t['devices'][-1][0]}",
                      cacheable=lambda r: r.get("status") == "ok" and
                      not any(d.get("status") in TRANSIENT for d in r["devices"]))
    devices = fleet.devices_of(tasks, keys, done.results)
    confirm = []
    if args.confirm:
        ctasks = fleet.confirm_tasks(cfg, args.confirm, args.board, args.timeout)
        runtime = fingerprint()
        ckeys = [task_key({"kind": t["kind"], "params": t["params"], "baselines": False}, runtime) for t in ctasks]
        cdone = engine.run(ctasks, fleet.run_confirm, ckeys, cache=cache, fresh=args.fresh, cluster=cluster,
                           label=f"confirm on {args.board}", describe=lambda t: f"device {t['device']}",
                           on_start=None if done.computed else started)
        confirm = fleet.confirm_rows(ctasks, ckeys, cdone.results, devices)
    return devices, confirm, done


def run(args) -> int:
    check_workers(args)
    cfg = config(args)
    if args.confirm:
        try:
            check_target(args.board)
        except ValueError as exc:
            raise CLIError(f"--board {args.board}: {exc}") from None
        if args.board == "host":
            raise CLIError("--board: an emulated board (uno, nrf52840, ...): the host is not a device")
    out = check_out(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Cache(out / "cache")
    t0 = time.perf_counter()

    def started(outcome):
        where = args.scheduler or f"a local cluster of {outcome.workers} worker process(es)"
        print(f"microlearn fleet: running on {where}" + (f"; dashboard {outcome.dashboard}" if outcome.dashboard
                                                         else ""), file=sys.stderr)
    try:
        with engine.Cluster(args.scheduler, args.workers) as cluster:
            devices, confirm, done = simulate_fleet(cfg, args, cache, cluster, started)
    except EngineUnavailable as exc:
        raise CLIError(str(exc)) from None
    wall = time.perf_counter() - t0
    cost = fleet.estimate_train_cost(devices, confirm)
    dist = fleet.distributions(devices, (cost.column, "train_energy_mj_est") if cost else ())
    files = [table.write_csv(devices, out / "fleet.csv")]
    if confirm:
        files.append(table.write_csv(confirm, out / "confirm.csv"))
    command = " ".join(["microlearn fleet", f"--devices {cfg.devices}", f"--scenario {','.join(cfg.scenarios)}"]
                       + ([f"--confirm {args.confirm} --board {args.board}"] if args.confirm else []))
    md = out / "fleet.md"
    md.write_text(fleet.markdown(dist, confirm, command, wall, done.computed, done.cached, cost), encoding="utf-8")
    model = cost.to_dict() if cost else None
    (out / "fleet.json").write_text(json.dumps({"distributions": dist, "confirm": confirm, "train_cost_model": model},
                                               indent=1))
    files += [md, out / "fleet.json"]
    if not args.no_plots and dist["ok"]:
        fleet.plot(devices, out / "fleet.png", cost.column if cost else None)
        files.append(out / "fleet.png")
    failed = [d for d in devices if d.get("status") != "ok"]
    unconfirmed = [c for c in confirm if c["status"] != "ok"]
    disagree = [c for c in confirm if c["status"] == "ok" and not (c["agreement"] == 1.0 and c["same_events"])]
    if args.json:
        print(json.dumps({"distributions": dist, "confirm": confirm, "train_cost_model": model,
                          "wall_seconds": round(wall, 3),
                          "computed": done.computed, "cached": done.cached,
                          "files": [str(f) for f in files]}))
    else:
        a = dist["measures"]["accuracy"]
        print(f"{cfg.devices:,} devices in {wall:.1f} s ({done.computed} batches computed, {done.cached} cached): "
              + (f"accuracy p5 {a['p5']:.3f} / p50 {a['p50']:.3f} / p95 {a['p95']:.3f}, "
                 f"retrains p50 {dist['measures']['retrains']['p50']:.0f}, "
                 f"rollbacks mean {dist['measures']['rollbacks']['mean']:.2f}" if a.get("n") else "no device ran"))
        if confirm:
            print(f"confirmed on {args.board}: {len(confirm) - len(disagree) - len(unconfirmed)} of {len(confirm)} "
                  f"devices agree with the reference, {len(disagree)} disagree, {len(unconfirmed)} did not run"
                  + (f" ({unconfirmed[0]['status']}: {unconfirmed[0]['message']})" if unconfirmed else ""))
        if cost:
            q = dist["measures"][cost.column]
            print(f"training {cost.unit} per device (estimated from {cost.devices} confirmed devices, leave-one-out "
                  f"error median {100 * cost.loo_median:.1f}% / max {100 * cost.loo_max:.1f}%): p50 {q['p50']:,.0f}, "
                  f"p95 {q['p95']:,.0f}")
        for f in files:
            print(f"wrote {f}")
    if failed or disagree or unconfirmed:
        raise CheckFailed(f"{len(failed)} simulated device(s) did not run, {len(disagree)} confirmed device(s) "
                          f"disagree, {len(unconfirmed)} could not be confirmed on {args.board} (see {md})")
    return 0
