"""`microlearn.compile(estimator, target=...)`: run the exported C from Python.

The generated header is compiled with a small driver on a target ('host', or an
emulated board such as 'uno' / 'nrf52840'); rows are streamed to the program as
float32 through mlrn_target_getc, and the program prints the class index (and,
when asked, decision_function / predict_proba values as exact float32 bits).
Per-prediction cost is measured on the device, one row per run (the emulators report the
last marked region of a run): `measure(X, n_rows)` runs each of the first n_rows rows alone
and records cycles (simavr), executed instructions (qemu) or wall time (host) of its
NAME_predict call; `cycles_per_prediction` / `instructions` are the mean over those rows
(measured lazily on the first rows of the last `predict`-family call), `cost_stats` has
min / mean / max / per-row values.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from microlearn.core.paths import include_dir
from microlearn.targets import get_target

from .lower import lower
from .model import CModel, render

FLAG_DECISION, FLAG_PROBA = 2, 4

# The program that runs an exported model (C, in driver.c): a template, filled by driver_source.
DRIVER = importlib.resources.files("microlearn.exporter").joinpath("driver.c").read_text(encoding="utf-8")
# A regressor's driver (driver_values.c): prints the predicted values' float32 bits.
DRIVER_VALUES = importlib.resources.files("microlearn.exporter").joinpath("driver_values.c").read_text(
    encoding="utf-8")


def driver_source(m: CModel) -> str:
    """driver.c for model `m`. The template's placeholders: the NAME_ prefix (the model's C prefix),
    NAME_N_DECISION_OR_0 (the decision count, 0 without decision_function), HAS_DECISION and HAS_PROBA
    (1 when the header has NAME_decision_function / NAME_predict_proba, else 0). A regressor's driver
    (driver_values.c) has only the prefix to fill in."""
    if m.is_regressor:
        return DRIVER_VALUES.replace("NAME_", f"{m.name}_")
    src = DRIVER.replace("NAME_N_DECISION_OR_0", f"{m.name}_N_DECISION" if m.decision_body is not None else "0")
    src = src.replace("NAME_", f"{m.name}_")
    src = src.replace("HAS_DECISION", "1" if m.decision_body is not None else "0")
    src = src.replace("HAS_PROBA", "1" if m.proba_body is not None else "0")
    return src


class CompiledModel:
    """The generated C of one estimator, built for a target, callable like the estimator."""

    def __init__(self, model: CModel, estimator=None, target="host", workdir=None, language="c", cflags=()):
        self.model = model
        self.estimator = estimator
        self.classes_ = np.asarray(model.classes)
        self.is_regressor = model.is_regressor
        self.target = get_target(target) if isinstance(target, str) else target
        self.header = render(model)
        key = hashlib.sha1((self.header + self.target.name + language + " ".join(cflags)).encode()).hexdigest()[:12]
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mlrn_compile_")
            workdir = self._tmp.name
        self.workdir = Path(workdir) / f"{model.name}_{self.target.name}_{key}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "model.h").write_text(self.header)
        drv = self.workdir / ("driver.cpp" if language == "c++" else "driver.c")
        drv.write_text(driver_source(model))
        self.build = self.target.build([drv], self.workdir, include_dirs=[self.workdir, Path(include_dir())],
                                       cflags=list(cflags), language=language)
        self.last_run = None
        self.measurements = None     # from measure(): {"cycles": [...], "instructions": [...], ...}
        self._last_X = None
        self.n_measure_rows = 8

    @classmethod
    def from_model(cls, model, estimator=None, target="host", **kw):
        return cls(model, estimator, target, **kw)

    # -- measurements ----------------------------------------------------------------------
    @property
    def flash_bytes(self):
        """Flash of the whole program (driver + model + support) as the target's linker reports it."""
        return self.build.flash_bytes

    @property
    def sram_bytes(self):
        return self.build.static_ram_bytes

    @property
    def table_bytes(self) -> int:
        """NAME_FLASH_BYTES of the header."""
        return self.model.flash_bytes

    @property
    def ram_bytes(self) -> int:
        return self.model.ram_bytes

    def measure(self, X, n_rows=None) -> dict:
        """Run each of the first n_rows rows of X alone on the target and record the cost of its
        NAME_predict call (the driver marks only that call). Returns and keeps
        {"rows": n, "cycles": [...], "instructions": [...], "seconds": [...], "stack_bytes": max}."""
        n_rows = self.n_measure_rows if n_rows is None else int(n_rows)
        X = np.asarray(X, dtype=np.float32).reshape(-1, self.model.n_features)[:max(n_rows, 1)]
        meas = {"rows": len(X), "cycles": [], "instructions": [], "seconds": [], "stack_bytes": None}
        keep = self._last_X
        for row in X:
            self._run(row[None, :], 0, remember=False)
            r = self.last_run
            for k, v in (("cycles", r.cycles), ("instructions", r.instructions), ("seconds", r.seconds)):
                if v is not None:
                    meas[k].append(v)
            if r.stack_bytes is not None:
                meas["stack_bytes"] = max(meas["stack_bytes"] or 0, r.stack_bytes)
        self._last_X = keep
        self.measurements = meas
        return meas

    def _measured(self):
        if self.measurements is None and self._last_X is not None:
            self.measure(self._last_X)
        return self.measurements

    def cost_stats(self, kind="cycles"):
        """{"min", "mean", "max", "n", "values"} of the per-row measurements (kind: cycles,
        instructions, seconds), or None when the target does not measure it."""
        m = self._measured()
        vals = None if m is None else m.get(kind)
        if not vals:
            return None
        return {"min": min(vals), "mean": float(np.mean(vals)), "max": max(vals), "n": len(vals),
                "values": list(vals)}

    @property
    def cycles_per_prediction(self):
        """Mean exact cycles of one NAME_predict on the device (simavr), over the first
        n_measure_rows (8) rows of the last predict call; None elsewhere."""
        st = self.cost_stats("cycles")
        return None if st is None else st["mean"]

    @property
    def instructions(self):
        """Mean executed instructions of one NAME_predict (qemu), as cycles_per_prediction."""
        st = self.cost_stats("instructions")
        return None if st is None else st["mean"]

    @property
    def stack_bytes(self):
        """Peak stack of the whole driver program over the measured runs (and the last run)."""
        m = self._measured()
        vals = [v for v in ((m or {}).get("stack_bytes"),
                            None if self.last_run is None else self.last_run.stack_bytes) if v is not None]
        return max(vals) if vals else None

    def linked_table_bytes(self) -> int:
        """Sum of the sizes of the model's table symbols as the linked program holds them."""
        return sum(self.symbol_sizes().get(f"{self.model.name}_{t.suffix}", 0) for t in self.model.tables)

    def symbol_sizes(self) -> dict:
        if self.build.symbol_sizes:
            return dict(self.build.symbol_sizes)
        nm = getattr(self.target, "nm", None) or {"avr": "avr-nm"}.get(self.target.kind, "nm")
        if shutil.which(nm) is None:
            return {}
        out = subprocess.run([nm, "-S", "-C", str(self.build.path)], capture_output=True, text=True).stdout
        sizes = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4:
                sizes[parts[3]] = int(parts[1], 16)
        return sizes

    # -- running -----------------------------------------------------------------------------
    def _run(self, X, flags, remember=True):
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float32).reshape(-1, self.model.n_features))
        if remember and len(X):
            self._last_X = X[:self.n_measure_rows].copy()
            self.measurements = None
        data = struct.pack("<IB", X.shape[0], flags) + X.astype("<f4").tobytes()
        timeout = 120.0 + 0.05 * X.shape[0]
        res = self.target.run(self.build, input_bytes=data, timeout=timeout)
        self.last_run = res
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        if len(lines) != X.shape[0]:
            raise RuntimeError(f"expected {X.shape[0]} result lines, got {len(lines)}: {res.output[-300:]!r}")
        return lines

    @staticmethod
    def _bits(tokens):
        return np.array([int(t, 16) for t in tokens], dtype=np.uint32).view(np.float32)

    def predict_values(self, X) -> np.ndarray:
        """A regressor's outputs as the device computed them: (n, n_outputs) float32."""
        if not self.is_regressor:
            raise AttributeError(f"{self.model.source} is a classifier: predict / predict_index")
        lines = self._run(X, 0)
        return np.stack([self._bits(ln.split()) for ln in lines]).reshape(-1, self.model.n_outputs)

    def predict_index(self, X) -> np.ndarray:
        if self.is_regressor:
            raise AttributeError(f"{self.model.source} is a regressor: predict / predict_values")
        lines = self._run(X, 0)
        return np.array([int(ln.split()[0]) for ln in lines], dtype=np.int64)

    def predict(self, X) -> np.ndarray:
        """Like the estimator's predict: class labels, or a regressor's values (1-D for one output)."""
        if self.is_regressor:
            V = self.predict_values(X)
            return V[:, 0] if self.model.n_outputs == 1 else V
        if self.model.label_values:          # anomaly detectors: the C returns the label (+1 / -1) itself
            return self.predict_index(X)
        return self.classes_[self.predict_index(X)]

    def decision_function(self, X) -> np.ndarray:
        if self.model.decision_body is None:
            raise AttributeError(f"{self.model.source} has no decision_function")
        lines = self._run(X, FLAG_DECISION)
        D = np.stack([self._bits(ln.split()[1:]) for ln in lines])
        return D[:, 0] if (self.model.n_decision == 1) else D

    def predict_proba(self, X) -> np.ndarray:
        if self.model.proba_body is None:
            raise AttributeError(f"{self.model.source} has no predict_proba")
        lines = self._run(X, FLAG_PROBA)
        return np.stack([self._bits(ln.split(";")[1].split()) for ln in lines])


def compile(estimator, target="host", dtype="float32", workdir=None, name="model", calib_X=None,
            language="c", cflags=(), **opts) -> CompiledModel:
    """Export `estimator` and build the C for `target` ('host', 'uno', 'nrf52840', ...)."""
    model = lower(estimator, name=name, dtype=dtype, calib_X=calib_X, **opts)
    return CompiledModel(model, estimator, target=target, workdir=workdir, language=language, cflags=cflags)


__all__ = ["compile", "CompiledModel"]
