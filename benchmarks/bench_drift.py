"""Drift benchmark of the self-learning loop: streams with abrupt and gradual drift, the learner
(Python reference, bit-identical to the C learner) against a static model and an oracle.

    python benchmarks/bench_drift.py [--n 900] [--capacity 60] [--window 60] [--out bench_drift.png] [--json]
    python benchmarks/bench_drift.py --target uno   # also run each stream on the target, check agreement

Table columns: overall accuracy of learner / static / oracle, final-window accuracies, retrains,
rollbacks, and the rows needed after each abrupt drift to come within 5 points of the oracle.
"""
from __future__ import annotations

import argparse
import json

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


def run(n=900, capacity=60, window=60, target=None, **kw):
    rows = []
    for name, kind, extra in STREAMS:
        s = streams.make(name, n=n, **({} if name != "gradual_blend" else {"start": n // 3, "width": n // 3}))
        if target:
            from microlearn.learner.runner import loop
            rep = loop(s, target, capacity=capacity, window=window, **extra, **kw)
        else:
            rep = simulate(s, capacity=capacity, window=window, **extra, **kw)
        rep["name"], rep["kind"] = name, kind
        rep["recovery_rows"] = recovery(rep) if kind == "abrupt" else None
        rows.append(rep)
    return rows


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
    a = ap.parse_args(argv)
    rows = run(a.n, a.capacity, a.window, a.target)
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
