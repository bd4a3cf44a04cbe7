"""Re-derive the planner's per-board constants (src/microlearn/boards/calibration.json) by building
and running the train-and-evaluate driver with each board's real toolchain and emulator.

    python -m microlearn.tools.calibrate [--learner] [--boards uno,nrf52840] [--jobs 2] [--out PATH] [--check]

What is measured, per board:
- struct sizes (symbols t_store, t_svm) and the fixed static data of driver + support code
  (static SRAM - buffers - structs - alignment padding of a small build);
- flash as a function of the number of features, per storage type (linear kernel, wss2, binary),
  at d = 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128 (until it no longer links), plus the
  deltas of each kernel/solver pair (KERNEL_SOLVERS: dcd with the linear kernel only, 'linear/dcd')
  and of ovo/ovr with 3 classes at d = 4;
- the stack high-water mark for every kernel/solver pair x storage x (binary, ovo, ovr) at d = 4
  (the planner adds 4 bytes per extra feature: the driver's row buffer);
- "data_in": what a build with the samples in flash or behind a read callback (MLRN_STORE_SOURCE,
  `microlearn train --data-in`) adds to the RAM build of the same configuration, per storage type: code bytes
  (flash less the rows tables) and stack bytes, plus sizeof(mlrn_store) and the fixed static data of such a
  build (calibrate_data_in; 12 small builds and runs per board);
- "cache": what the kernel-column cache (MLRN_SMO_CACHE, `microlearn train --cache-cols`) adds to the build of
  the same wss2 configuration without it, per non-linear kernel (rbf, poly, sigmoid): code bytes and stack
  bytes, and sizeof(mlrn_smo) with its fields (calibrate_cache; 6 small builds and runs per board). The planner
  counts the columns themselves exactly (MLRN_SMO_CACHE_FLOATS) and adds these.
- "fixed": what fixed point (MLRN_SMO_FIXED, `microlearn train --arith fixed`, the default on boards without an
  FPU) adds to the float32 build of the same int8 wss2 configuration, per kernel it applies to (linear, rbf):
  code bytes and stack bytes (calibrate_fixed; 4 small builds and runs per board).
--check compares a fresh calibration with the stored file and exits 1 if they differ.

The self-learning loop (`microlearn loop`'s program: mlrn_learner + the stream driver) has its own
section, "learner", with its own fingerprint; `--learner` regenerates only that section (quick):
- sizeof(mlrn_learner) (symbol lrn), the order the toolchain lays the learner's objects out in, and the
  fixed static data of driver + support, at the reference configuration (learner.planner.REFERENCE);
- flash per storage type at d = 1, 2, 3, 4, 6, 8, 12, 16, 24, 32 (until it no longer links), and the
  delta of 3 classes (one-vs-one voting) at d = 4;
- the stack per storage type at d = 1, 4, 16 over a drifting stream with time-sliced training, and the
  delta of 3 classes at d = 4.
Without --learner both sections are regenerated.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from microlearn._version import RUNTIME_VERSION
from microlearn.boards.registry import get_board, list_boards
from microlearn.core import vocab
from microlearn.core.paths import include_dir
from microlearn.core.store import affine_from_range
from microlearn.learner import codegen as lc
from microlearn.learner.codegen import static_objects
from microlearn.learner.driver import encode_stream, parse_output
from microlearn.learner.planner import EEPROM_BYTES, REFERENCE, layout, learner_config, learner_fingerprint
from microlearn.learner.runner import build_learner
from microlearn.targets import get_target, symbols, target_for
from microlearn.targets.errors import DoesNotFit, RunError
from microlearn.trainer.codegen import render_trainer
from microlearn.trainer.planner import CALIBRATION_PATH, KERNELS, SOLVERS, STORAGES, runtime_fingerprint
from microlearn.trainer.reference import FIXED_KERNELS
from microlearn.trainer.driver import DRIVER, encode_input
from microlearn.trainer.runner import train_on_target

from .measure import config, measure, synthetic

FLASH_DS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
# The kernel/solver pairs the runtime trains (mlrn_smo_check_params refuses dcd with another kernel).
KERNEL_SOLVERS = tuple((k, s) for k, s in itertools.product(KERNELS, SOLVERS)
                       if k == "linear" or s not in vocab.LINEAR_ONLY_SOLVERS)
STACK_D = 4
CLASSES = {"binary": (2, "ovo"), "ovo": (3, "ovo"), "ovr": (3, "ovr")}


def _toolchain(board) -> str:
    try:
        v = subprocess.run([board.compiler, "-dumpversion"], capture_output=True, text=True).stdout.strip()
        return f"{board.compiler} {v}"
    except OSError:
        return board.compiler or "?"


def _measure(cfg, t, run=True):
    """measure(); a configuration over the board's flash is measured on the same board with its flash limit
    lifted, so the planner knows by how much it does not fit (the CH32V003's 16 KB holds the reference
    configuration but not every kernel). Boards whose calibration programs all fit are measured as before."""
    try:
        return measure(cfg, t, run=run)
    except DoesNotFit as exc:
        if exc.region != "flash":
            raise
        return measure(cfg, _lifted(t), run=run)


def _lifted(t, sram: bool = False):
    """The target of the same board with FLASH_LIFT times its flash (and with `sram`, its SRAM)."""
    b = t.board
    return target_for(dataclasses.replace(b, flash_bytes=FLASH_LIFT * b.flash_bytes,
                                          sram_bytes=FLASH_LIFT * b.sram_bytes if sram else b.sram_bytes))


FLASH_LIFT = 16


def reference_point(name: str) -> dict:
    """One build + run of the reference configuration (4 features, capacity 8, linear, wss2, float32,
    binary): struct sizes, the fixed static data, flash and stack there. Also what the planner measures
    on the fly when the runtime changed after calibration (see planner._refresh)."""

    b = get_board(name)
    t = target_for(b)
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
    t = target_for(b)
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
    builds = {f"{k}/{s}": _measure(config(STACK_D, 8, kernel=k, solver=s), t, run=False) for k, s in KERNEL_SOLVERS}
    delta = {key: m.flash_bytes - base for key, m in builds.items()}
    # sizeof(mlrn_smo) where a solver adds fields (dcd's loss byte, padded): the planner's static SRAM stays exact
    svm_by = {key: m.svm_bytes for key, m in builds.items() if m.svm_bytes is not None and m.svm_bytes != svm}
    multi = {lay: _measure(config(STACK_D, 8, classes=c, multiclass=m), t, run=False).flash_bytes - base
             for lay, (c, m) in CLASSES.items() if lay != "binary"}
    stack = {}
    for (k, s), st, lay in itertools.product(KERNEL_SOLVERS, STORAGES, CLASSES):
        c, m = CLASSES[lay]
        stack[f"{k}/{s}/{st}/{lay}"] = _measure(config(STACK_D, 16, c, k, st, s, m), t).stack_bytes
    return {"toolchain": _toolchain(b), "pointer_bytes": ptr, "align": align, "store_bytes": store,
            "svm_bytes": svm, "svm_bytes_by": svm_by, "fixed_static_bytes": fixed, "flash_curve": curves, "flash_delta": delta,
            "flash_multi": multi, "stack": stack, "stack_at_features": STACK_D, "stack_align": 1 if ptr == 2 else 8,
            "data_in": calibrate_data_in(name), "cache": calibrate_cache(name), "fixed": calibrate_fixed(name)}


DATA_IN_CAPACITY = 16   # rows of the data_in reference builds (d = STACK_D, linear, wss2, binary)


def _data_in_run(t, cfg):
    """Build and run the train-and-evaluate program for cfg on synthetic rows (every row in the store)."""
    X, y, Xt, yt = synthetic(cfg, cfg.capacity)
    run = train_on_target(cfg, t, X, y, Xt, yt, timeout=120)
    if run.status < 0:
        raise RuntimeError(f"{t.name}: the data_in={cfg.data_in} reference build failed with status {run.status}")
    return run


def calibrate_data_in(name: str) -> dict:
    """What a build with the samples in flash or behind a read callback (MLRN_STORE_SOURCE) changes against the
    RAM build of the same configuration (d = STACK_D, capacity DATA_IN_CAPACITY, linear, wss2, binary), per
    storage type: "flash" = code bytes added (the build's flash less the rows and labels tables: in the trainer
    header for flash, in the driver's stand-in memory for callback), "stack" = stack bytes added; and
    sizeof(mlrn_store) (the callback adds its read function, context, code buffer and status) and the fixed static
    data of that build (the callback driver's read counter). The planner adds these to the RAM build's curves."""
    t = target_for(get_board(name))
    align = 1 if t.board.arch == "avr" else 4
    out = {}
    for mode in ("flash", "callback"):
        sec = {"flash": {}, "stack": {}}
        for st in STORAGES:
            base = _data_in_run(t, config(STACK_D, DATA_IN_CAPACITY, storage=st))
            cfg = dataclasses.replace(config(STACK_D, DATA_IN_CAPACITY, storage=st), data_in=mode)
            run = _data_in_run(t, cfg)
            tables = vocab.store_data_size(cfg.capacity, cfg.n_features, st) + cfg.capacity
            sec["flash"][st] = run.flash_bytes - tables - base.flash_bytes
            sec["stack"][st] = run.stack_bytes - base.stack_bytes
            if st == "float32":
                buf = cfg.buffers()
                store, svm = run.symbol_sizes["t_store"], run.symbol_sizes["t_svm"]
                arrays = sum(v for k, v in buf.items() if k != "work")
                sec["store_bytes"] = store
                sec["fixed_static_bytes"] = (run.static_ram_bytes - sum(buf.values()) - store - svm
                                             - (-arrays % align))
        out[mode] = sec
    return out


CACHE_CAPACITY = 16      # rows of the kernel-cache reference builds (d = STACK_D, wss2, binary, float32)
CACHE_COLS = 2           # the smallest cache: the code and the struct fields do not depend on the column count
CACHE_KERNELS = tuple(k for k in KERNELS if vocab.cache_applies(k, "wss2"))


def calibrate_cache(name: str) -> dict:
    """What the kernel-column cache adds against the same build without it (d = STACK_D, capacity CACHE_CAPACITY,
    wss2, binary, float32, CACHE_COLS columns): "flash" and "stack" per non-linear kernel (code and stack bytes
    added), and "svm_bytes": sizeof(mlrn_smo) with the cache's fields (symbol t_svm). A build over the board's flash
    is measured with the flash limit lifted (see _measure)."""
    t = target_for(get_board(name))
    out = {"flash": {}, "stack": {}}
    for k in CACHE_KERNELS:
        base_cfg = config(STACK_D, CACHE_CAPACITY, kernel=k)
        base = _measure(base_cfg, t)
        cached = _measure(dataclasses.replace(base_cfg, cache_cols=CACHE_COLS), t)
        out["flash"][k] = cached.flash_bytes - base.flash_bytes
        out["stack"][k] = cached.stack_bytes - base.stack_bytes
    with tempfile.TemporaryDirectory() as wd:   # the struct's size: a symbol of the build
        wd = Path(wd)
        cfg = dataclasses.replace(config(STACK_D, CACHE_CAPACITY, kernel="rbf"), cache_cols=CACHE_COLS)
        (wd / "trainer.h").write_text(render_trainer(cfg, "t"))
        (wd / "main.c").write_text(DRIVER)
        try:
            build = t.build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())])
        except DoesNotFit:
            build = _lifted(t).build([wd / "main.c"], wd / "build", include_dirs=[wd, Path(include_dir())])
        out["svm_bytes"] = build.symbol_sizes["t_svm"]
    return out


FIXED_CAPACITY = 16     # rows of the fixed-point reference builds (d = STACK_D, int8, linear, wss2, binary)


def calibrate_fixed(name: str) -> dict:
    """What MLRN_SMO_FIXED (arith 'fixed') adds against the float32 build of the same configuration (d = STACK_D,
    capacity FIXED_CAPACITY, int8, wss2, binary), per kernel it applies to (linear, rbf): "flash" and "stack"
    bytes (4 builds and runs)."""
    t = target_for(get_board(name))
    out = {"flash": {}, "stack": {}}
    for k in FIXED_KERNELS:
        base_cfg = config(STACK_D, FIXED_CAPACITY, kernel=k, storage="int8")
        base = _measure(base_cfg, t)
        fixed = _measure(dataclasses.replace(base_cfg, params=dataclasses.replace(base_cfg.params, arith="fixed")), t)
        out["flash"][k] = fixed.flash_bytes - base.flash_bytes
        out["stack"][k] = fixed.stack_bytes - base.stack_bytes
    return out


# ---- the self-learning loop (mlrn_learner + the stream driver of `microlearn loop`) ----------------------
LEARNER_FLASH_DS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
LEARNER_STACK_DS = (1, 4, 16)
LEARNER_MULTI_CLASSES = 3      # one-vs-one voting: the same code for any number of classes > 2


def _learner_cfg(d: int, classes: int = 2, storage: str = "float32", budget: int = 0, drift: str = "window",
                 warm: bool = False, kernel: str = "linear"):
    """The calibration configurations: the reference sizes, d features. Flash is measured with `microlearn
    loop`'s default budget 0; the stack with budget 5, so that training is time-sliced and the queue is
    used (the deepest paths of step() run)."""
    kw = {**REFERENCE, "n_features": d, "classes": classes, "storage": storage, "budget": budget, "drift": drift,
          "warm": warm, "kernel": kernel}
    if storage != "float32":
        kw["scale"], kw["offset"] = affine_from_range(-4.0, 4.0, storage, d)
    return learner_config(**kw)


def _learner_stream(d: int, classes: int, n: int = 160, seed: int = 0):
    """Gaussian rows labelled by the nearest of `classes` random directions; the labels rotate halfway
    (an abrupt drift), so the run retrains, accepts, rolls back and signals a drift."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = np.argmax(X @ rng.normal(size=(d, classes)), axis=1)
    y[n // 2:] = (y[n // 2:] + 1) % classes
    return X, y.astype(np.uint8)


def nv_bytes(cfg, persist: str) -> int:
    """The driver's stand-in for the EEPROM / flash region: what the slots need, rounded up to 4 bytes so that
    no alignment padding follows it (the region is not SRAM on a device: subtracted whole)."""
    return -(-lc.persist_storage_bytes(cfg, persist) // 4) * 4


def nv_sram_bytes(name: str, cfg, persist: str) -> int:
    """SRAM the driver's stand-in for the slots takes: none on an AVR board whose internal EEPROM holds them
    (learner/driver.c keeps them there), else nv_bytes."""
    n = nv_bytes(cfg, persist)
    return 0 if get_board(name).arch == "avr" and n <= EEPROM_BYTES.get(name, 0) else n


def _learner_measure(name: str, cfg, run: bool, persist: str | None = None, lift_sram: bool = False):
    """Build (and run over _learner_stream) the loop program exactly as `microlearn loop` builds it;
    persist "model"/"all": with the driver's save + load round trip after the stream (LRN_PERSIST).
    A program over the board's flash is measured with the flash limit lifted (see _measure); with lift_sram
    also one over its SRAM (the reference point, 3 classes and persistence on the ch32v003's 2 KB: their
    figures are differences, and the planner decides what fits)."""

    t = get_target(name)
    with tempfile.TemporaryDirectory() as wd:
        defines = {"LRN_MARK_STEPS": 1}
        if persist:
            defines.update(LRN_PERSIST=PERSIST_KINDS[persist], LRN_PERSIST_BYTES=nv_bytes(cfg, persist))
        try:
            build = build_learner(cfg, t, wd, defines, check=False)
        except DoesNotFit as exc:
            if exc.region != "flash" and not lift_sram:
                raise
            t = _lifted(t, sram=lift_sram)
            build = build_learner(cfg, t, Path(wd) / "lifted", defines, check=False)
        addrs = symbols(t.nm, build.path)[1]
        stack = None
        if run:
            res = t.run(build, encode_stream(*_learner_stream(cfg.n_features, cfg.n_classes)), timeout=300)
            parse_output(res.output)           # raises if the device reported an error
            if persist and f"\nS {0}\n" not in res.output:
                raise RuntimeError(f"{name}: the persistence round trip failed: {res.output[-200:]}")
            stack = res.stack_bytes
    return build, addrs, stack


def learner_reference_point(name: str) -> dict:
    """The learner's reference configuration (planner REFERENCE, float32) built and run once: sizeof
    (mlrn_learner), the order the toolchain lays the learner's objects out in, the fixed static data of
    driver + support, flash and stack. Also what the learner planner measures when the runtime changed."""
    b = get_board(name)
    cfg = _learner_cfg(STACK_D)
    build, addrs, _ = _learner_measure(name, cfg, run=False, lift_sram=True)
    stack = _learner_measure(name, _learner_cfg(STACK_D, budget=5), run=True, lift_sram=True)[2]
    objs = static_objects(cfg, "lrn")
    order = sorted(objs, key=lambda n: addrs[n])
    cal = {"struct_bytes": build.symbol_sizes["lrn"], "order": [n[len("lrn"):] for n in order],
           "align": 1 if b.arch == "avr" else 4, "fixed_static_bytes": 0}
    cal["fixed_static_bytes"] = build.static_ram_bytes - sum(layout(cfg, cal).values())
    return {**cal, "flash_bytes": build.flash_bytes, "stack_bytes": stack}


def calibrate_learner_board(name: str) -> dict:
    b = get_board(name)
    ref = learner_reference_point(name)
    flash, stack, flash_multi, stack_multi = {}, {}, {}, {}
    for st in STORAGES:
        pts = []
        for d in LEARNER_FLASH_DS:
            try:
                pts.append([d, _learner_measure(name, _learner_cfg(d, storage=st), run=False)[0].flash_bytes])
            except DoesNotFit:
                break
        flash[st] = pts
        stack[st] = []
        for d in LEARNER_STACK_DS:
            try:
                stack[st].append([d, _learner_measure(name, _learner_cfg(d, storage=st, budget=5), run=True)[2]])
            except DoesNotFit:      # 16 float32 features at the reference sizes do not fit the uno
                break
        multi = _learner_measure(name, _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, st), run=False, lift_sram=True)[0]
        flash_multi[st] = multi.flash_bytes - dict(pts)[STACK_D]
        s_multi = _learner_measure(name, _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, st, budget=5), run=True,
                                   lift_sram=True)[2]
        stack_multi[st] = s_multi - dict(map(tuple, stack[st]))[STACK_D]
    return {"toolchain": _toolchain(b), "struct_bytes": ref["struct_bytes"], "order": ref["order"],
            "align": ref["align"], "fixed_static_bytes": ref["fixed_static_bytes"], "flash_curve": flash,
            "flash_multi": flash_multi, "stack_curve": stack, "stack_multi": stack_multi,
            "persist": _learner_persist(name), "ddm": _learner_ddm(name), "warm": _learner_warm(name),
            "kernel": _learner_kernel(name), "online": calibrate_online_board(name)}


LEARNER_KERNELS = ("rbf", "poly")   # MLRN_LEARNER_KERNEL builds (mlrn_learner.h, "Kernel learners")


def _learner_kernel(name: str) -> dict:
    """What a kernel learner (MLRN_LEARNER_KERNEL rbf / poly) changes against the linear build the curves above
    measure, at the reference point (d = 4): sizeof(mlrn_learner) with the snapshot's fields, the order the
    toolchain lays its objects out in (the snapshot's NAME_sv_x / _sv_y among them), and per storage type the
    flash (the kernel's trainer paths, its function, the snapshot) and stack deltas over the linear figures
    at d = 4 (binary), and what a third class adds to the kernel build (float32). Its buffers are sized
    exactly by learner.codegen.static_objects, not here."""
    out = {}
    for kernel in LEARNER_KERNELS:
        sec = {"flash": {}, "stack": {}}
        for st in STORAGES:
            b0 = _learner_measure(name, _learner_cfg(STACK_D, storage=st), run=False, lift_sram=True)[0]
            s0 = _learner_measure(name, _learner_cfg(STACK_D, storage=st, budget=5), run=True, lift_sram=True)[2]
            cfg = _learner_cfg(STACK_D, storage=st, kernel=kernel)
            b1, addrs, _ = _learner_measure(name, cfg, run=False, lift_sram=True)
            s1 = _learner_measure(name, _learner_cfg(STACK_D, storage=st, budget=5, kernel=kernel), run=True,
                                  lift_sram=True)[2]
            sec["flash"][st], sec["stack"][st] = b1.flash_bytes - b0.flash_bytes, s1 - s0
            if st == "float32":
                objs = static_objects(cfg, "lrn")
                sec["struct_bytes"] = b1.symbol_sizes["lrn"]
                sec["order"] = [n[len("lrn"):] for n in sorted(objs, key=lambda n: addrs[n])]
                flash2, stack2 = b1.flash_bytes, s1
        b3 = _learner_measure(name, _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, kernel=kernel), run=False,
                              lift_sram=True)[0]
        s3 = _learner_measure(name, _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, budget=5, kernel=kernel), run=True,
                              lift_sram=True)[2]
        sec["flash_multi"], sec["stack_multi"] = b3.flash_bytes - flash2, s3 - stack2
        # save / save_all + load of the snapshot, over the linear model's (_learner_persist's measure; int8: the
        # kernel learner's largest save_all at the reference sizes in float32 is over the uno's 1 KB of EEPROM)
        sec["persist"] = {}
        for kind in PERSIST_KINDS:
            pair = []
            for k in ("linear", kernel):
                cfg = _learner_cfg(STACK_D, storage="int8", kernel=k)
                b0, _, s0 = _learner_measure(name, cfg, run=True, lift_sram=True)
                try:
                    b1, _, s1 = _learner_measure(name, cfg, run=True, persist=kind, lift_sram=True)
                    pair.append((b1.flash_bytes - b0.flash_bytes, s1 - s0))
                except RunError:
                    if k == "linear":
                        raise
                    # over the uno's 32 KB (simavr loads no more than the part's flash; qemu runs a lifted build):
                    # the flash from the lifted build; the stack taken as the linear learner's (save / load run
                    # after the stream, outside step(); the planner refuses such a build on its flash anyway)
                    b1 = _learner_measure(name, cfg, run=False, persist=kind, lift_sram=True)[0]
                    pair.append((b1.flash_bytes - b0.flash_bytes, pair[0][1]))
                    sec.setdefault("persist_stack_from_linear", []).append(kind)
            sec["persist"][kind] = {"flash": pair[1][0] - pair[0][0], "stack": pair[1][1] - pair[0][1]}
        out[kernel] = sec
    return out


