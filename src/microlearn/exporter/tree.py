"""Decision trees and forests (RandomForest, ExtraTrees): node tables, scikit-learn's semantics.

Thresholds: scikit-learn tests float32(x) <= threshold (float64). Storing the largest
float32 not above the threshold makes the float32 test identical for every float32 x.
With scalers in front (Pipeline), the thresholds are moved back to the raw input by an
exact search through scikit-learn's own float32 transform, so the scaling costs nothing.

Leaves: a tree/forest whose leaves are all pure (one class, the default when trees are
grown fully) stores the class in the child code and votes with integers: exactly
scikit-learn's soft vote (sums of 0/1 are exact in any precision). Otherwise leaves index
a float32 probability table summed in tree order in float32 (scikit-learn sums in
float64: two classes whose summed probabilities differ by less than float32's rounding
can come out in the other order -- measured and reported, never observed on the test sets).
"""
from __future__ import annotations

import numpy as np

from microlearn.core.c_format import c_float, c_int

from microlearn.core import vocab
from .model import CModel, Table, f32
from .prep import UnsupportedModel, floor_f32


def f32_key(v) -> np.ndarray:
    """mlrn_tree_f32_key: the ordered int32 key of float32 values (int64 array)."""
    b = np.asarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(b < 0, b ^ 0x7FFFFFFF, b)


def _flatten(tree, prescale):
    """Internal nodes of one sklearn Tree in preorder -> (feature, thr64-or-32, left, right, leaf_values)."""
    cl, cr = tree.children_left, tree.children_right
    value = tree.value[:, 0, :].astype(np.float64)
    if tree.value.shape[1] != 1:
        raise UnsupportedModel("multi-output trees are not supported")
    order, stack = [], [0]
    # preorder over internal nodes
    internal_id = {}
    leaves = []
    leaf_id = {}
    while stack:
        nd = stack.pop()
        if cl[nd] == -1:
            leaf_id[nd] = len(leaves)
            leaves.append(nd)
            continue
        internal_id[nd] = len(order)
        order.append(nd)
        stack.append(cr[nd])
        stack.append(cl[nd])
    return order, internal_id, leaves, leaf_id, value


INLINE_TREES_MAX_NODES = 160
RECORD_MAX_FEATURES = 64       # the node's first byte is 4*feature (even; odd marks a leaf)
SCALAR_ACCS = 3               # forests of up to 4 classes sum in named variables


def _records(feats, keys, lefts, rights, roots, leaf_mult=1):
    """Record table of mlrn_tree_rec_leaf (see mlrn_tree.h): each tree in preorder, a node's left
    child right after it. Returns (bytes, byte offset of each root), or None when it does not fit
    the format (u16 offsets and leaf values). Leaf values are multiplied by leaf_mult."""
    out = bytearray()
    root_offsets = []
    for r in roots:
        root_offsets.append(len(out))
        stack = [("emit", int(r))]
        while stack:
            op, v = stack.pop()
            if op == "patch":                 # v: offset of the node whose right child starts here
                out[v + 1:v + 3] = len(out).to_bytes(2, "little") if len(out) < 65536 else b"\xff\xff"
                continue
            if v < 0:
                val = (-1 - v) * leaf_mult
                if val > 65535:
                    return None
                out += bytes([1]) + val.to_bytes(2, "little")
                continue
            at = len(out)
            out += bytes([4 * int(feats[v]), 0, 0]) + int(keys[v]).to_bytes(4, "little", signed=True)
            stack += [("emit", int(rights[v])), ("patch", at), ("emit", int(lefts[v]))]
    if len(out) >= 65536:
        return None
    return np.frombuffer(bytes(out), dtype=np.uint8).copy(), root_offsets


