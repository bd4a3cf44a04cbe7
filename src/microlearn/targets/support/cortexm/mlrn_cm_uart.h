/* mlrn_cm_uart.h: polled UART0 of the machines qemu emulates for the Cortex-M boards.
 *
 * The emulated board's serial port: what the Arduino shim's Serial drives, and what qemu connects
 * to a host pseudo-terminal for the serial bridge. Polled, no interrupts: a byte that arrives while
 * the program is busy waits in the peripheral (one byte on these models), exactly as a sketch that
 * does not call Serial.read() loses bytes on a real board; the serial protocol retries.
 *
 * Select the machine with one define (targets/cortexm.py passes it from the board's `machine`):
 *   MLRN_CM_MACHINE_MPS2    mps2-an385 / mps2-an386: ARM CMSDK APB UART0 at 0x40004000
 *   MLRN_CM_MACHINE_NRF51   microbit: nRF51 UART at 0x40002000 (qemu's nrf51_uart model)
 * Register layouts: ARM DDI0479 (CMSDK APB UART) and the nRF51 Series Reference Manual (UART). */
#ifndef MLRN_CM_UART_H
#define MLRN_CM_UART_H
#include <stdint.h>

#define MLRN_CM_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#if defined(MLRN_CM_MACHINE_MPS2)
#define MLRN_CMSDK_UART0 0x40004000u
#define MLRN_CMSDK_DATA (MLRN_CMSDK_UART0 + 0x000u)
#define MLRN_CMSDK_STATE (MLRN_CMSDK_UART0 + 0x004u)  /* bit 0: TX buffer full, bit 1: RX buffer full */
#define MLRN_CMSDK_CTRL (MLRN_CMSDK_UART0 + 0x008u)   /* bit 0: TX enable, bit 1: RX enable */
#define MLRN_CMSDK_BAUDDIV (MLRN_CMSDK_UART0 + 0x010u)
#define MLRN_CMSDK_STATE_TX_FULL 0x1u
#define MLRN_CMSDK_STATE_RX_FULL 0x2u
#define MLRN_CMSDK_CTRL_TX_RX 0x3u
#define MLRN_CMSDK_CLOCK_HZ 25000000u /* the MPS2 FPGA's peripheral clock */
#define MLRN_CMSDK_MIN_BAUDDIV 16u    /* the peripheral's smallest legal divider */

static inline void mlrn_cm_uart_init(uint32_t baud) {
    uint32_t div = baud ? MLRN_CMSDK_CLOCK_HZ / baud : MLRN_CMSDK_MIN_BAUDDIV;
    MLRN_CM_REG(MLRN_CMSDK_BAUDDIV) = div < MLRN_CMSDK_MIN_BAUDDIV ? MLRN_CMSDK_MIN_BAUDDIV : div;
    MLRN_CM_REG(MLRN_CMSDK_CTRL) = MLRN_CMSDK_CTRL_TX_RX;
}
static inline void mlrn_cm_uart_put(uint8_t b) {
    while (MLRN_CM_REG(MLRN_CMSDK_STATE) & MLRN_CMSDK_STATE_TX_FULL) {
    }
    MLRN_CM_REG(MLRN_CMSDK_DATA) = b;
}
/* The next received byte, or -1 when none is waiting. */
static inline int mlrn_cm_uart_get(void) {
    if (!(MLRN_CM_REG(MLRN_CMSDK_STATE) & MLRN_CMSDK_STATE_RX_FULL)) return -1;
    return (int)(MLRN_CM_REG(MLRN_CMSDK_DATA) & 0xFFu);
}

#elif defined(MLRN_CM_MACHINE_NRF51)
#define MLRN_NRF_UART0 0x40002000u
#define MLRN_NRF_STARTRX (MLRN_NRF_UART0 + 0x000u)
#define MLRN_NRF_STARTTX (MLRN_NRF_UART0 + 0x008u)
#define MLRN_NRF_RXDRDY (MLRN_NRF_UART0 + 0x108u)
#define MLRN_NRF_TXDRDY (MLRN_NRF_UART0 + 0x11Cu)
#define MLRN_NRF_ENABLE (MLRN_NRF_UART0 + 0x500u)
#define MLRN_NRF_RXD (MLRN_NRF_UART0 + 0x518u)
#define MLRN_NRF_TXD (MLRN_NRF_UART0 + 0x51Cu)
#define MLRN_NRF_BAUDRATE (MLRN_NRF_UART0 + 0x524u)
#define MLRN_NRF_ENABLE_UART 4u
#define MLRN_NRF_BAUD_115200 0x01D7E000u /* the reference manual's BAUDRATE value for 115200 */

static inline void mlrn_cm_uart_init(uint32_t baud) {
    (void)baud; /* qemu ignores the rate; a real nRF51 would need the table value per rate */
    MLRN_CM_REG(MLRN_NRF_BAUDRATE) = MLRN_NRF_BAUD_115200;
    MLRN_CM_REG(MLRN_NRF_ENABLE) = MLRN_NRF_ENABLE_UART;
    MLRN_CM_REG(MLRN_NRF_STARTTX) = 1u;
    MLRN_CM_REG(MLRN_NRF_STARTRX) = 1u;
}
static inline void mlrn_cm_uart_put(uint8_t b) {
    MLRN_CM_REG(MLRN_NRF_TXDRDY) = 0u;
    MLRN_CM_REG(MLRN_NRF_TXD) = b;
    while (!MLRN_CM_REG(MLRN_NRF_TXDRDY)) {
    }
}
static inline int mlrn_cm_uart_get(void) {
    if (!MLRN_CM_REG(MLRN_NRF_RXDRDY)) return -1;
    MLRN_CM_REG(MLRN_NRF_RXDRDY) = 0u;
    return (int)(MLRN_CM_REG(MLRN_NRF_RXD) & 0xFFu);
}

#else
#error "mlrn_cm_uart.h: define MLRN_CM_MACHINE_MPS2 or MLRN_CM_MACHINE_NRF51"
#endif

#endif
