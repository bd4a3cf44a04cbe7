"""Persistence of the whole self-learning state (mlrn_learner_save_all / mlrn_learner_load, format 2):
model + training and held-out stores + loop state, power cuts at every byte of a save, continuation
identical to a learner that never lost power, corrupted slots, capacity mismatches; AVR build check."""
from __future__ import annotations

import shutil
import subprocess

import pytest

import microlearn

UNIT_C = r"""
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

static int fails;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define D 2
#define NC 3
#define N_ROWS 320
#define MEM 1024
MLRN_LEARNER_DEFINE(R, D, NC, 12, 4, 3, 8)          /* the reference: never loses power */
MLRN_LEARNER_DEFINE(F, D, NC, 12, 4, 3, 8)          /* the rebooted device */
MLRN_LEARNER_DEFINE(G, D, NC, 10, 4, 3, 8)          /* other training capacity */
MLRN_LEARNER_DEFINE(H, D, NC, 12, 5, 3, 8)          /* other held-out capacity */
MLRN_LEARNER_DEFINE(K, 3, NC, 12, 4, 3, 8)          /* other d */
static const float QS[D] = {0.001f, 0.001f}, QO[D] = {0.0f, 0.0f};
MLRN_LEARNER_DEFINE_STORAGE(Q, D, NC, 12, 4, 3, 8, int16_t, MLRN_STORAGE_I16, QS, QO)

static float X[N_ROWS][D];
static uint8_t Y[N_ROWS];
static int32_t LOG[N_ROWS];

static void make_stream(void) {
    uint32_t s = 12345u;
    int i, k;
    for (i = 0; i < N_ROWS; i++) {
        for (k = 0; k < D; k++) X[i][k] = (float)(mlrn_rng_next(&s) % 6001u) / 1000.0f - 3.0f;
        Y[i] = (uint8_t)(X[i][0] > 1.0f ? 2 : X[i][0] > -1.0f ? 1 : 0);
        if (i >= 170) Y[i] = (uint8_t)(2 - Y[i]);                      /* drift */
        if (mlrn_rng_next(&s) % 13u == 0u) Y[i] = (uint8_t)((Y[i] + 1) % NC); /* label noise */
    }
}

static mlrn_learner_params params(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.replace = MLRN_LEARNER_RESERVOIR; p.holdout_every = 3; p.k_mistakes = 3; p.window = 8;
    p.err_pct = 30; p.drift_pct = 60; p.seed = 5u;
    return p;
}

static int32_t row(mlrn_learner *l, int i) {
    int32_t pred = mlrn_learner_predict(l, X[i]);
    int32_t ret = mlrn_learner_feedback(l, X[i], Y[i]);
    int32_t st = mlrn_learner_step(l, 4);
    return ((pred + 16) & 0xFF) | (((ret + 16) & 0xFF) << 8) | (((st + 16) & 0xFF) << 16) | ((int32_t)l->event << 24);
}

static uint32_t h_;
static void hb(const void *p, size_t n) { const uint8_t *b = (const uint8_t *)p; while (n--) { h_ ^= *b++; h_ *= 16777619u; } }
#define H(v) hb(&(v), sizeof(v))
static uint32_t digest(const mlrn_learner *l) {
    size_t esz = mlrn_store_elem_size(l->train.storage) * l->train.d;
    h_ = 2166136261u;
    H(l->has_model); H(l->pending); H(l->training); H(l->queue_n);
    if (l->has_model) {
        size_t nsub = mlrn_smo_n_sub(l->n_cur, MLRN_SMO_OVO);
        H(l->n_cur); hb(l->cur_map, l->n_cur); hb(l->cur_w, nsub * l->train.d * 4); hb(l->cur_b, nsub * 4);
    }
    H(l->train.n); hb(l->train.data, l->train.n * esz); hb(l->train.labels, l->train.n);
    H(l->hold.n); if (l->hold.n) { hb(l->hold.data, l->hold.n * esz); hb(l->hold.labels, l->hold.n); }
    if (l->lp.window) hb(l->win, l->lp.window);
    H(l->win_pos); H(l->win_fill); H(l->win_err); H(l->win_since); H(l->mistakes_since);
    H(l->rng); H(l->n_stored); H(l->seen_train); H(l->seen_hold);
    H(l->n_feedback); H(l->n_mistakes); H(l->n_retrains); H(l->n_accepted); H(l->n_rollbacks); H(l->n_failed);
    H(l->n_dropped); H(l->n_discarded); H(l->n_drifts); H(l->last_train_iter);
    H(l->last_cand_correct); H(l->last_cur_correct); H(l->last_hold_n);
    return h_;
}

static uint8_t mem[MEM];
static mlrn_persist_ram ram;
static mlrn_storage st;
typedef struct { uint8_t m[MEM]; int8_t ok; uint8_t mode; } image;
static image *imgs;
static int n_img;

int main(void) {
    mlrn_learner_params p = params();
    uint8_t snap[MEM], memB[MEM];
    int i, TE = -1, TA = -1, TB = -1, k;
    uint32_t dA = 0, dB = 0, dEnd, bad = 0, gotA = 0, gotB = 0, cont_bad = 0;
    uint32_t len_all = 0;
    mlrn_status s;
    make_stream();
    imgs = (image *)malloc(sizeof(image) * 4000);
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
    CHECK(R_init(&p) == MLRN_OK);
    CHECK(mlrn_learner_load(&R, &st) == MLRN_ERR_CRC);
    CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK);          /* no model yet: stores and state only */
    CHECK(F_init(&p) == MLRN_OK && mlrn_learner_load(&F, &st) == MLRN_OK && digest(&F) == digest(&R));
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
    for (i = 0; i < N_ROWS; i++) {
        LOG[i] = row(&R, i);
        if (R.training) {
            if (TB < 0 && TA >= 0 && i > TA + 40) {
                CHECK(mlrn_learner_save_all(&R, &st) == MLRN_ERR_ARG);   /* never mid-retrain */
            }
            continue;
        }
        if (TE < 0 && i >= 30) { TE = i; CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK); }
        else if (TA < 0 && i >= 110 && R.has_model) {
            TA = i; dA = digest(&R);
            CHECK(mlrn_learner_save_all(&R, &st) == MLRN_OK);
        } else if (TB < 0 && TA >= 0 && i >= TA + 45 && R.hold.n && R.n_discarded &&
                   R.train.n == R.train.capacity) {
            uint8_t mode;
            TB = i; dB = digest(&R);
            len_all = mlrn_learner__all_len(&R);
            memcpy(snap, mem, MEM);
            for (mode = 0; mode < 4; mode++) {
                uint32_t cut;
                for (cut = 0;; cut++) {
                    memcpy(mem, snap, MEM);
                    mlrn_persist_ram_flash(&ram, mode == 3); mlrn_persist_ram_bind(&ram, &st);
                    mlrn_persist_ram_cut_after(&ram, cut, mode == 3 ? MLRN_PERSIST_RAM_CUT_GARBAGE : mode);
                    s = mlrn_learner_save_all(&R, &st);
                    mlrn_persist_ram_power_on(&ram);
                    memcpy(imgs[n_img].m, mem, MEM); imgs[n_img].ok = s == MLRN_OK; imgs[n_img].mode = mode;
                    n_img++;
                    if (s == MLRN_OK || n_img >= 4000) break;
                    CHECK(s == MLRN_ERR_IO);
                }
            }
            memcpy(memB, mem, MEM);
            mlrn_persist_ram_flash(&ram, 0); mlrn_persist_ram_bind(&ram, &st);
        }
    }
    dEnd = digest(&R);
    CHECK(TE >= 0 && TA >= 0 && TB >= 0);
    printf("ROWS TE=%d TA=%d TB=%d len=%u retrains=%u accepted=%u rollbacks=%u drifts=%u discarded=%u dropped=%u\n",
           TE, TA, TB, (unsigned)len_all, (unsigned)R.n_retrains, (unsigned)R.n_accepted, (unsigned)R.n_rollbacks,
           (unsigned)R.n_drifts, (unsigned)R.n_discarded, (unsigned)R.n_dropped);

    /* every power cut: reboot a fresh learner, load, continue the stream */
    for (k = 0; k < n_img; k++) {
        uint32_t d;
        int from;
        memcpy(mem, imgs[k].m, MEM);
        mlrn_persist_ram_flash(&ram, 0); mlrn_persist_ram_bind(&ram, &st);
        CHECK(F_init(&p) == MLRN_OK);
        if (mlrn_learner_load(&F, &st) != MLRN_OK) { bad++; continue; }
        d = digest(&F);
        if (d == dB && F.n_feedback == (uint32_t)TB + 1u) { gotB++; from = TB + 1; }
        else if (d == dA && F.n_feedback == (uint32_t)TA + 1u) { gotA++; from = TA + 1; if (imgs[k].ok) bad++; }
        else { bad++; continue; }
        for (i = from; i < N_ROWS; i++)
            if (row(&F, i) != LOG[i]) { cont_bad++; break; }
        if (digest(&F) != dEnd) cont_bad++;
    }
    printf("CUTS cuts=%d bad=%u old=%u new=%u cont_bad=%u\n", n_img, (unsigned)bad, (unsigned)gotA, (unsigned)gotB,
           (unsigned)cont_bad);

    /* corrupted slots: the newest (B) damaged -> A; both damaged -> MLRN_ERR_CRC, learner unchanged */
    {
        uint32_t before;
        mlrn_persist_info info;
        memcpy(mem, memB, MEM);
        CHECK(mlrn_persist_find(&st, &info) == MLRN_OK);
        mem[info.addr + MLRN_PERSIST_HEADER + 40] ^= 0x10u;
        CHECK(F_init(&p) == MLRN_OK && mlrn_learner_load(&F, &st) == MLRN_OK && digest(&F) == dA);
        CHECK(mlrn_persist_find(&st, &info) == MLRN_OK);
        mem[info.addr + MLRN_PERSIST_HEADER + 100] ^= 0x01u;
        before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_CRC && digest(&F) == before);
        printf("CORRUPT ok\n");
    }

    /* capacity / shape mismatches: refused, nothing changed */
    {
        uint32_t before;
        mlrn_learner_params pw = p;
        memcpy(mem, memB, MEM);
        CHECK(G_init(&p) == MLRN_OK);
        for (i = 0; i < 20; i++) row(&G, i);
        while (G.training) mlrn_learner_step(&G, 0);
        before = digest(&G);
        CHECK(mlrn_learner_load(&G, &st) == MLRN_ERR_ARG && digest(&G) == before);
        CHECK(H_init(&p) == MLRN_OK); before = digest(&H);
        CHECK(mlrn_learner_load(&H, &st) == MLRN_ERR_ARG && digest(&H) == before);
        CHECK(K_init(&p) == MLRN_OK); before = digest(&K);
        CHECK(mlrn_learner_load(&K, &st) == MLRN_ERR_ARG && digest(&K) == before);
        CHECK(Q_init(&p) == MLRN_OK); before = digest(&Q);
        CHECK(mlrn_learner_load(&Q, &st) == MLRN_ERR_ARG && digest(&Q) == before);
        pw.window = 6; CHECK(F_init(&pw) == MLRN_OK); before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_ARG && digest(&F) == before);
        pw = p; pw.holdout_every = 0; CHECK(F_init(&pw) == MLRN_OK); before = digest(&F);
        CHECK(mlrn_learner_load(&F, &st) == MLRN_ERR_ARG && digest(&F) == before);
        printf("MISMATCH ok\n");
    }

    /* storage too small: MLRN_ERR_BUFFER, the previous copy still loads */
    {
        mlrn_storage small = st;
        small.size = 2u * (MLRN_PERSIST_HEADER + 100u);
        mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st); small = st;
        small.size = 2u * (MLRN_PERSIST_HEADER + 100u);
        CHECK(mlrn_learner_save(&R, &small) == MLRN_OK);          /* format 1: the model only */
        CHECK(mlrn_learner_save_all(&R, &small) == MLRN_ERR_BUFFER);
        CHECK(F_init(&p) == MLRN_OK);
        for (i = 0; i < 5; i++) row(&F, i);
        CHECK(mlrn_learner_load(&F, &small) == MLRN_OK && F.has_model && F.train.n == 4 && F.n_feedback == 5);
        printf("SMALL ok\n");
    }

    /* int16 stores: round trip and identical continuation */
    {
        uint32_t dq, dqe;
        int TQ = -1;
        mlrn_persist_ram_init(&ram, mem, MEM, 0xFF); mlrn_persist_ram_bind(&ram, &st);
        CHECK(Q_init(&p) == MLRN_OK);
        for (i = 0; i < N_ROWS; i++) {
            LOG[i] = row(&Q, i);
            if (TQ < 0 && i >= 120 && !Q.training && Q.has_model) {
                TQ = i; dq = digest(&Q); CHECK(mlrn_learner_save_all(&Q, &st) == MLRN_OK);
            }
        }
        dqe = digest(&Q);
        CHECK(TQ >= 0 && Q_init(&p) == MLRN_OK && mlrn_learner_load(&Q, &st) == MLRN_OK && digest(&Q) == dq);
        for (i = TQ + 1; i < N_ROWS; i++) CHECK(row(&Q, i) == LOG[i]);
        CHECK(digest(&Q) == dqe);
        printf("INT16 ok\n");
    }
    free(imgs);
    printf(fails ? "FAILED %d\n" : "OK\n", fails);
    return fails != 0;
}
"""


