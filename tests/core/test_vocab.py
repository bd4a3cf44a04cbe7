"""microlearn.core.vocab against the C headers it mirrors.

Both directions: every id, code and limit of vocab is compiled into a C program that prints the
header's value (the compiler evaluates the macros, whatever their spelling), and every #define of
the id families in the headers is known to vocab (a kernel, status or policy added in C only fails
here). The size formulas of mlrn_smo.h / mlrn_store.h / mlrn_learner.h are run over a grid in C and in
Python, and mlrn_status_str / mlrn_smo_param_str give the texts vocab holds, byte for byte."""
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from compile_c import compile_c
from microlearn.core import vocab
from microlearn.core.paths import include_dir

HEADERS = Path(include_dir())
CC = shutil.which("cc")


def header_defines() -> dict[str, str]:
    """Object-like #defines of every runtime header: name -> replacement text (comments stripped)."""
    out = {}
    for h in sorted(HEADERS.glob("mlrn*.h")):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        for name, value in re.findall(r"^[ \t]*#[ \t]*define[ \t]+(MLRN_\w+)(?![\w(])[ \t]*(.*)$", text, re.M):
            out.setdefault(name, value.strip())
    return out


def c_int(text: str) -> int | None:
    """The value of an integer literal, possibly parenthesised, signed and suffixed (`(-10)`, `0x4C52u`)."""
    m = re.fullmatch(r"\(?\s*(-?)\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?", text)
    return None if m is None else int(m.group(1) + m.group(2), 0)


