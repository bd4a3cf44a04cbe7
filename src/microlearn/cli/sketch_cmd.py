"""`microlearn sketch train|loop|model`: write a sketch folder (or a PlatformIO project) for a named board.

    microlearn sketch train DATA.csv --board uno --out DIR        trains ON the board from the rows
    microlearn sketch loop --board nano --n-features 2 --classes 3 [--init-data CSV | --init-model M] --out DIR
    microlearn sketch loop --board uno --n-features 16 --classes 3 --model online --capacity 9 --out DIR
    microlearn sketch loop --board uno --n-features 4 --classes 2 --model svm-rbf --storage int8
        --feature-range=-1,1 --no-persist --out DIR                  (one command)
    microlearn sketch model MODEL.skops --board uno --out DIR     an exported model predicting on the board

The sketch is planned first (does it fit the board's flash and SRAM?); a sketch that does not fit is
refused with what would. `microlearn build DIR/NAME --board B` builds it, `microlearn flash` uploads it,
`microlearn serial` talks to it (docs/first-board.md)."""
from __future__ import annotations

import json

import numpy as np

from microlearn.core import vocab
from microlearn.core.store import affine_from_range
from microlearn.data.datasets import DataError, read_csv, read_features
from microlearn.deploy.sketch import SketchError, sketch_loop, sketch_model, sketch_train
from microlearn.exporter import UnsupportedModel
from microlearn.exporter.model_io import ModelFileError, load_model
from microlearn.learner.config import LearnerConfig
from microlearn.learner.simulate import fit_static

from . import CLIError, as_option
from .learner_options import LEARNER_OPTIONS, add_learner_options, learner_kwargs
from .train_cmd import OPTIONS as TRAIN_OPTIONS
from .train_cmd import _check_options, add_data_options, load_data


