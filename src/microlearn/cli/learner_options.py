"""The self-learning loop's options, shared by `microlearn loop` and `microlearn sketch loop` (one declaration:
the same names, defaults, choices and help in both), and the LearnerConfig keyword arguments they give."""
from __future__ import annotations

from microlearn.core import vocab
from microlearn.learner.config import LEARNER_KERNELS, MODEL_CHOICES, resolve_model

# LearnerConfig's names of the options below (error messages name the option the user typed: cli.as_option)
LEARNER_OPTIONS = ("capacity", "holdout_every", "store", "replace", "k_mistakes", "trigger_window", "err_pct",
                   "drift_pct", "model", "kernel", "gamma", "degree", "coef0", "drift", "ddm_min_rows",
                   "ddm_warn_k10", "ddm_drift_k10", "margin_pct", "budget", "queue", "storage", "C", "tol",
                   "max_iter", "seed")


def add_learner_options(p, *, capacity_help: str, budget_help: str, storage_help: str) -> None:
    """The learner's options on parser p; the three helps say what differs between the commands."""
    p.add_argument("--capacity", type=int, default=60, help=capacity_help)
    p.add_argument("--holdout-every", type=int, default=4, help="every k-th stored sample is held out (0: none)")
    p.add_argument("--store", default="all", choices=sorted(vocab.STORE_POLICIES),
                   help="store every sample (default) or only the ones the model got wrong (SVM learner)")
    p.add_argument("--replace", default="fifo", choices=sorted(vocab.REPLACE_POLICIES))
    p.add_argument("--k-mistakes", type=int, default=5, help="retrain after k mistakes (0: off)")
    p.add_argument("--trigger-window", type=int, default=20, help="sliding window of the error-rate trigger")
    p.add_argument("--err-pct", type=int, default=30, help="retrain when the window's error rate exceeds this %%")
    p.add_argument("--drift-pct", type=int, default=40,
                   help="--drift window: drift when the trigger window's error rate exceeds this %%: the stores keep "
                        "only the samples of that window (0: off)")
    p.add_argument("--model", default="svm", choices=list(MODEL_CHOICES),
                   help="the learner: svm (the SVM loop, mlrn_learner.h; default), svm-rbf / svm-poly (the SVM loop "
                        "with that kernel: --model svm --kernel rbf / poly) or online (Passive-Aggressive II, "
                        "one-vs-rest, mlrn_online.h: no training store, for the smallest parts; --capacity is then "
                        "its held-out rows)")
    p.add_argument("--kernel", choices=list(LEARNER_KERNELS),
                   help="the SVM learner's kernel (default linear; MLRN_LEARNER_KERNEL): rbf and poly keep the "
                        "accepted model as a snapshot of its support vectors (up to the training capacity's rows, "
                        "in the store's element type); no warm starts or initial model with them "
                        "(docs/self-learning.md \"Kernel learners\")")
    p.add_argument("--gamma", type=float, default=1.0, help="rbf / poly: the kernel's gamma (default 1.0)")
    p.add_argument("--degree", type=int, default=3, help="poly: the degree (default 3)")
    p.add_argument("--coef0", type=float, default=0.0, help="poly: coef0 (default 0.0)")
    p.add_argument("--drift", choices=sorted(vocab.DRIFT_DETECTORS),
                   help="drift detector: ddm (default: the model's error since it was accepted against its best, "
                        "with a warning level; no false alarms on noise, slower detection, ~22 B of SRAM and its "
                        "code) or window (--drift-pct over the trigger window). Without --drift a board whose "
                        "memory holds the window's build but not DDM's gets the window detector, and the output "
                        "says so")
    p.add_argument("--ddm-min-rows", type=int, default=vocab.DDM_MIN_ROWS,
                   help=f"ddm: rows of the current model before it is judged (default {vocab.DDM_MIN_ROWS})")
    p.add_argument("--ddm-warn-k10", type=int, default=vocab.DDM_WARN_K10,
                   help=f"ddm: warning at p_min + k/10 s_min (default {vocab.DDM_WARN_K10})")
    p.add_argument("--ddm-drift-k10", type=int, default=vocab.DDM_DRIFT_K10,
                   help=f"ddm: drift at p_min + k/10 s_min (default {vocab.DDM_DRIFT_K10})")
    p.add_argument("--margin-pct", type=int, default=0, help="accept a candidate at most this many points worse")
    p.add_argument("--budget", type=int, default=0, help=budget_help)
    p.add_argument("--queue", type=int, default=8, help="samples queued while training")
    p.add_argument("--storage", default="float32", choices=list(vocab.STORAGES), help=storage_help)
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--max-iter", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)


def learner_kwargs(args) -> dict:
    """LearnerConfig's keyword arguments from the options (model and kernel resolved: ValueError, one line, when
    they contradict); storage is left to the caller (a quantised store needs its feature ranges)."""
    model, kernel = resolve_model(args.model, args.kernel)
    kw = {o: getattr(args, o) for o in LEARNER_OPTIONS if o not in ("model", "kernel", "drift", "storage")}
    kw.update(model=model, kernel=kernel)
    if args.drift:
        kw["drift"] = args.drift
    return kw
