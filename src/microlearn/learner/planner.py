"""The memory planner for the self-learning loop: will this mlrn_learner configuration fit that board?

`plan_learner(board, n_features=, capacity=, classes=, storage=, holdout_every=, queue=, trigger_window=)`
predicts, for the stream program `microlearn loop --target BOARD` builds (learner + driver + I/O):

- static SRAM, exactly, by name: the buffers MLRN_LEARNER_DEFINE declares (NAME_train_x/_y,
  NAME_hold_x/_y, NAME_work, NAME_model, NAME_scratch, NAME_qx/_qy, NAME_win: see
  learner.codegen.static_objects), the struct NAME (sizeof(mlrn_learner): 2-byte pointers on AVR, 4 on
  ARM, measured), the alignment padding the linker inserts between them (replayed in the order the
  toolchain places them, recorded at calibration), and the fixed static data of the driver and support;
- the stack and flash, calibrated per board and storage type as functions of the number of features,
  plus a delta for more than two classes (one-vs-one voting);
- whether it fits (same rules as the trainer's planner: static <= SRAM - stack reserve, static + stack
  <= SRAM, flash <= flash) and the largest total capacity that fits per storage type.

Store policy (all / mistakes) and replacement (fifo / reservoir / balanced) are run-time parameters of
the same code: they change neither SRAM nor flash. The constants are the "learner" section of
calibration.json, written by `python -m microlearn.tools.calibrate --learner`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from microlearn.core import vocab
from microlearn.boards.registry import get_board, list_boards
from microlearn.trainer import planner as trainer_planner

from . import codegen as lc
from .config import LearnerConfig
from .driver import DRIVER

LEARNER_HEADERS = ("mlrn.h", "mlrn_learner.h", "mlrn_smo.h", "mlrn_store.h", "mlrn_kernel.h", "mlrn_math.h",
                   "mlrn_rng.h", "mlrn_persist.h", "mlrn_crc32.h", "mlrn_drift.h", "mlrn_online.h")
# The calibration's reference configuration (also what a stale calibration is re-measured at).
# drift "window": the point was measured without the DDM detector (its cost is the calibration's "ddm" section),
# whatever LearnerConfig's default detector is.
REFERENCE = dict(n_features=4, capacity=12, classes=2, queue=8, trigger_window=20, drift="window")
MAX_CAPACITY = vocab.MAX_CAPACITY   # uint16 store capacities
RECALIBRATE = "microlearn calibrate --learner"   # re-measures the "learner" section of calibration.json


def learner_config(n_features, capacity=60, classes=2, *, storage="float32", **kw):
    """A LearnerConfig for planning: int16/int8 stores get placeholder affine tables (their values
    do not change any size)."""
    n_classes = classes if isinstance(classes, int) else len(list(classes))
    if storage != "float32" and kw.get("scale") is None:
        kw["scale"] = kw["offset"] = np.ones(int(n_features), np.float32)
    return LearnerConfig(n_features=int(n_features), n_classes=n_classes, capacity=int(capacity),
                         storage=storage, **kw)


def learner_fingerprint() -> str:
    """Hash of what the learner's calibrated figures depend on (runtime headers, a generated header, the
    stream driver, the targets' support code)."""
    return trainer_planner.program_fingerprint(LEARNER_HEADERS, lc.render_header(learner_config(**REFERENCE), "lrn"),
                                             DRIVER)


def learner_calibration() -> dict:
    return trainer_planner.calibration().get("learner", {"boards": {}})


def learner_calibration_is_current() -> bool:
    """False when the learner runtime, its driver or the support code changed since calibration."""
    return learner_calibration().get("fingerprint") == learner_fingerprint()


@functools.lru_cache(maxsize=1)
def _current() -> bool:
    try:
        return learner_calibration_is_current()
    except OSError:
        return True


def _cal_for(b) -> tuple[dict, bool, str]:
    cal = learner_calibration()["boards"]
    trainer = trainer_planner.calibration()["boards"].get(b.name, {})
    if b.name in cal:
        c, basis = cal[b.name], f"calibrated with {cal[b.name].get('toolchain', 'the board toolchain')}"
        return c, False, basis
    src = trainer.get("borrowed_from")
    if src and src in cal:
        base, _, _ = _cal_for(get_board(src))
        return ({**base, "static_limit_bytes": trainer.get("static_limit_bytes", b.sram_bytes),
                 "notes": trainer.get("notes", [])}, True, trainer.get("basis", f"constants of {src}"))
    raise ValueError(f"the planner has no learner calibration for {b.name}; run "
                     f"`{RECALIBRATE} --boards {b.name}`")


