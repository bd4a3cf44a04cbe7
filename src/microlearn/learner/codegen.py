"""C for the self-learning loop: a configuration header binding static buffers to an
mlrn_learner (include/mlrn_learner.h), with the sizes of its buffers and of its persisted state."""
from __future__ import annotations

import numpy as np

from microlearn.core import vocab
from microlearn.core.c_format import c_comment, c_float, c_header, c_identifier

from . import online as _online
from .config import LearnerConfig
from .reference import RefLearner


def _work_floats(cfg: LearnerConfig) -> int:
    """The work array MLRN_LEARNER_DEFINE_STORAGE declares: MLRN_SMO_WORK_FLOATS_LINEAR, plus the warm alphas
    with MLRN_LEARNER_WARM (MLRN_LEARNER__WARM_FLOATS); a kernel learner: MLRN_LEARNER_KERNEL_WORK_FLOATS (the
    trainer's work array for that kernel, mlrn_smo_work_floats)."""
    if cfg.kernel != "linear":
        return vocab.smo_work_floats(cfg.train_capacity, cfg.n_features, cfg.n_classes, cfg.storage, cfg.kernel)
    return vocab.smo_work_floats_linear(cfg.train_capacity, cfg.n_features, vocab.n_sub(cfg.n_classes, "ovo"),
                                        cfg.storage) + vocab.learner_warm_floats(cfg.train_capacity, cfg.n_classes,
                                                                                 cfg.warm)


def _model_floats(cfg: LearnerConfig) -> int:
    """NAME_model: w and b per pair (linear), or the snapshot's coefficient rows and b per pair (kernel:
    MLRN_LEARNER_KERNEL_MODEL_FLOATS)."""
    if cfg.kernel != "linear":
        return vocab.learner_kernel_model_floats(cfg.train_capacity, cfg.n_classes)
    return vocab.learner_model_floats(cfg.n_features, cfg.n_classes)


def buffer_bytes(cfg: LearnerConfig) -> dict:
    """Static bytes of the learner's buffers (any storage type), grouped by role."""
    d, nc = cfg.n_features, cfg.n_classes
    if cfg.model == "online":
        return {"weights": 8 * _online.weight_floats(d, nc), "hold_store": max(cfg.hold_capacity, 1) * (4 * d + 1),
                "window": max(cfg.trigger_window, 1)}
    e = vocab.ELEM_SIZE[cfg.storage]
    out = {
        "train_store": cfg.train_capacity * (e * d + 1),
        "hold_store": max(cfg.hold_capacity, 1) * (e * d + 1),
        "work": 4 * _work_floats(cfg),
        "model": 4 * _model_floats(cfg),
        "queue": max(cfg.queue, 1) * (4 * d + 1),
        "window": max(cfg.trigger_window, 1),
        "scratch": 4 * d,
    }
    if cfg.kernel != "linear":   # the snapshot's rows (store element type) and classes
        out["snapshot_rows"] = cfg.train_capacity * (e * d + 1)
    return out


def static_objects(cfg: LearnerConfig, name: str = "lrn") -> dict:
    """The static objects MLRN_LEARNER_DEFINE_STORAGE declares, by C name: (bytes, natural alignment).
    The struct NAME (mlrn_learner) is listed with size None: it depends on the target's pointer size and is
    measured (see microlearn.learner.planner). Mirrors the macro in mlrn_learner.h; buffer_bytes()
    is the same total grouped by role."""
    d, e = cfg.n_features, vocab.ELEM_SIZE[cfg.storage]
    hold, queue = max(cfg.hold_capacity, 1), max(cfg.queue, 1)
    if cfg.model == "online":   # MLRN_ONLINE_DEFINE
        return {name: (None, None),
                f"{name}_weights": (8 * _online.weight_floats(d, cfg.n_classes), 4),
                f"{name}_hold_x": (4 * hold * d, 4),
                f"{name}_hold_y": (hold, 1),
                f"{name}_win": (max(cfg.trigger_window, 1), 1)}
    out = {
        name: (None, None),
        f"{name}_train_x": (cfg.train_capacity * d * e, e),
        f"{name}_train_y": (cfg.train_capacity, 1),
        f"{name}_hold_x": (hold * d * e, e),
        f"{name}_hold_y": (hold, 1),
        f"{name}_work": (4 * _work_floats(cfg), 4),
        f"{name}_model": (4 * _model_floats(cfg), 4),
        f"{name}_scratch": (4 * d, 4),
        f"{name}_qx": (4 * queue * d, 4),
        f"{name}_qy": (queue, 1),
        f"{name}_win": (max(cfg.trigger_window, 1), 1),
    }
    if cfg.kernel != "linear":   # MLRN_LEARNER__SV_DECL: the snapshot's rows and classes
        out[f"{name}_sv_x"] = (cfg.train_capacity * d * e, e)
        out[f"{name}_sv_y"] = (cfg.train_capacity, 1)
    return out


