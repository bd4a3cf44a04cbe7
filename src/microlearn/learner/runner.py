"""Run the C self-learning loop on a target (host, uno, nrf52840...) over a stream and compare it
with the Python reference (microlearn.learner.simulate), row by row."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from microlearn.boards import power
from microlearn.core import vocab
from microlearn.core.paths import include_dir
from microlearn.core.store import affine_from_range
from microlearn.targets import get_target
from microlearn.targets.errors import DoesNotFit, RunError
from microlearn.trainer import reference as trainer_reference
from microlearn.trainer.driver import explain_run_error

from . import codegen as lc
from .planner import EEPROM_BYTES, drift_that_fits, learner_does_not_fit, learner_precheck
from .config import LearnerConfig, check_window
from .driver import DRIVER, encode_stream, model_hash, parse_output, snapshot_hash
from .simulate import MAX_STREAM_ROWS, fit_static, load_stream, report, run_reference

HOST_BUFFER_LIMIT = 1 << 30   # static buffers of a host build (as trainer.runner.HOST_BUFFER_LIMIT)
MAX_TIMEOUT = 1e6             # seconds (11 days): subprocess timeouts overflow far above


def _cpi_est(res) -> float | None:
    x = res.extra or {}
    if x.get("cycles_est_total") and x.get("total_instructions"):
        return x["cycles_est_total"] / x["total_instructions"]
    est = getattr(res, "cycles_est", None)
    return est.nominal / res.instructions if est is not None and res.instructions else None


def _training_cost(res, measure: str) -> dict:
    """Whole loop and training cost from a step-marked run. The last pair is the closing bracket, an empty
    region: its count E is the marker overhead of one pair (the opening bracket costs the same: same two
    calls). training = marked_total - marked_pairs * E (the two brackets, and E per training call),
    whole loop = marked_span (it includes the per-row marker calls)."""
    e = res.cycles if measure == "cycles" else res.instructions
    x = res.extra
    if e is None or x.get("marked_pairs", 0) < 2 or x.get("marked_span") is None:
        return {}
    return {"whole": x["marked_span"], "train": x["marked_total"] - x["marked_pairs"] * e,
            "train_marked_calls": x["marked_pairs"] - 2, "marker_overhead": e}


PERSIST_KINDS = {"model": 1, "all": 2}   # LRN_PERSIST of learner/driver.c


def persist_defines(cfg: LearnerConfig, persist) -> dict:
    """The driver's defines for a save + load round trip after the stream (`--persist model|all`): LRN_PERSIST
    and the slots' bytes (rounded up to 4: no alignment padding follows the RAM stand-in)."""
    if persist is None:
        return {}
    if persist not in PERSIST_KINDS:
        raise ValueError(f"persist must be 'model' or 'all', got {persist!r}")
    return {"LRN_PERSIST": PERSIST_KINDS[persist],
            "LRN_PERSIST_BYTES": -(-lc.persist_storage_bytes(cfg, persist) // 4) * 4}


def build_learner(cfg: LearnerConfig, tgt, workdir, defines=None, *, check: bool = True, cflags=(), init=None):
    """Write learner.h + the stream driver into workdir and build them for `tgt`. For a board, the memory
    planner checks the configuration first (check=False skips it: calibration) and a linker overflow is
    rewritten with what would fit, as `microlearn train --target` does for the trainer. cflags: more compiler
    flags, after the target's own. init: an initial model (W, b, classes) the learner starts from."""
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    board = getattr(tgt, "board", None)
    # The header carries the plan (and its #error) only when planned here: calibration builds without one.
    persist = {1: "model", 2: "all"}.get((defines or {}).get("LRN_PERSIST", 0))
    pl = learner_precheck(cfg, tgt, persist=persist) if board is not None and check else None
    (wd / "learner.h").write_text(lc.render_header(cfg, "lrn", plan=pl, init=init))
    (wd / "main.c").write_text(DRIVER)
    try:
        return tgt.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())], defines=defines or {},
                         cflags=cflags)
    except DoesNotFit as exc:
        if board is None or not check:
            raise
        raise learner_does_not_fit(cfg, tgt, exc, persist=persist) from exc


