"""Train on a target: generate the trainer, build it for the target, stream the samples in
(one add_sample per row, as sensors would deliver them), train between the measurement
markers, evaluate on the device, and read everything back exactly (floats as their bits)."""
from __future__ import annotations

import importlib.resources
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microlearn.core.paths import include_dir
from .codegen import TrainerConfig, render_trainer
from microlearn.targets import Target

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
    seconds: float | None = None
    seconds_kind: str | None = None
    flash_bytes: int | None = None
    static_ram_bytes: int | None = None
    stack_bytes: int | None = None
    symbol_sizes: dict = field(default_factory=dict)
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
            from microlearn.targets.errors import RunError
            raise explain_run_error(RunError(f"{target}: device reported an error: {line.strip()}", text))
    if alphas:
        run.alpha = np.vstack(alphas)
    return run


def train_on_target(cfg: TrainerConfig, target: Target, X_train, y_train_idx, X_test, y_test_idx, *,
                    workdir=None, timeout: float = 300.0, dump: bool = True, language: str = "c",
                    sram_budget: int | None = None, measure: str = "train") -> DeviceRun:
    """Run the generated trainer on `target` with these rows; class labels are indices 0..n_classes-1.
    measure: 'train' (the training call) or 'predict' (the first test row's prediction)."""
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
        build = _build_checked(cfg, target, wd, defines, language)
        try:
            res = target.run(build, encode_input(X_train, y_train_idx, X_test, y_test_idx), timeout=timeout)
        except Exception as exc:
            err = explain_run_error(exc, "trainer")
            if err is exc:
                raise
            raise err from exc
        run = parse_output(res.output, target.name)
        run.cycles, run.instructions = res.cycles, res.instructions
        run.seconds, run.seconds_kind = res.seconds, res.seconds_kind
        run.flash_bytes, run.static_ram_bytes = build.flash_bytes, build.static_ram_bytes
        run.stack_bytes, run.symbol_sizes = res.stack_bytes, build.symbol_sizes
        return run
    finally:
        if tmp is not None:
            tmp.cleanup()


# ---- fit check (the memory planner, microlearn.trainer.planner): a board configuration that cannot fit
# fails before building, and a linker overflow gets the same message (by how many bytes, what would fit).
def _build_checked(cfg: TrainerConfig, target: Target, wd: Path, defines: dict, language: str):
    from .planner import does_not_fit, precheck
    from microlearn.targets.errors import DoesNotFit
    if getattr(target, "board", None) is not None:
        precheck(cfg, target)
    try:
        return target.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())],
                            defines=defines, language=language)
    except DoesNotFit as exc:
        if getattr(target, "board", None) is None:
            raise
        raise does_not_fit(cfg, target, exc) from exc
# ---- end of the fit check


def _status_defines() -> dict[int, tuple[str, str]]:
    """The status codes of mlrn.h, parsed from the header: {code: (macro name, its comment)}."""
    text = (Path(include_dir()) / "mlrn.h").read_text()
    block = text.split("typedef int8_t mlrn_status;", 1)[1].split("\n\n", 1)[0]
    found = re.findall(r"#define\s+(MLRN_\w+)\s+\(?(-?\d+)\)?[ \t]*(?:/\*\s*(.*?)\s*\*/)?", block)
    return {int(v): (macro, note) for macro, v, note in found}


STATUS_MACROS = _status_defines()
# The status a report shows (`microlearn train --json`: "status"), by code; every code of mlrn.h has one
# (tests/cli/test_hostile_cli.py checks it against the header).
STATUS_NAMES = {0: "converged", 1: "max_iter", 2: "running", -1: "bad_argument", -2: "capacity_full",
                -3: "nan_input", -4: "untrained", -5: "one_class", -6: "bad_label", -7: "buffer_too_small",
                -8: "empty", -9: "crc_mismatch", -10: "io_error"}
for _code, (_macro, _note) in STATUS_MACROS.items():   # a code added to mlrn.h later still gets a name
    STATUS_NAMES.setdefault(_code, _macro[len("MLRN_"):].lower().replace("err_", ""))


def status_text(code: int) -> str:
    """'MLRN_ERR_LABEL (label outside 0..n_classes-1)' for a status code of the C runtime."""
    macro, note = STATUS_MACROS.get(code, (f"status {code}", ""))
    return f"{macro} ({note})" if note else macro


# What the generated programs print before a non-zero exit ("E ..." lines of DRIVER and the loop's driver),
# in the user's terms. Python checks the parameters first, so these are a fallback.
def explain_run_error(exc, program: str = "trainer"):
    """A RunError whose message says what the device refused (status name, sample or row) instead of an exit
    code; other errors are returned unchanged."""
    from microlearn.targets.errors import RunError, RunTimeout
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
MAX_ROWS = 65535              # DRIVER: u16 n_train and u16 n_test; mlrn_store capacity: uint16
HOST_BUFFER_LIMIT = 1 << 30   # static buffers of a host build (the linker's small code model stops near 2 GiB)


