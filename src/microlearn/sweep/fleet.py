"""A fleet of simulated devices: device i learns from its own seeded drift scenario (data/streams.py,
seed = base seed + i) with the bit-exact Python reference learner (learner.simulate); devices go to the
workers in batches (one Dask task per batch: a device takes ~0.2 s, so a task per device would be mostly
overhead). `confirm` picks devices at random (seeded) and runs each on an emulated board with
learner.runner.loop, which compares the C loop with the reference row by row."""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

import numpy as np

from microlearn.learner.simulate import simulate

from microlearn.boards import power

from . import train_cost
from .keys import fingerprint, task_key
from .tasks import event_counts, learner_options, run_task, runtime_mismatch, stream_for

MAX_DEVICES = 1_000_000
DEVICE_MEASURES = ("accuracy", "final_accuracy", "retrains", "accepted", "rollbacks", "failed", "mistakes",
                   "dropped", "train_iterations", "train_rows", "train_work")


@dataclass
class FleetConfig:
    devices: int
    scenarios: tuple[str, ...]
    rows: int = 600
    seed: int = 0
    n_features: int = 4
    window: int = 100
    learner: dict | None = None
    batch: int = 25

    def device_params(self, i: int) -> dict:
        return {"scenario": self.scenarios[i % len(self.scenarios)], "stream_seed": self.seed + i, "rows": self.rows,
                "n_features": self.n_features, "window": self.window, **(self.learner or {})}


def batches(cfg: FleetConfig) -> list[dict]:
    """The fleet's tasks: consecutive device ids, `batch` per task."""
    out = []
    for start in range(0, cfg.devices, cfg.batch):
        ids = list(range(start, min(cfg.devices, start + cfg.batch)))
        # the measures are part of the key: a batch cached before a measure existed is computed again
        out.append({"kind": "fleet", "devices": [[i, cfg.device_params(i)] for i in ids], "runtime": fingerprint(),
                    "measures": list(DEVICE_MEASURES)})
    return out


def batch_keys(tasks: list[dict]) -> list[str]:
    runtime = fingerprint()
    return [task_key(t, runtime) for t in tasks]


def run_device(i: int, p: dict) -> dict:
    t0 = time.perf_counter()
    rec = {"device": i, "scenario": p["scenario"], "stream_seed": p["stream_seed"]}
    try:
        X, y, drift = stream_for(p)
        raw = simulate((X, y, drift), window=p["window"], baselines=False, **learner_options(p))
        r = event_counts(raw)
        # what a training costs grows with its rows and its iterations x rows (train_cost.py fits it)
        iters, sizes = raw.get("train_iterations") or [], raw.get("train_sizes") or []
        r["train_rows"] = int(sum(sizes))
        r["train_work"] = int(sum(n * t for n, t in zip(sizes, iters)))
        rec.update({k: r.get(k) for k in DEVICE_MEASURES}, status="ok")
    except (ValueError, ArithmeticError, MemoryError) as exc:
        rec.update(status="error", message=(str(exc).splitlines() or [""])[0][:300])
    rec["wall_seconds"] = round(time.perf_counter() - t0, 4)
    return rec


def run_batch(task: dict) -> dict:
    """On a worker: every device of the batch; a device that fails is its own error row."""
    wrong = runtime_mismatch(task)
    if wrong is not None:
        return wrong
    return {"status": "ok", "devices": [run_device(i, p) for i, p in task["devices"]], "fingerprint": fingerprint()}


def devices_of(tasks: list[dict], keys: list[str], results: dict[str, dict]) -> list[dict]:
    """One row per device, in device order; a batch that failed on the cluster gives error rows."""
    rows = []
    for t, k in zip(tasks, keys):
        res = results.get(k) or {"status": "missing"}
        if res.get("devices") is not None:
            rows += res["devices"]
        else:
            rows += [{"device": i, "scenario": p["scenario"], "stream_seed": p["stream_seed"],
                      "status": res.get("status", "error"), "message": res.get("message")}
                     for i, p in t["devices"]]
    return rows


def confirm_tasks(cfg: FleetConfig, k: int, board: str, timeout: float) -> list[dict]:
    """k devices chosen at random (seeded by the fleet's seed), as `loop` tasks on `board`."""
    ids = sorted(random.Random(cfg.seed).sample(range(cfg.devices), min(k, cfg.devices)))
    return [{"kind": "loop", "device": i, "timeout": timeout, "baselines": False, "runtime": fingerprint(),
             "params": {"target": board, **cfg.device_params(i)}} for i in ids]


def run_confirm(task: dict) -> dict:
    """On a worker: the device's loop on the board (run_task: tool checks, errors as a status)."""
    rec = run_task(task)
    rec["device"] = task["device"]
    return rec


