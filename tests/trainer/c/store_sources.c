/* The read-only sample stores (MLRN_STORE_SOURCE, mlrn_store.h), built with -DMLRN_STORE_SOURCE=1 (flash table)
 * or 2 (read callback): every solver trains on them and predicts the training labels; the stores refuse to be
 * written; a failing callback ends training (and a kernel model's prediction) with its status, never a crash,
 * and the next training works again. Prints one line per check group, "done" at the end. */
#define MLRN_SMO_SOLVERS 0x7u   /* every solver */
#include <stdio.h>
#include "mlrn_smo.h"

#define N 12
#define D 2
static const float rows[N * D] MLRN_FLASH = {
    -2.0f, -1.5f, -1.8f, -2.2f, -2.5f, -1.0f, -1.2f, -2.1f, -2.2f, -2.4f, -1.6f, -1.1f,
    2.0f, 1.5f, 1.8f, 2.2f, 2.5f, 1.0f, 1.2f, 2.1f, 2.2f, 2.4f, 1.6f, 1.1f};
static const int8_t codes8[N * D] MLRN_FLASH = {
    -80, -60, -72, -88, -100, -40, -48, -84, -88, -96, -64, -44, 80, 60, 72, 88, 100, 40, 48, 84, 88, 96, 64, 44};
static const uint8_t labels[N] MLRN_FLASH = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
static const uint8_t bad_labels[N] MLRN_FLASH = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2};
static const float scale[D] MLRN_FLASH = {0.025f, 0.025f};
static const float offset[D] MLRN_FLASH = {0.0f, 0.0f};

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); failures++; } } while (0)

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_CALLBACK
static uint32_t calls, fail_at;            /* fail from the fail_at-th read on (0: never) */
static mlrn_status fail_with = MLRN_ERR_IO;
static int label_over;                     /* serve a label >= n_classes */

static mlrn_status read_row(void *ctx, uint16_t i, void *row, uint8_t *label) {
    uint8_t storage = *(const uint8_t *)ctx;
    uint16_t k;
    calls++;
    if (fail_at && calls >= fail_at) return fail_with;
    if (i >= N) return MLRN_ERR_ARG;
    *label = label_over ? 7u : labels[i];
    if (row) {
        for (k = 0; k < D; k++) {
            if (storage == MLRN_STORAGE_F32) ((float *)row)[k] = rows[i * D + k];
            else ((int8_t *)row)[k] = codes8[i * D + k];
        }
    }
    return MLRN_OK;
}
static uint8_t codes_buf[2 * D];
#endif

static mlrn_status make_store(mlrn_store *st, uint8_t storage) {
#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
    return mlrn_store_init_flash(st, storage == MLRN_STORAGE_F32 ? (const void *)rows : (const void *)codes8, labels,
                                 N, D, storage, 2, scale, offset);
#else
    static uint8_t storage_ctx;
    storage_ctx = storage;
    return mlrn_store_init_callback(st, read_row, &storage_ctx, codes_buf, sizeof codes_buf, N, D, storage, 2, scale,
                                    offset);
#endif
}

static float work[4 * N + 64];

static mlrn_status train(mlrn_store *st, mlrn_smo *smo, uint8_t solver, uint8_t kernel, int *correct) {
    mlrn_smo_params p = mlrn_smo_default_params();
    mlrn_status s;
    uint16_t i, k;
    *correct = 0;
    p.solver = solver;
    p.kernel.type = kernel;
    p.kernel.gamma = 0.5f;
    p.max_passes = 3u;
    s = mlrn_smo_init(smo, &p, st, work, sizeof work / sizeof work[0]);
    if (s != MLRN_OK) return s;
    s = mlrn_smo_train(smo, 0);
    *correct = 0;
    if (s < 0) return s;
    for (i = 0; i < N; i++) {
        float x[D];
        for (k = 0; k < D; k++) x[k] = mlrn_flash_f32(&rows[i * D + k]);
        if (mlrn_smo_predict(smo, x) == (int32_t)mlrn_flash_u8(&labels[i])) (*correct)++;
    }
    return s;
}

