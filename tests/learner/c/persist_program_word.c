/* Persistence on flash that programs whole words once between erases (ECC flash: STM32L4/G4 8 bytes, H7 32).
 * Run by tests/learner/test_hostile_persist.py under ASan/UBSan.
 *
 * The flash model below is strict: a write that is not whole aligned words, a word programmed twice without
 * an erase, an erase that is not whole pages, each count as a violation (and the double program leaves the
 * word unreadable, as ECC would). Power cuts: after a given number of operations (a word programmed, a page
 * erased) the power goes; the operation at the cut either does not happen ("clean") or is torn ("torn": a
 * half-programmed word, a half-erased page), and a torn word fails every read (an ECC double-bit error, which
 * a read callback reports as an error) until the next erase.
 *
 *   words       for program words of 2, 4, 8, 16, 32 bytes: saves of every length 0..2W+37 plus odd lengths up
 *               to the slot's capacity, with one chunk, chunks of 1, 3 and MLRN_PERSIST_BUF bytes: each loads
 *               back exactly; then a power cut at every operation of a save over a previous payload, and of
 *               the first save on blank flash, in both cut modes: the previous payload (or none, on blank
 *               flash) or the new one loads, never anything else, and the next save succeeds.
 *               "WORD w=W saves=S exact=E cuts=C old=O new=N none=Z lost=L resaved=R violations=V"
 *   learner     a self-learning loop on such flash: a save (model) or save_all every 10 rows for 200 rows, each
 *               loaded into a rebooted learner and compared with the saver's state; power cuts at every
 *               operation of a save_all. "LEARNER w=W saves=S same=M cuts=C old=O new=N lost=L violations=V"
 *   api         storage descriptions that cannot work are refused: "API name=status..." (status + 16)
 *   image W     prints the image of a 512-byte region after saving payloads of 29 and 41 bytes (for the
 *               Python twin): "IMAGE <hex>"
 *   read W HEX  loads a region given as hex: "LOAD status tag len <hex>" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"
#include "persist_test_util.h"

#define FLASH_MAX 4096u
#define PAGE 256u

typedef struct {
    uint8_t mem[FLASH_MAX];
    uint8_t state[FLASH_MAX];   /* per byte: 0 erased, 1 programmed, 2 torn (reads fail) */
    uint32_t size;
    uint8_t word;
    uint8_t torn_mode;          /* the operation at the cut is torn (1) or does not happen (0) */
    uint8_t powered;
    uint32_t ops_left;          /* operations before the power goes (UINT32_MAX: no cut) */
    uint32_t violations;
} flash_model;

static mlrn_status fm_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    flash_model *f = (flash_model *)ctx;
    uint32_t i;
    if (!f->powered) return MLRN_ERR_IO;
    if (addr > f->size || len > f->size - addr) { f->violations++; return MLRN_ERR_ARG; }
    for (i = 0; i < len; i++)
        if (f->state[addr + i] == 2u) return MLRN_ERR_IO;   /* ECC: uncorrectable */
    memcpy(buf, &f->mem[addr], len);
    return MLRN_OK;
}

/* 1 if the power lasts for one more operation; else the cut happens now. */
static int fm_power(flash_model *f) {
    if (!f->powered) return 0;
    if (f->ops_left == UINT32_MAX) return 1;
    if (f->ops_left == 0u) { f->powered = 0; return 0; }
    f->ops_left--;
    return 1;
}

static mlrn_status fm_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
    flash_model *f = (flash_model *)ctx;
    uint32_t a, i;
    if (addr % f->word != 0u || len % f->word != 0u || addr > f->size || len > f->size - addr) {
        f->violations++;
        return MLRN_ERR_ARG;
    }
    for (a = addr; a < addr + len; a += f->word) {
        if (!fm_power(f)) {
            if (f->torn_mode && f->state[a] == 0u)
                for (i = 0; i < f->word; i++) {
                    if (i < f->word / 2u) f->mem[a + i] &= buf[a - addr + i];
                    f->state[a + i] = 2u;
                }
            return MLRN_ERR_IO;
        }
        if (f->state[a] != 0u) f->violations++;   /* programmed twice without an erase */
        for (i = 0; i < f->word; i++) {
            f->mem[a + i] &= buf[a - addr + i];
            f->state[a + i] = f->state[a + i] ? 2u : 1u;
        }
    }
    return MLRN_OK;
}

