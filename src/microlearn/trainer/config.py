"""The trainer's configuration: everything that fixes a device trainer's code and memory (sizes,
solver parameters, the storage map), checked as mlrn_smo_init would check it, before any C is written."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microlearn.core import store as _store, vocab

from . import reference as _solvers


@dataclass
class TrainerConfig:
    """Everything that fixes a device trainer's code and memory."""
    n_features: int
    capacity: int
    n_classes: int
    params: _solvers.Params
    storage: str = "float32"
    scale: np.ndarray | None = None     # float32 per feature (quantised storage)
    offset: np.ndarray | None = None
    classes: list = field(default_factory=list)
    data_in: str = "ram"                # where the samples live: ram | flash | callback (MLRN_STORE_SOURCE)
    cache_cols: int = 0                 # kernel columns cached (MLRN_SMO_CACHE, mlrn_smo_set_cache): 0 = none

    def __post_init__(self):
        check_data_in(self.data_in)
        check_cache_cols(self.cache_cols, self.capacity, self.params.kernel, self.params.solver)
        if not 1 <= self.n_features <= vocab.MAX_FEATURES:
            raise ValueError(f"n_features must be in 1..{vocab.MAX_FEATURES}, got {self.n_features}")
        if not 2 <= self.capacity <= vocab.MAX_CAPACITY:
            raise ValueError(f"capacity must be in 2..{vocab.MAX_CAPACITY}, got {self.capacity}")
        if not 2 <= self.n_classes <= vocab.MAX_CLASSES:
            raise ValueError(f"n_classes must be in 2..{vocab.MAX_CLASSES}, got {self.n_classes}")
        _solvers.check_params(storage=self.storage, kernel=self.params.kernel)
        _solvers.check_arith(self.params.arith, solver=self.params.solver, kernel=self.params.kernel,
                             storage=self.storage, n_features=self.n_features)
        if self.storage != "float32" and (self.scale is None or self.offset is None):
            raise ValueError("int16/int8 storage needs feature_range (or scale and offset)")

    @property
    def work_floats(self) -> int:
        """mlrn_smo_work_floats for this configuration."""
        p = self.params
        return vocab.smo_work_floats(self.capacity, self.n_features, self.n_classes, self.storage, p.kernel,
                                     p.solver, p.multiclass, self.data_in)

    def buffers(self) -> dict[str, int]:
        """Bytes of each static SRAM buffer by its C name suffix (NAME_<suffix>). RAM: the samples, their labels
        and the work array; flash: the work array only (its scratch rows take the rows the solver works on);
        callback: the work array and the code buffer (two rows of codes, quantised storage)."""
        cache = {"cache": self.cache_bytes} if self.cache_cols else {}
        if self.data_in == "flash":
            return {"work": self.work_floats * 4, **cache}
        if self.data_in == "callback":
            # the header's NAME_codes array: at least 1 byte (C has no empty arrays; float32 needs none)
            return {"codes": max(vocab.store_codes_size(self.n_features, self.storage), 1), "work": self.work_floats * 4,
                    **cache}
        return {
            "data": vocab.store_data_size(self.capacity, self.n_features, self.storage),
            "labels": self.capacity,
            "work": self.work_floats * 4,
            **cache,
        }

    @property
    def cache_bytes(self) -> int:
        """Bytes of the NAME_cache array (0 without a cache): MLRN_SMO_CACHE_FLOATS(cache_cols, capacity) floats."""
        return 4 * vocab.smo_cache_floats(self.cache_cols, self.capacity) if self.cache_cols else 0

    def flash_tables(self) -> dict[str, int]:
        """Bytes of the header's const tables: the quantisation map and, with data_in='flash', the rows and
        their labels (NAME_rows, NAME_row_labels)."""
        out = {"scale": 4 * self.n_features, "offset": 4 * self.n_features} if self.storage != "float32" else {}
        if self.data_in == "flash":
            out["rows"] = vocab.store_data_size(self.capacity, self.n_features, self.storage)
            out["row_labels"] = self.capacity
        return out


def ovo_refusal(n_classes: int) -> str:
    """The one line for one-vs-one with too many classes."""
    return (f"{n_classes} classes with multiclass='ovo': one-vs-one trains n(n-1)/2 = "
            f"{n_classes * (n_classes - 1) // 2:,} sub-problems (quadratic in the classes); microlearn takes ovo up "
            f"to {vocab.SMO_OVO_MAX_CLASSES} classes: use multiclass='ovr' (--multiclass ovr), linear in the classes")


