"""Will a generated sketch fit its board? Planned before anything is written or compiled.

A sketch is the runtime part the room planners already size (trainer.planner for the train kind,
learner.planner for the loop kind; an exported model's tables for the model kind) plus what is the
same for every sketch of a kind on a board: the Arduino core with Serial, the serial protocol
(mlrn_link.h + sketch_link.h), the sketch's own code. That fixed part is measured by building the
sketches (`microlearn calibrate --sketches`, deploy/sketch_calibrate.py) and kept in
deploy/sketch_calibration.json as: flash and static SRAM of the sketch minus the planner's figures
(and the data tables), stack of the sketch's own frames on top of the planner's stack.

So the figures are the planner's (exact static buffers, calibrated flash and stack curves) + the
measured differences; a board without a measured sketch borrows another board's of the same kind of
core and says so (estimate)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from microlearn.boards.registry import get_board
from microlearn.learner import planner as learner_planner
from microlearn.trainer import planner as trainer_planner

CALIBRATION = "sketch_calibration.json"
# Boards whose sketches build here; the others borrow the figures of a board of the same core family.
_FAMILY = {"uno": "uno", "mega2560": "uno", "nrf52840": "nrf52840", "bluepill": "nrf52840", "samd21": "samd21",
           "rp2040": "samd21", "esp32": "nrf52840"}


# The flash a sketch may take with the board's bootloader in place (the Arduino AVR core's boards.txt,
# upload.maximum_size): the registry's flash is the chip's.
UPLOAD_MAX = {"uno": 32256, "nano": 30720, "mega2560": 253952}


def fingerprint() -> str:
    """What the measured fixed part depends on: the sketch templates, the shim, the runtime headers and the
    Arduino library's umbrella header (a change makes the calibration stale)."""
    pkg = resources.files("microlearn")
    h = hashlib.sha256()
    for folder, pattern in (("deploy/sketches", "*"), ("deploy/shim", "*"), ("include", "*.h"),
                            ("deploy/arduino", "microlearn.h")):
        for f in sorted(Path(str(pkg / folder)).glob(pattern)):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def calibration_is_current() -> bool:
    return calibration().get("fingerprint") == fingerprint()


def calibration() -> dict:
    try:
        return json.loads((resources.files("microlearn.deploy") / CALIBRATION).read_text())
    except FileNotFoundError:
        return {"boards": {}}


@dataclass
class SketchPlan:
    kind: str
    board: str
    flash_bytes: int
    static_ram_bytes: int
    stack_bytes: int
    sram_bytes: int
    board_flash_bytes: int
    board_sram_bytes: int
    fits: bool
    over: dict
    estimate: bool
    basis: str
    fixed: dict = field(default_factory=dict)      # the measured fixed part added (sketch_calibration.json)
    runtime: dict = field(default_factory=dict)    # the room planner's figures (to_dict)
    suggestions: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        est = f" (ESTIMATE: {self.basis})" if self.estimate else ""
        return [f"Planned for the {self.board}{est}: flash {self.flash_bytes:,} of {self.board_flash_bytes:,} B, "
                f"SRAM {self.sram_bytes:,} of {self.board_sram_bytes:,} B (static {self.static_ram_bytes:,} + "
                f"stack {self.stack_bytes:,})."]

    def over_text(self) -> str:
        parts = []
        if "flash" in self.over:
            parts.append(f"flash {self.flash_bytes:,} B is {self.over['flash']:,} B over the "
                         f"{self.board_flash_bytes:,} B")
        if "sram" in self.over:
            parts.append(f"SRAM {self.sram_bytes:,} B (static {self.static_ram_bytes:,} + stack {self.stack_bytes:,})"
                         f" is {self.over['sram']:,} B over the {self.board_sram_bytes:,} B")
        return "; ".join(parts)

    def message(self) -> str:
        msg = self.over_text() or "fits"
        if self.suggestions:
            msg += ". What fits: " + "; ".join(self.suggestions)
        return msg


def _fixed(kind: str, board: str) -> tuple[dict, bool, str]:
    boards = calibration().get("boards", {})
    stale = "" if calibration_is_current() else ("; the sketches changed since they were measured: run "
                                                  "`microlearn calibrate --sketches`")
    if kind in boards.get(board, {}):
        return boards[board][kind], bool(stale), f"measured sketches on the {board}{stale}"
    fam = _FAMILY.get(board)
    if fam and kind in boards.get(fam, {}):
        return boards[fam][kind], True, f"the {fam}'s measured sketch overhead (no sketch measured on the {board})"
    return {"flash": 0, "static": 0, "stack": 0}, True, "no sketch overhead measured: the runtime's figures only"


def _measured(kind: str, board: str) -> bool:
    """Whether the board, or the board it borrows from, has a measured sketch of this kind."""
    boards = calibration().get("boards", {})
    return kind in boards.get(board, {}) or kind in boards.get(_FAMILY.get(board, ""), {})


