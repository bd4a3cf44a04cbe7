"""C for the self-learning loop: a configuration header binding static buffers to an
mlrn_learner (include/mlrn_learner.h), and the stream driver run on a target."""
from __future__ import annotations

import struct

import numpy as np

from microlearn.core.c_format import c_comment, c_float, c_identifier
from .simulate import REPLACE, STORE_POLICIES, LearnerConfig


def _nsub(m):
    return 1 if m <= 2 else m * (m - 1) // 2


def buffer_bytes(cfg: LearnerConfig) -> dict:
    """Static bytes of the learner's buffers (any storage type), grouped by role."""
    d, nc = cfg.n_features, cfg.n_classes
    ns = _nsub(nc)
    e = {"float32": 4, "int16": 2, "int8": 1}[cfg.storage]
    return {
        "train_store": cfg.train_capacity * (e * d + 1),
        "hold_store": max(cfg.hold_capacity, 1) * (e * d + 1),
        "work": 4 * (cfg.train_capacity + ns * d + ns + (5 * d + 1 if e != 4 else 0)),
        "model": 4 * ns * (d + 1),
        "queue": max(cfg.queue, 1) * (4 * d + 1),
        "window": max(cfg.trigger_window, 1),
        "scratch": 4 * d,
    }


ELEM_BYTES = {"float32": 4, "int16": 2, "int8": 1}


def static_objects(cfg: LearnerConfig, name: str = "lrn") -> dict:
    """The static objects MLRN_LEARNER_DEFINE_STORAGE declares, by C name: (bytes, natural alignment).
    The struct NAME (mlrn_learner) is listed with size None: it depends on the target's pointer size and is
    measured (see microlearn.learner.planner). Mirrors the macro in mlrn_learner.h; buffer_bytes()
    is the same total grouped by role."""
    d, e = cfg.n_features, ELEM_BYTES[cfg.storage]
    ns = _nsub(cfg.n_classes)
    hold, queue = max(cfg.hold_capacity, 1), max(cfg.queue, 1)
    work = cfg.train_capacity + ns * d + ns + (5 * d + 1 if e != 4 else 0)   # MLRN_SMO_WORK_FLOATS_LINEAR
    return {
        name: (None, None),
        f"{name}_train_x": (cfg.train_capacity * d * e, e),
        f"{name}_train_y": (cfg.train_capacity, 1),
        f"{name}_hold_x": (hold * d * e, e),
        f"{name}_hold_y": (hold, 1),
        f"{name}_work": (4 * work, 4),
        f"{name}_model": (4 * ns * (d + 1), 4),
        f"{name}_scratch": (4 * d, 4),
        f"{name}_qx": (4 * queue * d, 4),
        f"{name}_qy": (queue, 1),
        f"{name}_win": (max(cfg.trigger_window, 1), 1),
    }


PERSIST_HEADER = 20        # MLRN_PERSIST_HEADER: per slot
PERSIST_STATE = 84         # format 2: the state block after the model (see docs/self-learning.md)


def persist_payload_bytes(cfg: LearnerConfig, kind: str) -> int:
    """Largest payload of mlrn_learner_save ("model", format 1) or mlrn_learner_save_all ("all", format 2):
    a model over every declared class, full stores (mirrors mlrn_learner__payload_len / __all_len)."""
    m, d, e = cfg.n_classes, cfg.n_features, ELEM_BYTES[cfg.storage]
    model = m + _nsub(m) * (d + 1) * 4
    if kind == "model":
        return 5 + model
    if kind == "all":
        return 5 + model + PERSIST_STATE + (cfg.train_capacity + cfg.hold_capacity) * (e * d + 1) + cfg.trigger_window
    raise ValueError(f"persist must be 'model' or 'all', got {kind!r}")


def persist_storage_bytes(cfg: LearnerConfig, kind: str) -> int:
    """Bytes of EEPROM / flash the mlrn_storage region needs: two A/B slots of header + payload."""
    return 2 * (PERSIST_HEADER + persist_payload_bytes(cfg, kind))


def _define(cfg: LearnerConfig, name: str, N: str) -> list[str]:
    args = f"{name}, {N}_N_FEATURES, {N}_N_CLASSES, {N}_TRAIN_CAP, {N}_HOLD_CAP, {N}_QUEUE, {N}_WINDOW"
    if cfg.storage == "float32":
        return [f"MLRN_LEARNER_DEFINE({args})"]
    ctype, cst = {"int16": ("int16_t", "MLRN_STORAGE_I16"), "int8": ("int8_t", "MLRN_STORAGE_I8")}[cfg.storage]
    tab = lambda v: ", ".join(c_float(np.float32(t)) for t in v)  # noqa: E731
    return [f"static const float {name}_scale[{cfg.n_features}] MLRN_FLASH = {{{tab(cfg.scale)}}};",
            f"static const float {name}_offset[{cfg.n_features}] MLRN_FLASH = {{{tab(cfg.offset)}}};",
            f"MLRN_LEARNER_DEFINE_STORAGE({args}, {ctype}, {cst}, {name}_scale, {name}_offset)"]