def _record_walker(table):
    """Mirror of mlrn_tree_rec_leaf, reading the record bytes: X (float32 rows), root offset -> leaf values."""
    b = np.asarray(table, dtype=np.int64)
    n = len(b)
    pad = np.concatenate([b, np.zeros(8, np.int64)])
    is_leaf = (b & 1) == 1
    feat = b >> 2
    right = pad[1:n + 1] | (pad[2:n + 2] << 8)
    key = (pad[3:n + 3] | (pad[4:n + 4] << 8) | (pad[5:n + 5] << 16) | (pad[6:n + 6] << 24))
    key = np.where(key >= 2 ** 31, key - 2 ** 32, key)

    def walk(X, root):
        X = f32(X)
        off = np.full(X.shape[0], root, dtype=np.int64)
        rows = np.arange(X.shape[0])
        while True:
            act = ~is_leaf[off]
            if not act.any():
                break
            o = off[act]
            go_left = f32_key(X[rows[act], feat[o]]) <= key[o]
            off[act] = np.where(go_left, o + vocab.TREE_REC_NODE_BYTES, right[o])
        return right[off]            # a leaf's value sits where a node's right offset does
    return walk



def _code_layout(m, N, d, C, T, pure, feats, keys, lefts, rights, roots, total, rank=False):
    """Forests as nested ifs, no node tables. 'code': each node compares the input's ordered
    int32 key (computed once per prediction) with an immediate. 'rank': each input is first
    replaced by its rank among the feature's sorted distinct threshold keys (binary search in a
    table), r = #{thresholds < key(x)}; then x <= t_j <=> r <= j and each node is an 8-bit compare.
    Both make the same decisions (and leaf codes) as the node tables; leaves stay in their table."""
    feats = np.asarray(feats, np.int64)
    keys = np.asarray(keys, np.int64)
    codes_all = np.asarray(list(lefts) + list(rights) + list(roots), np.int64)
    max_off = int((-1 - codes_all[codes_all < 0]).max()) if np.any(codes_all < 0) else 0
    rtype_ret = "uint8_t" if max_off <= 255 else ("int16_t" if max_off <= 32767 else "int32_t")
    if rank:
        uniq = [np.unique(keys[feats == f]) for f in range(d)]
        nmax = max(len(u) for u in uniq)
        rtype = "uint8_t" if nmax <= 255 else "uint16_t"
        jidx = np.array([int(np.searchsorted(uniq[f], k)) for f, k in zip(feats, keys)], np.int64)
        counts = np.asarray([len(u) for u in uniq])
        m.tables = [t for t in m.tables] + [Table("tkeys", "int32_t", np.concatenate(uniq)),
                                            Table("tn", "uint8_t" if nmax <= 255 else "uint16_t", counts)]

    def test(i):
        if rank:
            return f"r[{int(feats[i])}] <= {int(jidx[i])}u"
        return f"k[{int(feats[i])}] <= INT32_C({c_int(keys[i])})"

    def emit(code, ind):
        if code < 0:
            return f"{ind}return {-1 - code};\n"
        i = int(code)
        return (f"{ind}if ({test(i)}) {{\n" + emit(lefts[i], ind + "    ") +
                f"{ind}}} else {{\n" + emit(rights[i], ind + "    ") + f"{ind}}}\n")

    fns = []
    arg = f"const {rtype} *r" if rank else "const int32_t *k"
    # small forests: trees inlined into the sum (fewest cycles); large ones: one function per tree
    # (avr-gcc can otherwise emit out-of-range branches in one huge function)
    fn_kw = "static inline" if len(feats) <= INLINE_TREES_MAX_NODES else "MLRN_TREE_FN"
    for t, r in enumerate(roots):
        fns.append(f"{fn_kw} {rtype_ret} {N}_tree{t}({arg}) {{\n" + emit(int(r), "    ") + "}")
    if rank:
        fn, nt, ncast = (("mlrn_tree_rank8", "uint8_t", "(uint8_t)") if rtype == "uint8_t"
                         else ("mlrn_tree_rank", "uint16_t", "(uint16_t)"))
        nread = "mlrn_flash_u8" if nmax <= 255 else "mlrn_flash_u16"
        keys_c = (f"    {rtype} r[{d}];\n    uint16_t i;\n    const int32_t *tk = {N}_tkeys;\n"
                  f"    for (i = 0; i < {d}; i++) {{\n"
                  f"        {nt} n = {nread}(&{N}_tn[i]);\n"
                  f"        r[i] = n ? ({rtype}){fn}(tk, n, mlrn_tree_f32_key(x[i])) : 0;\n"
                  f"        tk = &tk[n];\n    }}\n")
        ksz = (1 if rtype == "uint8_t" else 2) * d
    else:
        keys_c = (f"    int32_t k[{d}];\n    uint16_t i;\n"
                  f"    for (i = 0; i < {d}; i++) k[i] = mlrn_tree_f32_key(x[i]);\n")
        ksz = 4 * d
    if pure:
        kv = "r" if rank else "k"
        body = "".join(f"    votes[{N}_tree{t}({kv})]++;\n" for t in range(T))
        helper = (f"static inline void {N}_votes(const float *x, uint16_t *votes) {{\n" + keys_c +
                  f"    for (i = 0; i < {C}; i++) votes[i] = 0;\n" + body + "}")
        m.ram_bytes = 2 * C + ksz
    else:
        kv = "r" if rank else "k"
        body = "".join(f"    p = &{N}_leaf_q[{N}_tree{t}({kv})];\n"
                       f"    for (i = 1; i < {C}; i++) acc[i] += mlrn_flash_u32(&p[i - 1u]);\n" for t in range(T))
        helper = (f"static inline void {N}_sum(const float *x, uint32_t *acc) {{\n" + keys_c +
                  f"    const uint32_t *p;\n    for (i = 1; i < {C}; i++) acc[i] = 0;\n" + body +
                  f"    acc[0] = {total}UL;\n    for (i = 1; i < {C}; i++) acc[0] -= acc[i];\n}}")
        m.ram_bytes = 4 * C + ksz
    m.helpers = "\n\n".join(fns + [helper])
    m.tables = [t for t in m.tables if t.suffix not in ("feature", "threshold", "left", "right", "roots")]
    m.notes.append("Layout: nested compares of " + ("the inputs' ranks among each feature's thresholds."
                                                    if rank else "the inputs' ordered int32 keys (no node tables)."))


