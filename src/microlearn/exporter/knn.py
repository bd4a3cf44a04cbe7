"""k nearest neighbours (KNeighborsClassifier, KNeighborsRegressor): the training rows as a const table, a
brute-force search in the shared runtime (mlrn_knn.h) and a numpy mirror of its float32 arithmetic.

Storage: float32 rows (exact: the distances are float32 sums in index order, see mlrn_knn.h), or int16/int8
codes of the rows on ONE grid step for every feature (the metric is isotropic: a per-feature step would change
which rows are nearest): q = clamp(round(u * a + c), -Q, Q) with a = 1/step for all features and c centring each
feature's training range, step = (largest feature span of the training rows) / 2Q. The input is quantized the
same way (mlrn_quant.h) and the distance is the exact integer sum of squared (euclidean) or absolute
(manhattan) code differences in uint32; Q is lowered for int16 euclidean so that no sum can overflow
(d (2Q)^2 < 2^32). Codes rank the rows like float distances up to the grid's resolution: agreement is measured,
not guaranteed.

Ties: the k rows are selected with scikit-learn's own max-heap (sklearn.utils._heap.heap_push, which its
brute-force search uses), rows met in index order, so among rows at equal distance the rows scikit-learn keeps
are kept; equal votes go to the lowest class index (argmax). Distances computed in float32 instead of
scikit-learn's float64 (for euclidean, its ||x||^2 - 2 x.y + ||y||^2) can make or break a tie, and its kd_tree /
ball_tree searches meet the rows in another order: the residual disagreements are documented in docs/export.md.
"""
from __future__ import annotations

import numpy as np

from microlearn.boards.registry import get_board
from microlearn.core.c_format import c_identifier

from .model import CModel, Table, f32, quant_round
from .prep import UnsupportedModel, scaled_input

KNN_MODELS = ("KNeighborsClassifier", "KNeighborsRegressor")
METRICS = ("euclidean", "manhattan")
MAX_ROWS = 65535          # uint16_t row indices in mlrn_knn.h
MAX_CLASSES = 256         # uint8_t labels
Q8, Q16 = 127, 32767
U32 = 2 ** 32 - 1


def knn_metric(est) -> str:
    """'euclidean' or 'manhattan' (minkowski p=2 / p=1); anything else refused in one line."""
    name = type(est).__name__
    metric = getattr(est, "effective_metric_", est.metric)
    params = dict(getattr(est, "effective_metric_params_", None) or {})
    p = params.pop("p", getattr(est, "p", None))
    if metric == "minkowski" and p in (1, 2, 1.0, 2.0):
        metric = "euclidean" if float(p) == 2.0 else "manhattan"
    if metric in ("l2",):
        metric = "euclidean"
    if metric in ("l1", "cityblock"):
        metric = "manhattan"
    if params.pop("w", None) is not None:
        raise UnsupportedModel(f"{name}: weighted minkowski (metric_params w) is not supported")
    if not isinstance(metric, str) or metric not in METRICS or params:
        shown = metric if isinstance(metric, str) else type(metric).__name__
        raise UnsupportedModel(f"{name} metric={shown!r}" + (f" p={p}" if metric == "minkowski" else "") +
                               ": supported are euclidean, manhattan and minkowski with p=1 or p=2")
    return metric