FIXED = "driver + support (fixed)"
OTHER = "other static (given)"
PERSIST = "persistence (mlrn_storage)"
PERSIST_KINDS = ("model", "all")
# Internal EEPROM of the AVR boards (datasheets: ATmega328P 1 KB, ATmega2560 4 KB): where mlrn_persist_avr_eeprom.h
# keeps the slots. The ARM boards keep them in flash pages (your callbacks), counted against the flash left.
EEPROM_BYTES = {"uno": 1024, "mega2560": 4096}


def _model_cal(cal: dict, cfg) -> dict:
    """The calibrated constants of cfg's learner: the SVM loop's (the board's section) or the online
    learner's (its "online" sub-section, measured by `microlearn calibrate --learner`)."""
    if getattr(cfg, "model", "svm") != "online":
        return cal
    if "online" not in cal:
        raise ValueError(f"the planner has no calibration of the online learner for this board; run `{RECALIBRATE}`")
    return {**cal, **cal["online"]}


def _ddm_cal(cal: dict, cfg) -> dict | None:
    """What the DDM detector adds to the SVM learner (calibrated: the "ddm" section, measured by
    `microlearn calibrate --learner`), or None when cfg does not compile it in (MLRN_LEARNER_DDM 0)."""
    if getattr(cfg, "model", "svm") == "online" or getattr(cfg, "drift", "window") != "ddm":
        return None
    if "ddm" not in cal:
        raise ValueError(f"the planner has no calibration of the DDM detector for this board; run `{RECALIBRATE}`")
    return cal["ddm"]


def _warm_cal(cal: dict, cfg) -> dict | None:
    """What warm-started retraining adds to the SVM learner's code (calibrated: the "warm" section, measured by
    `microlearn calibrate --learner` at the reference point: struct, flash and stack deltas), or None when cfg
    does not compile it in (MLRN_LEARNER_WARM 0). Its alphas are not in here: they are part of the work array,
    which static_objects sizes (vocab.learner_warm_floats)."""
    if getattr(cfg, "model", "svm") == "online" or not getattr(cfg, "warm", False):
        return None
    if "warm" not in cal:   # a calibration from before warm starts: the alphas are counted, their code is not
        return WARM_UNCALIBRATED
    return cal["warm"]


# Warm starts on a board whose calibration predates them: nothing added but the alphas (exact, in the work
# array); the plan says so (WARM_NOTE) until `microlearn calibrate --learner` measures the "warm" section.
WARM_UNCALIBRATED = {"struct_extra": 0, "flash": 0, "stack": 0, "uncalibrated": True}
WARM_NOTE = ("warm starts: this board's calibration predates them: the warm alphas are counted, their code's "
             "flash and stack and the learner struct's few extra bytes are not")


def _kernel_cal(cal: dict, cfg) -> dict | None:
    """What a kernel learner (MLRN_LEARNER_KERNEL rbf / poly) changes against the linear build (calibrated: the
    "kernel" section, measured by `microlearn calibrate --learner` at the reference point: the struct, the objects'
    order, flash and stack deltas per storage type, the third class's deltas), or None for the linear learner.
    Its buffers (the snapshot among them) are not in here: static_objects sizes them exactly."""
    if getattr(cfg, "model", "svm") == "online" or getattr(cfg, "kernel", "linear") == "linear":
        return None
    sec = cal.get("kernel", {}).get(cfg.kernel)
    if sec is None:   # a calibration from before kernel learners: the buffers are counted, the code is not
        return _kernel_uncalibrated(cal)
    return sec