int main(void) {
    mlrn_store st;
    mlrn_smo smo;
    uint8_t storage, solver, kernel;
    float x[D] = {0.0f, 0.0f}, ram_data[N * D];
    uint8_t ram_labels[N];
    int correct = 0;

    /* read-only builds: no RAM store, no writes */
    CHECK(mlrn_store_init(&st, ram_data, sizeof ram_data, ram_labels, sizeof ram_labels, N, D, MLRN_STORAGE_F32, 2,
                          0, 0) == MLRN_ERR_ARG);
    CHECK(make_store(&st, MLRN_STORAGE_F32) == MLRN_OK && st.n == N && st.capacity == N);
    CHECK(mlrn_store_add(&st, x, 0) == MLRN_ERR_FULL || mlrn_store_add(&st, x, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_store_set(&st, 0, x, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_smo_work_floats(N, D, 2, MLRN_STORAGE_F32, &smo.p) >= 4u * D);
    printf("read-only\n");

    for (storage = MLRN_STORAGE_F32; storage <= MLRN_STORAGE_I8; storage = (uint8_t)(storage + 2u))
        for (solver = MLRN_SMO_SOLVER_WSS2; solver <= MLRN_SMO_SOLVER_DCD; solver++)
            for (kernel = MLRN_KERNEL_LINEAR; kernel <= MLRN_KERNEL_RBF; kernel++) {
                mlrn_status s;
                if (solver == MLRN_SMO_SOLVER_DCD && kernel != MLRN_KERNEL_LINEAR) continue;
                CHECK(make_store(&st, storage) == MLRN_OK);
                s = train(&st, &smo, solver, kernel, &correct);
                CHECK(s >= 0 && correct == N);
                if (kernel != MLRN_KERNEL_LINEAR) CHECK(mlrn_smo_compact(&smo) == MLRN_ERR_ARG);
                printf("trained storage=%u solver=%u kernel=%u status=%d correct=%d\n", storage, solver, kernel, s,
                       correct);
            }

#if MLRN_STORE_SOURCE == MLRN_STORE_IN_FLASH
    CHECK(mlrn_store_init_flash(&st, rows, bad_labels, N, D, MLRN_STORAGE_F32, 2, 0, 0) == MLRN_ERR_LABEL);
    CHECK(mlrn_store_init_flash(&st, codes8, labels, N, D, MLRN_STORAGE_I8, 2, 0, 0) == MLRN_ERR_ARG);
    CHECK(mlrn_store_init_flash(&st, 0, labels, N, D, MLRN_STORAGE_F32, 2, 0, 0) == MLRN_ERR_ARG);
    printf("flash refusals\n");
#else
    (void)bad_labels;
    CHECK(mlrn_store_init_callback(&st, read_row, 0, codes_buf, 2u * D - 1u, N, D, MLRN_STORAGE_I8, 2, scale,
                                   offset) == MLRN_ERR_BUFFER);
    CHECK(mlrn_store_init_callback(&st, 0, 0, codes_buf, sizeof codes_buf, N, D, MLRN_STORAGE_I8, 2, scale, offset)
          == MLRN_ERR_ARG);
    for (storage = MLRN_STORAGE_F32; storage <= MLRN_STORAGE_I8; storage = (uint8_t)(storage + 2u))
        for (solver = MLRN_SMO_SOLVER_WSS2; solver <= MLRN_SMO_SOLVER_DCD; solver++) {
            uint32_t at;
            for (at = 1u; at < 200u; at = at * 3u + 1u) {   /* fail at the first read, and later and later */
                CHECK(make_store(&st, storage) == MLRN_OK);
                calls = 0;
                fail_at = at;
                CHECK(train(&st, &smo, solver, MLRN_KERNEL_LINEAR, &correct) == MLRN_ERR_IO);
                CHECK(smo.phase == 0 && mlrn_smo_predict(&smo, x) == MLRN_ERR_UNTRAINED);
                fail_at = 0;     /* the store reads again: the next training works */
                CHECK(train(&st, &smo, solver, MLRN_KERNEL_LINEAR, &correct) >= 0 && correct == N);
            }
        }
    CHECK(make_store(&st, MLRN_STORAGE_F32) == MLRN_OK);
    calls = 0; fail_at = 9; fail_with = MLRN_ERR_CRC;    /* the callback's own status comes back */
    CHECK(train(&st, &smo, MLRN_SMO_SOLVER_WSS2, MLRN_KERNEL_LINEAR, &correct) == MLRN_ERR_CRC);
    fail_at = 0; label_over = 1;                          /* a label >= n_classes */
    CHECK(train(&st, &smo, MLRN_SMO_SOLVER_WSS2, MLRN_KERNEL_LINEAR, &correct) == MLRN_ERR_LABEL);
    label_over = 0;
    CHECK(train(&st, &smo, MLRN_SMO_SOLVER_WSS2, MLRN_KERNEL_RBF, &correct) >= 0 && correct == N);
    calls = 0; fail_at = 1; fail_with = MLRN_ERR_IO;     /* an rbf model reads its samples to predict */
    CHECK(mlrn_smo_predict(&smo, x) == MLRN_ERR_IO);
    fail_at = 0;
    CHECK(mlrn_smo_predict(&smo, x) >= 0);
    printf("callback errors\n");
#endif
    printf(failures ? "FAILED %d\n" : "done\n", failures);
    return failures != 0;
}