def check_knn(est):
    name = type(est).__name__
    if not hasattr(est, "_fit_X"):
        raise UnsupportedModel(f"{name} is not fitted")
    if callable(est.weights) or est.weights not in ("uniform", "distance"):
        raise UnsupportedModel(f"{name} weights={est.weights!r}: supported are 'uniform' and 'distance'")
    metric = knn_metric(est)
    X = np.asarray(est._fit_X)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.number):
        raise UnsupportedModel(f"{name}: training rows of {X.dtype} (a precomputed or sparse fit) are not supported")
    n, d = X.shape
    if n > MAX_ROWS:
        raise UnsupportedModel(f"{name}: {n} training rows; at most {MAX_ROWS} (uint16_t row indices in mlrn_knn.h)")
    k = int(est.n_neighbors)
    if not 1 <= k <= n:
        raise UnsupportedModel(f"{name}: n_neighbors={k} with {n} training rows")
    y = np.asarray(est._y)
    if y.ndim != 1:
        raise UnsupportedModel(f"{name}: multi-output targets are not supported")
    if name == "KNeighborsClassifier" and len(est.classes_) > MAX_CLASSES:
        raise UnsupportedModel(f"{name}: {len(est.classes_)} classes; at most {MAX_CLASSES} (uint8_t labels)")
    return metric, X, y, k


def distances_mirror(X, rows, metric):
    """(n, n_rows) float32 keys: mlrn_knn_nearest_*_f32's sums in index order."""
    X = f32(X)
    D = np.zeros((X.shape[0], rows.shape[0]), dtype=np.float32)
    for j in range(rows.shape[1]):
        t = (X[:, j, None] - rows[None, :, j]).astype(np.float32)
        D = (D + (t * t if metric == "euclidean" else np.abs(t))).astype(np.float32)
    return D


def codes_distances(Q, rows_q, metric):
    """Exact integer distances between code rows (int64)."""
    Q = np.asarray(Q, np.int64)
    D = np.zeros((Q.shape[0], rows_q.shape[0]), dtype=np.int64)
    for j in range(rows_q.shape[1]):
        t = Q[:, j, None] - rows_q[None, :, j].astype(np.int64)
        D += t * t if metric == "euclidean" else np.abs(t)
    return D


EMPTY = 0xFFFFFFFF      # MLRN_KNN_EMPTY


def heap_select(keys, k):
    """mlrn_knn_push over the rows in index order (scikit-learn's heap_push: a max-heap of k, started full of
    EMPTY keys), for every query row at once: (heap keys, heap row indices), each (n, k)."""
    n, R = keys.shape
    HV = np.full((n, k), EMPTY, dtype=np.int64)
    HI = np.zeros((n, k), dtype=np.int64)
    for r in range(R):
        val = keys[:, r]
        a = np.flatnonzero(val < HV[:, 0])
        if not len(a):
            continue
        v = val[a]
        cur = np.zeros(len(a), dtype=np.int64)
        moving = np.ones(len(a), dtype=bool)
        while moving.any():
            left = 2 * cur + 1
            right = left + 1
            has_l, has_r = left < k, right < k
            lv = np.where(has_l, HV[a, np.minimum(left, k - 1)], -1)
            rv = np.where(has_r, HV[a, np.minimum(right, k - 1)], -1)
            swap = np.where(~has_r, np.where(lv > v, left, -1),
                            np.where(lv >= rv, np.where(v < lv, left, -1), np.where(v < rv, right, -1)))
            swap = np.where(has_l & moving, swap, -1)
            mv = swap >= 0
            am, cm, sm = a[mv], cur[mv], swap[mv]
            HV[am, cm] = HV[am, sm]
            HI[am, cm] = HI[am, sm]
            cur = np.where(mv, swap, cur)
            moving = mv
        HV[a, cur] = v
        HI[a, cur] = r
    return HV, HI


def nearest(D, k):
    """The k nearest rows of each query as mlrn_knn.h selects and sorts them: (keys, indices), ascending keys,
    pairs of equal keys in heap order (mlrn_knn_sort is a stable insertion sort)."""
    keys = D.view(np.uint32).astype(np.int64) if D.dtype == np.float32 else np.asarray(D, np.int64)
    HV, HI = heap_select(keys, k)
    o = np.argsort(HV, axis=1, kind="stable")
    return np.take_along_axis(HV, o, axis=1), np.take_along_axis(HI, o, axis=1)


