#include "mlrn_learner.h"
MLRN_LEARNER_DEFINE(L, 4, 3, 20, 5, 2, 20)
static uint8_t ee[512];
static mlrn_status rd(void *c, uint32_t a, uint8_t *b, uint16_t n) { (void)c; while (n--) *b++ = ee[a++]; return 0; }
static mlrn_status wr(void *c, uint32_t a, const uint8_t *b, uint16_t n) { (void)c; while (n--) ee[a++] = *b++; return 0; }
int main(void) {
    mlrn_learner_params p = mlrn_learner_default_params();
    mlrn_storage st;
    st.read = rd; st.write = wr; st.erase = 0; st.ctx = 0; st.size = sizeof ee; st.program_word = 0;
    L_init(&p);
#ifdef WITH_SAVE_ALL
    if (mlrn_learner_save_all(&L, &st) != MLRN_OK) return 1;
#else
    if (mlrn_learner_save(&L, &st) != MLRN_OK) return 1;
#endif
    return mlrn_learner_load(&L, &st) == MLRN_OK ? 0 : 2;
}
