"""The trainer cases of docs/trainer.md's cost table: one training call on an emulated board, measured
by microlearn.trainer.runner.train_and_report (exact cycles on the uno, executed instructions on the
Cortex-M4F). Linear kernel, C=1, wss2 (SMOClassifier's defaults); train and test on the same rows;
int8 storage with the feature range (0, 8) for Iris (its values are within it).

    python benchmarks/bench_trainer_cases.py      # writes benchmarks/results/trainer_cases.{json,md}
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import StandardScaler

from microlearn.trainer.runner import train_and_report

OUT = Path(__file__).resolve().parent / "results"


def cases():
    X, y = load_iris(return_X_y=True)
    Xi, yi = X[:100].astype(np.float32), (y[:100] == 0).astype(int)       # setosa vs rest, first 100 rows
    Xc, yc = load_breast_cancer(return_X_y=True)
    Xs = StandardScaler().fit_transform(Xc)[:60].astype(np.float32)       # standardised on all rows, first 60
    return [("Iris setosa vs rest, first 100 rows", Xi, yi, "uno", {"storage": "int8", "feature_range": (0, 8)}),
            ("Iris setosa vs rest, first 100 rows", Xi, yi, "nrf52840", {"storage": "float32"}),
            ("breast cancer, first 60 rows, standardised", Xs, yc[:60], "nrf52840", {"storage": "float32"})]


def main():
    rows = []
    for name, X, y, target, params in cases():
        r = train_and_report(X, y, X, y, target, **params)
        rows.append({"case": name, "target": target, "storage": params["storage"], "status": r["status"],
                     "iterations": r["iterations"], "cycles": r.get("cycles"),
                     "instructions": r.get("instructions"), "sram_bytes": r.get("sram_bytes"),
                     "agreement": r["agreement"]})
        print(json.dumps(rows[-1]), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "trainer_cases.json").write_text(json.dumps(rows, indent=1))
    md = ["| case | board | storage | iterations | cost | SRAM B | agreement |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cost = f"{r['cycles']:,} cycles" if r["cycles"] else f"{r['instructions']:,} instructions"
        md.append(f"| {r['case']} | {r['target']} | {r['storage']} | {r['iterations']} | {cost} | "
                  f"{r['sram_bytes']} | {r['agreement']:.0%} |")
    (OUT / "trainer_cases.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
