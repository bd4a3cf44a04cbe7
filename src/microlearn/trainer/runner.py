"""Train on a target: generate the trainer, build it for the target, stream the samples in
(one add_sample per row, as sensors would deliver them), train between the measurement
markers, evaluate on the device, and read everything back exactly (floats as their bits)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from microlearn.boards import power
from microlearn.core import vocab
from microlearn.core.paths import include_dir
from microlearn.targets import Target, get_target
from microlearn.targets.errors import DoesNotFit

from . import planner, reference as _solvers
from .codegen import render_trainer
from .config import TrainerConfig, config_from_estimator
from .driver import DRIVER, STATUS_NAMES, DeviceRun, encode_input, explain_run_error, parse_output
from .estimator import SMOClassifier


def train_on_target(cfg: TrainerConfig, target: Target, X_train, y_train_idx, X_test, y_test_idx, *,
                    workdir=None, timeout: float = 300.0, dump: bool = True, language: str = "c",
                    sram_budget: int | None = None, measure: str = "train", cflags=(), on_step=None) -> DeviceRun:
    """Run the generated trainer on `target` with these rows; class labels are indices 0..n_classes-1.
    measure: 'train' (the training call) or 'predict' (the first test row's prediction). cflags: more
    compiler flags, after the target's own (a user's build: -ffp-contract=fast, say). on_step: called with
    what is being done now ('building for uno', 'running on uno'), for progress."""
    step = on_step or (lambda what: None)
    if measure not in ("train", "predict"):
        raise ValueError(f"measure must be 'train' or 'predict', got {measure!r}")
    if len(X_train) > cfg.capacity:
        raise ValueError(f"{len(X_train)} training samples exceed the trainer's capacity {cfg.capacity}")
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="microlearn-")
        workdir = tmp.name
    try:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
        (wd / "trainer.h").write_text(render_trainer(cfg, "t", sram_budget))
        (wd / "main.c").write_text(DRIVER)
        defines = {"MLRN_DRIVER_DUMP": int(dump), "MLRN_DRIVER_MEASURE_PREDICT": int(measure == "predict")}
        step(f"building for {target.name}")
        build = _build_checked(cfg, target, wd, defines, language, cflags)
        step(f"running on {target.name}")
        try:
            res = target.run(build, encode_input(X_train, y_train_idx, X_test, y_test_idx), timeout=timeout)
        except Exception as exc:
            err = explain_run_error(exc, "trainer")
            if err is exc:
                raise
            raise err from exc
        run = parse_output(res.output, target.name)
        run.cycles, run.instructions, run.cycles_est = res.cycles, res.instructions, res.cycles_est
        run.seconds, run.seconds_kind = res.seconds, res.seconds_kind
        run.flash_bytes, run.static_ram_bytes = build.flash_bytes, build.static_ram_bytes
        run.stack_bytes, run.symbol_sizes = res.stack_bytes, build.symbol_sizes
        return run
    finally:
        if tmp is not None:
            tmp.cleanup()


# ---- fit check (the memory planner, microlearn.trainer.planner): a board configuration that cannot fit
# fails before building, and a linker overflow gets the same message (by how many bytes, what would fit).
def _build_checked(cfg: TrainerConfig, target: Target, wd: Path, defines: dict, language: str, cflags=()):
    if getattr(target, "board", None) is not None:
        planner.precheck(cfg, target)
    try:
        return target.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())],
                            defines=defines, language=language, cflags=cflags)
    except DoesNotFit as exc:
        if getattr(target, "board", None) is None:
            raise
        raise planner.does_not_fit(cfg, target, exc) from exc
# ---- end of the fit check


def _python_alpha_rows(est, n_train):
    """The alpha table the device holds after training, from the Python reference:
    kernels: signed coefficients (n_rows x n_train); linear: the last sub-problem's alphas."""
    if est.kernel == "linear":
        last = est._subs[-1]
        full = np.full(n_train, np.nan, np.float32)     # non-members keep stale values on the device
        full[last.members] = last.alpha
        return full[None, :]
    full = np.zeros((est.dual_coef_.shape[0], n_train), np.float32)
    full[:, est.support_] = est.dual_coef_
    return full


# ---- limits of the C trainer and of DRIVER, checked before the Python reference runs or anything is built
MAX_ROWS = vocab.MAX_CAPACITY  # DRIVER: u16 n_train and u16 n_test; mlrn_store capacity: uint16
HOST_BUFFER_LIMIT = 1 << 30   # static buffers of a host build (the linker's small code model stops near 2 GiB)


