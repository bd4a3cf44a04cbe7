"""The memory planner: will this on-device training configuration fit that board?

`plan(board, n_features=, capacity=, classes=, kernel=, storage=, ...)` predicts, for microlearn's
train-and-evaluate program (the driver `microlearn train --target BOARD` builds: runtime + I/O):

- static SRAM, exactly, by name: the three buffers (NAME_data, NAME_labels, NAME_work, sized by
  TrainerConfig.buffers()), the two structs (NAME_store, NAME_svm: their size depends on the
  pointer size, 2 bytes on AVR, 4 on ARM), the alignment padding (ARM keeps NAME_work 4-aligned
  after the byte-sized data/labels) and the fixed static data of the driver and support code;
- the stack (a calibrated constant per board, kernel, solver, storage and class layout, plus the
  driver's one-row float buffer, 4 bytes per feature);
- flash (calibrated per board as a function of the number of features, plus per kernel/solver
  and multi-class deltas);
- whether it fits: static SRAM <= SRAM - the board's stack reserve (what the linker enforces),
  static + stack <= SRAM, flash <= flash; and the largest capacity that fits for each storage type.

The constants come from `calibration.json` (next to this file), measured with the boards' real
toolchains by `python -m microlearn.tools.calibrate`; the planner itself needs no toolchain.
A board without a toolchain here (esp32) gets an estimate from a similar board, flagged
`estimate=True`.
"""
from __future__ import annotations

import functools
import hashlib
import json
import numbers
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from microlearn.boards.registry import Board, get_board, list_boards
from microlearn.core import vocab
from microlearn.core.paths import PACKAGE_DIR, include_dir
from microlearn.targets.base import SUPPORT_DIR
from microlearn.targets.errors import DoesNotFit

from . import reference as _solvers
from .codegen import render_trainer
from .config import TrainerConfig, check_cache_cols, check_data_in, make_config, ovo_refusal, resolve_arith
from .driver import DRIVER

CALIBRATION_PATH = PACKAGE_DIR / "boards" / "calibration.json"
STORAGES, KERNELS, SOLVERS = tuple(vocab.STORAGES), tuple(vocab.KERNELS), tuple(vocab.SOLVERS)
MAX_CAPACITY = vocab.MAX_CAPACITY


RUNTIME_HEADERS = ("mlrn.h", "mlrn_smo.h", "mlrn_store.h", "mlrn_kernel.h", "mlrn_math.h", "mlrn_rng.h")


def runtime_fingerprint() -> str:
    """Hash of everything the calibrated figures depend on: the trainer's runtime headers, the generated
    trainer header (for a reference configuration), the driver and the targets' support code."""
    return program_fingerprint(RUNTIME_HEADERS, render_trainer(make_config(
        n_features=3, capacity=5, classes=3, storage="int8", feature_range=(0, 1)), "t"), DRIVER)


