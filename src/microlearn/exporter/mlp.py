"""Multi-layer perceptrons (MLPClassifier, MLPRegressor): dense layers over mlrn_mlp.h, float32 and int8.

float32: scikit-learn's weights (a Pipeline's scaler folded into the first layer in float64, then
rounded to float32), each unit acc = b; acc = acc + w[k] * in[k] in index order, then the activation
(relu, tanh = mlrn_math_tanhf, logistic = mlrn_linear_expit, identity); the mirror here does the same
float32 operations in the same order. Outputs: a binary classifier has one logistic unit (class 1
when its pre-activation z > 0, i.e. scikit-learn's probability > 1/2), a multi-class one softmax logits
(class = first maximum of the logits, the class of the largest softmax probability), a regressor
identity outputs.

int8: inputs quantized per feature (mlrn_quant.h, as the other int8 exports), folded into the first
layer; per layer int8 weights with one scale per output unit ('channel', the default) or one per layer
('layer'), int32 biases and accumulators, int8 activations whose scales are calibrated on calib_X (the
largest activation of the float64 network on those rows; tanh and logistic use their fixed ranges),
and one float32 multiplier per unit that requantises the accumulator (docs/export.md). The last layer
gives float32 logits / values; the mirror is bit-exact with the C.

The activations live in two caller-owned ping-pong buffers (NAME_WORK_FLOATS / NAME_WORK_BYTES): the
planner's figure (CModel.info['work_bytes']) is the generated constant.
"""
from __future__ import annotations

import numpy as np

from microlearn.core import f32 as _f32
from microlearn.core import vocab

from .linear import expit_mirror, softmax_mirror
from .model import CModel, Table, f32, quant_round
from .prep import UnsupportedModel
from .quant import I31, _calib_ranges, _integer_columns, from_ranges, wrap

MLP_MODELS = ("MLPClassifier", "MLPRegressor")
ACTIVATIONS = vocab.MLP_ACTIVATIONS               # scikit-learn name -> MLRN_MLP_* value
Q8 = vocab.MLP_Q8_MAX
MAX_UNITS = 0xFFFF            # layer widths are uint16_t in mlrn_mlp.h
MAX_WEIGHTS = 1 << 22         # 4M weights (16 MB of float32): far beyond any microcontroller, refused early
SCALE_MODES = ("channel", "layer")


# -- reading the estimator --------------------------------------------------------------------------------
def mlp_layers(est, prescale):
    """[(W (n_out, n_in) float64, b float64, activation name)], the scaler folded into layer 0."""
    cls = type(est).__name__
    if not hasattr(est, "coefs_") or not hasattr(est, "intercepts_"):
        raise UnsupportedModel(f"{cls} is not fitted")
    act = getattr(est, "activation", None)
    if act not in ACTIVATIONS:
        raise UnsupportedModel(f"{cls}(activation={act!r}): supported activations are {', '.join(ACTIVATIONS)}")
    out_act = getattr(est, "out_activation_", None)
    coefs, inters = list(est.coefs_), list(est.intercepts_)
    if not coefs or len(coefs) != len(inters):
        raise UnsupportedModel(f"{cls}: coefs_ and intercepts_ do not describe one network")
    layers = []
    n_in = None
    total = 0
    for i, (W, b) in enumerate(zip(coefs, inters)):
        W = np.asarray(W, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64).reshape(-1)
        if W.ndim != 2 or b.shape != (W.shape[1],) or (n_in is not None and W.shape[0] != n_in):
            raise UnsupportedModel(f"{cls}: layer {i} has inconsistent shapes {W.shape} / {b.shape}")
        if max(W.shape) > MAX_UNITS:
            raise UnsupportedModel(f"{cls}: layer {i} is {W.shape[0]} x {W.shape[1]}: at most {MAX_UNITS} units "
                                   "per layer (uint16_t widths in mlrn_mlp.h)")
        total += W.size
        if total > MAX_WEIGHTS:
            raise UnsupportedModel(f"{cls}: more than {MAX_WEIGHTS} weights: too large for a microcontroller")
        if not (np.all(np.isfinite(f32(W))) and np.all(np.isfinite(f32(b)))):
            raise UnsupportedModel(f"{cls}: layer {i} has weights that are not finite in float32 "
                                   "(did the solver diverge?)")
        n_in = W.shape[1]
        last = i == len(coefs) - 1
        layers.append([W.T.copy(), b, "identity" if last else act])   # outputs: logits / values
    if cls == "MLPClassifier":
        n_out = layers[-1][0].shape[0]
        if out_act == "logistic" and n_out == 1 and len(est.classes_) == 2:
            pass
        elif out_act == "softmax" and n_out == len(est.classes_) and n_out > 2:
            pass
        else:
            raise UnsupportedModel(f"MLPClassifier with out_activation_={out_act!r} and {n_out} outputs "
                                   "(multi-label targets) is not exported: binary or multi-class targets only")
    elif out_act != "identity":
        raise UnsupportedModel(f"MLPRegressor with out_activation_={out_act!r}: only 'identity'")
    if prescale:
        layers[0][0], layers[0][1] = prescale.fold(layers[0][0], layers[0][1])
        if not np.all(np.isfinite(f32(layers[0][0]))) or not np.all(np.isfinite(f32(layers[0][1]))):
            raise UnsupportedModel(f"{cls}: the scaler folded into the first layer gives weights that are not "
                                   "finite in float32")
    return [tuple(L) for L in layers]


