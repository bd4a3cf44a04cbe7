/* mlrn_smo_set_cache's refusals and a cached training against an uncached one, for
 * tests/trainer/test_kernel_cache.py. Prints "name status" per set_cache case, then for each cache size
 * "train K status iterations hits misses b-bits alpha-bits...". Built with MLRN_SMO_CACHE 1, C99 and C++. */
#define MLRN_SMO_CACHE 1
#include <stdio.h>
#include <string.h>
#include "mlrn_smo.h"

#define CAPACITY 24
#define D 2
#define MAX_COLS 6

static float data[CAPACITY * D];
static uint8_t labels[CAPACITY];
static float work[512];
static float cache[MLRN_SMO_CACHE_FLOATS(MAX_COLS, CAPACITY)];

static unsigned long bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (unsigned long)u;
}

static void setup(mlrn_store *st, mlrn_smo *smo) {
    mlrn_smo_params p = mlrn_smo_default_params();
    uint16_t t;
    p.kernel.type = MLRN_KERNEL_RBF;
    p.kernel.gamma = 0.5f;
    p.C = 10.0f;
    if (mlrn_store_init(st, data, sizeof data, labels, sizeof labels, CAPACITY, D, MLRN_STORAGE_F32, 2, NULL, NULL)
        != MLRN_OK) { puts("store-refused"); return; }
    /* two interleaved rings: not linearly separable, many iterations */
    for (t = 0; t < CAPACITY; t++) {
        float x[D];
        float r = (t % 2u) ? 2.0f : 1.0f, a = (float)t * 0.7f;
        x[0] = r * (1.0f - a * a / 2.0f + a * a * a * a / 24.0f) * 0.3f + (float)(t % 5u) * 0.05f;
        x[1] = r * (a - a * a * a / 6.0f) * 0.1f - (float)(t % 3u) * 0.07f;
        mlrn_store_add(st, x, (uint8_t)(t % 2u));
    }
    if (mlrn_smo_init(smo, &p, st, work, sizeof work / sizeof work[0]) != MLRN_OK) puts("init-refused");
}

int main(void) {
    mlrn_store st;
    mlrn_smo smo;
    uint16_t k, t;
    setup(&st, &smo);
    printf("cols1 %d\n", (int)mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], 1u));
    printf("cols256 %d\n", (int)mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], 256u));
    printf("small %d\n", (int)mlrn_smo_set_cache(&smo, cache, MLRN_SMO_CACHE_FLOATS(MAX_COLS, CAPACITY) - 1u, MAX_COLS));
    printf("null_smo %d\n", (int)mlrn_smo_set_cache(NULL, cache, sizeof cache / sizeof cache[0], 2u));
    printf("none %d\n", (int)mlrn_smo_set_cache(&smo, NULL, 0u, 2u));
    printf("zero %d\n", (int)mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], 0u));
    printf("ok %d\n", (int)mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], MAX_COLS));
    mlrn_smo_train_begin(&smo);
    printf("training %d\n", (int)mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], 2u));
    for (k = 0; k <= MAX_COLS; k++) {
        uint32_t it = 0;
        mlrn_status s;
        if (k == 1) continue;
        setup(&st, &smo);
        mlrn_smo_set_cache(&smo, cache, sizeof cache / sizeof cache[0], k);
        s = mlrn_smo_train(&smo, &it);
        printf("train %u %d %lu %lu %lu %08lx", (unsigned)k, (int)s, (unsigned long)it,
               (unsigned long)smo.cache_hits, (unsigned long)smo.cache_misses, bits(smo.b[0]));
        for (t = 0; t < CAPACITY; t++) printf(" %08lx", bits(smo.alpha[t]));
        printf("\n");
    }
    return 0;
}