def persist_payload_bytes(cfg: LearnerConfig, kind: str) -> int:
    """Largest payload of mlrn_learner_save ("model", format 1) or mlrn_learner_save_all ("all", format 2):
    a model over every declared class, full stores (mirrors mlrn_learner__payload_len / __all_len)."""
    m, d, e = cfg.n_classes, cfg.n_features, vocab.ELEM_SIZE[cfg.storage]
    if cfg.model == "online":   # mlrn_online_save_model: the accepted weights; mlrn_online_save: everything
        if kind == "model":
            return vocab.ONLINE_HEAD_LEN + 4 * _online.weight_floats(d, m)
        if kind != "all":
            raise ValueError(f"persist must be 'model' or 'all', got {kind!r}")
        return (vocab.ONLINE_HEAD_LEN + vocab.ONLINE_STATE_LEN + 8 * _online.weight_floats(d, m)
                + cfg.hold_capacity * (4 * d + 1) + cfg.trigger_window)
    if cfg.kernel != "linear":   # the snapshot: kernel head, every training row a support vector (the most)
        model = m + vocab.LEARNER_KHEAD_LEN + cfg.train_capacity * (e * d + 1 + 4 * vocab.n_rows(m)) + 4 * vocab.n_sub(m)
    else:
        model = m + vocab.learner_model_floats(d, m) * 4
    if kind == "model":
        return 5 + model
    if kind == "all":
        return (5 + model + vocab.LEARNER_STATE_LEN + (cfg.train_capacity + cfg.hold_capacity) * (e * d + 1)
                + cfg.trigger_window + (vocab.LEARNER_DDM_LEN if cfg.drift == "ddm" else 0))
    raise ValueError(f"persist must be 'model' or 'all', got {kind!r}")


def persist_storage_bytes(cfg: LearnerConfig, kind: str) -> int:
    """Bytes of EEPROM / flash the mlrn_storage region needs: two A/B slots of header + payload."""
    return 2 * (vocab.PERSIST_HEADER + persist_payload_bytes(cfg, kind))


def _define(cfg: LearnerConfig, name: str, N: str) -> list[str]:
    args = f"{name}, {N}_N_FEATURES, {N}_N_CLASSES, {N}_TRAIN_CAP, {N}_HOLD_CAP, {N}_QUEUE, {N}_WINDOW"
    if cfg.storage == "float32":
        return [f"MLRN_LEARNER_DEFINE({args})"]
    ctype, cst = vocab.STORAGE_CTYPES[cfg.storage], vocab.STORAGE_MACROS[cfg.storage]
    tab = lambda v: ", ".join(c_float(np.float32(t)) for t in v)  # noqa: E731
    return [f"static const float {name}_scale[{cfg.n_features}] MLRN_FLASH = {{{tab(cfg.scale)}}};",
            f"static const float {name}_offset[{cfg.n_features}] MLRN_FLASH = {{{tab(cfg.offset)}}};",
            f"MLRN_LEARNER_DEFINE_STORAGE({args}, {ctype}, {cst}, {name}_scale, {name}_offset)"]


