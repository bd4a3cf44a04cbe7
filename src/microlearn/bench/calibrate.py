"""Re-derive the planner's per-board constants (src/microlearn/boards/calibration.json) by building
and running the train-and-evaluate driver with each board's real toolchain and emulator.

    python -m microlearn.bench.calibrate [--boards uno,nrf52840] [--jobs 2] [--out PATH] [--check]

What is measured, per board:
- struct sizes (symbols t_store, t_svm) and the fixed static data of driver + support code
  (static SRAM - buffers - structs - alignment padding of a small build);
- flash as a function of the number of features, per storage type (linear kernel, wss2, binary),
  at d = 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128 (until it no longer links), plus the
  deltas of each kernel/solver and of ovo/ovr with 3 classes at d = 4;
- the stack high-water mark for every kernel x solver x storage x (binary, ovo, ovr) at d = 4
  (the planner adds 4 bytes per extra feature: the driver's row buffer).
--check compares a fresh calibration with the stored file and exits 1 if they differ.
"""
from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from ..boards.planner import CALIBRATION_PATH, KERNELS, SOLVERS, STORAGES
from ..boards.registry import get_board, list_boards
from ..targets.errors import DoesNotFit
from .measure import config, measure

FLASH_DS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
STACK_D = 4
CLASSES = {"binary": (2, "ovo"), "ovo": (3, "ovo"), "ovr": (3, "ovr")}


def _toolchain(board) -> str:
    try:
        v = subprocess.run([board.compiler, "-dumpversion"], capture_output=True, text=True).stdout.strip()
        return f"{board.compiler} {v}"
    except OSError:
        return board.compiler or "?"


def reference_point(name: str) -> dict:
    """One build + run of the reference configuration (4 features, capacity 8, linear, wss2, float32,
    binary): struct sizes, the fixed static data, flash and stack there. Also what the planner measures
    on the fly when the runtime changed after calibration (see planner._refresh)."""
    import tempfile
    from pathlib import Path

    from .. import include_dir
    from ..codegen.trainer import render_trainer
    from ..ondevice import DRIVER, encode_input
    from .measure import synthetic
    b = get_board(name)
    t = b.target()
    cfg = config(STACK_D, 8)
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        (wd / "trainer.h").write_text(render_trainer(cfg, "t"))
        (wd / "main.c").write_text(DRIVER)
        build = t.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())],
                        defines={"MLRN_DRIVER_DUMP": 1})
        res = t.run(build, encode_input(*synthetic(cfg, 8)), timeout=120)
    align = 1 if b.arch == "avr" else 4
    buf = cfg.buffers()
    store, svm = build.symbol_sizes["t_store"], build.symbol_sizes["t_svm"]
    pad = -(buf["data"] + buf["labels"]) % align
    return {"store_bytes": store, "svm_bytes": svm,
            "fixed_static_bytes": build.static_ram_bytes - sum(buf.values()) - store - svm - pad,
            "flash_bytes": build.flash_bytes, "stack_bytes": res.stack_bytes}


def calibrate_board(name: str) -> dict:
    b = get_board(name)
    t = b.target()
    ref = reference_point(name)
    ptr = 2 if b.arch == "avr" else 4
    align = 1 if b.arch == "avr" else 4
    store, svm, fixed = ref["store_bytes"], ref["svm_bytes"], ref["fixed_static_bytes"]

    curves = {}
    for st in STORAGES:
        pts = []
        for d in FLASH_DS:
            try:
                pts.append([d, measure(config(d, 4, storage=st), t, run=False).flash_bytes])
            except DoesNotFit:
                break
        curves[st] = pts
    base = ref["flash_bytes"]
    delta = {f"{k}/{s}": measure(config(STACK_D, 8, kernel=k, solver=s), t, run=False).flash_bytes - base
             for k, s in itertools.product(KERNELS, SOLVERS)}
    multi = {lay: measure(config(STACK_D, 8, classes=c, multiclass=m), t, run=False).flash_bytes - base
             for lay, (c, m) in CLASSES.items() if lay != "binary"}
    stack = {}
    for k, s, st, lay in itertools.product(KERNELS, SOLVERS, STORAGES, CLASSES):
        c, m = CLASSES[lay]
        stack[f"{k}/{s}/{st}/{lay}"] = measure(config(STACK_D, 16, c, k, st, s, m), t).stack_bytes
    return {"toolchain": _toolchain(b), "pointer_bytes": ptr, "align": align, "store_bytes": store,
            "svm_bytes": svm, "fixed_static_bytes": fixed, "flash_curve": curves, "flash_delta": delta,
            "flash_multi": multi, "stack": stack, "stack_at_features": STACK_D, "stack_align": 1 if ptr == 2 else 8}


ESTIMATES = {
    "esp32": {"borrowed_from": "nrf52840", "static_limit_bytes": 160 * 1024,
              "basis": "no Xtensa toolchain here: the nrf52840's (Cortex-M4F, 32-bit pointers, single-precision "
                       "FPU) constants",
              "notes": ["ESP32 figures are estimates borrowed from the nrf52840 calibration; ESP-IDF itself "
                        "(FreeRTOS, drivers, Wi-Fi if enabled) adds tens of KB of static RAM and flash not counted "
                        "here, and limits .data + .bss to about 160 KB."]},
}


def calibrate(boards=None, jobs: int = 2) -> dict:
    from .._version import RUNTIME_VERSION
    names = boards or [b.name for b in list_boards() if b.emulated]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        results = dict(zip(names, ex.map(calibrate_board, names)))
    from ..boards.planner import runtime_fingerprint
    return {"version": 1, "runtime_version": RUNTIME_VERSION, "fingerprint": runtime_fingerprint(),
            "generated_by": "python -m microlearn.bench.calibrate", "boards": {**results, **ESTIMATES}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", help="comma-separated board names (default: every emulated board)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(CALIBRATION_PATH))
    ap.add_argument("--check", action="store_true", help="compare with the stored calibration instead of writing")
    a = ap.parse_args(argv)
    boards = a.boards.split(",") if a.boards else None
    cal = calibrate(boards, a.jobs)
    if a.check:
        stored = json.loads(CALIBRATION_PATH.read_text())
        diff = [n for n, v in cal["boards"].items() if stored["boards"].get(n) != v]
        print("calibration up to date" if not diff else f"calibration differs for: {', '.join(diff)}")
        return 1 if diff else 0
    if boards and CALIBRATION_PATH.exists():   # partial run: merge into the stored file
        stored = json.loads(CALIBRATION_PATH.read_text())
        if stored.get("fingerprint") != cal["fingerprint"]:
            print("warning: the stored calibration is for another runtime; calibrate every board", file=sys.stderr)
        stored["boards"].update(cal["boards"])
        stored["fingerprint"] = cal["fingerprint"]
        cal = stored
    with open(a.out, "w") as fh:
        json.dump(cal, fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