def _memory_lines(cfg: LearnerConfig, name: str, plan) -> list[str]:
    """Sizes as #defines (numeric: usable in #if), the planner's figures for a named board, and a
    compile-time #error when the learner's static data exceeds the SRAM budget (the board's SRAM less its
    stack reserve, or -DMLRN_SRAM_BUDGET=...), like the trainer header."""
    N = name.upper()
    objs = static_objects(cfg, name)
    lines = [f"#define {N}_{n[len(name) + 1:].upper()}_BYTES {size}u" for n, (size, _) in objs.items() if size]
    lines.append(f"/* Static SRAM of the buffers; with the struct: {N}_RAM_BYTES (sizeof: not usable in #if). */")
    lines.append(f"#define {N}_BUFFER_BYTES {sum(buffer_bytes(cfg).values())}")
    lines.append(f"#define {N}_RAM_BYTES ({N}_BUFFER_BYTES + sizeof(mlrn_learner))")
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


def render_header(cfg: LearnerConfig, name: str = "lrn", plan=None) -> str:
    """NAME_setup() initialises the learner with cfg's parameters; the buffers are static.
    plan: the LearnerPlan of cfg on a board (microlearn.learner.planner.plan_learner_config(cfg, board,
    name=name)): the header carries its figures and refuses to compile when the learner's static data
    exceed the board's SRAM less its stack reserve."""
    N = c_identifier(name, "learner name").upper()
    lines = [
        f"/* Generated by microlearn: self-learning loop configuration '{name}'. */",
        f"#ifndef {N}_LEARNER_H",
        f"#define {N}_LEARNER_H",
        "#ifndef MLRN_KERNELS",
        "#define MLRN_KERNELS 1u   /* the learner is linear: no exponential linked (see mlrn_kernel.h) */",
        "#endif",
        '#include "mlrn_learner.h"',
        f"#define {N}_N_FEATURES {cfg.n_features}",
        f"#define {N}_N_CLASSES {cfg.n_classes}",
        f"#define {N}_TRAIN_CAP {cfg.train_capacity}",
        f"#define {N}_HOLD_CAP {cfg.hold_capacity}",
        f"#define {N}_QUEUE {cfg.queue}",
        f"#define {N}_WINDOW {cfg.trigger_window}",
        f"#define {N}_BUDGET {cfg.budget}u",
        *_memory_lines(cfg, name, plan),
        *_define(cfg, name, N),
        f"static inline mlrn_status {name}_setup(void) {{",
        "    mlrn_learner_params p = mlrn_learner_default_params();",
        f"    p.store_policy = {STORE_POLICIES[cfg.store]};",
        f"    p.replace = {REPLACE[cfg.replace]};",
        f"    p.k_mistakes = {cfg.k_mistakes}u;",
        f"    p.window = {cfg.trigger_window}u;",
        f"    p.err_pct = {cfg.err_pct}u;",
        f"    p.drift_pct = {cfg.drift_pct}u;",
        f"    p.margin_pct = {cfg.margin_pct}u;",
        f"    p.holdout_every = {cfg.holdout_every}u;",
        f"    p.seed = {cfg.seed & 0xFFFFFFFF}u;",
        f"    p.svm.C = {c_float(np.float32(cfg.C))};",
        f"    p.svm.tol = {c_float(np.float32(cfg.tol))};",
        f"    p.svm.max_iter = {cfg.max_iter}u;",
        f"    return {name}_init(&p);",
        "}",
        "#endif",
        "",
    ]
    return "\n".join(lines)


