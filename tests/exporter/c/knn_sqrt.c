/* mlrn_knn_sqrtf over a spread of float32 bit patterns (every 4099th pattern, plus the edge cases): prints
 * "input_bits result_bits" per line; the test compares with numpy's float32 sqrt (IEEE: correctly rounded).
 * Also exercises mlrn_knn_push's tie rule. */
#include <stdio.h>
#include "mlrn_knn.h"

static float from_bits(uint32_t u) {
    union { float f; uint32_t u; } c;
    c.u = u;
    return c.f;
}

int main(void) {
    static const uint32_t edges[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x007fffffu, 0x00800000u,
                                     0x3f800000u, 0x40000000u, 0x7f7fffffu, 0x7f800000u, 0xbf800000u};
    uint32_t u, i;
    uint32_t work[MLRN_KNN_WORK_WORDS(3)];
    uint16_t n;
    for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
        printf("%08lx %08lx\n", (unsigned long)edges[i], (unsigned long)mlrn_knn_key(mlrn_knn_sqrtf(from_bits(edges[i]))));
    for (u = 0; u < 0x7f800000u; u += 4099u)
        printf("%08lx %08lx\n", (unsigned long)u, (unsigned long)mlrn_knn_key(mlrn_knn_sqrtf(from_bits(u))));
    /* keys 5, 3, 5, 3, 1 for rows 0..4, k = 3 (scikit-learn's heap keeps rows 4, 1, 3), sorted by key */
    mlrn_knn_clear(work, 3);
    mlrn_knn_push(work, 3, 5u, 0);
    mlrn_knn_push(work, 3, 3u, 1);
    mlrn_knn_push(work, 3, 5u, 2);
    mlrn_knn_push(work, 3, 3u, 3);
    mlrn_knn_push(work, 3, 1u, 4);
    n = mlrn_knn_sort(work, 3);
    printf("ties %u %lu %lu %lu\n", (unsigned)n, (unsigned long)work[3], (unsigned long)work[4], (unsigned long)work[5]);
    return 0;
}
