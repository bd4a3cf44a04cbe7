"""The main job: train the Edge2Train Iris problem ON emulated boards and print the figures.

Iris setosa vs rest, the first 100 rows of a seeded shuffle for training, the other 50 for
testing, linear kernel, C=1, the default wss2 solver. Each run streams the samples into the
device's store one by one, trains between measurement markers, evaluates on the device and
checks that every prediction equals the Python reference's. main() returns 1 when a target did not train or
disagrees with the reference, and raises TargetUnavailable when every target was skipped."""
from __future__ import annotations

import numpy as np

from microlearn.data.datasets import load
from microlearn.trainer.runner import train_and_report
from microlearn.targets.errors import TargetUnavailable

# int8 on the boards without an FPU, where it trains in fixed point (the default there, and the fastest: float32
# rows cost bluepill 2.2x and samd21 2.1x the instructions); float32 on the nrf52840's FPU
RUNS = [("host", "float32"), ("uno", "int8"), ("nrf52840", "float32"), ("bluepill", "int8"), ("samd21", "int8")]


def main(runs=RUNS) -> int:
    X, y = load("iris")
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:100], idx[100:]
    print("microlearn demo: Iris setosa vs rest, 100 training samples, linear SVM, C=1, wss2 solver\n")
    head = (f"{'target':10s} {'storage':8s} {'status':10s} {'iter':>5s} {'acc':>6s} {'agree':>6s} "
            f"{'cost of the training call':>44s} {'flash B':>8s} {'SRAM B':>7s}")
    print(head)
    print("-" * len(head))
    skipped, failed = [], []
    for target, storage in runs:
        try:
            r = train_and_report(X[tr], y[tr], X[te], y[te], target, storage=storage)
        except TargetUnavailable as exc:
            print(f"{target:10s} skipped: {exc}")
            skipped.append(target)
            continue
        if r["status"] not in ("converged", "max_iter") or r["agreement"] != 1.0:
            failed.append(target)
        if r["cycles"] is not None:
            cost = f"{r['cycles']:,} cycles = {r['seconds'] * 1e3:.1f} ms"
        elif r["instructions"] is not None and r.get("cycles_est") is not None:
            cost = f"{r['instructions']:,} instr, ~{r['cycles_est']:,} cyc ~ {r['seconds'] * 1e3:.2f} ms*"
        elif r["instructions"] is not None:
            cost = f"{r['instructions']:,} instr ~ {r['seconds'] * 1e3:.2f} ms*"
        else:
            cost = f"{r['seconds'] * 1e6:.1f} us wall"
        sram = r["sram_bytes"] if r["sram_bytes"] is not None else "-"
        flash = r["flash_bytes"] if r["flash_bytes"] is not None else "-"
        shown = storage + (" fx" if r.get("arith") == "fixed" else "")
        print(f"{target:10s} {shown:8s} {r['status']:10s} {r['iterations']:5d} {100 * r['accuracy']:5.1f}% "
              f"{100 * r['agreement']:5.1f}% {cost:>44s} {flash!s:>8s} {sram!s:>7s}")
    print("\n* Cortex-M: executed instructions counted by qemu; cycles and time are estimates: the ARM manuals' "
          "instruction timings\n  applied to what ran (targets/cycle_model.py; docs/targets.md gives the error "
          "bars).\n  AVR: exact cycles from simavr. SRAM = static data + measured "
          "stack peak. 'agree' = device predictions equal to the Python reference's.\n  fx: fixed-point scans "
          "(MLRN_SMO_FIXED: integer dot products, distances and working-set selection on the int8 codes; the default on "
          "cores without an FPU; docs/trainer.md).")
    if runs and len(skipped) == len(runs):
        raise TargetUnavailable(f"every target was skipped ({', '.join(skipped)}): no compiler or emulator found; "
                                f"see `microlearn boards`")
    return 1 if failed else 0