def run_on_target(cfg: LearnerConfig, X, y, target="host", *, workdir=None, timeout: float = 600.0,
                  time_training: bool = False, mark_steps: bool = True, cflags=(), init=None,
                  on_step=None, persist=None) -> dict:
    """Build the learner + driver for `target`, feed the stream, parse what the device decided.
    time_training: build with -DLRN_TIME_TRAINING (AVR: Timer1 accumulates the cycles of the step() calls
    that trained; a separate run, since the timer costs SRAM and interrupt cycles).
    mark_steps (simavr/qemu targets): mark every training step() call, so one run gives the whole-loop
    count ('cycles'/'instructions') and the training count ('train_cycles'/'train_instructions').
    cflags: more compiler flags, after the target's own. init: an initial model (W, b, classes), as
    simulate.fit_static returns it: the device predicts with it from the first row.
    on_step: called with what is being done now ('building for uno', 'running on uno'), for progress."""
    tgt = get_target(target) if isinstance(target, str) else target
    step = on_step or (lambda what: None)
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="microlearn-loop-")
        workdir = tmp.name
    try:
        measure = {"avr": "cycles", "cortex-m": "instructions", "riscv": "instructions"}.get(getattr(tgt, "kind", ""))
        marked = bool(mark_steps and measure)   # LRN_MARK_STEPS: see learner/driver.c
        defines = {"LRN_MARK_STEPS": int(marked)}
        if cfg.warm:   # driver.c's W line: the SMO iterations and the final model's bits, for the comparison
            defines["LRN_WARM_REPORT"] = 1
        if time_training:
            defines["LRN_TIME_TRAINING"] = 1
        defines.update(persist_defines(cfg, persist))
        step(f"building for {tgt.name}")
        build = build_learner(cfg, tgt, workdir, defines, cflags=cflags, init=init)
        step(f"running on {tgt.name}")
        try:
            res = tgt.run(build, encode_stream(X, y), timeout=timeout)
        except Exception as exc:
            err = explain_run_error(exc, "learner")
            if err is exc:
                raise
            raise err from exc
        out = parse_output(res.output)
        out.update({"target": tgt.name, "cycles": res.cycles, "instructions": res.instructions,
                    "seconds": res.seconds, "seconds_kind": res.seconds_kind,
                    "flash_bytes": build.flash_bytes, "static_ram_bytes": build.static_ram_bytes,
                    "stack_bytes": res.stack_bytes,
                    "sram_bytes": (build.static_ram_bytes + res.stack_bytes
                                   if build.static_ram_bytes is not None and res.stack_bytes is not None else None)})
        if getattr(tgt, "board", None) is not None:
            out["clock_hz"] = tgt.board.clock_hz
        cost = _training_cost(res, measure) if marked else {}
        if cost:
            out[measure] = cost["whole"]
            out["seconds"] = cost["whole"] / tgt.board.clock_hz
            out[f"train_{measure}"] = cost["train"]
            out["train_marked_calls"] = cost["train_marked_calls"]
            out["marker_overhead"] = cost["marker_overhead"]
        # qemu boards: estimated cycles per instruction of the whole program (targets/cycle_model.py applied
        # to everything it executed), which the loop's and the training's instruction counts are scaled by
        cpi = _cpi_est(res)
        out["cpi_est"] = cpi
        out["cycles_est"] = round(out["instructions"] * cpi) if cpi and out.get("instructions") else None
        if len(out["predictions"]) != len(X):
            raise RunError(f"{tgt.name}: the device answered {len(out['predictions'])} of {len(X)} rows",
                           res.output)
        return out
    finally:
        if tmp is not None:
            tmp.cleanup()


