"""The learner's configuration: everything that fixes a self-learning loop's code, memory and
behaviour (the C mlrn_learner_params and the buffer sizes), checked as mlrn_learner_init would check it,
and the options of its reports."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from microlearn.core import vocab
from microlearn.trainer import reference as _solvers


# The SVM learner's kernels (MLRN_LEARNER_KERNEL in mlrn_learner.h): sigmoid is the trainer's only (not positive
# semi-definite: nothing for a loop that must converge on whatever the store holds).
LEARNER_KERNELS = ("linear", "rbf", "poly")


@dataclass
class LearnerConfig:
    """Everything that fixes a learner's behaviour (the C mlrn_learner_params + sizes)."""
    n_features: int
    n_classes: int
    model: str = "svm"            # "svm" (mlrn_learner.h) | "online" (mlrn_online.h: PA-II, capacity = held-out rows)
    capacity: int = 60            # samples in total (training + held-out stores)
    holdout_every: int = 4        # every k-th stored sample is held out (0: none)
    store: str = "all"            # "all" | "mistakes"
    replace: str = "fifo"         # "fifo" | "reservoir" | "balanced"
    k_mistakes: int = 5
    trigger_window: int = 20
    err_pct: int = 30
    drift_pct: int = 40           # drift "window": the last trigger_window outcomes hold > drift_pct % errors (0: off)
    drift: str = "ddm"            # the drift detector: "ddm" (mlrn_drift.h; the default, chosen on river's streams:
                                  # docs/self-learning.md "Which detector by default") or "window" (drift_pct)
    ddm_min_rows: int = vocab.DDM_MIN_ROWS    # DDM judges after this many rows of the current model
    ddm_warn_k10: int = vocab.DDM_WARN_K10    # DDM warning at p_min + k/10 s_min
    ddm_drift_k10: int = vocab.DDM_DRIFT_K10  # DDM drift at p_min + k/10 s_min
    margin_pct: int = 0
    queue: int = 8 
    budget: int = 0               # SMO iterations per step call (0: train to completion)
    seed: int = 1
    C: float = 1.0
    tol: float = 1e-3
    max_iter: int = 2000
    storage: str = "float32"      # "float32" | "int16" | "int8" (affine, see mlrn_store.h)
    scale: object = None          # float32 per feature (quantised storage)
    offset: object = None
    warm: bool = False            # warm-started retraining (MLRN_LEARNER_WARM: docs/self-learning.md "Warm starts")
    kernel: str = "linear"        # the SVM learner's kernel (MLRN_LEARNER_KERNEL): "linear" | "rbf" | "poly"
    gamma: float = 1.0            # rbf / poly: the trainer's kernel parameters (trainer/config.py's names)
    degree: int = 3               # poly
    coef0: float = 0.0            # poly

    def __post_init__(self):
        """Refuse what mlrn_learner_init would refuse (MLRN_ERR_ARG) or what does not fit the C types of
        mlrn_learner_params and the buffer sizes (uint16), before anything is built or simulated."""
        I = _solvers.check_int
        I("n_features", self.n_features, 1, vocab.MAX_FEATURES, "uint16 d")
        I("n_classes", self.n_classes, 2, vocab.SMO_MAX_CLASSES, "MLRN_SMO_MAX_CLASSES")
        if self.model not in vocab.LEARNER_MODELS:
            raise ValueError(f"model must be one of {list(vocab.LEARNER_MODELS)}, got {self.model!r}")
        if self.model == "online" and self.storage != "float32":
            raise ValueError("the online learner keeps float32 rows only (storage float32)")
        if not isinstance(self.warm, (bool, np.bool_)):
            raise ValueError(f"warm must be True or False, got {self.warm!r}")
        self.warm = bool(self.warm)
        if self.warm and self.model != "svm":
            raise ValueError(f"warm starts are for the SVM learner (--model svm): the {self.model} learner has no "
                             f"solver to start warm")
        if not isinstance(self.kernel, str) or self.kernel not in LEARNER_KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(LEARNER_KERNELS)} (the SVM learner's kernels), "
                             f"got {self.kernel!r}")
        if self.kernel != "linear":
            if self.model != "svm":
                raise ValueError(f"kernel {self.kernel!r} is for the SVM learner (--model svm); the {self.model} "
                                 f"learner is linear")
            if self.warm:
                raise ValueError("warm starts are for the linear SVM learner (the trainer starts only the linear "
                                 "kernel warm): drop --warm or use kernel 'linear'")
        _solvers.check_params(gamma=self.gamma, degree=self.degree, coef0=self.coef0)
        if self.storage not in vocab.STORAGES:
            raise ValueError("storage must be float32, int16 or int8")
        if self.store not in vocab.STORE_POLICIES:
            raise ValueError(f"store must be one of {sorted(vocab.STORE_POLICIES)}")
        if self.replace not in vocab.REPLACE_POLICIES:
            raise ValueError(f"replace must be one of {sorted(vocab.REPLACE_POLICIES)}")
        I("holdout_every", self.holdout_every, 0, _solvers.U8, "uint8")
        if self.holdout_every == 1:
            raise ValueError("holdout_every must be 0 (no held-out store) or >= 2, got 1")
        lo = (1 if self.model == "online" else max(3, self.holdout_every) if self.holdout_every else 2)
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, numbers.Integral) or \
                not lo <= self.capacity <= vocab.MAX_CAPACITY:
            raise ValueError(f"capacity must be an integer in {lo}..{vocab.MAX_CAPACITY:,} (uint16 stores; at "
                             f"least 2 training samples" + (f" and 1 held out with holdout_every "
                                                            f"{self.holdout_every}" if self.holdout_every else "")
                             + f"), got {self.capacity!r}")
        if self.hold_capacity == 0 and self.holdout_every:
            raise ValueError("capacity too small for a held-out store")
        if self.train_capacity < 2 and self.model == "svm":
            raise ValueError("capacity too small")
        for name, ctype in (("k_mistakes", "uint16"), ("trigger_window", "uint16"), ("queue", "uint16")):
            I(name, getattr(self, name), 0, _solvers.U16, ctype)
        for name in ("err_pct", "margin_pct", "drift_pct"):
            I(name, getattr(self, name), 0, 100, "uint8 percent")
        if self.drift not in vocab.DRIFT_DETECTORS:
            raise ValueError(f"drift must be one of {sorted(vocab.DRIFT_DETECTORS)}, got {self.drift!r}")
        I("ddm_min_rows", self.ddm_min_rows, 1, _solvers.U16, "uint16")
        I("ddm_warn_k10", self.ddm_warn_k10, 11, _solvers.U8, "uint8, tenths of s_min, over 10")
        I("ddm_drift_k10", self.ddm_drift_k10, self.ddm_warn_k10, _solvers.U8,
          "uint8, tenths of s_min, at least ddm_warn_k10")
        I("budget", self.budget, 0, _solvers.U32, "uint32")
        I("seed", self.seed, 0, _solvers.U32, "uint32")
        _solvers.check_params(C=self.C, tol=self.tol, max_iter=self.max_iter)
        if self.storage != "float32":
            if self.scale is None or self.offset is None:
                raise ValueError("int16/int8 storage needs scale and offset (see affine_from_range)")
            self.scale = np.asarray(self.scale, np.float32)
            self.offset = np.asarray(self.offset, np.float32)

    @property
    def hold_capacity(self) -> int:
        if self.model == "online":   # the online learner stores held-out rows only
            return self.capacity if self.holdout_every else 0
        return self.capacity // self.holdout_every if self.holdout_every else 0

    @property
    def train_capacity(self) -> int:
        return 0 if self.model == "online" else self.capacity - self.hold_capacity

    @property
    def params(self) -> _solvers.Params:
        return _solvers.Params.make(C=self.C, tol=self.tol, max_iter=self.max_iter, kernel=self.kernel,
                                    gamma=self.gamma, degree=self.degree, coef0=self.coef0)


# `--model` names of the command line: the SVM learner with its kernel (svm-rbf: `--model svm --kernel rbf`)
MODEL_CHOICES = ("svm", "svm-rbf", "svm-poly", "online")


def resolve_model(model, kernel=None) -> tuple[str, str]:
    """(model, kernel) from the command line's --model (svm, svm-rbf, svm-poly, online) and --kernel (None: the
    model's, else linear); one line when they disagree."""
    if model not in MODEL_CHOICES:
        raise ValueError(f"model must be one of {', '.join(MODEL_CHOICES)}, got {model!r}")
    base, _, implied = model.partition("-")
    if implied and kernel is not None and kernel != implied:
        raise ValueError(f"--model {model} is the SVM learner with the {implied} kernel: it contradicts --kernel "
                         f"{kernel} (give one of them)")
    return base, implied or kernel or "linear"


def check_window(window, static_rows=None):
    """The report's options: window (rows per accuracy window) >= 1, static_rows >= 1 when given."""
    for name, v in (("window", window), ("static_rows", static_rows)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
