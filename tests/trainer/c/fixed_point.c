/* MLRN_SMO_FIXED (mlrn_smo.h), built with -DMLRN_SMO_FIXED=1 -DMLRN_STORE_TYPE=2 (int8) and UBSan:
 * - the integer sums at their bounds: d = 512 (MLRN_SMO_FX_MAX_D) with every code at -128 or 127, so the int32 sum
 *   of w . x reaches 32767 * 128 * 512 and the uint32 sum of |x_i - x_t|^2 reaches 65025 * 129 * 512 (UBSan stops
 *   the program on a signed overflow or an out-of-range float to integer conversion);
 * - feature scales 1e9 apart (the small feature's S level rounds to 0): trains, finite, separates;
 * - a constant term 2e4 times w's largest folded entry keeps U's precision; a tiny w halves sc below 2^30;
 * - d = 1 and d = 513 refused by mlrn_smo_init (MLRN_ERR_ARG), d = 2 accepted.
 * Built without MLRN_STORE_TYPE (MLRN_STORE_ANY), with and without MLRN_SMO_FIXED: float32 stores train the
 * linear and rbf kernels and print iterations, b and alphas in hex (the test compares the two builds' lines).
 * Prints one line per check group, "done" at the end. */
#include <stdio.h>
#include <string.h>
#include "mlrn_smo.h"

#define DMAX 512
#define NMAX 4
static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); failures++; } } while (0)

static uint8_t labels[NMAX];
static float work[4 * NMAX + 6 * (DMAX + 1) + 16];

#if MLRN_SMO_FIXED
static int8_t data[NMAX * (DMAX + 1)];
static float scale[DMAX + 1], offset[DMAX + 1];
static float row[DMAX + 1];

static mlrn_status setup(mlrn_store *st, mlrn_smo *smo, uint16_t d) {
    mlrn_smo_params p = mlrn_smo_default_params();
    mlrn_status s = mlrn_store_init(st, data, sizeof data, labels, sizeof labels, NMAX, d, MLRN_STORAGE_I8, 2,
                                    scale, offset);
    if (s != MLRN_OK) return s;
    p.C = 1000.0f;
    return mlrn_smo_init(smo, &p, st, work, sizeof work / sizeof work[0]);
}
#endif

#if MLRN_STORE_TYPE == MLRN_STORE_ANY
/* A runtime-typed build (MLRN_STORE_ANY): the float32 store's rbf and linear training must be the float32 code,
 * untouched by MLRN_SMO_FIXED (the test compares these lines with a build without it). */
static float f32_data[NMAX * 2];
static void float32_unchanged(void) {
    static const float rows4[NMAX * 2] = {0.1f, 0.9f, 0.8f, 0.2f, 0.7f, 0.9f, 0.2f, 0.1f};
    uint8_t kernel;
    uint16_t i;
    for (kernel = MLRN_KERNEL_LINEAR; kernel <= MLRN_KERNEL_RBF; kernel++) {
        mlrn_store st;
        mlrn_smo smo;
        mlrn_smo_params p = mlrn_smo_default_params();
        union { float f; uint32_t u; } b;
        memset(&st, 0, sizeof st);
        memset(&smo, 0, sizeof smo);
        CHECK(mlrn_store_init(&st, f32_data, sizeof f32_data, labels, sizeof labels, NMAX, 2, MLRN_STORAGE_F32, 2,
                              0, 0) == MLRN_OK);
        for (i = 0; i < NMAX; i++) CHECK(mlrn_store_add(&st, &rows4[2 * i], (uint8_t)(i % 2)) == MLRN_OK);
        p.kernel.type = kernel;
        p.kernel.gamma = 2.0f;
        p.C = 10.0f;
        CHECK(mlrn_smo_init(&smo, &p, &st, work, sizeof work / sizeof work[0]) == MLRN_OK);
        CHECK(mlrn_smo_train(&smo, 0) >= 0);
        b.f = smo.b[0];
        printf("f32 kernel=%u iter=%lu b=%08lx", kernel, (unsigned long)smo.total_iter, (unsigned long)b.u);
        for (i = 0; i < NMAX; i++) {
            b.f = smo.alpha[i];
            printf(" %08lx", (unsigned long)b.u);
        }
        printf("\n");
    }
}
#endif