def _memory_lines(cfg: LearnerConfig, name: str, plan, struct: str = "mlrn_learner") -> list[str]:
    """Sizes as #defines (numeric: usable in #if), the planner's figures for a named board, and a
    compile-time #error when the learner's static data exceeds the SRAM budget (the board's SRAM less its
    stack reserve, or -DMLRN_SRAM_BUDGET=...), like the trainer header."""
    N = name.upper()
    objs = static_objects(cfg, name)
    lines = [f"#define {N}_{n[len(name) + 1:].upper()}_BYTES {size}u" for n, (size, _) in objs.items() if size]
    lines.append(f"/* Static SRAM of the buffers; with the struct: {N}_RAM_BYTES (sizeof: not usable in #if). */")
    lines.append(f"#define {N}_BUFFER_BYTES {sum(buffer_bytes(cfg).values())}")
    lines.append(f"#define {N}_RAM_BYTES ({N}_BUFFER_BYTES + sizeof({struct}))")
    lines.append("/* EEPROM / flash an mlrn_storage region needs (two A/B slots, largest payload) for "
                 "mlrn_learner_save / mlrn_learner_save_all. */")
    lines += [f"#define {N}_PERSIST_{k.upper()}_BYTES {persist_storage_bytes(cfg, k)}u" for k in ("model", "all")]
    limit_bytes, what = f"{N}_BUFFER_BYTES", "buffers"
    if plan is not None:
        pl = plan
        st = pl.static_buffers
        own = sum(v for k, v in st.items() if k != "driver + support (fixed)")
        lines += [f"/* Planned for the {c_comment(pl.board)} (`microlearn plan --learner`): the learner's static "
                  f"data exactly (buffers + struct + padding); the stream driver's program: flash and stack "
                  f"(calibrated). */",
                  f"#define {N}_STATIC_BYTES {own}u",
                  f"#define {N}_PLAN_FLASH_BYTES {pl.flash_bytes}u",
                  f"#define {N}_PLAN_STACK_BYTES {pl.stack_bytes}u",
                  f"#ifndef MLRN_SRAM_BUDGET\n#define MLRN_SRAM_BUDGET {pl.static_limit_bytes}u\n#endif"]
        limit_bytes, what = f"{N}_STATIC_BYTES", "static data"
    lines += [f"#if defined(MLRN_SRAM_BUDGET) && {limit_bytes} > MLRN_SRAM_BUDGET",
              f'#error "{name}: the learner\'s {what} exceed the SRAM budget; lower the capacity, the queue or the '
              f'window, or use int16/int8 storage (see microlearn plan --learner)"',
              "#endif"]
    return lines


def _init_model(cfg: LearnerConfig, name: str, init) -> tuple[list[str], str]:
    """The initial model's flash tables and the setup's call binding them (mlrn_learner_set_model).
    init: (W, b, classes) as simulate.fit_static returns it; checked as the C checks it (RefLearner.set_model)."""
    RefLearner(cfg).set_model(*init)        # the one check of an initial model, the reference's
    W, b, cmap = init
    W = np.asarray(W, np.float32).reshape(-1)
    b = np.asarray(b, np.float32).reshape(-1)
    tab = lambda v: ", ".join(c_float(np.float32(t)) for t in v)  # noqa: E731
    lines = [f"/* The initial model (trained in Python on {len(cmap)} classes): the device predicts with it from its "
             f"first reading; a model loaded later with mlrn_learner_load replaces it. */",
             f"static const float {name}_init_w[{len(W)}] MLRN_FLASH = {{{tab(W)}}};",
             f"static const float {name}_init_b[{len(b)}] MLRN_FLASH = {{{tab(b)}}};",
             f"static const uint8_t {name}_init_map[{len(cmap)}] MLRN_FLASH = {{{', '.join(f'{int(c)}u' for c in cmap)}}};"]
    call = f"mlrn_learner_set_model(&{name}, {name}_init_w, {name}_init_b, {name}_init_map, {len(cmap)}u)"
    return lines, call


