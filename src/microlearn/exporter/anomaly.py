"""Anomaly detectors: IsolationForest and EllipticEnvelope. NAME_predict returns scikit-learn's label itself
(+1 inlier, -1 outlier), NAME_score_samples(x) its score_samples, NAME_decision_function(x, out) its
decision_function (score_samples - offset_), all from const tables and mlrn_anomaly.h, with numpy mirrors of the
float32 arithmetic.

IsolationForest: each tree's internal nodes as mlrn_tree.h records, or node tables beyond the records' 64 KB
(thresholds as the largest float32 not above scikit-learn's float64 threshold, so each float32 test x <= t is
scikit-learn's exactly; scalers folded into the thresholds exactly), each leaf's float32 path length (depth + c(n_node_samples) - 1, scikit-learn's
_decision_path_lengths + _average_path_length_per_tree - 1, in float64 then rounded) summed in float32 in tree
order. score = -2^(-sum / (n_trees c(max_samples))) through mlrn_math_exp2_16 (1.5 ulp). predict: the score
is at least offset_ exactly when the float64 sum is at least S = -n_trees c(max_samples) log2(-offset_); the C
compares its float32 sum with the smallest float32 >= S: no exponential, and the only difference from
scikit-learn is the float32 rounding of the sum (relative 1e-7 per tree).

EllipticEnvelope: the squared Mahalanobis distance as a sum of squares of U x + c (mlrn_anomaly.h); predict:
m <= (the largest float32 <= -offset_).
"""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32
from microlearn.core.c_format import c_float, c_identifier

from .model import CModel, Table, f32
from .prep import UnsupportedModel, floor_f32
from .tree import RECORD_MAX_FEATURES, _record_walker, _records, f32_key

ANOMALY_MODELS = ("IsolationForest", "EllipticEnvelope")
LABELS = np.asarray([-1, 1])


def average_path_length(n) -> np.ndarray:
    """scikit-learn's _average_path_length c(n), float64."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros(n.shape)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def ceil_f32(t64) -> np.float32:
    """Smallest float32 >= t: s32 >= t <=> s32 >= ceil_f32(t) for every float32 s."""
    return np.float32(-floor_f32(np.asarray([-float(t64)]))[0])


def _anomaly_model(N, source, d, includes):
    m = CModel(name=N, source=source, n_features=d, classes=LABELS, includes=includes)
    m.label_values = True
    m.n_decision = 1
    return m


def _finish(m, N, fill, fill_ram, score_expr, predict_expr, offset32, ref_score, ref_predict):
    """The three entry points around a score: NAME_score_samples (helper), decision, predict."""
    m.extra_defines["OFFSET"] = f"({c_float(offset32)})   /* scikit-learn's offset_ (float32) */"
    m.helpers += (f"\n\n/* scikit-learn's score_samples. */\n"
                  f"static inline float {N}_score_samples(const float *x) {{\n{fill}    return {score_expr};\n}}")
    m.decision_body = f"    out[0] = {N}_score_samples(x) - {N}_OFFSET;"
    if predict_expr in ("0", "1"):          # a constant answer (offset_ outside the scores' range)
        m.predict_body = f"    (void)x;\n    return {'1' if predict_expr == '1' else '-1'};"
    else:
        m.predict_body = fill + f"    return {predict_expr} ? 1 : -1;"
    m.ram_bytes = fill_ram
    m.ref_decision = lambda X: (ref_score(X) - offset32).astype(np.float32)[:, None]
    m.ref_predict = ref_predict
    m.info["ref_score"] = ref_score


def lower_anomaly(est, N, prescale, opts=None, proj=None) -> CModel:
    N = c_identifier(N, "model name")
    name = type(est).__name__
    if not hasattr(est, "offset_"):
        raise UnsupportedModel(f"{name} is not fitted")
    if name == "EllipticEnvelope":
        return lower_elliptic(est, N, prescale, proj)
    return lower_iforest(est, N, prescale, proj)


# -- EllipticEnvelope ---------------------------------------------------------------------------------------
def mahalanobis_factor(precision):
    """(U, triangular): U'U = precision; U upper triangular (Cholesky) when precision is positive definite,
    else diag(sqrt(max(eigenvalue, 0))) V' (full)."""
    P = np.asarray(precision, dtype=np.float64)
    P = (P + P.T) / 2.0
    try:
        L = np.linalg.cholesky(P)
        return L.T, True
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(P)
        return np.sqrt(np.maximum(w, 0.0))[:, None] * V.T, False