def lower_trees(est, N, prescale, opts, quant=None) -> CModel:
    """quant: None (float32 inputs), or a callable (features, float32 thresholds, d) ->
    (integer thresholds, C type of x and thresholds, 'q8'|'q16'): the model then takes quantized
    inputs (`const int8_t/int16_t *x`) and its mirrors take integer arrays (see quant.py)."""
    name = type(est).__name__
    trees = [est] if hasattr(est, "tree_") else list(est.estimators_)
    forest = not hasattr(est, "tree_")
    classes = est.classes_
    C = len(classes)
    if getattr(est, "n_outputs_", 1) != 1:
        raise UnsupportedModel("multi-output trees are not supported")
    d = int(est.n_features_in_)

    flat = [_flatten(t.tree_, prescale) for t in trees]
    pure = True
    for order, iid, leaves, lid, value in flat:
        v = value[leaves]
        if np.any(np.count_nonzero(v, axis=1) != 1):
            pure = False
    # single tree: predict needs only argmax(value[leaf]); class codes work unless predict_proba
    # would need the leaf's distribution -- then codes are leaf indices + a class table.
    # forests with probability leaves: the child code holds the offset of the leaf's row in the
    # fixed-point table (C - 1 values: class 0 is the remainder), so no multiplication at run time
    leaf_stride = (C - 1) if (forest and not pure) else 1
    feats, thr64, lefts, rights, roots = [], [], [], [], []
    leaf_proba, leaf_class = [], []
    base = 0
    leaf_base = 0
    for order, iid, leaves, lid, value in flat:
        def code(nd):
            if nd in iid:
                return base + iid[nd]
            if pure:
                return -1 - int(np.argmax(value[nd]))
            return -1 - (leaf_base + lid[nd]) * leaf_stride

        t_ = trees[len(roots)].tree_
        for nd in order:
            feats.append(int(t_.feature[nd]))
            thr64.append(float(t_.threshold[nd]))
            lefts.append(code(int(t_.children_left[nd])))
            rights.append(code(int(t_.children_right[nd])))
        roots.append(code(0))
        if not pure:
            for nd in leaves:
                v = value[nd]
                leaf_proba.append(v / v.sum())
                leaf_class.append(int(np.argmax(v)))
        base += len(order)
        leaf_base += len(leaves)
    feats = np.asarray(feats, dtype=np.int64)
    thr64 = np.asarray(thr64, dtype=np.float64)
    if prescale:
        thr32 = prescale.fold_thresholds(feats, thr64)
    else:
        thr32 = floor_f32(thr64)
    thr32 = np.where(thr32 == 0, np.float32(0.0), thr32).astype(np.float32)   # never -0 (see mlrn_tree.h)
    keys = f32_key(thr32)
    n_nodes = len(feats)
    codes = np.asarray(lefts + rights + roots, dtype=np.int64)
    ftype = "uint8_t" if d <= 256 else "uint16_t"
    ctype = "int16_t" if (codes.size == 0 or (codes.min() >= -32768 and codes.max() <= 32767)) else "int32_t"
    suffix = ("u8" if ftype == "uint8_t" else "u16") + ("_i16" if ctype == "int16_t" else "_i32")
    cread = "mlrn_flash_i16" if ctype == "int16_t" else "mlrn_flash_i32"
    ccast = "(int16_t)" if ctype == "int16_t" else ""
    m = CModel(name=N, source=f"sklearn {name}" + (f"({len(trees)} trees)" if forest else ""), n_features=d,
               classes=classes, includes=["mlrn_tree.h", "mlrn_linear.h"])
    m.info["thresholds"] = thr32
    xtype = "float"
    thr_table = Table("threshold", "int32_t", keys)
    leaf_prefix = "mlrn_tree_key_leaf_"
    if quant is not None:
        qthr, xtype, qs = quant(feats, thr32, d)
        keys = np.asarray(qthr, dtype=np.int64)
        thr_table = Table("threshold", xtype, keys)
        leaf_prefix = f"mlrn_tree_leaf_{qs}_"
    # tree_layout (float32 forests): "table" (node tables), "rank" (nested 8-bit compares of each
    # input's rank among its feature's thresholds: pays a search per feature and prediction), "code"
    # (nested int32-key compares: fewest AVR cycles, most flash). "auto" (default) = "table": with the
    # record tables it has the least flash on AVR and Cortex-M4F and beats "rank" in AVR cycles but
    # on iris (benchmarks/results/export_peers.md). Single trees are always node tables.
    layout = opts.get("tree_layout", "auto")
    if layout not in ("auto", "table", "code", "rank"):
        raise ValueError("tree_layout must be 'auto', 'table', 'code' or 'rank'")
    if layout == "auto":
        layout = "table"
    T = len(trees)
    # float32 node tables: the record table (mlrn_tree_rec_leaf) when it fits its format, else the
    # separate feature/threshold/left/right tables (also what quantized inputs use)
    rec = None
    if quant is None and d <= RECORD_MAX_FEATURES and not (forest and layout in ("code", "rank") and n_nodes > 0):
        # forests with probability leaves: the leaf holds the byte offset of its row (no scaling at run time)
        leaf_mult = 4 if (forest and not pure) else 1
        rec = _records(feats, keys, lefts, rights, roots, leaf_mult)
    m.info["features"] = feats
    if rec is not None:
        rec_bytes, rec_roots = rec
        m.tables = [Table("nodes", "uint8_t", rec_bytes)]
        if forest:
            m.tables.append(Table("roots", "uint16_t", np.asarray(rec_roots)))
            root_expr = f"mlrn_flash_u16(&{N}_roots[t])"
        else:
            root_expr = f"{rec_roots[0]}u"
        m.notes.append("Layout: one record table (mlrn_tree_rec_leaf): 7 bytes per node, 3 per leaf.")

        def walk(r):
            return f"mlrn_tree_rec_leaf({N}_nodes, {r}, x)"
    else:
        m.tables = [Table("feature", ftype, feats), thr_table,
                    Table("left", ctype, np.asarray(lefts)), Table("right", ctype, np.asarray(rights))]
        if n_nodes == 0:
            m.tables = [Table("feature", ftype, [0]), Table("threshold", thr_table.ctype, [0]),
                        Table("left", ctype, [-1]), Table("right", ctype, [-1])]
        leaf_fn = f"{leaf_prefix}{suffix}({N}_feature, {N}_threshold, {N}_left, {N}_right"
        if forest:
            m.tables.append(Table("roots", ctype, np.asarray(roots)))
            root_expr = f"{ccast}{cread}(&{N}_roots[t])"
        else:
            root_expr = f"{ccast}{roots[0]}"

        def walk(r):
            return f"{leaf_fn}, {r}, x)"
    m.extra_defines["N_NODES"] = n_nodes
    m.extra_defines["N_TREES"] = T
    if prescale:
        m.notes.append(f"{prescale.describe()} folded exactly into the thresholds.")
    m.notes.append("Leaves: " + ("pure, class index in the child code (integer votes)." if pure
                                 else "leaf-probability table." if not forest else
                                 "leaf probabilities in uint32 fixed point, summed exactly in integers."))
    W = walk(root_expr)
    leaf_row = f"&{N}_leaf_q[{W}]"
    if rec is not None and forest and not pure:
        leaf_row = f"(const uint32_t *)(const void *)((const uint8_t *){N}_leaf_q + {W})"
    if not pure:
        P64 = np.asarray(leaf_proba, dtype=np.float64)
        LP = f32(P64)
        if forest:
            # fixed point: T * 2^shift <= 2^32 - 1, so the sum of T leaves fits a uint32 and is exact
            shift = int(np.floor(np.log2((2.0 ** 32 - 1) / T)))
            LQ1 = np.floor(P64[:, 1:] * 2.0 ** shift + 0.5).astype(np.int64)
            over = LQ1.sum(axis=1) - 2 ** shift          # keep each row's sum <= 2^shift
            for r in np.flatnonzero(over > 0):
                for _ in range(int(over[r])):
                    LQ1[r, int(np.argmax(LQ1[r]))] -= 1
            total = T * 2 ** shift
            m.tables.append(Table("leaf_q", "uint32_t", LQ1))
            qscale = np.float32(1.0 / (T * 2.0 ** shift))
        else:
            m.tables.append(Table("leaf_proba", "float", LP))
        if not forest:
            m.tables.append(Table("leaf_class", "uint8_t" if C <= 256 else "uint16_t", np.asarray(leaf_class)))

    # C bodies
    if not forest:
        if pure:
            m.predict_body = f"    return (int32_t){W};"
            m.proba_body = (f"    int32_t c = (int32_t){W};\n    uint16_t i;\n"
                            f"    for (i = 0; i < {C}; i++) out[i] = 0.0f;\n    out[c] = 1.0f;")
        else:
            acc = "mlrn_flash_u8" if C <= 256 else "mlrn_flash_u16"
            m.predict_body = f"    return (int32_t){acc}(&{N}_leaf_class[{W}]);"
            m.proba_body = (f"    uint32_t leaf = (uint32_t){W};\n    uint16_t i;\n"
                            f"    for (i = 0; i < {C}; i++) out[i] = mlrn_flash_f32(&{N}_leaf_proba[leaf * {C}u + i]);")
        m.ram_bytes = 0
    else:
        if pure:
            m.helpers = (f"static inline void {N}_votes(const {xtype} *x, uint16_t *votes) {{\n"
                         f"    uint16_t t;\n    for (t = 0; t < {C}; t++) votes[t] = 0;\n"
                         f"    for (t = 0; t < {T}; t++) votes[{W}]++;\n}}")
            m.predict_body = (f"    uint16_t votes[{C}];\n    {N}_votes(x, votes);\n"
                              f"    return mlrn_linear_argmax_u16(votes, {C});")
            m.proba_body = (f"    uint16_t votes[{C}];\n    uint16_t i;\n    {N}_votes(x, votes);\n"
                            f"    for (i = 0; i < {C}; i++) out[i] = (float)votes[i] / {float(T)!r}f;")
            m.ram_bytes = 2 * C
        else:
            head = (f"/* acc[c]: sum over trees of the leaves' class-c probability in fixed point (2^-{shift});\n"
                    f" * the table holds classes 1..{C - 1}, class 0 is the remainder (rows sum to 2^{shift}). */\n"
                    f"static inline void {N}_sum(const {xtype} *x, uint32_t *acc) {{\n")
            if C - 1 <= SCALAR_ACCS:
                # a few classes: named accumulators stay in registers across the trees (an array
                # lives on the stack: a load and a store per class and tree, ~16 cycles on AVR)
                a = [f"a{c}" for c in range(1, C)]
                m.helpers = (head + f"    uint32_t {', '.join(v + ' = 0' for v in a)};\n    uint16_t t;\n"
                             f"    for (t = 0; t < {T}; t++) {{\n"
                             f"        const uint32_t *p = {leaf_row};\n" +
                             "".join(f"        {v} += mlrn_flash_u32(&p[{c}]);\n" for c, v in enumerate(a)) +
                             "    }\n" + "".join(f"    acc[{c + 1}] = {v};\n" for c, v in enumerate(a)) +
                             f"    acc[0] = (uint32_t){total}UL - " + " - ".join(a) + ";\n}")
            else:
                m.helpers = (head + f"    uint16_t t, i;\n    for (i = 1; i < {C}; i++) acc[i] = 0;\n"
                             f"    for (t = 0; t < {T}; t++) {{\n"
                             f"        const uint32_t *p = {leaf_row};\n"
                             f"        for (i = 1; i < {C}; i++) acc[i] += mlrn_flash_u32(&p[i - 1u]);\n"
                             f"    }}\n    acc[0] = {total}UL;\n"
                             f"    for (i = 1; i < {C}; i++) acc[0] -= acc[i];\n}}")
            m.predict_body = (f"    uint32_t acc[{C}];\n    {N}_sum(x, acc);\n"
                              f"    return mlrn_tree_argmax_u32(acc, {C});")
            m.proba_body = (f"    uint32_t acc[{C}];\n    uint16_t i;\n    {N}_sum(x, acc);\n"
                            f"    for (i = 0; i < {C}; i++) out[i] = (float)acc[i] * {c_float(qscale)};")
            m.ram_bytes = 4 * C

    if layout in ("code", "rank") and forest and quant is None and n_nodes > 0:
        _code_layout(m, N, d, C, T, pure, feats, keys, lefts, rights, roots, total if not pure else None,
                     rank=layout == "rank")

    # Python mirror
    feats_a, thr_a = feats, keys
    L = np.asarray(lefts, dtype=np.int64)
    R = np.asarray(rights, dtype=np.int64)

    def tables_leaf(X, t):
        """Leaf value of tree t: the separate tables' walk (quantized, > 64 inputs, code/rank)."""
        X = np.asarray(X, dtype=np.int64) if quant is not None else f32(X)
        code = np.full(X.shape[0], roots[t], dtype=np.int64)
        rows = np.arange(X.shape[0])
        while True:
            act = code >= 0
            if not act.any():
                break
            c = code[act]
            xv = X[rows[act], feats_a[c]]
            go_left = (xv <= thr_a[c]) if quant is not None else (f32_key(xv) <= thr_a[c])
            code[act] = np.where(go_left, L[c], R[c])
        return -1 - code

    if rec is not None:
        # the C walks the record bytes: so does the mirror (the encoding is tested with the C)
        rec_walk = _record_walker(rec_bytes)

        def leaf_of(X, t):
            return rec_walk(X, rec_roots[t]) // leaf_mult
    else:
        leaf_of = tables_leaf

    def tree_outputs(X):
        return [leaf_of(X, t) for t in range(T)]

    if not forest:
        if pure:
            m.ref_predict = lambda X: leaf_of(X, 0)
            m.ref_proba = lambda X: np.eye(C, dtype=np.float32)[leaf_of(X, 0)]
        else:
            lc = np.asarray(leaf_class)
            m.ref_predict = lambda X: lc[leaf_of(X, 0)]
            m.ref_proba = lambda X: LP[leaf_of(X, 0)]
    else:
        if pure:
            def votes(X):
                V = np.zeros((len(X), C), dtype=np.int64)
                for lv in tree_outputs(X):
                    V[np.arange(len(X)), lv] += 1
                return V
            m.ref_predict = lambda X: np.argmax(votes(X), axis=1)
            m.ref_proba = lambda X: (votes(X).astype(np.float32) / np.float32(T)).astype(np.float32)
        else:
            def sums(X):
                S = np.zeros((len(X), C), dtype=np.int64)
                for lv in tree_outputs(X):
                    S[:, 1:] = S[:, 1:] + LQ1[lv // leaf_stride]
                S[:, 0] = total - S[:, 1:].sum(axis=1)
                return S
            m.ref_predict = lambda X: np.argmax(sums(X), axis=1)
            m.ref_proba = lambda X: (sums(X).astype(np.float64).astype(np.float32) * qscale).astype(np.float32)
    return m
