/* The smallest device that speaks the protocol on an ATmega328P: polled UART0 bytes into mlrn_link,
 * every request answered with its status alone (MLRN_OK), replies, repeats and NAKs written back. Its
 * avr-size is the link's cost on AVR (docs/serial-protocol.md): there is nothing else in it but the
 * UART loop. Built, never run. */
#include <avr/io.h>
#include "mlrn_link.h"

#define N_FEATURES 3
#define MAX_REPLY MLRN_LINK_HELLO_REPLY_BYTES

static uint8_t rx[MLRN_LINK_RX_BYTES(N_FEATURES)], tx[MLRN_LINK_TX_BYTES(MAX_REPLY)];
static mlrn_link link_;
/* millis() stand-in: a real sketch passes millis(); volatile so the compiler keeps the timeout code */
static volatile uint32_t ticks_ms;

static void uart_write(const uint8_t *p, uint16_t n) {
    uint16_t i;
    for (i = 0; i < n; i++) {
        while (!(UCSR0A & (1 << UDRE0))) {
        }
        UDR0 = p[i];
    }
}

int main(void) {
    uint8_t ok = MLRN_OK;
    if (mlrn_link_init(&link_, N_FEATURES, rx, sizeof rx, tx, sizeof tx) != MLRN_OK) return 1;
    for (;;) {
        while (!(UCSR0A & (1 << RXC0))) {
        }
        switch (mlrn_link_feed(&link_, UDR0, ticks_ms)) {
        case MLRN_LINK_REQUEST:
            mlrn_link_reply(&link_, &ok, 1);
            uart_write(link_.out, link_.out_len);
            break;
        case MLRN_LINK_RESEND:
        case MLRN_LINK_NAK_READY:
            uart_write(link_.out, link_.out_len);
            break;
        default:
            break;
        }
    }
}