def program_fingerprint(headers, generated: str, driver: str) -> str:
    """Hash of a calibrated program: the runtime `headers` it includes, a `generated` configuration header,
    its `driver` and the targets' support code (shared by the trainer's and the learner's calibration)."""
    h = hashlib.sha256()
    for name in headers:
        h.update((Path(include_dir()) / name).read_bytes())
    h.update(generated.encode())
    h.update(driver.encode())
    # Only what goes into the device program (not the host-side simavr runner or qemu plugin).
    for f in sorted(SUPPORT_DIR.rglob("*")):
        if f.is_file() and f.name in ("mlrn_target.h", "mlrn_target.c", "startup.c", "link.ld.in", "mlrn_cortexm.h",
                                         "mlrn_riscv.h"):
            h.update(f.relative_to(SUPPORT_DIR).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def calibration_is_current() -> bool:
    """False when the runtime, driver or support code changed since calibration.json was written."""
    return calibration().get("fingerprint") == runtime_fingerprint()


@functools.lru_cache(maxsize=1)
def calibration() -> dict:
    """The per-board constants (see `python -m microlearn.tools.calibrate`)."""
    return json.loads(CALIBRATION_PATH.read_text())


RECALIBRATE = "microlearn calibrate"   # the command that re-measures calibration.json (tools/calibrate.py)


@functools.lru_cache(maxsize=1)
def _current() -> bool:
    try:
        return calibration_is_current()
    except OSError:
        return True


def stale_note(what: str = "trainer", command: str = RECALIBRATE) -> str:
    """What a plan says when the runtime changed after calibration.json was measured. The planner never
    builds anything itself: re-measuring is the explicit command."""
    return (f"the {what}'s runtime, driver or support code changed since calibration.json was measured: "
            f"figures may be off; re-measure with `{command}`")


def align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a if a > 1 else n


def class_layout(n_classes: int, multiclass: str) -> str:
    """'binary', 'ovo' or 'ovr': the calibration key for the class structure."""
    return "binary" if n_classes <= 2 else multiclass


def interp(curve: list, x: float) -> float:
    """Piecewise-linear through the (x, y) points; linear extrapolation from the last two beyond the ends."""
    xs = [p[0] for p in curve]
    ys = [p[1] for p in curve]
    if len(xs) == 1:
        return ys[0]
    i = bisect_left(xs, x)
    if i <= 0:
        i = 1
    elif i >= len(xs):
        i = len(xs) - 1
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass
class Plan:
    has_cache = True     # the trainer's kernel-column cache (mlrn_smo.h); the learner's loop has none
    board: str
    n_features: int
    capacity: int
    n_classes: int
    kernel: str
    storage: str
    solver: str
    multiclass: str
    static_buffers: dict            # static SRAM by name (bytes); sums to static_ram_bytes
    static_ram_bytes: int           # exact for a calibrated board
    stack_bytes: int                # calibrated model
    sram_bytes: int                 # static + stack: the SRAM the training program uses
    flash_bytes: int                # calibrated model (the whole program: runtime + driver + libgcc/libm)
    board_sram_bytes: int
    board_flash_bytes: int
    stack_reserve_bytes: int
    static_limit_bytes: int         # board SRAM - stack reserve: what the linker allows for static data
    fits: bool
    fits_static: bool
    fits_sram: bool
    fits_flash: bool
    over: dict                      # region -> bytes over ('static', 'sram', 'flash'), only regions over
    max_capacity: dict              # storage -> largest capacity that fits (0: none)
    data_in: str = "ram"            # where the samples live: ram | flash (a const table) | callback
    flash_tables: dict = field(default_factory=dict)   # flash: the rows and labels tables (bytes, in flash_bytes)
    cache_cols: int = 0             # kernel columns wss2 caches (rbf/poly/sigmoid): the SRAM left, or the user's
    cache_bytes: int = 0            # the NAME_cache buffer (in static_buffers and static_ram_bytes)
    cache_auto: bool = True         # cache_cols chosen by the planner (False: given)
    estimate: bool = False          # True when the board was not calibrated here (constants borrowed)
    basis: str = ""                 # where the constants come from
    calibration_current: bool = True  # False: the runtime changed since calibration.json (see notes)
    notes: list = field(default_factory=list)
    arith: str = "float"            # 'fixed': MLRN_SMO_FIXED's code and stack counted (int8 wss2, linear/rbf)

    def to_dict(self) -> dict:
        return asdict(self)

    def title(self) -> str:
        """The first line of summary(): what was planned."""
        return (f"{self.board}: {self.n_features} features x capacity {self.capacity} ({self.storage}), "
                f"{self.n_classes} classes, {self.kernel} kernel, {self.solver} solver"
                + (f", {self.multiclass}" if self.n_classes > 2 else "")
                + (f", samples in {self.data_in}" if self.data_in != "ram" else "")
                + (", fixed point" if self.arith == "fixed" else ""))

    def summary(self) -> str:
        """Human-readable report (what `microlearn plan` prints)."""
        est = " (ESTIMATE: " + self.basis + ")" if self.estimate else ""
        lines = [self.title() + est]
        lines.append("  static SRAM by name:")
        for k, v in self.static_buffers.items():
            lines.append(f"    {k:<22} {v:>8,} B")
        lines.append(f"    {'total static':<22} {self.static_ram_bytes:>8,} B   "
                     f"(limit {self.static_limit_bytes:,}: {self.board_sram_bytes:,} SRAM - "
                     f"{self.stack_reserve_bytes:,} stack reserve"
                     + (", platform cap" if self.static_limit_bytes < self.board_sram_bytes - self.stack_reserve_bytes
                        else "") + ")")
        lines.append(f"  stack                    {self.stack_bytes:>8,} B")
        lines.append(f"  SRAM total               {self.sram_bytes:>8,} B of {self.board_sram_bytes:,} "
                     f"({100 * self.sram_bytes / self.board_sram_bytes:.1f}%)")
        lines.append(f"  flash                    {self.flash_bytes:>8,} B of {self.board_flash_bytes:,} "
                     f"({100 * self.flash_bytes / self.board_flash_bytes:.1f}%)")
        for k, v in self.flash_tables.items():
            lines.append(f"    of which {k:<15} {v:>8,} B")
        if self.has_cache and vocab.cache_applies(self.kernel, self.solver):
            how = "the SRAM left after the trainer and its stack" if self.cache_auto else "as asked"
            lines.append(f"  kernel cache             {self.cache_cols:>8,} columns ({self.cache_bytes:,} B, {how}"
                         + ("; none fits" if self.cache_auto and not self.cache_cols else "") + ")")
        lines.append("  fits: " + ("yes" if self.fits else "NO: " + self.over_text()))
        lines.append("  largest capacity that fits: " +
                     ", ".join(f"{s} {c:,}" if c else f"{s} none" for s, c in self.max_capacity.items()))
        for n in self.notes:
            lines.append("  note: " + n)
        return "\n".join(lines)

    def over_text(self) -> str:
        parts = []
        if "static" in self.over:
            parts.append(f"static SRAM {self.static_ram_bytes:,} B is {self.over['static']:,} B over the "
                         f"{self.static_limit_bytes:,} B available ({self.board_sram_bytes:,} B SRAM minus a "
                         f"{self.stack_reserve_bytes:,} B stack reserve"
                         + (", capped by the platform" if self.static_limit_bytes < self.board_sram_bytes
                            - self.stack_reserve_bytes else "") + ")")
        if "sram" in self.over:
            parts.append(f"static + stack {self.sram_bytes:,} B is {self.over['sram']:,} B over the "
                         f"{self.board_sram_bytes:,} B SRAM")
        if "flash" in self.over:
            parts.append(f"flash {self.flash_bytes:,} B is {self.over['flash']:,} B over the "
                         f"{self.board_flash_bytes:,} B flash")
        return "; ".join(parts)

    def suggestions(self) -> list[str]:
        """What would fit instead: a smaller capacity, another storage type, the samples in flash, another
        board."""
        out = []
        if self.cache_cols and not self.cache_auto:   # the columns asked for may be what does not fit
            try:
                alt = plan(self.board, self.n_features, self.capacity, self.n_classes, kernel=self.kernel,
                           storage=self.storage, solver=self.solver, multiclass=self.multiclass,
                           stack_reserve_bytes=self.stack_reserve_bytes, data_in=self.data_in, with_max=False)
                if alt.fits:
                    out.append(f"--cache-cols {alt.cache_cols} (the kernel columns that fit)")
            except ValueError:
                pass
        if self.arith == "fixed":   # fixed point's code may be what does not fit (the smallest flash parts)
            try:
                alt = plan(self.board, self.n_features, self.capacity, self.n_classes, kernel=self.kernel,
                           storage=self.storage, solver=self.solver, multiclass=self.multiclass,
                           stack_reserve_bytes=self.stack_reserve_bytes, data_in=self.data_in, with_max=False)
                if alt.fits:
                    out.append(f"--arith float (float32 scans: {self.flash_bytes - alt.flash_bytes:,} B less flash, "
                               f"slower)")
            except ValueError:
                pass
        if self.data_in == "ram" and "flash" not in self.over:
            try:
                alt = plan(self.board, self.n_features, self.capacity, self.n_classes, kernel=self.kernel,
                           storage=self.storage, solver=self.solver, multiclass=self.multiclass,
                           stack_reserve_bytes=self.stack_reserve_bytes, data_in="flash", with_max=False,
                           arith=self.arith)
                if alt.fits:
                    out.append("the samples in flash (--data-in flash; SRAM then holds no rows)")
            except ValueError:
                pass
        cap = self.max_capacity.get(self.storage, 0)
        if cap and cap < self.capacity:
            out.append(f"capacity <= {cap:,} with {self.storage} storage")
        for s in STORAGES:
            m = self.max_capacity.get(s, 0)
            if s == self.storage:
                continue
            if m >= self.capacity:
                out.append(f"{s} storage (--storage {s}; up to capacity {m:,})")
            elif m > max(cap, 1):
                out.append(f"capacity <= {m:,} with {s} storage (--storage {s})")
        boards = self.other_boards()
        if boards:
            out.append("another board: " + ", ".join(boards))
        return out

    def other_boards(self) -> list[str]:
        """The other boards this configuration fits."""
        return boards_that_fit(self.n_features, self.capacity, self.n_classes, kernel=self.kernel,
                               storage=self.storage, solver=self.solver, multiclass=self.multiclass,
                               exclude=(self.board,), data_in=self.data_in)

    def message(self) -> str:
        """One line: why it does not fit, and what would."""
        msg = f"does not fit the {self.board}: {self.over_text()}"
        sug = self.suggestions()
        if sug:
            msg += ". What fits: " + "; ".join(sug)
        else:
            msg += ". Nothing close fits: use fewer features or a smaller problem"
        return msg


def board_of(board) -> Board:
    return board if isinstance(board, Board) else get_board(str(board))


def _cal_for(b: Board) -> tuple[dict, bool, str]:
    cal = calibration()["boards"]
    if b.name in cal and not cal[b.name].get("borrowed_from"):
        c = cal[b.name]
        basis = f"calibrated with {c.get('toolchain', 'the board toolchain')}"
        return c, False, basis
    if b.name in cal:
        src = cal[b.name]["borrowed_from"]
        base, _, _ = _cal_for(get_board(src))
        return {**base, **cal[b.name]}, True, cal[b.name].get("basis", f"constants of {src}")
    raise ValueError(f"the planner has no calibration for {b.name}")


def config_for(n_features, capacity, n_classes, kernel, storage, solver, multiclass, data_in="ram",
               cache_cols=0) -> TrainerConfig:
    """A TrainerConfig of these sizes, without a fitted model."""
    params = _solvers.Params.make(C=1.0, tol=1e-3, alpha_tol=1e-7, max_iter=1, seed=0, max_passes=1, solver=solver,
                                  multiclass=multiclass, kernel=kernel, gamma=1.0, coef0=0.0, degree=3)
    dummy = None if storage == "float32" else np.ones(n_features, np.float32)
    return TrainerConfig(n_features=n_features, capacity=capacity, n_classes=n_classes, params=params,
                         storage=storage, scale=dummy, offset=dummy, data_in=data_in, cache_cols=cache_cols)


def buffers_for(n_features, capacity, n_classes, kernel, storage, solver, multiclass, data_in="ram") -> dict:
    """The trainer's static buffers (bytes by role) for these sizes, without a fitted model."""
    params = _solvers.Params.make(C=1.0, tol=1e-3, alpha_tol=1e-7, max_iter=1, seed=0, max_passes=1, solver=solver,
                                  multiclass=multiclass, kernel=kernel, gamma=1.0, coef0=0.0, degree=3)
    return config_for(n_features, capacity, n_classes, kernel, storage, solver, multiclass, data_in).buffers()


def _data_in_cal(cal: dict, data_in: str) -> dict | None:
    """The board's constants of a flash or callback build (calibration key "data_in"), None when calibration.json
    has not measured them yet (the plan then uses the RAM build's code figures and says so)."""
    return cal.get("data_in", {}).get(data_in) if data_in != "ram" else None


# What the kernel-column cache adds to a build (MLRN_SMO_CACHE 1): calibration.json's "cache" figures (tools/calibrate.py,
# calibrate_cache), or, before they are measured, the fields it adds to mlrn_smo (a pointer, a uint8 and two uint32:
# 11 bytes on AVR, 16 with ARM's alignment) and a margin over the code and stack calibrate_cache measured once on the
# uno (1,012 B of flash, 5 B of stack) and the nrf52840 (1,396-1,420 B, 24 B); the plan then says so.
CACHE_FALLBACK = {2: {"flash": 1100, "stack": 8}, 4: {"flash": 1500, "stack": 32}}


def _cache_cal(cal: dict) -> dict:
    c = cal.get("cache")
    if c:
        return c
    f = CACHE_FALLBACK[2 if cal["pointer_bytes"] == 2 else 4]
    return {"flash": {k: f["flash"] for k in KERNELS}, "stack": {k: f["stack"] for k in KERNELS}}


def _cache_svm_bytes(cal: dict) -> int:
    if cal.get("cache"):
        return cal["cache"]["svm_bytes"]
    return 2 + 1 + 8 if cal["pointer_bytes"] == 2 else 16


def _static(cal, buf, name, data_in="ram", kernel_solver="linear/wss2") -> dict:
    a = cal["align"]
    # the byte-sized arrays come before the 4-aligned work array (the cache array follows it: 4-aligned too)
    byte_arrays = sum(v for k, v in buf.items() if k not in ("work", "cache"))
    dcal = _data_in_cal(cal, data_in)
    store = cal["store_bytes"]
    fixed = cal["fixed_static_bytes"]
    if data_in == "callback":   # the read function, its context, the code buffer and the status
        store = dcal["store_bytes"] if dcal else store + align_up(3 * cal["pointer_bytes"] + 1, a)
    if dcal:
        fixed = dcal.get("fixed_static_bytes", fixed)
    out = {f"{name}_{k}": v for k, v in buf.items() if k not in ("work", "cache")}
    out.update({
        f"{name}_work": buf["work"],
        **({f"{name}_cache": buf["cache"]} if "cache" in buf else {}),
        f"{name}_store": store,
        f"{name}_svm": (cal.get("svm_bytes_by", {}).get(kernel_solver, cal["svm_bytes"])
                        + (_cache_svm_bytes(cal) if "cache" in buf else 0)),
        "alignment padding": align_up(byte_arrays, a) - byte_arrays,
        "driver + support (fixed)": fixed,
    })
    return out


# A solver the stored calibration has not measured yet (calibration.json predates it): the figures of the
# solver whose code it most resembles stand in, and the plan says so (uncalibrated_note). dcd is linear-only
# and has wss2's structure (per-sample dot products and w updates, the same call depth).
STAND_IN_SOLVER = {"dcd": "wss2"}


def _solver_key(table: dict, kernel: str, solver: str, rest: str = "") -> str:
    """The calibration key kernel/solver[rest], or the stand-in solver's when this one was not measured."""
    key = f"{kernel}/{solver}{rest}"
    if key not in table and solver in STAND_IN_SOLVER:
        return f"{kernel}/{STAND_IN_SOLVER[solver]}{rest}"
    return key


def uncalibrated_note(cal: dict, kernel: str, solver: str) -> str | None:
    """The note of a plan whose solver's figures are a stand-in's (None when it was measured)."""
    if f"{kernel}/{solver}" in cal["flash_delta"] or solver not in STAND_IN_SOLVER:
        return None
    return (f"the {solver} solver is not in calibration.json yet: flash and stack are the "
            f"{STAND_IN_SOLVER[solver]} solver's; re-measure with `{RECALIBRATE}`")


def _fixed_cal(cal: dict, kernel: str) -> dict:
    """What MLRN_SMO_FIXED adds to the float32 build of the same int8 wss2 configuration of `kernel` (flash,
    stack); zeros for a calibration.json that predates it."""
    fx = cal.get("fixed") or {}
    return {"flash": fx.get("flash", {}).get(kernel, 0), "stack": fx.get("stack", {}).get(kernel, 0)}


def _stack(cal, n_features, kernel, solver, storage, layout, data_in="ram", cache=False, fixed=False) -> int:
    base = cal["stack"][_solver_key(cal["stack"], kernel, solver, f"/{storage}/{layout}")]
    d0, a = cal["stack_at_features"], cal["stack_align"]
    dcal = _data_in_cal(cal, data_in)
    extra = dcal["stack"][storage] if dcal else 0
    if cache:
        extra += _cache_cal(cal)["stack"].get(kernel, 0)
    if fixed:
        extra += _fixed_cal(cal, kernel)["stack"]
    return int(base + extra + align_up(4 * n_features, a) - align_up(4 * d0, a))


def _flash(cal, n_features, kernel, solver, storage, layout, data_in="ram", tables=0, cache=False,
           fixed=False) -> int:
    """Code (the RAM build's curve and deltas, plus what a flash / callback build adds) + `tables` (the rows and
    labels a flash build holds)."""
    f = interp(cal["flash_curve"][storage], n_features)
    f += cal["flash_delta"].get(_solver_key(cal["flash_delta"], kernel, solver), 0)
    if layout != "binary":
        f += cal["flash_multi"][layout]
    dcal = _data_in_cal(cal, data_in)
    if dcal:
        f += dcal["flash"][storage]
    if cache:
        f += _cache_cal(cal)["flash"].get(kernel, 0)
    if fixed:
        f += _fixed_cal(cal, kernel)["flash"]
    return int(round(f)) + tables


def static_limit(b, cal, reserve) -> int:
    """Static SRAM the board's build allows: SRAM - stack reserve (and a platform cap, e.g. ESP-IDF's)."""
    return min(b.sram_bytes - reserve, cal.get("static_limit_bytes", b.sram_bytes))


def overruns(b: Board, static_limit: int, static: int, stack: int, flash: int) -> dict:
    """Bytes over each limit: 'static' (what the linker allows), 'sram' (static + stack), 'flash';
    empty when everything fits. Shared by the trainer's and the learner's plans."""
    over = {}
    if static > static_limit:
        over["static"] = static - static_limit
    if static + stack > b.sram_bytes:
        over["sram"] = static + stack - b.sram_bytes
    if flash > b.flash_bytes:
        over["flash"] = flash - b.flash_bytes
    return over


def check_reserve(stack_reserve_bytes, name="stack_reserve_bytes"):
    """A byte count given by the user (stack reserve, other static data): None or an integer >= 0."""
    v = stack_reserve_bytes
    if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v <= 2**32):
        raise ValueError(f"{name} must be a number of bytes >= 0, got {v!r}")