def _kernel_uncalibrated(cal: dict) -> dict:
    """A kernel learner on a board whose calibration predates them: the struct grown by the snapshot's fields (two
    pointers and a uint16, after the linear struct's last field: 6 bytes with AVR's 2-byte pointers, 12 with 4-byte
    pointers and the struct's padding to 4), the snapshot's two arrays placed first; no flash or stack added (the
    plan says so: KERNEL_NOTE)."""
    avr = cal["align"] == 1
    order = ["_sv_y", "_sv_x"] + list(cal["order"])
    zero = {st: 0 for st in trainer_planner.STORAGES}
    return {"struct_bytes": cal["struct_bytes"] + (6 if avr else 12), "order": order, "flash": zero, "stack": zero,
            "flash_multi": None, "stack_multi": None, "uncalibrated": True}


KERNEL_NOTE = ("kernel learner: this board's calibration predates kernel learners: its buffers (the support-vector "
               "snapshot among them) are counted exactly, the kernel code's flash and stack are not")


def layout(cfg, cal: dict, name: str = "lrn", other_static_bytes: int | None = None) -> dict:
    """Static SRAM by name: each object, the alignment padding, the fixed part. Objects are placed in the
    calibrated order (the toolchain's), each at a multiple of min(its alignment, the board's); the block
    starts aligned and ends padded to the board's alignment (the next object, the support code's, is)."""
    ddm = _ddm_cal(cal, cfg)
    kern = _kernel_cal(cal, cfg)
    cal = _model_cal(cal, cfg)
    objs = lc.static_objects(cfg, name)
    a = cal["align"]
    warm = _warm_cal(cal, cfg)
    struct = (ddm["struct_bytes"] if ddm else cal["struct_bytes"]) + (warm["struct_extra"] if warm else 0)
    order = cal["order"]
    if kern:   # the snapshot's fields in the struct (with DDM: both additions), its arrays in the toolchain's order
        struct += kern["struct_bytes"] - cal["struct_bytes"]
        order = kern["order"]
    sizes = {n: (struct, a) if size is None else (size, min(al, a)) for n, (size, al) in objs.items()}
    if not cfg.holdout_every and cfg.model == "svm":
        # No held-out store: mlrn_learner_init never stores its pointers (holdout_every is a constant of the
        # inlined NAME_setup), so the linker's --gc-sections drops the two 1-entry arrays.
        sizes[f"{name}_hold_x"] = sizes[f"{name}_hold_y"] = (0, 1)
    pos = 0
    for suffix in order:
        size, al = sizes[name + suffix]
        pos = trainer_planner.align_up(pos, al) + size
    pos = trainer_planner.align_up(pos, a)
    out = {n: s for n, (s, _) in sizes.items()}
    out["alignment padding"] = pos - sum(out.values())
    if other_static_bytes is None:
        out[FIXED] = cal["fixed_static_bytes"]
    else:                  # your program instead of microlearn's stream driver (e.g. an Arduino core + Serial)
        out[OTHER] = int(other_static_bytes)
    return out


def _layout_key(n_classes: int) -> str:
    return "binary" if n_classes <= 2 else "ovo"


def _stack(cal, cfg) -> int:
    cal = _model_cal(cal, cfg)
    if cfg.model == "online":   # one curve (float32 only)
        return int(round(trainer_planner.interp(cal["stack_curve"], cfg.n_features)
                         + (cal["stack_multi"] if cfg.n_classes > 2 else 0)))
    s = trainer_planner.interp(cal["stack_curve"][cfg.storage], cfg.n_features)
    ddm, warm, kern = _ddm_cal(cal, cfg), _warm_cal(cal, cfg), _kernel_cal(cal, cfg)
    if cfg.n_classes > 2:   # a kernel learner's third class: its own delta (measured over its binary build)
        s += kern["stack_multi"] if kern and kern["stack_multi"] is not None else cal["stack_multi"][cfg.storage]
    if kern:
        s += kern["stack"][cfg.storage]
    return int(round(s + (ddm["stack"] if ddm else 0) + (warm["stack"] if warm else 0)))


def _flash(cal, cfg) -> int:
    cal = _model_cal(cal, cfg)
    if cfg.model == "online":
        return int(round(trainer_planner.interp(cal["flash_curve"], cfg.n_features)
                         + (cal["flash_multi"] if cfg.n_classes > 2 else 0)))
    f = trainer_planner.interp(cal["flash_curve"][cfg.storage], cfg.n_features)
    ddm, warm, kern = _ddm_cal(cal, cfg), _warm_cal(cal, cfg), _kernel_cal(cal, cfg)
    if cfg.n_classes > 2:
        f += kern["flash_multi"] if kern and kern["flash_multi"] is not None else cal["flash_multi"][cfg.storage]
    if kern:
        f += kern["flash"][cfg.storage]
    return int(round(f + (ddm["flash"] if ddm else 0) + (warm["flash"] if warm else 0)))


