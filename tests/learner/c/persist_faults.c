/* Persistence against hostile storage (hardening issue, item 5): run by tests/learner/test_hostile_persist.py under
 * ASan/UBSan (no recovery). Every load must either fail with an error code or give back exactly one of the
 * states that were saved, and whatever it returned, the learner must keep learning without a sanitizer report.
 *
 *   LIE     a storage that answers differently when a byte is read again: for every byte of both slots
 *           (headers and payloads), its 1st, 2nd or 3rd read (only that read, or that read and every later
 *           one) returns it with bits flipped; learner payloads of format 1 (save), 2 (save_all) and mixed,
 *           and plain mlrn_persist_load.
 *   REST    every single bit of both slots flipped at rest: load returns the other slot's state, exactly.
 *   FORGED  payloads that pass their CRC (as a CRC collision, or a bug in a writer, would) but carry other
 *           values: every byte of a format 1 and a format 2 payload replaced by 6 values, every u16/u32 field
 *           of the state set to all ones, every length cut short or padded: load either refuses, or gives a
 *           learner whose every index is in range (labels, class map, store sizes, window ring), and the
 *           learner then trains (reservoir and balanced eviction: they index with labels and seen counts).
 *   BIG     a model over 64 KB saved with mlrn_learner_save (and save_all) and loaded back identical.
 * Output: one line per check, "NAME key=value ..."; the test asserts on the counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"
#include "persist_test_util.h"

#define D 2
#define NC 3
#define MEM 2048u
#define PAY_MAX 1024u
MLRN_LEARNER_DEFINE(R, D, NC, 12, 4, 3, 8) /* the reference, which saves */
MLRN_LEARNER_DEFINE(F, D, NC, 12, 4, 3, 8) /* the rebooted device, which loads */

static uint8_t mem[MEM], pristine[MEM];
static mlrn_persist_ram ram;
static mlrn_storage inner, lying;

/* ---- the lying storage: the `nth` read of byte `target` (and every later one if `sticky`) comes back XOR mask */
static uint32_t target, reads_seen;
static uint8_t nth, sticky, mask;

static mlrn_status lying_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    mlrn_status s = inner.read(ctx, addr, buf, len);
    if (s == MLRN_OK && target >= addr && target - addr < len) {
        reads_seen++;
        if (reads_seen == nth || (sticky && reads_seen > nth)) buf[target - addr] ^= mask;
    }
    return s;
}

/* ---- the saved states ---- */
typedef struct {
    uint8_t bytes[PAY_MAX];
    uint32_t len;
} payload;

static payload saved[2];   /* the payloads of slot A and slot B, as saved */
static uint32_t slot_end[2];   /* bytes of each slot holding header + payload */

static mlrn_learner_params params(uint8_t replace) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.replace = replace; p.holdout_every = 3; p.k_mistakes = 3; p.window = 8; p.drift_pct = 60; p.seed = 5u;
#if MLRN_LEARNER_DDM
    p.drift = MLRN_DRIFT_WINDOW;   /* the stream and the checks were designed for the window detector */
#endif
    return p;
}

static void row(mlrn_learner *l, uint32_t *rng) {
    float x[D];
    uint8_t y;
    int k;
    for (k = 0; k < D; k++) x[k] = (float)(mlrn_rng_next(rng) % 6001u) / 1000.0f - 3.0f;
    y = (uint8_t)(x[0] > 1.0f ? 2 : x[0] > -1.0f ? 1 : 0);
    if (mlrn_rng_next(rng) % 5u == 0u) y = (uint8_t)((y + 1u) % NC);   /* noise: mistakes, retrains, drifts */
    (void)mlrn_learner_predict(l, x);
    (void)mlrn_learner_feedback(l, x, y);
    (void)mlrn_learner_step(l, 7);
}

/* Every index the loop uses is in range. */
static int sane(const mlrn_learner *l) {
    uint16_t i, W = l->lp.window;
    if (l->train.n > l->train.capacity || l->hold.n > (l->lp.holdout_every ? l->hold.capacity : 0u)) return 0;
    for (i = 0; i < l->train.n; i++) if (l->train.labels[i] >= NC) return 0;
    for (i = 0; i < l->hold.n; i++) if (l->hold.labels[i] >= NC) return 0;
    if (l->has_model ? (l->n_cur < 2u || l->n_cur > NC) : l->n_cur != 0u) return 0;
    for (i = 0; i < l->n_cur; i++)
        if (l->cur_map[i] >= NC || (i && l->cur_map[i] <= l->cur_map[i - 1u])) return 0;
    if (W ? (l->win_pos >= W || l->win_fill > W || l->win_err > l->win_fill) : (l->win_pos || l->win_fill)) return 0;
    if (l->pending > 1u || l->training) return 0;
    return 1;
}