def _learner_warm(name: str) -> dict:
    """What warm-started retraining (MLRN_LEARNER_WARM 1) adds to the cold build the curves above measure, at the
    reference point (d = 4, float32, 3 classes: the one-vs-one warm rows and their code in use): the extra bytes
    of sizeof(mlrn_learner) (a pointer and a flag, with padding), flash (the warm start in mlrn_smo.h, the
    bookkeeping in mlrn_learner.h) and stack. The warm alphas themselves are in the work array, sized by
    vocab.learner_warm_floats, not here."""
    out = {}
    for warm in (False, True):
        cfg = _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, warm=warm)
        b = _learner_measure(name, cfg, run=False, lift_sram=True)[0]
        s = _learner_measure(name, _learner_cfg(STACK_D, LEARNER_MULTI_CLASSES, budget=5, warm=warm), run=True,
                             lift_sram=True)[2]
        out[warm] = (b, s)
    (b0, s0), (b1, s1) = out[False], out[True]
    return {"struct_extra": b1.symbol_sizes["lrn"] - b0.symbol_sizes["lrn"], "flash": b1.flash_bytes - b0.flash_bytes,
            "stack": s1 - s0}


def _learner_ddm(name: str) -> dict:
    """What compiling the DDM detector in adds (a configuration with drift "ddm": MLRN_LEARNER_DDM 1) to the
    window-detector build the curves above measure, at the reference point (d = 4, float32): sizeof(mlrn_learner)
    with it, flash and stack, and per persistence kind what its save_all / load section adds on top."""
    base = {}
    for drift in ("window", "ddm"):
        cfg = _learner_cfg(STACK_D, drift=drift)
        b, _, s_plain = _learner_measure(name, cfg, run=True, lift_sram=True)       # budget 0, as _learner_persist
        s = _learner_measure(name, _learner_cfg(STACK_D, budget=5, drift=drift), run=True, lift_sram=True)[2]
        per = {}
        for kind in PERSIST_KINDS:
            bp, _, sp = _learner_measure(name, cfg, run=True, persist=kind, lift_sram=True)
            per[kind] = (bp.flash_bytes - b.flash_bytes, sp - s_plain)
        base[drift] = (b, s, per)
    (b0, s0, p0), (b1, s1, p1) = base["window"], base["ddm"]
    return {"struct_bytes": b1.symbol_sizes["lrn"], "flash": b1.flash_bytes - b0.flash_bytes, "stack": s1 - s0,
            "persist": {k: {"flash": p1[k][0] - p0[k][0], "stack": p1[k][1] - p0[k][1]} for k in PERSIST_KINDS}}


