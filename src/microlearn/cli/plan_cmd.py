"""`microlearn plan`: will a training configuration fit a board? (no toolchain needed)"""
from __future__ import annotations

import json

from .main import CLIError


def register(sub):
    p = sub.add_parser("plan", help="predict flash and SRAM of training on a board, and whether it fits",
                       description="Predicts the flash, the static SRAM by buffer, the stack and the total SRAM of "
                                   "training this configuration on the board (microlearn's train program), whether "
                                   "it fits, and the largest capacity that fits for each storage type. Uses the "
                                   "calibrated per-board constants: no toolchain is needed.")
    p.add_argument("--board", required=True, help="a board (see `microlearn boards`)")
    p.add_argument("--n-features", type=int, required=True)
    p.add_argument("--capacity", type=int, required=True, help="training samples the device stores")
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--kernel", default="linear", choices=["linear", "rbf", "poly", "sigmoid"])
    p.add_argument("--storage", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--solver", default="wss2", choices=["wss2", "simplified"])
    p.add_argument("--multiclass", default="ovo", choices=["ovo", "ovr"])
    p.add_argument("--stack-reserve", type=int, help="bytes kept free for the stack (default: the board's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..boards.planner import plan
    from ..boards.registry import UnknownBoard
    try:
        p = plan(args.board, args.n_features, args.capacity, args.classes, kernel=args.kernel,
                 storage=args.storage, solver=args.solver, multiclass=args.multiclass,
                 stack_reserve_bytes=args.stack_reserve)
    except UnknownBoard as exc:
        raise CLIError(str(exc)) from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        d = p.to_dict()
        if not p.fits:
            d["suggestions"] = p.suggestions()
        print(json.dumps(d))
    else:
        print(p.summary())
        if not p.fits:
            for s in p.suggestions():
                print("  what fits: " + s)
    return 0 if p.fits else 1
