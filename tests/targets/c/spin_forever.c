/* Firmware that never ends and prints nothing: stopped by the emulator's instruction or cycle limit. */
#include "mlrn_target.h"

int main(void) {
    volatile unsigned long n = 0;
    mlrn_target_init();
    for (;;) n++;
}
