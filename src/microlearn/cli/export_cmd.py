"""`microlearn export MODEL.skops -o model.h --name NAME [--dtype float32|int16|int8] [--calib train.csv]
[--check data.csv [--target host|uno|nrf52840|...]] [--tree-layout auto|table|rank|code] [--trust-pickle]`.

Classifiers: --check reports the agreement with the model's predict. Regressors: the largest absolute and
relative error against the model's predict (float64), and with --target whether the device's values equal
the exporter's float32 mirror bit for bit."""
from __future__ import annotations

from pathlib import Path

from microlearn.data.datasets import DataError, read_features
from microlearn.exporter import REGRESSION_REL_BOUND, UnsupportedModel, export
from microlearn.exporter.model_io import ModelFileError, load_model

from . import CheckFailed, CLIError


def register(sub):
    p = sub.add_parser("export", help="fitted scikit-learn / microlearn model (skops file) -> C header",
                       description="Model files are untrusted input: a .skops file is read with only the types "
                                   "an export needs; pickle and joblib files run code when they are loaded, so "
                                   "they are read only with --trust-pickle. Convert a model once where it was "
                                   "trained: microlearn.save_model(model, 'model.skops').")
    p.add_argument("model", help="MODEL.skops (or a pickle/joblib file with --trust-pickle)")
    p.add_argument("-o", "--output", default=None, help="header path (default: NAME.h)")
    p.add_argument("--name", default="model", help="C prefix of everything the header defines")
    p.add_argument("--dtype", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--check", default=None,
                   help="CSV of feature rows (header row optional): report the agreement with the model; "
                        "exit status 1 when a float32 export does not agree on every row")
    p.add_argument("--target", default=None,
                   help="with --check: also build the header for this target (host, uno, nrf52840, ...), run "
                        "the check rows on it and compare its outputs")
    p.add_argument("--calib", default=None,
                   help="CSV of training rows (raw inputs, header row optional): calibration of the int16/int8 "
                        "input quantization (default: --check, else the Pipeline's scaler / the model's own "
                        "statistics)")
    p.add_argument("--tree-layout", default="auto", choices=["auto", "table", "rank", "code"],
                   help="forests: node tables (least flash), rank or code (fewer cycles); auto picks")
    p.add_argument("--trust-pickle", action="store_true",
                   help="also read pickle/joblib files. DANGER: loading one runs any code its author put in "
                        "it; use only for files you made yourself")
    p.set_defaults(func=run)


def run(args):
    try:
        est = load_model(args.model, trusted=args.trust_pickle)
    except ModelFileError as exc:
        raise CLIError(str(exc)) from None
    n = getattr(est, "n_features_in_", None)
    if n is None and hasattr(est, "steps"):
        n = getattr(est.steps[0][1], "n_features_in_", None)
    if n is None or not hasattr(est, "predict"):
        raise CLIError(f"{args.model}: not a fitted scikit-learn model ({type(est).__name__})")
    check_X = calib_X = None
    try:
        if args.check:
            check_X = read_features(args.check, int(n))
        if args.calib:
            calib_X = read_features(args.calib, int(n))
    except DataError as exc:
        raise CLIError(str(exc)) from None
    out = Path(args.output or f"{args.name}.h")
    try:
        rep = export(est, out, name=args.name, dtype=args.dtype, check_X=check_X, calib_X=calib_X,
                     tree_layout=args.tree_layout, target=args.target if check_X is not None else None)
    except (UnsupportedModel, ValueError, NotImplementedError) as exc:
        raise CLIError(str(exc)) from None
    print(f"wrote {out}: {rep}")
    if rep.n_outputs:
        if rep.bit_exact is False:
            raise CheckFailed(f"on {args.target}, the C's values differ from the exporter's float32 mirror")
        if rep.within_bound is False:
            raise CheckFailed(f"the float32 header's values are not within {REGRESSION_REL_BOUND:g} of the "
                              f"model's (relative to max(|y|, rms(y))) on the {rep.n_checked} --check rows: "
                              f"max abs error {rep.max_abs_error:.3g}, max rel error {rep.max_rel_error:.3g}")
        return 0
    if args.dtype == "float32" and rep.agreement is not None and rep.agreement < 1.0:
        raise CheckFailed(f"the float32 header predicts like the model on {rep.agreement:.1%} of the "
                          f"{rep.n_checked} --check rows, not all (rows {rep.disagreements[:10]})")
    return 0