# ---- the online learner (mlrn_online.h, `microlearn loop --model online`): same driver, its own constants ----
ONLINE_FLASH_DS = (1, 4, 16, 32)
ONLINE_REFERENCE_CAPACITY = 8   # held-out rows


def _online_cfg(d: int, classes: int = 2):
    return learner_config(n_features=d, capacity=ONLINE_REFERENCE_CAPACITY, classes=classes, model="online", drift="window",
                          trigger_window=REFERENCE["trigger_window"])


def calibrate_online_board(name: str) -> dict:
    """The "online" sub-section of a board's learner calibration: sizeof(mlrn_online), the order of its objects,
    the fixed static data, flash and stack as functions of d (float32 only), the delta for more than two classes
    (one score per class), and what mlrn_online_save + load add."""
    b = get_board(name)
    cfg = _online_cfg(STACK_D)
    build, addrs, stack0 = _learner_measure(name, cfg, run=True, lift_sram=True)
    objs = static_objects(cfg, "lrn")
    cal = {"struct_bytes": build.symbol_sizes["lrn"], "order": [n[len("lrn"):] for n in sorted(objs, key=lambda n: addrs[n])],
           "fixed_static_bytes": 0}
    align = 1 if b.arch == "avr" else 4
    cal["fixed_static_bytes"] = build.static_ram_bytes - sum(layout(cfg, {"align": align, "online": cal}).values())
    flash = []
    for d in ONLINE_FLASH_DS:
        try:
            flash.append([d, _learner_measure(name, _online_cfg(d), run=False)[0].flash_bytes])
        except DoesNotFit:
            break
    stack = []
    for d in LEARNER_STACK_DS:
        try:
            stack.append([d, _learner_measure(name, _online_cfg(d), run=True)[2]])
        except DoesNotFit:
            break
    multi, _, s_multi = _learner_measure(name, _online_cfg(STACK_D, LEARNER_MULTI_CLASSES), run=True, lift_sram=True)
    persist = {}
    for kind in PERSIST_KINDS:   # model: mlrn_online_save_model; all: mlrn_online_save; each with load
        with_persist, _, s_persist = _learner_measure(name, cfg, run=True, persist=kind, lift_sram=True)
        persist[kind] = {"static": with_persist.static_ram_bytes - build.static_ram_bytes
                         - nv_sram_bytes(name, cfg, kind),
                         "flash": with_persist.flash_bytes - build.flash_bytes, "stack": s_persist - stack0}
    return {**cal, "flash_curve": flash, "stack_curve": stack, "flash_multi": multi.flash_bytes - build.flash_bytes,
            "stack_multi": s_multi - stack0, "persist": persist}