def _check(kernel, storage, solver, multiclass, n_features, capacity, n_classes, data_in="ram"):
    check_data_in(data_in)
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose {', '.join(KERNELS)}")
    if storage not in STORAGES:
        raise ValueError(f"unknown storage {storage!r}; choose {', '.join(STORAGES)}")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose {', '.join(SOLVERS)}")
    if solver in vocab.LINEAR_ONLY_SOLVERS and kernel != "linear":
        raise ValueError(f"solver {solver!r} trains the linear kernel only, got kernel {kernel!r}")
    if multiclass not in vocab.MULTICLASS:
        raise ValueError(f"unknown multiclass {multiclass!r}; choose ovo or ovr")
    if not 1 <= n_features <= vocab.MAX_FEATURES:
        raise ValueError(f"n_features must be in 1..{vocab.MAX_FEATURES}, got {n_features}")
    if not 2 <= capacity <= MAX_CAPACITY:
        raise ValueError(f"capacity must be in 2..{MAX_CAPACITY}, got {capacity}")
    if not 2 <= n_classes <= vocab.SMO_MAX_CLASSES_LIMIT:
        raise ValueError(f"classes must be in 2..{vocab.SMO_MAX_CLASSES_LIMIT} (MLRN_SMO_MAX_CLASSES), got {n_classes}")
    if n_classes > vocab.SMO_OVO_MAX_CLASSES and multiclass == "ovo":
        raise ValueError(ovo_refusal(n_classes))


