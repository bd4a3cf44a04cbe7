"""`microlearn plan`: will a training configuration, or with --learner the self-learning loop, fit a
board? (no toolchain needed)"""
from __future__ import annotations

import json

from microlearn.boards.registry import UnknownBoard
from microlearn.core import vocab
from microlearn.learner.config import MODEL_CHOICES, resolve_model
from microlearn.learner.planner import plan_learner, window_note
from microlearn.trainer.planner import choose_arith, plan

from . import CheckFailed, CLIError, as_option


def register(sub):
    p = sub.add_parser("plan", help="predict flash and SRAM of training on a board, and whether it fits",
                       description="Predicts the flash, the static SRAM by buffer, the stack and the total SRAM of "
                                   "training this configuration on the board (microlearn's train program), whether "
                                   "it fits, and the largest capacity that fits for each storage type. Uses the "
                                   "calibrated per-board constants: no toolchain is needed. With --learner: the "
                                   "self-learning loop (mlrn_learner, what `microlearn loop --target BOARD` builds); "
                                   "--capacity is then training + held-out samples.")
    p.add_argument("--board", required=True, help="a board (see `microlearn boards`)")
    p.add_argument("--n-features", type=int, required=True)
    p.add_argument("--capacity", type=int, required=True, help="training samples the device stores")
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--kernel", choices=["linear", "rbf", "poly", "sigmoid"], help="default linear")
    p.add_argument("--storage", default="float32", choices=["float32", "int16", "int8"])
    p.add_argument("--solver", choices=list(vocab.SOLVERS), help="default wss2 (dcd: linear kernel only)")
    p.add_argument("--multiclass", choices=["ovo", "ovr"], help="default ovo")
    p.add_argument("--data-in", choices=list(vocab.DATA_IN),
                   help="where the samples live (trainer): ram (default), flash (SRAM = alphas, gradients and "
                        "buffers, no rows; flash = code + the rows table) or callback (the application reads "
                        "each row; SRAM adds a two-row code buffer)")
    p.add_argument("--cache-cols", type=int, metavar="N",
                   help="kernel columns cached by wss2 with rbf/poly/sigmoid (default: the most that fit in the SRAM "
                        "left after the trainer's buffers and stack; 0 for none)")
    p.add_argument("--arith", choices=["auto", "float", "fixed"],
                   help="int8 wss2, linear or rbf: 'fixed' counts fixed point's code (MLRN_SMO_FIXED); 'auto' "
                        "(default) as `microlearn train` chooses: fixed point on boards without an FPU where it fits")
    p.add_argument("--stack-reserve", type=int, help="bytes kept free for the stack (default: the board's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    g = p.add_argument_group("self-learning loop (--learner; the same options as `microlearn loop`)")
    g.add_argument("--learner", action="store_true",
                   help="plan the self-learning loop (wss2, one-vs-one; --kernel linear, rbf or poly: the kernel "
                        "learners keep a snapshot of their support vectors) instead of the trainer")
    g.add_argument("--holdout-every", type=int, help="every k-th stored sample is held out (0: none; default 4)")
    g.add_argument("--queue", type=int, help="samples queued while training (default 8)")
    g.add_argument("--trigger-window", type=int, help="sliding window of the error-rate trigger (default 20)")
    g.add_argument("--store", choices=["all", "mistakes"], help="store policy (no effect on memory)")
    g.add_argument("--replace", choices=["fifo", "reservoir", "balanced"], help="replacement (no effect on memory)")
    g.add_argument("--model", choices=list(MODEL_CHOICES),
                   help="the learner: svm (default), svm-rbf / svm-poly (the SVM loop with that kernel, as --kernel "
                        "rbf / poly) or online (PA-II, no training store; --capacity is then its held-out rows)")
    g.add_argument("--drift", choices=["ddm", "window"],
                   help="the drift detector: ddm (default, as `microlearn loop`) or window (no DDM code or state)")
    g.add_argument("--persist", choices=["model", "all"],
                   help="the program saves and loads the model (save) or model + stores + state (save_all)")
    g.add_argument("--other-static", type=int, metavar="BYTES",
                   help="static data of your program around the learner (e.g. an Arduino core with Serial), "
                        "instead of microlearn's stream driver")
    p.set_defaults(func=run)


OPTIONS = {"n_features": "--n-features", "capacity": "--capacity", "classes": "--classes", "n_classes": "--classes",
           "stack_reserve_bytes": "--stack-reserve", "data_in": "--data-in", "cache_cols": "--cache-cols",
           "other_static_bytes": "--other-static",
           "holdout_every": "--holdout-every", "queue": "--queue", "trigger_window": "--trigger-window"}
LEARNER_ONLY = ("holdout_every", "queue", "trigger_window", "store", "replace", "model", "drift", "persist",
                "other_static")
TRAINER_ONLY = ("solver", "multiclass", "data_in", "cache_cols", "arith")


def _plan(args):
    """The trainer's or the learner's plan; options of the other one are a usage error."""
    if args.learner:
        wrong = [o for o in TRAINER_ONLY if getattr(args, o) not in (None, {"solver": "wss2", "multiclass": "ovo",
                                                                            "data_in": "ram", "cache_cols": 0,
                                                                            "arith": "float"}[o])]
        if wrong == ["data_in"]:
            raise CLIError("the self-learning loop keeps its samples in RAM (it adds them as they arrive): "
                           "drop --data-in")
        if wrong:
            raise CLIError("the self-learning loop trains with wss2, one-vs-one, without a kernel cache, in float32: drop --" +
                           ", --".join(o.replace("_", "-") for o in wrong))
        opts = {o: getattr(args, o) for o in LEARNER_ONLY[:-2] if getattr(args, o) is not None}
        if args.model is not None or args.kernel is not None:   # --model svm-rbf is --kernel rbf
            opts["model"], opts["kernel"] = resolve_model(args.model or "svm", args.kernel)

        def learner(**more):
            return plan_learner(args.board, args.n_features, args.capacity, args.classes, storage=args.storage,
                                stack_reserve_bytes=args.stack_reserve, other_static_bytes=args.other_static,
                                persist=args.persist, **opts, **more)
        p = learner()
        if args.drift is None and not p.fits and p.options.get("drift") == "ddm" and p.options.get("model") == "svm":
            # as `microlearn loop` and `sketch loop`: the default detector (DDM) where its build fits, else the
            # window's where that fits, said
            w = learner(drift="window")
            if w.fits:
                w.drift_note = window_note(p)
                return w
        return p
    wrong = [o for o in LEARNER_ONLY if getattr(args, o) is not None]
    if wrong:
        raise CLIError("--" + ", --".join(o.replace("_", "-") for o in wrong) + " apply to --learner only")
    kw = dict(kernel=args.kernel or "linear", storage=args.storage, solver=args.solver or "wss2",
              multiclass=args.multiclass or "ovo", data_in=args.data_in or "ram")
    arith, note = choose_arith(args.arith or "auto", args.board, args.n_features, args.capacity, args.classes, **kw)
    p = plan(args.board, args.n_features, args.capacity, args.classes, stack_reserve_bytes=args.stack_reserve,
             cache_cols=args.cache_cols, arith=arith, **kw)
    if note:
        p.notes.append(note)
    return p


def run(args) -> int:
    try:
        p = _plan(args)
    except UnknownBoard as exc:
        raise CLIError(str(exc)) from None
    except ValueError as exc:
        raise CLIError(as_option(exc, OPTIONS)) from None
    also = p.alternatives() if args.learner else []   # small boards: the online learner + DDM, with the evidence
    if args.json:
        d = p.to_dict()
        if not p.fits:
            d["suggestions"] = p.suggestions()
        if args.learner:
            d["alternatives"] = also
        print(json.dumps(d))
    else:
        print(p.summary())
        if getattr(p, "drift_note", None):
            print("  drift detector: " + p.drift_note)
        if not p.fits:
            for s in p.suggestions():
                print("  what fits: " + s)
        for s in also:
            print("  also for this board: " + s)
    if not p.fits:
        what = {"static": "static SRAM", "sram": "SRAM with the stack", "flash": "flash"}
        over = ", ".join(f"{what.get(k, k)} over by {v:,} B" for k, v in p.over.items())
        raise CheckFailed(f"does not fit the {p.board}: {over} (see the plan)")
    return 0