def lower_elliptic(est, N, prescale, proj):
    loc = np.asarray(est.location_, dtype=np.float64)
    d0 = loc.shape[0]
    U, tri = mahalanobis_factor(est.get_precision())
    # y = U (T(x) - loc) with T the scalers (diagonal) or the projection (full): fold T into U and c
    if proj is not None:
        A, b = proj.A32.astype(np.float64), proj.b32.astype(np.float64)
        W, c = U @ A, U @ (b - loc)
        tri = False
        text = proj.text + " folded into the matrix"
    elif prescale:
        a, cc = prescale.affine64()
        W, c = U * a[None, :], U @ (cc - loc)
        text = prescale.describe() + " folded into the matrix"
    else:
        W, c, text = U, -(U @ loc), ""
    rows, d = W.shape
    W32, c32 = f32(W), f32(c)
    if not (np.all(np.isfinite(W32)) and np.all(np.isfinite(c32))):
        raise UnsupportedModel("EllipticEnvelope: a precision matrix that is not finite in float32")
    offset = float(est.offset_)
    offset32 = np.float32(offset)
    mmax = floor_f32(np.asarray([-offset]))[0]
    m = _anomaly_model(N, f"sklearn EllipticEnvelope({d0} features)", d, ["mlrn_anomaly.h"])
    if tri:
        packed = np.concatenate([W32[i, i:] for i in range(d)]) if d else np.zeros(0, np.float32)
        m.tables = [Table("u", "float", packed), Table("c", "float", c32)]
        expr = f"mlrn_anomaly_sq_tri({N}_u, {N}_c, {N}_N_FEATURES, x)"
    else:
        m.tables = [Table("u", "float", W32), Table("c", "float", c32)]
        m.extra_defines["N_ROWS"] = rows
        expr = f"mlrn_anomaly_sq_full({N}_u, {N}_c, {N}_N_ROWS, {N}_N_FEATURES, x)"
    m.extra_defines["MAHAL_MAX"] = f"({c_float(mmax)})   /* inlier: squared distance <= this */"
    m.notes.append("Squared Mahalanobis distance as a sum of squares of U x + c "
                   + ("(U: Cholesky factor of precision_, packed upper triangle)" if tri else "(full matrix)")
                   + (f"; {text}." if text else "."))
    m.helpers = (f"/* The squared Mahalanobis distance of x (scikit-learn's mahalanobis). */\n"
                 f"static inline float {N}_mahalanobis(const float *x) {{\n    return {expr};\n}}")

    def mahal(X):
        X = f32(X)
        out = np.zeros(X.shape[0], dtype=np.float32)
        for i in range(rows):
            lo = i if tri else 0
            acc = np.full(X.shape[0], c32[i], dtype=np.float32)
            for j in range(lo, d):
                acc = (acc + (W32[i, j] * X[:, j]).astype(np.float32)).astype(np.float32)
            out = (out + (acc * acc).astype(np.float32)).astype(np.float32)
        return out

    _finish(m, N, "", 0, f"-{N}_mahalanobis(x)", f"{N}_mahalanobis(x) <= {N}_MAHAL_MAX", offset32,
            lambda X: (-mahal(X)).astype(np.float32), lambda X: np.where(mahal(X) <= mmax, 1, -1))
    m.info["mahalanobis"] = mahal
    return m