static mlrn_status fm_erase(void *ctx, uint32_t addr, uint32_t len) {
    flash_model *f = (flash_model *)ctx;
    uint32_t p;
    if (addr % PAGE != 0u || len % PAGE != 0u || addr > f->size || len > f->size - addr) {
        f->violations++;
        return MLRN_ERR_ARG;
    }
    for (p = addr; p < addr + len; p += PAGE) {
        if (!fm_power(f)) {
            if (f->torn_mode) {   /* half erased: the first half erased, the page's ECC broken */
                memset(&f->mem[p], 0xFF, PAGE / 2u);
                memset(&f->state[p], 2, PAGE);
            }
            return MLRN_ERR_IO;
        }
        memset(&f->mem[p], 0xFF, PAGE);
        memset(&f->state[p], 0, PAGE);
    }
    return MLRN_OK;
}

static flash_model fm, snap;
static mlrn_storage st;

static void fm_setup(uint8_t word, uint32_t size) {
    memset(fm.mem, 0xFF, sizeof fm.mem);
    memset(fm.state, 0, sizeof fm.state);
    fm.size = size; fm.word = word; fm.torn_mode = 0; fm.powered = 1; fm.ops_left = UINT32_MAX; fm.violations = 0;
    memset(&st, 0, sizeof st);
    st.read = fm_read; st.write = fm_write; st.erase = fm_erase; st.ctx = &fm; st.size = size;
    st.program_word = word;
}

static void payload(uint8_t *p, uint32_t n, uint32_t seed) {
    uint32_t i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 3));
}

/* Save with the streaming writer in chunks of `chunk` bytes (0: mlrn_persist_save). */
static mlrn_status save_chunked(const uint8_t *p, uint32_t n, uint16_t tag, uint16_t chunk) {
    mlrn_persist_writer w;
    mlrn_status s;
    uint32_t off = 0;
    if (chunk == 0u) return mlrn_persist_save(&st, tag, p, n);
    s = mlrn_persist_save_begin(&w, &st, tag, n);
    while (s == MLRN_OK && off < n) {
        uint16_t c = n - off < chunk ? (uint16_t)(n - off) : chunk;
        s = mlrn_persist_save_chunk(&w, p + off, c);
        off += c;
    }
    if (s == MLRN_OK) return mlrn_persist_save_end(&w);
    mlrn_persist_save_abort(&w);
    return s;
}

static int loads(const uint8_t *p, uint32_t n, uint16_t tag) {
    static uint8_t back[FLASH_MAX];
    mlrn_persist_info info;
    return mlrn_persist_load(&st, back, sizeof back, &info) == MLRN_OK && info.len == n && info.tag == tag &&
           memcmp(back, p, n) == 0;
}

static void words(void) {
    static const uint8_t ws[] = {2, 4, 8, 16, 32};
    static uint8_t a[FLASH_MAX], b[FLASH_MAX];
    static const uint16_t chunks[] = {0, 1, 3, MLRN_PERSIST_BUF};
    uint8_t wi;
    for (wi = 0; wi < sizeof ws; wi++) {
        uint8_t w = ws[wi], mode, blank;
        uint32_t n, saves = 0, exact = 0, cuts = 0, old = 0, neu = 0, none = 0, lost = 0, resaved = 0, viol = 0, cap;
        uint8_t c;
        fm_setup(w, 2048u);
        cap = mlrn_persist_capacity(&st);
        if (cap != 1024u - (w > 4u ? w : 4u) - (w > 16u ? w : 16u)) { printf("WORD w=%u bad-capacity=%lu\n", w, (unsigned long)cap); continue; }
        for (n = 0; n <= cap; n = n < 2u * w + 37u ? n + 1u : n * 2u + 13u) {
            for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
                payload(a, n, n + c);
                saves++;
                if (save_chunked(a, n, (uint16_t)(n + c), chunks[c]) == MLRN_OK && loads(a, n, (uint16_t)(n + c)))
                    exact++;
            }
        }
        viol += fm.violations;
        /* power cuts: over a previous payload (29 bytes), and the first save on blank flash */
        for (blank = 0; blank < 2u; blank++)
            for (mode = 0; mode < 2u; mode++) {
                uint32_t k;
                fm_setup(w, 2048u);
                payload(a, 29u, 1u);
                payload(b, 41u + w, 2u);
                if (!blank && save_chunked(a, 29u, 7u, 0) != MLRN_OK) { lost++; continue; }
                snap = fm;
                for (k = 0;; k++) {
                    mlrn_status s;
                    fm = snap;
                    fm.ops_left = k;
                    fm.torn_mode = mode;
                    s = save_chunked(b, 41u + w, 8u, 3u);
                    fm.ops_left = UINT32_MAX;
                    fm.powered = 1;
                    cuts++;
                    if (loads(b, 41u + w, 8u)) neu++;
                    else if (s != MLRN_OK && !blank && loads(a, 29u, 7u)) old++;
                    else if (s != MLRN_OK && blank && mlrn_persist_load(&st, b, 0u, NULL) == MLRN_ERR_CRC) none++;
                    else lost++;
                    viol += fm.violations;
                    /* the device keeps saving after the cut */
                    fm.violations = 0;
                    payload(a + 100u, 55u, k);
                    if (save_chunked(a + 100u, 55u, 9u, 1u) == MLRN_OK && loads(a + 100u, 55u, 9u)) resaved++;
                    viol += fm.violations;
                    if (s == MLRN_OK) break;
                }
            }
        printf("WORD w=%u saves=%lu exact=%lu cuts=%lu old=%lu new=%lu none=%lu lost=%lu resaved=%lu violations=%lu\n",
               (unsigned)w, (unsigned long)saves, (unsigned long)exact, (unsigned long)cuts, (unsigned long)old,
               (unsigned long)neu, (unsigned long)none, (unsigned long)lost, (unsigned long)resaved,
               (unsigned long)viol);
    }
}

