"""The learner's driver program (driver.c: the loop over a binary stream on stdin, timed by a timer
interrupt on AVR) and its protocol: what Python sends (encode_stream) and what the device prints back
(parse_output)."""
from __future__ import annotations

import importlib.resources
import struct

import numpy as np

from microlearn.core import store as _store

# The stream program (C, in driver.c) that runs the loop on a target. Its text is part of the learner
# planner's calibration fingerprint: editing it asks for a new calibration.
DRIVER = importlib.resources.files("microlearn.learner").joinpath("driver.c").read_text(encoding="utf-8")


def encode_stream(X, y) -> bytes:
    X = np.ascontiguousarray(X, dtype="<f4")
    rows = np.empty(len(X), dtype=[("x", "<f4", (X.shape[1],)), ("y", "u1")])
    rows["x"] = X
    rows["y"] = np.asarray(y, dtype=np.uint8)
    return struct.pack("<I", len(X)) + rows.tobytes()


def model_hash(model) -> int:
    """driver.c's model_hash (warm builds): FNV-1a 32 over the current model's float32 bytes, w then b
    (little-endian); model: (W, b, classes) or None."""
    h = 2166136261
    if model is not None:
        W, b, _ = model
        data = np.asarray(W, "<f4").tobytes() + np.asarray(b, "<f4").tobytes()
        for byte in data:
            h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def snapshot_hash(model, cfg) -> tuple[int, int]:
    """driver.c's K line (kernel learners): (support vectors, FNV-1a 32 over the snapshot's rows in the store's
    element type, their local classes, the coefficient rows, b per pair); model: a KernelModel or None."""
    h = 2166136261
    if model is None:
        return 0, h
    X = model.X
    rows = (np.asarray(X, "<f4") if cfg.storage == "float32" else
            _store.quantize(X, cfg.scale, cfg.offset, cfg.storage).astype(
                "<i2" if cfg.storage == "int16" else "i1"))
    data = (rows.tobytes() + np.asarray(model.lab, np.uint8).tobytes() + np.asarray(model.coef, "<f4").tobytes()
            + np.asarray(model.b, "<f4").tobytes())
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return model.n_sv, h


def parse_output(text: str) -> dict:
    out = {"predictions": [], "drift_rows": [], "retrains": [], "accepted": [], "rollbacks": [], "failed": [],
           "counters": None}
    for line in text.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "P":
            for i, tok in enumerate(rest.split()):
                head = tok.rstrip("DbARF")
                out["predictions"].append(-1 if head == "-" else int(head))
                flags = tok[len(head):]
                if "D" in flags:
                    out["drift_rows"].append(i)
                if "b" in flags:
                    out["retrains"].append(i)
                if "A" in flags:
                    out["accepted"].append(i)
                if "R" in flags:
                    out["rollbacks"].append(i)
                if "F" in flags:
                    out["failed"].append(i)
        elif tag == "C":
            v = [int(t) for t in rest.split()]
            out["counters"] = dict(zip(["mistakes", "retrains", "accepted", "rollbacks", "dropped", "train_calls",
                                        "drifts", "train_cycles", "timer_overhead_cycles"], v))
        elif tag == "W":   # warm-started builds: SMO iterations of the concluded trainings, the model's FNV-1a
            v = [int(t) for t in rest.split()]
            out["warm"] = {"iterations": v[0], "model_hash": v[1]}
        elif tag == "K":   # kernel learners: the snapshot's support vectors and FNV-1a
            v = [int(t) for t in rest.split()]
            out["snapshot"] = {"n_sv": v[0], "hash": v[1]}
        elif tag == "S":   # the persistence round trip's status (LRN_PERSIST)
            out["persist_status"] = int(rest.split()[0])
        elif tag == "E":
            raise RuntimeError(f"device reported an error: {line.strip()}")
    out["predictions"] = np.array(out["predictions"], np.int64)
    return out