# Boards whose start-up copies const data (.rodata) to RAM: the ESP8266's mapped flash takes only aligned 32-bit
# loads (targets/support/xtensa/link.ld.in, as Arduino's ESP8266 core), so a rows table "in flash" is in SRAM too.
CONST_IN_RAM_BOARDS = ("esp8266",)


def _figures(b, cal, reserve, n_features, capacity, n_classes, kernel, storage, solver, multiclass, name="trainer",
             data_in="ram", cache_cols=0, fixed=False):
    layout = class_layout(n_classes, multiclass)
    cfg = config_for(n_features, capacity, n_classes, kernel, storage, solver, multiclass, data_in, cache_cols)
    static = _static(cal, cfg.buffers(), name, data_in, f"{kernel}/{solver}")
    if data_in == "flash" and b.name in CONST_IN_RAM_BOARDS:
        tables = cfg.flash_tables()
        static[f"{name}_rows + row_labels (const, copied to RAM on this part)"] = (
            align_up(tables["rows"] + tables["row_labels"], cal["align"]))
    s = sum(static.values())
    stack = _stack(cal, n_features, kernel, solver, storage, layout, data_in, cache_cols > 0, fixed)
    tables = {k: v for k, v in cfg.flash_tables().items() if k in ("rows", "row_labels")}
    flash = _flash(cal, n_features, kernel, solver, storage, layout, data_in, sum(tables.values()), cache_cols > 0,
                   fixed)
    over = overruns(b, static_limit(b, cal, reserve), s, stack, flash)
    if b.arch == "avr" and sum(tables.values()) > AVR_PROGMEM_REACH:
        over["flash"] = max(over.get("flash", 0), sum(tables.values()) - AVR_PROGMEM_REACH)
    return static, s, stack, flash, over, tables