/* ---- the learner on program-word flash ---- */
#define D 3
#define NC 3
MLRN_LEARNER_DEFINE(R, D, NC, 10, 4, 3, 8)
MLRN_LEARNER_DEFINE(F, D, NC, 10, 4, 3, 8)

static mlrn_learner_params params(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    p.replace = MLRN_LEARNER_RESERVOIR; p.holdout_every = 3; p.k_mistakes = 3; p.window = 8; p.seed = 3u;
    return p;
}

static void row(mlrn_learner *l, uint32_t *rng) {
    float x[D];
    uint8_t y;
    int k;
    for (k = 0; k < D; k++) x[k] = (float)(mlrn_rng_next(rng) % 6001u) / 1000.0f - 3.0f;
    y = (uint8_t)(x[0] + x[1] > 1.0f ? 2 : x[0] > -1.0f ? 1 : 0);
    if (mlrn_rng_next(rng) % 7u == 0u) y = (uint8_t)((y + 1u) % NC);
    (void)mlrn_learner_predict(l, x);
    (void)mlrn_learner_feedback(l, x, y);
    (void)mlrn_learner_step(l, 5);
}

static void learner(void) {
    static const uint8_t ws[] = {4, 8, 16, 32};
    static uint8_t want[STATE_MAX], got[STATE_MAX], old_state[STATE_MAX];
    mlrn_learner_params p = params();
    uint8_t wi;
    for (wi = 0; wi < sizeof ws; wi++) {
        uint8_t w = ws[wi], mode;
        uint32_t rng = 777u, saves = 0, same = 0, cuts = 0, old = 0, neu = 0, lost = 0, viol = 0, n_old, n_new, i;
        fm_setup(w, 2048u);
        if (R_init(&p) != MLRN_OK) exit(2);
        for (i = 1; i <= 200u; i++) {
            row(&R, &rng);
            if (i % 10u == 0u) {
                uint8_t fmt = (uint8_t)(i % 20u == 0u ? 2 : 1);
                uint32_t nw;
                while (R.training) (void)mlrn_learner_step(&R, 0);
                if (fmt == 1 && !R.has_model) fmt = 2;
                saves++;
                if ((fmt == 1 ? mlrn_learner_save(&R, &st) : mlrn_learner_save_all(&R, &st)) != MLRN_OK) continue;
                nw = learner_state_bytes(&R, fmt, want, STATE_MAX);
                if (F_init(&p) != MLRN_OK || mlrn_learner_load(&F, &st) != MLRN_OK) continue;
                if (nw && learner_state_bytes(&F, fmt, got, STATE_MAX) == nw && memcmp(want, got, nw) == 0) same++;
            }
        }
        viol += fm.violations;
        /* power cuts at every operation of a save_all over the previous save_all */
        while (R.training) (void)mlrn_learner_step(&R, 0);
        if (mlrn_learner_save_all(&R, &st) != MLRN_OK) exit(3);
        n_old = learner_state_bytes(&R, 2, old_state, STATE_MAX);
        for (i = 0; i < 7u; i++) row(&R, &rng);
        while (R.training) (void)mlrn_learner_step(&R, 0);
        n_new = learner_state_bytes(&R, 2, want, STATE_MAX);
        snap = fm;
        for (mode = 0; mode < 2u; mode++) {
            uint32_t k;
            for (k = 0;; k++) {
                mlrn_status s;
                uint32_t n;
                fm = snap;
                fm.ops_left = k;
                fm.torn_mode = mode;
                s = mlrn_learner_save_all(&R, &st);
                fm.ops_left = UINT32_MAX;
                fm.powered = 1;
                cuts++;
                if (F_init(&p) != MLRN_OK || mlrn_learner_load(&F, &st) != MLRN_OK) { lost++; continue; }
                n = learner_state_bytes(&F, 2, got, STATE_MAX);
                if (n == n_new && memcmp(got, want, n) == 0) neu++;
                else if (s != MLRN_OK && n == n_old && memcmp(got, old_state, n) == 0) old++;
                else lost++;
                if (mlrn_learner_save_all(&F, &st) != MLRN_OK) lost++;   /* and it saves again */
                viol += fm.violations;
                if (s == MLRN_OK) break;
            }
        }
        printf("LEARNER w=%u saves=%lu same=%lu cuts=%lu old=%lu new=%lu lost=%lu violations=%lu\n", (unsigned)w,
               (unsigned long)saves, (unsigned long)same, (unsigned long)cuts, (unsigned long)old, (unsigned long)neu,
               (unsigned long)lost, (unsigned long)viol);
    }
}