def _persist_cost(cal, cfg, persist) -> dict:
    """static / flash / stack that save (persist="model") or save_all ("all") + load add (calibrated)."""
    if persist is None:
        return {"static": 0, "flash": 0, "stack": 0}
    if persist not in PERSIST_KINDS:
        raise ValueError(f"persist must be None, 'model' or 'all', got {persist!r}")
    if cfg.model == "online":   # mlrn_online_save_model ("model") or mlrn_online_save ("all"), with load
        return _model_cal(cal, cfg)["persist"][persist]
    cost = dict(cal["persist"][f"{persist}/{cfg.storage}"])
    kern = _kernel_cal(cal, cfg)
    if kern and "persist" in kern:   # the snapshot's save and load over the linear model's (calibrated)
        cost["flash"] += kern["persist"][persist]["flash"]
        cost["stack"] += kern["persist"][persist]["stack"]
    ddm = _ddm_cal(cal, cfg)
    if ddm:   # the detector's section of save_all / load
        cost["flash"] += ddm["persist"][persist]["flash"]
        cost["stack"] += ddm["persist"][persist]["stack"]
    return cost


def _figures(b, cal, reserve, cfg, name="lrn", other=None, persist=None):
    static = layout(cfg, cal, name, other)
    extra = _persist_cost(cal, cfg, persist)
    if persist:
        static[PERSIST] = extra["static"]
    s = sum(static.values())
    # The round trip runs from the main loop, after step(): its frame adds to the loop's (measured so).
    stack, flash = _stack(cal, cfg) + max(extra["stack"], 0), _flash(cal, cfg) + extra["flash"]
    return static, s, stack, flash, trainer_planner.overruns(b, trainer_planner.static_limit(b, cal, reserve), s, stack, flash)


# The planner's offer on boards the size of the uno: the online learner with DDM beside the SVM, for the reason
# benchmarks/bench_river.py measured (river.md, "uno-sized learners": the planner's largest int8 SVM store per
# stream against the online learner with 16 held-out rows, unseen seeds and datasets).
# tests/learner/test_planner_learner.py checks these figures against benchmarks/results/river.json.
SMALL_BOARD_SRAM = 2048
ONLINE_ROWS = 16
ONLINE_EVIDENCE_FIGURES = {"online16/ddm": (71.0, 794), "svm-uno-int8/ddm": (70.8, 1709)}
ONLINE_EVIDENCE = ("on river's streams as accurate as the uno-sized int8 SVM at half its SRAM (mean "
                   f"{ONLINE_EVIDENCE_FIGURES['online16/ddm'][0]} % against "
                   f"{ONLINE_EVIDENCE_FIGURES['svm-uno-int8/ddm'][0]} %, "
                   f"{ONLINE_EVIDENCE_FIGURES['online16/ddm'][1]:,} B against "
                   f"{ONLINE_EVIDENCE_FIGURES['svm-uno-int8/ddm'][1]:,} B; benchmarks/results/river.md)")


def drift_that_fits(cfg, board, *, persist=None, other_static_bytes=None) -> tuple[LearnerConfig, str | None]:
    """The detector a board gets by default: cfg's (DDM, LearnerConfig's default) where its build fits; where
    only the window detector's build fits (the uno's capacity-60 float32 loop: DDM's state, parameters and code
    take the last bytes), cfg with drift "window" and one line saying so and what DDM would need. Where neither
    fits, cfg unchanged (the refusal then says what fits)."""
    if cfg.drift != "ddm" or cfg.model != "svm":
        return cfg, None
    try:
        pl = plan_learner_config(cfg, board, persist=persist, other_static_bytes=other_static_bytes)
        if pl.fits:
            return cfg, None
        alt = replace(cfg, drift="window")
        if not plan_learner_config(alt, board, persist=persist, other_static_bytes=other_static_bytes).fits:
            return cfg, None
    except ValueError:   # a board the planner has no learner calibration for: nothing to decide on
        return cfg, None
    return alt, window_note(pl)