# Every value vocab states, by the macro that defines it in C.
def vocab_macros() -> dict[str, int]:
    out = {"MLRN_RUNTIME_VERSION": vocab.RUNTIME_VERSION}
    out.update({s.macro: s.code for s in vocab.STATUSES})
    for values, macros in [(vocab.KERNELS, vocab.KERNEL_MACROS), (vocab.STORAGES, vocab.STORAGE_MACROS),
                           (vocab.DATA_IN, vocab.DATA_IN_MACROS),
                           (vocab.SOLVERS, vocab.SOLVER_MACROS), (vocab.MULTICLASS, vocab.MULTICLASS_MACROS),
                           (vocab.LOSSES, vocab.LOSS_MACROS), (vocab.STORE_POLICIES, vocab.STORE_POLICY_MACROS),
                           (vocab.REPLACE_POLICIES, vocab.REPLACE_POLICY_MACROS),
                           (vocab.LEARNER_EVENTS, vocab.LEARNER_EVENT_MACROS),
                           (vocab.DRIFT_DETECTORS, vocab.DRIFT_DETECTOR_MACROS),
                           (vocab.DDM_LEVELS, vocab.DDM_LEVEL_MACROS),
                           (vocab.MLP_ACTIVATIONS, vocab.MLP_ACTIVATION_MACROS)]:
        assert values.keys() == macros.keys()
        out.update({macros[k]: v for k, v in values.items()})
    out["MLRN_SMO_PARAM_OK"] = 0
    out.update({f"MLRN_SMO_PARAM_{name.upper()}": code for name, code in vocab.SMO_PARAM_CODES.items()})
    out.update({
        "MLRN_SMO_MAX_CLASSES": vocab.SMO_MAX_CLASSES,
        "MLRN_SMO_CACHE_MIN_COLS": vocab.SMO_CACHE_MIN_COLS,
        "MLRN_SMO_CACHE_MAX_COLS": vocab.SMO_CACHE_MAX_COLS,
        "MLRN_SMO_CACHE_EMPTY": vocab.SMO_CACHE_EMPTY,
        "MLRN_SMO_FX_MAX_D": vocab.SMO_FX_MAX_D,
        "MLRN_SMO_FX_DQ2_MAX": vocab.SMO_FX_DQ2_MAX,
        "MLRN_SMO_FX_S_MAX": vocab.SMO_FX_S_MAX,
        "MLRN_SMO_FX_SUM_MAX": vocab.SMO_FX_SUM_MAX,
        "MLRN_SVM_OVO_MAX_CLASSES": vocab.SVM_OVO_MAX_CLASSES,
        "MLRN_MLP_Q8_MAX": vocab.MLP_Q8_MAX,
        "MLRN_STORE_ANY": vocab.STORE_ANY,
        "MLRN_SVM_LABELED_MAX_CLASSES": vocab.SVM_LABELED_MAX_CLASSES,
        "MLRN_TREE_REC_NODE_BYTES": vocab.TREE_REC_NODE_BYTES,
        "MLRN_TREE_REC_LEAF_BYTES": vocab.TREE_REC_LEAF_BYTES,
        "MLRN_PERSIST_VERSION": vocab.PERSIST_VERSION,
        "MLRN_PERSIST_HEADER": vocab.PERSIST_HEADER,
        "MLRN_PERSIST_FIRST_SEQ": vocab.PERSIST_FIRST_SEQ,
        "MLRN_CRC32_POLY": vocab.CRC32_POLY,
        "MLRN_LEARNER_MAGIC": vocab.LEARNER_MAGIC,
        "MLRN_LEARNER_FORMAT": vocab.LEARNER_FORMAT,
        "MLRN_LEARNER_FORMAT_ALL": vocab.LEARNER_FORMAT_ALL,
        "MLRN_LEARNER__STATE_LEN": vocab.LEARNER_STATE_LEN,
        "MLRN_LEARNER__DDM_LEN": vocab.LEARNER_DDM_LEN,
        "MLRN_LEARNER_FORMAT_KERNEL": vocab.LEARNER_FORMAT_KERNEL,
        "MLRN_LEARNER_FORMAT_ALL_KERNEL": vocab.LEARNER_FORMAT_ALL_KERNEL,
        "MLRN_LEARNER__KHEAD_LEN": vocab.LEARNER_KHEAD_LEN,
        "MLRN_ONLINE_MAGIC": vocab.ONLINE_MAGIC,
        "MLRN_ONLINE_FORMAT": vocab.ONLINE_FORMAT,
        "MLRN_ONLINE_FORMAT_MODEL": vocab.ONLINE_FORMAT_MODEL,
        "MLRN_ONLINE_MAX_CLASSES": vocab.ONLINE_MAX_CLASSES,
        "MLRN_ONLINE__HEAD_LEN": vocab.ONLINE_HEAD_LEN,
        "MLRN_ONLINE__STATE_LEN": vocab.ONLINE_STATE_LEN,
        "MLRN_DDM_MIN_ROWS": vocab.DDM_MIN_ROWS,
        "MLRN_DDM_WARN_K10": vocab.DDM_WARN_K10,
        "MLRN_DDM_DRIFT_K10": vocab.DDM_DRIFT_K10,
        "MLRN_DDM_Q_BITS": vocab.DDM_Q_BITS,
        "MLRN_DDM_NO_MIN": vocab.DDM_NO_MIN,
    })
    out.update({f"MLRN_PERSIST_MAGIC{i}": b for i, b in enumerate(vocab.PERSIST_MAGIC)})
    out.update(link_macros())
    return out


def link_macros() -> dict[str, int]:
    """The serial protocol's constants (mlrn_link.h)."""
    out = {f"MLRN_LINK_{name.upper()}": code for name, code in vocab.LINK_TYPES.items()}
    out.update({f"MLRN_LINK_KIND_{name.upper()}": code for name, code in vocab.LINK_KINDS.items()})
    out.update({f"MLRN_LINK_ERR_{name.upper()}": code for name, code in vocab.LINK_NAK_REASONS.items()})
    out.update({f"MLRN_LINK_{name.upper()}": code for name, code in vocab.LINK_FEED_RESULTS.items()})
    for name in ("VERSION", "SOF0", "SOF1", "REPLY_FLAG", "NAK", "NO_PREDICTION", "BYTE_TIMEOUT_MS",
                 "HEADER_BYTES", "CRC_BYTES", "OVERHEAD_BYTES", "MAX_PAYLOAD", "F32_BYTES", "LABEL_BYTES",
                 "MAX_FEATURES", "HELLO_BYTES", "TRAIN_BYTES", "EVAL_BYTES", "MODEL_BYTES", "CLEAR_BYTES",
                 "HELLO_REPLY_BYTES", "ROW_REPLY_BYTES", "TRAIN_REPLY_BYTES", "PREDICT_REPLY_BYTES",
                 "FEEDBACK_REPLY_BYTES", "EVAL_REPLY_BYTES", "MODEL_REPLY_HEADER_BYTES", "CLEAR_REPLY_BYTES",
                 "NAK_REPLY_BYTES"):
        out[f"MLRN_LINK_{name}"] = getattr(vocab, f"LINK_{name}")
    return out