def ping_pong(widths):
    """Floats (or bytes) of the two buffers: A holds the outputs of layers 0, 2, 4..., B of 1, 3, 5..."""
    a = max([w for i, w in enumerate(widths) if i % 2 == 0], default=0)
    b = max([w for i, w in enumerate(widths) if i % 2 == 1], default=0)
    return a, b


def activate_mirror(v, act):
    """mlrn_mlp_activate on a float32 array."""
    v = f32(v)
    if act == "relu":
        return np.where(v > 0, v, np.float32(0.0)).astype(np.float32)
    if act == "tanh":
        return _f32.tanhf(v.ravel()).reshape(v.shape)
    if act == "logistic":
        return expit_mirror(v.ravel()).reshape(v.shape)
    return v


def dense_mirror(X, W32, b32, act):
    """mlrn_mlp_dense for every row: acc = b[j]; acc = acc + W[j][k] * x[k], k in index order."""
    X = f32(X)
    acc = np.broadcast_to(b32[None, :], (X.shape[0], W32.shape[0])).astype(np.float32)
    for k in range(W32.shape[1]):
        acc = (acc + (X[:, k:k + 1] * W32[None, :, k]).astype(np.float32)).astype(np.float32)
    return activate_mirror(acc, act)


def class_mirror(Z):
    """mlrn_mlp_class: one unit z > 0, else the first maximum."""
    if Z.shape[1] == 1:
        return (Z[:, 0] > 0).astype(np.int64)
    return np.argmax(Z, axis=1).astype(np.int64)


def proba_mirror(Z):
    """mlrn_mlp_proba."""
    if Z.shape[1] == 1:
        p = expit_mirror(Z[:, 0])
        return np.stack([(np.float32(1.0) - p).astype(np.float32), p], axis=1)
    return softmax_mirror(Z)


def _source(est, dtype):
    return (f"sklearn {type(est).__name__}(hidden_layer_sizes={tuple(int(c.shape[1]) for c in est.coefs_[:-1])}, "
            f"activation={est.activation!r})")


def _entry_points(m, N, forward_call, decl, n_out, regressor):
    """Bodies of the entry points around a forward call that leaves the output layer in `z`."""
    if regressor:
        m.n_outputs = n_out
        m.value_body = (f"{decl}{forward_call}    return z[0];" if n_out == 1 else
                        f"{decl}    uint16_t i;\n{forward_call}"
                        f"    for (i = 0; i < {N}_N_OUT_UNITS; i++) out[i] = z[i];")
    else:
        m.predict_body = f"{decl}{forward_call}    return mlrn_mlp_class(z, {N}_N_OUT_UNITS);"
        m.proba_body = f"{decl}{forward_call}    mlrn_mlp_proba(z, {N}_N_OUT_UNITS, out);"