/* Keeps learning on what was loaded (40 rows, retrains run to the end): the sanitizers watch. 1 if the
 * learner was and stays sane. */
static int exercise(mlrn_learner *l, uint32_t seed) {
    uint32_t rng = seed | 1u;
    int i, was = sane(l);
    for (i = 0; i < 40; i++) row(l, &rng);
    while (l->training) (void)mlrn_learner_step(l, 0);
    return was && sane(l);
}

/* The payload l would save in format fmt (1: save, 2: save_all): 1, or 0 if it cannot be had. */
static int snapshot(const mlrn_learner *l, uint8_t fmt, payload *out) {
    uint32_t n = learner_state_bytes(l, fmt, out->bytes, PAY_MAX);
    if (n == 0u) return 0;
    out->len = n;
    return 1;
}

static int same(const payload *a, const payload *b) {
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Which saved state l holds now: 0 (slot A's), 1 (slot B's), -1 (neither). */
static int which(const mlrn_learner *l) {
    payload p1, p2;
    int k, h1 = l->has_model && snapshot(l, 1, &p1), h2 = snapshot(l, 2, &p2);
    for (k = 0; k < 2; k++) {
        if (saved[k].bytes[0] == MLRN_LEARNER_FORMAT && h1 && same(&p1, &saved[k])) return k;
        if (saved[k].bytes[0] == MLRN_LEARNER_FORMAT_ALL && h2 && same(&p2, &saved[k])) return k;
    }
    return -1;
}

/* R saves into slot A (format fa) and, 37 rows later, into slot B (format fb). */
static void make_slots(uint8_t fa, uint8_t fb) {
    uint32_t rng = 12345u;
    mlrn_learner_params p = params(MLRN_LEARNER_RESERVOIR);
    mlrn_persist_info info;
    int i, k;
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF);
    mlrn_persist_ram_bind(&ram, &inner);
    if (R_init(&p) != MLRN_OK) exit(10);
    for (i = 0; i < 80 || !R.has_model || R.training; i++) row(&R, &rng);
    if ((fa == 1 ? mlrn_learner_save(&R, &inner) : mlrn_learner_save_all(&R, &inner)) != MLRN_OK) exit(11);
    for (i = 0; i < 37 || !R.has_model || R.training; i++) row(&R, &rng);
    if ((fb == 1 ? mlrn_learner_save(&R, &inner) : mlrn_learner_save_all(&R, &inner)) != MLRN_OK) exit(12);
    for (k = 0; k < 2; k++) {
        if (mlrn_persist_check_slot(&inner, (uint8_t)k, &info) != MLRN_OK || info.len > PAY_MAX) exit(13);
        saved[k].len = info.len;
        if (mlrn_persist_read(&inner, &info, 0, saved[k].bytes, (uint16_t)info.len) != MLRN_OK) exit(14);
        slot_end[k] = MLRN_PERSIST_HEADER + info.len;
    }
    if (saved[0].bytes[0] != fa || saved[1].bytes[0] != fb || same(&saved[0], &saved[1])) exit(15);
    memcpy(pristine, mem, MEM);
}

/* (1) the lying storage, learner. */
static void lie_learner(const char *name, uint8_t fa, uint8_t fb) {
    static const uint8_t masks[2] = {0x80u, 0x01u};
    uint32_t pos, loads = 0, exact = 0, refused = 0, bad = 0, dirty = 0, ok_first = 0;
    uint8_t slot, m;
    mlrn_learner_params p = params(MLRN_LEARNER_RESERVOIR);
    make_slots(fa, fb);
    lying = inner;
    lying.read = lying_read;
    for (slot = 0; slot < 2u; slot++)
        for (pos = 0; pos < slot_end[slot]; pos++)
            for (nth = 1; nth <= 3u; nth++)
                for (sticky = 0; sticky <= 1u; sticky++)
                    for (m = 0; m < 2u; m++) {
                        mlrn_status s;
                        target = slot * (MEM / 2u) + pos; reads_seen = 0; mask = masks[m];
                        if (F_init(&p) != MLRN_OK) { bad++; continue; }
                        s = mlrn_learner_load(&F, &lying);
                        loads++;
                        if (s == MLRN_OK) {
                            if (which(&F) < 0) bad++;
                            else exact++;
                            if (nth == 1u && !sticky && which(&F) >= 0) ok_first++;
                        } else if (s == MLRN_ERR_CRC || s == MLRN_ERR_IO) {
                            refused++;
                        } else {
                            bad++;
                        }
                        if (!exercise(&F, pos)) dirty++;
                        if (memcmp(mem, pristine, MEM) != 0) { bad++; memcpy(mem, pristine, MEM); }
                    }
    printf("LIE_%s loads=%lu exact=%lu refused=%lu bad=%lu dirty=%lu ok_first=%lu positions=%lu\n", name,
           (unsigned long)loads, (unsigned long)exact, (unsigned long)refused, (unsigned long)bad,
           (unsigned long)dirty, (unsigned long)ok_first, (unsigned long)(slot_end[0] + slot_end[1]));
}

