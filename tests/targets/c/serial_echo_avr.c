/* serial_echo_avr: the AVR firmware of tests/targets/test_serial_port.py, with its own USART0 code (no
 * Arduino core, no mlrn_target.h I/O): 115200 baud as Arduino's HardwareSerial sets it at 16 MHz (U2X,
 * UBRR 16: 117647 baud), an RX interrupt filling a 64-byte ring buffer (HardwareSerial's size; a byte that
 * finds the ring full is dropped and counted, as HardwareSerial drops it). The first byte received is
 * answered with the line "mlrn-echo ready\n" (a line on request: a banner sent before the host opened the
 * port would be flushed by pyserial's open), every later byte with byte + 1.
 * SERIAL_MODE (a define of the build):
 *   0  echo, interrupt-driven (the default)
 *   1  never reads: the receiver is on, nobody reads UDR0
 *   2  loops forever without touching the UART (no banner either)
 *   3  echo, polled, and slow: SLOW_LOOPS of busy work per byte, longer than a frame at 115200, so a
 *      burst overruns the UART's two-byte buffer (the firmware's fault, as on a real board) */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>

#ifndef SERIAL_MODE
#define SERIAL_MODE 0
#endif
#define MODE_ECHO 0
#define MODE_NEVER_READS 1
#define MODE_SPIN 2
#define MODE_SLOW_POLLED 3

#define UBRR_115200_U2X 16u /* Arduino's divider for 115200 at 16 MHz with U2X */
#define RING_BYTES 64u      /* a power of two: the index wraps with a mask */
#define RING_MASK (RING_BYTES - 1u)
#define SLOW_LOOPS 4000u    /* about 5 frames' worth of cycles (a frame is ~1500 cycles in simavr) */

#if defined(USART0_RX_vect)
#define RX_VECTOR USART0_RX_vect /* ATmega2560 */
#else
#define RX_VECTOR USART_RX_vect /* ATmega328P */
#endif

static volatile uint8_t ring[RING_BYTES];
static volatile uint8_t ring_head, ring_tail; /* the ISR writes head, main reads tail */
static volatile uint16_t ring_dropped;

ISR(RX_VECTOR) {
    uint8_t b = UDR0;
    uint8_t next = (uint8_t)((ring_head + 1u) & RING_MASK);
    if (next == ring_tail) {
        ring_dropped++;
        return;
    }
    ring[ring_head] = b;
    ring_head = next;
}

static void put(uint8_t b) {
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = b;
}

static void put_text(const char *s) {
    while (*s) put((uint8_t)*s++);
}

static void busy(uint16_t loops) {
    volatile uint16_t n = loops;
    while (n) n = (uint16_t)(n - 1u);
}

int main(void) {
    /* U2X before the divider, as Arduino's HardwareSerial::begin does: simavr computes the frame time when
     * UBRR0L is written, from the U2X bit of that moment (a real part does not care about the order). */
    UCSR0A = _BV(U2X0);
    UBRR0H = 0;
    UBRR0L = UBRR_115200_U2X;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = (SERIAL_MODE == MODE_ECHO) ? (uint8_t)(_BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0))
                                        : (uint8_t)(_BV(RXEN0) | _BV(TXEN0));
    sei();
    if (SERIAL_MODE != MODE_SPIN) {
        while (ring_tail == ring_head && !(UCSR0A & _BV(RXC0))) {
        }
        if (ring_tail == ring_head) (void)UDR0; /* polled modes */
        else ring_tail = (uint8_t)((ring_tail + 1u) & RING_MASK);
        put_text("mlrn-echo ready\n");
    }
    for (;;) {
        if (SERIAL_MODE == MODE_ECHO) {
            uint8_t b;
            if (ring_tail == ring_head) continue;
            b = ring[ring_tail];
            ring_tail = (uint8_t)((ring_tail + 1u) & RING_MASK);
            put((uint8_t)(b + 1u));
        } else if (SERIAL_MODE == MODE_SLOW_POLLED) {
            if (UCSR0A & _BV(RXC0)) {
                uint8_t b = UDR0;
                busy(SLOW_LOOPS);
                put((uint8_t)(b + 1u));
            }
        }
        /* MODE_NEVER_READS and MODE_SPIN: nothing, for ever */
    }
}