def render_header(cfg: LearnerConfig, name: str = "lrn", plan=None, init=None) -> str:
    """NAME_setup() initialises the learner with cfg's parameters; the buffers are static.
    plan: the LearnerPlan of cfg on a board (microlearn.learner.planner.plan_learner_config(cfg, board,
    name=name)): the header carries its figures and refuses to compile when the learner's static data
    exceed the board's SRAM less its stack reserve.
    init: an initial model (W, b, classes), e.g. simulate.fit_static(cfg, X, y): NAME_setup() starts the
    learner from it (tables in flash)."""
    N = c_identifier(name, "learner name").upper()
    if cfg.model == "online":
        if init is not None:
            raise ValueError("an initial model is for the SVM learner (--model svm)")
        return _render_online(cfg, name, N, plan)
    init_lines, init_call = _init_model(cfg, name, init) if init is not None else ([], None)
    about = [f"{cfg.n_features} features, {cfg.n_classes} classes, capacity {cfg.capacity} samples ({cfg.storage}): "
             f"{cfg.train_capacity} to train on, {cfg.hold_capacity} held out.",
             f"store {cfg.store}, replace {cfg.replace}; {_kernel_text(cfg)}, wss2 solver, one-vs-one (mlrn_learner.h)"
             + ("; warm-started retraining." if cfg.warm else "."),
             f"{name}_setup() binds the static buffers to the learner {name}: include this header in ONE "
             f"translation unit."]
    body = [
        f"#define {N}_N_FEATURES {cfg.n_features}",
        f"#define {N}_N_CLASSES {cfg.n_classes}",
        f"#define {N}_TRAIN_CAP {cfg.train_capacity}",
        f"#define {N}_HOLD_CAP {cfg.hold_capacity}",
        f"#define {N}_QUEUE {cfg.queue}",
        f"#define {N}_WINDOW {cfg.trigger_window}",
        f"#define {N}_BUDGET {cfg.budget}u",
        *_memory_lines(cfg, name, plan),
        *_define(cfg, name, N),
        *init_lines,
        f"static inline mlrn_status {name}_setup(void) {{",
        "    mlrn_learner_params p = mlrn_learner_default_params();",
        f"    p.store_policy = {vocab.STORE_POLICY_MACROS[cfg.store]};",
        f"    p.replace = {vocab.REPLACE_POLICY_MACROS[cfg.replace]};",
        f"    p.k_mistakes = {cfg.k_mistakes}u;",
        f"    p.window = {cfg.trigger_window}u;",
        f"    p.err_pct = {cfg.err_pct}u;",
        f"    p.drift_pct = {cfg.drift_pct}u;",
        # p.drift exists only with MLRN_LEARNER_DDM (learner_macros): a window-detector build has no such byte
        *([f"    p.drift = {vocab.DRIFT_DETECTOR_MACROS[cfg.drift]};",
           f"    p.ddm_min_rows = {cfg.ddm_min_rows}u;",
           f"    p.ddm_warn_k10 = {cfg.ddm_warn_k10}u;",
           f"    p.ddm_drift_k10 = {cfg.ddm_drift_k10}u;"] if cfg.drift == "ddm" else []),
        f"    p.margin_pct = {cfg.margin_pct}u;",
        f"    p.holdout_every = {cfg.holdout_every}u;",
        f"    p.seed = {cfg.seed & 0xFFFFFFFF}u;",
        f"    p.svm.C = {c_float(np.float32(cfg.C))};",
        f"    p.svm.tol = {c_float(np.float32(cfg.tol))};",
        f"    p.svm.max_iter = {cfg.max_iter}u;",
        *([f"    p.svm.kernel.gamma = {c_float(np.float32(cfg.gamma))};"] if cfg.kernel != "linear" else []),
        *([f"    p.svm.kernel.degree = {cfg.degree}u;",
           f"    p.svm.kernel.coef0 = {c_float(np.float32(cfg.coef0))};"] if cfg.kernel == "poly" else []),
        *([f"    return {name}_init(&p);"] if init_call is None else
          [f"    mlrn_status s = {name}_init(&p);", f"    return s == MLRN_OK ? {init_call} : s;"]),
        "}",
    ]
    return c_header(name, "learner", "self-learning loop configuration", about, ["mlrn_learner.h"], "\n".join(body),
                    kernels=[cfg.kernel], select_kernels=True, macro_prefix=N, config_macros=learner_macros(cfg))


def _kernel_text(cfg: LearnerConfig) -> str:
    if cfg.kernel == "rbf":
        return f"rbf kernel (gamma {np.float32(cfg.gamma)!s}), the model a snapshot of its support vectors"
    if cfg.kernel == "poly":
        return (f"poly kernel (gamma {np.float32(cfg.gamma)!s}, coef0 {np.float32(cfg.coef0)!s}, degree {cfg.degree}), "
                f"the model a snapshot of its support vectors")
    return "linear kernel"


