"""Does the file order decide DDM's loss on ImageSegments at capacity 60? The stationary dataset (river's
ImageSegments, 2,310 rows, 7 classes) in its file order and in seeded shuffles of the same rows, through the SVM
learner (capacity 60, Python reference, bit-exact with the C) with the window detector, DDM at its default levels
(2.5 / 4.0) and DDM at Gama et al.'s (2.0 / 3.0). Each order is scaled as bench_river scales a stream (min-max of
its own first 200 rows, clipped). Not a timed test; river is a benchmark-only dependency.

    python benchmarks/bench_order.py [--seeds 0,1,2,7,8,9] [--capacity 60] [--out benchmarks/results/order]

Seeds 0-2 are the tuning orders, 7-9 the unseen ones (bench_river's convention). Writes order.md and order.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_river as br  # noqa: E402
from microlearn.learner.simulate import run_reference  # noqa: E402

POLICIES = [("window", {"drift": "window"}), ("ddm", {"drift": "ddm"}),
            ("ddm 2.0/3.0", {"drift": "ddm", "ddm_warn_k10": 20, "ddm_drift_k10": 30})]


def run(seeds, capacity=60, name="image_segments"):
    Xr, yr, nc, _ = br.stream(name, None, 0)
    out = []
    for seed in [None] + list(seeds):
        idx = np.arange(len(yr)) if seed is None else np.random.default_rng(seed).permutation(len(yr))
        X, y = br.scale(Xr[idx]), yr[idx]
        for pol, kw in POLICIES:
            cfg = br.learner_config({"model": "svm", "capacity": capacity, **kw}, X.shape[1], nc)
            r = run_reference(cfg, X, y)
            ok = r["predictions"] == y
            out.append({"order": "file" if seed is None else seed, "policy": pol, "accuracy": float(ok.mean()),
                        "accuracy_after_200": float(ok[br.PREFIX:].mean()), "signals": len(r["drift_rows"]),
                        "retrains": len(r["retrains"]), "accepted": len(r["accepted"]),
                        "per_200": [float(ok[i:i + 200].mean()) for i in range(0, len(y), 200)]})
            print(json.dumps({k: v for k, v in out[-1].items() if k != "per_200"}), flush=True)
    return out


def markdown(doc) -> str:
    res = doc["results"]
    orders = list(dict.fromkeys(r["order"] for r in res))
    L = ["# ImageSegments at capacity 60: the file order against shuffled orders", "",
         f"Command: `{doc['command']}` (Python reference learners; each order scaled on its own first 200 rows).", "",
         "Prequential accuracy (%) / drift signals / accepted models:", "",
         "| order | " + " | ".join(p for p, _ in POLICIES) + " |", "|---|" + "---|" * len(POLICIES)]
    for o in orders:
        cells = []
        for p, _ in POLICIES:
            r = next(x for x in res if x["order"] == o and x["policy"] == p)
            cells.append(f"{r['accuracy'] * 100:.1f} / {r['signals']} / {r['accepted']}")
        L.append(f"| {o} | " + " | ".join(cells) + " |")
    L += ["", "Mean over the shuffled orders (%): " + ", ".join(
        f"{p} {np.mean([x['accuracy'] for x in res if x['policy'] == p and x['order'] != 'file']) * 100:.1f}"
        for p, _ in POLICIES) + "."]
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,7,8,9")
    ap.add_argument("--capacity", type=int, default=60)
    ap.add_argument("--out", default="benchmarks/results/order")
    a = ap.parse_args(argv)
    res = run([int(v) for v in a.seeds.split(",") if v], a.capacity)
    doc = {"command": "python benchmarks/bench_order.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "capacity": a.capacity, "results": res}
    out = Path(a.out)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
