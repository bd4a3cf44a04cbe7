/* AVR firmware that sleeps forever with interrupts enabled and nothing to wake it. simavr would pace
 * such a sleep in host time (usleep), so a cycle limit became a wall-clock wait; the runner turns the
 * pacing off: the run must end by its cycle limit, at simulation speed. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include "mlrn_target.h"

int main(void) {
    mlrn_target_init();
    SMCR = (uint8_t)_BV(SE); /* idle mode, sleep enabled */
    sei();
    for (;;) sleep_cpu();
}