def check_shapes(X_train, y_train, X_test, y_test, *, capacity=None, host=False, kernel="linear",
                 storage="float32", solver="wss2", multiclass="ovo") -> int:
    """Refuse what the generated trainer cannot take, before any work: rows over the uint16 store capacity
    and the driver's u16 counts, more features than uint16 d, more classes than MLRN_SMO_MAX_CLASSES (16),
    a capacity outside 2..65535 or below the training rows, buffers no host build can hold.
    Returns the capacity to compile in (default: the training rows)."""
    from . import reference as _solvers
    n_train, n_test = len(X_train), len(X_test)
    if capacity is not None:
        capacity = _solvers.check_int("capacity", capacity, 2, _solvers.MAX_CAPACITY, "uint16")
    if n_train > MAX_ROWS:
        raise ValueError(f"{n_train:,} training rows, more than the {MAX_ROWS:,} the device's store takes "
                         f"(uint16 capacity)")
    if n_test > MAX_ROWS:
        raise ValueError(f"{n_test:,} test rows, more than the {MAX_ROWS:,} the driver sends (u16 count)")
    capacity = n_train if capacity is None else capacity
    if n_train > capacity:
        raise ValueError(f"{n_train} training rows exceed --capacity {capacity}")
    d = np.shape(X_train)[1] if np.ndim(X_train) == 2 else 0
    if d > _solvers.MAX_FEATURES:
        raise ValueError(f"{d:,} features, more than the {_solvers.MAX_FEATURES:,} the device takes (uint16 d)")
    try:
        classes = np.unique(np.asarray(y_train))
    except TypeError:         # mixed label types: the estimator says what is wrong
        classes = None
    if classes is not None and len(classes) > _solvers.MAX_CLASSES:
        raise ValueError(f"{len(classes)} classes, more than the {_solvers.MAX_CLASSES} the C trainer takes "
                         f"(MLRN_SMO_MAX_CLASSES in mlrn_smo.h)")
    if host and d >= 1 and classes is not None and len(classes) >= 2 and capacity >= 2:
        from .planner import _buffers
        total = sum(_buffers(d, capacity, len(classes), kernel, storage, solver, multiclass).values())
        if total > HOST_BUFFER_LIMIT:
            raise ValueError(f"the trainer's buffers would take {total / (1 << 30):.1f} GiB, over the "
                             f"{HOST_BUFFER_LIMIT >> 30} GiB a host build holds: lower --capacity or use int8 storage")
    return int(capacity)


def _precheck_board(tgt, est, X_train, y_train, capacity):
    """For a board: the memory planner's verdict before the Python reference runs (train_on_target checks
    the exact configuration again before building)."""
    from . import planner
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
                     timeout: float = 300.0, workdir=None, language: str = "c", **est_params) -> dict:
    """Fit the Python reference, train the same configuration on the target, evaluate there, compare.

    Returns the report the CLI prints (keys documented in docs/cli.md)."""
    from .codegen import config_from_estimator
    from .estimator import SMOClassifier
    from microlearn.targets import get_target

    tgt = get_target(target) if isinstance(target, str) else target
    est = SMOClassifier(**est_params)
    est._check_params()   # what mlrn_smo_init refuses, before any work
    capacity = check_shapes(X_train, y_train, X_test, y_test, capacity=capacity, host=tgt.name == "host",
                            kernel=est.kernel, storage=est.storage, solver=est.solver, multiclass=est.multiclass)
    _precheck_board(tgt, est, X_train, y_train, capacity)
    est.fit(X_train, y_train)
    n_train = len(X_train)
    cfg = config_from_estimator(est, capacity)
    y_tr_idx = np.searchsorted(est.classes_, y_train)
    y_te_idx = np.searchsorted(est.classes_, y_test)
    if not np.array_equal(est.classes_[np.clip(y_te_idx, 0, len(est.classes_) - 1)], y_test):
        raise ValueError("the test set has labels that do not occur in the training set")
    run = train_on_target(cfg, tgt, X_train, y_tr_idx, X_test, y_te_idx, timeout=timeout, workdir=workdir,
                          language=language)
    py_pred = np.searchsorted(est.classes_, est.predict(X_test))
    report = {
        "target": tgt.name,
        "n_train": n_train,
        "n_test": len(X_test),
        "n_features": int(X_train.shape[1]),
        "classes": [c.item() if hasattr(c, "item") else c for c in est.classes_],
        "solver": est.solver,
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
        "seconds": run.seconds,
        "seconds_kind": run.seconds_kind,
    }
    if run.alpha is not None:
        ref = _python_alpha_rows(est, n_train)
        mask = ~np.isnan(ref)
        report["max_alpha_diff"] = float(np.max(np.abs(run.alpha[mask].astype(np.float64) - ref[mask])))
    if getattr(tgt, "board", None) is not None:
        report["clock_hz"] = tgt.board.clock_hz
    report["_estimator"] = est
    report["_run"] = run
    return report
