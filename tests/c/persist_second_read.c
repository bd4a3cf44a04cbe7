/* A storage that answers differently when the same byte is read again (a bit flip during the copy,
 * a marginal EEPROM cell, a lying driver). For every byte of a saved payload and for the 2nd and the
 * 3rd read of it, the byte reads back with its top bit flipped (a label 0..2 becomes >= 128):
 *   - mlrn_learner_load (save_all payload, format 2, and save payload, format 1) must return an error
 *     or a learner whose labels are all < NC, and a learner that loaded must keep learning without a
 *     sanitizer report;
 *   - mlrn_persist_load must return MLRN_ERR_CRC or exactly the saved bytes.
 * Prints "LEARNER positions=P ok=O refused=R bad=B" (B must be 0), "MODEL ...", "PERSIST ..." and
 * "BIG bytes=N saved=S loaded=L same=M" for the model over 64 KB. */
#include <stdio.h>
#include <string.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

#define D 2
#define NC 3
#define MEM 2048
MLRN_LEARNER_DEFINE(R, D, NC, 12, 4, 3, 8)
MLRN_LEARNER_DEFINE(F, D, NC, 12, 4, 3, 8)
/* A model over 64 KB (120 one-vs-one sub-problems x 201 floats = 96,480 bytes): mlrn_learner_save used
 * to cut its lengths to 16 bits and refuse it while save_all saved it. */
#define BIG_D 200
#define BIG_NC 16
MLRN_LEARNER_DEFINE(B1, BIG_D, BIG_NC, 4, 0, 1, 0)
MLRN_LEARNER_DEFINE(B2, BIG_D, BIG_NC, 4, 0, 1, 0)
static uint8_t big_mem[2 * 100000];

static uint8_t mem[MEM];
static mlrn_ram_storage ram;
static mlrn_storage inner, lying;
static uint32_t target, reads_seen;
static uint8_t flip_on;

/* Reads through the RAM storage; the flip_on-th read of byte `target` (and every later one) is flipped. */
static mlrn_status lying_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    mlrn_status s = inner.read(ctx, addr, buf, len);
    if (s == MLRN_OK && target >= addr && target < addr + len && ++reads_seen >= flip_on)
        buf[target - addr] ^= 0x80u;
    return s;
}

static void row(mlrn_learner *l, uint32_t *rng) {
    float x[D];
    uint8_t y;
    int k;
    for (k = 0; k < D; k++) x[k] = (float)(mlrn_rng_next(rng) % 6001u) / 1000.0f - 3.0f;
    y = (uint8_t)(x[0] > 1.0f ? 2 : x[0] > -1.0f ? 1 : 0);
    (void)mlrn_learner_predict(l, x);
    (void)mlrn_learner_feedback(l, x, y);
    (void)mlrn_learner_step(l, 0);
}

static int labels_ok(const mlrn_learner *l) {
    uint16_t i;
    for (i = 0; i < l->train.n; i++) if (l->train.labels[i] >= NC) return 0;
    for (i = 0; i < l->hold.n; i++) if (l->hold.labels[i] >= NC) return 0;
    for (i = 0; i < l->n_cur; i++) if (l->cur_map[i] >= NC) return 0;
    return 1;
}

/* Loads from the lying storage for every payload byte and read count; counts the outcomes. */
static void sweep(const char *what, const mlrn_learner_params *p) {
    mlrn_persist_info info;
    uint32_t pos, ok = 0, refused = 0, bad = 0, rng = 99u;
    int i;
    uint8_t n;
    mlrn_ram_storage_bind(&ram, &inner);
    lying = inner;
    lying.read = lying_read;
    if (mlrn_persist_find(&inner, &info) != MLRN_OK) { printf("%s no-slot\n", what); return; }
    for (pos = 0; pos < info.len; pos++)
        for (n = 2; n <= 3; n++) {
            target = info.addr + MLRN_PERSIST_HEADER + pos; reads_seen = 0; flip_on = n;
            if (F_init(p) != MLRN_OK) { bad++; continue; }
            if (mlrn_learner_load(&F, &lying) != MLRN_OK) { refused++; continue; }
            if (!labels_ok(&F)) { bad++; continue; }
            ok++;
            for (i = 0; i < 40; i++) row(&F, &rng);      /* retrains on what was loaded */
            while (F.training) (void)mlrn_learner_step(&F, 0);
        }
    printf("%s positions=%lu ok=%lu refused=%lu bad=%lu\n", what, (unsigned long)info.len, (unsigned long)ok,
           (unsigned long)refused, (unsigned long)bad);
}