def check_cache_cols(cache_cols, capacity: int, kernel: str, solver: str) -> int:
    """One clear line for a kernel-column count the trainer cannot take: an integer, 0 (no cache) or
    2..min(255, capacity) (mlrn_smo_set_cache: the update holds two columns; a slot number is a uint8; more columns
    than samples are never used), and a non-zero count only where the cache serves (wss2, non-linear kernel)."""
    top = min(vocab.SMO_CACHE_MAX_COLS, int(capacity))
    if isinstance(cache_cols, bool) or not isinstance(cache_cols, (int, np.integer)) or not (
            cache_cols == 0 or vocab.SMO_CACHE_MIN_COLS <= cache_cols <= top):
        raise ValueError(f"cache_cols must be 0 (no cache) or an integer in {vocab.SMO_CACHE_MIN_COLS}..{top} "
                         f"(kernel columns of {capacity} floats), got {cache_cols!r}")
    if cache_cols and not vocab.cache_applies(kernel, solver):
        raise ValueError(f"cache_cols applies to the wss2 solver with a non-linear kernel (the kernel-column cache), "
                         f"not kernel {kernel!r} with solver {solver!r}: leave it out or give 0")
    return int(cache_cols)


def check_data_in(data_in) -> str:
    """One clear line for anything but ram, flash or callback."""
    if not isinstance(data_in, str) or data_in not in vocab.DATA_IN:
        raise ValueError(f"data_in must be one of {', '.join(vocab.DATA_IN)}, got {data_in!r}")
    return data_in


def resolve_arith(arith, board, *, solver: str, kernel: str, storage: str, n_features: int) -> str:
    """'auto' (the default of `microlearn train`): 'fixed' where MLRN_SMO_FIXED applies (wss2, linear or rbf, int8,
    2..512 features) on a board without an FPU, where a float multiply-add is a library call; 'float' on the host
    (board None) and FPU boards. 'float' and 'fixed' are checked and kept. (planner.choose_arith adds the flash
    check.)"""
    if arith == "auto":
        return "fixed" if (board is not None and not board.fpu and 2 <= n_features <= _solvers.FX_MAX_D
                           and _solvers.fixed_supported(solver=solver, kernel=kernel, storage=storage)) else "float"
    _solvers.check_arith(arith, solver=solver, kernel=kernel, storage=storage, n_features=n_features)
    return arith


def config_from_estimator(est, capacity: int, data_in: str = "ram", cache_cols: int = 0) -> TrainerConfig:
    """The device configuration that reproduces a fitted SMOClassifier's training (same params, storage map).
    cache_cols: kernel columns to cache (the same training, bit for bit; only faster)."""
    return TrainerConfig(n_features=est.n_features_in_, capacity=int(capacity), n_classes=len(est.classes_),
                         params=est.device_params(), storage=est.storage, scale=getattr(est, "scale_", None),
                         offset=getattr(est, "offset_", None), classes=list(est.classes_), data_in=data_in,
                         cache_cols=cache_cols)


def make_config(*, n_features, capacity, classes, kernel="linear", C=1.0, gamma=1.0, degree=3, coef0=0.0, tol=1e-3,
                max_iter=100000, solver="wss2", max_passes=10, alpha_tol=1e-7, multiclass="ovo", seed=0,
                storage="float32", feature_range=None, scale=None, offset=None, loss="hinge",
                data_in="ram", cache_cols=0, arith="float") -> TrainerConfig:
    classes = list(classes) if not isinstance(classes, int) else list(range(classes))
    # Refuse what the device's mlrn_smo_init would refuse, before any C is written.
    _solvers.check_params(C=C, gamma=gamma, degree=degree, coef0=coef0, tol=tol, max_iter=max_iter,
                          max_passes=max_passes, alpha_tol=alpha_tol, storage=storage, kernel=kernel, solver=solver,
                          multiclass=multiclass, loss=loss)
    _solvers.check_combination(solver=solver, kernel=kernel, loss=loss, C=C)
    _solvers.check_arith(arith, solver=solver, kernel=kernel, storage=storage, n_features=int(n_features))
    if storage != "float32" and scale is None:
        if feature_range is None:
            raise ValueError(f"storage={storage!r} needs feature_range=(low, high) (scalars or per-feature)")
        scale, offset = _store.affine_from_range(feature_range[0], feature_range[1], storage, n_features)
    params = _solvers.Params.make(C=C, tol=tol, alpha_tol=alpha_tol, max_iter=max_iter, seed=seed,
                                  max_passes=max_passes, solver=solver, multiclass=multiclass, kernel=kernel,
                                  gamma=gamma, coef0=coef0, degree=degree, loss=loss, arith=arith)
    return TrainerConfig(n_features=int(n_features), capacity=int(capacity), n_classes=len(classes), params=params,
                         storage=storage, scale=scale, offset=offset, classes=classes, data_in=data_in,
                         cache_cols=cache_cols)