# pgm_read_* take 16-bit addresses: an AVR program's PROGMEM tables must sit in its first 64 KB (the mega2560
# has 256 KB), less the vector table and the other tables before them.
AVR_PROGMEM_REACH = 65536 - 1024


def _cache_cols(b, cal, reserve, n_features, capacity, n_classes, kernel, storage, solver, multiclass,
                data_in="ram") -> int:
    """The most kernel columns (2..min(255, capacity)) whose cache still lets the configuration fit: static SRAM
    within the limit and static + stack within the SRAM (the plan's own checks, so the stack keeps its room);
    0 when the cache does not apply or not even two columns fit. More columns than samples are never used."""
    if not vocab.cache_applies(kernel, solver):
        return 0

    def ok(k):
        return not _figures(b, cal, reserve, n_features, capacity, n_classes, kernel, storage, solver, multiclass,
                            data_in=data_in, cache_cols=k)[4]
    lo, hi = vocab.SMO_CACHE_MIN_COLS, min(vocab.SMO_CACHE_MAX_COLS, capacity)
    if hi < lo or not ok(lo):
        return 0
    if ok(hi):
        return hi
    while hi - lo > 1:           # the cache grows with its columns: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def cache_cols_for(board, n_features: int, capacity: int, classes=2, *, kernel="rbf", storage="float32",
                   solver="wss2", multiclass="ovo", stack_reserve_bytes: int | None = None, data_in: str = "ram") -> int:
    """The planner's kernel-column count for this configuration on `board` (0: none fits, or the cache does not
    apply: linear kernel, another solver). What `microlearn train --target BOARD` compiles in by default."""
    return plan(board, n_features, capacity, classes, kernel=kernel, storage=storage, solver=solver,
                multiclass=multiclass, stack_reserve_bytes=stack_reserve_bytes, data_in=data_in,
                with_max=False).cache_cols


