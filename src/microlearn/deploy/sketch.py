"""`microlearn sketch`: a sketch folder for a named board, ready for the Arduino IDE, arduino-cli,
`microlearn build` or (with platformio=True) PlatformIO.

Three kinds, each a fixed template (deploy/sketches/<kind>.ino, the same text for every user) plus
generated headers that hold everything specific (const tables and #defines, nothing else):
- train: trains ON the board from the CSV's rows (in flash, as the seeds' experiments kept them),
  evaluates on the held-out rows, reports over Serial (trainer.h + sketch_data.h);
- loop: the self-learning loop, optionally starting from a model trained in Python (lrn.h), with
  the model persisted to the EEPROM;
- model: a scikit-learn / microlearn model exported as C (model.h), predicting on the board.
Every kind then serves the serial protocol (sketch_link.h over mlrn_link.h; docs/serial-protocol.md),
which is how `microlearn serial` talks to it. sketch_config.h and microlearn_sketch.json say what was
generated from what; the JSON is what `microlearn serial --sketch DIR` reads for the class labels.

Before anything is written the sketch is planned (deploy/sketch_plan.py): a sketch that would not fit
the board is refused with what would fit."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from microlearn._version import __version__
from microlearn.boards.registry import get_board
from microlearn.core import vocab
from microlearn.core.c_format import c_array, c_comment, c_header
from microlearn.exporter import export
from microlearn.learner.codegen import persist_storage_bytes, render_header
from microlearn.learner.config import LearnerConfig
from microlearn.trainer.codegen import render_trainer
from microlearn.trainer.config import TrainerConfig, config_from_estimator
from microlearn.trainer.estimator import SMOClassifier

from .arduino_library import build_library
from .sketch_plan import SketchPlan, plan_sketch

TEMPLATES = resources.files("microlearn.deploy") / "sketches"
KINDS = ("train", "loop", "model")
DEFAULT_NAMES = {"train": "TrainOnBoard", "loop": "LearningLoop", "model": "ModelOnBoard"}
BAUD = 115200
MANIFEST = "microlearn_sketch.json"
MANIFEST_FORMAT = 1
# Bytes of model per MODEL reply: the reply buffer (RAM) is sized for this, the host asks chunk by chunk.
MODEL_CHUNK = 32
# EEPROM bytes of each board's Arduino core (on the Cortex-M boards: the EEPROM emulation the shim has,
# as the cores' flash-backed EEPROM libraries offer). A loop sketch keeps its two model slots at 0.
EEPROM_BYTES = {"uno": 1024, "mega2560": 4096, "nrf52840": 4096, "samd21": 1024}
# Arduino's sketch-name rules (letters, digits, '_'; not starting with '_'; at most 63 characters); '.'
# and '-', which Arduino also allows, are left out: the name becomes a C string and a PlatformIO env.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,62}")
# PlatformIO's board ids and platforms for the boards (the user's name: nano is the uno's alias here).
PLATFORMIO = {"uno": ("atmelavr", "uno"), "nano": ("atmelavr", "nanoatmega328"),
              "mega2560": ("atmelavr", "megaatmega2560"), "nrf52840": ("nordicnrf52", "adafruit_feather_nrf52840"),
              "samd21": ("atmelsam", "zeroUSB"), "bluepill": ("ststm32", "bluepill_f103c8"),
              "rp2040": ("raspberrypi", "pico"), "esp32": ("espressif32", "esp32dev")}


class SketchError(ValueError):
    """A sketch that cannot be written as asked (one line: why, and what would work)."""


@dataclass
class Sketch:
    """A written sketch: `folder` holds <name>.ino (or, for PlatformIO, platformio.ini and src/)."""
    folder: Path
    kind: str
    board: str
    name: str
    manifest: dict
    plan: SketchPlan
    files: list[str] = field(default_factory=list)

    @property
    def ino(self) -> Path:
        src = self.folder / "src" if (self.folder / "platformio.ini").exists() else self.folder
        return src / f"{self.name}.ino"


def check_name(name) -> str:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise SketchError(f"sketch name must be 1-63 letters, digits or '_', starting with a letter or digit "
                          f"(the Arduino IDE's rule), got {name!r}")
    return name


def board_key(board: str) -> str:
    """The user's board name, checked ('nano' stays 'nano': its Arduino board differs from the uno's)."""
    name = str(board).strip().lower()
    get_board(name)          # UnknownBoard (a ValueError) lists the valid names
    return name


def _config_header(kind: str, board: str, lines: list[str], defines: dict, includes: list[str]) -> str:
    body = "\n".join(f"#define {k} {v}" for k, v in defines.items())
    major, minor, patch = (__version__.split(".") + ["0", "0"])[:3]
    body += (f"\n#define SKETCH_VERSION_MAJOR {int(major)}u\n#define SKETCH_VERSION_MINOR {int(minor)}u\n"
             f"#define SKETCH_VERSION_PATCH {int(re.match(r'[0-9]*', patch).group() or 0)}u\n")
    return c_header("sketch", "config", f"a {kind} sketch for the {board}", lines, includes, body,
                    version=__version__)


def _reply_bytes(kind: str) -> int:
    return {"train": vocab.LINK_MODEL_REPLY_HEADER_BYTES + MODEL_CHUNK,
            "loop": vocab.LINK_MODEL_REPLY_HEADER_BYTES + MODEL_CHUNK,
            "model": vocab.LINK_PREDICT_REPLY_BYTES}[kind]


def _labels(classes) -> list:
    return [c.item() if hasattr(c, "item") else c for c in classes]


def _write(kind: str, name: str, board: str, out_dir, files: dict[str, str], manifest: dict, plan: SketchPlan,
           *, platformio: bool, overwrite: bool) -> Sketch:
    """Write the folder out_dir/name (atomically: a temporary folder renamed into place)."""
    out_dir = Path(out_dir)
    folder = out_dir / name
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise SketchError(f"{folder} exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise SketchError(f"{folder} exists and is not empty (use --force to replace a sketch written here)")
        if not (folder / MANIFEST).is_file() and not (folder / "src" / MANIFEST).is_file():
            raise SketchError(f"{folder} was not written by microlearn sketch: not replacing it")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    try:
        src = tmp / "src" if platformio else tmp
        src.mkdir(exist_ok=True)
        (src / f"{name}.ino").write_bytes((TEMPLATES / f"{kind}.ino").read_bytes())
        (src / "sketch_link.h").write_bytes((TEMPLATES / "sketch_link.h").read_bytes())
        for fname, text in files.items():
            (src / fname).write_text(text)
        (src / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if platformio:
            build_library(tmp / "lib" / "microlearn")
            (tmp / "platformio.ini").write_text(platformio_ini(board, name))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return Sketch(folder=folder, kind=kind, board=board, name=name, manifest=manifest, plan=plan, files=written)


def platformio_ini(board: str, name: str) -> str:
    platform, pio_board = PLATFORMIO[board]
    return "\n".join([
        f"; PlatformIO project of the microlearn sketch {name} (microlearn {__version__}).",
        "; lib/microlearn is the microlearn Arduino library; src/ the sketch. Build: pio run; upload: pio run -t upload",
        "[platformio]", "default_envs = " + board, "",
        f"[env:{board}]", f"platform = {platform}", f"board = {pio_board}", "framework = arduino",
        f"monitor_speed = {BAUD}", ""])


def _refuse_unless_fits(plan: SketchPlan, what: str) -> None:
    if not plan.fits:
        raise SketchError(f"{what} does not fit the {plan.board}: {plan.message()}")


# ------------------------------------------------------------------------------------------ train

def sketch_train(X_train, y_train, X_test, y_test, board: str, out_dir, *, name: str | None = None,
                 capacity: int | None = None, platformio: bool = False, overwrite: bool = False,
                 **params) -> Sketch:
    """A sketch that trains ON the board from X_train/y_train (stored in flash), evaluates on
    X_test/y_test and reports, then serves the serial protocol. params: SMOClassifier's (kernel, C,
    gamma, ..., storage). Labels are any values; their sorted order gives the class indices."""
    board = board_key(board)
    name = check_name(DEFAULT_NAMES["train"] if name is None else name)
    X_train, X_test = np.asarray(X_train, np.float32), np.asarray(X_test, np.float32).reshape(-1, X_train.shape[1])
    est = SMOClassifier(**params)
    est._check_params()
    classes = np.unique(np.asarray(y_train))
    if len(classes) < 2:
        raise SketchError("the training rows hold fewer than two classes")
    y_tr = np.searchsorted(classes, y_train)
    y_te = np.searchsorted(classes, y_test) if len(y_test) else np.zeros(0, np.int64)
    if len(y_test) and not np.array_equal(classes[np.clip(y_te, 0, len(classes) - 1)], np.asarray(y_test)):
        raise SketchError("the test rows have labels that do not occur in the training rows")
    capacity = len(X_train) if capacity is None else int(capacity)
    if capacity < len(X_train):
        raise SketchError(f"capacity {capacity} is below the {len(X_train)} training rows the sketch stores")
    est.fit(X_train, y_train)       # the reference: what the board must reproduce, bit for bit
    cfg: TrainerConfig = config_from_estimator(est, capacity)
    d = X_train.shape[1]
    if d > vocab.LINK_MAX_FEATURES:
        raise SketchError(f"{d} features: the serial protocol carries at most {vocab.LINK_MAX_FEATURES}")
    data = [c_array("sketch_train_x", "float", X_train.ravel()), c_array("sketch_train_y", "uint8_t", y_tr),
            c_array("sketch_test_x", "float", X_test.ravel() if len(X_test) else np.zeros(d, np.float32)),
            c_array("sketch_test_y", "uint8_t", y_te if len(y_te) else np.zeros(1, np.int64))]
    table_bytes = 4 * (len(X_train) + max(len(X_test), 1)) * d + len(X_train) + max(len(y_te), 1)
    plan = plan_sketch("train", board, n_features=d, n_classes=len(classes), capacity=capacity,
                       table_bytes=table_bytes, reply_bytes=_reply_bytes("train"), trainer=cfg)
    _refuse_unless_fits(plan, f"training {len(X_train)} rows x {d} features on the board")
    labels = _labels(classes)
    data_h = c_header("sketch", "data", "the rows the board trains and is tested on",
                      [f"{len(X_train)} training rows and {len(X_test)} test rows of {d} float32 features; labels "
                       "are class indices (sketch_config.h lists the classes)."], [],
                      f"#define SKETCH_N_TRAIN {len(X_train)}u\n#define SKETCH_N_TEST {len(X_test)}u\n" +
                      "\n".join(data), version=__version__)
    defines = {"SKETCH_KIND": "MLRN_LINK_KIND_TRAIN", "SKETCH_N_FEATURES": f"{d}u",
               "SKETCH_N_CLASSES": f"{len(classes)}u", "SKETCH_CAPACITY": f"{capacity}u",
               "SKETCH_REPLY_BYTES": f"{_reply_bytes('train')}u", "SKETCH_BAUD": f"{BAUD}ul"}
    about = [f"Trains ON the board: {len(X_train)} rows x {d} features, {len(classes)} classes, kernel {est.kernel}, "
             f"C {float(est.C):g}, {est.storage} storage, capacity {capacity}.", *plan.lines()]
    config = _config_header("train", board, about, defines, ["trainer.h", "sketch_data.h"])
    budget = get_board(board).sram_bytes - get_board(board).stack_reserve_bytes
    files = {"sketch_config.h": config, "trainer.h": render_trainer(cfg, "trainer", budget),
             "sketch_data.h": data_h}
    manifest = _manifest("train", board, name, d, labels, capacity, plan,
                         params={k: (v if isinstance(v, (int, float, str, type(None))) else str(v))
                                 for k, v in est.get_params().items()},
                         rows={"train": len(X_train), "test": len(X_test)},
                         reference=_train_reference(est, X_test, y_te))
    return _write("train", name, board, out_dir, files, manifest, plan, platformio=platformio, overwrite=overwrite)


def _train_reference(est, X_test, y_te) -> dict:
    """What the Python reference got: the board must report the same (microlearn serial checks)."""
    pred = np.searchsorted(est.classes_, est.predict(X_test)) if len(X_test) else np.zeros(0, np.int64)
    return {"iterations": int(est.n_iter_.sum()), "test_correct": int(np.sum(pred == y_te)),
            "intercept_bits": [int(v) for v in np.asarray(est.intercept_, np.float32).view(np.uint32)]}


def _manifest(kind, board, name, d, labels, capacity, plan, **extra) -> dict:
    return {"format": MANIFEST_FORMAT, "microlearn": __version__, "protocol": vocab.LINK_VERSION, "kind": kind,
            "board": board, "name": name, "baud": BAUD, "n_features": d, "classes": labels, "capacity": capacity,
            "plan": plan.to_dict(), **extra}


# ------------------------------------------------------------------------------------------- loop

def sketch_loop(cfg: LearnerConfig, board: str, out_dir, *, classes=None, init=None, persist: bool | None = None,
                name: str | None = None, platformio: bool = False, overwrite: bool = False,
                drift_fallback: bool = True) -> Sketch:
    """The self-learning loop for `cfg` on the board. init: an initial model (W, b, class indices), e.g.
    learner.simulate.fit_static(cfg, X0, y0): the board predicts with it from its first reading.
    classes: the labels of the class indices 0..n_classes-1 (for the host; default the indices).
    persist: save accepted models in the EEPROM (default: when the board has one).
    drift_fallback: when cfg's detector is DDM (LearnerConfig's default) and its sketch does not fit the board
    but the window detector's does (the uno's sketches with persistence: DDM's code is ~1 KB of flash), write the
    window detector's sketch and say so (the manifest's drift_note); False: refuse, with what fits."""
    board = board_key(board)
    name = check_name(DEFAULT_NAMES["loop"] if name is None else name)
    if init is not None and (cfg.model != "svm" or cfg.kernel != "linear"):
        raise SketchError(f"an initial model is for the linear SVM learner (--model svm): the "
                          f"{_learner_name(cfg)} starts without one (it learns from the first feedback)")
    b = get_board(board)
    eeprom = EEPROM_BYTES.get(b.name)
    persist = bool(eeprom) if persist is None else bool(persist)
    slots = persist_storage_bytes(cfg, "model") if persist else 0
    if persist and (eeprom is None or slots > eeprom):
        cap = max_loop_capacity(cfg, board, persist=True, initial_model=init is not None) \
            if eeprom and cfg.kernel != "linear" else 0     # a snapshot's slot grows with the training capacity
        raise SketchError(f"the model's two persistence slots take {slots} bytes; the {board} has "
                          f"{eeprom or 0} bytes of EEPROM (use --no-persist, or fewer features/classes"
                          + (f", or a capacity up to {cap:,}" if cap else "") + ")")
    if cfg.n_features > vocab.LINK_MAX_FEATURES:
        raise SketchError(f"{cfg.n_features} features: the serial protocol carries at most {vocab.LINK_MAX_FEATURES}")
    # what every plan of this sketch shares: its shape, the initial model's tables and code, the link's reply
    common = dict(n_features=cfg.n_features, n_classes=cfg.n_classes, capacity=cfg.capacity,
                  table_bytes=_init_bytes(cfg, init), initial_model=init is not None, reply_bytes=_reply_bytes("loop"))
    plan = plan_sketch("loop", board, **common, learner=cfg, persist=persist)
    drift_note = None
    if not plan.fits and cfg.drift == "ddm" and cfg.model == "svm":
        alt = dataclasses.replace(cfg, drift="window")
        alt_plan = plan_sketch("loop", board, **common, learner=alt, persist=persist)
        if alt_plan.fits and drift_fallback:
            drift_note = (f"the window detector: DDM (the default) does not fit this sketch on the {board} "
                          f"({plan.over_text()})")
            cfg, plan = alt, alt_plan
        elif alt_plan.fits:
            plan.suggestions.insert(0, "the window detector (--drift window: no DDM code or state)")
    if not plan.fits and persist:
        bare = plan_sketch("loop", board, **common, learner=cfg)
        if bare.fits:
            plan.suggestions.insert(0, "no persistence (--no-persist: the model is not saved in the EEPROM; "
                                       f"{bare.flash_bytes:,} B of flash)")
    if not plan.fits:   # the largest capacity of this learner that fits, first among what fits
        cap = max_loop_capacity(cfg, board, persist=persist, initial_model=init is not None)
        if 0 < cap < cfg.capacity:
            plan.suggestions.insert(0, f"capacity {cap:,} ({_capacity_unit(cfg)}; the largest that fits)")
    _refuse_unless_fits(plan, f"the {_learner_name(cfg)} of capacity {cfg.capacity}")
    labels = _labels(classes) if classes is not None else list(range(cfg.n_classes))
    if len(labels) != cfg.n_classes:
        raise SketchError(f"{len(labels)} class labels for {cfg.n_classes} classes")
    defines = {"SKETCH_KIND": "MLRN_LINK_KIND_LOOP", "SKETCH_N_FEATURES": f"{cfg.n_features}u",
               "SKETCH_N_CLASSES": f"{cfg.n_classes}u", "SKETCH_CAPACITY": f"{cfg.capacity}u",
               "SKETCH_REPLY_BYTES": f"{_reply_bytes('loop')}u", "SKETCH_BAUD": f"{BAUD}ul",
               "SKETCH_PERSIST": 1 if persist else 0, "SKETCH_PERSIST_BASE": "0u",
               "SKETCH_PERSIST_BYTES": f"{slots}u"}
    about = [f"The self-learning loop, {_learner_name(cfg)}: {cfg.n_features} features, {cfg.n_classes} classes, "
             f"capacity {cfg.capacity} ({_capacity_unit(cfg)}, {cfg.storage}); "
             + ("starts from a model trained in Python." if init is not None else
                "starts without a model (it learns from the first feedback)."),
             ("Accepted models are saved in EEPROM bytes 0.." + str(slots - 1) + "." if persist else
              "No persistence: a power cycle starts over."),
             f"Drift detector: {cfg.drift}" + (f" ({drift_note})." if drift_note else "."), *plan.lines()]
    files = {"sketch_config.h": _config_header("loop", board, about, defines, ["lrn.h"]),
             "lrn.h": render_header(cfg, "lrn", init=init)}
    manifest = _manifest("loop", board, name, cfg.n_features, labels, cfg.capacity, plan,
                         learner=_learner_manifest(cfg),
                         persist=persist, initial_model=init is not None,
                         **({"drift_note": drift_note} if drift_note else {}))
    return _write("loop", name, board, out_dir, files, manifest, plan, platformio=platformio, overwrite=overwrite)


def _learner_name(cfg: LearnerConfig) -> str:
    if cfg.model == "online":
        return "online learner (Passive-Aggressive II)"
    return f"{cfg.kernel} SVM learner"


def _capacity_unit(cfg: LearnerConfig) -> str:
    return "held-out rows" if cfg.model == "online" else "stored samples"


def _learner_manifest(cfg: LearnerConfig) -> dict:
    """The LearnerConfig the sketch was made from, as JSON: with the quantised store's affine tables (float32
    values, as lrn.h has them), so a host can rebuild the reference (LearnerConfig(**manifest["learner"]))."""
    out = {k: v for k, v in vars(cfg).items() if isinstance(v, (int, float, str))}
    if cfg.storage != "float32":
        out["scale"] = [float(v) for v in np.asarray(cfg.scale, np.float32)]
        out["offset"] = [float(v) for v in np.asarray(cfg.offset, np.float32)]
    return out


def _loop_slots(cfg: LearnerConfig, board: str, persist: bool) -> bool:
    """Whether the model's two persistence slots fit the board's EEPROM (always, without persistence)."""
    return not persist or persist_storage_bytes(cfg, "model") <= EEPROM_BYTES.get(get_board(board).name, 0)


def _valid_capacity(cfg: LearnerConfig, capacity: int) -> bool:
    try:
        dataclasses.replace(cfg, capacity=capacity)
    except ValueError:
        return False
    return True


def max_loop_capacity(cfg: LearnerConfig, board: str, *, persist: bool | None = None,
                      initial_model: bool = False) -> int:
    """The largest capacity of cfg's learner (everything else as cfg: model, kernel, storage, detector...) whose
    loop sketch fits the board: its plan (flash, static SRAM, stack) and, with persistence, the EEPROM's two model
    slots (a kernel learner's slot holds every training row as a support vector: its largest snapshot).
    0 when none does. persist None: where the board has an EEPROM, as sketch_loop."""
    board = board_key(board)
    persist = bool(EEPROM_BYTES.get(get_board(board).name)) if persist is None else bool(persist)

    def ok(c: int) -> bool:
        try:
            c_cfg = dataclasses.replace(cfg, capacity=c)
        except ValueError:
            return False
        common = dict(n_features=cfg.n_features, n_classes=cfg.n_classes, capacity=c, table_bytes=0,
                      initial_model=initial_model, reply_bytes=_reply_bytes("loop"))
        return _loop_slots(c_cfg, board, persist) and plan_sketch("loop", board, **common, learner=c_cfg,
                                                                   persist=persist).fits
    lo = next(c for c in range(1, vocab.MAX_CAPACITY) if _valid_capacity(cfg, c))  # the smallest cfg's rules take
    if not ok(lo):
        return 0
    hi = vocab.MAX_CAPACITY
    if ok(hi):
        return hi
    while hi - lo > 1:      # SRAM, flash and the slots grow with the capacity: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _init_bytes(cfg: LearnerConfig, init) -> int:
    if init is None:
        return 0
    W, b, cmap = init
    return 4 * (np.asarray(W).size + np.asarray(b).size) + len(cmap)


# ------------------------------------------------------------------------------------------ model

def sketch_model(estimator, board: str, out_dir, *, name: str | None = None, dtype: str = "float32", calib_X=None,
                 check_X=None, platformio: bool = False, overwrite: bool = False) -> Sketch:
    """A sketch predicting with a fitted estimator exported as C (microlearn.export)."""
    board = board_key(board)
    name = check_name(DEFAULT_NAMES["model"] if name is None else name)
    rep = export(estimator, None, name="model", dtype=dtype, calib_X=calib_X, check_X=check_X)
    m = rep.model
    d = int(m.n_features)
    if d > vocab.LINK_MAX_FEATURES:
        raise SketchError(f"{d} features: the serial protocol carries at most {vocab.LINK_MAX_FEATURES}")
    plan = plan_sketch("model", board, n_features=d, n_classes=int(m.n_classes), capacity=0,
                       table_bytes=int(m.flash_bytes), reply_bytes=_reply_bytes("model"), model_ram=int(m.ram_bytes))
    _refuse_unless_fits(plan, "the exported model")
    labels = _labels(getattr(estimator, "classes_", range(int(m.n_classes))))
    defines = {"SKETCH_KIND": "MLRN_LINK_KIND_MODEL", "SKETCH_N_FEATURES": f"{d}u",
               "SKETCH_N_CLASSES": f"{int(m.n_classes)}u", "SKETCH_CAPACITY": "0u",
               "SKETCH_REPLY_BYTES": f"{_reply_bytes('model')}u", "SKETCH_BAUD": f"{BAUD}ul"}
    about = [c_comment(f"Predicts with an exported {type(estimator).__name__} ({dtype})."), *plan.lines()]
    files = {"sketch_config.h": _config_header("model", board, about, defines, ["model.h"]), "model.h": rep.header}
    manifest = _manifest("model", board, name, d, labels, 0, plan, estimator=type(estimator).__name__, dtype=dtype,
                         agreement=rep.agreement)
    return _write("model", name, board, out_dir, files, manifest, plan, platformio=platformio, overwrite=overwrite)


def read_manifest(folder) -> dict:
    """The manifest of a sketch folder (or its PlatformIO src/): what `microlearn serial --sketch` uses."""
    folder = Path(folder)
    for p in (folder / MANIFEST, folder / "src" / MANIFEST):
        if p.is_file():
            if p.stat().st_size > 1 << 20:
                raise SketchError(f"{p}: larger than 1 MB, not a sketch manifest")
            try:
                man = json.loads(p.read_text())
            except (ValueError, UnicodeDecodeError) as exc:
                raise SketchError(f"{p}: not a microlearn sketch manifest ({exc})") from None
            if not isinstance(man, dict) or man.get("format") != MANIFEST_FORMAT or man.get("kind") not in KINDS:
                raise SketchError(f"{p}: not a microlearn sketch manifest of format {MANIFEST_FORMAT}")
            return man
    raise SketchError(f"{folder}: no {MANIFEST} (not a folder written by microlearn sketch)")


__all__ = ["Sketch", "SketchError", "sketch_train", "sketch_loop", "sketch_model", "read_manifest", "check_name",
           "max_loop_capacity",
           "KINDS", "MANIFEST", "PLATFORMIO"]
