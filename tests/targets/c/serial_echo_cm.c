/* serial_echo_cm: the Cortex-M firmware of tests/targets/test_serial_port.py: UART0 of the emulated
 * machine through mlrn_cm_uart.h (polled; the machine is chosen by the define of
 * microlearn.targets.cortexm.uart_defines). The first byte received is answered with the line
 * "mlrn-echo ready\n", every later byte with byte + 1.
 * SERIAL_MODE: 0 echo (the default), 1 never reads (after the banner), 2 loops forever without touching
 * the UART (no banner). */
#include <stdint.h>

#include "mlrn_cm_uart.h"

#ifndef SERIAL_MODE
#define SERIAL_MODE 0
#endif
#define MODE_ECHO 0
#define MODE_SPIN 2
#define MODE_SILENT_BLOCKS 4
#define BLOCK_BYTES 64
#define BAUD 115200u

static void put_text(const char *s) {
    while (*s) mlrn_cm_uart_put((uint8_t)*s++);
}

int main(void) {
    if (SERIAL_MODE == MODE_SPIN) {
        for (;;) {
        }
    }
    mlrn_cm_uart_init(BAUD);
    while (mlrn_cm_uart_get() < 0) {
    }
    put_text("mlrn-echo ready\n");
    for (;;) {
        if (SERIAL_MODE == MODE_SILENT_BLOCKS) {
            uint8_t sum = 0;
            int i, c;
            for (i = 0; i < BLOCK_BYTES; i++) {
                while ((c = mlrn_cm_uart_get()) < 0) {
                }
                sum = (uint8_t)(sum + (uint8_t)c);
            }
            mlrn_cm_uart_put(sum);
        }
        if (SERIAL_MODE == MODE_ECHO) {
            int c = mlrn_cm_uart_get();
            if (c >= 0) mlrn_cm_uart_put((uint8_t)(c + 1));
        }
    }
}
