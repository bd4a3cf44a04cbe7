"""Measure what every generated sketch of a kind adds on a board to the runtime the room planners size:
the Arduino core with Serial, the serial protocol, the sketch's own code and frames. Written to
deploy/sketch_calibration.json (read by sketch_plan.py); run by `microlearn calibrate --sketches`.

Per board and kind, one reference sketch is written, planned with no fixed part, built (the real Arduino
AVR core / the shim), and on the AVR boards driven through a serial session on simavr, whose exact stack
high-water mark gives the stack. fixed = measured - planned. The Cortex-M boards' sketches run on qemu too,
but there the stack is not measured through the serial port: their fixed stack is 0 and the plan says so
(the boards' stack reserves, 2-4 KB, hold the sketch's frames)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from microlearn.core.progress import progress
from microlearn.learner.config import LearnerConfig
from microlearn.learner.simulate import fit_static
from microlearn.targets import emulated_serial_port

from . import sketch as _sketch
from . import sketch_plan
from .arduino_library import build_library
from .build import build_sketch
from .link import Device, Link, open_port

BOARDS = ("uno", "mega2560", "nrf52840", "samd21")
KINDS = ("train", "loop", "loop_bare", "loop_init", "loop_online", "loop_online_bare", "loop_kernel", "model")
# loop: the loop sketch as written by default (persistence where the board has an EEPROM); loop_bare: without
# persistence (the sketch's EEPROM glue is ~950 B of the uno's fixed part); loop_init: loop started from a model
# trained in Python, stored as its difference from loop (the code setting the initial model, ~320 B on the uno),
# which sketch_plan adds to a loop plan with initial_model.
# loop_online / loop_online_bare / loop_kernel: the online learner's sketch with and without persistence and the rbf
# learner's without (on the uno the kernel learner's save / load do not fit beside the Arduino core; a kernel sketch
# with persistence gets the same difference), stored as their differences from loop / loop_bare / loop_bare, stack
# included and not clipped at 0 (DELTAS). Why: the learner planner's figures are those of its stream driver, and the
# sketch's glue differs by learner: the online learner's save + load are sized as a round trip on top of the driver's
# loop, in the sketch the load runs in setup() (the uno's 16-feature online sketch: 451 B of stack planned, 261 B
# run), and its persistence costs the sketch ~1.7 KB of flash less than the linear learner's (on the uno).
# sketch_plan adds them to a loop plan of that learner.
DELTAS = {"loop_init": "loop", "loop_online": "loop", "loop_online_bare": "loop_bare", "loop_kernel": "loop_bare"}


def reference_data(seed: int = 0, d: int = 4, classes: int = 3, n: int = 36):
    """Gaussian blobs: the data of the reference sketches (what they learn does not matter, their size does)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    X = (rng.normal(size=(n, d)) + 2.0 * y[:, None]).astype(np.float32)
    return X, y


def write_reference(kind: str, board: str, out: Path, *, d: int = 4, seed: int = 0):
    """The reference sketch of `kind`, planned without any fixed part (the planner's runtime figures only)."""
    X, y = reference_data(seed, d)
    if kind == "train":
        return _sketch.sketch_train(X[:24], y[:24], X[24:], y[24:], board, out, kernel="linear")
    if kind in ("loop_online", "loop_online_bare"):
        return _sketch.sketch_loop(LearnerConfig(n_features=d, n_classes=2, model="online", capacity=8,
                                                 drift="window"), board, out,
                                   persist=False if kind == "loop_online_bare" else None)
    if kind == "loop_kernel":
        return _sketch.sketch_loop(LearnerConfig(n_features=d, n_classes=2, capacity=16, kernel="rbf",
                                                 drift="window"), board, out, persist=False)
    if kind in ("loop", "loop_bare", "loop_init"):
        cfg = LearnerConfig(n_features=d, n_classes=2, capacity=24, drift="window")
        if kind == "loop_bare":
            return _sketch.sketch_loop(cfg, board, out, persist=False)
        init = fit_static(cfg, X[:24], y[:24] % 2) if kind == "loop_init" else None
        return _sketch.sketch_loop(cfg, board, out, init=init)
    return _sketch.sketch_model(LogisticRegression(max_iter=500).fit(X, y), board, out)