def register(sub):
    p = sub.add_parser("sketch", help="write an Arduino sketch (or PlatformIO project) for a board",
                       description="Writes OUT/NAME/NAME.ino and generated headers (or, with --platformio, a "
                                   "PlatformIO project) after checking that it fits the board.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)

    t = kinds.add_parser("train", help="a sketch that trains ON the board from a CSV's rows",
                         description="The CSV's training rows go into flash; the board adds them to its sample "
                                     "store, trains the SVM, evaluates on the test rows, reports over Serial.")
    add_data_options(t)
    _common(t, "TrainOnBoard")
    t.set_defaults(func=run_train, timeout=600.0)

    lp = kinds.add_parser("loop", help="the self-learning loop, optionally starting from a model trained in Python",
                          description="A sketch with read_sensor() / feedback() for you to fill in; until then it "
                                      "learns from FEEDBACK frames (microlearn serial --feedback).")
    lp.add_argument("--n-features", type=int, required=True)
    lp.add_argument("--classes", required=True,
                    help="the number of classes, or their labels separated by commas (class index = position)")
    g = lp.add_mutually_exclusive_group()
    g.add_argument("--init-data", metavar="CSV",
                   help="rows (features..., class index) the initial model is trained on in Python")
    g.add_argument("--init-model", metavar="MODEL.skops",
                   help="an initial model: a microlearn SMOClassifier(kernel='linear') saved with save_model "
                        "(the linear SVM learner only, as --init-data)")
    lp.add_argument("--trust-pickle", action="store_true",
                    help="also read pickle/joblib files for --init-model (they run code when loaded)")
    add_learner_options(lp, capacity_help="stored samples (training + held-out), default 60; the online learner: "
                                          "held-out rows",
                        budget_help="SMO iterations per reading (0: train to completion)",
                        storage_help="sample store type (the SVM learner): int16 / int8 map each feature's range "
                                     "(--calib or --feature-range, else --init-data's) affinely onto the integers")
    lp.add_argument("--calib", metavar="CSV",
                    help="int16/int8 storage: feature rows whose per-feature min and max fix the store's mapping")
    lp.add_argument("--feature-range", metavar="LO,HI",
                    help="int16/int8 storage: one range for every feature (e.g. 0,1023 for raw ADC readings; write "
                         "--feature-range=-1,1 when LO is negative)")
    lp.add_argument("--no-persist", action="store_true", help="do not save accepted models in the EEPROM")
    _common(lp, "LearningLoop")
    lp.set_defaults(func=run_loop)

    m = kinds.add_parser("model", help="a model exported from Python, predicting on the board")
    m.add_argument("model", metavar="MODEL.skops")
    m.add_argument("--dtype", default="float32", choices=["float32", "int16", "int8"])
    m.add_argument("--calib", metavar="CSV", help="feature rows for the int16/int8 input quantization")
    m.add_argument("--trust-pickle", action="store_true",
                   help="also read pickle/joblib files (DANGER: loading one runs any code its author put in it)")
    _common(m, "ModelOnBoard")
    m.set_defaults(func=run_model)


def _common(p, default_name):
    p.add_argument("--board", required=True, help="uno, nano, mega2560, nrf52840, samd21, ... (microlearn boards)")
    p.add_argument("--out", required=True, metavar="DIR", help="the sketch goes into DIR/NAME/")
    p.add_argument("--name", default=default_name, help=f"sketch name (default {default_name})")
    p.add_argument("--platformio", action="store_true",
                   help="write a PlatformIO project (platformio.ini, src/, lib/microlearn) instead of a sketch folder")
    p.add_argument("--force", action="store_true", help="replace a sketch microlearn wrote there before")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _report(sk, args) -> int:
    if args.json:
        print(json.dumps({"folder": str(sk.folder), "ino": str(sk.ino), "kind": sk.kind, "board": sk.board,
                          "files": sk.files, "plan": sk.plan.to_dict()}))
        return 0
    print(f"wrote {sk.folder} ({len(sk.files)} files): a {sk.kind} sketch for the {sk.board}")
    for line in sk.plan.lines():
        print("  " + line)
    if sk.manifest.get("drift_note"):
        print("  drift detector: " + sk.manifest["drift_note"])
    where = sk.folder
    print(f"next: microlearn build {where} --board {sk.board}   (or open {sk.ino} in the Arduino IDE"
          + (", or `pio run` there" if args.platformio else "") + ")")
    return 0


def run_train(args) -> int:
    params = _check_options(args)
    X_tr, y_tr, X_te, y_te = load_data(args)
    if y_tr.dtype != y_te.dtype:
        y_tr, y_te = y_tr.astype(str), y_te.astype(str)
    try:
        sk = sketch_train(X_tr, y_tr, X_te, y_te, args.board, args.out, name=args.name, capacity=args.capacity,
                          platformio=args.platformio, overwrite=args.force, **params)
    except (SketchError, ValueError) as exc:
        raise CLIError(as_option(exc, TRAIN_OPTIONS)) from None
    return _report(sk, args)


def _classes(text: str) -> list:
    parts = [t.strip() for t in str(text).split(",")]
    if len(parts) == 1:
        try:
            n = int(parts[0])
        except ValueError:
            raise CLIError(f"--classes must be a number of classes or labels separated by commas, got {text!r}") from None
        if not 2 <= n <= vocab.SMO_MAX_CLASSES:     # before a list of n labels is made
            raise CLIError(f"--classes must be an integer in 2..{vocab.SMO_MAX_CLASSES} (MLRN_SMO_MAX_CLASSES on the "
                           f"device), got {n}")
        return list(range(n))
    if len(parts) > vocab.SMO_MAX_CLASSES:
        raise CLIError(f"--classes: at most {vocab.SMO_MAX_CLASSES} labels (MLRN_SMO_MAX_CLASSES), got {len(parts)}")
    if any(not t for t in parts) or len(set(parts)) != len(parts):
        raise CLIError(f"--classes: labels must be non-empty and distinct, got {text!r}")
    return [int(t) if t.lstrip("-").isdigit() else t for t in parts]


def _init_from_model(path, trust: bool, labels: list, d: int):
    try:
        est = load_model(path, trusted=trust)
    except (ModelFileError, OSError) as exc:
        raise CLIError(f"--init-model: {exc}") from None
    if type(est).__name__ != "SMOClassifier" or getattr(est, "kernel", None) != "linear" or \
            getattr(est, "storage", "float32") != "float32" or not hasattr(est, "coef_"):
        raise CLIError("--init-model must be a fitted microlearn SMOClassifier(kernel='linear', storage='float32') "
                       "(the learner's own model); for other models give --init-data rows")
    if len(est.classes_) > 2 and est.multiclass != "ovo":
        raise CLIError("--init-model: the learner votes one-vs-one; refit with multiclass='ovo'")
    if est.n_features_in_ != d:
        raise CLIError(f"--init-model has {est.n_features_in_} features, --n-features is {d}")
    try:
        idx = [labels.index(c.item() if hasattr(c, "item") else c) for c in est.classes_]
    except ValueError:
        raise CLIError(f"--init-model's classes {list(est.classes_)} are not all among --classes {labels}") from None
    if idx != sorted(idx):
        raise CLIError("--init-model's classes must come in the order of --classes")
    return np.asarray(est.coef_, np.float32), np.asarray(est.intercept_, np.float32), idx


# LearnerConfig's names -> this command's options (errors name the option the user typed)
LOOP_OPTIONS = ("n_features", *LEARNER_OPTIONS)


def _feature_range(args, d: int, init_X):
    """(lo, hi) of the int16/int8 store's affine map: --feature-range, --calib's rows, else --init-data's."""
    if args.feature_range is not None:
        parts = str(args.feature_range).split(",")
        try:
            lo, hi = (float(t) for t in parts)
        except ValueError:
            raise CLIError(f"--feature-range must be two numbers LO,HI, got {args.feature_range!r}") from None
        big = float(np.finfo(np.float32).max)     # the store's map is float32: HI - LO must be one too
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi and abs(lo) <= big and abs(hi) <= big
                and hi - lo <= big):
            raise CLIError(f"--feature-range must be finite float32 numbers with LO < HI, got {args.feature_range!r}")
        return lo, hi
    if args.calib:
        try:
            X = read_features(args.calib, d)
        except (DataError, ValueError) as exc:
            raise CLIError(f"--calib: {exc}") from None
        if not len(X):
            raise CLIError("--calib holds no rows")
        return X.min(axis=0), X.max(axis=0)
    if init_X is not None:
        return init_X.min(axis=0), init_X.max(axis=0)
    raise CLIError(f"--storage {args.storage} maps each feature's range onto the integers: give --calib CSV "
                   f"(feature rows), --feature-range LO,HI, or --init-data")