#if MLRN_SMO_FIXED
static void fixed_checks(void) {
    mlrn_store st;
    mlrn_smo smo;
    uint16_t k, i, d;
    int correct = 0;
    mlrn_status s;

    /* the bounds: codes -128 (class 0) and 127 (class 1) in every one of 512 features */
    for (k = 0; k < DMAX; k++) { scale[k] = 1.0f; offset[k] = 0.0f; }
    CHECK(setup(&st, &smo, DMAX) == MLRN_OK);
    for (i = 0; i < NMAX; i++) {
        for (k = 0; k < DMAX; k++) row[k] = i % 2 ? 127.0f : -128.0f;
        CHECK(mlrn_store_add(&st, row, (uint8_t)(i % 2)) == MLRN_OK);
    }
    s = mlrn_smo_train(&smo, 0);
    CHECK(s >= 0);
    for (i = 0; i < NMAX; i++) {
        for (k = 0; k < DMAX; k++) row[k] = i % 2 ? 127.0f : -128.0f;
        correct += mlrn_smo_predict(&smo, row) == (int32_t)(i % 2);
    }
    CHECK(correct == NMAX);
    printf("bounds d=%u status=%d correct=%d\n", (unsigned)DMAX, s, correct);

    /* scales 1e9 apart: feature 0 (scale 1e-6) separates nothing, feature 1 (scale 1e3) the classes */
    scale[0] = 1e-6f;
    scale[1] = 1e3f;
    CHECK(setup(&st, &smo, 2) == MLRN_OK);
    for (i = 0; i < NMAX; i++) {
        row[0] = (float)i * 1e-5f;
        row[1] = i % 2 ? 5e4f : -5e4f;
        CHECK(mlrn_store_add(&st, row, (uint8_t)(i % 2)) == MLRN_OK);
    }
    s = mlrn_smo_train(&smo, 0);
    CHECK(s >= 0);
    correct = 0;
    for (i = 0; i < NMAX; i++) {
        row[0] = (float)i * 1e-5f;
        row[1] = i % 2 ? 5e4f : -5e4f;
        correct += mlrn_smo_predict(&smo, row) == (int32_t)(i % 2);
    }
    CHECK(correct == NMAX && smo.b[0] == smo.b[0] && smo.w[0] == smo.w[0] && smo.w[1] == smo.w[1]);
    printf("scales status=%d correct=%d\n", s, correct);

    /* a w whose folded entries are far above 32767: the power of two halves until max |U| <= 32767, and
     * inv * U gives u back to 2^-15 of the largest entry */
    for (k = 0; k < 2; k++) { scale[k] = 0.5f; offset[k] = 0.25f; }
    CHECK(setup(&st, &smo, 2) == MLRN_OK);
    smo.w[0] = 3.0e9f;
    smo.w[1] = -1.0e5f;
    mlrn_smo__refresh_wq(&smo);
    {
        const int16_t *U = MLRN_SMO__FX_U(&smo);
        float inv = MLRN_SMO__FX_INV(&smo), e0 = (float)U[0] * inv - 1.5e9f, e1 = (float)U[1] * inv + 5.0e4f;
        CHECK(U[0] >= 16384 && U[0] <= 32767);
        CHECK((e0 < 0.0f ? -e0 : e0) <= 1.5e9f / 32768.0f && (e1 < 0.0f ? -e1 : e1) <= 1.5e9f / 32768.0f);
        CHECK(smo.wq[2] == 3.0e9f * 0.25f + -1.0e5f * 0.25f);
        printf("halved U0=%d U1=%d\n", U[0], U[1]);
    }

    /* a constant term c far above w's folded entries (offsets 1e6 times the scales) costs U no precision: the
     * selection's integer scores y K - A_t leave c out; a tiny w (largest folded entry 1e-7) halves sc below 2^30,
     * so that K = round(sc) stays in int32 */
    for (k = 0; k < 2; k++) { scale[k] = 1e-2f; offset[k] = 1e4f; }
    CHECK(setup(&st, &smo, 2) == MLRN_OK);
    smo.w[0] = 1.0f;
    smo.w[1] = 1.0f;
    mlrn_smo__refresh_wq(&smo);
    {
        const int16_t *U = MLRN_SMO__FX_U(&smo);
        CHECK(U[0] >= 16384 && U[0] == U[1]);
        printf("offset U0=%d\n", U[0]);
        smo.w[0] = 1e-5f;
        smo.w[1] = 0.0f;
        mlrn_smo__refresh_wq(&smo);
        CHECK(U[0] > 0 && U[0] < 16384 && U[1] == 0);
        CHECK(1.0f / MLRN_SMO__FX_INV(&smo) < MLRN_SMO_FX_K_MAX && 2.0f / MLRN_SMO__FX_INV(&smo) >= MLRN_SMO_FX_K_MAX);
        CHECK(mlrn_smo__fx_k(&smo) == (int32_t)1 << 29);
        printf("tiny U0=%d\n", U[0]);
    }
    CHECK(setup(&st, &smo, 2) == MLRN_OK);
    for (i = 0; i < NMAX; i++) {
        row[0] = 1e4f + (float)i * 0.1f;
        row[1] = 1e4f + (i % 2 ? 1.0f : -1.0f);
        CHECK(mlrn_store_add(&st, row, (uint8_t)(i % 2)) == MLRN_OK);
    }
    s = mlrn_smo_train(&smo, 0);
    CHECK(s >= 0);
    correct = 0;
    for (i = 0; i < NMAX; i++) {
        row[0] = 1e4f + (float)i * 0.1f;
        row[1] = 1e4f + (i % 2 ? 1.0f : -1.0f);
        correct += mlrn_smo_predict(&smo, row) == (int32_t)(i % 2);
    }
    CHECK(correct == NMAX);
    printf("offset status=%d correct=%d\n", s, correct);

    /* the feature counts the integer path takes */
    for (d = 1; d <= DMAX + 1; d = (uint16_t)(d == 2 ? DMAX + 1 : d + 1)) {
        for (k = 0; k < d; k++) { scale[k] = 1.0f; offset[k] = 0.0f; }
        s = setup(&st, &smo, d);
        CHECK(s == (d >= 2 && d <= DMAX ? MLRN_OK : MLRN_ERR_ARG));
        printf("d=%u init=%d\n", (unsigned)d, s);
    }
}
#endif

int main(void) {
#if MLRN_STORE_TYPE == MLRN_STORE_ANY
    float32_unchanged();
#endif
#if MLRN_SMO_FIXED
    fixed_checks();
#endif
    printf(failures ? "FAILED\n" : "done\n");
    return failures != 0;
}
