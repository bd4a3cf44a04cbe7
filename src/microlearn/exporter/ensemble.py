"""Sums of tree leaf values: regression trees and forests, gradient boosting (classic and histogram).

Every model here is `raw[o] = init[o] + sum over its trees of leaf value` in one normalised form:
K groups of S trees each, each leaf a row of W values, output o = k*W + j (K*W outputs):
- DecisionTreeRegressor: K = 1, S = 1, W = n_outputs, init 0;
- RandomForestRegressor / ExtraTreesRegressor: K = 1, S = T, W = n_outputs, leaves pre-multiplied by 1/T
  (scikit-learn averages: sum / T);
- GradientBoosting*: K = 1 (regression, binary) or n_classes, S = n_stages, W = 1, leaves pre-multiplied
  by learning_rate (scikit-learn adds learning_rate * value), init = the init estimator's raw constant;
- HistGradientBoosting*: K = n_trees_per_iteration_, S = n_iter_, W = 1, leaf values as stored (the
  shrinkage is in them), init = the baseline prediction; NaN routed as each node says (missing_go_to_left).
Leaf values are float32(scale * v) computed in float64, then summed in float32 in scikit-learn's order
(per output: init, then the trees in stage order): the float32 mirror here repeats it operation by
operation. Thresholds are tree.py's: the largest float32 not above the float64 threshold (or folded
through a scaler exactly), compared as ordered int32 keys.
"""
from __future__ import annotations

import numpy as np

from microlearn.core.c_format import c_float

from .linear import expit_mirror, softmax_mirror
from .model import CModel, Table, f32
from .prep import UnsupportedModel, floor_f32
from .tree import RECORD_MAX_FEATURES, _record_walker, _records, f32_key

# uint16_t counters in the generated loops (trees, outputs)
MAX_TREES = 65535
MAX_OUTPUTS = 65535


class NTree:
    """One tree in normalised form: per node is_leaf, feature, threshold (float64), left/right node ids,
    nan_left (bool: where a NaN goes; only used by NaN-aware models) and value (n_nodes, W) float64."""

    def __init__(self, is_leaf, feature, thr, left, right, value, nan_left=None):
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.thr = np.asarray(thr, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64).reshape(len(self.is_leaf), -1)
        self.nan_left = (np.zeros(len(self.is_leaf), bool) if nan_left is None
                         else np.asarray(nan_left, dtype=bool))
        self._check()

    def _check(self):
        """Hostile model files: child ids must be nodes, the structure a tree (every node reached once),
        or the flattening would loop or index out of bounds."""
        n = len(self.is_leaf)
        if n == 0:
            raise UnsupportedModel("a tree without nodes")
        if not (len(self.feature) == len(self.thr) == len(self.left) == len(self.right) == n
                and self.value.shape[0] == n and len(self.nan_left) == n):
            raise UnsupportedModel("a tree whose node arrays differ in length")
        inner = ~self.is_leaf
        for a in (self.left, self.right):
            if np.any(inner & ((a <= 0) | (a >= n))):
                raise UnsupportedModel("a tree node with a child index outside the tree")
        seen = np.zeros(n, bool)
        stack = [0]
        while stack:
            nd = stack.pop()
            if seen[nd]:
                raise UnsupportedModel("a tree whose nodes do not form a tree (a node reached twice)")
            seen[nd] = True
            if not self.is_leaf[nd]:
                stack += [int(self.right[nd]), int(self.left[nd])]


def from_sklearn_tree(tree, scale=1.0, value_index=None) -> NTree:
    """sklearn.tree._tree.Tree of a regressor: leaf values value[:, :, 0] (n_outputs columns), times scale."""
    value = np.asarray(tree.value, dtype=np.float64)
    if value.ndim != 3 or value.shape[2] != 1:
        raise UnsupportedModel("a regression tree was expected (one value per output)")
    v = value[:, :, 0] * scale
    if value_index is not None:
        v = v[:, value_index:value_index + 1]
    left = np.asarray(tree.children_left)
    return NTree(left == -1, tree.feature, tree.threshold, left, tree.children_right, v)