# -- float32 ---------------------------------------------------------------------------------------------
def build_float(est, N, layers):
    regressor = type(est).__name__ == "MLPRegressor"
    W32 = [f32(W) for W, _, _ in layers]
    b32 = [f32(b) for _, b, _ in layers]
    acts = [a for _, _, a in layers]
    widths = [W.shape[0] for W in W32]
    d = W32[0].shape[1]
    buf_a, buf_b = ping_pong(widths)
    n_out = widths[-1]
    classes = np.asarray([]) if regressor else np.asarray(est.classes_)
    m = CModel(name=N, source=_source(est, "float32"), n_features=d, classes=classes, includes=["mlrn_mlp.h"])
    for i in range(len(layers)):
        m.tables += [Table(f"w{i}", "float", W32[i]), Table(f"b{i}", "float", b32[i])]
    m.extra_defines.update({"N_LAYERS": len(layers), "N_OUT_UNITS": n_out, "BUF_A_FLOATS": buf_a,
                            "BUF_B_FLOATS": buf_b,
                            "WORK_FLOATS": f"({N}_BUF_A_FLOATS + {N}_BUF_B_FLOATS)   /* caller-owned activations */",
                            "WORK_BYTES": f"({N}_WORK_FLOATS * 4)"})
    lines = ["    float *a = work;"] + ([f"    float *b = work + {N}_BUF_A_FLOATS;"] if buf_b else [])
    src = "x"
    for i, (W, act) in enumerate(zip(W32, acts)):
        dst = "a" if i % 2 == 0 else "b"
        n_o, n_i = W.shape
        lines.append(f"    mlrn_mlp_dense_{act}({N}_w{i}, {N}_b{i}, {n_i}, {n_o}, {src}, {dst});")
        src = dst
    lines.append(f"    return {src};")
    m.helpers = (f"/* The output layer ({N}_N_OUT_UNITS floats: logits or values) for input x, computed in the\n"
                 f" * caller's work ({N}_WORK_FLOATS floats, two ping-pong buffers); returns a pointer into work. */\n"
                 f"static inline const float *{N}_forward(const float *x, float *work) {{\n" + "\n".join(lines) + "\n}")
    decl = f"    float work[{N}_WORK_FLOATS];\n    const float *z;\n"
    _entry_points(m, N, f"    z = {N}_forward(x, work);\n", decl, n_out, regressor)
    work_bytes = 4 * (buf_a + buf_b)
    m.ram_bytes = work_bytes
    m.info.update({"work_bytes": work_bytes, "widths": widths, "activations": acts})

    def forward(X):
        h = f32(X)
        for W, b, act in zip(W32, b32, acts):
            h = dense_mirror(h, W, b, act)
        return h

    m.forward = forward
    if regressor:
        m.ref_value = forward
    else:
        m.ref_predict = lambda X: class_mirror(forward(X))
        m.ref_proba = lambda X: proba_mirror(forward(X))
    m.notes.append(f"MLP {' -> '.join(map(str, [d] + widths))}, hidden activation {acts[0] if len(acts) > 1 else '-'}"
                   f", float32 in the order of the Python mirror (microlearn.exporter.mlp).")
    return m


# -- int8 ------------------------------------------------------------------------------------------------
def _forward64(X, layers):
    """Activations of every layer of the float64 network (the calibration)."""
    h = np.asarray(X, np.float64)
    outs = []
    for W, b, act in layers:
        z = h @ W.T + b
        if act == "relu":
            z = np.maximum(z, 0)
        elif act == "tanh":
            z = np.tanh(z)
        elif act == "logistic":
            z = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        outs.append(z)
        h = z
    return outs