/* Storage descriptions that cannot work are refused (MLRN_ERR_ARG, nothing written). */
static void api(void) {
    static const struct { const char *name; uint8_t word; uint8_t erase; uint32_t size; } cases[] = {
        {"word3", 3, 1, 2048u}, {"word64", 64, 1, 2048u}, {"word8_no_erase", 8, 0, 2048u},
        {"word8_misaligned_slots", 8, 1, 2044u}, {"word32_too_small", 32, 1, 64u}, {"word32_ok", 32, 1, 512u},
        {"word8_ok", 8, 1, 2048u}, {"word0_bytes", 0, 0, 2048u}, {"word1_bytes", 1, 0, 2048u},
    };
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t k;
    printf("API");
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fm_setup(cases[k].word ? cases[k].word : 1u, cases[k].size);
        st.program_word = cases[k].word;
        if (!cases[k].erase) st.erase = NULL;
        printf(" %s=%d/%lu", cases[k].name, mlrn_persist_save(&st, 1u, buf, 0u) + 16,
               (unsigned long)mlrn_persist_capacity(&st));
    }
    printf("\n");
}

static int hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "image")) {
        uint8_t a[41], w = (uint8_t)atoi(argv[2]);
        uint32_t i;
        fm_setup(w, 512u);
        payload(a, 29u, 1u);
        if (mlrn_persist_save(&st, 7u, a, 29u) != MLRN_OK) return 2;
        payload(a, 41u, 2u);
        if (mlrn_persist_save(&st, 8u, a, 41u) != MLRN_OK) return 3;
        printf("IMAGE ");
        for (i = 0; i < 512u; i++) printf("%02x", fm.mem[i]);
        printf("\n");
        return fm.violations ? 4 : 0;
    }
    if (argc > 3 && !strcmp(argv[1], "read")) {
        static uint8_t back[512];
        mlrn_persist_info info;
        mlrn_status s;
        uint32_t i, n = (uint32_t)strlen(argv[3]) / 2u;
        if (n > FLASH_MAX) return 2;
        fm_setup((uint8_t)atoi(argv[2]), n);
        for (i = 0; i < n; i++) {
            int hi = hexval(argv[3][2u * i]), lo = hexval(argv[3][2u * i + 1u]);
            if (hi < 0 || lo < 0) return 3;
            fm.mem[i] = (uint8_t)(hi * 16 + lo);
        }
        s = mlrn_persist_load(&st, back, sizeof back, &info);
        printf("LOAD %d %u %lu ", s, s == MLRN_OK ? info.tag : 0u, (unsigned long)(s == MLRN_OK ? info.len : 0u));
        for (i = 0; s == MLRN_OK && i < info.len; i++) printf("%02x", back[i]);
        printf("\n");
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "api")) api();
    if (argc < 2 || !strcmp(argv[1], "words")) words();
    if (argc < 2 || !strcmp(argv[1], "learner")) learner();
    return 0;
}