def _exercise(dev: Device, kind: str, d: int) -> None:
    """The requests that take the most stack: training, a stream of feedback, predictions."""
    X, y = reference_data(1, d)
    if kind == "train":
        dev.train()
        dev.evaluate()
        dev.model_bytes()
    elif kind.startswith("loop"):
        for x, t in zip(X, y % 2):
            dev.feedback(x, int(t))
        dev.model_bytes()
    for x in X[:4]:
        dev.predict(x)


def measure(kind: str, board: str, library: Path, work: Path, *, d: int = 4, seed: int = 0) -> dict:
    """Planned (without the fixed part) and measured flash / static SRAM / stack of the reference sketch."""
    sk = write_reference(kind, board, work / f"{kind}-{board}", d=d, seed=seed)
    b = build_sketch(sk.folder, board, library_dir=library, log=lambda s: None)
    stack = None
    if board in ("uno", "nano", "mega2560"):
        with emulated_serial_port(board, b.elf, timeout=300, realtime=False) as port:
            ser = open_port(port.port)
            dev = Device(Link(ser, timeout=5.0, retries=3))
            dev.hello()
            _exercise(dev, kind, d)
            ser.close()
            stack = port.close().stack_bytes
    p, f = sk.plan, sk.plan.fixed      # the plan less the fixed part it added: the runtime's figures alone
    return {"planned": {"flash": p.flash_bytes - f["flash"], "static": p.static_ram_bytes - f["static"],
                        "stack": p.stack_bytes - f["stack"]},
            "measured": {"flash": b.flash_bytes, "static": b.static_ram_bytes, "stack": stack}}


def calibrate(boards=BOARDS, log=print) -> dict:
    out = {"version": 1, "note": __doc__.split("\n\n")[0].replace("\n", " "), "fingerprint": sketch_plan.fingerprint(),
           "boards": {}}
    with tempfile.TemporaryDirectory(prefix="mlrn-sketch-cal-") as tmp:
        tmp = Path(tmp)
        # progress on stderr (a terminal only): one step per board and kind, named while it is measured
        with progress(len(boards) * len(KINDS), "sketch calibration", unit="sketches") as bar:
            bar.note("writing the library")
            library = build_library(tmp / "libraries" / "microlearn")
            for board in boards:
                out["boards"][board] = {}
                for kind in KINDS:
                    bar.note(f"{board} {kind}")      # short: the bar is cut at 80 columns
                    m = measure(kind, board, library, tmp)
                    pl, me = m["planned"], m["measured"]
                    raw = me["stack"] - pl["stack"] if me["stack"] is not None else 0
                    fixed = {"flash": me["flash"] - pl["flash"], "static": me["static"] - pl["static"],
                             "stack": max(raw, 0), "stack_raw": raw, "stack_measured": me["stack"] is not None}
                    if kind in DELTAS:     # over the fixed part of the kind it extends (measured before)
                        base = out["boards"][board][DELTAS[kind]]
                        fixed = {**{k: fixed[k] - base[k] for k in ("flash", "static")},
                                 # loop_init's code adds frames (never less); the other learners' stack differs
                                 # from the linear loop's both ways
                                 "stack": (max(fixed["stack"] - base["stack"], 0) if kind == "loop_init" else
                                           raw - base.get("stack_raw", base["stack"])),
                                 "stack_measured": fixed["stack_measured"]}
                    out["boards"][board][kind] = fixed
                    with bar.paused():
                        log(f"{board} {kind}: measured {me}, runtime planned {pl} -> fixed {fixed}")
                    bar.advance()
    return out


def write(cal: dict, path: Path | None = None) -> Path:
    path = Path(path) if path else Path(__file__).with_name(sketch_plan.CALIBRATION)
    path.write_text(json.dumps(cal, indent=1) + "\n")
    return path


__all__ = ["calibrate", "measure", "write", "write_reference", "BOARDS", "KINDS", "DELTAS"]
