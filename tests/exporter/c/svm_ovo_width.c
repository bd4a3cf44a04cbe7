/* The one-vs-one bookkeeping of mlrn_svm.h at the largest class count it supports
 * (MLRN_SVM_OVO_MAX_CLASSES = 362: 65,341 pairs, just under uint16_t's limit).
 * 1. mlrn_svm__ovo_add with one support vector per class and every coefficient 1: each pair (p, q)
 *    must receive exactly two additions (from p's vector and from q's): a wrapped or stepped-wrong
 *    index shows up as a value other than 2 (or as an out-of-bounds write under ASan).
 * 2. mlrn_svm_ovo_vote on pair decisions where class W beats everyone and class p beats q
 *    otherwise when p < q: the winner must be W (votes n-1).
 * Prints "pairs=<n_pairs> bad=<count> winner=<index>". */
#include <stdio.h>
#include <stdlib.h>
#include "mlrn_svm.h"

#define N_CLASSES ((uint16_t)MLRN_SVM_OVO_MAX_CLASSES)
#define N_PAIRS ((uint32_t)N_CLASSES * (N_CLASSES - 1u) / 2u)

int main(int argc, char **argv) {
    uint16_t winner = (uint16_t)(argc > 1 ? atoi(argv[1]) : 200);
    float *f = (float *)calloc(N_PAIRS, sizeof(float));
    float *coef = (float *)malloc(sizeof(float) * (size_t)(N_CLASSES - 1u) * N_CLASSES);
    uint16_t votes[N_CLASSES];
    uint32_t i, bad = 0, k = 0;
    uint16_t p, q;
    if (f == NULL || coef == NULL) return 1;
    for (i = 0; i < (uint32_t)(N_CLASSES - 1u) * N_CLASSES; i++) coef[i] = 1.0f;
    for (p = 0; p < N_CLASSES; p++)        /* support vector s = p has class p; rows are N_CLASSES apart */
        mlrn_svm__ovo_add(f, &coef[p], N_CLASSES, N_CLASSES, p, 1.0f);
    for (i = 0; i < N_PAIRS; i++) bad += (f[i] != 2.0f);
    for (p = 0; p < N_CLASSES; p++)
        for (q = (uint16_t)(p + 1u); q < N_CLASSES; q++, k++)
            f[k] = (q == winner) ? 1.0f : -1.0f;   /* f >= 0 votes for q; otherwise for p */
    printf("pairs=%lu bad=%lu winner=%ld\n", (unsigned long)N_PAIRS, (unsigned long)bad,
           (long)mlrn_svm_ovo_vote(f, N_CLASSES, votes));
    free(f);
    free(coef);
    return 0;
}
