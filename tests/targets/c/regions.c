/* Three regions of known relative cost (work(100), work(200), work(400) float steps). The first input
 * byte says which are marked (bits 0-2); bit 3 adds a begin that is restarted by region 1's begin,
 * bit 4 an end with no open region after region 3, bit 5 a begin left open at exit. */
#include "mlrn_target.h"
static volatile float sink;
__attribute__((noinline)) static float work(uint16_t iters) {
    float s = 0.0f;
    uint16_t i;
    for (i = 0; i < iters; i++) s = s * 0.96875f + (float)(i & 7u) * 0.5f - 1.25f;
    return s;
}
int main(void) {
    uint8_t m = 0;
    uint16_t k;
    mlrn_target_init();
    if (mlrn_io_read_bytes(&m, 1)) mlrn_target_exit(2);
    if (m & 8) mlrn_target_mark_begin();
    for (k = 0; k < 3; k++) {
        if (m & (1u << k)) mlrn_target_mark_begin();
        sink = work((uint16_t)(100u << k));
        if (m & (1u << k)) mlrn_target_mark_end();
    }
    if (m & 16) mlrn_target_mark_end();
    if (m & 32) mlrn_target_mark_begin();
    mlrn_io_puts("ok\n");
    mlrn_target_exit(0);
    return 0;
}