def check_shapes(X_train, y_train, X_test, y_test, *, capacity=None, host=False, kernel="linear",
                 storage="float32", solver="wss2", multiclass="ovo") -> int:
    """Refuse what the generated trainer cannot take, before any work: rows over the uint16 store capacity
    and the driver's u16 counts, more features than uint16 d, more classes than MLRN_SMO_MAX_CLASSES (16),
    a capacity outside 2..65535 or below the training rows, buffers no host build can hold.
    Returns the capacity to compile in (default: the training rows)."""
    n_train, n_test = len(X_train), len(X_test)
    if capacity is not None:
        capacity = _solvers.check_int("capacity", capacity, 2, vocab.MAX_CAPACITY, "uint16")
    if n_train > MAX_ROWS:
        raise ValueError(f"{n_train:,} training rows, more than the {MAX_ROWS:,} the device's store takes "
                         f"(uint16 capacity)")
    if n_test > MAX_ROWS:
        raise ValueError(f"{n_test:,} test rows, more than the {MAX_ROWS:,} the driver sends (u16 count)")
    capacity = n_train if capacity is None else capacity
    if n_train > capacity:
        raise ValueError(f"{n_train} training rows exceed --capacity {capacity}")
    d = np.shape(X_train)[1] if np.ndim(X_train) == 2 else 0
    if d > vocab.MAX_FEATURES:
        raise ValueError(f"{d:,} features, more than the {vocab.MAX_FEATURES:,} the device takes (uint16 d)")
    try:
        classes = np.unique(np.asarray(y_train))
    except TypeError:         # mixed label types: the estimator says what is wrong
        classes = None
    if classes is not None and len(classes) > vocab.SMO_MAX_CLASSES:
        raise ValueError(f"{len(classes)} classes, more than the {vocab.SMO_MAX_CLASSES} the C trainer takes "
                         f"(MLRN_SMO_MAX_CLASSES in mlrn_smo.h)")
    if host and d >= 1 and classes is not None and len(classes) >= 2 and capacity >= 2:
        total = sum(planner.buffers_for(d, capacity, len(classes), kernel, storage, solver, multiclass).values())
        if total > HOST_BUFFER_LIMIT:
            raise ValueError(f"the trainer's buffers would take {total / (1 << 30):.1f} GiB, over the "
                             f"{HOST_BUFFER_LIMIT >> 30} GiB a host build holds: lower --capacity or use int8 storage")
    return int(capacity)


def _precheck_board(tgt, est, X_train, y_train, capacity):
    """For a board: the memory planner's verdict before the Python reference runs (train_on_target checks
    the exact configuration again before building)."""
    board = getattr(tgt, "board", None)
    if board is None or board.name not in planner.calibration()["boards"]:
        return
    try:
        n_classes = len(np.unique(np.asarray(y_train)))
    except TypeError:
        return
    if n_classes < 2:
        return
    d = int(np.shape(X_train)[1])
    planner.check_plan(lambda reserve: planner.plan(board, d, capacity, n_classes, kernel=est.kernel,
                                                    storage=est.storage, solver=est.solver,
                                                    multiclass=est.multiclass, stack_reserve_bytes=reserve),
                       getattr(tgt, "stack_reserve", None))


