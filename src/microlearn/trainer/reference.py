"""The Python reference of the C trainer (include/mlrn_smo.h), float32 operation by operation.

Every function here mirrors a function of mlrn_smo.h; the comments name it. The rules
of microlearn.core.f32 apply: elementwise float32 arithmetic in the same order,
sums sequential over features (vectorised over samples), argmax/argmin taking the first
index like C's strict comparisons, and NaN never selected (C's comparisons are false).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from microlearn.core import f32 as _f32, vocab
from microlearn.core.f32 import F
from microlearn.core.rng import XorShift32
from microlearn.core.vocab import MAX_ITER, OK

TAU = F(vocab.SMO_TAU)
BIG = F(vocab.SMO_BIG)
PG_EPS = F(vocab.SMO_DCD_PG_EPS)
BIAS = F(vocab.SMO_DCD_BIAS)

# ---- parameter checks: what mlrn_smo_init (mlrn_smo.h) and the C types of mlrn_smo_params accept -------------
FLT_MAX = float(np.finfo(np.float32).max)
U8, U16, U32 = 0xFF, 0xFFFF, 0xFFFFFFFF


def check_f32(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A float parameter as the device holds it: finite, representable as float32 (|v| <= 3.4e38) and,
    where the C test is `> 0`, still > 0 once rounded to float32 (1e-46 is 0 there). Returns float(value)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        v = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    with np.errstate(over="ignore", under="ignore"):
        f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError(f"{name} must fit float32, the device's number format (|{name}| <= {FLT_MAX:.4g}), "
                         f"got {value!r}")
    if positive and f == 0:
        raise ValueError(f"{name} must be > 0 in float32, the device's number format: {value!r} rounds to 0 "
                         f"(the smallest is 1.4e-45)")
    return v


def check_int(name: str, value, low: int, high: int, ctype: str) -> int:
    """An integer parameter within its C type (and the C check's lower bound)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high:,} ({ctype} on the device), got {value!r}")
    return int(value)


def _one_of(names) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


# The ids check_params knows by name: a value outside them is an unknown kernel (solver, ...).
CHOICES = {"kernel": vocab.KERNELS, "solver": vocab.SOLVERS, "multiclass": vocab.MULTICLASS,
           "storage": vocab.STORAGES, "loss": vocab.LOSSES}


def check_params(**params) -> None:
    """Raise ValueError for a parameter mlrn_smo_init would refuse (MLRN_ERR_ARG) or that does not fit its
    C type in mlrn_smo_params; only the parameters given are checked. The names are those of the C check
    (mlrn_smo_check_params, MLRN_SMO_PARAM_*; tests/core/test_vocab.py holds both to the same names), and
    each message starts with the name or with "unknown <name>". Float rules: C and tol > 0, alpha_tol >= 0,
    gamma and coef0 finite, all of them as float32; stricter than the C: tol finite, gamma > 0 (a zero gamma
    makes every kernel value equal). Integers: max_iter uint32 >= 1, max_passes uint16 >= 1 (the C asks it
    of the simplified solver only), degree uint8, seed uint32, n_classes 2..MLRN_SMO_MAX_CLASSES.
    kernel, solver, multiclass, storage, loss: one of the names of microlearn.core.vocab. The rules that join
    parameters (dcd needs the linear kernel, squared_hinge the dcd solver): check_combination."""
    floats = {"C": dict(positive=True), "tol": dict(positive=True), "alpha_tol": dict(nonnegative=True),
              "gamma": dict(positive=True), "coef0": {}}
    ints = {"max_iter": (1, U32, "uint32"), "max_passes": (1, U16, "uint16"), "degree": (0, U8, "uint8"),
            "seed": (0, U32, "uint32"), "n_classes": (2, vocab.SMO_MAX_CLASSES_LIMIT, "MLRN_SMO_MAX_CLASSES")}
    for name, value in params.items():
        if name in floats:
            check_f32(name, value, **floats[name])
        elif name in ints:
            check_int(name, value, *ints[name])
        elif name in CHOICES:
            if not isinstance(value, str) or value not in CHOICES[name]:
                raise ValueError(f"unknown {name} {value!r}; choose {_one_of(CHOICES[name])}")
        else:
            raise TypeError(f"check_params: unknown parameter {name!r}")


def check_combination(*, solver: str, kernel: str, loss: str = "hinge", C=1.0) -> None:
    """The rules of mlrn_smo_check_params that join parameters (each value already passed check_params):
    MLRN_SMO_PARAM_SOLVER (dcd is for the linear kernel only), MLRN_SMO_PARAM_LOSS (squared_hinge only with
    dcd: the other solvers would ignore it) and MLRN_SMO_PARAM_C (squared_hinge's D_ii = 0.5 / C must be
    finite in float32)."""
    if solver in vocab.LINEAR_ONLY_SOLVERS and kernel != "linear":
        raise ValueError(f"solver {solver!r} trains the linear kernel only, got kernel {kernel!r}; "
                         f"use solver 'wss2' for kernel {kernel!r}")
    if loss != "hinge" and solver != "dcd":
        raise ValueError(f"loss {loss!r} needs solver 'dcd' (solver {solver!r} minimises the hinge loss)")
    if loss == "squared_hinge":
        with np.errstate(over="ignore", divide="ignore"):
            diag = F(0.5) / F(C)
        if not np.isfinite(diag):
            raise ValueError(f"C must be >= {float(np.float32(0.5) / np.finfo(np.float32).max):.3g} with "
                             f"loss 'squared_hinge' (0.5 / C must fit float32), got {C!r}")


ARITHS = ("float", "fixed")
FIXED_KERNELS = ("linear", "rbf")     # MLRN_SMO__FX (linear), MLRN_SMO__CODES_SQDIST_FX (rbf)


def fixed_supported(*, solver: str, kernel: str, storage: str) -> bool:
    """Whether MLRN_SMO_FIXED has an integer path for this configuration: wss2, linear or rbf, int8 codes."""
    return solver == "wss2" and kernel in FIXED_KERNELS and storage == "int8"


def check_arith(arith, *, solver: str, kernel: str, storage: str, n_features: int | None = None) -> None:
    """arith 'fixed' (MLRN_SMO_FIXED) is wss2's integer path for the linear and rbf kernels on int8 codes with
    2..512 features (mlrn_smo_init refuses other feature counts there); asked for anything else it would compute
    in float32 anyway, so it is refused."""
    if not isinstance(arith, str) or arith not in ARITHS:
        raise ValueError(f"unknown arith {arith!r}; choose {_one_of(ARITHS)}")
    if arith == "fixed" and not fixed_supported(solver=solver, kernel=kernel, storage=storage):
        raise ValueError(f"arith 'fixed' is for solver 'wss2', kernel 'linear' or 'rbf' and storage 'int8' "
                         f"(got solver {solver!r}, kernel {kernel!r}, storage {storage!r})")
    if arith == "fixed" and n_features is not None and not 2 <= n_features <= FX_MAX_D:
        raise ValueError(f"arith 'fixed' takes 2..{FX_MAX_D} features, got {n_features}")


@dataclass(frozen=True)
class Params:
    """mlrn_smo_params, with every float already rounded to float32 as the device holds it."""
    C: np.float32
    tol: np.float32
    alpha_tol: np.float32
    max_iter: int
    seed: int
    max_passes: int
    solver: str
    multiclass: str
    kernel: str
    gamma: np.float32
    coef0: np.float32
    degree: int
    loss: str = "hinge"
    arith: str = "float"      # "fixed": MLRN_SMO_FIXED compiled in (its integer path: fixed_applies)

    @classmethod
    def make(cls, C=1.0, tol=1e-3, alpha_tol=1e-7, max_iter=100000, seed=0, max_passes=10, solver="wss2",
             multiclass="ovo", kernel="linear", gamma=1.0, coef0=0.0, degree=3, loss="hinge", arith="float"):
        return cls(F(C), F(tol), F(alpha_tol), int(max_iter), int(seed) & 0xFFFFFFFF, int(max_passes), solver,
                   multiclass, kernel, F(gamma), F(coef0), int(degree), loss, arith)

    def kernel_rows(self, X, v):
        return _f32.kernel_rows(self.kernel, X, v, self.gamma, self.coef0, self.degree)


@dataclass
class SubResult:
    pair: tuple[int, int]     # (p, q): q is +1; in ovr (k, k)
    members: np.ndarray       # store indices of the sub-problem's samples, in store order
    y: np.ndarray             # float32 +-1 of the members
    alpha: np.ndarray         # float32, unsigned, per member
    b: np.float32
    w: np.ndarray | None      # linear kernel
    n_iter: int
    status: int
    # wss2, non-linear kernels: the kernel columns it asks for, in order (member indices): i's once i is chosen
    # (before the selection of j), j's in the update. What the device's cache (MLRN_SMO_CACHE) is asked: see
    # LRUCache. The arithmetic never depends on it.
    columns: list = field(default_factory=list)


class LRUCache:
    """The bookkeeping of mlrn_smo.h's kernel-column cache (mlrn_smo__column): n_cols slots, slot order from the
    most to the least recently used, starting 0, 1, ..., n_cols-1 with every slot empty; a look-up that finds the
    sample moves its slot to the front (a hit); a miss takes the last slot, moves it to the front and fills it.
    Counts hits and misses (the device's cache_hits / cache_misses)."""

    def __init__(self, n_cols: int):
        self.order = list(range(n_cols))
        self.tag = [None] * n_cols
        self.hits = self.misses = 0

    def lookup(self, t) -> int:
        """The slot of sample t's column after the look-up."""
        k = next((k for k, slot in enumerate(self.order) if self.tag[slot] == t), len(self.order) - 1)
        slot = self.order.pop(k)
        self.order.insert(0, slot)
        if self.tag[slot] == t:
            self.hits += 1
        else:
            self.misses += 1
            self.tag[slot] = t
        return slot


def cache_counts(subs, n_cols: int) -> tuple[int, int]:
    """(hits, misses) of a device cache of n_cols columns over a training's sub-problems (emptied at each)."""
    hits = misses = 0
    for sub in subs:
        c = LRUCache(n_cols)
        for t in sub.columns:
            c.lookup(t)
        hits, misses = hits + c.hits, misses + c.misses
    return hits, misses


def pairs(n_classes: int, multiclass: str) -> list[tuple[int, int]]:
    """mlrn_smo__pair for every sub-problem, in training order."""
    if n_classes <= 2:
        return [(0, 1)]
    if multiclass == "ovr":
        return [(k, k) for k in range(n_classes)]
    return [(p, q) for p in range(n_classes) for q in range(p + 1, n_classes)]


def _first_argmax(v, mask):
    """C: best=-BIG; if (v > best) ... -> first index of the maximum, NaN never chosen."""
    w = np.where(mask & (v > -BIG), v, -np.inf)
    if not w.size or w.max() == -np.inf:
        return -1
    return int(np.argmax(w))


def _first_argmin(v, mask):
    w = np.where(mask & (v < BIG), v, np.inf)
    if not w.size or w.min() == np.inf:
        return -1
    return int(np.argmin(w))


def _grad_linear(X, y, w):
    """mlrn__grad for the linear kernel: G_t = y_t (w . x_t) - 1."""
    return y * _f32.dot_rows(X, w) - F(1.0)


def _quad(params, X, xi, kii, ktt):
    """mlrn__quad: |x_i - x_t|^2 (linear) or (K_ii + K_tt) - 2 K_it."""
    if params.kernel == "linear":
        return _f32.sqdist_rows(X, xi)
    return (kii + ktt) - F(2.0) * params.kernel_rows(X, xi)


class _Folded:
    """wss2 on quantised storage: a row folded into the affine map and dot products from the codes
    (mlrn_smo__fold / mlrn_smo__dot_codes), squared distances from the codes (mlrn__sqdist_q); the linear kernel's
    folded w (mlrn_smo__refresh_wq / mlrn__wx)."""

    def __init__(self, Q, scale, offset):
        self.Qf = Q.astype(np.float32)     # (float)q, exact
        self.Qi = Q.astype(np.int32)
        self.scale, self.offset = scale, offset

    def fold(self, v):
        """mlrn_smo__fold: (v * scale, sum_k v_k offset_k in sequence)."""
        return v * self.scale, _f32.sum_seq(v * self.offset)

    def dot(self, u, c, rows=slice(None)):
        """mlrn_smo__dot_codes for the members `rows`: sum_k u_k q_tk + c."""
        return _f32.dot_rows(self.Qf[rows], u) + c

    def refresh(self, w):
        self.ws, self.c = self.fold(w)

    def grad(self, y):
        return y * self.dot(self.ws, self.c) - F(1.0)

    def quad(self, i, cand):
        u = (self.Qi[i] - self.Qi[cand]).astype(np.float32) * self.scale
        acc = np.zeros(cand.size, np.float32)
        for k in range(u.shape[1]):
            acc = acc + u[:, k] * u[:, k]
        return acc


# MLRN_SMO_FIXED (mlrn_smo.h): the integer paths' constants (the integer ones from the vocabulary, the float ones
# MLRN_SMO_FX_U_LOW / _HIGH / _MIN)
FX_MAX_D, FX_DQ2_MAX, FX_S_MAX = vocab.SMO_FX_MAX_D, vocab.SMO_FX_DQ2_MAX, vocab.SMO_FX_S_MAX
FX_U_LOW, FX_U_HIGH, FX_U_MIN = F(16383.5), F(32767.0), F(1e-30)
FX_K_MAX, FX_SUM_MAX = F(vocab.SMO_FX_K_MAX), vocab.SMO_FX_SUM_MAX


def _round_half_away(x):
    """mlrn_smo__round on float32 values: (int32)(x + 0.5f) for x >= 0, -(int32)(0.5f - x) below."""
    x = np.asarray(x, np.float32)
    return np.where(x >= 0, np.trunc(x + F(0.5)), -np.trunc(F(0.5) - x)).astype(np.int64)


class _FoldedFixed(_Folded):
    """MLRN_SMO_FIXED: wss2, linear or rbf kernel, int8 codes, 2 <= d <= FX_MAX_D. w . x_t = inv * sum_k U_k q_tk + c
    (U: the folded w in int16 at a power-of-two scale, an int32 sum) and |x_i - x_t|^2 = qs * sum_k dq_k^2 S_k
    (S: T scale_k^2 / max scale^2 in uint16 levels, a uint32 sum): mlrn_smo__refresh_fx, mlrn__wx_fx and
    mlrn__sqdist_fx; with the linear kernel wss2's working pair from integer scores (select:
    mlrn_smo__wss2_select_fx). The integer sums are exact here (int64) and cannot overflow on the device (the bounds in
    mlrn_smo.h); each is converted to float32 once, correctly rounded in both. S and qs depend on the scales alone
    (mlrn_smo__fx_levels, once per sub-problem)."""

    def __init__(self, Q, scale, offset):
        super().__init__(Q, scale, offset)
        d = scale.size
        sq = scale * scale
        m2 = F(sq.max())
        top = F(min(FX_S_MAX, 0xFFFFFFFF // (FX_DQ2_MAX * d)))
        self.S = _round_half_away(sq / m2 * top) if m2 > 0 else np.zeros(d, np.int64)
        self.qs = m2 / top

    def refresh(self, w):
        u = w * self.scale                                  # mlrn_smo__fold's products, never stored as float
        self.c = _f32.sum_seq(w * self.offset)
        m = F(np.abs(u).max()) if u.size else F(0.0)
        sc, inv = F(1.0), F(1.0)
        if m >= FX_U_MIN:
            while m * sc >= FX_U_HIGH:
                sc, inv = sc * F(0.5), inv * F(2.0)
            while m * sc < FX_U_LOW:
                sc, inv = sc * F(2.0), inv * F(0.5)
        while True:     # halved while the selection's integer scores could leave int32 (select)
            self.U = _round_half_away(u * sc) if m >= FX_U_MIN else np.zeros(u.size, np.int64)
            if sc < FX_K_MAX and int(np.abs(self.U).sum()) < FX_SUM_MAX:
                break
            sc, inv = sc * F(0.5), inv * F(2.0)
        self.inv = inv
        self.k = int(_round_half_away(F(F(1.0) / inv)))    # mlrn_smo__fx_k

    def sums(self):
        """A_t = sum_k U_k q_tk for every member (mlrn__ax_fx): exact, |A_t| < 2^31 by the bounds."""
        return self.Qi.astype(np.int64) @ self.U

    def dq2(self, i, cand):
        """sum_k (q_ik - q_tk)^2 S_k for the members t in `cand` (mlrn__dq2_fx): exact, below 2^32."""
        dq = (self.Qi[i] - self.Qi[cand]).astype(np.int64)
        return (dq * dq) @ self.S

    def scores(self, y):
        """V_t = y_t K - A_t (mlrn_smo__wss2_select_fx): -y_t G_t less the constant c, in units of inv; exact
        integers."""
        return np.where(y > 0, self.k, -self.k) - self.sums()

    def select(self, y, alpha, C, tol):
        """mlrn_smo__wss2_select_fx: wss2's working pair from the integer scores. Returns (i, j, G_i, G_j, quad_ij),
        G_i and G_j as the update uses them (-y_i (V_i - V_j) inv and 0), or None when the sub-problem is solved."""
        V = self.scores(y)
        pos = y > 0
        up = np.where(pos, alpha < C, alpha > 0)
        if not up.any():
            return None
        i = int(np.argmax(np.where(up, V, np.iinfo(np.int64).min)))   # the first maximum
        vmax = int(V[i])
        low = np.where(pos, alpha > 0, alpha < C)
        cand = np.flatnonzero(low & (V < vmax))
        if not cand.size:
            return None
        vmin = int(V[low].min())
        dq2 = self.dq2(i, cand)
        tau = F(TAU / self.qs) if self.qs > 0 else F(1.0)
        u = (vmax - V[cand]).astype(np.float32)            # < 2^32: one rounding, as (float)(uint32_t) in C
        with np.errstate(over="ignore", divide="ignore"):
            gain = u * u / np.where(dq2 > 0, dq2.astype(np.float32), tau)
        k = int(np.argmax(gain))                            # gains >= 0, not NaN: the first maximum
        if F(np.float32(vmax - vmin) * self.inv) < tol:
            return None
        j = int(cand[k])
        # the update needs -G_i - G_j or G_i - G_j only: +-y_i (V_i - V_j) inv, c cancelled (G_j carries 0)
        d = F(np.float32(vmax - int(V[j])) * self.inv)
        q = F(np.float32(dq2[k]) * self.qs)
        return i, j, (-d if y[i] > 0 else d), F(0.0), (q if q > 0 else TAU)

    def grad(self, y):
        return y * (self.sums().astype(np.float32) * self.inv + self.c) - F(1.0)

    def quad(self, i, cand):
        return self.dq2(i, cand).astype(np.float32) * self.qs


def fixed_applies(params: Params, d: int, quant) -> bool:
    """Whether MLRN_SMO_FIXED's integer paths run (MLRN_SMO__FX, MLRN_SMO__CODES_SQDIST_FX): arith 'fixed', wss2,
    linear or rbf, quantised (int8:
    train() checks the codes and the feature count); anything else keeps float32, on the device as here."""
    return (params.arith == "fixed" and params.solver == "wss2" and params.kernel in FIXED_KERNELS
            and quant is not None)


def warm_start(params: Params, X, y, alpha):
    """mlrn_smo__warm_start (MLRN_SMO_WARM): makes the members' alphas feasible in place and returns w rebuilt
    from them. Each alpha clipped to [0, C] (NaN -> 0); sum y alpha = 0 restored by taking the excess of the side
    with the larger sum off that side's alphas in index order; w = sum y_t alpha_t x_t in index order. The same
    float32 operations in the same order as the C."""
    C = params.C
    alpha[~(alpha > 0)] = F(0.0)
    alpha[alpha > C] = C
    sp = sn = F(0.0)
    for t in range(alpha.size):
        if y[t] > 0:
            sp = F(sp + alpha[t])
        else:
            sn = F(sn + alpha[t])
    big = 1 if sp > sn else -1
    excess = F(sp - sn) if sp > sn else F(sn - sp)
    for t in range(alpha.size):
        if not excess > 0:
            break
        if (1 if y[t] > 0 else -1) != big:
            continue
        a = alpha[t]
        if a <= excess:
            excess = F(excess - a)
            alpha[t] = F(0.0)
        else:
            alpha[t] = F(a - excess)
            excess = F(0.0)
    w = np.zeros(X.shape[1], np.float32)
    for t in np.flatnonzero(alpha != 0):
        c = alpha[t] if y[t] > 0 else -alpha[t]
        w = w + c * X[t]
    return w


def _wss2(params: Params, X, y, quant=None, alpha0=None, columns=None):
    """Solve one sub-problem with second-order working-set selection; mirrors mlrn_smo__wss2_iteration.
    alpha0 (linear kernel only): the warm start (mlrn_smo_set_warm), made feasible by warm_start.
    columns: a list that receives the kernel columns asked for (SubResult.columns), or None."""
    m, d = X.shape
    C = params.C
    linear = params.kernel == "linear"
    alpha = np.zeros(m, np.float32)
    w = np.zeros(d, np.float32) if linear else None
    if alpha0 is not None:
        if not linear:
            raise ValueError("warm starts are for the linear kernel")
        alpha = np.array(alpha0, np.float32)
        w = warm_start(params, X, y, alpha)
    # quantised storage: dot products and distances from the codes, in integers with MLRN_SMO_FIXED
    Folded = _FoldedFixed if fixed_applies(params, d, quant) else _Folded
    fold = Folded(*quant) if (linear and quant is not None) else None
    if fold:
        fold.refresh(w)
    # non-linear kernels on quantised storage: K(x_i, x_t) from sample t's codes (mlrn__kit, MLRN_SMO_KERNEL_CODES):
    # rbf the squared distance sum_k ((q_ik - q_tk) scale_k)^2, poly/sigmoid the dot product sum_k u_k q_tk + c with
    # u = x_i * scale, c = x_i . offset (mlrn__side: mlrn_smo__fold, then mlrn_smo__dot_codes)
    codes = Folded(*quant) if (not linear and quant is not None) else None

    def kcol(i, rows):
        """K(x_i, x_t) for the members t in `rows` (an index array): mlrn__kit."""
        if codes and params.kernel == "rbf":
            s = codes.quad(i, rows)
        elif codes:
            s = codes.dot(*codes.fold(X[i]), rows)
        else:
            return params.kernel_rows(X[rows], X[i])
        return _f32.kernel_finish(params.kernel, s, params.gamma, params.coef0, params.degree)
    everyone = np.arange(m)

    def lin_grad():
        return fold.grad(y) if fold else _grad_linear(X, y, w)
    G = None if linear else np.full(m, F(-1.0), np.float32)
    diag = None
    if params.kernel in ("poly", "sigmoid"):
        self_dot = np.zeros(m, np.float32)          # mlrn_kernel_dot(x_t, x_t), sequential over features
        for k in range(d):
            self_dot = self_dot + X[:, k] * X[:, k]
        diag = _f32.kernel_finish(params.kernel, self_dot, params.gamma, params.coef0, params.degree)
    pos = y > 0
    it, status = 0, OK
    if columns is None or linear:
        columns = []      # not kept (the linear kernel keeps w: no columns)
    while True:
        if it >= params.max_iter:
            status = MAX_ITER
            break
        if isinstance(fold, _FoldedFixed):            # both scans in integers (mlrn_smo__wss2_select_fx)
            pair = fold.select(y, alpha, C, params.tol)
            if pair is None:
                break
            i, j, gi, gj, quad = pair
        else:
            g = lin_grad() if linear else G
            v = -y * g
            up = np.where(pos, alpha < C, alpha > 0)
            i = _first_argmax(v, up)
            if i < 0:
                break
            gmax = v[i]
            low = np.where(pos, alpha > 0, alpha < C)
            vlow = np.where(low & ~np.isnan(v), v, BIG)
            gmin = F(vlow.min()) if m else BIG
            bd = gmax - v
            cand = np.flatnonzero(low & (bd > 0))
            j = -1
            quad = F(0.0)
            columns.append(i)                     # the device looks i's column up as soon as i is chosen
            if cand.size:
                if diag is not None:
                    kii, ktt = diag[i], diag[cand]
                else:
                    kii, ktt = F(1.0), F(1.0)
                if fold:
                    q = fold.quad(i, cand)
                elif linear:
                    q = _quad(params, X[cand], X[i], kii, ktt)
                else:                                   # mlrn__quad_kit
                    q = (kii + ktt) - F(2.0) * kcol(i, cand)
                q = np.where(q <= 0, TAU, q).astype(np.float32)
                obj = -(bd[cand] * bd[cand]) / q
                k = _first_argmin(obj, np.ones(cand.size, bool))
                if k >= 0:
                    j, quad = int(cand[k]), q[k]
            if j < 0 or gmax - gmin < params.tol:
                break
            columns.append(j)
            gi, gj = g[i], g[j]
        ai, aj = alpha[i], alpha[j]
        old_ai, old_aj = ai, aj
        if y[i] != y[j]:
            delta = (-gi - gj) / quad
            diff = ai - aj
            ai = ai + delta
            aj = aj + delta
            if diff > 0:
                if aj < 0:
                    aj, ai = F(0.0), diff
            elif ai < 0:
                ai, aj = F(0.0), -diff
            if diff > 0:
                if ai > C:
                    ai, aj = C, C - diff
            elif aj > C:
                aj, ai = C, C + diff
        else:
            delta = (gi - gj) / quad
            s = ai + aj
            ai = ai - delta
            aj = aj + delta
            if s > C:
                if ai > C:
                    ai, aj = C, s - C
            elif aj < 0:
                aj, ai = F(0.0), s
            if s > C:
                if aj > C:
                    aj, ai = C, s - C
            elif ai < 0:
                ai, aj = F(0.0), s
        alpha[i], alpha[j] = ai, aj
        ci = (ai - old_ai) if y[i] > 0 else -(ai - old_ai)
        cj = (aj - old_aj) if y[j] > 0 else -(aj - old_aj)
        if linear:
            w = (w + ci * X[i]) + cj * X[j]
            if fold:
                fold.refresh(w)
        else:
            dg = ci * kcol(i, everyone) + cj * kcol(j, everyone)
            G = G + np.where(pos, dg, -dg)
        it += 1
    b = _wss2_bias(params, X, y, alpha, lin_grad() if linear else G,
                   fold if isinstance(fold, _FoldedFixed) else None)
    return alpha, b, w, it, status


def _wss2_bias(params, X, y, alpha, G, fixed=None):
    """mlrn_smo__wss2_bias: b = -rho, libsvm's calculate_rho. fixed (a _FoldedFixed): the bounds from the integer
    scores, y_t G_t = c - V_t inv (MLRN_SMO__FX_WSS2); the free samples' y_t G_t as without."""
    C = params.C
    yg = np.where(y > 0, G, -G)
    upper = alpha >= C
    lower = (alpha <= 0) & ~upper
    free = ~upper & ~lower
    to_ub = (upper & (y < 0)) | (lower & (y > 0))
    to_lb = (upper & (y > 0)) | (lower & (y < 0))
    if fixed is not None:
        V = fixed.scores(y)
        ub = min(BIG, F(fixed.c - F(np.float32(V[to_ub].max()) * fixed.inv))) if to_ub.any() else BIG
        lb = max(-BIG, F(fixed.c - F(np.float32(V[to_lb].min()) * fixed.inv))) if to_lb.any() else -BIG
    else:
        ub = min(BIG, F(yg[to_ub].min())) if to_ub.any() else BIG
        lb = max(-BIG, F(yg[to_lb].max())) if to_lb.any() else -BIG
    nfree = int(free.sum())
    if nfree:
        rho = _f32.sum_seq(yg[free]) / F(nfree)
    else:
        rho = (ub + lb) / F(2.0)
    return F(-rho)


def _simplified(params: Params, X, y, rng: XorShift32):
    """The seeds' simplified SMO; mirrors mlrn_smo__simplified_visit and the sweep logic of mlrn_smo_train_step.

    Speed without changing a bit: between two updates w, b and alpha are constant, so the
    errors E_i of the samples still to be visited are computed in one vectorised batch
    (each element in the C order) and scanned for the next KKT violator."""
    m, d = X.shape
    C, tol = params.C, params.tol
    linear = params.kernel == "linear"
    alpha = np.zeros(m, np.float32)
    w = np.zeros(d, np.float32) if linear else None
    b = F(0.0)
    K = None if linear else _kernel_matrix(params, X)

    def f_from(start):
        """f(x_i) for i >= start, as mlrn_smo__f_train computes each."""
        if linear:
            return _f32.dot_rows(X[start:], w) + b
        nz = np.flatnonzero(alpha != 0)
        if nz.size == 0:
            return np.zeros(m - start, np.float32) + b
        coef = np.where(y[nz] > 0, alpha[nz], -alpha[nz])
        return np.add.accumulate(coef[:, None] * K[nz, start:], axis=0)[-1] + b

    def k(a, c):
        if linear:
            return _f32.dot_seq(X[a], X[c])
        return K[a, c]

    sweeps = passes = 0
    status = OK
    while True:
        changed = 0
        i = 0
        E = None   # errors of samples start.. while nothing changed
        start = 0
        while i < m:
            if E is None:
                start = i
                E = f_from(i) - y[i:]
            R = np.where(y[start:] > 0, E, -E)
            a = alpha[start:]
            viol = ((R < -tol) & (a < C)) | ((R > tol) & (a > 0))
            viol[: i - start] = False
            nxt = np.flatnonzero(viol)
            if nxt.size == 0:
                break
            i = start + int(nxt[0])
            ei, yi, ai = E[i - start], y[i], alpha[i]
            pj = rng.next() % (m - 1)
            if pj >= i:
                pj += 1
            j = pj
            yj, aj = y[j], alpha[j]
            ej = f_from(j)[0] - yj
            i_next = i + 1
            if yi != yj:
                L = aj - ai if aj - ai > 0 else F(0.0)
                H = (C + aj) - ai if (C + aj) - ai < C else C
            else:
                L = (ai + aj) - C if (ai + aj) - C > 0 else F(0.0)
                H = ai + aj if ai + aj < C else C
            if L == H:
                i = i_next
                continue
            kij, kii, kjj = k(i, j), k(i, i), k(j, j)
            eta = (F(2.0) * kij - kii) - kjj
            if eta >= 0:
                i = i_next
                continue
            naj = aj - ((ei - ej) if yj > 0 else -(ei - ej)) / eta
            if naj > H:
                naj = H
            if naj < L:
                naj = L
            change = naj - aj
            if change < 0:
                change = -change
            if change < params.alpha_tol:
                i = i_next
                continue
            nai = ai + ((aj - naj) if yi == yj else -(aj - naj))
            dai, daj = nai - ai, naj - aj
            ci = dai if yi > 0 else -dai
            cj = daj if yj > 0 else -daj
            b1 = ((b - ei) - ci * kii) - cj * kij
            b2 = ((b - ej) - ci * kij) - cj * kjj
            if F(0.0) < nai < C:
                b = b1
            elif F(0.0) < naj < C:
                b = b2
            else:
                b = (b1 + b2) / F(2.0)
            alpha[i], alpha[j] = nai, naj
            if linear:
                w = (w + ci * X[i]) + cj * X[j]
            changed += 1
            E = None
            i = i_next
        sweeps += 1
        passes = 0 if changed else passes + 1
        if passes >= params.max_passes:
            break
        if sweeps >= params.max_iter:
            status = MAX_ITER
            break
    return alpha, F(b), w, sweeps, status


def _dcd_shuffle(perm, active, rng: XorShift32):
    """mlrn_smo__dcd_new_pass: liblinear's swap shuffle of perm[:active]."""
    for k in range(active):
        j = k + rng.next() % (active - k)
        perm[k], perm[j] = perm[j], perm[k]


def _dcd(params: Params, X, y, rng: XorShift32):
    """Dual coordinate descent (linear kernel); mirrors mlrn_smo__dcd_start / _dcd_visit / _dcd_end_pass.
    perm holds member positions here, store indices in C: the same order, as members are in store order.

    A visit is inherently sequential (each step moves w), so this is a scalar loop: numpy float32 scalars
    for every operation the C does, the dot products sequential over the features."""
    m, d = X.shape
    C, tol = params.C, params.tol
    hinge = params.loss == "hinge"
    dii = F(0.0) if hinge else F(0.5) / C
    alpha = np.zeros(m, np.float32)
    w = np.zeros(d, np.float32)
    b = F(0.0)
    qd = np.zeros(m, np.float32)        # mlrn_kernel_dot(x_t, x_t), sequential over the features
    for k in range(d):
        qd = qd + X[:, k] * X[:, k]
    qd = qd + BIAS * BIAS
    if not hinge:
        qd = dii + qd
    rows = list(X)                       # row views: cheaper to index in the loop
    perm = list(range(m))
    active = m
    pg_max_old, pg_min_old = BIG, -BIG
    it, status = 0, OK
    _dcd_shuffle(perm, active, rng)
    while True:
        pg_max_new, pg_min_new = -BIG, BIG
        pos = 0
        while pos < active:
            t = perm[pos]
            xt, yt, a = rows[t], y[t], alpha[t]
            f = _f32.dot_seq(w, xt) + b * BIAS
            g = (f if yt > 0 else -f) - F(1.0)
            if not hinge:
                g = g + a * dii
            pg = F(0.0)
            if a == 0:
                if g > pg_max_old:
                    active -= 1
                    perm[pos], perm[active] = perm[active], perm[pos]
                    continue
                if g < 0:
                    pg = g
            elif hinge and a == C:
                if g < pg_min_old:
                    active -= 1
                    perm[pos], perm[active] = perm[active], perm[pos]
                    continue
                if g > 0:
                    pg = g
            else:
                pg = g
            pos += 1
            if pg > pg_max_new:
                pg_max_new = pg
            if pg < pg_min_new:
                pg_min_new = pg
            if pg > PG_EPS or pg < -PG_EPS:
                na = a - g / qd[t]
                if na < 0:
                    na = F(0.0)
                if hinge and na > C:
                    na = C
                alpha[t] = na
                step = (na - a) if yt > 0 else -(na - a)
                w = w + step * xt
                b = b + step * BIAS
        it += 1
        if pg_max_new - pg_min_new <= tol:
            if active == m:
                break
            active = m
            pg_max_old, pg_min_old = BIG, -BIG
        else:
            pg_max_old = BIG if pg_max_new <= 0 else pg_max_new
            pg_min_old = -BIG if pg_min_new >= 0 else pg_min_new
        if it >= params.max_iter:
            status = MAX_ITER
            break
        _dcd_shuffle(perm, active, rng)
    return alpha, F(b), w, it, status


def _kernel_matrix(params, X):
    """K[t, i] = mlrn_smo__kernel(x_t, x_i) for all pairs, each element in the C order."""
    return _f32.kernel_matrix_f32(params.kernel, X, X, params.gamma, params.coef0, params.degree)


def train(params: Params, Xs: np.ndarray, labels: np.ndarray, n_classes: int, *, Q=None, scale=None,
          offset=None, warm=None) -> list[SubResult]:
    """mlrn_smo_train on a store holding the float32 rows Xs (as mlrn_store_row returns them)
    and class indices `labels`. Returns one SubResult per sub-problem, in training order.

    Quantised storage: pass scale/offset (float32 per feature) and, if known, the integer codes Q;
    wss2 with the linear kernel computes from the codes (mlrn__wx). Without Q the codes are
    recovered from Xs and checked to dequantise back to Xs bit for bit.

    warm (wss2, linear kernel; MLRN_SMO_WARM): an (n_sub, len(Xs)) float32 array of start alphas, row k for
    sub-problem k (mlrn_smo_set_warm); each sub-problem starts from its members' entries and writes its
    solution back there."""
    if warm is not None and (params.solver != "wss2" or params.kernel != "linear"):
        raise ValueError("warm starts are for wss2 with the linear kernel")
    Xs = np.ascontiguousarray(Xs, dtype=np.float32)
    quant = None
    if scale is not None:
        scale, offset = np.asarray(scale, np.float32), np.asarray(offset, np.float32)
        if Q is None:
            Q = _recover_codes(Xs, scale, offset)
        quant = (np.asarray(Q), scale, offset)
        if params.arith == "fixed" and quant[0].size and (quant[0].min() < -128 or quant[0].max() > 127):
            raise ValueError("arith 'fixed' computes on int8 codes: these codes are not int8")
    if fixed_applies(params, Xs.shape[1], quant) and not 2 <= Xs.shape[1] <= FX_MAX_D:
        raise ValueError(f"arith 'fixed' takes 2..{FX_MAX_D} features, got {Xs.shape[1]} (mlrn_smo_init refuses)")
    labels = np.asarray(labels)
    rng = XorShift32(params.seed)
    out = []
    for k_sub, (p, q) in enumerate(pairs(n_classes, params.multiclass)):
        if params.multiclass == "ovr" and n_classes > 2:
            members = np.arange(labels.size)
            y = np.where(labels == p, F(1.0), F(-1.0)).astype(np.float32)
        else:
            members = np.flatnonzero((labels == p) | (labels == q))
            y = np.where(labels[members] == q, F(1.0), F(-1.0)).astype(np.float32)
        if not (y > 0).any() or not (y < 0).any():
            raise ValueError(f"sub-problem {p} vs {q} has samples of one class only")
        X = Xs[members]
        if params.solver == "wss2":
            columns = []
            alpha, b, w, it, st = _wss2(params, X, y, None if quant is None else
                                        (quant[0][members], quant[1], quant[2]),
                                        None if warm is None else warm[k_sub, members], columns)
            if warm is not None:
                warm[k_sub, members] = alpha
        elif params.solver == "dcd":
            alpha, b, w, it, st = _dcd(params, X, y, rng)
            columns = []
        else:
            alpha, b, w, it, st = _simplified(params, X, y, rng)
            columns = []
        if not np.isfinite(b) or (w is not None and not np.isfinite(w).all()):   # mlrn_smo__sub_finite
            raise FloatingPointError("training overflowed float32 (non-finite intercept or weights): "
                                     "input magnitudes too large for this C; scale the features")
        out.append(SubResult((p, q), members, y, alpha, b, w, it, st, columns))
    return out


def _recover_codes(Xs, scale, offset):
    """The integer codes behind dequantised rows (exact unless the affine map is degenerate)."""
    Q = np.rint((Xs - offset) / scale).astype(np.int64)
    if not np.array_equal((Q.astype(np.float32) * scale + offset).view(np.uint32), Xs.view(np.uint32)):
        raise ValueError("rows are not the dequantised values of integer codes under this scale/offset "
                         "(feature range too narrow for float32?); pass the codes Q explicitly")
    return Q