DRIVER = r"""/* Generated by microlearn: the self-learning loop over a stream.
 * Input: u32 n, then n rows of N_FEATURES float32 + u8 label. Per row: predict, feedback, step.
 * Output: "P" then one token per row: the prediction ('-' none), then 'b' if training began
 * in that row's step, 'A' accepted, 'R' rolled back, 'F' failed; then a counter line.
 * Training cost: on AVR, Timer1 (prescaler 1, overflow interrupt) accumulates the cycles spent inside
 * the step() calls that trained (started, continued or concluded a training), minus the cost of an
 * empty timed call. Built only with -DLRN_TIME_TRAINING (a separate run: the timer's ISR and variables
 * take SRAM and cycles); simavr's markers measure the whole loop. Elsewhere not measured (not printed). */
#include "mlrn_target.h"
#include "learner.h"
#if defined(__AVR__) && defined(LRN_TIME_TRAINING)
#include <avr/interrupt.h>
#include <avr/io.h>
static volatile uint16_t t1_ovf;
ISR(TIMER1_OVF_vect) { t1_ovf++; }
static void t1_start(void) { TCCR1A = 0; TCNT1 = 0; TIFR1 = _BV(TOV1); TIMSK1 = _BV(TOIE1); TCCR1B = _BV(CS10); sei(); }
/* Cycles since t1_start (wraps at 2^32): TCNT1 first, then the overflow count, a pending overflow
 * counted when TCNT1 was read after it. */
__attribute__((noinline)) static uint32_t t1_now(void) {
    uint16_t c, o;
    uint8_t sreg = SREG;
    cli();
    c = TCNT1;
    o = t1_ovf;
    if ((TIFR1 & _BV(TOV1)) && c < 0x8000u) o++;
    SREG = sreg;
    return ((uint32_t)o << 16) | c;
}
static uint32_t train_cycles, empty_cycles;
__attribute__((noinline)) static mlrn_status do_nothing(void) { return MLRN_OK; }
#define LRN_TIMER 1
#define T_DECL uint32_t t0;
#define T_BEFORE() (t0 = t1_now())
#define T_AFTER() (train_cycles += t1_now() - t0 - empty_cycles)
#else
#define LRN_TIMER 0
#define T_DECL
#define T_BEFORE() ((void)0)
#define T_AFTER() ((void)0)
#endif

static int read_row(float *x, uint8_t *label) {
    uint16_t k;
    for (k = 0; k < LRN_N_FEATURES; k++)
        if (mlrn_io_read_f32(&x[k])) return -1;
    return mlrn_io_read_bytes(label, 1);
}

static uint32_t train_calls;

/* LRN_PERSIST 1 / 2 (the planner's calibration of persistence): after the stream, mlrn_learner_save (model)
 * or mlrn_learner_save_all (model + stores + state), then mlrn_learner_load, through minimal storage
 * callbacks over lrn_nv, which stands for the EEPROM / flash pages (its LRN_PERSIST_BYTES are not SRAM
 * on a device and are not counted). Prints "S status". Not built otherwise. */
#if LRN_PERSIST
static uint8_t lrn_nv[LRN_PERSIST_BYTES];
static mlrn_status nv_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    (void)ctx;
    while (len--) *buf++ = lrn_nv[addr++];
    return MLRN_OK;
}
static mlrn_status nv_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
    (void)ctx;
    while (len--) lrn_nv[addr++] = *buf++;
    return MLRN_OK;
}
__attribute__((noinline)) static mlrn_status persist_round_trip(void) {
    static mlrn_storage nv;
    mlrn_status st;
    nv.read = nv_read; nv.write = nv_write; nv.erase = 0; nv.ctx = 0; nv.size = LRN_PERSIST_BYTES;
    st = LRN_PERSIST == 2 ? mlrn_learner_save_all(&lrn, &nv) : mlrn_learner_save(&lrn, &nv);
    return st == MLRN_OK ? mlrn_learner_load(&lrn, &nv) : st;
}
#endif

/* LRN_MARK_STEPS (emulated targets): mark each step() call that trained, so the runner's sum over
 * marked regions is the training cost; an empty pair before and after the loop brackets the whole
 * loop (the runner's span). A begin restarts an open region, so calls that did not train (begin,
 * no end) are not counted. Without it, one region covers the whole loop (host wall time). */
#if LRN_MARK_STEPS
#define LOOP_MARK() do { mlrn_target_mark_begin(); mlrn_target_mark_end(); } while (0)
#define STEP_BEGIN() mlrn_target_mark_begin()
#define STEP_END() mlrn_target_mark_end()
#define LOOP_BEGIN() LOOP_MARK()
#define LOOP_END() LOOP_MARK()
#else
#define STEP_BEGIN() ((void)0)
#define STEP_END() ((void)0)
#define LOOP_BEGIN() mlrn_target_mark_begin()
#define LOOP_END() mlrn_target_mark_end()
#endif

__attribute__((noinline)) static mlrn_status do_step(void) {
    mlrn_status st;
    st = mlrn_learner_step(&lrn, LRN_BUDGET);
    return st;
}

int main(void) {
    float x[LRN_N_FEATURES];
    uint8_t label, hdr[4];
    uint32_t n, i;
    mlrn_status st;
    mlrn_target_init();
    st = lrn_setup();
    if (st != MLRN_OK || mlrn_io_read_bytes(hdr, 4)) { mlrn_io_puts("E setup\n"); mlrn_target_exit(3); }
    n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
#if LRN_TIMER
    t1_start();
    {   /* the cost of an empty timed call, subtracted from every timed step() */
        uint32_t a = t1_now();
        (void)do_nothing();
        empty_cycles = t1_now() - a;
    }
#endif
    mlrn_io_puts("P");
    LOOP_BEGIN();
    for (i = 0; i < n; i++) {
        int32_t c, fb;
        uint32_t r0;
        T_DECL
        if (read_row(x, &label)) { mlrn_io_puts("\nE input\n"); mlrn_target_exit(4); }
        c = mlrn_learner_predict(&lrn, x);
        fb = mlrn_learner_feedback(&lrn, x, label);
        if (fb < 0) { mlrn_io_puts("\nE feedback "); mlrn_io_put_i32(fb); mlrn_io_puts("\n"); mlrn_target_exit(5); }
        r0 = lrn.n_retrains;
        STEP_BEGIN();
        T_BEFORE();
        st = do_step();
        if (lrn.training || lrn.n_retrains != r0 || lrn.event) { T_AFTER(); STEP_END(); train_calls++; }
        mlrn_target_putc(' ');
        if (c >= 0) mlrn_io_put_i32(c); else mlrn_target_putc('-');
        if (lrn.n_retrains != r0) mlrn_target_putc('b');
        if (lrn.event == MLRN_LEARNER_EV_ACCEPTED) mlrn_target_putc('A');
        else if (lrn.event == MLRN_LEARNER_EV_ROLLBACK) mlrn_target_putc('R');
        else if (lrn.event == MLRN_LEARNER_EV_FAILED) mlrn_target_putc('F');
        (void)st;
    }
    LOOP_END();
#if LRN_PERSIST
    mlrn_io_puts("\nS "); mlrn_io_put_i32(persist_round_trip());
#endif
    mlrn_io_puts("\nC "); mlrn_io_put_u32(lrn.n_mistakes); mlrn_io_puts(" "); mlrn_io_put_u32(lrn.n_retrains);
    mlrn_io_puts(" "); mlrn_io_put_u32(lrn.n_accepted); mlrn_io_puts(" "); mlrn_io_put_u32(lrn.n_rollbacks);
    mlrn_io_puts(" "); mlrn_io_put_u32(lrn.n_dropped); mlrn_io_puts(" "); mlrn_io_put_u32(train_calls);
    mlrn_io_puts(" "); mlrn_io_put_u32(lrn.n_drifts);
#if LRN_TIMER
    mlrn_io_puts(" "); mlrn_io_put_u32(train_cycles); mlrn_io_puts(" "); mlrn_io_put_u32(empty_cycles);
#endif
    mlrn_io_puts("\n");
    mlrn_target_exit(0);
    return 0;
}
"""


