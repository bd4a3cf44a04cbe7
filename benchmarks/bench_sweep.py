"""Wall time of the sweep engine (a benchmark, not a test): a 200-task sweep (kind `reference`: the Python
reference learner over a 600-row drift stream per task, 0.1 to 0.5 s of work each: the five scenarios x ten
seeds x two store policies x two capacities) with 1, 2 and 4 local worker processes, and `fleet` with 1,000
devices (the same learner, 600 rows each) on the local cores. Cluster start-up is timed apart from the run.
Every run is --fresh (no cache). (Tasks that compile C on the host or run emulators take 1 to 10 s each; the
reference keeps the measurement about the engine and the cores, not gcc's and simavr's start-up.)

    PYTHONPATH=src python benchmarks/bench_sweep.py            # -> benchmarks/results/sweep.json, sweep.png
    PYTHONPATH=src python benchmarks/bench_sweep.py --quick    # 40 tasks, 100 devices: a smoke run

Workers beyond the machine's cores share them: on a 2-core machine 4 workers measure the overhead of
oversubscription, not more speed."""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from microlearn.sweep import engine, fleet
from microlearn.sweep.run_sweep import run_sweep
from microlearn.sweep.spec import parse_spec

RESULTS = Path(__file__).resolve().parent / "results"

SPEC = """
[sweep]
name = "bench-200"
kind = "reference"

[grid]
scenario = ["rotating_hyperplane", "switched_means", "sudden_concept", "label_swap", "gradual_blend"]
stream_seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
store = ["all", "mistakes"]
capacity = [40, 60]
"""


def timed_sweep(spec, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        t0 = time.perf_counter()
        with engine.Cluster(workers=workers) as cluster:
            cluster.client().wait_for_workers(workers, timeout=120)
            t1 = time.perf_counter()
            res = run_sweep(spec, out, cluster=cluster, fresh=True, plots_too=False)
            t2 = time.perf_counter()
    statuses = {}
    for r in res.table:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    task_s = sum(r["wall_seconds"] or 0 for r in res.table)
    return {"workers": workers, "tasks": len(res.table), "startup_seconds": round(t1 - t0, 2),
            "run_seconds": round(t2 - t1, 2), "tasks_per_second": round(len(res.table) / (t2 - t1), 2),
            "sum_of_task_seconds": round(task_s, 2), "status": statuses}


def timed_fleet(devices: int, workers: int) -> dict:
    cfg = fleet.FleetConfig(devices=devices, scenarios=("rotating_hyperplane", "switched_means", "sudden_concept",
                                                        "label_swap", "gradual_blend"),
                            batch=fleet.default_batch(devices))
    tasks = fleet.batches(cfg)
    keys = fleet.batch_keys(tasks)
    t0 = time.perf_counter()
    with engine.Cluster(workers=workers) as cluster:
        cluster.client().wait_for_workers(workers, timeout=120)
        t1 = time.perf_counter()
        done = engine.run(tasks, fleet.run_batch, keys, cluster=cluster, label="fleet")
        t2 = time.perf_counter()
    devs = fleet.devices_of(tasks, keys, done.results)
    dist = fleet.distributions(devs)
    return {"devices": devices, "workers": workers, "batches": len(tasks), "batch": cfg.batch,
            "startup_seconds": round(t1 - t0, 2), "run_seconds": round(t2 - t1, 2),
            "devices_per_second": round(devices / (t2 - t1), 2), "ok": dist["ok"],
            "accuracy_p50": dist["measures"]["accuracy"].get("p50")}


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = result["sweep"]
    w = [r["workers"] for r in runs]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].bar([str(x) for x in w], [r["run_seconds"] for r in runs], label="run")
    axes[0].bar([str(x) for x in w], [r["startup_seconds"] for r in runs],
                bottom=[r["run_seconds"] for r in runs], label="cluster start")
    axes[0].set_xlabel(f"local worker processes ({result['machine']['cores']} cores)")
    axes[0].set_ylabel("seconds")
    axes[0].set_title(f"{runs[0]['tasks']}-task sweep (reference learner, 600 rows each)")
    axes[0].legend(fontsize=7)
    axes[1].plot(w, [r["efficiency"] for r in runs], "-o")
    axes[1].axvline(result["machine"]["cores"], color="k", lw=1, ls=":", label="cores")
    axes[1].set_ylim(0, 1.1)
    axes[1].set_xlabel("local worker processes")
    axes[1].set_ylabel("scaling efficiency T1 / (k Tk)")
    f = result["fleet"]
    axes[1].set_title(f"fleet: {f['devices']:,} devices in {f['run_seconds']:.0f} s on {f['workers']} workers",
                      fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 tasks and 100 devices")
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    spec = parse_spec(SPEC if not args.quick else SPEC.replace("stream_seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]",
                                                               "stream_seed = [0, 1]"))
    runs = []
    for k in (int(x) for x in args.workers.split(",")):
        r = timed_sweep(spec, k)
        print(json.dumps(r), flush=True)
        runs.append(r)
    base = runs[0]["run_seconds"] * runs[0]["workers"]
    for r in runs:
        r["speedup"] = round(base / r["run_seconds"], 3)
        r["efficiency"] = round(base / (r["workers"] * r["run_seconds"]), 3)
    cores = os.cpu_count() or 1
    f = timed_fleet(100 if args.quick else 1000, cores)
    print(json.dumps(f), flush=True)
    result = {"machine": {"cores": cores, "python": platform.python_version(), "platform": platform.platform(),
                          "load_average_at_end": list(os.getloadavg())},
              "command": "PYTHONPATH=src python benchmarks/bench_sweep.py" + (" --quick" if args.quick else ""),
              "note": "wall times on a shared machine (other jobs ran on the same cores); workers beyond the cores "
                      "measure oversubscription", "sweep": runs, "fleet": f}
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "sweep.json").write_text(json.dumps(result, indent=1) + "\n")
        plot(result, RESULTS / "sweep.png")
        print(f"wrote {RESULTS / 'sweep.json'} and sweep.png")
    else:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
