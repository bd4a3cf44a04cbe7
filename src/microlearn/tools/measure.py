"""Build (and optionally run) the train-and-evaluate driver for a TrainerConfig on a target and
return what the planner predicts: flash, static SRAM, stack. Used by the planner's calibration
and by the planner-vs-measured tests."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microlearn.core.paths import include_dir
from microlearn.trainer.codegen import render_trainer
from microlearn.trainer.config import TrainerConfig, make_config
from microlearn.trainer.driver import DRIVER, encode_input
from microlearn.targets.errors import RunError


@dataclass
class Measured:
    flash_bytes: int
    static_ram_bytes: int
    stack_bytes: int | None = None
    status: str | None = None
    svm_bytes: int | None = None      # sizeof(mlrn_smo) in this build (symbol t_svm): its fields follow the solvers

    @property
    def sram_bytes(self):
        return None if self.stack_bytes is None else self.static_ram_bytes + self.stack_bytes


def config(n_features, capacity, classes=2, kernel="linear", storage="float32", solver="wss2",
           multiclass="ovo") -> TrainerConfig:
    """A TrainerConfig for sizing (the quantisation map is a dummy [-1, 1] range)."""
    return make_config(n_features=n_features, capacity=capacity, classes=classes, kernel=kernel, storage=storage,
                       solver=solver, multiclass=multiclass, feature_range=(-1.0, 1.0), gamma=0.5, coef0=0.1,
                       max_iter=200, max_passes=2)


def synthetic(cfg: TrainerConfig, n_train: int, n_test: int = 4, seed: int = 0):
    """Separable-ish random rows in [-1, 1] with every class present."""
    rng = np.random.default_rng(seed)
    k = cfg.n_classes
    centres = rng.uniform(-0.6, 0.6, size=(k, cfg.n_features))
    y_tr = np.arange(n_train) % k
    y_te = np.arange(n_test) % k
    X_tr = np.clip(centres[y_tr] + rng.normal(0, 0.2, (n_train, cfg.n_features)), -1, 1).astype(np.float32)
    X_te = np.clip(centres[y_te] + rng.normal(0, 0.2, (n_test, cfg.n_features)), -1, 1).astype(np.float32)
    return X_tr, y_tr.astype(np.uint8), X_te, y_te.astype(np.uint8)


def measure(cfg: TrainerConfig, target, *, run: bool = True, n_train: int | None = None, dump: bool = True,
            timeout: float = 120.0, keep_going: bool = False) -> Measured:
    """Build the driver for `cfg` on `target` (a Target); with run=True also run it on a few synthetic
    rows to measure the stack. DoesNotFit propagates."""
    with tempfile.TemporaryDirectory(prefix="microlearn-measure-") as wd:
        wd = Path(wd)
        (wd / "trainer.h").write_text(render_trainer(cfg, "t"))
        (wd / "main.c").write_text(DRIVER)
        build = target.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())],
                             defines={"MLRN_DRIVER_DUMP": int(dump)})
        m = Measured(build.flash_bytes, build.static_ram_bytes, svm_bytes=build.symbol_sizes.get("t_svm"))
        if run:
            n = n_train or min(cfg.capacity, max(2 * cfg.n_classes, 12))
            try:
                res = target.run(build, encode_input(*synthetic(cfg, n)), timeout=timeout)
            except RunError as exc:          # the build's figures stand; no stack measurement
                if not keep_going:
                    raise
                m.status = f"run error: {str(exc).splitlines()[0]}"
                return m
            m.stack_bytes = res.stack_bytes
            line = next((ln for ln in res.output.splitlines() if ln.startswith("S ")), "")
            m.status = line
        return m
