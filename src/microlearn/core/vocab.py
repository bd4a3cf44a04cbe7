"""The C runtime's vocabulary, once, for Python: ids, status codes, sizes, limits and size formulas.

Every number here is a #define or a formula of the headers under include/ (named next to it).
Python code that needs one imports it from here instead of typing it again, and
tests/core/test_vocab.py parses the headers (and compiles the formulas) to fail on any
disagreement. Change a header and this file together.
"""
from __future__ import annotations

from typing import NamedTuple

from microlearn._version import RUNTIME_VERSION  # noqa: F401  (MLRN_RUNTIME_VERSION of mlrn.h, here too)


# ---- status codes (mlrn.h) ---------------------------------------------------------------------------
class Status(NamedTuple):
    code: int     # the value of the macro
    macro: str    # its C name
    name: str     # short name in reports (`microlearn train --json`: "status")
    text: str     # one line; mlrn_status_str() returns the same bytes


STATUSES = (
    Status(0, "MLRN_OK", "ok", "ok"),
    Status(1, "MLRN_MAX_ITER", "max_iter", "stopped at max_iter before meeting the tolerance"),
    Status(2, "MLRN_RUNNING", "running", "running: call the step function again"),
    Status(-1, "MLRN_ERR_ARG", "bad_argument", "bad argument: NULL pointer or bad parameter"),
    Status(-2, "MLRN_ERR_FULL", "capacity_full", "sample store at capacity"),
    Status(-3, "MLRN_ERR_NAN", "nan_input", "NaN or infinite value in the input"),
    Status(-4, "MLRN_ERR_UNTRAINED", "untrained", "no trained model yet"),
    Status(-5, "MLRN_ERR_ONE_CLASS", "one_class", "a sub-problem has samples of one class only"),
    Status(-6, "MLRN_ERR_LABEL", "bad_label", "label outside 0..n_classes-1"),
    Status(-7, "MLRN_ERR_BUFFER", "buffer_too_small", "buffer too small for the requested capacity"),
    Status(-8, "MLRN_ERR_EMPTY", "empty", "no samples"),
    Status(-9, "MLRN_ERR_CRC", "crc_mismatch", "stored data failed its integrity check"),
    Status(-10, "MLRN_ERR_IO", "io_error", "a storage callback failed"),
)
STATUS_UNKNOWN_TEXT = "unknown status"     # mlrn_status_str of any other value
STATUS_BY_CODE = {s.code: s for s in STATUSES}
STATUS_NAMES = {s.code: s.name for s in STATUSES}
OK, MAX_ITER, RUNNING = 0, 1, 2


def status_str(code: int) -> str:
    """The text of mlrn_status_str(code)."""
    s = STATUS_BY_CODE.get(code)
    return s.text if s else STATUS_UNKNOWN_TEXT