def run_loop(args) -> int:
    labels = _classes(args.classes)
    names = {o: "--" + o.replace("_", "-") for o in LOOP_OPTIONS}
    names["n_classes"] = "--classes"
    if (args.calib or args.feature_range is not None) and args.storage == "float32":
        raise CLIError("--calib / --feature-range set the int16/int8 store's mapping: give --storage int16 or int8")
    try:
        params = dict(n_features=args.n_features, n_classes=len(labels), **learner_kwargs(args))
        # every rule but the store's mapping first (a float32 stand-in), before any file is read
        cfg = LearnerConfig(**{**params, "storage": "float32"})
    except ValueError as exc:
        raise CLIError(as_option(exc, names)) from None
    if args.storage != "float32" and cfg.model == "online":
        raise CLIError("--storage: the online learner keeps float32 rows only (no store to quantise); drop --storage")
    if (args.init_model or args.init_data) and (cfg.model != "svm" or cfg.kernel != "linear"):
        what = "--init-model" if args.init_model else "--init-data"
        raise CLIError(f"{what}: a starting model is for the linear SVM learner (--model svm); the "
                       + ("online learner starts from zero weights" if cfg.model == "online" else
                          f"{cfg.kernel} learner's model is a snapshot of its own support vectors"))
    init_X = init_y = None
    if args.init_data:
        try:
            X, y, _ = read_csv(args.init_data, None, max_rows=100_000)
        except (DataError, ValueError) as exc:
            raise CLIError(f"--init-data: {exc}") from None
        if X.shape[1] != cfg.n_features:
            raise CLIError(f"--init-data has {X.shape[1]} features, --n-features is {cfg.n_features}")
        yl = [v.item() if hasattr(v, "item") else v for v in y]
        bad = sorted({str(v) for v in yl if v not in labels})
        if bad:
            raise CLIError(f"--init-data has labels not among --classes: {', '.join(bad[:5])}")
        init_X, init_y = np.asarray(X, np.float32), np.array([labels.index(v) for v in yl])
    if args.storage != "float32":
        lo, hi = _feature_range(args, cfg.n_features, init_X)
        try:
            scale, offset = affine_from_range(lo, hi, args.storage, cfg.n_features)
            cfg = LearnerConfig(**params, storage=args.storage, scale=scale, offset=offset)
        except ValueError as exc:
            raise CLIError(as_option(exc, names)) from None
    init = None
    if args.init_model:
        init = _init_from_model(args.init_model, args.trust_pickle, labels, cfg.n_features)
    elif init_X is not None:
        init = fit_static(cfg, init_X, init_y)
        if init is None:
            raise CLIError("--init-data holds fewer than two classes: no model to start from")
    try:
        sk = sketch_loop(cfg, args.board, args.out, classes=labels, init=init,
                         persist=False if args.no_persist else None, name=args.name, platformio=args.platformio,
                         overwrite=args.force, drift_fallback=args.drift is None)
    except (SketchError, ValueError) as exc:
        raise CLIError(as_option(exc, names)) from None
    return _report(sk, args)


def run_model(args) -> int:
    try:
        est = load_model(args.model, trusted=args.trust_pickle)
    except (ModelFileError, OSError) as exc:
        raise CLIError(str(exc)) from None
    calib = None
    if args.calib:
        try:
            calib = read_features(args.calib)
        except (DataError, ValueError) as exc:
            raise CLIError(f"--calib: {exc}") from None
    try:
        sk = sketch_model(est, args.board, args.out, name=args.name, dtype=args.dtype, calib_X=calib,
                          platformio=args.platformio, overwrite=args.force)
    except (SketchError, UnsupportedModel, ValueError) as exc:
        raise CLIError(str(exc)) from None
    return _report(sk, args)