def from_hist_predictor(pred) -> NTree:
    """HistGradientBoosting TreePredictor: its nodes' numeric thresholds and missing-value directions."""
    try:
        nodes = np.asarray(pred.nodes)
        if np.any(nodes["is_categorical"]):
            raise UnsupportedModel("HistGradientBoosting with categorical features is not supported")
        return NTree(nodes["is_leaf"].astype(bool), nodes["feature_idx"], nodes["num_threshold"], nodes["left"],
                     nodes["right"], nodes["value"], nan_left=nodes["missing_go_to_left"].astype(bool))
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise UnsupportedModel(f"a HistGradientBoosting tree that is not one ({type(exc).__name__})") from None


class Additive:
    """The normalised model: groups[k] = the S trees of output group k (same S for all), W, init (K*W)."""

    def __init__(self, groups, init, n_features, nan_aware=False):
        self.groups = groups
        self.K = len(groups)
        self.S = len(groups[0]) if groups else 0
        if any(len(g) != self.S for g in groups) or self.S == 0:
            raise UnsupportedModel("an ensemble without trees, or with groups of different sizes")
        self.W = groups[0][0].value.shape[1]
        if any(t.value.shape[1] != self.W for g in groups for t in g):
            raise UnsupportedModel("trees with different numbers of outputs")
        self.init = np.asarray(init, dtype=np.float64).reshape(-1)
        if self.init.shape != (self.K * self.W,):
            raise UnsupportedModel("an init value per output was expected")
        if self.K * self.S > MAX_TREES or self.K * self.W > MAX_OUTPUTS:
            raise UnsupportedModel(f"at most {MAX_TREES} trees and {MAX_OUTPUTS} outputs")
        self.d = int(n_features)
        self.nan_aware = nan_aware
        for g in groups:
            for t in g:
                if np.any(~t.is_leaf & ((t.feature < 0) | (t.feature >= self.d))):
                    raise UnsupportedModel("a tree node tests a feature the model does not have")
                if np.any(~t.is_leaf & np.isnan(t.thr)):
                    raise UnsupportedModel("a tree node with a NaN threshold")

    @property
    def n_out(self):
        return self.K * self.W


def _flatten_all(add: Additive):
    """All trees (group-major) in preorder -> global node codes (>= 0 internal, < 0: -1 - leaf index)."""
    feats, thr, nanl, lefts, rights, roots, leaves = [], [], [], [], [], [], []
    for g in add.groups:
        for t in g:
            base = len(feats)
            order, stack = [], [0]
            while stack:
                nd = stack.pop()
                if t.is_leaf[nd]:
                    continue
                order.append(nd)
                stack += [int(t.right[nd]), int(t.left[nd])]
            iid = {nd: base + i for i, nd in enumerate(order)}
            lid = {}

            def code(nd):
                if not t.is_leaf[nd]:
                    return iid[nd]
                if nd not in lid:
                    lid[nd] = len(leaves)
                    leaves.append(t.value[nd])
                return -1 - lid[nd]

            roots.append(code(0))
            for nd in order:
                feats.append(int(t.feature[nd]))
                thr.append(float(t.thr[nd]))
                nanl.append(bool(t.nan_left[nd]))
                lefts.append(code(int(t.left[nd])))
                rights.append(code(int(t.right[nd])))
    return (np.asarray(feats, np.int64), np.asarray(thr, np.float64), np.asarray(nanl, bool), lefts, rights, roots,
            np.asarray(leaves, np.float64).reshape(-1, add.W))


def _tables_walker(feats, keys, L, R, nanl, nan_aware, quantized=False):
    """Mirror of mlrn_tree_key_leaf_* / mlrn_tree_nan_leaf_* (X float32) or of mlrn_tree_leaf_q* (X the
    quantized integers, keys the integer thresholds): root code -> leaf index."""
    def walk(X, root):
        X = np.asarray(X, dtype=np.int64) if quantized else f32(X)
        code = np.full(X.shape[0], root, dtype=np.int64)
        rows = np.arange(X.shape[0])
        while True:
            act = code >= 0
            if not act.any():
                break
            c = code[act]
            xv = X[rows[act], feats[c]]
            go_left = (xv <= keys[c]) if quantized else (f32_key(xv) <= keys[c])
            if nan_aware:
                go_left = np.where(np.isnan(xv), nanl[c], go_left)
            code[act] = np.where(go_left, L[c], R[c])
        return -1 - code
    return walk