def max_capacity(board, n_features: int, classes=2, *, kernel="linear", storage="float32", solver="wss2",
                 multiclass="ovo", stack_reserve_bytes: int | None = None, data_in: str = "ram",
                 arith: str = "float") -> int:
    """The largest capacity (samples stored) that fits the board; 0 if not even 2 fit. With data_in 'flash'
    flash limits it too (the rows are there). arith 'fixed' (int8 wss2 linear/rbf): MLRN_SMO_FIXED's code and stack."""
    b = board_of(board)
    cal, _, _ = _cal_for(b)
    n_classes = classes if isinstance(classes, int) else len(list(classes))
    check_reserve(stack_reserve_bytes)
    reserve = b.stack_reserve_bytes if stack_reserve_bytes is None else stack_reserve_bytes
    _check(kernel, storage, solver, multiclass, n_features, 2, n_classes, data_in)

    fixed = _fixed(arith, kernel, storage, solver, n_features)

    def ok(c):
        return not _figures(b, cal, reserve, n_features, c, n_classes, kernel, storage, solver, multiclass,
                            data_in=data_in, fixed=fixed)[4]
    if not ok(2):
        return 0
    lo, hi = 2, MAX_CAPACITY
    if ok(hi):
        return hi
    while hi - lo > 1:           # static SRAM grows with capacity: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _fixed(arith, kernel, storage, solver, n_features) -> bool:
    """arith checked; True when MLRN_SMO_FIXED's code is in the build ('fixed': int8, wss2, linear or rbf)."""
    _solvers.check_arith(arith, solver=solver, kernel=kernel, storage=storage, n_features=n_features)
    return arith == "fixed"