def _cc():
    return shutil.which("gcc") or shutil.which("cc")


@pytest.fixture(scope="module")
def unit_output(tmp_path_factory):
    cc = _cc()
    if cc is None:
        pytest.skip("no host C compiler")
    wd = tmp_path_factory.mktemp("learner_persist")
    (wd / "unit.c").write_text(UNIT_C)
    exe = wd / "unit"
    subprocess.run([cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I",
                    microlearn.include_dir(), str(wd / "unit.c"), "-o", str(exe)], check=True, capture_output=True,
                   text=True)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def _kv(out, tag):
    line = [ln for ln in out.splitlines() if ln.startswith(tag)][0]
    return {k: int(v) for k, v in (tok.split("=") for tok in line.split()[1:])}


def test_unit_all_checks_pass(unit_output):
    assert unit_output.strip().endswith("OK"), unit_output
    for tag in ("CORRUPT ok", "MISMATCH ok", "SMALL ok", "INT16 ok"):
        assert tag in unit_output


def test_stream_exercises_the_loop_state(unit_output):
    kv = _kv(unit_output, "ROWS")
    # the saved state is not trivial: reservoir evictions, held-out store, retrains, a drift
    assert kv["discarded"] > 0 and kv["retrains"] >= 3 and kv["drifts"] >= 1
    assert kv["len"] > 200  # full training store (12 rows), held-out rows, model, state


