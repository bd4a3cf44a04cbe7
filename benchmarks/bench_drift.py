"""Drift benchmark of the self-learning loop: streams with abrupt and gradual drift, the learner
(Python reference, bit-identical to the C learner) against a static model and an oracle.

    python benchmarks/bench_drift.py [--n 900] [--capacity 60] [--window 60] [--out bench_drift.png] [--json]
    python benchmarks/bench_drift.py --target uno   # also run each stream on the target, check agreement
    python benchmarks/bench_drift.py --goals [--seeds 7,8,9] [--drift ddm,window] [--results benchmarks/results/drift]

Table columns: overall accuracy of learner / static / oracle, final-window accuracies, retrains,
rollbacks, and the rows needed after each abrupt drift to come within 5 points of the oracle.

--goals checks issue 12's two goals for each detector on seeds other than the ones DDM's levels were chosen on
(0-5): drift signals over STATIONARY_ROWS rows of stationary streams with 30 % of the labels flipped (goal: 0), and
the rows after each abrupt drift until a `window`-row window is within 5 points of the oracle (goal: at most 2
store capacities); writes <results>.md and .json.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from microlearn.data import streams
from microlearn.learner.simulate import simulate

STREAMS = [
    ("rotating_hyperplane", "abrupt", {}),
    ("switched_means", "abrupt", {}),
    ("sudden_concept", "abrupt", {}),
    ("label_swap", "abrupt", {}),
    ("gradual_blend", "gradual", {}),
]


def recovery(rep):
    out = []
    for d in rep["drift_points"]:
        r = next((w["end"] - d for w in rep["windows"] if w["start"] >= d and w["learner"] >= w["oracle"] - 0.05),
                 None)
        out.append(r)
    return out


STATIONARY_ROWS = 5000
STATIONARY_NOISE = 0.3
# Stationary streams (no drift point) with 30 % of the labels flipped: a hyperplane (two classes; the stream's own
# label noise) and three Gaussian classes (switched_means without a switch; each flipped label goes to one of the
# other two classes at random).
STATIONARY = [("rotating_hyperplane", {"drift_points": ()}), ("switched_means", {"drift_points": ()})]


def stationary(name, seed, extra):
    if name == "rotating_hyperplane":
        return streams.make(name, n=STATIONARY_ROWS, noise=STATIONARY_NOISE, seed=seed, **extra)
    X, y, pts = streams.make(name, n=STATIONARY_ROWS, seed=seed, **extra)
    rng = np.random.default_rng([seed, 30])
    k = int(y.max()) + 1
    flip = rng.random(len(y)) < STATIONARY_NOISE
    y = np.where(flip, (y + rng.integers(1, k, len(y))) % k, y)
    return X, y, pts


def run(n=900, capacity=60, window=60, target=None, seed=0, **kw):
    rows = []
    for name, kind, extra in STREAMS:
        s = streams.make(name, n=n, seed=seed,
                         **({} if name != "gradual_blend" else {"start": n // 3, "width": n // 3}))
        if target:
            from microlearn.learner.runner import loop
            rep = loop(s, target, capacity=capacity, window=window, **extra, **kw)
        else:
            rep = simulate(s, capacity=capacity, window=window, **extra, **kw)
        rep["name"], rep["kind"] = name, kind
        rep["recovery_rows"] = recovery(rep) if kind == "abrupt" else None
        rows.append(rep)
    return rows


def goals(seeds, drifts, n=900, capacity=60, window=60) -> dict:
    """Issue 12's goals per detector and seed: signals on the stationary noisy streams, recovery rows after the
    abrupt drifts (None: never within 5 points before the stream ended), and overall accuracies."""
    out = []
    for drift in drifts:
        for seed in seeds:
            for name, extra in STATIONARY:
                s = stationary(name, seed, extra)
                rep = simulate(s, capacity=capacity, window=window, drift=drift, baselines=False)
                out.append({"check": "stationary", "drift": drift, "seed": seed, "stream": name,
                            "rows": STATIONARY_ROWS, "noise": STATIONARY_NOISE, "signals": len(rep["drift_rows"]),
                            "accuracy": rep["accuracy"]})
            for rep in run(n, capacity, window, seed=seed, drift=drift):
                out.append({"check": "drifting", "drift": drift, "seed": seed, "stream": rep["name"],
                            "kind": rep["kind"], "rows": n, "accuracy": rep["accuracy"],
                            "static_accuracy": rep["static_accuracy"], "oracle_accuracy": rep["oracle_accuracy"],
                            "drift_points": rep["drift_points"], "recovery_rows": rep["recovery_rows"],
                            "signals": len(rep["drift_rows"])})
    return {"seeds": list(seeds), "drifts": list(drifts), "n": n, "capacity": capacity, "window": window,
            "stationary_rows": STATIONARY_ROWS, "noise": STATIONARY_NOISE, "results": out}


def goals_markdown(doc, command) -> str:
    cap2 = 2 * doc["capacity"]
    res = doc["results"]
    L = ["# Issue 12's goals, per drift detector", "",
         f"Command: `{command}` (Python reference, bit-identical to the C learner; capacity {doc['capacity']}, "
         f"window {doc['window']} rows; seeds {doc['seeds']}: DDM's levels were chosen on seeds 0-5).", "",
         f"Goal 1: zero drift signals over {doc['stationary_rows']:,} rows of a stationary stream with "
         f"{doc['noise']:.0%} of the labels flipped.", "",
         "| detector | stream | " + " | ".join(f"seed {s}" for s in doc["seeds"]) + " | total |",
         "|---|---|" + "---|" * (len(doc["seeds"]) + 1)]
    for d in doc["drifts"]:
        for name, _ in STATIONARY:
            sig = [next(r["signals"] for r in res if r["check"] == "stationary" and r["drift"] == d and
                        r["seed"] == s and r["stream"] == name) for s in doc["seeds"]]
            L.append(f"| {d} | {name} | " + " | ".join(str(v) for v in sig) + f" | {sum(sig)} |")
    L += ["", f"Goal 2: after an abrupt drift, a {doc['window']}-row window within 5 points of the oracle in at most "
          f"2 capacities ({cap2} rows). Rows from the drift to the end of the first such window, per drift point "
          f"({doc['n']}-row streams):", "",
          "| detector | stream | " + " | ".join(f"seed {s}" for s in doc["seeds"]) + f" | within {cap2} rows |",
          "|---|---|" + "---|" * (len(doc["seeds"]) + 1)]
    for d in doc["drifts"]:
        for name, kind, _ in STREAMS:
            if kind != "abrupt":
                continue
            rec = [next(r["recovery_rows"] for r in res if r["check"] == "drifting" and r["drift"] == d and
                        r["seed"] == s and r["stream"] == name) for s in doc["seeds"]]
            flat = [v for rs in rec for v in rs]
            ok = sum(v is not None and v <= cap2 for v in flat)
            L.append(f"| {d} | {name} | " + " | ".join(str(rs) for rs in rec) + f" | {ok} / {len(flat)} |")
    L += ["", "Mean prequential accuracy (learner; the drifting streams and the stationary ones):", "",
          "| detector | " + " | ".join([n for n, _, _ in STREAMS] + [f"{n} (stationary)" for n, _ in STATIONARY]) + " |",
          "|---|" + "---|" * (len(STREAMS) + len(STATIONARY))]
    for d in doc["drifts"]:
        cells = []
        for name, _, _ in STREAMS:
            v = [r["accuracy"] for r in res if r["check"] == "drifting" and r["drift"] == d and r["stream"] == name]
            cells.append(f"{sum(v) / len(v):.3f}")
        for name, _ in STATIONARY:
            v = [r["accuracy"] for r in res if r["check"] == "stationary" and r["drift"] == d and r["stream"] == name]
            cells.append(f"{sum(v) / len(v):.3f}")
        L.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(L) + "\n"


def table(rows) -> str:
    head = (f"{'stream':<20} {'kind':<8} {'learner':>7} {'static':>7} {'oracle':>7} {'final L/S/O':>16} "
            f"{'retr':>4} {'rollb':>5}  recovery rows")
    out = [head, "-" * len(head)]
    for r in rows:
        fin = f"{r['final_accuracy']:.2f}/{r['static_final_accuracy']:.2f}/{r['oracle_final_accuracy']:.2f}"
        extra = f"  agree {r['agreement']:.3f}" if "agreement" in r else ""
        out.append(f"{r['name']:<20} {r['kind']:<8} {r['accuracy']:7.3f} {r['static_accuracy']:7.3f} "
                   f"{r['oracle_accuracy']:7.3f} {fin:>16} {len(r['retrains']):4d} {len(r['rollbacks']):5d}  "
                   f"{r['recovery_rows'] if r['recovery_rows'] is not None else '-'}{extra}")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 2.2 * len(rows)), sharex=True)
    for ax, r in zip(axes, rows):
        mid = [(w["start"] + w["end"]) / 2 for w in r["windows"]]
        ax.plot(mid, [w["learner"] for w in r["windows"]], "-o", ms=3, label="learner")
        ax.plot(mid, [w["static"] for w in r["windows"]], "--", label="static")
        ax.plot(mid, [w["oracle"] for w in r["windows"]], ":", label="oracle")
        for x in r["rollbacks"]:
            ax.axvline(x, color="r", alpha=0.5, ls="--", lw=1)
        for x in r["accepted"]:
            ax.axvline(x, color="g", alpha=0.15, lw=1)
        for p in r["drift_points"]:
            ax.axvline(p, color="k", lw=2, alpha=0.5)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(r["name"], fontsize=8)
    axes[0].legend(fontsize=7, loc="lower left")
    axes[-1].set_xlabel("row (green: accepted retrain, red dashed: rollback, black: drift)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description="drift benchmark of the self-learning loop")
    ap.add_argument("--n", type=int, default=900)
    ap.add_argument("--capacity", type=int, default=60)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--target", help="also run on host/uno/nrf52840 (checks agreement)")
    ap.add_argument("--out", default="bench_drift.png")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--goals", action="store_true", help="check issue 12's two goals per detector (see above)")
    ap.add_argument("--seeds", default="7,8,9", help="--goals: stream seeds")
    ap.add_argument("--drift", default=None, help="the detector (ddm or window); --goals: a list, default ddm,window")
    ap.add_argument("--results", default="benchmarks/results/drift", help="--goals: writes <this>.md and .json")
    a = ap.parse_args(argv)
    if a.goals:
        from pathlib import Path
        doc = goals([int(v) for v in a.seeds.split(",") if v], (a.drift or "ddm,window").split(","),
                    a.n, a.capacity, a.window)
        command = "python benchmarks/bench_drift.py " + " ".join(argv if argv is not None else sys.argv[1:])
        text = goals_markdown(doc, command)
        Path(a.results).with_suffix(".json").write_text(json.dumps({"command": command, **doc}, indent=1))
        Path(a.results).with_suffix(".md").write_text(text)
        print(text)
        return
    rows = run(a.n, a.capacity, a.window, a.target, **({"drift": a.drift} if a.drift else {}))
    if a.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "predictions"} for r in rows]))
    else:
        print(table(rows))
    if a.out:
        plot(rows, a.out)
        if not a.json:
            print(f"plot: {a.out}")


if __name__ == "__main__":
    main()