def window_note(ddm_plan) -> str:
    """Why a board got the window detector: the DDM plan that does not fit, and DDM's largest capacity there."""
    cap = ddm_plan.max_capacity.get(ddm_plan.storage, 0)
    return (f"the window detector: DDM (the default) does not fit the {ddm_plan.board} at capacity "
            f"{ddm_plan.capacity} {ddm_plan.storage} ({ddm_plan.over_text()})"
            + (f"; --drift ddm fits up to capacity {cap:,}" if cap else ""))


# Options of LearnerConfig that change sizes (the rest are run-time parameters of the same program).
SIZE_OPTIONS = ("holdout_every", "queue", "trigger_window", "model", "drift",   # drift "ddm": MLRN_LEARNER_DDM 1
                "warm",                                                         # warm: MLRN_LEARNER_WARM 1
                "kernel")                                                       # MLRN_LEARNER_KERNEL: the snapshot
OTHER_OPTIONS = ("store", "replace", "gamma", "degree", "coef0")


def _options(kw: dict) -> dict:
    bad = set(kw) - set(SIZE_OPTIONS) - set(OTHER_OPTIONS)
    if bad:
        raise TypeError(f"unknown learner option(s): {', '.join(sorted(bad))}")
    return kw


def _min_capacity(holdout_every: int, model: str = "svm") -> int:
    """The smallest total capacity LearnerConfig accepts (>= 2 training samples, >= 1 held out; the online
    learner: 1 held-out row)."""
    if model == "online":
        return 1
    return max(3, holdout_every) if holdout_every else 2


def max_learner_capacity(board, n_features: int, classes=2, *, storage="float32", stack_reserve_bytes=None,
                         other_static_bytes: int | None = None, persist: str | None = None, **options) -> int:
    """The largest total capacity (training + held-out samples) that fits the board; 0 if none does."""
    b = trainer_planner.board_of(board)
    cal, _, _ = _cal_for(b)
    reserve = b.stack_reserve_bytes if stack_reserve_bytes is None else stack_reserve_bytes
    _options(options)
    if options.get("model", "svm") == "online" and storage != "float32":
        return 0   # the online learner keeps float32 rows only

    def ok(c):
        cfg = learner_config(n_features, c, classes, storage=storage, **options)
        return not _figures(b, cal, reserve, cfg, other=other_static_bytes, persist=persist)[4]
    lo = _min_capacity(options.get("holdout_every", 4), options.get("model", "svm"))
    if not ok(lo):
        return 0
    hi = MAX_CAPACITY
    if ok(hi):
        return hi
    while hi - lo > 1:           # static SRAM grows with capacity: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    # ARM padding (0-3 bytes per object) can make the boundary ragged: look a few capacities further.
    return max([lo] + [c for c in range(lo + 1, min(lo + 8, MAX_CAPACITY) + 1) if ok(c)])


