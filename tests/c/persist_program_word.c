/* Persistence on flash that programs whole words, once between erases (ECC flash: a word programmed
 * twice, or partially, reads back with an ECC error or not at all). The storage model below counts
 * every violation: a write that is not whole aligned words, a word programmed twice without an erase.
 * For program words of 2, 4, 8 and 16 bytes: saves of every length 0..2*W+37 (odd ones included) load
 * back exactly, and a power cut after every programmed word of a save leaves the previous payload
 * loadable (or the new one, once it was committed).
 * Prints "WORD w=W saves=S exact=E cuts=C old=O new=N lost=L violations=V" per word size. */
#include <stdio.h>
#include <string.h>
#include "mlrn_persist.h"

#define SLOT 256u
typedef struct {
    uint8_t mem[2 * SLOT];
    uint8_t programmed[2 * SLOT];   /* per byte: 1 once its word was programmed since the last erase */
    uint8_t word;
    uint32_t words_left;             /* power cut: words that may still be programmed (UINT32_MAX: none) */
    uint32_t violations;
} flash_model;

static mlrn_status fm_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
    flash_model *f = (flash_model *)ctx;
    if (addr + len > sizeof f->mem) return MLRN_ERR_ARG;
    memcpy(buf, &f->mem[addr], len);
    return MLRN_OK;
}

static mlrn_status fm_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
    flash_model *f = (flash_model *)ctx;
    uint32_t a, i;
    if (addr % f->word != 0u || len % f->word != 0u || addr + len > sizeof f->mem) { f->violations++; return MLRN_ERR_ARG; }
    for (a = addr; a < addr + len; a += f->word) {
        if (f->words_left == 0u) return MLRN_ERR_IO;   /* power lost before this word */
        if (f->words_left != UINT32_MAX) f->words_left--;
        if (f->programmed[a]) f->violations++;
        for (i = 0; i < f->word; i++) { f->mem[a + i] &= buf[a - addr + i]; f->programmed[a + i] = 1u; }
    }
    return MLRN_OK;
}

static mlrn_status fm_erase(void *ctx, uint32_t addr, uint32_t len) {
    flash_model *f = (flash_model *)ctx;
    if (addr + len > sizeof f->mem) return MLRN_ERR_ARG;
    memset(&f->mem[addr], 0xFF, len);
    memset(&f->programmed[addr], 0, len);
    return MLRN_OK;
}

static flash_model fm, snap;

static void payload(uint8_t *p, uint32_t n, uint32_t seed) {
    uint32_t i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 3));
}

int main(void) {
    static const uint8_t words[] = {2, 4, 8, 16};
    uint8_t w;
    for (w = 0; w < sizeof words; w++) {
        mlrn_storage st;
        uint8_t a[SLOT], b[SLOT], back[SLOT];
        uint32_t n, saves = 0, exact = 0, cuts = 0, old = 0, neu = 0, lost = 0, max_len;
        mlrn_persist_info info;
        memset(&fm, 0xFF, sizeof fm.mem);
        memset(fm.programmed, 0, sizeof fm.programmed);
        fm.word = words[w]; fm.words_left = UINT32_MAX; fm.violations = 0;
        st.read = fm_read; st.write = fm_write; st.erase = fm_erase; st.ctx = &fm; st.size = sizeof fm.mem;
        st.program_word = words[w];
        max_len = 2u * words[w] + 37u;
        for (n = 0; n <= max_len; n++) {          /* every length, odd ones included */
            payload(a, n, n);
            saves++;
            if (mlrn_persist_save(&st, 7u, a, n) != MLRN_OK) continue;
            memset(back, 0, sizeof back);
            if (mlrn_persist_load(&st, back, sizeof back, &info) == MLRN_OK && info.len == n &&
                memcmp(back, a, n) == 0)
                exact++;
        }
        /* power cuts: the previous payload a (length 29) is committed; cut the save of b after k words */
        payload(a, 29u, 1u);
        payload(b, 41u, 2u);
        if (mlrn_persist_save(&st, 7u, a, 29u) != MLRN_OK) return 1;
        snap = fm;
        for (n = 0;; n++) {
            mlrn_status s;
            fm = snap;
            fm.words_left = n;
            s = mlrn_persist_save(&st, 7u, b, 41u);
            fm.words_left = UINT32_MAX;
            cuts++;
            memset(back, 0, sizeof back);
            if (mlrn_persist_load(&st, back, sizeof back, &info) != MLRN_OK) lost++;
            else if (info.len == 29u && memcmp(back, a, 29u) == 0 && s != MLRN_OK) old++;
            else if (info.len == 41u && memcmp(back, b, 41u) == 0) neu++;
            else lost++;
            if (s == MLRN_OK) break;
        }
        printf("WORD w=%u saves=%lu exact=%lu cuts=%lu old=%lu new=%lu lost=%lu violations=%lu\n", (unsigned)words[w],
               (unsigned long)saves, (unsigned long)exact, (unsigned long)cuts, (unsigned long)old,
               (unsigned long)neu, (unsigned long)lost, (unsigned long)fm.violations + snap.violations);
    }
    return 0;
}