def encode_stream(X, y) -> bytes:
    X = np.ascontiguousarray(X, dtype="<f4")
    rows = np.empty(len(X), dtype=[("x", "<f4", (X.shape[1],)), ("y", "u1")])
    rows["x"] = X
    rows["y"] = np.asarray(y, dtype=np.uint8)
    return struct.pack("<I", len(X)) + rows.tobytes()


def parse_output(text: str) -> dict:
    out = {"predictions": [], "retrains": [], "accepted": [], "rollbacks": [], "failed": [], "counters": None}
    for line in text.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "P":
            for i, tok in enumerate(rest.split()):
                head = tok.rstrip("bARF")
                out["predictions"].append(-1 if head == "-" else int(head))
                flags = tok[len(head):]
                if "b" in flags:
                    out["retrains"].append(i)
                if "A" in flags:
                    out["accepted"].append(i)
                if "R" in flags:
                    out["rollbacks"].append(i)
                if "F" in flags:
                    out["failed"].append(i)
        elif tag == "C":
            v = [int(t) for t in rest.split()]
            out["counters"] = dict(zip(["mistakes", "retrains", "accepted", "rollbacks", "dropped", "train_calls",
                                        "drifts", "train_cycles", "timer_overhead_cycles"], v))
        elif tag == "E":
            raise RuntimeError(f"device reported an error: {line.strip()}")
    out["predictions"] = np.array(out["predictions"], np.int64)
    return out