def lower_additive(add: Additive, N: str, prescale, source: str, notes=(), quant=None) -> tuple[CModel, callable]:
    """The tables, the C helper `void N_raw(const float *x, float *out)` (K*W raw values; for one output
    `float N_raw(const float *x)`) and its mirror raw(X) -> (n, K*W) float32. The caller fills in the
    entry points (regressor or classifier). quant: None, or (features, float32 thresholds, d) ->
    (integer thresholds, C type of the quantized inputs, 'q8'|'q16') as in quant.py: N_raw then takes
    the quantized inputs and its mirror integer arrays."""
    feats, thr64, nanl, lefts, rights, roots, leafv = _flatten_all(add)
    d, K, S, W = add.d, add.K, add.S, add.W
    T = K * S
    thr32 = prescale.fold_thresholds(feats, thr64) if prescale else floor_f32(thr64)
    thr32 = np.where(thr32 == 0, np.float32(0.0), thr32).astype(np.float32)    # never -0 (see mlrn_tree.h)
    keys = f32_key(thr32)
    xtype = "float"
    if quant is not None:
        if add.nan_aware:
            raise UnsupportedModel("quantized inputs cannot be NaN: HistGradientBoosting exports in float32 only")
        qthr, xtype, qsuf = quant(feats, thr32, d)
        keys = np.asarray(qthr, dtype=np.int64)
    leaf32 = f32(leafv)
    init32 = f32(add.init)
    if not np.all(np.isfinite(leaf32)) or not np.all(np.isfinite(init32)):
        raise UnsupportedModel("leaf or init values that are not finite in float32")
    m = CModel(name=N, source=source, n_features=d, classes=np.asarray([]), includes=["mlrn_tree.h"],
               notes=list(notes))
    m.info["thresholds"] = thr32
    m.info["features"] = feats
    n_nodes = len(feats)
    m.extra_defines["N_NODES"] = n_nodes
    m.extra_defines["N_TREES"] = T
    rec = None
    if quant is None and not add.nan_aware and d <= RECORD_MAX_FEATURES:
        rec = _records(feats, keys, lefts, rights, roots, 1)
    codes = np.asarray(lefts + rights + roots, dtype=np.int64)
    wide = codes.size and (codes.min() < -32768 or codes.max() > 32767)
    ctype, cread, csuf = ("int32_t", "mlrn_flash_i32", "i32") if wide else ("int16_t", "mlrn_flash_i16", "i16")
    if rec is not None:
        rec_bytes, rec_roots = rec
        m.tables = [Table("nodes", "uint8_t", rec_bytes)]
        root_expr = f"mlrn_flash_u16(&{N}_roots[t])" if T > 1 else f"{rec_roots[0]}u"
        if T > 1:
            m.tables.append(Table("roots", "uint16_t", np.asarray(rec_roots)))
        walk_c = f"mlrn_tree_rec_leaf({N}_nodes, {root_expr}, x)"
        m.notes.append("Layout: one record table (mlrn_tree_rec_leaf): 7 bytes per node, 3 per leaf.")
        rw = _record_walker(rec_bytes)

        def leaf_of(X, t):
            return rw(X, rec_roots[t])
    else:
        L, R = np.asarray(lefts, np.int64), np.asarray(rights, np.int64)
        if add.nan_aware:
            ftype, fsuf = "uint16_t", None
            if d > 65536:
                raise UnsupportedModel("at most 65536 features")
        else:
            ftype, fsuf = ("uint8_t", "u8") if d <= 256 else ("uint16_t", "u16")
        nz = max(n_nodes, 1)
        m.tables = [Table("feature", ftype, feats if n_nodes else np.zeros(1, np.int64)),
                    Table("threshold", "int32_t" if quant is None else xtype, keys if n_nodes else np.zeros(1, np.int64)),
                    Table("left", ctype, L if n_nodes else np.full(1, -1)),
                    Table("right", ctype, R if n_nodes else np.full(1, -1))]
        root_expr = f"({ctype}){cread}(&{N}_roots[t])" if T > 1 else f"({ctype}){c_int_code(roots[0])}"
        if T > 1:
            m.tables.append(Table("roots", ctype, np.asarray(roots)))
        if add.nan_aware:
            bits = np.zeros((nz + 7) // 8, np.int64)
            for i in np.flatnonzero(nanl):
                bits[i >> 3] |= 1 << (i & 7)
            m.tables.append(Table("nan_left", "uint8_t", bits))
            walk_c = (f"mlrn_tree_nan_leaf_{csuf}({N}_feature, {N}_threshold, {N}_left, {N}_right, {N}_nan_left, "
                      f"{root_expr}, x)")
            m.notes.append("NaN inputs go where scikit-learn sends missing values (each node's direction).")
        elif quant is not None:
            walk_c = f"mlrn_tree_leaf_{qsuf}_{fsuf}_{csuf}({N}_feature, {N}_threshold, {N}_left, {N}_right, {root_expr}, x)"
        else:
            walk_c = f"mlrn_tree_key_leaf_{fsuf}_{csuf}({N}_feature, {N}_threshold, {N}_left, {N}_right, {root_expr}, x)"
        tw = _tables_walker(feats, keys, L, R, nanl, add.nan_aware, quantized=quant is not None)

        def leaf_of(X, t):
            return tw(X, roots[t])
    m.tables.append(Table("leaf", "float", leaf32))
    one = add.n_out == 1
    # one output and init 0 (trees, forests): the sum starts at the first tree's value (0 + v is v: one
    # float addition fewer, and a single tree returns its leaf value itself, with no addition code at all)
    from_first = one and not np.any(init32)
    if one and from_first and T == 1:
        m.helpers = (f"/* the leaf value (float32) */\n"
                     f"static inline float {N}_raw(const {xtype} *x) {{\n"
                     f"    return mlrn_flash_f32(&{N}_leaf[{walk_c}]);\n}}")
    elif one and from_first:
        w0 = walk_c.replace(f"&{N}_roots[t]", f"&{N}_roots[0]")
        m.helpers = (f"/* the trees' leaf values summed in tree order (float32) */\n"
                     f"static inline float {N}_raw(const {xtype} *x) {{\n"
                     f"    float acc = mlrn_flash_f32(&{N}_leaf[{w0}]);\n    uint16_t t;\n"
                     f"    for (t = 1; t < {T}u; t++) acc = acc + mlrn_flash_f32(&{N}_leaf[{walk_c}]);\n"
                     f"    return acc;\n}}")
    elif one:
        m.helpers = (f"/* init + the trees' leaf values, in tree order (float32). */\n"
                     f"static inline float {N}_raw(const {xtype} *x) {{\n"
                     f"    float acc = {c_float(init32[0])};\n    uint16_t t;\n"
                     f"    for (t = 0; t < {T}u; t++) acc = acc + mlrn_flash_f32(&{N}_leaf[{walk_c}]);\n"
                     f"    return acc;\n}}")
    else:
        m.tables.append(Table("init", "float", init32))
        if W == 1:
            inner = f"            out[k] = out[k] + mlrn_flash_f32(&{N}_leaf[{walk_c}]);\n"
            decl = "    uint16_t t = 0, k, s;\n"
        else:
            inner = (f"            const float *p = &{N}_leaf[(uint32_t){walk_c} * {W}u];\n"
                     f"            for (j = 0; j < {W}u; j++) out[k * {W}u + j] = out[k * {W}u + j] + "
                     f"mlrn_flash_f32(&p[j]);\n")
            decl = "    uint16_t t = 0, k, s, j;\n"
        m.helpers = (f"/* out[k*{W} + j] = init + the leaf values of group k's trees, in tree order (float32). */\n"
                     f"static inline void {N}_raw(const {xtype} *x, float *out) {{\n" + decl +
                     f"    for (k = 0; k < {add.n_out}u; k++) out[k] = mlrn_flash_f32(&{N}_init[k]);\n"
                     f"    for (k = 0; k < {K}u; k++)\n"
                     f"        for (s = 0; s < {S}u; s++, t++) {{\n" + inner + "        }\n}")

    def raw(X):
        X = np.asarray(X, dtype=np.int64) if quant is not None else f32(X)
        if from_first:
            out = leaf32[leaf_of(X, 0), :1].copy()
            for t in range(1, T):
                out[:, 0] = out[:, 0] + leaf32[leaf_of(X, t), 0]
            return out.astype(np.float32)
        out = np.repeat(init32[None, :], X.shape[0], axis=0)
        t = 0
        for k in range(K):
            for _ in range(S):
                lv = leaf_of(X, t)
                for j in range(W):
                    out[:, k * W + j] = out[:, k * W + j] + leaf32[lv, j]
                t += 1
        return out.astype(np.float32)

    return m, raw


def c_int_code(v) -> str:
    return str(int(v))


# -- regressors ----------------------------------------------------------------------------------

def regressor_model(add: Additive, N, prescale, source, notes=()) -> CModel:
    m, raw = lower_additive(add, N, prescale, source, notes)
    m.n_outputs = add.n_out
    if add.n_out == 1:
        m.value_body = f"    return {N}_raw(x);"
    else:
        m.value_body = f"    {N}_raw(x, out);"
    m.ref_value = raw
    if prescale:
        m.notes.append(f"{prescale.describe()} folded exactly into the thresholds.")
    return m


def additive_of(est):
    """(Additive, source, notes) of a tree regressor, forest or GradientBoostingRegressor."""
    name = type(est).__name__
    if name == "GradientBoostingRegressor":
        add = Additive(_gb_groups(est), _gb_init(est), est.n_features_in_)
        return (add, f"sklearn {name}({add.S} stages)",
                ["Leaves: float32(learning_rate * value), summed in stage order after init."])
    n_out = int(getattr(est, "n_outputs_", 1))
    if hasattr(est, "tree_"):
        trees = [from_sklearn_tree(est.tree_)]
        src = f"sklearn {name}"
    else:
        T = len(est.estimators_)
        # scikit-learn sums the trees' predictions in float64 and divides by T: leaves scaled by 1/T here
        trees = [from_sklearn_tree(e.tree_, 1.0 / T) for e in est.estimators_]
        src = f"sklearn {name}({T} trees)"
    add = Additive([trees], np.zeros(n_out), est.n_features_in_)
    return add, src, ["Leaves: float32 values (forests: value / n_trees), summed in tree order."]


def lower_tree_regressor(est, N, prescale, opts) -> CModel:
    add, src, notes = additive_of(est)
    return regressor_model(add, N, prescale, src, notes)


def _gb_init(est):
    init = est.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in ("DummyRegressor",
                                                                                      "DummyClassifier"):
        raise UnsupportedModel(f"GradientBoosting with init={type(init).__name__}: only the default (constant) "
                               "init or init='zero' can be exported")
    d = int(est.n_features_in_)
    return np.asarray(est._raw_predict_init(np.zeros((1, d), dtype=np.float32)), dtype=np.float64)[0]


def _gb_groups(est):
    E = np.asarray(est.estimators_)
    lr = float(est.learning_rate)
    S, K = E.shape
    # group by output k, stages in order: each output sums its trees in scikit-learn's stage order
    return [[from_sklearn_tree(E[s, k].tree_, lr) for s in range(S)] for k in range(K)]


def _hgb_parts(est):
    if getattr(est, "_preprocessor", None) is not None or np.any(getattr(est, "is_categorical_", None) or False):
        raise UnsupportedModel("HistGradientBoosting with categorical features is not supported")
    preds = est._predictors
    K = int(est.n_trees_per_iteration_)
    if any(len(p) != K for p in preds):
        raise UnsupportedModel("HistGradientBoosting: a different number of trees per iteration")
    groups = [[from_hist_predictor(preds[s][k]) for s in range(len(preds))] for k in range(K)]
    return groups, np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)


