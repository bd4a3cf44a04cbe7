"""`microlearn export MODEL.pkl -o model.h --name NAME [--dtype float32|int16|int8] [--calib train.csv]
[--check data.csv] [--tree-layout auto|table|rank|code]`."""
from __future__ import annotations

import pickle
from pathlib import Path


def register(sub):
    p = sub.add_parser("export", help="fitted scikit-learn / microlearn model (pickle or joblib) -> C header")
    p.add_argument("model", help="MODEL.pkl or MODEL.joblib")
    p.add_argument("-o", "--output", default=None, help="header path (default: NAME.h)")
    p.add_argument("--name", default="model", help="C prefix of everything the header defines")
    p.add_argument("--dtype", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--check", default=None, help="CSV of feature rows: report the agreement with the model")
    p.add_argument("--calib", default=None,
                   help="CSV of training rows (raw inputs): calibration of the int16/int8 input quantization "
                        "(default: --check, else the Pipeline's scaler / the model's own statistics)")
    p.add_argument("--tree-layout", default="auto", choices=["auto", "table", "rank", "code"],
                   help="forests: node tables (least flash), rank or code (fewer cycles); auto picks")
    p.set_defaults(func=run)


def run(args):
    from microlearn.codegen.export import UnsupportedModel, export
    from .main import CLIError
    path = Path(args.model)
    if not path.exists():
        raise CLIError(f"{path}: no such file")
    if path.suffix == ".joblib":
        import joblib
        est = joblib.load(path)
    else:
        with open(path, "rb") as f:
            est = pickle.load(f)
    import numpy as np
    check_X = calib_X = None
    if args.check:
        check_X = np.loadtxt(args.check, delimiter=",", dtype=np.float32, ndmin=2)
    if getattr(args, "calib", None):
        calib_X = np.loadtxt(args.calib, delimiter=",", dtype=np.float32, ndmin=2)
    out = Path(args.output or f"{args.name}.h")
    try:
        rep = export(est, out, name=args.name, dtype=args.dtype, check_X=check_X, calib_X=calib_X,
                     tree_layout=getattr(args, "tree_layout", "auto"))
    except (UnsupportedModel, ValueError, NotImplementedError) as exc:
        raise CLIError(str(exc)) from exc
    print(f"wrote {out}: {rep}")
    return 0