def build_q8(est, N, layers, prescale, calib_X, scales="channel"):
    if scales not in SCALE_MODES:
        raise ValueError(f"mlp_scales must be one of {SCALE_MODES}, not {scales!r}")
    regressor = type(est).__name__ == "MLPRegressor"
    cls = type(est).__name__
    d = layers[0][0].shape[1]
    lo, hi = _calib_ranges(calib_X, prescale, cls)
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if lo.shape != (d,):
        raise ValueError(f"calib_X has {lo.shape[0] if lo.ndim else 0} features, the model {d}")
    iq = from_ranges(lo, hi, Q8, "int8", identity=_integer_columns(calib_X, Q8))
    a64, c64 = iq.a32.astype(np.float64), iq.c32.astype(np.float64)
    # layer 0 on quantized inputs: x = (q - c) / a
    W0, b0, act0 = layers[0]
    V0 = W0 / a64[None, :]
    fl = [(V0, b0 - V0 @ c64, act0)] + list(layers[1:])
    # activation scales of the hidden layers, from the float64 network on the calibration rows
    if calib_X is not None:
        Xc = np.asarray(calib_X, np.float64)
        Xc = Xc[np.all(np.isfinite(Xc), axis=1)]
    else:       # the scaler's range: a grid of rows over it
        Xc = np.linspace(lo, hi, 17)
    Qc = iq(f32(Xc)).astype(np.float64)
    acts64 = _forward64(Qc, fl)
    tables = []
    qlayers = []        # (Wq int64, bq int64, m32 float32, act, stride)
    s_in = 1.0
    for i, (W, b, act) in enumerate(fl):
        last = i == len(fl) - 1
        n_o, n_i = W.shape
        if scales == "channel":
            s_w = np.abs(W).max(axis=1) / Q8
        else:
            s_w = np.full(n_o, np.abs(W).max() / Q8)
        s_w = np.where(s_w > 0, s_w, 1.0)
        Wq = np.clip(np.rint(W / s_w[:, None]), -Q8, Q8).astype(np.int64)
        S = s_in * s_w                                   # real value of one accumulator unit
        lim = I31 - np.abs(Wq).sum(axis=1) * Q8          # |acc| < 2^31: no int32 overflow
        bq = np.clip(np.rint(b / S), -lim, lim).astype(np.int64)
        if last or act in ("tanh", "logistic"):
            M = S
            s_out = 1.0 / Q8
        else:
            top = np.abs(acts64[i]).max() if acts64[i].size else 0.0
            s_out = top / Q8 if top > 0 else 1.0
            M = S / s_out
        m32 = f32(M if scales == "channel" else M[:1])
        if not np.all(np.isfinite(m32)) or np.any(m32 == 0):
            raise UnsupportedModel(f"{cls}: layer {i}'s int8 scale is not a normal float32 ({M.min():.3g})")
        stride = 1 if scales == "channel" else 0
        qlayers.append((Wq, bq, m32, act, stride))
        tables += [Table(f"w{i}", "int8_t", Wq), Table(f"b{i}", "int32_t", bq), Table(f"m{i}", "float", m32)]
        s_in = s_out
    widths = [W.shape[0] for W, _, _, _, _ in qlayers]
    hidden = widths[:-1]
    buf_a, buf_b = ping_pong(hidden)
    n_out = widths[-1]
    work = max(buf_a + buf_b, 1)
    classes = np.asarray([]) if regressor else np.asarray(est.classes_)
    m = CModel(name=N, source=_source(est, "int8"), n_features=d, classes=classes,
               includes=["mlrn_mlp.h"], tables=tables)
    m.extra_defines.update({"N_LAYERS": len(layers), "N_OUT_UNITS": n_out, "BUF_A_BYTES": buf_a,
                            "BUF_B_BYTES": buf_b,
                            "WORK_BYTES": f"{work}   /* caller-owned int8 activations (A + B, at least 1) */",
                            "SCALES_PER_CHANNEL": 1 if scales == "channel" else 0})
    lines = []
    if buf_a:
        lines.append("    int8_t *a = work;")
    if buf_b:
        lines.append(f"    int8_t *b = work + {N}_BUF_A_BYTES;")
    if not hidden:
        lines.append("    (void)work;")
    src = "q"
    for i, (Wq, _, _, act, stride) in enumerate(qlayers):
        n_o, n_i = Wq.shape
        if i == len(qlayers) - 1:
            lines.append(f"    mlrn_mlp_dense_q8_out({N}_w{i}, {N}_b{i}, {N}_m{i}, {stride}, {n_i}, {n_o}, {src}, z);")
        else:
            dst = "a" if i % 2 == 0 else "b"
            lines.append(f"    mlrn_mlp_dense_q8_{act}({N}_w{i}, {N}_b{i}, {N}_m{i}, {stride}, {n_i}, {n_o}, {src}, {dst});")
            src = dst
    helper = (f"/* The output layer ({N}_N_OUT_UNITS float32 logits or values) into z for quantized inputs q\n"
              f" * ({N}_quantize), with the caller's work ({N}_WORK_BYTES int8 activations, two ping-pong buffers). */\n"
              f"static inline void {N}_forward_q(const int8_t *q, int8_t *work, float *z) {{\n" + "\n".join(lines) + "\n}")
    m.helpers = helper
    decl = f"    int8_t work[{N}_WORK_BYTES];\n    float z[{N}_N_OUT_UNITS];\n"
    _entry_points(m, N, f"    {N}_forward_q(x, work, z);\n", decl, n_out, regressor)
    m.ram_bytes = work + 4 * n_out

    def forward_q(Q):
        h = np.asarray(Q, np.int64)
        for Wq, bq, m32, act, stride in qlayers:
            acc = h @ Wq.T + bq[None, :]
            mm = m32 if stride else np.full(Wq.shape[0], m32[0], np.float32)
            v = (acc.astype(np.float32) * mm[None, :]).astype(np.float32)
            if Wq is qlayers[-1][0]:
                return v
            if act in ("tanh", "logistic"):
                v = (activate_mirror(v, act) * np.float32(Q8)).astype(np.float32)
            q = quant_round(v, Q8)
            if act == "relu":
                q = np.maximum(q, 0)
            h = q
        raise AssertionError("unreachable")

    m.forward_q = forward_q
    m.notes.append(f"MLP {' -> '.join(map(str, [d] + widths))} int8: per-{scales} weight scales, int8 activations "
                   "calibrated on calib_X, int32 accumulators, float32 requantisation (docs/export.md).")
    if regressor:
        m = wrap_regressor(m, iq, work + 4 * n_out)
        m.ref_value = lambda X: forward_q(iq(X))
    else:
        m.ref_predict = lambda Q: class_mirror(forward_q(Q))
        m.ref_proba = lambda Q: proba_mirror(forward_q(Q))
        m = wrap(m, iq, work + 4 * n_out)
    m.info.update({"work_bytes": work, "widths": widths, "activations": [L[3] for L in qlayers], "scales": scales})
    m.forward = lambda X: forward_q(iq(X))
    if calib_X is not None and len(Xc):
        # accuracy loss on the calibration rows: the int8 model against the float64 network
        Z64 = _forward64(np.asarray(Xc, np.float64), layers)[-1]
        Zq = m.forward(f32(Xc)).astype(np.float64)
        if regressor:
            err = np.abs(Zq - Z64).max() / max(float(np.sqrt(np.mean(Z64 ** 2))), 1e-30)
            m.info["int8_calib_rel_error"] = float(err)
            m.notes.append(f"int8 on the {len(Xc)} calibration rows: max error {err:.3g} of the rms of the float "
                           "outputs.")
        else:
            same = float(np.mean(class_mirror(Zq) == class_mirror(Z64)))
            m.info["int8_calib_agreement"] = same
            m.notes.append(f"int8 predicts the float model's class on {100 * same:.2f}% of the {len(Xc)} "
                           "calibration rows.")
    return m