def inv_dist(keys, squared, integer):
    """mlrn_knn_inv_dist: 1 / distance in float32 from the keys."""
    v = keys.astype(np.float32) if integer else keys.astype(np.uint32).view(np.float32)
    with np.errstate(divide="ignore"):
        return (np.float32(1.0) / (np.sqrt(v) if squared else v)).astype(np.float32)


def votes_mirror(keys, idx, labels, n_classes, weighted, squared, integer):
    n, k = idx.shape
    V = np.zeros((n, n_classes), dtype=np.float32)
    rows = np.arange(n)
    exact = weighted & (keys[:, 0] == 0)
    w = inv_dist(keys, squared, integer) if weighted else np.ones(keys.shape, np.float32)
    for i in range(k):
        lab = labels[idx[:, i]]
        wi = np.where(exact, np.where(keys[:, i] == 0, np.float32(1.0), np.float32(0.0)), w[:, i]).astype(np.float32)
        add = np.where(exact & (keys[:, i] != 0), False, True)
        V[rows[add], lab[add]] = (V[rows[add], lab[add]] + wi[add]).astype(np.float32)
    return V


def proba_mirror(V):
    s = np.zeros(V.shape[0], dtype=np.float32)
    for c in range(V.shape[1]):
        s = (s + V[:, c]).astype(np.float32)
    return (V / s[:, None]).astype(np.float32)


def value_mirror(keys, idx, y32, weighted, squared, integer):
    n, k = idx.shape
    num = np.zeros(n, dtype=np.float32)
    den = np.zeros(n, dtype=np.float32)
    exact = weighted & (keys[:, 0] == 0)
    w = inv_dist(keys, squared, integer) if weighted else None
    for i in range(k):
        yi = y32[idx[:, i]]
        if not weighted:
            num = (num + yi).astype(np.float32)
            continue
        z = keys[:, i] == 0
        num = np.where(exact, np.where(z, num + yi, num), num + (w[:, i] * yi).astype(np.float32)).astype(np.float32)
        den = np.where(exact, np.where(z, den + np.float32(1.0), den), den + w[:, i]).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((num / den) if weighted else (num / np.float32(k))).astype(np.float32)


def knn_grid(rows64, dtype, metric):
    """One isotropic grid for the rows (model space): (a, c per feature as float32, Q)."""
    d = rows64.shape[1]
    Q = Q8 if dtype == "int8" else Q16
    if dtype == "int16" and metric == "euclidean":
        Q = min(Q16, int(np.floor(np.sqrt(U32 / max(d, 1)) / 2.0)) - 1)
    lo, hi = rows64.min(axis=0), rows64.max(axis=0)
    span = float(np.max(hi - lo)) if len(rows64) else 0.0
    step = span / (2.0 * Q) if span > 0 else 1.0
    a = np.full(d, 1.0 / step)
    c = -(lo + hi) / 2.0 / step
    return f32(a), f32(c), Q


def quantize_mirror(X, a32, c32, Q):
    """mlrn_quant_to_i8/_i16 (mlrn_quant.h) op by op: clamp(round half up(x * a + c), -Q, Q)."""
    X = f32(X)
    return quant_round((X * a32[None, :]).astype(np.float32) + c32[None, :], Q)