@dataclass
class LearnerPlan(trainer_planner.Plan):
    """A Plan of the self-learning loop (wss2, one-vs-one; linear, rbf or poly kernel: the learner's scope).
    capacity is the total (training + held-out); max_capacity is per storage type, in the same unit."""
    has_cache = False    # the loop trains without the kernel-column cache (no SRAM to spare next to its stores)
    train_capacity: int = 0
    hold_capacity: int = 0
    holdout_every: int = 4
    queue: int = 8
    trigger_window: int = 20
    store: str = "all"
    replace: str = "fifo"
    program: str = "microlearn loop driver (learner + stream I/O)"
    options: dict = field(default_factory=dict)
    other_static_bytes: int | None = None     # given: replaces the stream driver's fixed static data
    persist: str | None = None                # "model" (save) / "all" (save_all), with load; None: not linked
    persist_payload_bytes: int | None = None  # the largest payload (every class in the model, full stores)
    persist_storage_bytes: int | None = None  # EEPROM / flash the mlrn_storage region needs (2 A/B slots)
    drift_note: str | None = None             # set when the default detector (DDM) gave way to the window's

    def summary(self) -> str:
        text = super().summary()
        if self.persist:
            text += (f"\n  persistence ({'save_all' if self.persist == 'all' else 'save'} + load): payload up to "
                     f"{self.persist_payload_bytes:,} B; the storage region (2 slots) needs "
                     f"{self.persist_storage_bytes:,} B of EEPROM / flash")
        return text

    def suggestions(self) -> list[str]:
        """What would fit instead; with DDM also the window detector (its build is smaller); for the SVM loop also
        the online learner (PA-II: no training store)."""
        out = super().suggestions()
        if self.options.get("drift") == "ddm" and self.options.get("model", "svm") == "svm":
            opts = {**self.options, "drift": "window"}
            cap = max_learner_capacity(self.board, self.n_features, self.n_classes, storage=self.storage,
                                       stack_reserve_bytes=self.stack_reserve_bytes,
                                       other_static_bytes=self.other_static_bytes, persist=self.persist, **opts)
            if cap >= self.capacity:
                out.append(f"the window detector (--drift window: no DDM code or state; up to capacity {cap:,} "
                           f"{self.storage})")
        if self.options.get("model", "svm") == "svm":
            opts = {**self.options, "model": "online", "kernel": "linear"}   # the online learner is linear
            cap = max_learner_capacity(self.board, self.n_features, self.n_classes, stack_reserve_bytes=self.stack_reserve_bytes,
                                       other_static_bytes=self.other_static_bytes, persist=self.persist, **opts) \
                if _has_online(self.board) else 0
            if cap:
                out.append(f"the online learner (--model online: PA-II, no training store; up to {min(cap, MAX_CAPACITY):,} "
                           f"held-out rows)")
        return out

    def alternatives(self) -> list[str]:
        """Learners worth a look beside this one, whether or not it fits: on a board the size of the uno
        (SMALL_BOARD_SRAM), the online learner with DDM, with the benchmark's evidence (ONLINE_EVIDENCE)."""
        if self.options.get("model", "svm") != "svm" or self.board_sram_bytes > SMALL_BOARD_SRAM \
                or not _has_online(self.board):
            return []
        opts = {**self.options, "model": "online", "drift": "ddm", "warm": False, "kernel": "linear"}
        cap = max_learner_capacity(self.board, self.n_features, self.n_classes,
                                   stack_reserve_bytes=self.stack_reserve_bytes,
                                   other_static_bytes=self.other_static_bytes, persist=self.persist, **opts)
        if not cap:
            return []
        rows = min(cap, ONLINE_ROWS)
        pl = plan_learner(self.board, self.n_features, rows, self.n_classes, stack_reserve_bytes=self.stack_reserve_bytes,
                          other_static_bytes=self.other_static_bytes, persist=self.persist, **opts)
        return [f"the online learner with DDM (--model online --drift ddm --capacity {rows}: PA-II, no training "
                f"store, {pl.static_ram_bytes:,} B static SRAM; up to {min(cap, MAX_CAPACITY):,} held-out rows): "
                + ONLINE_EVIDENCE]

    def title(self) -> str:
        if self.options.get("model") == "online":
            return (f"{self.board}: self-learning loop, online learner (PA-II one-vs-rest), {self.n_features} features, "
                    f"{self.n_classes} classes, {self.hold_capacity} held-out rows (float32), window {self.trigger_window}")
        kern = "" if self.kernel == "linear" else f"{self.kernel} kernel (support-vector snapshot), "
        return (f"{self.board}: self-learning loop, {kern}{self.n_features} features x capacity {self.capacity} "
                f"({self.train_capacity} train + {self.hold_capacity} held out, {self.storage}), "
                f"{self.n_classes} classes, queue {self.queue}, window {self.trigger_window}")

    def other_boards(self) -> list[str]:
        return learner_boards_that_fit(self.n_features, self.capacity, self.n_classes, storage=self.storage,
                                       exclude=(self.board,), other_static_bytes=self.other_static_bytes,
                                       persist=self.persist, **self.options)


