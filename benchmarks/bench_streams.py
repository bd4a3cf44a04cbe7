"""Drift detectors and learners of the self-learning loop compared on the project's streams (not a timed test).

    python benchmarks/bench_streams.py [--n 900] [--stationary-n 5000] [--seeds 0,1,2] [--targets uno,nrf52840]
                                       [--river] [--out benchmarks/results/streams]

For every stream (a stationary one with 30 % label noise, abrupt and gradual drift from microlearn.data.streams)
and every combination of learner (--model svm | online) and detector (--drift window | ddm), the Python reference
(bit-identical to the C learners) gives: prequential accuracy (each row predicted before its label is learned),
drift signals, false alarms (signals before the first drift, or anywhere on the stationary stream), detection
delay (rows from each abrupt drift to the first signal at or after it, within one capacity counted as found),
and the learner's static state in bytes. --targets runs a short stream (200 rows) on the emulated boards for
the cost per row: uno cycles (simavr, exact) and nrf52840 instructions (qemu), with agreement.
--river: the same streams through river's PA-II (PAClassifier, one-vs-rest), Perceptron and its DDM on that
learner's errors, as outside references (a benchmark-only dependency: pip install microlearn[bench]).
Writes streams.json and streams.png next to --out.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from microlearn.data import streams
from microlearn.learner import codegen as lc
from microlearn.learner.config import LearnerConfig
from microlearn.learner.simulate import run_reference

LEARNERS = [("svm", "window"), ("svm", "ddm"), ("online", "window"), ("online", "ddm")]
ONLINE_CAPACITY = 16   # held-out rows of the online learner (its only store)


def make_streams(n: int, stationary_n: int, seed: int) -> list[tuple[str, str, streams.Stream]]:
    return [
        ("stationary_noise30", "none", streams.rotating_hyperplane(n=stationary_n, drift_points=(), noise=0.3,
                                                                   seed=seed)),
        ("switched_means", "abrupt", streams.make("switched_means", n=n, seed=seed)),
        ("label_swap", "abrupt", streams.make("label_swap", n=n, seed=seed)),
        ("sudden_concept", "abrupt", streams.make("sudden_concept", n=n, seed=seed)),
        ("rotating_hyperplane", "gradual", streams.make("rotating_hyperplane", n=n, seed=seed)),
        ("gradual_blend", "gradual", streams.make("gradual_blend", n=n, seed=seed, start=n // 3, width=n // 3)),
    ]


def config(model: str, drift: str, s, capacity: int = 60) -> LearnerConfig:
    X, y = s.X, s.y
    return LearnerConfig(n_features=X.shape[1], n_classes=int(y.max()) + 1, model=model, drift=drift,
                         capacity=ONLINE_CAPACITY if model == "online" else capacity)


def state_bytes(cfg: LearnerConfig) -> int:
    """Static buffers of the learner (what its MLRN_*_DEFINE declares; the struct is on top: ~100-400 B)."""
    return int(sum(lc.buffer_bytes(cfg).values()))


def figures(kind: str, s, ref, cfg) -> dict:
    X, y, pts = s.X, s.y, s.drift_points
    preds = ref["predictions"]
    rows = ref["drift_rows"]
    first = pts[0] if pts else len(X)
    delays = []
    if kind == "abrupt":
        for p in pts:
            nxt = [r - p for r in rows if r >= p]
            delays.append(nxt[0] if nxt and nxt[0] < cfg.capacity else None)
    return {"accuracy": float(np.mean(preds == y)), "signals": len(rows), "drift_rows": rows,
            "false_alarms": sum(1 for r in rows if r < first), "delays": delays,
            "retrains": len(ref["retrains"]), "rollbacks": len(ref["rollbacks"]), "state_bytes": state_bytes(cfg)}


def river_figures(kind, s) -> dict:
    """river's PA-II / Perceptron (prequential: predict_one then learn_one) and river's DDM on PA-II's errors."""
    from river import drift, linear_model, multiclass
    X, y, pts = s.X, s.y, s.drift_points
    out = {}
    nc = int(y.max()) + 1
    for name, make in (("river_pa2", lambda: linear_model.PAClassifier(C=1.0, mode=2)),
                       ("river_perceptron", lambda: linear_model.Perceptron())):
        model = make() if nc == 2 else multiclass.OneVsRestClassifier(make())
        det = drift.binary.DDM()
        ok, rows = 0, []
        for i in range(len(X)):
            xi = {k: float(v) for k, v in enumerate(X[i])}
            p = model.predict_one(xi)
            yi = bool(y[i]) if nc == 2 else int(y[i])
            wrong = p != yi
            ok += not wrong
            det.update(wrong)
            if det.drift_detected:
                rows.append(i)
            model.learn_one(xi, yi)
        first = pts[0] if pts else len(X)
        delays = []
        if kind == "abrupt":
            for p_ in pts:
                nxt = [r - p_ for r in rows if r >= p_]
                delays.append(nxt[0] if nxt and nxt[0] < 60 else None)
        out[name] = {"accuracy": ok / len(X), "signals": len(rows), "false_alarms": sum(r < first for r in rows),
                     "delays": delays}
    return out