# ---- ids: Python name -> value, and the macro generated code writes -------------------------------------
def _ids(prefix: str, names: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """(name -> value, name -> macro) for macros numbered 0, 1, ... in the order given."""
    return ({n: i for i, n in enumerate(names)}, {n: prefix + m for n, m in names.items()})


# mlrn_kernel.h MLRN_KERNEL_*
KERNELS, KERNEL_MACROS = _ids("MLRN_KERNEL_", {"linear": "LINEAR", "rbf": "RBF", "poly": "POLY",
                                               "sigmoid": "SIGMOID"})
# mlrn_store.h MLRN_STORAGE_*: how samples are held; bytes per element (mlrn_store_elem_size); C type
STORAGES, STORAGE_MACROS = _ids("MLRN_STORAGE_", {"float32": "F32", "int16": "I16", "int8": "I8"})
ELEM_SIZE = {"float32": 4, "int16": 2, "int8": 1}
STORE_ANY = 255               # MLRN_STORE_ANY: MLRN_STORE_TYPE's default, the storage type chosen at run time
# mlrn_mlp.h MLRN_MLP_*: the activation functions of exported MLPs (scikit-learn's names); int8 range
MLP_ACTIVATIONS, MLP_ACTIVATION_MACROS = _ids("MLRN_MLP_", {"identity": "IDENTITY", "relu": "RELU", "tanh": "TANH",
                                                            "logistic": "LOGISTIC"})
MLP_Q8_MAX = 127              # MLRN_MLP_Q8_MAX: int8 weights and activations span [-127, 127]
STORAGE_CTYPES = {"float32": "float", "int16": "int16_t", "int8": "int8_t"}
# mlrn_store.h MLRN_STORE_IN_*: where a trainer's samples live (MLRN_STORE_SOURCE, a compile-time choice):
# RAM (filled at run time), a read-only table in flash, or the application's read callback
DATA_IN, DATA_IN_MACROS = _ids("MLRN_STORE_IN_", {"ram": "RAM", "flash": "FLASH", "callback": "CALLBACK"})
# mlrn_smo.h MLRN_SMO_SOLVER_* and the multi-class schemes MLRN_SMO_OVO / MLRN_SMO_OVR
SOLVERS, SOLVER_MACROS = _ids("MLRN_SMO_SOLVER_", {"wss2": "WSS2", "simplified": "SIMPLIFIED", "dcd": "DCD"})
LINEAR_ONLY_SOLVERS = ("dcd",)   # the MLRN_SMO_PARAM_SOLVER rule: dcd needs the linear kernel
# mlrn_smo.h MLRN_SMO_LOSS_*: the dcd solver's loss (hinge = L1, squared_hinge = L2)
LOSSES, LOSS_MACROS = _ids("MLRN_SMO_LOSS_", {"hinge": "HINGE", "squared_hinge": "SQUARED_HINGE"})
MULTICLASS, MULTICLASS_MACROS = _ids("MLRN_SMO_", {"ovo": "OVO", "ovr": "OVR"})
# mlrn_learner.h: what the learner stores, what it evicts when full, what a step reports
STORE_POLICIES, STORE_POLICY_MACROS = _ids("MLRN_LEARNER_STORE_", {"mistakes": "MISTAKES", "all": "ALL"})
REPLACE_POLICIES, REPLACE_POLICY_MACROS = _ids("MLRN_LEARNER_", {"fifo": "FIFO", "reservoir": "RESERVOIR",
                                                                  "balanced": "BALANCED"})
LEARNER_EVENTS, LEARNER_EVENT_MACROS = _ids("MLRN_LEARNER_EV_", {"none": "NONE", "accepted": "ACCEPTED",
                                                                 "rollback": "ROLLBACK", "failed": "FAILED"})
EV_NONE, EV_ACCEPTED, EV_ROLLBACK, EV_FAILED = (LEARNER_EVENTS[k] for k in ("none", "accepted", "rollback", "failed"))
# mlrn_drift.h: the drift detectors (MLRN_DRIFT_*), DDM's levels, defaults and fixed point
DRIFT_DETECTORS, DRIFT_DETECTOR_MACROS = _ids("MLRN_DRIFT_", {"window": "WINDOW", "ddm": "DDM"})
DDM_LEVELS, DDM_LEVEL_MACROS = _ids("MLRN_DDM_", {"none": "NONE", "warning": "WARNING", "drift": "DRIFT"})
DDM_NONE, DDM_WARNING, DDM_DRIFT = (DDM_LEVELS[k] for k in ("none", "warning", "drift"))
# the learners behind `microlearn loop --model`: the SVM loop (mlrn_learner.h), PA-II (mlrn_online.h)
LEARNER_MODELS = ("svm", "online")
ONLINE_MAGIC = 0x4F4C         # MLRN_ONLINE_MAGIC: the online learner's persistence tag
ONLINE_FORMAT = 1             # MLRN_ONLINE_FORMAT: everything (mlrn_online_save)
ONLINE_FORMAT_MODEL = 2       # MLRN_ONLINE_FORMAT_MODEL: the accepted weights (mlrn_online_save_model)
ONLINE_MAX_CLASSES = 16       # MLRN_ONLINE_MAX_CLASSES
ONLINE_HEAD_LEN = 8           # MLRN_ONLINE__HEAD_LEN
ONLINE_STATE_LEN = 76         # MLRN_ONLINE__STATE_LEN
DDM_MIN_ROWS = 30             # MLRN_DDM_MIN_ROWS
DDM_WARN_K10 = 25             # MLRN_DDM_WARN_K10: warning at p_min + 2.5 s_min
DDM_DRIFT_K10 = 40            # MLRN_DDM_DRIFT_K10: drift at p_min + 4.0 s_min
DDM_Q_BITS = 16               # MLRN_DDM_Q_BITS: p and s in Q16
DDM_NO_MIN = 0xFFFFFFFF       # MLRN_DDM_NO_MIN


# ---- the trainer's parameter check (mlrn_smo_check_params, mlrn_smo.h) ------------------------------------
# MLRN_SMO_PARAM_<NAME> in this order from 1 (0 is MLRN_SMO_PARAM_OK), named as the Python parameters are
# (trainer.reference.check_params); the text is mlrn_smo_param_str's.
SMO_PARAMS = (
    ("params", "params: NULL pointer"),
    ("C", "C: must be > 0 and finite (squared_hinge: 0.5/C finite too)"),
    ("tol", "tol: must be > 0"),
    ("alpha_tol", "alpha_tol: must be >= 0"),
    ("kernel", "kernel: an MLRN_KERNEL_* type compiled in (MLRN_KERNELS)"),
    ("solver", "solver: MLRN_SMO_SOLVER_WSS2, MLRN_SMO_SOLVER_SIMPLIFIED, or MLRN_SMO_SOLVER_DCD with the linear "
               "kernel; compiled in (MLRN_SMO_SOLVERS)"),
    ("multiclass", "multiclass: MLRN_SMO_OVO or MLRN_SMO_OVR"),
    ("gamma", "gamma: must be finite"),
    ("coef0", "coef0: must be finite"),
    ("n_classes", "n_classes: at most MLRN_SMO_MAX_CLASSES"),
    ("max_iter", "max_iter: must be >= 1"),
    ("max_passes", "max_passes: must be >= 1 with the simplified solver"),
    ("loss", "loss: MLRN_SMO_LOSS_HINGE, or MLRN_SMO_LOSS_SQUARED_HINGE with the dcd solver"),
)
SMO_PARAM_OK_TEXT = "ok"
SMO_PARAM_UNKNOWN_TEXT = "unknown parameter"
SMO_PARAM_CODES = {name: i + 1 for i, (name, _) in enumerate(SMO_PARAMS)}


def smo_param_str(code: int) -> str:
    """The text of mlrn_smo_param_str(code)."""
    if code == 0:
        return SMO_PARAM_OK_TEXT
    return SMO_PARAMS[code - 1][1] if 1 <= code <= len(SMO_PARAMS) else SMO_PARAM_UNKNOWN_TEXT


# ---- limits -----------------------------------------------------------------------------------------------
SMO_MAX_CLASSES = 16          # MLRN_SMO_MAX_CLASSES (mlrn_smo.h): its default (vote array, learner class maps)
SMO_MAX_CLASSES_LIMIT = 64    # the most it may be raised to (mlrn_smo.h #error); generated trainers raise it
SMO_OVO_MAX_CLASSES = 16      # one-vs-one beyond this is refused in Python (quadratic: n(n-1)/2 sub-problems)
MAX_CLASSES = 255             # mlrn_store n_classes is a uint8 (class indices 0..254)
MAX_FEATURES = 0xFFFF         # mlrn_store d: uint16
MAX_CAPACITY = 0xFFFF         # mlrn_store capacity: uint16
SVM_OVO_MAX_CLASSES = 362     # MLRN_SVM_OVO_MAX_CLASSES (mlrn_svm.h): n(n-1)/2 pairs in a uint16_t
SVM_LABELED_MAX_CLASSES = 256  # MLRN_SVM_LABELED_MAX_CLASSES: uint8_t per-vector labels
SMO_TAU = 1e-12               # MLRN_SMO_TAU: libsvm's floor for a non-positive curvature (float32 in C)
SMO_BIG = 3.0e38              # MLRN_SMO_BIG: the solvers' "infinity" (float32 in C)
SMO_DCD_PG_EPS = 1e-12        # MLRN_SMO_DCD_PG_EPS: dcd moves a coordinate only when |projected gradient| > this
SMO_DCD_BIAS = 1.0            # MLRN_SMO_DCD_BIAS: dcd's constant bias feature (liblinear's B)
SMO_CACHE_MIN_COLS = 2        # MLRN_SMO_CACHE_MIN_COLS: wss2's update holds the kernel columns of i and j at once
SMO_CACHE_MAX_COLS = 255      # MLRN_SMO_CACHE_MAX_COLS: a cache slot number is a uint8
SMO_CACHE_EMPTY = 0xFFFF      # MLRN_SMO_CACHE_EMPTY: the tag of an empty cache slot
SMO_FX_MAX_D = 512            # MLRN_SMO_FX_MAX_D: MLRN_SMO_FIXED's most features (its int32 sum's bound)
SMO_FX_DQ2_MAX = 65025        # MLRN_SMO_FX_DQ2_MAX: the largest squared difference of two int8 codes
SMO_FX_S_MAX = 65535          # MLRN_SMO_FX_S_MAX: the most distance levels (a uint16)
SMO_FX_K_MAX = 2.0 ** 30      # MLRN_SMO_FX_K_MAX: sc (so the label term K = round(sc)) stays below (float in C)
SMO_FX_SUM_MAX = 2 ** 23      # MLRN_SMO_FX_SUM_MAX: sum_k |U_k| stays below (times 128: below 2^30)
SMO_DCD_STATE = 6             # MLRN_SMO__DCD_STATE (an enum): dcd's state floats at the head of its work region
TREE_REC_NODE_BYTES = 7       # MLRN_TREE_REC_NODE_BYTES (mlrn_tree.h)
TREE_REC_LEAF_BYTES = 3       # MLRN_TREE_REC_LEAF_BYTES

# ---- persistence (mlrn_persist.h, mlrn_learner.h) -----------------------------------------------------------
PERSIST_VERSION = 1           # MLRN_PERSIST_VERSION
PERSIST_HEADER = 20           # MLRN_PERSIST_HEADER: bytes of a slot's header (byte-writable storage)
PERSIST_MAGIC = b"MLPS"       # MLRN_PERSIST_MAGIC0..3, the commit mark
PERSIST_FIRST_SEQ = 1         # MLRN_PERSIST_FIRST_SEQ
CRC32_POLY = 0xEDB88320       # MLRN_CRC32_POLY (mlrn_crc32.h), reflected IEEE
LEARNER_MAGIC = 0x4C52        # MLRN_LEARNER_MAGIC: the learner's persistence tag
LEARNER_FORMAT = 1            # MLRN_LEARNER_FORMAT: payload = the current model
LEARNER_FORMAT_ALL = 2        # MLRN_LEARNER_FORMAT_ALL: model + stores + loop state
LEARNER_STATE_LEN = 84        # MLRN_LEARNER__STATE_LEN: the state block of format 2
LEARNER_DDM_LEN = 17          # MLRN_LEARNER__DDM_LEN: format 2's detector section (MLRN_DRIFT_DDM only)
LEARNER_FORMAT_KERNEL = 3     # MLRN_LEARNER_FORMAT_KERNEL: a kernel learner's snapshot
LEARNER_FORMAT_ALL_KERNEL = 4  # MLRN_LEARNER_FORMAT_ALL_KERNEL: the snapshot + stores + loop state
LEARNER_KHEAD_LEN = 12        # MLRN_LEARNER__KHEAD_LEN: kernel type, degree, gamma, coef0, n_sv


# ---- size formulas ----------------------------------------------------------------------------------------
def n_sub(n_classes: int, multiclass: str = "ovo") -> int:
    """mlrn_smo_n_sub: binary sub-problems (one for two classes; ovr one per class, ovo one per pair)."""
    if n_classes <= 2:
        return 1
    return n_classes if multiclass == "ovr" else n_classes * (n_classes - 1) // 2


def n_rows(n_classes: int, multiclass: str = "ovo") -> int:
    """mlrn_smo_n_rows: rows of dual coefficients of a kernel model (libsvm's layout for ovo)."""
    if n_classes <= 2:
        return 1
    return n_classes if multiclass == "ovr" else n_classes - 1


def store_data_size(capacity: int, d: int, storage: str) -> int:
    """mlrn_store_data_size: bytes of a store's sample array (its labels take `capacity` more)."""
    return capacity * d * ELEM_SIZE[storage]


def store_codes_size(d: int, storage: str) -> int:
    """mlrn_store_codes_size: a callback store's buffer of two rows of codes (0 for float32)."""
    return 0 if storage == "float32" else 2 * d * ELEM_SIZE[storage]


def smo_work_floats(capacity: int, d: int, n_classes: int, storage: str, kernel: str = "linear",
                    solver: str = "wss2", multiclass: str = "ovo", data_in: str = "ram") -> int:
    """mlrn_smo_work_floats: floats of the trainer's work array, term by term as the C adds them
    (data_in: MLRN_STORE_SOURCE of the build; read-only stores have scratch rows for float32 too)."""
    linear, wss2, quant = kernel == "linear", solver == "wss2", storage != "float32"
    ns = n_sub(n_classes, multiclass)
    f = (1 if linear else n_rows(n_classes, multiclass)) * capacity    # alpha
    if wss2 and not linear:
        f += capacity                                                   # grad
    if solver == "dcd":
        f += SMO_DCD_STATE + capacity + (capacity + 1) // 2             # state, qd, perm (a uint16 per sample)
    if wss2 and kernel in ("poly", "sigmoid"):
        f += capacity                                                   # diag
    if linear:
        f += ns * d                                                     # w
    if wss2 and linear and quant:
        f += d + 1                                                      # wq
    f += ns                                                             # b
    if quant or data_in != "ram":
        f += 4 * d                                                      # scratch rows
    return f


def smo_cache_floats(cols: int, capacity: int) -> int:
    """MLRN_SMO_CACHE_FLOATS: the kernel-column cache (mlrn_smo_set_cache): cols columns of capacity floats, then
    a uint16 tag and a uint8 order entry per column, in whole floats."""
    return cols * capacity + (3 * cols + 3) // 4


def cache_applies(kernel: str, solver: str) -> bool:
    """The kernel-column cache serves wss2 with a non-linear kernel only (linear wss2 keeps w, not columns)."""
    return solver == "wss2" and kernel != "linear"


def smo_work_floats_linear(capacity: int, d: int, nsub: int, storage: str, data_in: str = "ram") -> int:
    """MLRN_SMO_WORK_FLOATS_LINEAR: the constant-expression twin for a linear-kernel wss2 trainer."""
    return capacity + nsub * d + nsub + (5 * d + 1 if storage != "float32" else 4 * d if data_in != "ram" else 0)


def learner_warm_floats(capacity: int, n_classes: int, warm: bool) -> int:
    """MLRN_LEARNER__WARM_FLOATS: the warm alphas ahead of the trainer's work array with MLRN_LEARNER_WARM 1
    (n_sub(NC) rows of train capacity, the last of which is the trainer's own alpha row), else 0."""
    return (n_sub(n_classes, "ovo") - 1) * capacity if warm else 0


def learner_work_floats(capacity: int, d: int, n_classes: int, storage: str, warm: bool = False) -> int:
    """mlrn_learner_work_floats: the trainer's work array plus the warm alphas (MLRN_LEARNER_WARM)."""
    return smo_work_floats(capacity, d, n_classes, storage) + learner_warm_floats(capacity, n_classes, warm)


def learner_model_floats(d: int, n_classes: int) -> int:
    """mlrn_learner_model_floats: the current model, w and b of every one-vs-one pair."""
    return n_sub(n_classes, "ovo") * (d + 1)


def learner_kernel_model_floats(capacity: int, n_classes: int) -> int:
    """mlrn_learner_kernel_model_floats (MLRN_LEARNER_KERNEL rbf / poly): the snapshot's coefficient rows (one
    column per training-capacity row) and b of every one-vs-one pair."""
    return n_rows(n_classes, "ovo") * capacity + n_sub(n_classes, "ovo")


# ---- the serial protocol (mlrn_link.h; docs/serial-protocol.md) ----------------------------------------------
LINK_VERSION = 1              # MLRN_LINK_VERSION: the VER byte of every frame
LINK_SOF0, LINK_SOF1 = 0xA5, 0x5A   # MLRN_LINK_SOF0 / MLRN_LINK_SOF1
LINK_REPLY_FLAG = 0x80        # MLRN_LINK_REPLY_FLAG: reply TYPE = request TYPE | flag
LINK_NAK = 0xFF               # MLRN_LINK_NAK
# MLRN_LINK_<NAME>: request types
LINK_TYPES = {"hello": 0x01, "row": 0x02, "train": 0x03, "predict": 0x04, "feedback": 0x05, "eval": 0x06,
              "model": 0x07, "clear": 0x08}
(LINK_HELLO, LINK_ROW, LINK_TRAIN, LINK_PREDICT, LINK_FEEDBACK, LINK_EVAL, LINK_MODEL,
 LINK_CLEAR) = LINK_TYPES.values()
LINK_KINDS = {"train": 1, "loop": 2, "model": 3}      # MLRN_LINK_KIND_<NAME>: the sketch kind in HELLO
# MLRN_LINK_ERR_<NAME>: why a NAK (its status byte), below mlrn.h's status codes
LINK_NAK_REASONS = {"type": -20, "length": -21, "version": -22, "too_long": -23}
LINK_ERR_TYPE, LINK_ERR_LENGTH, LINK_ERR_VERSION, LINK_ERR_TOO_LONG = LINK_NAK_REASONS.values()
# MLRN_LINK_<NAME>: what mlrn_link_feed returns
LINK_FEED_RESULTS = {"none": 0, "request": 1, "resend": 2, "nak_ready": 3}
LINK_NO_PREDICTION = -0x8000  # MLRN_LINK_NO_PREDICTION: FEEDBACK's prediction when there was no model
LINK_BYTE_TIMEOUT_MS = 100    # MLRN_LINK_BYTE_TIMEOUT_MS (default; a sketch may #define another)
LINK_HEADER_BYTES = 6         # MLRN_LINK_HEADER_BYTES: A5 5A VER TYPE SEQ LEN
LINK_CRC_BYTES = 4            # MLRN_LINK_CRC_BYTES
LINK_OVERHEAD_BYTES = 10      # MLRN_LINK_OVERHEAD_BYTES
LINK_MAX_PAYLOAD = 255        # MLRN_LINK_MAX_PAYLOAD
LINK_F32_BYTES = 4            # MLRN_LINK_F32_BYTES
LINK_LABEL_BYTES = 2          # MLRN_LINK_LABEL_BYTES
LINK_MAX_FEATURES = 63        # MLRN_LINK_MAX_FEATURES: 4 n + 2 <= 255
# request payloads that do not depend on n_features (MLRN_LINK_<TYPE>_BYTES), and the reply payloads
# (MLRN_LINK_<TYPE>_REPLY_BYTES; MODEL's is its header, before the chunk)
LINK_HELLO_BYTES, LINK_TRAIN_BYTES, LINK_EVAL_BYTES, LINK_MODEL_BYTES, LINK_CLEAR_BYTES = 4, 0, 0, 2, 0
LINK_HELLO_REPLY_BYTES = 12
LINK_ROW_REPLY_BYTES = 3
LINK_TRAIN_REPLY_BYTES = 9
LINK_PREDICT_REPLY_BYTES = 3
LINK_FEEDBACK_REPLY_BYTES = 6
LINK_EVAL_REPLY_BYTES = 5
LINK_MODEL_REPLY_HEADER_BYTES = 3
LINK_CLEAR_REPLY_BYTES = 1
LINK_NAK_REPLY_BYTES = 2


def link_frame_bytes(payload: int) -> int:
    """MLRN_LINK_FRAME_BYTES: a frame's bytes for its payload."""
    return payload + LINK_OVERHEAD_BYTES


def link_request_bytes(type: int, n_features: int) -> int:
    """mlrn_link_request_bytes: the payload a request must have (MLRN_LINK_ROW_BYTES(n) ...), -1 unknown."""
    x = n_features * LINK_F32_BYTES
    return {LINK_HELLO: LINK_HELLO_BYTES, LINK_ROW: x + LINK_LABEL_BYTES, LINK_TRAIN: LINK_TRAIN_BYTES,
            LINK_PREDICT: x, LINK_FEEDBACK: x + LINK_LABEL_BYTES, LINK_EVAL: LINK_EVAL_BYTES,
            LINK_MODEL: LINK_MODEL_BYTES, LINK_CLEAR: LINK_CLEAR_BYTES}.get(type, -1)


def link_buffer_bytes(n_features: int, max_reply: int) -> tuple[int, int]:
    """(MLRN_LINK_RX_BYTES(n), MLRN_LINK_TX_BYTES(max_reply)): a sketch's receive and transmit buffers."""
    return link_request_bytes(LINK_FEEDBACK, n_features), link_frame_bytes(max_reply)