def confirm_rows(tasks, keys, results, devices: list[dict]) -> list[dict]:
    by_id = {d["device"]: d for d in devices}
    rows = []
    for t, k in zip(tasks, keys):
        r = results.get(k) or {"status": "missing"}
        ref = by_id.get(t["device"], {})
        rows.append({"device": t["device"], "target": t["params"]["target"], "scenario": t["params"]["scenario"],
                     "status": r.get("status"), "agreement": r.get("agreement"), "same_events": r.get("same_events"),
                     "device_accuracy": r.get("accuracy"), "reference_accuracy": ref.get("accuracy"),
                     "same_accuracy": (r.get("accuracy") == ref.get("accuracy")) if r.get("accuracy") is not None
                     else None, "cycles": r.get("cycles"), "instructions": r.get("instructions"),
                     "train_cycles": r.get("train_cycles"), "train_instructions": r.get("train_instructions"),
                     "cpi_est": r.get("cpi_est"), "clock_hz": r.get("clock_hz"),
                     "sram_bytes": r.get("sram_bytes"), "message": r.get("message")})
    return rows


def estimate_train_cost(devices: list[dict], confirm: list[dict]) -> train_cost.CostModel | None:
    """Fit the training cost on the confirmed devices and write the estimate into every device's row
    (column train_cycles_est / train_instructions_est); None (rows untouched) with too few confirmed."""
    model = train_cost.fit(devices, confirm)
    if model is None:
        return None
    board, clock = confirm[0]["target"], confirm[0].get("clock_hz")
    # seconds: cycles / clock; instructions x the confirmed runs' mean estimated cycles per instruction
    cpis = [c["cpi_est"] for c in confirm if c.get("cpi_est")]
    per_count = (1.0 if model.unit == "cycles" else (float(np.mean(cpis)) if cpis else None))
    for d in devices:
        d[model.column] = est = model.predict(d)
        seconds = est * per_count / clock if est is not None and per_count and clock else None
        d["train_energy_mj_est"] = power.energy_mj(board, seconds)
    return model


def quantiles(values) -> dict:
    v = np.asarray([x for x in values if x is not None], float)
    if not len(v):
        return {"n": 0}
    q = np.percentile(v, [5, 25, 50, 75, 95])
    return {"n": int(len(v)), "mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
            "p5": float(q[0]), "p25": float(q[1]), "p50": float(q[2]), "p75": float(q[3]), "p95": float(q[4]),
            "max": float(v.max())}


def distributions(devices: list[dict], extra: tuple[str, ...] = ()) -> dict:
    """Per measure (and the `extra` columns) its quantiles over the fleet, overall and per scenario; counts
    of retrains and rollbacks."""
    ok = [d for d in devices if d.get("status") == "ok"]
    out = {"devices": len(devices), "ok": len(ok), "measures": {m: quantiles(d.get(m) for d in ok)
                                                                for m in (*DEVICE_MEASURES, *extra)}}
    out["by_scenario"] = {}
    for s in sorted({d["scenario"] for d in ok}):
        rs = [d for d in ok if d["scenario"] == s]
        out["by_scenario"][s] = {m: quantiles(d.get(m) for d in rs) for m in ("accuracy", "retrains", "rollbacks")}
    for m in ("retrains", "rollbacks"):
        counts: dict[int, int] = {}
        for d in ok:
            counts[int(d[m])] = counts.get(int(d[m]), 0) + 1
        out[f"{m}_histogram"] = dict(sorted(counts.items()))
    return out


def markdown(dist: dict, confirm: list[dict], command: str, wall: float, computed: int, cached: int,
             cost_model: train_cost.CostModel | None = None) -> str:
    lines = [f"# Fleet of {dist['devices']:,} simulated devices", "",
             f"Command: `{command}`; {wall:.1f} s wall; {computed} batches computed, {cached} from the cache. "
             f"{dist['ok']:,} devices ran (the bit-exact Python reference learner).", "",
             "| measure | mean | std | min | p5 | p25 | p50 | p75 | p95 | max |", "|---|" + "---|" * 9]
    for m, q in dist["measures"].items():
        if q.get("n"):
            lines.append(f"| {m} | " + " | ".join(f"{q[k]:.4g}" for k in ("mean", "std", "min", "p5", "p25", "p50",
                                                                           "p75", "p95", "max")) + " |")
    lines += ["", "## Per scenario", "", "| scenario | devices | accuracy p5 / p50 / p95 | retrains p50 | "
              "rollbacks mean |", "|---|---|---|---|---|"]
    for s, qs in dist["by_scenario"].items():
        a = qs["accuracy"]
        lines.append(f"| {s} | {a['n']} | {a['p5']:.3f} / {a['p50']:.3f} / {a['p95']:.3f} | "
                     f"{qs['retrains']['p50']:.0f} | {qs['rollbacks']['mean']:.2f} |")
    for m in ("retrains", "rollbacks"):
        h = dist[f"{m}_histogram"]
        lines += ["", f"{m.capitalize()} per device: " + ", ".join(f"{k}: {v}" for k, v in h.items())]
    if confirm:
        agree = sum(1 for c in confirm if c["agreement"] == 1.0 and c["same_events"])
        ran = sum(1 for c in confirm if c["status"] == "ok")
        lines += ["", f"## Confirmed on {confirm[0]['target']}", "",
                  f"{agree} of {len(confirm)} sampled devices agree with the reference row by row (predictions, "
                  f"retrains, accepts and rollbacks); {len(confirm) - ran} did not run on the board (see the "
                  "message in confirm.csv).", "",
                  "| device | scenario | status | agreement | same events | accuracy (device / reference) | cost |",
                  "|---|---|---|---|---|---|---|"]
        for c in confirm:
            cost = c["cycles"] if c["cycles"] is not None else c["instructions"]
            unit = " cycles" if c["cycles"] is not None else " instructions"
            lines.append(f"| {c['device']} | {c['scenario']} | {c['status']} | {_num(c['agreement'])} | "
                         f"{_num(c['same_events'])} | {_num(c['device_accuracy'])} / {_num(c['reference_accuracy'])} | "
                         f"{f'{cost:,}{unit}' if cost is not None else '-'} |")
    lines += ["", "## Training cost across the fleet", ""] + cost_lines(cost_model, dist, confirm)
    return "\n".join(lines) + "\n"