def target_costs(targets, n=200) -> list[dict]:
    from microlearn.learner.runner import loop
    out = []
    s = streams.make("switched_means", n=n, drift_points=(n // 2,))
    for tgt in targets:
        for model, drift in (("svm", "window"), ("svm", "ddm"), ("online", "window"), ("online", "ddm")):
            kw = dict(model=model, drift=drift, capacity=ONLINE_CAPACITY if model == "online" else 40, budget=20)
            rep = loop(s, tgt, window=100, baselines=False, **kw)
            cost = rep.get("cycles") if rep.get("cycles") is not None else rep.get("instructions")
            out.append({"target": tgt, "model": model, "drift": drift, "rows": n, "capacity": kw["capacity"],
                        "agreement": rep["agreement"], "same_events": rep["same_events"],
                        "unit": "cycles" if rep.get("cycles") is not None else "instructions",
                        "per_row": cost / n if cost else None, "total": cost, "sram_bytes": rep["sram_bytes"],
                        "flash_bytes": rep["flash_bytes"], "drifts": rep["drifts"]})
            print(f"  {tgt:<9} {model:<6} {drift:<6} {out[-1]['per_row']:>12,.0f} {out[-1]['unit']}/row  SRAM "
                  f"{rep['sram_bytes']} B  flash {rep['flash_bytes']} B  agreement {rep['agreement']}", flush=True)
    return out


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(dict.fromkeys(r["stream"] for r in results))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    width = 0.2
    for k, (model, drift) in enumerate(LEARNERS):
        acc = [np.mean([r["accuracy"] for r in results if r["stream"] == n and r["model"] == model
                        and r["drift"] == drift]) for n in names]
        sig = [np.mean([r["signals"] for r in results if r["stream"] == n and r["model"] == model
                        and r["drift"] == drift]) for n in names]
        xs = np.arange(len(names)) + (k - 1.5) * width
        axes[0].bar(xs, acc, width, label=f"{model}/{drift}")
        axes[1].bar(xs, sig, width, label=f"{model}/{drift}")
    for ax, t in zip(axes, ("prequential accuracy", "drift signals (mean over seeds)")):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=25, fontsize=7, ha="right")
        ax.set_title(t, fontsize=9)
    axes[1].set_yscale("symlog")
    axes[0].set_ylim(0, 1)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=900)
    ap.add_argument("--stationary-n", type=int, default=5000)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--targets", default="", help="comma-separated boards for the cost per row (e.g. uno,nrf52840)")
    ap.add_argument("--river", action="store_true", help="also river's PA-II, Perceptron and DDM (if installed)")
    ap.add_argument("--out", default="benchmarks/results/streams")
    a = ap.parse_args(argv)
    results, river = [], []
    t0 = time.time()
    for seed in [int(v) for v in a.seeds.split(",")]:
        for name, kind, s in make_streams(a.n, a.stationary_n, seed):
            for model, drift in LEARNERS:
                cfg = config(model, drift, s)
                ref = run_reference(cfg, s.X, s.y)
                r = {"stream": name, "kind": kind, "seed": seed, "model": model, "drift": drift,
                     "capacity": cfg.capacity, "rows": len(s.X), **figures(kind, s, ref, cfg)}
                results.append(r)
                print(f"{name:<20} seed {seed} {model:<6} {drift:<6} acc {r['accuracy']:.3f} signals "
                      f"{r['signals']:4d} false {r['false_alarms']:3d} delays {r['delays']} state {r['state_bytes']} B",
                      flush=True)
            if a.river:
                rf = river_figures(kind, s)
                for k, v in rf.items():
                    river.append({"stream": name, "kind": kind, "seed": seed, "learner": k, **v})
                    print(f"{name:<20} seed {seed} {k:<16} acc {v['accuracy']:.3f} ddm signals {v['signals']} "
                          f"false {v['false_alarms']} delays {v['delays']}", flush=True)
    costs = target_costs([t for t in a.targets.split(",") if t]) if a.targets else []
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"command": "python benchmarks/bench_streams.py " + " ".join(argv or []), "n": a.n,
           "stationary_n": a.stationary_n, "online_capacity": ONLINE_CAPACITY, "svm_capacity": 60,
           "results": results, "river": river, "target_costs": costs, "seconds": round(time.time() - t0, 1)}
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    plot(results, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