def plan(board, n_features: int, capacity: int, classes=2, *, kernel="linear", storage="float32", solver="wss2",
         multiclass="ovo", stack_reserve_bytes: int | None = None, name: str = "trainer", data_in: str = "ram",
         with_max: bool = True, cache_cols: int | None = None, arith: str = "float") -> Plan:
    """Predict flash, static SRAM (by name), stack and total SRAM of training this configuration on
    `board` (a name or Board), whether it fits, and the largest capacity per storage type.

    classes: the number of classes or the class labels. `name` is the trainer's C name (buffers are
    NAME_data, NAME_labels, NAME_work, NAME_store, NAME_svm). data_in: where the samples live: 'ram' (the
    default), 'flash' (SRAM holds no rows: flash holds code + the rows table) or 'callback' (SRAM holds a
    two-row code buffer; the rows are the application's). with_max=False skips the largest capacities.
    cache_cols: kernel columns wss2 caches (rbf/poly/sigmoid); None: the planner chooses the most that fit in the
    SRAM left after the trainer's buffers, structs and stack (0 if none, or for the linear kernel and the other
    solvers). The largest capacities are those without a cache (the cache takes what is left). arith: 'fixed' adds
    MLRN_SMO_FIXED's code and stack (calibrated per board); the largest capacities of int8 storage then include
    it too."""
    b = board_of(board)
    if b.name == "host":
        raise ValueError("the planner sizes programs for boards, not the host")
    n_classes = classes if isinstance(classes, int) else len(list(classes))
    n_features, capacity = int(n_features), int(capacity)
    _check(kernel, storage, solver, multiclass, n_features, capacity, n_classes, data_in)
    fixed = _fixed(arith, kernel, storage, solver, n_features)
    check_reserve(stack_reserve_bytes)
    cal, estimate, basis = _cal_for(b)
    reserve = b.stack_reserve_bytes if stack_reserve_bytes is None else int(stack_reserve_bytes)
    auto = cache_cols is None
    if auto:
        cache_cols = _cache_cols(b, cal, reserve, n_features, capacity, n_classes, kernel, storage, solver,
                                 multiclass, data_in)
    else:
        cache_cols = check_cache_cols(cache_cols, capacity, kernel, solver)
    static, s, stack, flash, over, tables = _figures(b, cal, reserve, n_features, capacity, n_classes, kernel,
                                                     storage, solver, multiclass, name, data_in, cache_cols, fixed)
    caps = {st: max_capacity(b, n_features, n_classes, kernel=kernel, storage=st, solver=solver,
                             multiclass=multiclass, stack_reserve_bytes=reserve, data_in=data_in,
                             arith="fixed" if fixed and st == "int8" else "float")
            for st in STORAGES} if with_max else {}
    notes = list(cal.get("notes", []))
    if data_in == "flash" and b.arch == "avr" and sum(tables.values()) > AVR_PROGMEM_REACH:
        notes.append(f"the rows table ({sum(tables.values()):,} B) is beyond what pgm_read_* reach on AVR "
                     f"({AVR_PROGMEM_REACH:,} B of PROGMEM in the first 64 KB of flash): counted as flash over")
    if data_in == "flash" and b.name in CONST_IN_RAM_BOARDS:
        notes.append(f"on the {b.name} const data is copied to RAM at start-up (its mapped flash takes only aligned "
                     "32-bit loads): the rows table takes SRAM as well; --data-in callback keeps them out of SRAM")
    if data_in != "ram" and _data_in_cal(cal, data_in) is None:
        notes.append(f"the samples-in-{data_in} build is not in calibration.json yet: its code and stack are the RAM "
                     f"build's (the rows table is counted exactly); re-measure with `{RECALIBRATE}`")
    if fixed and not cal.get("fixed"):
        notes.append("fixed point (MLRN_SMO_FIXED) is not in calibration.json yet: its code and stack are not "
                     f"counted; re-measure with `{RECALIBRATE}`")
    if cache_cols and not cal.get("cache"):
        notes.append("the kernel-column cache is not in calibration.json yet: its columns and struct fields are "
                     f"counted exactly, its code and stack with a margin; re-measure with `{RECALIBRATE}`")
    stand_in = uncalibrated_note(cal, kernel, solver)
    if stand_in:
        notes.append(stand_in)
    current = _current()
    if not current:
        notes.append(stale_note("trainer"))
    return Plan(board=b.name, n_features=n_features, capacity=capacity, n_classes=n_classes, kernel=kernel,
                storage=storage, solver=solver, multiclass=multiclass, static_buffers=static, static_ram_bytes=s,
                stack_bytes=stack, sram_bytes=s + stack, flash_bytes=flash, board_sram_bytes=b.sram_bytes,
                board_flash_bytes=b.flash_bytes, stack_reserve_bytes=reserve,
                static_limit_bytes=static_limit(b, cal, reserve),
                fits=not over, fits_static="static" not in over, fits_sram="sram" not in over,
                fits_flash="flash" not in over, over=over, max_capacity=caps, data_in=data_in, flash_tables=tables,
                cache_cols=cache_cols, cache_bytes=4 * vocab.smo_cache_floats(cache_cols, capacity) if cache_cols else 0,
                cache_auto=auto or not vocab.cache_applies(kernel, solver), estimate=estimate, basis=basis,
                calibration_current=current, notes=notes, arith="fixed" if fixed else "float")


