"""Loop sketches of every learner on the uno (issue 12): planned (deploy/sketch_plan.py) against built (the real
Arduino AVR core, arduino-mk) and run (simavr, a serial session of FEEDBACK frames; the stack is simavr's exact
high-water mark of the whole session), every prediction checked against the Python reference.

- the goal: a 16-feature, 3-class online learner (Passive-Aggressive II, DDM, the default detector) with its model
  persisted in the EEPROM and Serial, at the largest held-out capacity the planner gives: flash / static SRAM /
  stack against the uno's 32,256 B (bootloader) and 2,048 B;
- the largest int8 rbf capacity with 4 features (2 classes): the planner's figure, then the built and run edge
  (capacities past the planner's are written with its refusal lifted, built and run until one no longer fits
  2,048 B or the flash);
- plan against build for the linear, online, rbf and poly sketches: how far the measured fixed part of the linear
  loop sketch (sketch_calibration.json) carries to the other learners.

    PYTHONPATH=src python benchmarks/bench_sketch_learners.py   # writes benchmarks/results/sketch_learners.{json,md}

Data: the learners are fed streams they were not tuned on: switched_means (16 features, 3 classes, seed 3, means
jumping at row 120 of 240) for the online learner, rotating_hyperplane (4 features, seed 0, 240 rows) for the
SVM learners. The test twins (tests/deploy/test_sketch_learners.py) use the same sketches on smaller streams."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np

from microlearn.core.store import affine_from_range
from microlearn.data import streams
from microlearn.deploy import sketch as sketch_mod
from microlearn.deploy.arduino_library import build_library
from microlearn.deploy.build import build_sketch
from microlearn.deploy.link import Device, Link, open_port
from microlearn.deploy.sketch import max_loop_capacity, read_manifest, sketch_loop
from microlearn.deploy.sketch_plan import UPLOAD_MAX
from microlearn.learner.config import LearnerConfig
from microlearn.learner.simulate import run_reference
from microlearn.targets import emulated_serial_port

OUT = Path(__file__).resolve().parent / "results"
SRAM = 2048
BOARD = "uno"


def online_stream():
    s = streams.switched_means(n=240, n_features=16, n_classes=3, drift_points=(120,), seed=3)
    return s.X.astype(np.float32), s.y.astype(np.int64)


def hyperplane_stream():
    s = streams.make("rotating_hyperplane")
    return s.X[:240].astype(np.float32), s.y[:240].astype(np.int64)


def int8(cfg_kw, X):
    scale, offset = affine_from_range(X.min(axis=0), X.max(axis=0), "int8", X.shape[1])
    return dict(cfg_kw, storage="int8", scale=scale, offset=offset)


def measure(case, cfg, X, y, library, work, *, persist, lift=False) -> dict:
    """Plan, write, build and run one sketch; every prediction compared with the reference."""
    folder = Path(tempfile.mkdtemp(prefix=f"{cfg.model}-{cfg.kernel}-{cfg.capacity}-", dir=work))
    try:
        with (mock.patch.object(sketch_mod, "_refuse_unless_fits", lambda plan, what: None) if lift
              else contextlib.nullcontext()):
            sk = sketch_loop(cfg, BOARD, folder, persist=persist, drift_fallback=False)   # the detector asked for
    except sketch_mod.SketchError as exc:   # e.g. the EEPROM's two slots (not lifted: the sketch could not persist)
        return {"case": case, "capacity": cfg.capacity, "persist": persist, "built": False, "fits": False,
                "error": str(exc)[:300]}
    cfg = dataclasses.replace(cfg, drift=read_manifest(sk.folder)["learner"]["drift"])
    rec = {"case": case, "model": cfg.model, "kernel": cfg.kernel, "storage": cfg.storage, "drift": cfg.drift,
           "n_features": cfg.n_features, "n_classes": cfg.n_classes, "capacity": cfg.capacity, "persist": persist,
           "plan_fits": sk.plan.fits, "plan_flash": sk.plan.flash_bytes, "plan_static": sk.plan.static_ram_bytes,
           "plan_stack": sk.plan.stack_bytes, "plan_sram": sk.plan.sram_bytes, "plan_estimate": sk.plan.estimate}
    try:
        b = build_sketch(sk.folder, BOARD, library_dir=library, log=lambda s: None)
    except Exception as exc:   # e.g. the linker's overflow past the flash
        rec.update(built=False, error=str(exc).splitlines()[0][:300])
        return rec
    rec.update(built=True, flash=b.flash_bytes, static=b.static_ram_bytes)
    if b.flash_bytes > UPLOAD_MAX[BOARD]:
        rec.update(ran=False, error=f"flash {b.flash_bytes} B over the bootloader's {UPLOAD_MAX[BOARD]} B")
        return rec
    ref = run_reference(cfg, X, y)
    try:
        with emulated_serial_port(BOARD, b.elf, timeout=600, realtime=False) as port:
            ser = open_port(port.port)
            dev = Device(Link(ser, timeout=5.0, retries=3))
            dev.hello()
            pred = [dev.feedback(x, int(t)).prediction for x, t in zip(X, y)]
            ser.close()
        res = port.close()
    except Exception as exc:   # the stack ran into the data: the board stops answering
        rec.update(ran=False, error=str(exc).splitlines()[0][:300])
        return rec
    got = [-1 if p is None else p for p in pred]
    rec.update(ran=True, stack=res.stack_bytes, sram=b.static_ram_bytes + res.stack_bytes,
               agreement=float(np.mean(np.array(got) == ref["predictions"])), accepted=len(ref["accepted"]),
               fits=b.flash_bytes <= UPLOAD_MAX[BOARD] and b.static_ram_bytes + res.stack_bytes <= SRAM)
    return rec


def edge(case, cfg, X, y, library, work, *, persist) -> dict:
    """The planner's largest capacity of cfg, then capacities up from it (past it with the planner's refusal lifted)
    built and run until one does not fit; the planner refusing every capacity: a small one, lifted."""
    cap = max_loop_capacity(cfg, BOARD, persist=persist)
    rec = {"case": case, "planner_max_capacity": cap, "edge": []}
    c = cap or 12
    while c < (cap or 12) + 40:
        r = measure("edge", dataclasses.replace(cfg, capacity=c), X, y, library, work, persist=persist, lift=c > cap)
        print(json.dumps(r), flush=True)
        rec["edge"].append(r)
        if not r.get("fits"):
            break
        c += 1
    rec["built_max_capacity"] = max([e["capacity"] for e in rec["edge"] if e.get("fits")], default=0)
    return rec


def main(argv) -> int:
    if "--markdown-only" in argv:   # the tables again from the JSON of the last run
        rows = json.loads((OUT / "sketch_learners.json").read_text())
        (OUT / "sketch_learners.md").write_text(markdown(rows))
        print(markdown(rows))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlrn-bench-sketch-") as tmp:
        work = Path(tmp)
        library = build_library(work / "libraries" / "microlearn")

        def say(r: dict) -> dict:
            print(json.dumps(r), flush=True)
            return r

        # 1. the goal: 16 features, 3 classes, the online learner with persistence: the planner's largest held-out
        # capacity, then the built and run edge
        Xo, yo = online_stream()
        online = LearnerConfig(n_features=16, n_classes=3, model="online", capacity=8)
        rows.append(say(edge("goal: online 16x3 with persistence, max capacity", online, Xo, yo, library, work,
                             persist=True)))

        # 2. the largest int8 rbf capacity with 4 features (2 classes, DDM): the planner's, then the built and run edge
        Xh, yh = hyperplane_stream()
        rbf = LearnerConfig(n_features=4, n_classes=2, kernel="rbf", gamma=2.0, **int8({}, Xh))
        for persist in (True, False):
            rows.append(say(edge(f"rbf int8 4x2, persist={persist}, max capacity", rbf, Xh, yh, library, work,
                                 persist=persist)))

        # 3. plan against build for each learner at a middle size (the fixed part is the linear loop sketch's)
        for case, cfg, X, y, persist in (
                ("linear svm float32", LearnerConfig(n_features=4, n_classes=2, capacity=24, drift="window"),
                 Xh, yh, True),
                ("linear svm float32, no persistence", LearnerConfig(n_features=4, n_classes=2, capacity=24,
                                                                     drift="window"), Xh, yh, False),
                ("online", LearnerConfig(n_features=4, n_classes=2, model="online", capacity=16), Xh, yh, True),
                ("online, no persistence", LearnerConfig(n_features=4, n_classes=2, model="online", capacity=16),
                 Xh, yh, False),
                ("rbf int8, no persistence", dataclasses.replace(rbf, capacity=24), Xh, yh, False),
                ("poly int8, no persistence", dataclasses.replace(rbf, capacity=24, kernel="poly", degree=2,
                                                                  gamma=1.0, coef0=1.0), Xh, yh, False)):
            rows.append(say(measure(case, cfg, X, y, library, work, persist=persist)))
    OUT.mkdir(exist_ok=True)
    (OUT / "sketch_learners.json").write_text(json.dumps(rows, indent=1) + "\n")
    (OUT / "sketch_learners.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


def _row(r) -> str:
    def v(k):
        x = r.get(k)
        return "-" if x is None else (f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else str(x))
    name = r["case"] if r["case"] != "edge" else (
        f"{r.get('model')} {r.get('kernel') if r.get('model') == 'svm' else ''} {r.get('storage', '')} "
        f"{r.get('n_features')}x{r.get('n_classes')} {r.get('drift')}, persist={r.get('persist')}"
        + ("" if r.get("plan_fits") else " (plan refused; lifted)") + (f": {r['error'][:90]}" if r.get("error") else ""))
    return (f"| {name} | {v('capacity')} | {v('plan_flash')} / {v('flash')} | {v('plan_static')} / {v('static')} "
            f"| {v('plan_stack')} / {v('stack')} | {v('plan_sram')} / {v('sram')} | {v('agreement')} |")


def markdown(rows) -> str:
    out = ["# Loop sketches of every learner on the uno (issue 12)", "",
           "`benchmarks/bench_sketch_learners.py`: planned / built (real Arduino AVR core) / run (simavr serial "
           "session, exact stack high-water mark). The uno: 32,256 B of flash with the bootloader, 2,048 B of SRAM. "
           "Agreement: the sketch's predictions against the Python reference over the stream.", "",
           "Planned with deploy/sketch_calibration.json as committed: measured before the loop_bare, loop_init, "
           "loop_online and loop_kernel kinds (the lead re-measures with `microlearn calibrate --sketches`); so the "
           "no-persistence plans use the persistent loop's fixed part and the online / kernel plans the linear "
           "loop's. The run's stack can differ by ~10 B between runs: the UART's receive interrupt lands at "
           "whatever depth the sketch is when a byte arrives.", "",
           "| sketch | capacity | flash plan / built B | static plan / built B | stack plan / run B | SRAM plan / run B "
           "| agreement |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "edge" in r:
            for e in r["edge"]:
                out.append(_row(e))
            out.append(f"| **{r['case']}**: planner {r['planner_max_capacity']}, built and run "
                       f"{r.get('built_max_capacity')} | | | | | | |")
        elif "plan_flash" in r:
            out.append(_row(r))
        else:
            out.append(f"| **{r['case']}**: planner {r['planner_max_capacity']} | | | | | | |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
