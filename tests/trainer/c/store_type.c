/* One storage type per build (MLRN_STORE_TYPE, mlrn_store.h), built with -DMLRN_STORE_TYPE=0/1/2: a RAM store of
 * that type is filled, trains (wss2 linear and rbf, dcd) and predicts its training labels; a store of either other
 * type is refused by mlrn_store_init (MLRN_ERR_ARG) and leaves the store untouched. Prints one line per check
 * group, "done" at the end. */
#define MLRN_SMO_SOLVERS 0x7u   /* every solver */
#include <stdio.h>
#include <string.h>
#include "mlrn_smo.h"

#define N 12
#define D 2
static const float rows[N * D] = {
    -2.0f, -1.5f, -1.8f, -2.2f, -2.5f, -1.0f, -1.2f, -2.1f, -2.2f, -2.4f, -1.6f, -1.1f,
    2.0f, 1.5f, 1.8f, 2.2f, 2.5f, 1.0f, 1.2f, 2.1f, 2.2f, 2.4f, 1.6f, 1.1f};
static const uint8_t labels[N] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
static const float scale[D] MLRN_FLASH = {0.025f, 0.025f};
static const float offset[D] MLRN_FLASH = {0.0f, 0.0f};

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); failures++; } } while (0)

static float data[N * D];     /* room for N float32 rows: the largest type */
static uint8_t ram_labels[N];
static float work[4 * N + 64];

int main(void) {
    mlrn_store st;
    mlrn_smo smo;
    uint8_t other, solver, kernel;
    uint16_t i;
    for (other = MLRN_STORAGE_F32; other <= MLRN_STORAGE_I8; other++) {
        if (other == MLRN_STORE_TYPE) continue;
        memset(&st, 0xA5, sizeof st);
        CHECK(mlrn_store_init(&st, data, sizeof data, ram_labels, sizeof ram_labels, N, D, other, 2, scale, offset)
              == MLRN_ERR_ARG);
        CHECK(st.capacity == 0xA5A5u);     /* refused before anything was written */
        printf("refused storage=%u\n", other);
    }
    for (solver = MLRN_SMO_SOLVER_WSS2; solver <= MLRN_SMO_SOLVER_DCD; solver++)
        for (kernel = MLRN_KERNEL_LINEAR; kernel <= MLRN_KERNEL_RBF; kernel++) {
            mlrn_smo_params p = mlrn_smo_default_params();
            mlrn_status s;
            int correct = 0;
            if (solver == MLRN_SMO_SOLVER_DCD && kernel != MLRN_KERNEL_LINEAR) continue;
            CHECK(mlrn_store_init(&st, data, sizeof data, ram_labels, sizeof ram_labels, N, D, MLRN_STORE_TYPE, 2,
                                  scale, offset) == MLRN_OK);
            CHECK(MLRN_STORE_TYPE_OF(&st) == MLRN_STORE_TYPE && st.storage == MLRN_STORE_TYPE);
            for (i = 0; i < N; i++) CHECK(mlrn_store_add(&st, &rows[i * D], labels[i]) == MLRN_OK);
            p.solver = solver;
            p.kernel.type = kernel;
            p.kernel.gamma = 0.5f;
            p.max_passes = 3u;
            CHECK(mlrn_smo_init(&smo, &p, &st, work, sizeof work / sizeof work[0]) == MLRN_OK);
            s = mlrn_smo_train(&smo, 0);
            CHECK(s >= 0);
            for (i = 0; i < N; i++) correct += mlrn_smo_predict(&smo, &rows[i * D]) == (int32_t)labels[i];
            CHECK(correct == N);
            printf("trained storage=%u solver=%u kernel=%u status=%d correct=%d\n", (unsigned)MLRN_STORE_TYPE, solver,
                   kernel, s, correct);
        }
    printf(failures ? "FAILED\n" : "done\n");
    return failures != 0;
}
