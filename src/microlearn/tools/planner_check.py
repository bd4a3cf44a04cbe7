"""Planner vs measured: build (and run) the driver over a grid of configurations on a board and compare
with `microlearn.plan`. Static SRAM must agree exactly; total SRAM and flash within 10%.

    python -m microlearn.tools.planner_check [--boards uno,nrf52840] [--full] [--out results.json]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from concurrent.futures import ProcessPoolExecutor

from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit
from microlearn.trainer.planner import plan_config

from .measure import config, measure

# (storage, kernel, capacity, classes, features, solver, multiclass)
SMALL_GRID = [
    ("float32", "linear", 10, 2, 4, "wss2", "ovo"),
    ("int8", "linear", 37, 2, 3, "wss2", "ovo"),
    ("int16", "rbf", 21, 3, 5, "simplified", "ovo"),
    ("int8", "poly", 13, 4, 7, "wss2", "ovr"),
    ("float32", "sigmoid", 9, 3, 2, "wss2", "ovr"),
    ("int8", "rbf", 30, 2, 16, "simplified", "ovo"),
    ("int8", "linear", 20, 2, 4, "dcd", "ovo"),       # dcd's struct has its loss byte (svm_bytes_by)
    ("float32", "linear", 12, 3, 5, "dcd", "ovr"),
]


def full_grid():
    """storage x kernel x capacity x classes x features (solver alternating, ovo/ovr alternating)."""
    out = []
    for i, (st, k, cap, ncl, d) in enumerate(itertools.product(("float32", "int16", "int8"),
                                                                ("linear", "rbf", "poly", "sigmoid"),
                                                                (5, 23, 60), (2, 3, 5), (1, 4, 13, 30))):
        out.append((st, k, cap, ncl, d, ("wss2", "simplified")[i % 2], ("ovo", "ovr")[(i // 2) % 2]))
    return out


def compare_one(board: str, row, run: bool = True) -> dict:
    st, k, cap, ncl, d, solver, mc = row
    cfg = config(d, cap, ncl, k, st, solver, mc)
    p = plan_config(cfg, board, name="t")
    rec = {"board": board, "storage": st, "kernel": k, "capacity": cap, "classes": ncl, "features": d,
           "solver": solver, "multiclass": mc, "plan_static": p.static_ram_bytes, "plan_stack": p.stack_bytes,
           "plan_sram": p.sram_bytes, "plan_flash": p.flash_bytes, "plan_fits_static": p.fits_static}
    try:
        m = measure(cfg, get_target(board), run=run, timeout=30.0, keep_going=True)
    except DoesNotFit as exc:
        rec.update(measured="does_not_fit", region=exc.region, over=exc.over)
        return rec
    rec.update(measured="ok", static=m.static_ram_bytes, stack=m.stack_bytes, sram=m.sram_bytes,
               flash=m.flash_bytes, static_exact=m.static_ram_bytes == p.static_ram_bytes,
               flash_err=(p.flash_bytes - m.flash_bytes) / m.flash_bytes, run_status=m.status)
    if m.sram_bytes is not None:
        rec["sram_err"] = (p.sram_bytes - m.sram_bytes) / m.sram_bytes
    return rec


def compare(board: str, grid=SMALL_GRID, run: bool = True) -> list[dict]:
    return [compare_one(board, row, run) for row in grid]


def summarize(recs: list[dict]) -> dict:
    ok = [r for r in recs if r["measured"] == "ok"]
    nofit = [r for r in recs if r["measured"] != "ok"]
    return {
        "configs": len(recs), "built": len(ok), "did_not_link": len(nofit),
        "static_exact": sum(r["static_exact"] for r in ok),
        "max_abs_flash_err": max((abs(r["flash_err"]) for r in ok), default=None),
        "max_abs_sram_err": max((abs(r["sram_err"]) for r in ok if "sram_err" in r), default=None),
        "mean_abs_flash_err": (sum(abs(r["flash_err"]) for r in ok) / len(ok)) if ok else None,
        "run_errors": sum(1 for r in ok if str(r.get("run_status", "")).startswith("run error")),
        "plan_agrees_on_link_failures": all(not r["plan_fits_static"] for r in nofit if r.get("region") == "sram"),
    }


def _one(args):
    return compare_one(*args)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="uno,nrf52840")
    ap.add_argument("--full", action="store_true", help="the full grid (432 configurations per board)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    grid = full_grid() if a.full else SMALL_GRID
    jobs = [(b, row) for b in a.boards.split(",") for row in grid]
    with ProcessPoolExecutor(a.jobs) as ex:
        recs = list(ex.map(_one, jobs))
    res = {b: summarize([r for r in recs if r["board"] == b]) for b in a.boards.split(",")}
    print(json.dumps(res, indent=1))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump({"summary": res, "records": recs}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