# Integer #defines that are not vocabulary: build options (their value is the user's choice) and the modes
# of the RAM fake's power-cut injector, which only the C tests use. Any other integer #define of a header
# must be in microlearn.core.vocab.
NOT_VOCABULARY = {"MLRN_KERNELS", "MLRN_SMO_SOLVERS", "MLRN_SOFT_FLOAT", "MLRN_PERSIST_BUF", "MLRN_PERSIST_MAX_WORD",
                  "MLRN_LEARNER_DDM", "MLRN_LEARNER_WARM", "MLRN_SMO_WARM", "MLRN_SMO_CACHE", "MLRN_SMO_KERNEL_CODES",
                  "MLRN_SMO_FIXED",
                  "MLRN_PERSIST_RAM_CUT_CLEAN", "MLRN_PERSIST_RAM_CUT_GARBAGE", "MLRN_PERSIST_RAM_CUT_ERASED"}


def test_every_integer_define_of_the_headers_is_in_vocab():
    defines = header_defines()
    integers = {n for n, v in defines.items() if c_int(v) is not None}
    assert {"MLRN_OK", "MLRN_KERNEL_RBF", "MLRN_LEARNER_RESERVOIR", "MLRN_SMO_PARAM_GAMMA"} <= integers
    missing = integers - set(vocab_macros()) - NOT_VOCABULARY
    assert not missing, f"defined in the headers, missing from microlearn.core.vocab: {sorted(missing)}"
    assert NOT_VOCABULARY <= integers, "stale NOT_VOCABULARY entries: " + str(NOT_VOCABULARY - integers)


def test_vocab_values_equal_the_header_literals():
    """The parse (no compiler needed): each macro vocab names is a literal of the same value."""
    defines = header_defines()
    for macro, value in vocab_macros().items():
        assert macro in defines, f"{macro} (microlearn.core.vocab) is not defined in any header"
        if c_int(defines[macro]) is not None:      # expressions are left to the compiled check
            assert c_int(defines[macro]) == value, (macro, defines[macro], value)
    assert np.float32(vocab.SMO_TAU) == np.float32(float(defines["MLRN_SMO_TAU"].rstrip("fF")))
    assert np.float32(vocab.SMO_BIG) == np.float32(float(defines["MLRN_SMO_BIG"].rstrip("fF")))
    assert np.float32(vocab.SMO_DCD_PG_EPS) == np.float32(float(defines["MLRN_SMO_DCD_PG_EPS"].rstrip("fF")))
    assert np.float32(vocab.SMO_DCD_BIAS) == np.float32(float(defines["MLRN_SMO_DCD_BIAS"].rstrip("fF")))
    assert np.float32(vocab.SMO_FX_K_MAX) == np.float32(float(defines["MLRN_SMO_FX_K_MAX"].rstrip("fF")))


def test_type_limits_follow_the_struct_fields():
    """MAX_FEATURES / MAX_CAPACITY / MAX_CLASSES are the ranges of mlrn_store's fields."""
    store = re.search(r"typedef struct \{(.*?)\} mlrn_store;", (HEADERS / "mlrn_store.h").read_text(), re.S).group(1)
    width = {"uint8_t": 0xFF, "uint16_t": 0xFFFF, "uint32_t": 0xFFFFFFFF}
    fields = dict((f, width[t]) for t, f in re.findall(r"(uint\d+_t)\s+(\w+);", store))
    assert fields["d"] == vocab.MAX_FEATURES
    assert fields["capacity"] == vocab.MAX_CAPACITY
    assert fields["n_classes"] == vocab.MAX_CLASSES
    assert vocab.SVM_OVO_MAX_CLASSES * (vocab.SVM_OVO_MAX_CLASSES - 1) // 2 <= 0xFFFF