def test_power_cut_at_every_byte_old_or_new_and_identical_continuation(unit_output):
    kv = _kv(unit_output, "CUTS")
    rows = _kv(unit_output, "ROWS")
    assert kv["bad"] == 0 and kv["cont_bad"] == 0
    # 3 EEPROM cut modes + flash (erase counted byte by byte): at least one cut per payload byte each
    assert kv["cuts"] > 4 * rows["len"]
    # "new" after a failed save is legitimate: a cut after the last byte that differs from the slot's
    # previous content (e.g. magic bytes 1..3 left from an older copy) commits the new copy
    assert kv["old"] > 0 and kv["new"] >= 4


AVR_C = r"""
#include "mlrn_learner.h"
MLRN_LEARNER_DEFINE(L, 4, 3, 20, 5, 2, 20)
static uint8_t ee[512];
static mlrn_status rd(void *c, uint32_t a, uint8_t *b, uint16_t n) { (void)c; while (n--) *b++ = ee[a++]; return 0; }
static mlrn_status wr(void *c, uint32_t a, const uint8_t *b, uint16_t n) { (void)c; while (n--) ee[a++] = *b++; return 0; }
int main(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    mlrn_storage st;
    st.read = rd; st.write = wr; st.erase = 0; st.ctx = 0; st.size = sizeof ee; st.program_word = 0;
    L_init(&p);
#ifdef WITH_SAVE_ALL
    if (mlrn_learner_save_all(&L, &st) != MLRN_OK) return 1;
#else
    if (mlrn_learner_save(&L, &st) != MLRN_OK) return 1;
#endif
    return mlrn_learner_load(&L, &st) == MLRN_OK ? 0 : 2;
}
"""


@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("avr-nm") is None, reason="no avr-gcc")
def test_avr_builds_and_save_all_only_linked_when_used(tmp_path):
    (tmp_path / "a.c").write_text(AVR_C)
    syms = {}
    for flag in ("", "-DWITH_SAVE_ALL"):
        out = tmp_path / f"a{flag}.elf"
        cmd = ["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I",
               microlearn.include_dir(), str(tmp_path / "a.c"), "-o", str(out)]
        if flag:
            cmd.insert(1, flag)
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        syms[flag] = subprocess.run(["avr-nm", str(out)], check=True, capture_output=True, text=True).stdout
    assert "mlrn_learner_save_all" not in syms[""]
    assert "mlrn_learner_save_all" in syms["-DWITH_SAVE_ALL"]