def plan_learner(board, n_features: int, capacity: int = 60, classes=2, *, storage="float32",
                 stack_reserve_bytes: int | None = None, name: str = "lrn", other_static_bytes: int | None = None,
                 persist: str | None = None, **options) -> LearnerPlan:
    """Predict flash, static SRAM (by name), stack and total SRAM of the self-learning loop with this
    configuration on `board`, whether it fits, and the largest capacity per storage type.

    capacity: training + held-out samples (every `holdout_every`-th stored sample is held out).
    options: holdout_every (4), queue (8), trigger_window (20), drift ("ddm", LearnerConfig's default, or "window":
    MLRN_LEARNER_DDM 1 / 0), model, warm change sizes; store ("all"/"mistakes") and
    replace ("fifo"/"reservoir"/"balanced") are accepted and change nothing. `name`: the learner's C name.
    other_static_bytes: the static data of your program around the learner (an Arduino core with Serial:
    about 200 B), replacing that of microlearn's stream driver; flash and stack stay the driver's.
    persist: "model" (mlrn_learner_save) or "all" (mlrn_learner_save_all), each with mlrn_learner_load: adds
    their flash, stack and storage struct, and reports the payload and the EEPROM / flash region it needs."""
    cfg = learner_config(n_features, capacity, classes, storage=storage, **_options(options))
    return plan_learner_config(cfg, board, stack_reserve_bytes=stack_reserve_bytes, name=name,
                               other_static_bytes=other_static_bytes, persist=persist)


def plan_learner_config(cfg, board, *, stack_reserve_bytes: int | None = None, name: str = "lrn",
                        other_static_bytes: int | None = None, persist: str | None = None) -> LearnerPlan:
    """plan_learner() for a LearnerConfig (what `microlearn loop --target BOARD` checks before building)."""
    b = trainer_planner.board_of(board)
    if b.name == "host":
        raise ValueError("the planner sizes programs for boards, not the host")
    trainer_planner.check_reserve(stack_reserve_bytes)
    trainer_planner.check_reserve(other_static_bytes, "other_static_bytes")
    cal, estimate, basis = _cal_for(b)
    reserve = b.stack_reserve_bytes if stack_reserve_bytes is None else int(stack_reserve_bytes)
    static, s, stack, flash, over = _figures(b, cal, reserve, cfg, name, other_static_bytes, persist)
    options = {k: getattr(cfg, k) for k in SIZE_OPTIONS + OTHER_OPTIONS}
    caps = {st: max_learner_capacity(b, cfg.n_features, cfg.n_classes, storage=st, stack_reserve_bytes=reserve,
                                     other_static_bytes=other_static_bytes, persist=persist, **options)
            for st in trainer_planner.STORAGES}
    notes = list(cal.get("notes", [])) + _persist_notes(b, cfg, persist, flash)
    if (_warm_cal(cal, cfg) or {}).get("uncalibrated"):
        notes.append(f"{WARM_NOTE} (run `{RECALIBRATE}`)")
    if (_kernel_cal(cal, cfg) or {}).get("uncalibrated"):
        notes.append(f"{KERNEL_NOTE} (run `{RECALIBRATE}`)")
    elif persist and _kernel_cal(cal, cfg) is not None and "persist" not in _kernel_cal(cal, cfg):
        notes.append(f"kernel learner: the snapshot's save / load code is counted as the linear model's (run "
                     f"`{RECALIBRATE}`)")
    current = _current()
    if not current:
        notes.append(trainer_planner.stale_note("learner", RECALIBRATE))
    online = cfg.model == "online"
    return LearnerPlan(board=b.name, n_features=cfg.n_features, capacity=cfg.capacity, n_classes=cfg.n_classes,
                       kernel=getattr(cfg, "kernel", "linear"), storage=cfg.storage, solver="pa2" if online else "wss2",
                       multiclass="ovr" if online else "ovo", static_buffers=static,
                       static_ram_bytes=s, stack_bytes=stack, sram_bytes=s + stack, flash_bytes=flash,
                       board_sram_bytes=b.sram_bytes, board_flash_bytes=b.flash_bytes, stack_reserve_bytes=reserve,
                       static_limit_bytes=trainer_planner.static_limit(b, cal, reserve), fits=not over,
                       fits_static="static" not in over, fits_sram="sram" not in over,
                       fits_flash="flash" not in over, over=over, max_capacity=caps, estimate=estimate, basis=basis,
                       calibration_current=current, notes=notes, train_capacity=cfg.train_capacity, hold_capacity=cfg.hold_capacity,
                       holdout_every=cfg.holdout_every, queue=cfg.queue, trigger_window=cfg.trigger_window,
                       store=cfg.store, replace=cfg.replace, options=options, other_static_bytes=other_static_bytes,
                       persist=persist,
                       persist_payload_bytes=lc.persist_payload_bytes(cfg, persist) if persist else None,
                       persist_storage_bytes=lc.persist_storage_bytes(cfg, persist) if persist else None)