PERSIST_KINDS = {"model": 1, "all": 2}


def _learner_persist(name: str) -> dict:
    """What save/save_all + load add, per kind and storage type at d = 4 (budget 0: the stream ends with no
    training running, as save_all requires): static (the storage struct and callbacks' data, not the
    stand-in for the EEPROM/flash region), flash, and stack (the round trip's frame above the loop's peak)."""
    out = {}
    for kind in PERSIST_KINDS:
        for st in STORAGES:
            cfg = _learner_cfg(STACK_D, storage=st)
            b0, _, s0 = _learner_measure(name, cfg, run=True, lift_sram=True)
            b1, _, s1 = _learner_measure(name, cfg, run=True, persist=kind, lift_sram=True)
            out[f"{kind}/{st}"] = {"static": b1.static_ram_bytes - b0.static_ram_bytes - nv_sram_bytes(name, cfg, kind),
                                   "flash": b1.flash_bytes - b0.flash_bytes, "stack": s1 - s0}
    return out


def calibrate_learner(boards=None, jobs: int = 2) -> dict:
    """The "learner" section of calibration.json."""
    names = boards or [b.name for b in list_boards() if b.emulated]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        results = dict(zip(names, ex.map(calibrate_learner_board, names)))
    return {"fingerprint": learner_fingerprint(),
            "generated_by": "python -m microlearn.tools.calibrate --learner", "boards": results}