def choose_arith(arith, board, n_features: int, capacity: int, n_classes: int, *, kernel="linear", storage="float32",
                 solver="wss2", multiclass="ovo", data_in: str = "ram") -> tuple[str, str | None]:
    """arith for a training on `board` (None: the host) and a note when 'auto' keeps float32 on a board without an
    FPU: 'auto' is fixed point where MLRN_SMO_FIXED applies on such a board (config.resolve_arith), unless on
    a calibrated board its extra code would not fit the flash where the float32 build does (the 16 KB parts).
    'float' and 'fixed' are checked and kept. What `microlearn train` and `microlearn plan` both use."""
    b = board_of(board) if board is not None else None
    chosen = resolve_arith(arith, b, solver=solver, kernel=kernel, storage=storage, n_features=n_features)
    if arith != "auto" or chosen != "fixed" or b.name not in calibration()["boards"] or n_classes < 2:
        return chosen, None

    def fits_flash(a):
        return plan(b, n_features, capacity, n_classes, kernel=kernel, storage=storage, solver=solver,
                    multiclass=multiclass, data_in=data_in, with_max=False, arith=a).fits_flash
    if not fits_flash("fixed") and fits_flash("float"):
        return "float", (f"float32 scans: fixed point's code would not fit the {b.name}'s flash "
                         f"(--arith fixed to insist)")
    return chosen, None


def plan_config(cfg, board, *, stack_reserve_bytes: int | None = None, name: str = "trainer") -> Plan:
    """plan() for a TrainerConfig (what `microlearn train --target BOARD` checks before building)."""
    p = cfg.params
    return plan(board, cfg.n_features, cfg.capacity, cfg.n_classes, kernel=p.kernel, storage=cfg.storage,
                solver=p.solver, multiclass=p.multiclass, stack_reserve_bytes=stack_reserve_bytes, name=name,
                data_in=cfg.data_in, cache_cols=cfg.cache_cols, arith=p.arith)


def boards_that_fit(n_features, capacity, classes=2, *, kernel="linear", storage="float32", solver="wss2",
                    multiclass="ovo", exclude=(), data_in="ram") -> list[str]:
    """Names of the boards this configuration fits (smallest SRAM first)."""
    n_classes = classes if isinstance(classes, int) else len(list(classes))
    out = []
    for b in sorted(list_boards(), key=lambda b: (b.sram_bytes, b.flash_bytes)):
        if b.name in exclude or b.name not in calibration()["boards"]:
            continue
        cal, est, _ = _cal_for(b)
        if not _figures(b, cal, b.stack_reserve_bytes, n_features, capacity, n_classes, kernel, storage, solver,
                        multiclass, data_in=data_in)[4]:
            out.append(b.name + (" (estimate)" if est else ""))
    return out


def does_not_fit(cfg, target_or_board, exc=None):
    """A DoesNotFit whose message says by how many bytes and what would fit, for `cfg` on the board.
    exc: the linker's DoesNotFit, when the plan itself thought it fits (its figures are kept)."""
    board = getattr(target_or_board, "board", None) or target_or_board
    return refusal(lambda reserve: plan_config(cfg, board, stack_reserve_bytes=reserve),
                   getattr(target_or_board, "stack_reserve", None), exc)


def refusal(plan_with_reserve, reserve=None, exc=None):
    """The DoesNotFit for a plan (trainer or learner): plan_with_reserve(stack_reserve_bytes) -> Plan.
    exc: the linker's DoesNotFit, when the plan itself thought it fits (its figures are kept)."""
    pl = plan_with_reserve(reserve)
    if exc is not None and pl.fits:
        # The linker says no where the plan said yes (a toolchain other than the calibrated one?):
        # shift the plan by the measured excess and suggest from that.
        msg = str(exc)
        if exc.region == "sram":
            actual = pl.static_limit_bytes + int(exc.over)
            pl = plan_with_reserve(pl.stack_reserve_bytes + actual - pl.static_ram_bytes)
        sug = pl.suggestions()
        if sug:
            msg += ". What fits: " + "; ".join(sug)
        return DoesNotFit(msg, region=exc.region, over=exc.over, log=getattr(exc, "log", ""))
    region = "flash" if "flash" in pl.over and len(pl.over) == 1 else "sram"
    over = pl.over.get("static", pl.over.get("sram", pl.over.get("flash", 0))) if region == "sram" else pl.over["flash"]
    return DoesNotFit(pl.message(), region=region, over=over)


def precheck(cfg, target) -> Plan | None:
    """Before building for a board target: raise DoesNotFit (with what would fit) if the plan says the
    configuration cannot fit. Static SRAM is exact, so that check is strict; flash and stack are models,
    so only a clear excess (over by more than 10%) stops the build there and the linker decides the rest."""
    board = getattr(target, "board", None)
    if board is None or board.name not in calibration()["boards"]:
        return None
    return check_plan(lambda reserve: plan_config(cfg, board, stack_reserve_bytes=reserve),
                      getattr(target, "stack_reserve", None))


def check_plan(plan_with_reserve, reserve=None) -> Plan:
    """precheck() for any plan: raise refusal() when static SRAM is over (exact) or flash/stack clearly are."""
    pl = plan_with_reserve(reserve)
    clear = ("static" in pl.over or pl.over.get("sram", 0) > 0.1 * pl.sram_bytes
             or pl.over.get("flash", 0) > 0.1 * pl.flash_bytes)
    if clear:
        raise refusal(plan_with_reserve, reserve)
    return pl


__all__ = ["Plan", "plan", "choose_arith", "cache_cols_for", "runtime_fingerprint", "calibration_is_current", "plan_config", "max_capacity", "boards_that_fit", "precheck", "does_not_fit",
           "calibration", "CALIBRATION_PATH"]