def _learner_kind(learner, persist: bool) -> str | None:
    """The calibration kind holding what a loop sketch of this learner adds to the linear loop's fixed part
    (sketch_calibrate.DELTAS): the online learner's with or without persistence; a kernel learner's measured
    without (its sketch with persistence does not fit the uno: the other boards take the same difference)."""
    if learner is None:
        return None
    if getattr(learner, "model", "svm") == "online":
        return "loop_online" if persist else "loop_online_bare"
    return "loop_kernel" if getattr(learner, "kernel", "linear") != "linear" else None


def plan_sketch(kind: str, board: str, *, n_features: int, n_classes: int, capacity: int, table_bytes: int,
                reply_bytes: int, trainer=None, learner=None, persist: bool = False, model_ram: int = 0,
                initial_model: bool = False) -> SketchPlan:
    """The flash and SRAM a generated sketch needs on `board` (the user's name, e.g. 'nano').
    initial_model (loop kind): the sketch starts from a model trained in Python; besides its tables
    (table_bytes) that adds the code setting it (mlrn_learner_set_model: ~340 B on the uno), measured as
    the "loop_init" sketch's difference from the "loop" one. A loop sketch of the online learner or of a kernel
    learner adds its measured difference from the linear loop sketch ("loop_online", "loop_kernel")."""
    b = get_board(board)
    fixed, estimate, basis = _fixed(kind, b.name)
    if kind == "loop" and not persist and _measured("loop_bare", b.name):
        fixed, estimate, basis = _fixed("loop_bare", b.name)    # the sketch without its EEPROM glue
    if kind == "loop" and initial_model:
        init, init_estimate, _ = _fixed("loop_init", b.name)
        fixed = {k: fixed.get(k, 0) + init.get(k, 0) for k in ("flash", "static", "stack")}
        estimate = estimate or init_estimate
    learner_kind = _learner_kind(learner, persist) if kind == "loop" else None
    if learner_kind:   # the online / kernel learner's sketch: its measured difference from the linear loop's
        delta, delta_estimate, _ = _fixed(learner_kind, b.name)
        fixed = {k: fixed.get(k, 0) + delta.get(k, 0) for k in ("flash", "static", "stack")}
        if not _measured(learner_kind, b.name):
            basis += f"; the {learner_kind} sketch's difference from the linear loop's is not measured yet"
        estimate = estimate or delta_estimate
    # The link's buffers: a request of n features and the largest reply, each a whole frame (mlrn_link.h); the loop
    # sketch also keeps one reading's features (sketch_x: the request's and read_sensor()'s, static, not stack).
    link = (n_features * 4 + 2) + (reply_bytes + 10) + (4 * n_features if kind == "loop" else 0)
    other = fixed["static"] + link
    runtime, suggestions = {}, []
    if kind == "train":
        p = trainer_planner.plan_config(trainer, b, stack_reserve_bytes=b.stack_reserve_bytes + other)
        flash_rt, static_rt, stack_rt = p.flash_bytes, p.static_ram_bytes, p.stack_bytes
        runtime, suggestions = p.to_dict(), p.suggestions() if not p.fits else []
        estimate, basis = estimate or p.estimate, basis if not p.estimate else basis + "; " + p.basis
    elif kind == "loop":
        p = learner_planner.plan_learner_config(learner, b, other_static_bytes=other,
                                                persist="model" if persist else None)
        # plan_learner's static includes `other` in place of its stream driver's data
        flash_rt, static_rt, stack_rt = p.flash_bytes, p.static_ram_bytes - other, p.stack_bytes
        runtime, suggestions = p.to_dict(), p.suggestions() if not p.fits else []
        estimate, basis = estimate or p.estimate, basis if not p.estimate else basis + "; " + p.basis
    else:
        flash_rt, static_rt, stack_rt = 0, 0, model_ram
    flash = flash_rt + table_bytes + fixed["flash"]
    flash_max = UPLOAD_MAX.get(board, b.flash_bytes)
    static = static_rt + other
    stack = max(stack_rt + fixed["stack"], 0)    # a learner's delta may be negative (sketch_calibrate.DELTAS)
    over = {}
    if flash > flash_max:
        over["flash"] = flash - flash_max
    if static + stack > b.sram_bytes:
        over["sram"] = static + stack - b.sram_bytes
    if over and not suggestions:
        bigger = [o.name for o in (get_board(n) for n in ("mega2560", "nrf52840", "samd21"))
                  if UPLOAD_MAX.get(o.name, o.flash_bytes) >= flash and o.sram_bytes >= static + stack and o.name != b.name]
        suggestions = ["fewer rows or features" if kind == "train" else "a smaller configuration"]
        if bigger:
            suggestions.append("another board: " + ", ".join(bigger))
    return SketchPlan(kind=kind, board=board, flash_bytes=int(flash), static_ram_bytes=int(static),
                      stack_bytes=int(stack), sram_bytes=int(static + stack), board_flash_bytes=flash_max,
                      board_sram_bytes=b.sram_bytes, fits=not over, over=over, estimate=estimate, basis=basis,
                      fixed=dict(fixed), runtime=runtime, suggestions=suggestions)