def lower_knn(est, N, prescale, dtype="float32", opts=None, proj=None) -> CModel:
    """proj: a prep.Projection (PCA and scalers) applied to the input first (then prescale is empty)."""
    N = c_identifier(N, "model name")
    opts = opts or {}
    name = type(est).__name__
    metric, X64, y, k = check_knn(est)
    n_rows, d = X64.shape
    regressor = name == "KNeighborsRegressor"
    weighted = est.weights == "distance"
    squared = metric == "euclidean"
    integer = dtype != "float32"
    classes = np.asarray([]) if regressor else np.asarray(est.classes_)
    src = f"sklearn {name}(n_neighbors={k}, weights={est.weights!r}, metric={metric!r})"
    m = CModel(name=N, source=src, n_features=d, classes=classes, includes=["mlrn_knn.h"], dtype=dtype)
    if proj is not None:
        pre, pre_ram = proj.attach(m, N)
        xin = "z"
        m.n_features = proj.n_features
    else:
        pre, xin, pre_ram = scaled_input(m, prescale, N, d, " before the distances")
    rows32 = f32(X64)
    if not np.all(np.isfinite(rows32)):
        raise UnsupportedModel(f"{name}: training rows that are not finite in float32")
    if integer:
        a32, c32, Q = knn_grid(rows32.astype(np.float64), dtype, metric)
        qt, fs, qsz = ("int8_t", "i8", 1) if dtype == "int8" else ("int16_t", "i16", 2)
        rows_q = quantize_mirror(rows32, a32, c32, Q)
        m.tables += [Table("rows", qt, rows_q), Table("qa", "float", a32), Table("qc", "float", c32)]
        m.includes.append("mlrn_quant.h")
        m.notes.append(f"Training rows stored as {dtype} codes on one grid step for every feature "
                       f"(Q = {Q}); distances are exact integer sums on the codes.")
        fn = f"mlrn_knn_nearest_{'sqeuclid' if squared else 'manhattan'}_q{8 if dtype == 'int8' else 16}"
        search = (f"    {qt} q[{d}];\n"
                  f"    mlrn_quant_to_{fs}({N}_qa, {N}_qc, {N}_N_DIMS, {N}_Q, {xin}, q);\n"
                  f"    return {fn}({N}_rows, {N}_N_ROWS, {N}_N_DIMS, q, {N}_K, work);\n")
        m.extra_defines["Q"] = Q
        search_ram = pre_ram + qsz * d
    else:
        # lossless storage: the smallest of float rows, integer rows (int8/int16: values that are all integers),
        # and uint8 codes into a palette of the distinct values (at most 256); all read back as the same float32
        storage, sfx, values, palette = "float", "f32", rows32, None
        uniq = np.unique(rows32)
        if np.all(rows32 == np.round(rows32)) and rows32.min() >= -128 and rows32.max() <= 127:
            storage, sfx, values = "int8_t", "f32_i8", rows32.astype(np.int64)
        elif np.all(rows32 == np.round(rows32)) and rows32.min() >= -32768 and rows32.max() <= 32767:
            storage, sfx, values = "int16_t", "f32_i16", rows32.astype(np.int64)
        if len(uniq) <= 256 and 4 * len(uniq) + rows32.size < Table("r", storage, values).nbytes:
            storage, sfx, palette = "uint8_t", "f32_p8", uniq.astype(np.float32)
            values = np.searchsorted(uniq, rows32).astype(np.int64)
            assert np.array_equal(palette[values].view(np.uint32), rows32.view(np.uint32))
        m.tables.append(Table("rows", storage, values))
        if palette is not None:
            m.tables.append(Table("palette", "float", palette))
            m.notes.append(f"Training rows stored as uint8 codes into a palette of their {len(palette)} distinct "
                           "float32 values (exact; the distances are float32).")
        elif storage != "float":
            m.notes.append(f"Training rows are integers: stored as {storage} (exact; the distances are float32).")
        fn = f"mlrn_knn_nearest_{'sqeuclid' if squared else 'manhattan'}_{sfx}"
        rows_arg = f"{N}_rows, {N}_palette" if palette is not None else f"{N}_rows"
        search = f"    return {fn}({rows_arg}, {N}_N_ROWS, {N}_N_DIMS, {xin}, {N}_K, work);\n"
        search_ram = pre_ram
    buf = 8 * k
    m.extra_defines.update({"N_DIMS": d, "N_ROWS": n_rows, "K": k, "WEIGHTED": int(weighted), "SQUARED": int(squared),
                            "CODES": int(integer)})
    m.extra_defines["BUFFER_BYTES"] = f"{buf}   /* the caller's work buffer: uint32_t[2 * {N}_K] */"
    flags = f"{N}_WEIGHTED, {N}_SQUARED, {N}_CODES"
    helpers = [proj.helper(N)] if proj is not None else []
    helpers += [f"/* The {N}_K nearest training rows of x into work (uint32_t[2 * {N}_K], {N}_BUFFER_BYTES bytes: "
               f"see mlrn_knn.h); returns how many. */",
               f"static inline uint16_t {N}_neighbors(const float *x, uint32_t *work) {{\n{pre}{search}}}",
               f"/* Bytes of the work buffer the _with entry points take. */",
               f"static inline size_t {N}_buffer_size(void) {{ return {N}_BUFFER_BYTES; }}"]
    if regressor:
        y32 = f32(y)
        if not np.all(np.isfinite(y32)):
            raise UnsupportedModel(f"{name}: targets that are not finite in float32")
        m.tables.append(Table("y", "float", y32))
        helpers += [f"/* predict with a caller-owned work buffer. */",
                    f"static inline float {N}_predict_value_with(const float *x, uint32_t *work) {{\n"
                    f"    uint16_t n = {N}_neighbors(x, work);\n"
                    f"    return mlrn_knn_value(work, {N}_K, n, {N}_y, {flags});\n}}"]
        m.n_outputs = 1
        m.value_body = f"    uint32_t work[MLRN_KNN_WORK_WORDS({N}_K)];\n    return {N}_predict_value_with(x, work);"
        m.ram_bytes = buf + search_ram
    else:
        C = len(classes)
        m.tables.append(Table("labels", "uint8_t", np.asarray(y, dtype=np.int64)))
        helpers += [f"/* predict with a caller-owned work buffer. */",
                    f"static inline int32_t {N}_predict_with(const float *x, uint32_t *work) {{\n"
                    f"    uint16_t n = {N}_neighbors(x, work);\n"
                    f"    return mlrn_knn_vote(work, {N}_K, n, {N}_labels, {C}, {flags});\n}}"]
        m.predict_body = f"    uint32_t work[MLRN_KNN_WORK_WORDS({N}_K)];\n    return {N}_predict_with(x, work);"
        m.proba_body = (f"    uint32_t work[MLRN_KNN_WORK_WORDS({N}_K)];\n    uint16_t n = {N}_neighbors(x, work);\n"
                        f"    mlrn_knn_proba(work, {N}_K, n, {N}_labels, {C}, {flags}, out);")
        m.ram_bytes = buf + search_ram
    m.helpers = "\n".join(helpers)
    m.info.update({"k": k, "metric": metric, "buffer_bytes": buf})

    def neighbors(X):
        X = f32(X)
        if proj is not None:
            X = proj.mirror(X)
        elif prescale:
            X = prescale.mirror(X)
        if integer:
            D = codes_distances(quantize_mirror(X, a32, c32, Q), rows_q, metric)
        else:
            D = distances_mirror(X, rows32, metric)
        return nearest(D, k)

    if regressor:
        m.ref_value = lambda X: value_mirror(*neighbors(X), y32, weighted, squared, integer)[:, None]
    else:
        labels = np.asarray(y, dtype=np.int64)

        def votes(X):
            return votes_mirror(*neighbors(X), labels, len(classes), weighted, squared, integer)

        m.ref_predict = lambda X: np.argmax(votes(X), axis=1)
        m.ref_proba = lambda X: proba_mirror(votes(X))
    m.info["neighbors"] = neighbors
    board = opts.get("board")
    if board is not None:
        check_board(m, board)
    return m


def check_board(m: CModel, board: str):
    """Refuse, in one line, tables that cannot fit the board's flash."""
    b = get_board(board)
    if m.flash_bytes > b.flash_bytes:
        raise UnsupportedModel(f"{m.source}: {m.extra_defines.get('N_ROWS', '?')} training rows take "
                               f"{m.flash_bytes} bytes of tables, more than the {b.flash_bytes} bytes of flash of "
                               f"the {b.name}: use fewer rows or dtype='int8'")