# -- IsolationForest ----------------------------------------------------------------------------------------
def _table_walker(feats, keys, lefts, rights):
    """Mirror of mlrn_tree_key_leaf_*: X (float32 rows), root code -> leaf indices (-1 - code)."""
    feats, keys = np.asarray(feats, np.int64), np.asarray(keys, np.int64)
    lefts, rights = np.asarray(lefts, np.int64), np.asarray(rights, np.int64)

    def walk(X, root):
        code = np.full(X.shape[0], int(root), dtype=np.int64)
        rows = np.arange(X.shape[0])
        while True:
            act = code >= 0
            if not act.any():
                return -1 - code
            c = code[act]
            go_left = f32_key(X[rows[act], feats[c]]) <= keys[c]
            code[act] = np.where(go_left, lefts[c], rights[c])
    return walk


def lower_iforest(est, N, prescale, proj):
    trees = list(est.estimators_)
    T = len(trees)
    d_in = int(est.n_features_in_)
    subsample = int(est._max_features) != d_in
    den = T * float(average_path_length([est._max_samples])[0])
    if not den > 0:
        raise UnsupportedModel("IsolationForest with max_samples=1: every score is -1")
    feats, thr64, lefts, rights, roots, leaf_vals = [], [], [], [], [], []
    base = 0
    for t, (tree, fsub) in enumerate(zip(trees, est.estimators_features_)):
        tr = tree.tree_
        cl, cr = tr.children_left, tr.children_right
        depth = tr.compute_node_depths() if hasattr(tr, "compute_node_depths") else None
        if depth is None:
            raise UnsupportedModel("IsolationForest: this scikit-learn has no Tree.compute_node_depths")
        apl = average_path_length(tr.n_node_samples)
        order, iid, stack = [], {}, [0]
        leaf_code = {}
        while stack:
            nd = stack.pop()
            if cl[nd] == -1:
                leaf_code[nd] = -1 - len(leaf_vals)
                leaf_vals.append(float(depth[nd]) + float(apl[nd]) - 1.0)
                continue
            iid[nd] = base + len(order)
            order.append(nd)
            stack += [cr[nd], cl[nd]]
        fmap = np.asarray(fsub) if subsample else np.arange(d_in)

        def code(nd):
            return iid[nd] if nd in iid else leaf_code[nd]

        for nd in order:
            feats.append(int(fmap[tr.feature[nd]]))
            thr64.append(float(tr.threshold[nd]))
            lefts.append(code(int(cl[nd])))
            rights.append(code(int(cr[nd])))
        roots.append(code(0))
        base += len(order)
    feats = np.asarray(feats, dtype=np.int64)
    thr64 = np.asarray(thr64, dtype=np.float64)
    d = proj.n_components if proj is not None else d_in
    if proj is None and prescale:
        thr32 = prescale.fold_thresholds(feats, thr64)
    else:
        thr32 = floor_f32(thr64)
    thr32 = np.where(thr32 == 0, np.float32(0.0), thr32).astype(np.float32)   # never -0 (see mlrn_tree.h)
    if d > 65535:
        raise UnsupportedModel(f"IsolationForest: {d} features; at most 65535")
    keys = f32_key(thr32)
    rec = _records(feats, keys, lefts, rights, roots) if d <= RECORD_MAX_FEATURES else None
    leaf32 = f32(leaf_vals)
    k32 = np.float32(-16.0 / den)              # 2^(-s/den) = 2^((s * -16/den) / 16): mlrn_math_exp2_16
    smin = ceil_f32(-den * np.log2(-float(est.offset_))) if est.offset_ < 0 else None
    offset32 = np.float32(est.offset_)
    m = _anomaly_model(N, f"sklearn IsolationForest({T} trees, max_samples={est._max_samples})",
                       proj.n_features if proj is not None else d_in,
                       ["mlrn_anomaly.h", "mlrn_math.h"])
    if rec is not None:
        # the record table (mlrn_tree_rec_leaf): <= 64 features, < 64 KB, <= 65535 leaves
        nodes, root_offsets = rec
        m.tables = [Table("nodes", "uint8_t", nodes), Table("roots", "uint16_t", np.asarray(root_offsets)),
                    Table("leaf", "float", leaf32)]
        sum_body = f"    return mlrn_anomaly_path_sum({N}_nodes, {N}_roots, {N}_leaf, {N}_N_TREES, x);\n"
        layout = "one record table (mlrn_tree_rec_leaf)"
        walk = _record_walker(nodes)
        starts = root_offsets
    else:
        # larger forests (scikit-learn's default 100 trees of 256 samples): separate node tables walked by
        # mlrn_tree_key_leaf_* (the same key test), child codes int16 or int32
        codes = np.asarray(lefts + rights + roots, dtype=np.int64)
        small = codes.min() >= -32768 and codes.max() <= 32767
        ftype, fs = ("uint8_t", "u8") if d <= 256 else ("uint16_t", "u16")
        ctype, cs, cread = ("int16_t", "i16", "mlrn_flash_i16") if small else ("int32_t", "i32", "mlrn_flash_i32")
        m.tables = [Table("feature", ftype, feats), Table("threshold", "int32_t", keys),
                    Table("left", ctype, np.asarray(lefts)), Table("right", ctype, np.asarray(rights)),
                    Table("roots", ctype, np.asarray(roots)), Table("leaf", "float", leaf32)]
        sum_body = (f"    float s = 0.0f;\n    uint16_t t;\n    for (t = 0; t < {N}_N_TREES; t++)\n"
                    f"        s = s + mlrn_flash_f32(&{N}_leaf[mlrn_tree_key_leaf_{fs}_{cs}({N}_feature, {N}_threshold, "
                    f"{N}_left, {N}_right, ({ctype}){cread}(&{N}_roots[t]), x)]);\n    return s;\n")
        layout = f"node tables (mlrn_tree_key_leaf_{fs}_{cs})"
        walk = _table_walker(feats, keys, lefts, rights)
        starts = roots
    m.extra_defines["N_TREES"] = T
    m.extra_defines["EXP_K"] = f"({c_float(k32)})   /* -16 / (n_trees c(max_samples)) */"
    fill, fill_ram, xin = "", 0, "x"
    if proj is not None:
        fill, fill_ram = proj.attach(m, N)
        xin = "z"
    elif prescale:
        m.notes.append(f"{prescale.describe()} folded into the thresholds (exact).")
    if smin is None:                            # offset_ >= 0: every score (< 0) is below it
        predict = "0"
    elif not np.isfinite(smin) or smin <= 0:    # -offset_ >= 1: every score (>= -1) is at least offset_
        predict = "1"
        smin = None
    else:
        m.extra_defines["PATH_MIN"] = f"({c_float(smin)})   /* inlier: path length sum >= this */"
        predict = f"{N}_path_sum({xin}) >= {N}_PATH_MIN"
    m.helpers = (proj.helper(N) + "\n\n" if proj is not None else "") + (
                 f"/* Sum over the trees of the path lengths of x (scikit-learn's depths). */\n"
                 f"static inline float {N}_path_sum(const float *x) {{\n{sum_body}}}")
    m.notes.append(f"Layout: {layout} and a float32 path length per leaf.")

    def path_sum(X):
        X = f32(X)
        if proj is not None:
            X = proj.mirror(X)
        s = np.zeros(X.shape[0], dtype=np.float32)
        for r in starts:
            s = (s + leaf32[walk(X, r)]).astype(np.float32)
        return s

    def score(X):
        return (-_f32.exp2_16((path_sum(X) * k32).astype(np.float32))).astype(np.float32)

    def pred(X):
        if smin is None:
            return np.full(len(X), 1 if predict == "1" else -1)
        return np.where(path_sum(X) >= smin, 1, -1)

    _finish(m, N, fill, fill_ram, f"-mlrn_math_exp2_16({N}_path_sum({xin}) * {N}_EXP_K)",
            predict, offset32, score, pred)
    m.ram_bytes = fill_ram
    m.info["path_sum"] = path_sum
    return m
