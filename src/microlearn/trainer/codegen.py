"""export_trainer: the C configuration for training on the device.

The generated header holds the static buffers (sized at compile time), the
quantisation tables (in flash) and the Edge2Train function set bound to them:
NAME_setup, NAME_add_sample, NAME_train, NAME_train_step, NAME_predict,
NAME_decision_function, NAME_eval. The memory it needs is given as #defines and
checked at compile time against a budget (a named board's SRAM, or
-DMLRN_SRAM_BUDGET=...).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from microlearn.boards.registry import get_board
from microlearn.core import store as _store, vocab
from microlearn.core.c_format import c_array, c_float, c_header, c_identifier, c_string_table

from .config import TrainerConfig, make_config

def rows_tables(name: str, cfg: TrainerConfig, X, y) -> str:
    """The training rows as const tables in flash (MLRN_FLASH: PROGMEM on AVR, .rodata elsewhere): NAME_rows
    (capacity x n_features elements of the storage type: float32, or the int16/int8 codes quantised exactly as
    mlrn_store_set would) and NAME_row_labels (class indices)."""
    X = np.asarray(X, np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape != (cfg.capacity, cfg.n_features) or y.shape != (cfg.capacity,):
        raise ValueError(f"the rows table needs {cfg.capacity} rows of {cfg.n_features} features and as many labels, "
                         f"got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("the rows table: a NaN or infinite value (the device would refuse the sample)")
    if y.size and (y.min() < 0 or y.max() >= cfg.n_classes):
        raise ValueError(f"the rows table: a label outside 0..{cfg.n_classes - 1}")
    codes = X if cfg.storage == "float32" else _store.quantize(X, cfg.scale, cfg.offset, cfg.storage)
    return (c_array(f"{name}_rows", vocab.STORAGE_CTYPES[cfg.storage], codes.reshape(-1))
            + c_array(f"{name}_row_labels", "uint8_t", y.astype(np.uint8)))


def trainer_macros(cfg: TrainerConfig) -> list[tuple[str, int, str]]:
    """The runtime's compile-time switches this trainer needs (c_header's config_macros): where the samples live
    (MLRN_STORE_SOURCE, always stated so that a RAM trainer and a flash one are never mixed up), their one storage
    type (MLRN_STORE_TYPE: the other types' paths compile out), MLRN_SMO_FIXED for arith 'fixed' and, above 16
    classes, MLRN_SMO_MAX_CLASSES."""
    out = [("MLRN_STORE_SOURCE", vocab.DATA_IN[cfg.data_in], f"samples in {cfg.data_in}: see mlrn_store.h"),
           ("MLRN_STORE_TYPE", vocab.STORAGES[cfg.storage],
            f"{vocab.STORAGE_MACROS[cfg.storage]}: {cfg.storage} samples only, the other types' code compiles out")]
    if cfg.params.arith == "fixed":
        out.append(("MLRN_SMO_FIXED", 1, "wss2's scans over the int8 codes in integers (arith 'fixed')"))
    if cfg.cache_cols:
        out.append(("MLRN_SMO_CACHE", 1, f"wss2 caches {cfg.cache_cols} kernel columns (mlrn_smo_set_cache)"))
    if cfg.n_classes > vocab.SMO_MAX_CLASSES:
        out.append(("MLRN_SMO_MAX_CLASSES", cfg.n_classes, "the vote array and class maps: one byte per class"))
    return out


def render_trainer(cfg: TrainerConfig, name: str, sram_budget: int | None = None, rows=None) -> str:
    """The trainer header. rows: (X, y) with data_in='flash' (X float rows, y class indices: the table the
    header places in flash); ignored otherwise."""
    N, U = c_identifier(name, "trainer name"), name.upper()
    p = cfg.params
    if cfg.data_in == "flash" and rows is None:
        raise ValueError("data_in='flash' needs the training rows (rows=(X, y)): they are compiled into the header")
    ctype, storage_c = vocab.STORAGE_CTYPES[cfg.storage], vocab.STORAGE_MACROS[cfg.storage]
    buf = cfg.buffers()
    buffer_bytes = sum(buf.values())
    data_bytes = vocab.store_data_size(cfg.capacity, cfg.n_features, cfg.storage)
    if cfg.data_in == "ram":
        storage_decls = (f"static {ctype} {N}_data[{cfg.capacity * cfg.n_features}];\n"
                         f"static uint8_t {N}_labels[{cfg.capacity}];\n"
                         f"MLRN_STATIC_ASSERT(sizeof({N}_data) == {U}_DATA_BYTES, {N}_data_size);\n")
    elif cfg.data_in == "callback":
        storage_decls = (f"/* the callback store's buffer of two rows of codes (mlrn_store_codes_size) */\n"
                         f"#define {U}_CODES_BYTES {buf['codes']}u\n"
                         f"static uint8_t {N}_codes[{buf['codes']}];\n")
    else:
        storage_decls = ("/* the training rows and labels: const tables in flash (no SRAM); "
                         f"{U}_DATA_BYTES / _LABELS_BYTES of flash */\n" + rows_tables(N, cfg, *rows))
    # Labels come from users' CSVs: only ever as escaped string literals (c_string_table), never in comments.
    names = f"; their names: {N}_class_names" if cfg.classes else ""
    about = [f"{cfg.n_features} features, capacity {cfg.capacity} samples ({cfg.storage}), "
             f"{cfg.n_classes} classes{names}",
             f"kernel {p.kernel}, solver {p.solver}" + (f" ({p.loss} loss)" if p.solver == "dcd" else "")
             + f", multiclass {p.multiclass}, C {float(p.C):g}.",
             "Include this header in ONE translation unit; it defines static buffers."]
    out = [f"""#define {U}_N_FEATURES {cfg.n_features}u
#define {U}_CAPACITY {cfg.capacity}u
#define {U}_N_CLASSES {cfg.n_classes}u
#define {U}_N_SUB {vocab.n_sub(cfg.n_classes, p.multiclass)}u
#define {U}_WORK_FLOATS {cfg.work_floats}u
#define {U}_DATA_BYTES {data_bytes}u
#define {U}_LABELS_BYTES {cfg.capacity}u
#define {U}_WORK_BYTES {buf['work']}u
/* Static SRAM of the buffers (numeric, usable in #if) and of everything including the structs. */
#define {U}_BUFFER_BYTES {buffer_bytes}u
#define {U}_RAM_BYTES ({U}_BUFFER_BYTES + sizeof(mlrn_store) + sizeof(mlrn_smo))
#define {U}_FLASH_TABLE_BYTES {sum(cfg.flash_tables().values())}u
#define {U}_DATA_IN {vocab.DATA_IN_MACROS[cfg.data_in]}
/* kernel columns wss2 caches (0: none; the planner's choice from the SRAM left, or the user's) */
#define {U}_CACHE_COLS {cfg.cache_cols}u
#define {U}_CACHE_BYTES {cfg.cache_bytes}u
"""]
    if sram_budget is not None:
        out.append(f"#ifndef MLRN_SRAM_BUDGET\n#define MLRN_SRAM_BUDGET {int(sram_budget)}u\n#endif\n")
    out.append(f"""#if defined(MLRN_SRAM_BUDGET) && {U}_BUFFER_BYTES > MLRN_SRAM_BUDGET
#error "{N}: the training buffers ({buffer_bytes} bytes) exceed the SRAM budget; lower the capacity or use int8 storage"
#endif

{storage_decls}static float {N}_work[{cfg.work_floats}];
static mlrn_store {N}_store;
static mlrn_smo {N}_svm;
MLRN_STATIC_ASSERT(sizeof({N}_work) == {U}_WORK_BYTES, {N}_work_size);
""")
    if cfg.cache_cols:
        out.append(f"""/* the kernel-column cache: {cfg.cache_cols} columns of {cfg.capacity} floats and their bookkeeping */
static float {N}_cache[MLRN_SMO_CACHE_FLOATS({U}_CACHE_COLS, {U}_CAPACITY)];
MLRN_STATIC_ASSERT(sizeof({N}_cache) == {U}_CACHE_BYTES, {N}_cache_size);
""")
        set_cache = (f"\n    if (st != MLRN_OK) return st;\n"
                     f"    return mlrn_smo_set_cache(&{N}_svm, {N}_cache, sizeof {N}_cache / sizeof {N}_cache[0], "
                     f"{U}_CACHE_COLS);")
        init_call = f"st = mlrn_smo_init(&{N}_svm, &p, &{N}_store, {N}_work, {U}_WORK_FLOATS);{set_cache}"
    else:
        init_call = f"return mlrn_smo_init(&{N}_svm, &p, &{N}_store, {N}_work, {U}_WORK_FLOATS);"

    if cfg.classes:
        out.append(f"/* Class names, index = class index (on AVR in flash: pgm_read_ptr, then the _P string functions). */\n"
                   f"#define {U}_N_CLASS_NAMES {len(cfg.classes)}u\n" + c_string_table(f"{N}_class_names", cfg.classes))
    if cfg.storage != "float32":
        out.append(c_array(f"{N}_scale", "float", cfg.scale))
        out.append(c_array(f"{N}_offset", "float", cfg.offset))
        scale_ref, offset_ref = f"{N}_scale", f"{N}_offset"
    else:
        scale_ref = offset_ref = "0"
    if cfg.data_in == "ram":
        setup_what, setup_args = "", "void"
        store_init = (f"st = mlrn_store_init(&{N}_store, {N}_data, sizeof {N}_data, {N}_labels, sizeof {N}_labels, "
                      f"{U}_CAPACITY,\n                         {U}_N_FEATURES, {storage_c}, {U}_N_CLASSES, "
                      f"{scale_ref}, {offset_ref});")
    elif cfg.data_in == "flash":
        setup_what, setup_args = " (the samples: the flash tables above)", "void"
        store_init = (f"st = mlrn_store_init_flash(&{N}_store, {N}_rows, {N}_row_labels, {U}_CAPACITY, {U}_N_FEATURES,"
                      f"\n                               {storage_c}, {U}_N_CLASSES, {scale_ref}, {offset_ref});")
    else:
        setup_what = (" (the samples: read(ctx, i, row, &label) reads sample i < CAPACITY, see "
                      "mlrn_store_read_fn; its errors end training with their status)")
        setup_args = "mlrn_store_read_fn read, void *ctx"
        store_init = (f"st = mlrn_store_init_callback(&{N}_store, read, ctx, {N}_codes, sizeof {N}_codes, {U}_CAPACITY,"
                      f"\n                                  {U}_N_FEATURES, {storage_c}, {U}_N_CLASSES, {scale_ref}, "
                      f"{offset_ref});")
    # p.loss exists only when dcd is compiled in (MLRN_SMO_SOLVERS: the header compiles wss2 and its own solver)
    loss_line = f"    p.loss = {vocab.LOSS_MACROS[p.loss]};\n" if p.solver == "dcd" else ""
    out.append(f"""
/* setup: parameters and buffers{setup_what}. Returns MLRN_OK or an error code. */
static inline mlrn_status {N}_setup({setup_args}) {{
    mlrn_smo_params p = mlrn_smo_default_params();
    mlrn_status st;
    p.C = {c_float(p.C)};
    p.tol = {c_float(p.tol)};
    p.alpha_tol = {c_float(p.alpha_tol)};
    p.max_iter = {p.max_iter}u;
    p.seed = {p.seed}u;
    p.max_passes = {p.max_passes}u;
    p.solver = {vocab.SOLVER_MACROS[p.solver]};
    p.multiclass = {vocab.MULTICLASS_MACROS[p.multiclass]};
{loss_line}    p.kernel.type = {vocab.KERNEL_MACROS[p.kernel]};
    p.kernel.degree = {p.degree}u;
    p.kernel.gamma = {c_float(p.gamma)};
    p.kernel.coef0 = {c_float(p.coef0)};
    {store_init}
    if (st != MLRN_OK) return st;
    {init_call}
}}

/* add a sample (class index 0..N_CLASSES-1): MLRN_ERR_FULL at capacity, MLRN_ERR_NAN, MLRN_ERR_LABEL
   (MLRN_ERR_ARG with the samples in flash or behind a callback: that store is read-only). */
static inline mlrn_status {N}_add_sample(const float *x, uint8_t label) {{
    return mlrn_store_add(&{N}_store, x, label);
}}

/* train on the stored samples: MLRN_OK (converged), MLRN_MAX_ITER, or an error. */
static inline mlrn_status {N}_train(uint32_t *iterations) {{ return mlrn_smo_train(&{N}_svm, iterations); }}

/* time-sliced training: begin once, then step until it stops returning MLRN_RUNNING. */
static inline mlrn_status {N}_train_begin(void) {{ return mlrn_smo_train_begin(&{N}_svm); }}
static inline mlrn_status {N}_train_step(uint32_t max_units) {{ return mlrn_smo_train_step(&{N}_svm, max_units); }}

/* infer: class index into the classes listed above, or a negative error code. */
static inline int32_t {N}_predict(const float *x) {{ return mlrn_smo_predict(&{N}_svm, x); }}

/* decision values: {U}_N_SUB floats (binary: >= 0 means class 1). */
static inline mlrn_status {N}_decision_function(const float *x, float *out) {{
    return mlrn_smo_decision_function(&{N}_svm, x, out);
}}

/* eval: correct predictions on n rows (row-major n x N_FEATURES). */
static inline mlrn_status {N}_eval(const float *X, const uint8_t *y, uint16_t n, uint16_t *correct) {{
    return mlrn_smo_eval(&{N}_svm, X, y, n, correct);
}}

/* kernel between two samples, with the trained parameters. */
static inline float {N}_kernel(const float *a, const float *b) {{
    return mlrn_kernel_eval(&{N}_svm.p.kernel, a, b, {U}_N_FEATURES);
}}
""")
    # wss2 always (the self-learning loop's solver: a learner header included later still works), and its own
    solvers = ["wss2"] + ([p.solver] if p.solver != "wss2" else [])
    return c_header(N, "trainer", "on-device SVM trainer", about, ["mlrn_smo.h"], "".join(out), kernels=[p.kernel],
                    select_kernels=True, macro_prefix=U, solvers=solvers,
                    config_macros=trainer_macros(cfg))


def export_trainer(path, name="trainer", *, n_features, capacity, classes, kernel="linear", C=1.0, gamma=1.0,
                   degree=3, coef0=0.0, tol=1e-3, max_iter=100000, solver="wss2", max_passes=10, alpha_tol=1e-7,
                   multiclass="ovo", seed=0, storage="float32", feature_range=None, board=None,
                   loss="hinge", data_in="ram", rows=None, cache_cols=0, arith="float") -> TrainerConfig:
    """Write a C header that trains an SVM on the device with static buffers sized at compile time.

    classes: the class labels (their order fixes the class indices) or their count.
    feature_range: (low, high), scalars or per-feature, for int16/int8 storage.
    board: a board name; its SRAM (less the stack reserve) becomes the compile-time budget.
    data_in: where the samples live: 'ram' (NAME_add_sample fills the store), 'flash' (rows=(X, y), capacity
    len(X): compiled in as const tables in flash) or 'callback' (NAME_setup(read, ctx): the application reads
    each sample, see mlrn_store_read_fn in mlrn_store.h).
    cache_cols: kernel columns wss2 caches (rbf/poly/sigmoid; 0 = none; see trainer.planner.cache_cols_for).
    arith: 'float' or 'fixed' (int8 storage, wss2, linear or rbf: MLRN_SMO_FIXED's integer scans; docs/trainer.md);
    train the reference with SMOClassifier(arith=...) alike to compare.
    Returns the TrainerConfig (its .buffers() gives the bytes of each buffer)."""
    cfg = make_config(n_features=n_features, capacity=capacity, classes=classes, kernel=kernel, C=C, gamma=gamma,
                      degree=degree, coef0=coef0, tol=tol, max_iter=max_iter, solver=solver, max_passes=max_passes,
                      alpha_tol=alpha_tol, multiclass=multiclass, seed=seed, storage=storage,
                      feature_range=feature_range, loss=loss, data_in=data_in, cache_cols=cache_cols, arith=arith)
    budget = None
    if board is not None:
        b = get_board(board)
        budget = b.sram_bytes - b.stack_reserve_bytes
    Path(path).write_text(render_trainer(cfg, name, budget, rows))
    return cfg