# ---- the compiled check -----------------------------------------------------------------------------------
GRID_CAPACITY = (2, 7, 100, 65535)
GRID_D = (1, 3, 17, 65535)
GRID_CLASSES = (2, 3, 4, 5, 16)


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _program() -> str:
    lines = ['#include <stdio.h>', '#include "mlrn_learner.h"', '#include "mlrn_online.h"', '#include "mlrn_svm.h"', '#include "mlrn_tree.h"',
             '#include "mlrn_link.h"', '#include "mlrn_mlp.h"',
             "static void text(const char *tag, long code, const char *s) { printf(\"%s %ld %s\\n\", tag, code, s); }",
             "int main(void) {", "    mlrn_smo_params p = mlrn_smo_default_params();", "    int c; unsigned k, mc;"]
    for macro in vocab_macros():
        lines.append(f'    printf("M %s %ld\\n", {_c_string(macro)}, (long)({macro}));')
    # every int8 status code and every uint8 parameter code, through the texts' functions
    lines.append("    for (c = -128; c < 128; c++) text(\"S\", c, mlrn_status_str((mlrn_status)c));")
    lines.append("    for (c = 0; c < 256; c++) text(\"P\", c, mlrn_smo_param_str((uint8_t)c));")
    lines.append("    for (k = 0; k <= 20; k++) for (mc = 0; mc <= 1; mc++)")
    lines.append('        printf("N %u %u %u %u\\n", k, mc, (unsigned)mlrn_smo_n_sub((uint8_t)k, (uint8_t)mc), '
                 "(unsigned)mlrn_smo_n_rows((uint8_t)k, (uint8_t)mc));")
    lines.append('    for (k = 0; k <= 20; k++) printf("O %u %u\\n", k, (unsigned)MLRN_SMO_N_SUB_OVO(k));')
    for (kernel, kid), (solver, sid), (mc, mid), (storage, st) in itertools.product(
            vocab.KERNELS.items(), vocab.SOLVERS.items(), vocab.MULTICLASS.items(), vocab.STORAGES.items()):
        lines.append(f"    p.kernel.type = {kid}; p.solver = {sid}; p.multiclass = {mid};")
        for cap, d, nc in itertools.product(GRID_CAPACITY, GRID_D, GRID_CLASSES):
            lines.append(f'    printf("W {kernel} {solver} {mc} {storage} {cap} {d} {nc} %lu\\n", '
                         f"(unsigned long)mlrn_smo_work_floats({cap}u, {d}u, {nc}u, {st}, &p));")
    for storage, st in vocab.STORAGES.items():
        lines.append(f'    printf("E {storage} %lu\\n", (unsigned long)mlrn_store_elem_size({st}));')
        for cap, d, nsub in itertools.product(GRID_CAPACITY, GRID_D, (1, 3, 6, 120)):
            lines.append(f'    printf("L {storage} {cap} {d} {nsub} %lu %lu\\n", '
                         f"(unsigned long)MLRN_SMO_WORK_FLOATS_LINEAR({cap}ul, {d}ul, {nsub}ul, {st}), "
                         f"(unsigned long)mlrn_store_data_size({cap}u, {d}u, {st}));")
    for d, nc in itertools.product(GRID_D, GRID_CLASSES):
        lines.append(f'    printf("F {d} {nc} %lu\\n", (unsigned long)mlrn_learner_model_floats({d}u, {nc}u));')
    # the serial protocol's sizes: every type byte through mlrn_link_request_bytes, the size macros
    for n in (1, 3, 17, vocab.LINK_MAX_FEATURES):
        lines.append(f"    for (k = 0; k < 256; k++) printf(\"Q {n} %u %d\\n\", k, "
                     f"(int)mlrn_link_request_bytes((uint8_t)k, {n}u));")
        lines.append(f'    printf("B {n} %d %d %d %d %d %d\\n", (int)MLRN_LINK_ROW_BYTES({n}), '
                     f"(int)MLRN_LINK_PREDICT_BYTES({n}), (int)MLRN_LINK_FEEDBACK_BYTES({n}), "
                     f"(int)MLRN_LINK_RX_BYTES({n}), (int)MLRN_LINK_TX_BYTES({n}), (int)MLRN_LINK_FRAME_BYTES({n}));")
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def c_output(tmp_path_factory):
    """The program's lines by their tag (also compiled as C++: the headers stay clean in both)."""
    if CC is None:
        pytest.skip("no host C compiler")
    wd = tmp_path_factory.mktemp("vocab")
    (wd / "vocab.c").write_text(_program())
    compile_c(wd / "vocab.c", wd / "vocab")
    if shutil.which("c++"):
        compile_c(wd / "vocab.c", lang="c++", stage="syntax")
    out = subprocess.run([str(wd / "vocab")], capture_output=True, text=True, check=True).stdout
    tagged = {}
    for line in out.splitlines():
        tag, _, rest = line.partition(" ")
        tagged.setdefault(tag, []).append(rest)
    return tagged


