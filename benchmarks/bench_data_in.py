"""Training data beyond SRAM (issue 13): the samples in RAM, in flash (a const table) or behind a read callback.

Measures with microlearn.trainer.runner.train_and_report (the training call alone; agreement with the Python
reference checked on every run) and plans with microlearn.trainer.planner.plan:
- the cost of reading the rows from flash: Iris setosa vs rest, first 100 rows (int8, feature range (0, 8)) on
  the uno (exact cycles) and float32 on the nrf52840 (instructions), RAM vs flash vs callback;
- the seeds' breast-cancer protocol (tools/experiments.data("cancer", "shuffled"): 398 training rows, 30
  features min-max scaled, 171 test rows) on the uno with the samples in flash: int8 and int16 planned, the
  largest capacity that fits trained; the whole protocol in RAM on the nrf52840 for comparison;
- digits 6 vs rest (1,258 training rows, 64 features, int8) on the samd21 and the bluepill with the samples in
  flash, and in RAM on the nrf52840 for comparison.

    PYTHONPATH=src python benchmarks/bench_data_in.py [--quick]   # writes benchmarks/results/data_in.{json,md}
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from microlearn.data.datasets import load
from microlearn.targets.errors import DoesNotFit
from microlearn.tools.experiments import data
from microlearn.trainer.planner import plan
from microlearn.trainer.runner import train_and_report

OUT = Path(__file__).resolve().parent / "results"
KEYS = ("status", "iterations", "python_iterations", "accuracy", "python_accuracy", "agreement", "max_alpha_diff",
        "intercept_identical", "flash_bytes", "sram_bytes", "static_ram_bytes", "stack_bytes", "buffer_bytes",
        "cycles", "instructions")


def run(case, X, y, Xt, yt, board, data_in, **params):
    rec = {"case": case, "board": board, "data_in": data_in, "n_train": len(X), "n_features": X.shape[1],
           "storage": params.get("storage", "float32")}
    p = plan(board, X.shape[1], len(X), 2, storage=rec["storage"], data_in=data_in, with_max=False) \
        if board != "host" else None
    if p is not None:
        rec.update(plan_sram_bytes=p.sram_bytes, plan_flash_bytes=p.flash_bytes, plan_fits=p.fits, plan_over=p.over)
    try:
        r = train_and_report(X, y, Xt, yt, board, data_in=data_in, timeout=3600, **params)
        rec.update({k: r[k] for k in KEYS})
    except DoesNotFit as exc:
        rec.update(status="does_not_fit", message=str(exc))
    print(json.dumps(rec), flush=True)
    return rec


def main(argv):
    quick = "--quick" in argv
    rows = []
    X, y = load("iris")
    Xi, yi = X[:100].astype(np.float32), (y[:100] == 0).astype(int)
    for di in ("ram", "flash", "callback"):
        rows.append(run("iris-100", Xi, yi, Xi, yi, "uno", di, storage="int8", feature_range=(0, 8)))
        rows.append(run("iris-100", Xi, yi, Xi, yi, "nrf52840", di, storage="float32"))
    rows.append(run("iris-100", Xi, yi, Xi, yi, "uno", "flash", storage="float32"))
    if not quick:
        Xtr, Xte, ytr, yte = data("cancer", "shuffled")
        for st in ("int8", "int16"):
            rows.append(run("cancer-398", Xtr, ytr, Xte, yte, "uno", "flash", storage=st, feature_range=(0, 1)))
        from microlearn.trainer.planner import max_capacity
        cap = max_capacity("uno", Xtr.shape[1], 2, storage="int8", data_in="flash")
        cap_ram = max_capacity("uno", Xtr.shape[1], 2, storage="int8")
        print(json.dumps({"uno cancer int8 largest capacity": {"flash": cap, "ram": cap_ram}}), flush=True)
        rows.append(run(f"cancer-first-{cap}", Xtr[:cap], ytr[:cap], Xte, yte, "uno", "flash", storage="int8",
                        feature_range=(0, 1)))
        rows.append(run(f"cancer-first-{cap}", Xtr[:cap], ytr[:cap], Xte, yte, "nrf52840", "ram", storage="int8",
                        feature_range=(0, 1)))
        rows.append(run("cancer-398", Xtr, ytr, Xte, yte, "nrf52840", "ram", storage="int8", feature_range=(0, 1)))
        Xd, Xdt, yd, ydt = data("digits6", "shuffled")
        for board in ("samd21", "bluepill"):
            rows.append(run("digits6-1258", Xd, yd, Xdt, ydt, board, "flash", storage="int8", feature_range=(0, 1)))
        rows.append(run("digits6-1258", Xd, yd, Xdt, ydt, "nrf52840", "ram", storage="int8", feature_range=(0, 1)))
    OUT.mkdir(exist_ok=True)
    (OUT / "data_in.json").write_text(json.dumps(rows, indent=1, default=str))
    md = ["| case | board | data in | storage | status | iterations | cost | flash B | SRAM B | accuracy | agreement |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] == "does_not_fit":
            md.append(f"| {r['case']} | {r['board']} | {r['data_in']} | {r['storage']} | does not fit: "
                      f"{r.get('plan_over')} | | | {r.get('plan_flash_bytes')} (plan) | {r.get('plan_sram_bytes')} (plan) | | |")
            continue
        cost = f"{r['cycles']:,} cycles" if r.get("cycles") else f"{r['instructions']:,} instr"
        md.append(f"| {r['case']} | {r['board']} | {r['data_in']} | {r['storage']} | {r['status']} | {r['iterations']} | "
                  f"{cost} | {r['flash_bytes']:,} | {r['sram_bytes']:,} | {r['accuracy']:.4f} | {r['agreement']:.0%} |")
    (OUT / "data_in.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
