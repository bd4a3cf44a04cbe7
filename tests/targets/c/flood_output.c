/* Firmware that prints forever: the runner must stop it by its output limit. */
#include "mlrn_target.h"

int main(void) {
    mlrn_target_init();
    for (;;) mlrn_io_puts("flooding the host with output ");
}