/* (1) the lying storage, mlrn_persist_load. */
static void lie_persist(void) {
    uint8_t a[300], b[211], back[400];
    uint32_t pos, loads = 0, exact = 0, refused = 0, bad = 0, i, ends[2];
    uint8_t slot;
    for (i = 0; i < sizeof a; i++) a[i] = (uint8_t)(i * 7u + 3u);
    for (i = 0; i < sizeof b; i++) b[i] = (uint8_t)(i * 13u + 1u);
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF);
    mlrn_persist_ram_bind(&ram, &inner);
    if (mlrn_persist_save(&inner, 0x4242u, a, sizeof a) != MLRN_OK) exit(20);
    if (mlrn_persist_save(&inner, 0x4243u, b, sizeof b) != MLRN_OK) exit(21);
    ends[0] = MLRN_PERSIST_HEADER + sizeof a; ends[1] = MLRN_PERSIST_HEADER + sizeof b;
    lying = inner;
    lying.read = lying_read;
    mask = 0x10u;
    for (slot = 0; slot < 2u; slot++)
        for (pos = 0; pos < ends[slot]; pos++)
            for (nth = 1; nth <= 3u; nth++)
                for (sticky = 0; sticky <= 1u; sticky++) {
                    mlrn_persist_info info;
                    mlrn_status s;
                    target = slot * (MEM / 2u) + pos; reads_seen = 0;
                    memset(back, 0, sizeof back);
                    s = mlrn_persist_load(&lying, back, sizeof back, &info);
                    loads++;
                    if (s == MLRN_OK && ((info.len == sizeof a && info.tag == 0x4242u && memcmp(back, a, sizeof a) == 0) ||
                                         (info.len == sizeof b && info.tag == 0x4243u && memcmp(back, b, sizeof b) == 0)))
                        exact++;
                    else if (s == MLRN_ERR_CRC) refused++;
                    else bad++;
                }
    printf("LIE_PERSIST loads=%lu exact=%lu refused=%lu bad=%lu\n", (unsigned long)loads, (unsigned long)exact,
           (unsigned long)refused, (unsigned long)bad);
}

/* (2) every bit of both slots flipped at rest: the other slot's state, exactly. */
static void rest_learner(const char *name, uint8_t fa, uint8_t fb) {
    uint32_t bit, flips = 0, other = 0, bad = 0, dirty = 0, both = 0;
    uint8_t slot;
    mlrn_learner_params p = params(MLRN_LEARNER_BALANCED);
    make_slots(fa, fb);
    for (slot = 0; slot < 2u; slot++)
        for (bit = 0; bit < slot_end[slot] * 8u; bit++) {
            uint32_t at = slot * (MEM / 2u) + bit / 8u;
            mlrn_status s;
            mem[at] ^= (uint8_t)(1u << (bit % 8u));
            if (F_init(&p) != MLRN_OK) { bad++; continue; }
            s = mlrn_learner_load(&F, &inner);
            flips++;
            if (s == MLRN_OK && which(&F) == 1 - slot) other++;
            else bad++;
            if (!exercise(&F, bit)) dirty++;
            if (bit % 61u == 0u) {   /* and with the other slot damaged too: refused, the learner unchanged */
                payload before, after;
                uint32_t at2 = (1u - slot) * (MEM / 2u) + (bit * 7u) % slot_end[1 - slot];
                int had = snapshot(&F, 2, &before);
                mem[at2] ^= 0x04u;
                s = mlrn_learner_load(&F, &inner);
                if (s == MLRN_ERR_CRC && had && snapshot(&F, 2, &after) && same(&before, &after)) both++;
                else bad++;
                mem[at2] ^= 0x04u;
            }
            mem[at] ^= (uint8_t)(1u << (bit % 8u));
        }
    printf("REST_%s flips=%lu other=%lu both_damaged_unchanged=%lu bad=%lu dirty=%lu\n", name, (unsigned long)flips,
           (unsigned long)other, (unsigned long)both, (unsigned long)bad, (unsigned long)dirty);
}