def wrap_regressor(m: CModel, iq, ram_q: int) -> CModel:
    """quant.wrap for a regressor: NAME_quantize, NAME_predict_value(s)_q, float entry points quantizing first."""
    N, d = m.name, m.n_features
    m.includes = list(dict.fromkeys(m.includes + ["mlrn_quant.h"]))
    m.tables = iq.tables() + m.tables
    parts = [m.helpers.rstrip("\n"), iq.c_helper(N)]
    call = f"    int8_t q[{d}];\n    {N}_quantize(x, q);\n"
    if m.n_outputs == 1:
        parts.append(f"/* The value for quantized inputs q ({N}_quantize). */\n"
                     f"static inline float {N}_predict_value_q(const int8_t *x) {{\n{m.value_body.rstrip()}\n}}")
        m.value_body = call + f"    return {N}_predict_value_q(q);"
    else:
        parts.append(f"/* The values for quantized inputs q ({N}_quantize). */\n"
                     f"static inline void {N}_predict_values_q(const int8_t *x, float *out) {{\n"
                     f"{m.value_body.rstrip()}\n}}")
        m.value_body = call + f"    {N}_predict_values_q(q, out);"
    m.helpers = "\n\n".join(parts)
    m.ram_bytes = ram_q + d
    m.extra_defines["QUANT_MAX"] = iq.Q
    m.dtype = "int8"
    m.quantize = iq
    m.notes.append(f"int8: inputs quantized per feature, q = clamp(round(x*a + c), -{iq.Q}, {iq.Q}).")
    return m


def lower_mlp(final, prescale, name, dtype="float32", calib_X=None, **opts) -> CModel:
    """The MLP lowering (lower.lower's dispatch): float32 or int8."""
    cls = type(final).__name__
    scales = opts.pop("mlp_scales", "channel")
    opts.pop("tree_layout", None)        # the CLI passes the forests' option to every model; "auto" means nothing here
    if opts:
        raise TypeError(f"unknown export option(s) for {cls}: {', '.join(sorted(opts))}")
    layers = mlp_layers(final, prescale)
    if dtype == "float32":
        return build_float(final, name, layers)
    if dtype == "int8":
        return build_q8(final, name, layers, prescale, calib_X, scales)
    raise UnsupportedModel(f"{cls}: dtype={dtype!r} is not exported: 'float32' or 'int8'")