def _persist_notes(b, cfg, persist, flash) -> list[str]:
    """Where the persisted slots would go, and whether they fit there (a note: external storage is possible)."""
    if not persist:
        return []
    need = lc.persist_storage_bytes(cfg, persist)
    if b.name in EEPROM_BYTES:
        room, where = EEPROM_BYTES[b.name], "internal EEPROM"
    else:
        room, where = b.flash_bytes - flash, "flash left after the program"
    if need <= room:
        return [f"persistence: the 2 slots need {need:,} B of the {room:,} B {where}"]
    return [f"persistence: the 2 slots need {need:,} B, more than the {room:,} B {where}: persist the model only, "
            f"lower the capacity, or use external storage"]


def _has_online(board) -> bool:
    try:
        return "online" in _cal_for(trainer_planner.board_of(board))[0]
    except ValueError:
        return False


def learner_boards_that_fit(n_features, capacity, classes=2, *, storage="float32", exclude=(),
                            other_static_bytes: int | None = None, persist: str | None = None,
                            **options) -> list[str]:
    """Names of the boards this learner configuration fits (smallest SRAM first)."""
    cfg = learner_config(n_features, capacity, classes, storage=storage, **_options(options))
    out = []
    for b in sorted(list_boards(), key=lambda b: (b.sram_bytes, b.flash_bytes)):
        if b.name in exclude or b.name == "host":
            continue
        try:
            cal, est, _ = _cal_for(b)
            _model_cal(cal, cfg)
        except ValueError:      # not calibrated for the learner
            continue
        if not _figures(b, cal, b.stack_reserve_bytes, cfg, other=other_static_bytes, persist=persist)[4]:
            out.append(b.name + (" (estimate)" if est else ""))
    return out


def _planner_for(cfg, target_or_board, persist=None):
    board = getattr(target_or_board, "board", None) or target_or_board
    return lambda reserve: plan_learner_config(cfg, board, stack_reserve_bytes=reserve, persist=persist)


def learner_does_not_fit(cfg, target_or_board, exc=None, persist=None):
    """A DoesNotFit for the learner on the board: by how many bytes, and what would fit (capacity, storage
    type, another board). exc: the linker's DoesNotFit when the plan thought it fits."""
    return trainer_planner.refusal(_planner_for(cfg, target_or_board, persist),
                                   getattr(target_or_board, "stack_reserve", None), exc)


def learner_precheck(cfg, target, persist=None) -> LearnerPlan | None:
    """Before building the loop for a board target: raise DoesNotFit if the plan says it cannot fit
    (static SRAM exactly; flash and stack only when clearly over, as planner.precheck). None for the host
    or a board without learner calibration."""
    board = getattr(target, "board", None)
    if board is None:
        return None
    try:
        _model_cal(_cal_for(board)[0], cfg)
    except ValueError:
        return None
    reserve = getattr(target, "stack_reserve", None)
    pl = trainer_planner.check_plan(_planner_for(cfg, target, persist), reserve)
    if not pl.fits and cfg.drift == "ddm" and cfg.model == "svm" and \
            plan_learner_config(replace(cfg, drift="window"), pl.board, stack_reserve_bytes=reserve, persist=persist).fits:
        # Over by less than check_plan's margin, but over by the DDM detector's bytes exactly where the window's
        # build fits (the uno's capacity-60 float32 loop): say so now rather than let the stack hit the data.
        raise learner_does_not_fit(cfg, target, persist=persist)
    return pl


__all__ = ["LearnerPlan", "plan_learner", "plan_learner_config", "max_learner_capacity", "learner_boards_that_fit",
           "learner_precheck", "learner_does_not_fit", "learner_fingerprint", "learner_calibration_is_current",
           "layout", "drift_that_fits"]