static void rest_persist(void) {
    uint8_t a[123], b[77], back[200];
    uint32_t bit, flips = 0, other = 0, bad = 0, i, ends[2];
    uint8_t slot;
    for (i = 0; i < sizeof a; i++) a[i] = (uint8_t)(i * 5u + 9u);
    for (i = 0; i < sizeof b; i++) b[i] = (uint8_t)(i * 11u + 2u);
    mlrn_persist_ram_init(&ram, mem, 512u, 0xFF);
    mlrn_persist_ram_bind(&ram, &inner);
    if (mlrn_persist_save(&inner, 1u, a, sizeof a) != MLRN_OK || mlrn_persist_save(&inner, 2u, b, sizeof b) != MLRN_OK)
        exit(30);
    ends[0] = MLRN_PERSIST_HEADER + sizeof a; ends[1] = MLRN_PERSIST_HEADER + sizeof b;
    for (slot = 0; slot < 2u; slot++)
        for (bit = 0; bit < ends[slot] * 8u; bit++) {
            uint32_t at = slot * 256u + bit / 8u;
            mlrn_persist_info info;
            mlrn_status s;
            mem[at] ^= (uint8_t)(1u << (bit % 8u));
            s = mlrn_persist_load(&inner, back, sizeof back, &info);
            flips++;
            if (s == MLRN_OK && slot == 1u && info.len == sizeof a && memcmp(back, a, sizeof a) == 0) other++;
            else if (s == MLRN_OK && slot == 0u && info.len == sizeof b && memcmp(back, b, sizeof b) == 0) other++;
            else bad++;
            mem[at] ^= (uint8_t)(1u << (bit % 8u));
        }
    printf("REST_PERSIST flips=%lu other=%lu bad=%lu\n", (unsigned long)flips, (unsigned long)other,
           (unsigned long)bad);
}

/* (5) payloads that pass their CRC but carry other values. */
static uint32_t f_loads, f_ok, f_refused, f_bad, f_dirty;

static void forged_one(const uint8_t *pay, uint32_t len, uint32_t seed) {
    mlrn_learner_params p = params(seed % 2u ? MLRN_LEARNER_RESERVOIR : MLRN_LEARNER_BALANCED);
    mlrn_status s;
    mlrn_persist_ram_init(&ram, mem, MEM, 0xFF);
    mlrn_persist_ram_bind(&ram, &inner);
    if (mlrn_persist_save(&inner, MLRN_LEARNER_MAGIC, pay, len) != MLRN_OK) { f_bad++; return; }
    if (F_init(&p) != MLRN_OK) { f_bad++; return; }
    s = mlrn_learner_load(&F, &inner);
    f_loads++;
    if (s == MLRN_OK) f_ok++;
    else if (s == MLRN_ERR_CRC || s == MLRN_ERR_ARG) f_refused++;
    else f_bad++;
    if (!exercise(&F, seed)) f_dirty++;
}

static void forged(void) {
    static uint8_t pay[PAY_MAX + 16u];
    uint32_t k, pos, len;
    int v;
    f_loads = f_ok = f_refused = f_bad = f_dirty = 0;
    make_slots(1, 2);
    for (k = 0; k < 2u; k++) {
        len = saved[k].len;
        for (pos = 0; pos < len; pos++) {
            uint8_t orig = saved[k].bytes[pos], vals[6];
            vals[0] = (uint8_t)(orig ^ 0x01u); vals[1] = (uint8_t)(orig ^ 0x80u); vals[2] = 0x00u; vals[3] = 0xFFu;
            vals[4] = (uint8_t)(orig + 1u); vals[5] = (uint8_t)(orig - 1u);
            for (v = 0; v < 6; v++) {
                if (vals[v] == orig || (v >= 2 && (vals[v] == vals[0] || vals[v] == vals[1]))) continue;
                memcpy(pay, saved[k].bytes, len);
                pay[pos] = vals[v];
                forged_one(pay, len, pos * 8u + (uint32_t)v);
            }
        }
        for (len = 0; len < saved[k].len; len++) forged_one(saved[k].bytes, len, len);   /* cut short */
        for (len = 1; len <= 16u; len++) {                                                 /* padded */
            memcpy(pay, saved[k].bytes, saved[k].len);
            memset(pay + saved[k].len, (int)(len * 17u), len);
            forged_one(pay, saved[k].len + len, len);
        }
    }
    /* format 2: every u16 field of the state all ones, every u32 field all ones, and both for each pair */
    {
        const payload *s2 = &saved[1];
        uint32_t off = s2->len - (MLRN_LEARNER__STATE_LEN + (uint32_t)(R.train.n + R.hold.n) * (D * 4u + 1u) + 8u);
        uint32_t f;
        for (f = 0; f < 11u; f++) {
            memcpy(pay, s2->bytes, s2->len);
            pay[off + 2u * f] = 0xFFu; pay[off + 2u * f + 1u] = 0xFFu;
            forged_one(pay, s2->len, f);
        }
        for (f = 0; f < 14u; f++) {
            memcpy(pay, s2->bytes, s2->len);
            memset(pay + off + 22u + 4u * f, 0xFF, 4);
            forged_one(pay, s2->len, f);
        }
    }
    printf("FORGED loads=%lu ok=%lu refused=%lu bad=%lu dirty=%lu\n", (unsigned long)f_loads, (unsigned long)f_ok,
           (unsigned long)f_refused, (unsigned long)f_bad, (unsigned long)f_dirty);
}

