"""Energy of one training per board (docs/energy.md): Iris setosa-vs-rest, the first 100 rows of the shuffled
training part (seed 0), raw features, wss2, C = 1; int8 in fixed point on the boards without an FPU (the default
there and their cheapest training), float32 on the nrf52840's FPU. Each board's
time (exact cycles on AVR, estimated cycles on Cortex-M, RISC-V and Xtensa) x its datasheet
run current x supply (boards/power.py), next to Train++'s and Edge2Train's published energies.

    python benchmarks/bench_energy.py [--out benchmarks/results]"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from microlearn.boards import power
from microlearn.data.datasets import load, split
from microlearn.tools.published import PUBLISHED
from microlearn.trainer.runner import train_and_report

BOARDS = {"bluepill": "int8", "samd21": "int8", "esp32c3": "int8", "ch32v003": "int8",
          "esp8266": "int8", "nrf52840": "float32", "uno": "int8"}
KEYS = ("target", "status", "agreement", "iterations", "cycles", "instructions", "cycles_est", "seconds",
        "seconds_kind", "energy_mj", "energy_source", "energy_missing", "energy_lower_bound",
        "energy_lower_bound_mj")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    X, y = load("iris")
    X_tr, X_te, y_tr, y_te = split(X, y, 0.3, shuffle=True, seed=0)
    rows = []
    for board, storage in BOARDS.items():
        r = train_and_report(X_tr[:100], y_tr[:100], X_te, y_te, board, storage=storage, timeout=600)
        row = {k: r.get(k) for k in KEYS}
        row["storage"] = storage
        row["published"] = [{"source": p["source"], "energy_mj": 1000 * p["energy_j"], "seconds": p.get("seconds")}
                            for p in PUBLISHED if p["board"] == board and p["dataset"] == "iris"
                            and p.get("energy_j") is not None]
        rows.append(row)
        e = row["energy_mj"]
        print(f"{board:9s} {storage:7s} {row['seconds'] * 1000:9.2f} ms  "
              + (f"{e:8.3f} mJ" if e is not None else f"   -     ({power.why_no_energy(board)[:60]}...)"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "energy.json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {out / 'energy.json'}")


if __name__ == "__main__":
    main()