def cost_lines(cost: train_cost.CostModel | None, dist: dict, confirm: list[dict]) -> list[str]:
    if cost is None:
        return [f"Not estimated: it is fitted on at least {train_cost.MIN_DEVICES} confirmed devices that agree "
                f"with the reference (--confirm K with K >= {train_cost.MIN_DEVICES}); {len(confirm)} confirmed."]
    q = dist["measures"].get(cost.column, {})
    terms = " + ".join(f"{v:,.1f} x {f}" for f, v in cost.coef.items())
    board = confirm[0]["target"]
    e = dist["measures"].get("train_energy_mj_est", {})
    energy = ([f"Training energy per device (an estimate: the datasheet's run current x supply x that time, "
               f"docs/energy.md): p50 {e['p50']:.3g} mJ, p95 {e['p95']:.3g} mJ."] if e.get("n") else
              [f"No training energy: {power.why_no_energy(board)}."])
    out = [f"Training {cost.unit} of every device, estimated from the {cost.devices} confirmed devices' exact "
           f"counts on {confirm[0]['target']} ({'simavr cycles' if cost.unit == 'cycles' else 'qemu instructions'}"
           f", summed over each device's trainings): {cost.unit} = {terms} (non-negative least squares on what "
           "the reference learner's trainings did). Leaving each confirmed device out and predicting it from the "
           f"others: median error {100 * cost.loo_median:.1f}%, largest {100 * cost.loo_max:.1f}%."]
    if q.get("n"):
        out += ["", f"| {cost.column} | mean | p5 | p50 | p95 | max |", "|---|---|---|---|---|---|",
                f"| {q['n']:,} devices | " + " | ".join(f"{q[k]:,.0f}" for k in ("mean", "p5", "p50", "p95", "max"))
                + " |"]
    return out + [""] + energy


def _num(v) -> str:
    return "-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def plot(devices: list[dict], path, cost_column: str | None = None) -> None:
    """Accuracy by scenario, retrains and rollbacks per device, and (with a fitted cost model) the estimated
    training cost per device."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [d for d in devices if d.get("status") == "ok"]
    costs = [d[cost_column] for d in ok if cost_column and d.get(cost_column) is not None]
    fig, axes = plt.subplots(1, 4 if costs else 3, figsize=(17 if costs else 13, 3.6))
    scen = sorted({d["scenario"] for d in ok})
    axes[0].hist([[d["accuracy"] for d in ok if d["scenario"] == s] for s in scen], bins=30, stacked=True,
                 label=scen)
    axes[0].set_xlabel("accuracy over the stream")
    axes[0].set_ylabel("devices")
    axes[0].legend(fontsize=6)
    for ax, m in zip(axes[1:], ("retrains", "rollbacks")):
        vals = [int(d[m]) for d in ok]
        hi = max(vals) if vals else 0
        ax.hist(vals, bins=range(0, hi + 2), align="left", rwidth=0.85)
        ax.set_xlabel(f"{m} per device")
    if costs:
        axes[3].hist(costs, bins=30)
        axes[3].set_xlabel(f"{cost_column.replace('_', ' ')} (estimate)")
    fig.suptitle(f"{len(ok):,} simulated devices")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def check_count(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi:,}, got {v!r}")
    return v


DEFAULT_BATCH = 25


def default_batch(devices: int) -> int:
    """Devices per task: 25 (~5 s of work), fewer for a small fleet so that it still spreads over a few
    workers. It depends on the fleet alone, not on the cluster: the batches are the cache's keys, so the same
    fleet resumes from its cache on one worker or on a hundred."""
    return max(1, min(DEFAULT_BATCH, math.ceil(devices / 8)))