def test_vocab_values_equal_the_compiled_macros(c_output):
    got = {}
    for rest in c_output["M"]:
        macro, value = rest.split(" ")
        got[macro] = int(value)
    assert got == vocab_macros()


def test_status_texts_are_the_c_texts(c_output):
    for rest in c_output["S"]:
        code, text = rest.split(" ", 1)
        assert text == vocab.status_str(int(code)), code
    assert len({s.text for s in vocab.STATUSES} | {vocab.STATUS_UNKNOWN_TEXT}) == len(vocab.STATUSES) + 1
    assert len({s.name for s in vocab.STATUSES}) == len(vocab.STATUSES)


def test_parameter_texts_are_the_c_texts(c_output):
    for rest in c_output["P"]:
        code, text = rest.split(" ", 1)
        assert text == vocab.smo_param_str(int(code)), code
    for name, text in vocab.SMO_PARAMS:
        assert text.startswith(name + ": ")      # the text names the parameter first, as Python's messages do


def test_sub_problem_counts(c_output):
    for rest in c_output["N"]:
        k, mc, nsub, nrows = map(int, rest.split())
        name = "ovr" if mc else "ovo"
        assert (nsub, nrows) == (vocab.n_sub(k, name), vocab.n_rows(k, name)), (k, name)
    for rest in c_output["O"]:
        k, nsub = map(int, rest.split())
        assert nsub == vocab.n_sub(k, "ovo"), k


def test_work_array_formula(c_output):
    lines = c_output["W"]
    assert len(lines) == (len(vocab.KERNELS) * len(vocab.SOLVERS) * 2 * 3
                          * len(GRID_CAPACITY) * len(GRID_D) * len(GRID_CLASSES))
    for rest in lines:
        kernel, solver, mc, storage, cap, d, nc, floats = rest.split()
        want = vocab.smo_work_floats(int(cap), int(d), int(nc), storage, kernel, solver, mc)
        assert int(floats) == want, rest


@pytest.mark.parametrize("data_in", ["flash", "callback"])
def test_work_array_formula_of_read_only_stores(tmp_path, data_in):
    """The same program built with the samples in flash or behind a callback (MLRN_STORE_SOURCE): the work array
    gains scratch rows for float32 as well, in the function and in MLRN_SMO_WORK_FLOATS_LINEAR."""
    if CC is None:
        pytest.skip("no host C compiler")
    # the trainer's formulas only (the learner needs a RAM store: mlrn_learner.h #errors otherwise)
    lines = ['#include <stdio.h>', '#include "mlrn_smo.h"', "int main(void) {",
             "    mlrn_smo_params p = mlrn_smo_default_params();"]
    lines += [ln for ln in _program().splitlines() if ln.lstrip().startswith(('printf("W', 'printf("L', "p.kernel.type"))]
    lines += ["    return 0;", "}"]
    (tmp_path / "vocab.c").write_text("\n".join(lines) + "\n")
    compile_c(tmp_path / "vocab.c", tmp_path / "vocab", defines={"MLRN_STORE_SOURCE": vocab.DATA_IN[data_in]})
    out = subprocess.run([str(tmp_path / "vocab")], capture_output=True, text=True, check=True).stdout
    n = 0
    for line in out.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "W":
            kernel, solver, mc, storage, cap, d, nc, floats = rest.split()
            assert int(floats) == vocab.smo_work_floats(int(cap), int(d), int(nc), storage, kernel, solver, mc,
                                                        data_in), rest
            n += 1
        elif tag == "L":
            storage, cap, d, nsub, floats, data = rest.split()
            assert int(floats) == vocab.smo_work_floats_linear(int(cap), int(d), int(nsub), storage, data_in), rest
    assert n > 0