ESTIMATES = {
    "esp32": {"borrowed_from": "nrf52840", "static_limit_bytes": 160 * 1024,
              "basis": "no Xtensa toolchain here: the nrf52840's (Cortex-M4F, 32-bit pointers, single-precision "
                       "FPU) constants",
              "notes": ["ESP32 figures are estimates borrowed from the nrf52840 calibration; ESP-IDF itself "
                        "(FreeRTOS, drivers, Wi-Fi if enabled) adds tens of KB of static RAM and flash not counted "
                        "here, and limits .data + .bss to about 160 KB."]},
}


def calibrate(boards=None, jobs: int = 2) -> dict:
    names = boards or [b.name for b in list_boards() if b.emulated]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        results = dict(zip(names, ex.map(calibrate_board, names)))
    return {"version": 1, "runtime_version": RUNTIME_VERSION, "fingerprint": runtime_fingerprint(),
            "generated_by": "python -m microlearn.tools.calibrate", "boards": {**results, **ESTIMATES}}


def _merge(stored: dict, fresh: dict, what: str) -> dict:
    """A partial run (some boards): merge its boards into the stored section."""
    if stored.get("fingerprint") != fresh["fingerprint"]:
        print(f"warning: the stored {what} calibration is for another runtime; calibrate every board",
              file=sys.stderr)
    return {**stored, **{k: v for k, v in fresh.items() if k != "boards"},
            "boards": {**stored.get("boards", {}), **fresh["boards"]}}