def train_and_report(X_train, y_train, X_test, y_test, target: Target | str = "host", *, capacity=None,
                     timeout: float = 300.0, workdir=None, language: str = "c", on_step=None,
                     **est_params) -> dict:
    """Fit the Python reference, train the same configuration on the target, evaluate there, compare.

    Returns the report the CLI prints (keys documented in docs/cli.md). on_step: called with what is being
    done now ('fitting the Python reference', 'building for uno', ...), for progress (the CLI's spinner)."""
    step = on_step or (lambda what: None)
    tgt = get_target(target) if isinstance(target, str) else target
    est = SMOClassifier(**est_params)
    est._check_params()   # what mlrn_smo_init refuses, before any work
    capacity = check_shapes(X_train, y_train, X_test, y_test, capacity=capacity, host=tgt.name == "host",
                            kernel=est.kernel, storage=est.storage, solver=est.solver, multiclass=est.multiclass)
    _precheck_board(tgt, est, X_train, y_train, capacity)
    step("fitting the Python reference")
    est.fit(X_train, y_train)
    n_train = len(X_train)
    cfg = config_from_estimator(est, capacity)
    y_tr_idx = np.searchsorted(est.classes_, y_train)
    y_te_idx = np.searchsorted(est.classes_, y_test)
    if not np.array_equal(est.classes_[np.clip(y_te_idx, 0, len(est.classes_) - 1)], y_test):
        raise ValueError("the test set has labels that do not occur in the training set")
    run = train_on_target(cfg, tgt, X_train, y_tr_idx, X_test, y_te_idx, timeout=timeout, workdir=workdir,
                          language=language, on_step=step)
    step("comparing with the Python reference")
    py_pred = np.searchsorted(est.classes_, est.predict(X_test))
    report = {
        "target": tgt.name,
        "n_train": n_train,
        "n_test": len(X_test),
        "n_features": int(X_train.shape[1]),
        "classes": [c.item() if hasattr(c, "item") else c for c in est.classes_],
        "solver": est.solver,
        "loss": est.loss,
        "kernel": est.kernel,
        "storage": est.storage,
        "multiclass": est.multiclass if len(est.classes_) > 2 else None,
        "capacity": capacity,
        "status": STATUS_NAMES.get(run.status, str(run.status)),
        "iterations": run.iterations,
        "python_iterations": int(est.n_iter_.sum()),
        "accuracy": run.correct / len(X_test) if len(X_test) else None,
        "python_accuracy": float(np.mean(py_pred == y_te_idx)) if len(X_test) else None,
        "agreement": float(np.mean(run.predictions == py_pred)) if len(X_test) else None,
        "max_alpha_diff": None,
        "intercept_identical": bool(run.b is not None and np.array_equal(run.b.view(np.uint32),
                                                                            est.intercept_.view(np.uint32))),
        "flash_bytes": run.flash_bytes,
        "sram_bytes": (run.static_ram_bytes + run.stack_bytes
                       if run.static_ram_bytes is not None and run.stack_bytes is not None else None),
        "static_ram_bytes": run.static_ram_bytes,
        "stack_bytes": run.stack_bytes,
        "buffer_bytes": sum(cfg.buffers().values()),
        "cycles": run.cycles,
        "instructions": run.instructions,
        # estimated cycles of the qemu boards (targets/cycle_model.py), with the manuals' bounds
        "cycles_est": run.cycles_est.nominal if run.cycles_est is not None else None,
        "cycles_est_range": [run.cycles_est.low, run.cycles_est.high] if run.cycles_est is not None else None,
        "seconds": run.seconds,
        "seconds_kind": run.seconds_kind,
    }
    if run.alpha is not None:
        ref = _python_alpha_rows(est, n_train)
        mask = ~np.isnan(ref)
        report["max_alpha_diff"] = float(np.max(np.abs(run.alpha[mask].astype(np.float64) - ref[mask])))
    if getattr(tgt, "board", None) is not None:
        report["clock_hz"] = tgt.board.clock_hz
        # an estimate: the datasheet's run current x supply x the training time (boards/power.py)
        report["energy_mj"] = power.energy_mj(tgt.board.name, run.seconds)
        report.update(power.energy_note(tgt.board.name))
    report["_estimator"] = est
    report["_run"] = run
    return report


def predict_cost(est, capacity, target, X_train, y_train_idx, x, timeout: float = 600.0) -> dict:
    """The cost of ONE prediction on a board: train there again (unmeasured) and time a single
    NAME_predict of `x` (the driver's MLRN_DRIVER_MEASURE_PREDICT mode). infer_cycles (AVR, exact),
    infer_instructions and infer_cycles_est (qemu), infer_seconds and infer_energy_mj (boards/power.py)."""
    tgt = get_target(target) if isinstance(target, str) else target
    cfg = config_from_estimator(est, capacity)
    run = train_on_target(cfg, tgt, X_train, y_train_idx, np.asarray(x, dtype=np.float64)[None, :],
                          np.zeros(1, np.uint8), timeout=timeout, dump=False, measure="predict")
    return {"infer_cycles": run.cycles, "infer_instructions": run.instructions,
            "infer_cycles_est": run.cycles_est.nominal if run.cycles_est is not None else None,
            "infer_seconds": run.seconds, "infer_energy_mj": power.energy_mj(tgt.board.name, run.seconds)}