/* (4) a model over 64 KB (120 one-vs-one sub-problems x 201 floats = 96,480 bytes). */
#define BIG_D 200
#define BIG_NC 16
MLRN_LEARNER_DEFINE(B1, BIG_D, BIG_NC, 4, 0, 1, 0)
MLRN_LEARNER_DEFINE(B2, BIG_D, BIG_NC, 4, 0, 1, 0)
static uint8_t big_mem[2 * 100000];

static int big_same(void) {
    uint32_t nw = (uint32_t)mlrn_smo_n_sub(BIG_NC, MLRN_SMO_OVO) * BIG_D, nb = mlrn_smo_n_sub(BIG_NC, MLRN_SMO_OVO);
    return B2.has_model && B2.n_cur == BIG_NC && memcmp(B2.cur_w, B1.cur_w, nw * 4u) == 0 &&
           memcmp(B2.cur_b, B1.cur_b, nb * 4u) == 0 && memcmp(B2.cur_map, B1.cur_map, BIG_NC) == 0;
}

static void big(void) {
    mlrn_learner_params pb = mlrn_learner_default_params();
    mlrn_persist_ram bram;
    mlrn_storage bst;
    uint32_t k, nw = (uint32_t)mlrn_smo_n_sub(BIG_NC, MLRN_SMO_OVO) * BIG_D, nb = mlrn_smo_n_sub(BIG_NC, MLRN_SMO_OVO);
    mlrn_status saved1, loaded1, saved2, loaded2;
    int same1, same2;
    pb.holdout_every = 0; pb.window = 0;
    if (B1_init(&pb) != MLRN_OK || B2_init(&pb) != MLRN_OK) exit(40);
    for (k = 0; k < nw; k++) B1.cur_w[k] = (float)k * 0.5f - 3.0f;
    for (k = 0; k < nb; k++) B1.cur_b[k] = (float)k;
    for (k = 0; k < BIG_NC; k++) B1.cur_map[k] = (uint8_t)k;
    B1.n_cur = BIG_NC;
    B1.has_model = 1;
    mlrn_persist_ram_init(&bram, big_mem, sizeof big_mem, 0xFF);
    mlrn_persist_ram_bind(&bram, &bst);
    saved1 = mlrn_learner_save(&B1, &bst);
    loaded1 = mlrn_learner_load(&B2, &bst);
    same1 = big_same();
    if (B2_init(&pb) != MLRN_OK) exit(41);
    saved2 = mlrn_learner_save_all(&B1, &bst);
    loaded2 = mlrn_learner_load(&B2, &bst);
    same2 = big_same();
    printf("BIG bytes=%lu saved=%d loaded=%d same=%d saved_all=%d loaded_all=%d same_all=%d\n",
           (unsigned long)(nw + nb) * 4u, saved1 + 16, loaded1 + 16, same1, saved2 + 16, loaded2 + 16, same2);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || !strcmp(only, "lie")) {
        lie_learner("MODEL", 1, 1);
        lie_learner("ALL", 2, 2);
        lie_learner("MIXED", 2, 1);
        lie_persist();
    }
    if (!*only || !strcmp(only, "rest")) {
        rest_learner("MODEL", 1, 1);
        rest_learner("ALL", 2, 2);
        rest_learner("MIXED", 1, 2);
        rest_persist();
    }
    if (!*only || !strcmp(only, "forged")) forged();
    if (!*only || !strcmp(only, "big")) big();
    return 0;
}