def loop(stream, target="host", *, y=None, n_classes=None, window=100, static_rows=None, baselines=True,
         plot=None, timeout: float = 600.0, workdir=None, feature_range=None, train_cost: bool = False,
         max_rows: int | None = MAX_STREAM_ROWS, init_rows: int = 0, on_step=None, persist=None,
         **cfg_kwargs) -> dict:
    """`microlearn loop`: the learner on the target, the Python reference, the baselines, compared.
    On simavr/qemu targets one run gives the whole-stream count and the training count (markers around
    every step() call that trained: train_cycles on AVR, train_instructions on Cortex-M).
    train_cost: on AVR targets, also a second run with Timer1 timing every step() call that trained (exact
    cycles, a cross-check: train_cycles_timer1); the first run is unaffected by the timer.
    Every option is checked before any work (LearnerConfig's rules, the C types); a CSV stream is read with
    microlearn.data.datasets' limits and at most max_rows rows (None: no row limit).
    init_rows: the first init_rows rows train, in Python, the model the device starts from
    (mlrn_learner_set_model); the loop then runs over the rest of the stream (rows renumbered from 0).
    on_step: called with what is being done now ('running the Python reference', 'building for uno', ...),
    for progress (the CLI's spinner).
    persist: "model" / "all": after the stream the device saves (mlrn_learner_save / save_all; the online
    learner's save_model / save) and loads back (on AVR boards into the internal EEPROM, elsewhere a RAM
    stand-in for the flash pages); the report's persist_status is the round trip's status (0: ok)."""
    step = on_step or (lambda what: None)
    # Every option before the stream is read (LearnerConfig holds the rules; the sizes come from the stream).
    check_window(window, static_rows)
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {timeout!r}")
    LearnerConfig(n_features=1, n_classes=2, **{**cfg_kwargs, "storage": "float32", "scale": None, "offset": None})
    if persist is not None and persist not in PERSIST_KINDS:
        raise ValueError(f"persist must be 'model' or 'all', got {persist!r}")
    if n_classes is not None:
        trainer_reference.check_int("n_classes", n_classes, 2, vocab.SMO_MAX_CLASSES, "MLRN_SMO_MAX_CLASSES")
    X, yv, drift, nc = load_stream(stream, y, n_classes, max_rows=max_rows)
    if cfg_kwargs.get("storage", "float32") != "float32" and cfg_kwargs.get("scale") is None:
        lo, hi = feature_range if feature_range is not None else (X.min(axis=0), X.max(axis=0))
        cfg_kwargs["scale"], cfg_kwargs["offset"] = affine_from_range(lo, hi, cfg_kwargs["storage"], X.shape[1])
    cfg = LearnerConfig(n_features=X.shape[1], n_classes=nc, **cfg_kwargs)
    if init_rows and cfg.kernel != "linear":
        raise ValueError("init_rows: a starting model is for the linear learner (a kernel learner's model is a "
                         "snapshot of its own support vectors)")
    init = None
    if init_rows and cfg.model == "online":
        raise ValueError("init_rows: a starting model is for the SVM learner (--model svm); the online learner "
                         "starts from zero weights")
    if init_rows:
        if isinstance(init_rows, bool) or not isinstance(init_rows, int) or not 0 <= init_rows < len(X):
            raise ValueError(f"init_rows must be an integer in 0..{len(X) - 1} (the stream has {len(X)} rows), "
                             f"got {init_rows!r}")
        init = fit_static(cfg, X[:init_rows], yv[:init_rows])
        if init is None:
            raise ValueError(f"init_rows: the first {init_rows} rows hold fewer than two classes")
        X, yv = X[init_rows:], yv[init_rows:]
        drift = [d - init_rows for d in drift if d >= init_rows]
    if isinstance(target, str) and target == "host" or getattr(target, "name", None) == "host":
        total = sum(lc.buffer_bytes(cfg).values())
        if total > HOST_BUFFER_LIMIT:
            raise ValueError(f"the learner's buffers would take {total / (1 << 30):.1f} GiB, over the "
                             f"{HOST_BUFFER_LIMIT >> 30} GiB a host build holds: lower the capacity or the queue")
    named = isinstance(target, str) and target != "host"
    if named:
        target = get_target(target)
    drift_note = None
    if "drift" not in cfg_kwargs and getattr(target, "board", None) is not None:
        # The default detector (DDM) where its build fits the board, else the window's where that fits (said)
        cfg, drift_note = drift_that_fits(cfg, target.board, persist=persist)
    if named:   # refuse what cannot fit before the reference run
        learner_precheck(cfg, target, persist=persist)
    board = getattr(target, "board", None)
    if persist and board is not None and board.arch == "avr":
        need, room = lc.persist_storage_bytes(cfg, persist), EEPROM_BYTES.get(board.name, 0)
        if need > room:
            raise ValueError(f"persist: the 2 slots of --persist {persist} need {need:,} B, more than the "
                             f"{board.name}'s {room:,} B of EEPROM; use --persist model or a smaller capacity")
    step("running the Python reference")
    ref = run_reference(cfg, X, yv, init=init)
    dev = run_on_target(cfg, X, yv, target, workdir=workdir, timeout=timeout, init=init, on_step=on_step,
                        persist=persist)
    step("baselines and the report")
    rep = report(cfg, X, yv, drift, dev, window=window, static_rows=static_rows, baselines=baselines, plot=plot)
    ref_pred = ref["predictions"]
    rep.update({
        "target": dev["target"],
        "agreement": float(np.mean(dev["predictions"] == ref_pred)) if len(X) else None,
        "same_events": (dev["retrains"] == [int(v) for v in ref["retrains"]] and
                        dev["accepted"] == [int(v) for v in ref["accepted"]] and
                        dev["rollbacks"] == [int(v) for v in ref["rollbacks"]] and
                        dev["drift_rows"] == [int(v) for v in ref["drift_rows"]]),
        "python_drift_rows": [int(v) for v in ref["drift_rows"]],
        "python_retrains": [int(v) for v in ref["retrains"]],
        "python_rollbacks": [int(v) for v in ref["rollbacks"]],
        "device_counters": dev["counters"],
        "cycles": dev["cycles"], "instructions": dev["instructions"], "seconds": dev["seconds"],
        "seconds_kind": dev["seconds_kind"], "flash_bytes": dev["flash_bytes"],
        "static_ram_bytes": dev["static_ram_bytes"], "stack_bytes": dev["stack_bytes"],
        "sram_bytes": dev["sram_bytes"], "buffer_bytes": sum(lc.buffer_bytes(cfg).values()),
        "budget": cfg.budget, "train_iterations": ref["learner"].train_iters, "cycles_est": dev.get("cycles_est"),
        "cpi_est": dev.get("cpi_est"),
    })
    if "clock_hz" in dev:
        rep["clock_hz"] = dev["clock_hz"]
    rep["drifts"] = (dev["counters"] or {}).get("drifts")
    rep["model"], rep["drift"] = cfg.model, cfg.drift
    if drift_note:
        rep["drift_note"] = drift_note
    if cfg.warm:   # warm-started builds report their SMO iterations and the final model's bits (driver.c)
        lr, dw = ref["learner"], dev.get("warm") or {}
        rep["warm"] = True
        rep["warm_starts"] = lr.warm_starts
        rep["smo_iterations"] = dw.get("iterations")
        rep["python_smo_iterations"] = int(sum(lr.train_iters))
        rep["same_model"] = dw.get("model_hash") == model_hash(lr.model)
    if cfg.kernel != "linear":   # kernel builds report their snapshot (driver.c's K line): the same bits?
        n_sv, h = snapshot_hash(ref["learner"].model, cfg)
        snap = dev.get("snapshot") or {}
        rep["kernel"], rep["n_sv"] = cfg.kernel, snap.get("n_sv")
        rep["python_n_sv"] = n_sv
        rep["same_model"] = snap.get("n_sv") == n_sv and snap.get("hash") == h
    if persist:
        rep["persist"] = persist
        rep["persist_status"] = dev.get("persist_status")
    rep["train_calls"] = (dev["counters"] or {}).get("train_calls")
    rep["train_cycles"] = dev.get("train_cycles")
    if dev.get("train_instructions") is not None:
        rep["train_instructions"] = dev["train_instructions"]
    train = dev.get("train_cycles", dev.get("train_instructions"))
    if train is not None:
        rep["train_cost_source"] = "markers"
        rep["train_marked_calls"] = dev["train_marked_calls"]
        rep["marker_overhead"] = dev["marker_overhead"]
        rep["train_per_retrain"] = train / max(len(rep["retrains"]), 1)
        if dev.get("train_cycles") is not None:
            rep["train_cycles_per_retrain"] = rep["train_per_retrain"]
    if train_cost and dev.get("cycles") is not None:   # AVR: exact cycles from simavr, so Timer1 is exact too
        try:
            timed = run_on_target(cfg, X, yv, target, timeout=timeout, time_training=True, init=init,
                                  on_step=on_step)
        except RunError as exc:   # e.g. the timer's ISR frame and variables push SRAM over the part's size
            timed = None
            rep["train_cycles_error"] = str(exc)
        same = timed is not None and bool(np.array_equal(timed["predictions"], dev["predictions"]))
        cyc = (timed["counters"] or {}).get("train_cycles") if timed is not None else None
        if same and cyc is not None:
            rep["train_cycles_timer1"] = cyc
            if rep["train_cycles"] is None:
                rep["train_cycles"] = cyc
                rep["train_cost_source"] = "timer1"
                rep["train_cycles_per_retrain"] = cyc / max(len(rep["retrains"]), 1)
            rep["timer_overhead_cycles"] = timed["counters"].get("timer_overhead_cycles")
            rep["timed_run_cycles"] = timed["cycles"]
    rep.update(_energy(rep, len(X)))
    return rep


def _energy(rep: dict, rows: int) -> dict:
    """Energy estimates (boards/power.py: datasheet run current x supply x time) of the whole run and of the
    training calls. The training time: exact cycles on AVR; on the qemu boards the training instructions x
    the whole program's estimated cycles per instruction (the plugin's cycle model covers the whole run, not
    the marked regions)."""
    board, clock = rep.get("target"), rep.get("clock_hz")
    if not clock:
        return {}
    train_s = None
    if rep.get("train_cycles") is not None:
        train_s = rep["train_cycles"] / clock
    elif rep.get("train_instructions") is not None and rep.get("cpi_est"):
        train_s = rep["train_instructions"] * rep["cpi_est"] / clock
    whole_s = rep["cycles_est"] / clock if rep.get("cycles_est") else rep.get("seconds")
    # a row's predict + feedback + store work: the run without its trainings, per row
    row_s = (whole_s - train_s) / rows if whole_s is not None and train_s is not None and rows else None
    return {"energy_mj": power.energy_mj(board, whole_s), "train_energy_mj": power.energy_mj(board, train_s),
            "row_seconds": row_s, "row_energy_mj": power.energy_mj(board, row_s),
            **power.energy_note(board, whole_s)}
