"""The ESP8266's lx106 cycle model (targets/cycle_model.py, XT_CORES; docs/targets.md "ESP8266"): its
micro-benchmarks against the figures measured on the ESP8266 with CCOUNT, and what it estimates for a training.

Micro-benchmarks: tests/targets/c/xt_cycle_bench.c, each loop run 100 and 300 times on the esp8266 (qemu), the
difference per iteration, next to the cycles the published measurements give for the same sequence (or the
model's stated assumption where nobody measured). Trainings: Iris setosa vs rest, the first 100 rows of the
shuffled training part (seed 0, as benchmarks/bench_energy.py), wss2, C = 1; instructions (exact, qemu), the
estimated cycles with their bounds, the L32R count (the ranged class) and taken branches.

    python benchmarks/bench_lx106_cycles.py [--out benchmarks/results]"""
from __future__ import annotations

import argparse
import json
import struct
import tempfile
from pathlib import Path

from microlearn.data.datasets import load, split
from microlearn.targets import get_target
from microlearn.trainer.runner import train_and_report

ROOT = Path(__file__).resolve().parents[1]
BENCH_C = ROOT / "tests" / "targets" / "c" / "xt_cycle_bench.c"
# loop -> (cycles per iteration by the source, the source). Every loop carries `addi.n; bnez` taken: 1 + 3.
LOOPS = {
    "empty": (4, "assumed from the taken branch below: 1 + (1 + 2)"),
    "load": (2 + 4, "measured: cnlohr/espusb usb_notes.txt, l32i.n + an add not reading it 2"),
    "load_use": (3 + 4, "measured: usb_notes.txt, l32i.n + an add reading it 3"),
    "not_taken": (3 + 4, "measured: usb_notes.txt, l32i.n; nop.n; bgeui not taken 3"),
    "taken": (5 + 4, "measured: usb_notes.txt, the same taken 5"),
    "jump": (3 + 4, "measured: usb_notes.txt, j 3"),
    "l32r": (7 + 4, "measured: usb_notes.txt 7; esp-quick-toolchain PR 33: 6-8"),
    "l32r_x2": (14 + 4, "measured: usb_notes.txt, two l32r 14"),
    "l32r_use": (9 + 4, "measured: usb_notes.txt, l32r; s32i.n through it 9"),
    "mul16": (3 + 4, "measured: usb_notes.txt, mul16u 1"),
    "mull": (1 + 1 + 1 + 4, "assumed: MULL 1 + the use stall (GCC xtensa.md: mul32 latency 2)"),
    "call": (1 + 1 + 3 + 3 + 4, "assumed: call0 and ret.n like j (3)"),
    "misaligned": (4 + 1, "measured: speednotes.txt, a target ending in binary 11 +1"),
    "add": (5, "measured: esp-idf issue 85 (igrr), the ESP8266's `t += j` loop 5 (listing inferred)"),
}
CASES = [("linear", "float32"), ("linear", "int8"), ("rbf", "float32"), ("rbf", "int8")]


def micro_benchmarks() -> list[dict]:
    t = get_target("esp8266")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlrn-xtbench-") as tmp:
        build = t.build([BENCH_C], Path(tmp))
        for i, (loop, (cycles, source)) in enumerate(LOOPS.items()):
            runs = [t.run(build, bytes([i]) + struct.pack("<H", n)) for n in (100, 300)]
            est = [r.cycles_est for r in runs]
            rows.append({"loop": loop, "expected": cycles, "source": source,
                         "model": (est[1].nominal - est[0].nominal) / 200,
                         "low": (est[1].low - est[0].low) / 200, "high": (est[1].high - est[0].high) / 200,
                         "instructions": (runs[1].instructions - runs[0].instructions) / 200})
    return rows


def trainings() -> list[dict]:
    X, y = load("iris")
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=True, seed=0)
    rows = []
    for kernel, storage in CASES:
        r = train_and_report(X_tr[:100], y_tr[:100], X_te, y_te, "esp8266", kernel=kernel, storage=storage,
                             timeout=600)
        rows.append({"kernel": kernel, "storage": storage, "status": r["status"], "agreement": r["agreement"],
                     "iterations": r["iterations"], "instructions": r["instructions"],
                     "cycles_est": r["cycles_est"], "cycles_est_range": r["cycles_est_range"],
                     "seconds": r["seconds"], "flash_bytes": r["flash_bytes"]})
    return rows


def to_markdown(micro: list[dict], train: list[dict]) -> str:
    lines = ["# ESP8266 (Xtensa LX106) cycle model", "",
             "Micro-benchmarks (cycles per iteration; tests/targets/c/xt_cycle_bench.c on qemu-system-xtensa):", "",
             "| loop | source says | model | bounds | instructions | source |", "|---|---|---|---|---|---|"]
    for m in micro:
        lines.append(f"| {m['loop']} | {m['expected']} | {m['model']:g} | {m['low']:g}-{m['high']:g} | "
                     f"{m['instructions']:g} | {m['source']} |")
    lines += ["", "Iris setosa vs rest, 100 rows, wss2, C = 1 (the training call; 80 MHz):", "",
              "| kernel | storage | instructions | cycles_est (range) | cycles per instruction | time | agreement |",
              "|---|---|---|---|---|---|---|"]
    for r in train:
        lo, hi = r["cycles_est_range"]
        lines.append(f"| {r['kernel']} | {r['storage']} | {r['instructions']:,} | {r['cycles_est']:,} "
                     f"({lo:,}-{hi:,}) | {r['cycles_est'] / r['instructions']:.2f} | {r['seconds'] * 1000:.2f} ms | "
                     f"{r['agreement']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    micro, train = micro_benchmarks(), trainings()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lx106_cycles.json").write_text(json.dumps({"micro": micro, "train": train}, indent=1))
    (out / "lx106_cycles.md").write_text(to_markdown(micro, train))
    print(to_markdown(micro, train))
    print(f"wrote {out / 'lx106_cycles.md'} and .json")


if __name__ == "__main__":
    main()
