"""Fixed point (MLRN_SMO_FIXED, arith 'fixed') against float32 on the same int8 codes, side by side in one run:
wss2, linear and rbf kernels (gamma 'scale'), C = 1, each case trained ON each board twice (arith 'float', then 'fixed'), both bit-exact
with the Python reference (agreement, iterations, alphas, w, b: the run fails otherwise). Reported: the cost of the
training call (exact cycles on AVR; executed instructions and estimated cycles on Cortex-M, RISC-V and Xtensa),
its ratio float / fixed, iterations, test accuracy and flash.

Cases (none tuned on: the first split of each, as the other benchmarks use them):
- iris: the demo's problem, Iris setosa vs rest, 100 rows of a seed-0 shuffle, raw features (d = 4);
- cancer100: breast cancer, 100 rows of a seed-0 shuffle, min-max scaled by them, 60 test rows (d = 30), linear
  and rbf;
- cancer398 (--with-cancer398): the seeds' protocol (experiments.data('cancer', 'shuffled'), 398 training rows,
  min-max), on the mega2560, rows in flash: the issue's 60 M-cycle goal (the uno cannot hold 398 alphas).

    python benchmarks/bench_fixed.py [--out benchmarks/results] [--boards uno,samd21] [--with-cancer398]"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from microlearn.core.progress import progress
from microlearn.data.datasets import load
from microlearn.targets.errors import DoesNotFit
from microlearn.trainer.runner import train_and_report

BOARDS = ("uno", "samd21", "bluepill", "rp2040", "esp32c3", "ch32v003", "esp8266", "nrf52840")
SMALL_SRAM = 2048          # these boards read the cancer rows from flash (their SRAM holds ~25 rows of 30 codes)
SMALL_FLASH = 16384        # ... and this one (ch32v003) trains the first SMALL_FLASH_FEATURES of them
SMALL_FLASH_FEATURES = 10


def iris():
    X, y = load("iris")
    idx = np.random.default_rng(0).permutation(len(X))
    return X[idx[:100]], y[idx[:100]], X[idx[100:]], y[idx[100:]]


def cancer100():
    X, y = load("cancer")
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:100], idx[100:160]
    lo, hi = X[tr].min(0), X[tr].max(0)
    X = (X - lo) / np.where(hi > lo, hi - lo, 1.0)
    return X[tr], y[tr], X[te], y[te]


def cancer398():
    from microlearn.tools.experiments import data
    X_tr, X_te, y_tr, y_te = data("cancer", "shuffled")
    return X_tr, y_tr, X_te, y_te


def run_pair(case, board, kernel, data_in, timeout):
    Xtr, ytr, Xte, yte = case
    out = {}
    for arith in ("float", "fixed"):
        r = train_and_report(Xtr, ytr, Xte, yte, board, storage="int8", kernel=kernel, arith=arith, data_in=data_in,
                             timeout=timeout)
        if r["agreement"] != 1.0 or r["iterations"] != r["python_iterations"] or r["max_alpha_diff"] != 0.0:
            raise RuntimeError(f"{board} {arith}: the device disagrees with the Python reference")
        out[arith] = {k: r.get(k) for k in ("status", "iterations", "accuracy", "cycles", "instructions",
                                            "cycles_est", "seconds", "flash_bytes", "sram_bytes")}
    return out


def cost(r):
    return r["cycles"] if r["cycles"] is not None else r["instructions"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--with-cancer398", action="store_true")
    args = ap.parse_args()
    from microlearn.boards import get_board
    boards = [b for b in args.boards.split(",") if b]
    cases = (("iris", iris, "linear"), ("cancer100", cancer100, "linear"), ("cancer100", cancer100, "rbf"))
    jobs = [(name, fn, kernel, b) for name, fn, kernel in cases for b in boards]
    if args.with_cancer398:
        jobs.append(("cancer398", cancer398, "linear", "mega2560"))
    rows = []
    with progress(len(jobs), "bench_fixed") as p:
        for name, fn, kernel, board in jobs:
            b = get_board(board)
            data = fn()
            if name == "cancer100" and b.flash_bytes <= SMALL_FLASH:   # 30 features are over the 16 KB part's flash
                data = tuple(a[:, :SMALL_FLASH_FEATURES] if a.ndim == 2 else a for a in data)
            data_in = "flash" if name == "cancer398" or (name == "cancer100" and b.sram_bytes <= SMALL_SRAM) else "ram"
            try:
                pair = run_pair(data, board, kernel, data_in, timeout=1800)
            except DoesNotFit as exc:
                rows.append({"case": name, "kernel": kernel, "board": board, "skipped": str(exc).split(". What")[0]})
                p.advance(detail=f"{name} {kernel} {board}: does not fit")
                continue
            rows.append({"case": name, "kernel": kernel, "board": board, "fpu": b.fpu, "data_in": data_in,
                         "n_features": int(data[0].shape[1]),
                         "unit": "cycles" if pair["float"]["cycles"] is not None else "instructions",
                         "ratio": cost(pair["float"]) / cost(pair["fixed"]), **pair})
            p.advance(detail=f"{name} {kernel} {board}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fixed.json").write_text(json.dumps(rows, indent=1))
    lines = ["# Fixed point (MLRN_SMO_FIXED) vs float32 on the same int8 codes", "",
             "`python benchmarks/bench_fixed.py" + (" --with-cancer398" if args.with_cancer398 else "") + "`; "
             "wss2, linear and rbf (gamma 'scale'), C = 1, every run bit-exact with the Python reference. Cost of the training call: exact "
             "cycles (AVR) or executed instructions (qemu; estimated cycles in brackets).", "",
             "| case | kernel | board | FPU | rows in | float32 | fixed | float / fixed | iterations (float, fixed) | "
             "test acc. (float, fixed) | flash B (float, fixed) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['case']} | {r['kernel']} | {r['board']} | | | {r['skipped']} | | | | | |")
            continue
        def c(a):
            v = r[a]
            return f"{cost(v):,}" + (f" (~{v['cycles_est']:,})" if v.get("cycles_est") else "")
        case = r["case"] + (f" (first {r['n_features']} features)" if r["n_features"] == SMALL_FLASH_FEATURES else "")
        lines.append(f"| {case} | {r['kernel']} | {r['board']} | {'yes' if r['fpu'] else 'no'} | {r['data_in']} | {c('float')} | "
                     f"{c('fixed')} | x{r['ratio']:.2f} | {r['float']['iterations']}, {r['fixed']['iterations']} | "
                     f"{100 * r['float']['accuracy']:.2f}%, {100 * r['fixed']['accuracy']:.2f}% | "
                     f"{r['float']['flash_bytes']:,}, {r['fixed']['flash_bytes']:,} |")
    (out / "fixed.md").write_text("\n".join(lines) + "\n")
    plot(rows, out / "fixed.png")
    print("\n".join(lines))


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [dict(r, case=f"{r['case']} {r['kernel']}") for r in rows if "skipped" not in r]
    cases = list(dict.fromkeys(r["case"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(cases)
    boards = list(dict.fromkeys(r["board"] for r in rows))
    for k, case in enumerate(cases):
        xs = [i + k * width for i, b in enumerate(boards) if any(r["case"] == case and r["board"] == b for r in rows)]
        ys = [next(r["ratio"] for r in rows if r["case"] == case and r["board"] == b) for b in boards
              if any(r["case"] == case and r["board"] == b for r in rows)]
        ax.bar(xs, ys, width, label=case)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([i + width * (len(cases) - 1) / 2 for i in range(len(boards))])
    ax.set_xticklabels([b + ("" if not next(r["fpu"] for r in rows if r["board"] == b) else "\n(FPU)")
                        for b in boards])
    ax.set_ylabel("training cost float32 / fixed point")
    ax.set_title("MLRN_SMO_FIXED: speed-up of the training call (int8 codes, wss2)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