def lower_gb_regressor(est, N, prescale, opts) -> CModel:
    name = type(est).__name__
    if name == "GradientBoostingRegressor":
        add, src, notes = additive_of(est)
    else:
        link = type(est._loss.link).__name__
        if link != "IdentityLink":
            raise UnsupportedModel(f"{name}(loss={est.loss!r}): only losses whose prediction is the raw sum "
                                   "(identity link: squared_error, absolute_error, quantile) can be exported")
        groups, base = _hgb_parts(est)
        add = Additive(groups, base, est.n_features_in_, nan_aware=True)
        notes = ["Leaves: float32 values, summed in iteration order after the baseline."]
    src = f"sklearn {name}({add.S} stages)"
    return regressor_model(add, N, prescale, src, notes)


# -- classifiers -----------------------------------------------------------------------------------

def lower_gb_classifier(est, N, prescale, opts) -> CModel:
    """Binary: one raw value, class 1 when raw >= 0 (GradientBoosting) or > 0 (HistGradientBoosting, as
    scikit-learn decides them); multi-class: argmax of K raw values (first maximum). Probabilities as
    the loss gives them: log-loss expit / softmax, exponential loss expit(2 raw)."""
    name = type(est).__name__
    classes = est.classes_
    if name == "GradientBoostingClassifier":
        add = Additive(_gb_groups(est), _gb_init(est), est.n_features_in_)
        strict = False
        loss = est.loss
        if loss not in ("log_loss", "exponential"):
            raise UnsupportedModel(f"GradientBoostingClassifier(loss={loss!r})")
    else:
        groups, base = _hgb_parts(est)
        add = Additive(groups, base, est.n_features_in_, nan_aware=True)
        strict = True
        lname = type(est._loss).__name__
        if lname not in ("HalfBinomialLoss", "HalfMultinomialLoss"):
            raise UnsupportedModel(f"HistGradientBoostingClassifier with {lname}")
        loss = "log_loss"
    m, raw = lower_additive(add, N, prescale, f"sklearn {name}({add.S} stages)",
                            ["Raw values: init + float32 leaf values in stage order."])
    m.classes = np.asarray(classes)
    m.includes.append("mlrn_linear.h")
    K = add.n_out
    m.n_decision = K
    op = ">" if strict else ">="
    if K == 1:
        m.predict_body = f"    return {N}_raw(x) {op} 0.0f ? 1 : 0;"
        m.decision_body = f"    out[0] = {N}_raw(x);"
        two = "2.0f * " if loss == "exponential" else ""
        m.proba_body = (f"    float p = mlrn_linear_expit({two}{N}_raw(x));\n"
                        f"    out[0] = 1.0f - p;\n    out[1] = p;")
        m.ram_bytes = 0
        m.ref_predict = ((lambda X: (raw(X)[:, 0] > 0).astype(np.int64)) if strict
                         else (lambda X: (raw(X)[:, 0] >= 0).astype(np.int64)))
        m.ref_decision = raw
        mult = np.float32(2.0 if loss == "exponential" else 1.0)

        def proba(X):
            p = expit_mirror((mult * raw(X)[:, 0]).astype(np.float32))
            return np.stack([(np.float32(1.0) - p).astype(np.float32), p], axis=1)
        m.ref_proba = proba
    else:
        if loss == "exponential":
            raise UnsupportedModel("exponential loss with more than two classes")
        m.predict_body = (f"    float f[{K}];\n    {N}_raw(x, f);\n    return mlrn_linear_argmax_f32(f, {K});")
        m.decision_body = f"    {N}_raw(x, out);"
        m.proba_body = f"    {N}_raw(x, out);\n    mlrn_linear_softmax(out, {K});"
        m.ram_bytes = 4 * K
        m.ref_predict = lambda X: np.argmax(raw(X), axis=1)
        m.ref_decision = raw
        m.ref_proba = lambda X: softmax_mirror(raw(X))
    if prescale:
        m.notes.append(f"{prescale.describe()} folded exactly into the thresholds.")
    return m


TREE_REGRESSORS = ("DecisionTreeRegressor", "ExtraTreeRegressor", "RandomForestRegressor", "ExtraTreesRegressor")
BOOSTED_REGRESSORS = ("GradientBoostingRegressor", "HistGradientBoostingRegressor")
BOOSTED_CLASSIFIERS = ("GradientBoostingClassifier", "HistGradientBoostingClassifier")