def add_arguments(ap) -> None:
    """The options of `microlearn calibrate` and of `python -m microlearn.tools.calibrate`."""
    ap.add_argument("--boards", help="comma-separated board names (default: every emulated board)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel emulator processes (default 2)")
    ap.add_argument("--out", default=str(CALIBRATION_PATH),
                    help="where to write (default: the package's boards/calibration.json)")
    ap.add_argument("--check", action="store_true", help="compare with the stored calibration instead of writing")
    ap.add_argument("--learner", action="store_true",
                    help="only the self-learning loop's constants (the \"learner\" section; about 1 min per board)")


def run(a) -> int:
    """Measure (build and run the reference programs on every emulated board), then write or --check."""
    boards = a.boards.split(",") if a.boards else None
    if boards:
        for name in boards:
            get_board(name)          # an unknown name fails before minutes of measuring
    if not 1 <= a.jobs <= 64:
        raise ValueError(f"--jobs must be in 1..64, got {a.jobs}")
    stored = json.loads(CALIBRATION_PATH.read_text()) if CALIBRATION_PATH.exists() else None
    if a.learner:
        cal = dict(stored or {"version": 1, "boards": {}})
        cal["learner"] = calibrate_learner(boards, a.jobs)
    else:
        cal = calibrate(boards, a.jobs)
        cal["learner"] = calibrate_learner(boards, a.jobs)
    if a.check:
        diff = [n for n, v in cal["boards"].items() if stored["boards"].get(n) != v]
        diff += [f"{n} (learner)" for n, v in cal["learner"]["boards"].items()
                 if stored.get("learner", {}).get("boards", {}).get(n) != v]
        print("calibration up to date" if not diff else f"calibration differs for: {', '.join(diff)}")
        return 1 if diff else 0
    if boards and stored is not None:   # partial run: merge into the stored file
        if not a.learner:
            cal = {**_merge(stored, cal, "trainer"), "learner": cal["learner"]}
        cal["learner"] = _merge(stored.get("learner", {}), cal["learner"], "learner")
    with open(a.out, "w") as fh:
        json.dump(cal, fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"wrote {a.out}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
