"""The trainer's driver program (driver.c: train-and-evaluate over a binary stream on stdin) and its
protocol: what Python sends (encode_input), what the device prints back (parse_output), and the
runtime's status codes and error lines in the user's terms."""
from __future__ import annotations

import importlib.resources
import struct
from dataclasses import dataclass, field

import numpy as np

from microlearn.core import vocab
from microlearn.targets.errors import RunError, RunTimeout

# The train-and-evaluate program (C, in driver.c). Its text is part of the planner's calibration
# fingerprint (planner.program_fingerprint): editing it asks for a new calibration.
DRIVER = importlib.resources.files("microlearn.trainer").joinpath("driver.c").read_text(encoding="utf-8")


@dataclass
class DeviceRun:
    target: str
    status: int
    iterations: int
    b: np.ndarray | None = None
    w: np.ndarray | None = None
    alpha: np.ndarray | None = None        # rows x n_train (linear: the last sub-problem's alphas)
    predictions: np.ndarray | None = None  # class indices
    correct: int = 0
    cycles: int | None = None
    instructions: int | None = None
    cycles_est: object = None              # targets.cycle_model.CycleEstimate (qemu boards with a model)
    seconds: float | None = None
    seconds_kind: str | None = None
    flash_bytes: int | None = None
    static_ram_bytes: int | None = None
    stack_bytes: int | None = None
    symbol_sizes: dict = field(default_factory=dict)
    cache_hits: int | None = None          # kernel-column cache look-ups (a trainer with NAME_CACHE_COLS > 0)
    cache_misses: int | None = None
    output: str = ""


def encode_input(X_train, y_train, X_test, y_test) -> bytes:
    X_train = np.ascontiguousarray(X_train, dtype="<f4")
    X_test = np.ascontiguousarray(X_test, dtype="<f4").reshape(-1, X_train.shape[1])
    parts = [struct.pack("<HH", len(X_train), len(X_test))]
    for X, y in ((X_train, y_train), (X_test, y_test)):
        rows = np.empty(len(X), dtype=[("x", "<f4", (X_train.shape[1],)), ("y", "u1")])
        rows["x"] = X
        rows["y"] = np.asarray(y, dtype=np.uint8)
        parts.append(rows.tobytes())
    return b"".join(parts)


def _bits(tokens) -> np.ndarray:
    return np.array([int(t, 16) for t in tokens], dtype=np.uint32).view(np.float32)


def parse_output(text: str, target: str) -> DeviceRun:
    run = DeviceRun(target=target, status=-99, iterations=0, output=text)
    alphas = []
    for line in text.splitlines():
        tag, _, rest = line.partition(" ")
        tok = rest.split()
        if tag == "S":
            run.status, run.iterations = int(tok[0]), int(tok[1])
        elif tag == "K":
            run.cache_hits, run.cache_misses = int(tok[0]), int(tok[1])
        elif tag == "B":
            run.b = _bits(tok)
        elif tag == "W":
            run.w = _bits(tok)
        elif tag == "A":
            alphas.append(_bits(tok))
        elif tag == "P":
            run.predictions = np.array([int(t) for t in tok], dtype=np.int64)
        elif tag == "C":
            run.correct = int(tok[0])
        elif tag == "E":
            raise explain_run_error(RunError(f"{target}: device reported an error: {line.strip()}", text))
    if alphas:
        run.alpha = np.vstack(alphas)
    return run


# The status a report shows (`microlearn train --json`: "status"), by code: the names of
# microlearn.core.vocab, where success is "converged" (what MLRN_OK means at the end of training).
STATUS_NAMES = {**vocab.STATUS_NAMES, vocab.OK: "converged"}
STATUS_MACROS = {s.code: (s.macro, s.text) for s in vocab.STATUSES}


def status_text(code: int) -> str:
    """'MLRN_ERR_LABEL (label outside 0..n_classes-1)' for a status code of the C runtime."""
    s = vocab.STATUS_BY_CODE.get(code)
    return f"{s.macro} ({s.text})" if s else f"status {code} ({vocab.status_str(code)})"


# What the generated programs print before a non-zero exit ("E ..." lines of DRIVER and the loop's driver),
# in the user's terms. Python checks the parameters first, so these are a fallback.
def explain_run_error(exc, program: str = "trainer"):
    """A RunError whose message says what the device refused (status name, sample or row) instead of an exit
    code; other errors are returned unchanged."""
    if not isinstance(exc, RunError) or isinstance(exc, RunTimeout):
        return exc
    out = getattr(exc, "output", "") or ""
    msg = str(exc)
    where = "host" if msg.startswith("host") else msg.split(":", 1)[0] if ":" in msg else "device"
    what = None
    for line in out.splitlines():
        tok = line.split()
        if not tok or tok[0] != "E":
            continue
        try:
            if tok[1] == "setup":
                what = (f"the C runtime refused the {program}'s set-up ("
                        + ("mlrn_smo_init" if program == "trainer" else "mlrn_learner_init")
                        + f" returned {STATUS_MACROS[-1][0]} or {STATUS_MACROS[-7][0]}): a parameter or size "
                          "microlearn's checks missed; please report it")
            elif tok[1] == "add":
                what = (f"the device refused training sample {int(tok[2]) + 1}: {status_text(int(tok[3]))}")
            elif tok[1] == "feedback":
                rows = max(len(out.split("P", 1)[1].split("E", 1)[0].split()) if "P" in out else 0, 0)
                what = f"the device refused the feedback of row {rows + 1}: {status_text(int(tok[2]))}"
            elif tok[1] == "input":
                what = "the device read fewer input bytes than were sent (a truncated transfer)"
        except (IndexError, ValueError):
            continue
        break
    if what is None:
        return exc
    return RunError(f"{where}: {what}", out)
