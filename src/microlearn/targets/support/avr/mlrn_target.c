/* AVR (ATmega328P / ATmega2560) implementation of mlrn_target.h for simavr.
 *
 * I/O goes through USART0, exactly as on a real board. Three general-purpose
 * I/O registers carry the side channel the simavr runner (simavr_runner.c) watches;
 * on a real board these writes are harmless:
 *   GPIOR1: 1 = measured region begins, 2 = it ends (the runner reads its cycle counter)
 *   GPIOR2: 1 = "I am waiting for a byte": the runner then puts ONE byte into the UART,
 *           or answers 0xFF when the input is exhausted (a UART cannot signal end of input).
 *           One byte in flight at a time means simavr's 64-byte RX FIFO can never overflow.
 *   GPIOR0: the exit code, written just before the final sleep. */
#include "mlrn_target.h"
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

#define MLRN_EOF_REPLY 0xFFu

static uint8_t sent_any; /* TXC0 only ever sets after a transmission: do not wait for it otherwise */

void mlrn_target_init(void) {
    /* 2 Mbaud (U2X, UBRR = 0 at 16 MHz) is valid on the real part and keeps the
     * simulated frame time (and so the cost of feeding input) small. */
    UBRR0H = 0;
    UBRR0L = 0;
    UCSR0A = _BV(U2X0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = _BV(RXEN0) | _BV(TXEN0);
}

int mlrn_target_getc(void) {
    if (UCSR0A & _BV(RXC0)) return UDR0;
    GPIOR2 = 1; /* request one byte (simulation side channel) */
    for (;;) {
        if (UCSR0A & _BV(RXC0)) return UDR0;
        if (GPIOR2 == MLRN_EOF_REPLY) return -1;
    }
}

void mlrn_target_putc(char c) {
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UCSR0A = (uint8_t)(UCSR0A | _BV(TXC0)); /* writing 1 clears TXC0: it then marks "this byte left" */
    UDR0 = (uint8_t)c;
    sent_any = 1;
}

/* noinline: the measured code stays behind a call, so nothing moves across the marker. */
__attribute__((noinline)) void mlrn_target_mark_begin(void) { GPIOR1 = 1; }
__attribute__((noinline)) void mlrn_target_mark_end(void) { GPIOR1 = 2; }

void mlrn_target_exit(int code) {
    if (sent_any) {
        while (!(UCSR0A & _BV(TXC0))) { /* the last frame must leave the shifter */
        }
    }
    GPIOR0 = (uint8_t)code;
    /* Sleeping with interrupts off is simavr's "graceful end"; on a real part it halts. */
    cli();
    SMCR = (uint8_t)(_BV(SM1) | _BV(SE)); /* power-down, sleep enabled (set_sleep_mode trips -Wconversion) */
    for (;;) sleep_cpu();
}