def test_linear_work_macro_store_sizes_and_model(c_output):
    for rest in c_output["E"]:
        storage, size = rest.split()
        assert int(size) == vocab.ELEM_SIZE[storage]
    for rest in c_output["L"]:
        storage, cap, d, nsub, floats, data = rest.split()
        assert int(floats) == vocab.smo_work_floats_linear(int(cap), int(d), int(nsub), storage), rest
        assert int(data) == vocab.store_data_size(int(cap), int(d), storage), rest
    for rest in c_output["F"]:
        d, nc, floats = map(int, rest.split())
        assert floats == vocab.learner_model_floats(d, nc)
    # the macro is the function for a linear wss2 trainer (what MLRN_LEARNER_DEFINE relies on)
    for cap, d, nc, mc, storage in itertools.product(GRID_CAPACITY, GRID_D, GRID_CLASSES, vocab.MULTICLASS,
                                                     vocab.STORAGES):
        assert vocab.smo_work_floats_linear(cap, d, vocab.n_sub(nc, mc), storage) == \
            vocab.smo_work_floats(cap, d, nc, storage, "linear", "wss2", mc)


# The texts where the runtime keeps them on each kind of target (flash on AVR: a switch there once put a
# pointer table in SRAM, and a wrong flash read would print garbage, not fail to compile).
STATUS_TEXTS_C = Path(__file__).resolve().parent / "c" / "status_texts.c"


@pytest.mark.parametrize("board", ["host", "uno", "nrf52840"])
def test_status_texts_on_targets(board, tmp_path):
    from microlearn.targets import get_target
    from microlearn.targets.errors import TargetUnavailable
    target = get_target(board)
    try:
        target.check()
    except TargetUnavailable as e:
        pytest.skip(str(e))
    build = target.build([STATUS_TEXTS_C], tmp_path, include_dirs=[HEADERS])
    lines = target.run(build).output.splitlines()
    statuses = [ln.split(" ", 2) for ln in lines if ln.startswith("S ")]
    params = [ln.split(" ", 2) for ln in lines if ln.startswith("P ")]
    assert len(statuses) == 17 and len(params) == 15, lines
    for _, code, text in statuses:
        assert text == vocab.status_str(int(code)), (board, code)
    for _, code, text in params:
        assert text == vocab.smo_param_str(int(code)), (board, code)


@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("avr-size") is None, reason="no avr-gcc")
def test_texts_take_no_sram_on_avr(tmp_path):
    obj = tmp_path / "texts.o"
    compile_c(Path(__file__).resolve().parent / "c" / "status_str_only.c", obj, board="uno", stage="object")
    sections = subprocess.run(["avr-size", "-A", str(obj)], capture_output=True, text=True, check=True).stdout
    sizes = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)", sections, re.M)}
    assert sum(v for k, v in sizes.items() if k.startswith((".data", ".rodata", ".bss"))) == 0, sizes
    assert sizes.get(".progmem.data", 0) > 500, sizes     # the texts and the two pointer tables


def test_link_sizes(c_output):
    """mlrn_link.h's payload sizes: the function for every type byte, the macros, as vocab computes them."""
    assert len(c_output["Q"]) == 4 * 256
    for rest in c_output["Q"]:
        n, type_, size = map(int, rest.split())
        assert size == vocab.link_request_bytes(type_, n), rest
    for rest in c_output["B"]:
        n, row, predict, feedback, rx, tx, frame = map(int, rest.split())
        assert (row, predict, feedback) == tuple(vocab.link_request_bytes(t, n) for t in
                                                 (vocab.LINK_ROW, vocab.LINK_PREDICT, vocab.LINK_FEEDBACK))
        assert (rx, tx) == vocab.link_buffer_bytes(n, n) and frame == vocab.link_frame_bytes(n)
    assert vocab.link_request_bytes(vocab.LINK_FEEDBACK, vocab.LINK_MAX_FEATURES) <= vocab.LINK_MAX_PAYLOAD
    assert vocab.link_request_bytes(vocab.LINK_FEEDBACK, vocab.LINK_MAX_FEATURES + 1) > vocab.LINK_MAX_PAYLOAD
    assert vocab.LINK_OVERHEAD_BYTES == vocab.LINK_HEADER_BYTES + vocab.LINK_CRC_BYTES
    # a NAK's reason is never a status mlrn.h defines
    assert not set(vocab.LINK_NAK_REASONS.values()) & set(vocab.STATUS_BY_CODE)
