/* Every text of mlrn_status_str and mlrn_smo_param_str, one per line as "code text", read back from
 * where the runtime keeps them (flash on AVR: the pointers and the texts are flash addresses, copied out
 * byte by byte with the flash accessor). Runs on every target; read by tests/core/test_vocab.py. */
#include "mlrn_target.h"
#include "mlrn_smo.h"

static void put_text(const char *t) {
    char c;
    while ((c = (char)mlrn_flash_u8((const uint8_t *)t)) != '\0') {
        mlrn_target_putc(c);
        t++;
    }
    mlrn_target_putc('\n');
}

int main(void) {
    int code;
    mlrn_target_init();
    for (code = -12; code <= 4; code++) {
        mlrn_io_puts("S ");
        mlrn_io_put_i32(code);
        mlrn_target_putc(' ');
        put_text(mlrn_status_str((mlrn_status)code));
    }
    for (code = 0; code <= 14; code++) {
        mlrn_io_puts("P ");
        mlrn_io_put_i32(code);
        mlrn_target_putc(' ');
        put_text(mlrn_smo_param_str((uint8_t)code));
    }
    return 0;
}