int main(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    uint8_t payload[300], back[300];
    uint32_t rng = 12345u, pos, exact = 0, refused = 0, bad = 0;
    mlrn_persist_info info;
    int i;
    uint8_t n;
    p.holdout_every = 3; p.k_mistakes = 3; p.window = 8; p.seed = 5u;
    mlrn_ram_storage_init(&ram, mem, MEM, 0xFF);
    mlrn_ram_storage_bind(&ram, &inner);
    if (R_init(&p) != MLRN_OK) return 1;
    for (i = 0; i < 60 || !R.has_model || R.training; i++) row(&R, &rng);
    if (mlrn_learner_save_all(&R, &inner) != MLRN_OK) return 2;
    sweep("LEARNER", &p);
    if (mlrn_learner_save(&R, &inner) != MLRN_OK) return 3;
    sweep("MODEL", &p);

    for (pos = 0; pos < sizeof payload; pos++) payload[pos] = (uint8_t)(pos * 7u + 3u);
    if (mlrn_persist_save(&inner, 0x4242u, payload, sizeof payload) != MLRN_OK) return 4;
    if (mlrn_persist_find(&inner, &info) != MLRN_OK) return 5;
    lying = inner;
    lying.read = lying_read;
    for (pos = 0; pos < sizeof payload; pos++)
        for (n = 2; n <= 3; n++) {
            mlrn_status s;
            target = info.addr + MLRN_PERSIST_HEADER + pos; reads_seen = 0; flip_on = n;
            memset(back, 0, sizeof back);
            s = mlrn_persist_load(&lying, back, sizeof back, NULL);
            if (s == MLRN_OK && memcmp(back, payload, sizeof payload) == 0) exact++;
            else if (s == MLRN_ERR_CRC) refused++;
            else bad++;
        }
    printf("PERSIST positions=%lu exact=%lu refused=%lu bad=%lu\n", (unsigned long)sizeof payload,
           (unsigned long)exact, (unsigned long)refused, (unsigned long)bad);
    {   /* a trained-looking model of 16 classes over 200 features, saved and loaded with format 1 */
        mlrn_learner_params pb = mlrn_learner_default_params();
        mlrn_ram_storage big;
        mlrn_storage bst;
        uint32_t k, nw = (uint32_t)mlrn_svm_n_sub(BIG_NC, MLRN_OVO) * BIG_D, nb = mlrn_svm_n_sub(BIG_NC, MLRN_OVO);
        mlrn_status saved, loaded;
        pb.holdout_every = 0; pb.window = 0;
        if (B1_init(&pb) != MLRN_OK || B2_init(&pb) != MLRN_OK) return 6;
        for (k = 0; k < nw; k++) B1.cur_w[k] = (float)k * 0.5f - 3.0f;
        for (k = 0; k < nb; k++) B1.cur_b[k] = (float)k;
        for (k = 0; k < BIG_NC; k++) B1.cur_map[k] = (uint8_t)k;
        B1.n_cur = BIG_NC;
        B1.has_model = 1;
        mlrn_ram_storage_init(&big, big_mem, sizeof big_mem, 0xFF);
        mlrn_ram_storage_bind(&big, &bst);
        saved = mlrn_learner_save(&B1, &bst);
        loaded = mlrn_learner_load(&B2, &bst);
        printf("BIG bytes=%lu saved=%d loaded=%d same=%d\n", (unsigned long)(nw + nb) * 4u, saved + 16, loaded + 16,
               B2.has_model && B2.n_cur == BIG_NC && memcmp(B2.cur_w, B1.cur_w, nw * 4u) == 0 &&
               memcmp(B2.cur_b, B1.cur_b, nb * 4u) == 0 && memcmp(B2.cur_map, B1.cur_map, BIG_NC) == 0);
    }
    return 0;
}