def learner_macros(cfg: LearnerConfig) -> list[tuple[str, int, str]]:
    """The runtime's compile-time switches cfg needs (c_header's config_macros): the SVM learner compiles the
    DDM detector only when cfg uses it (MLRN_LEARNER_DDM in mlrn_learner.h: its state and code cost a 2 KB /
    32 KB part what a window-detector build does not need)."""
    if cfg.model == "online":
        return []
    # MLRN_LEARNER_KERNEL only for a kernel learner: a linear header stays the text it was (the default is linear)
    kernel = [("MLRN_LEARNER_KERNEL", vocab.KERNELS[cfg.kernel], f"{vocab.KERNEL_MACROS[cfg.kernel]}: the "
               f"model is a snapshot of its support vectors")] if cfg.kernel != "linear" else []
    return kernel + [("MLRN_STORE_TYPE", vocab.STORAGES[cfg.storage], f"{vocab.STORAGE_MACROS[cfg.storage]}: "
                      f"{cfg.storage} samples only, the other types' code compiles out"),
                     ("MLRN_LEARNER_DDM", 1 if cfg.drift == "ddm" else 0,
             "the DDM detector compiled in" if cfg.drift == "ddm" else "the window detector only: no DDM code"),
            ("MLRN_LEARNER_WARM", 1 if cfg.warm else 0,
             "warm-started retraining" if cfg.warm else "cold retraining: no warm-start code or alphas")]


def _render_online(cfg: LearnerConfig, name: str, N: str, plan) -> str:
    """The online learner's header (mlrn_online.h): MLRN_ONLINE_DEFINE, NAME_setup(), and the names the stream
    driver calls (LRN_PREDICT ...: the same driver runs both learners)."""
    about = [f"{cfg.n_features} features, {cfg.n_classes} classes: Passive-Aggressive II, one-vs-rest, float32 "
             f"(mlrn_online.h); {cfg.hold_capacity} held-out rows (every {cfg.holdout_every}-th row).",
             f"{name}_setup() binds the static buffers to the learner {name}: include this header in ONE "
             f"translation unit."]
    body = [
        f"#define {N}_N_FEATURES {cfg.n_features}",
        f"#define {N}_N_CLASSES {cfg.n_classes}",
        f"#define {N}_HOLD_CAP {cfg.hold_capacity}",
        f"#define {N}_WINDOW {cfg.trigger_window}",
        f"#define {N}_BUDGET {cfg.budget}u",
        f"#define {N}_ONLINE 1",
        f"#define {N}_PREDICT mlrn_online_predict",
        f"#define {N}_FEEDBACK mlrn_online_feedback",
        f"#define {N}_STEP mlrn_online_step",
        f"#define {N}_SAVE mlrn_online_save_model",
        f"#define {N}_SAVE_ALL mlrn_online_save",
        f"#define {N}_LOAD mlrn_online_load",
        *_memory_lines(cfg, name, plan, struct="mlrn_online"),
        f"MLRN_ONLINE_DEFINE({name}, {N}_N_FEATURES, {N}_N_CLASSES, {N}_HOLD_CAP, {N}_WINDOW)",
        f"static inline mlrn_status {name}_setup(void) {{",
        "    mlrn_online_params p = mlrn_online_default_params();",
        f"    p.C = {c_float(np.float32(cfg.C))};",
        f"    p.k_mistakes = {cfg.k_mistakes}u;",
        f"    p.window = {cfg.trigger_window}u;",
        f"    p.drift_pct = {cfg.drift_pct}u;",
        f"    p.margin_pct = {cfg.margin_pct}u;",
        f"    p.holdout_every = {cfg.holdout_every}u;",
        f"    p.drift = {vocab.DRIFT_DETECTOR_MACROS[cfg.drift]};",
        f"    p.ddm_min_rows = {cfg.ddm_min_rows}u;",
        f"    p.ddm_warn_k10 = {cfg.ddm_warn_k10}u;",
        f"    p.ddm_drift_k10 = {cfg.ddm_drift_k10}u;",
        f"    return {name}_init(&p);",
        "}",
    ]
    return c_header(name, "learner", "self-learning loop configuration (online learner)", about, ["mlrn_online.h"],
                    "\n".join(body), kernels=["linear"], select_kernels=True, macro_prefix=N)
