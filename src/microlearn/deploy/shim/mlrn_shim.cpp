/* mlrn_shim.cpp: the implementation of microlearn's Arduino shim (Arduino.h, EEPROM.h): main(), time on
 * SysTick, Serial on the emulated machine's UART0 (support/cortexm/mlrn_cm_uart.h) and the EEPROM image
 * kept in a file of the run's directory through ARM semihosting. See Arduino.h for what it is not. */
#include "Arduino.h"
#include "EEPROM.h"
#include "mlrn_cm_uart.h"
#include "mlrn_target.h"

/* ------------------------------------------------------------------------------------------ time */

/* SysTick runs on the emulated machine's processor clock (qemu: the MPS2 FPGA's 25 MHz, the nRF51's
 * 16 MHz HCLK), which is not the real board's clock: millis() counts that clock's ticks. */
#if defined(MLRN_CM_MACHINE_MPS2)
#define MLRN_SHIM_TICK_HZ 25000000u
#elif defined(MLRN_CM_MACHINE_NRF51)
#define MLRN_SHIM_TICK_HZ 16000000u
#else
#error "mlrn_shim.cpp: define MLRN_CM_MACHINE_MPS2 or MLRN_CM_MACHINE_NRF51 (targets.cortexm.uart_defines)"
#endif
#define MLRN_SHIM_TICKS_PER_MS (MLRN_SHIM_TICK_HZ / 1000u)
#define MLRN_SHIM_TICKS_PER_US (MLRN_SHIM_TICK_HZ / 1000000u)

#define SYST_CSR (*(volatile uint32_t *)(uintptr_t)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)(uintptr_t)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)(uintptr_t)0xE000E018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_CLKSOURCE_CPU 0x4u /* no TICKINT: polled, the start-up's vector table has no SysTick handler */
#define SYST_MAX 0x00FFFFFFu        /* a 24-bit down counter */

static uint32_t systick_last;
static uint64_t systick_ticks; /* ticks since start-up: 64 bits never wrap */

static void time_init(void) {
    SYST_RVR = SYST_MAX;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE_CPU;
    systick_last = SYST_CVR & SYST_MAX;
}

/* Add the ticks since the last call (the counter counts down and wraps at 2^24). */
static uint64_t ticks_now(void) {
    uint32_t now = SYST_CVR & SYST_MAX;
    systick_ticks += (systick_last - now) & SYST_MAX;
    systick_last = now;
    return systick_ticks;
}

unsigned long millis(void) { return (unsigned long)(ticks_now() / MLRN_SHIM_TICKS_PER_MS); }
unsigned long micros(void) { return (unsigned long)(ticks_now() / MLRN_SHIM_TICKS_PER_US); }

void delay(unsigned long ms) {
    uint64_t end = ticks_now() + (uint64_t)ms * MLRN_SHIM_TICKS_PER_MS;
    while (ticks_now() < end) {
    }
}

void delayMicroseconds(unsigned int us) {
    uint64_t end = ticks_now() + (uint64_t)us * MLRN_SHIM_TICKS_PER_US;
    while (ticks_now() < end) {
    }
}

/* ------------------------------------------------------------------------------------------ Print */

size_t Print::write(uint8_t b) {
    (void)b;
    return 0;
}

size_t Print::write(const uint8_t *buffer, size_t size) {
    size_t n = 0;
    if (buffer == NULL) return 0;
    while (size--) {
        if (write(*buffer++)) n++;
        else break;
    }
    return n;
}

size_t Print::print(const __FlashStringHelper *s) {
    const char *p = reinterpret_cast<const char *>(s);
    size_t n = 0;
    if (p == NULL) return 0;
    while (*p) {
        if (write((uint8_t)*p++)) n++;
        else break;
    }
    return n;
}

size_t Print::print(long n, int base) {
    if (base == 0) return write((uint8_t)n);
    if (base == 10 && n < 0) {
        size_t t = print('-');
        /* -n computed unsigned: LONG_MIN has no positive long */
        return print_number(0ul - (unsigned long)n, 10) + t;
    }
    return print_number((unsigned long)n, (uint8_t)base);
}

size_t Print::print(unsigned long n, int base) {
    if (base == 0) return write((uint8_t)n);
    return print_number(n, (uint8_t)base);
}

/* double is float on the AVR: printing through float gives the Uno's text for the same value. */
size_t Print::print(double n, int digits) { return print_float((float)n, (uint8_t)digits); }

#define MLRN_SHIM_NUMBER_CHARS (8u * sizeof(long) + 1u) /* base 2 digits of a long, and the '\0' */
#define MLRN_SHIM_DIGIT_LIMIT 10u                        /* digits 0-9, then letters A-Z */

size_t Print::print_number(unsigned long n, uint8_t base) {
    char buf[MLRN_SHIM_NUMBER_CHARS];
    char *str = &buf[sizeof buf - 1u];
    *str = '\0';
    if (base < 2u) base = 10u; /* base 1 would never end (the AVR core does the same) */
    do {
        unsigned long c = n % base;
        n /= base;
        *--str = (char)(c < MLRN_SHIM_DIGIT_LIMIT ? c + '0' : c + 'A' - MLRN_SHIM_DIGIT_LIMIT);
    } while (n);
    return write(str);
}

/* Print::printFloat of the AVR core: the largest magnitude an unsigned long part can hold (found
 * empirically by its authors), rounding by 0.5 / 10^digits, the integer part, then each digit by *10. */
#define MLRN_SHIM_FLOAT_MAX 4294967040.0f

size_t Print::print_float(float number, uint8_t digits) {
    size_t n = 0;
    if (isnan(number)) return print("nan");
    if (isinf(number)) return print("inf");
    if (number > MLRN_SHIM_FLOAT_MAX || number < -MLRN_SHIM_FLOAT_MAX) return print("ovf");
    if (number < 0.0f) {
        n += print('-');
        number = -number;
    }
    float rounding = 0.5f;
    for (uint8_t i = 0; i < digits; ++i) rounding /= 10.0f;
    number += rounding;
    unsigned long int_part = (unsigned long)number;
    float remainder = number - (float)int_part;
    n += print(int_part);
    if (digits > 0) n += print('.');
    while (digits-- > 0) {
        remainder *= 10.0f;
        unsigned int to_print = (unsigned int)remainder;
        n += print(to_print);
        remainder -= (float)to_print;
    }
    return n;
}

/* ----------------------------------------------------------------------------------------- Serial */

MlrnShimSerial Serial;

void MlrnShimSerial::begin(unsigned long baud) {
    mlrn_cm_uart_init((uint32_t)baud);
    head_ = tail_ = 0u;
    open_ = true;
}

void MlrnShimSerial::end(void) { open_ = false; }

void MlrnShimSerial::poll_rx(void) {
    (void)ticks_now(); /* every Serial call keeps the SysTick count up to date */
    if (!open_) return;
    for (;;) {
        uint16_t next = (uint16_t)((head_ + 1u) % MLRN_SHIM_SERIAL_RX);
        if (next == tail_) return; /* full: the byte waits in the UART (and the next is lost there) */
        int c = mlrn_cm_uart_get();
        if (c < 0) return;
        ring_[head_] = (uint8_t)c;
        head_ = next;
    }
}

int MlrnShimSerial::available(void) {
    poll_rx();
    return (int)((MLRN_SHIM_SERIAL_RX + head_ - tail_) % MLRN_SHIM_SERIAL_RX);
}

int MlrnShimSerial::peek(void) {
    poll_rx();
    return head_ == tail_ ? -1 : ring_[tail_];
}

int MlrnShimSerial::read(void) {
    poll_rx();
    if (head_ == tail_) return -1;
    uint8_t c = ring_[tail_];
    tail_ = (uint16_t)((tail_ + 1u) % MLRN_SHIM_SERIAL_RX);
    return c;
}

/* mlrn_cm_uart_put waits until the UART took the byte: nothing is left to drain. */
void MlrnShimSerial::flush(void) { poll_rx(); }

size_t MlrnShimSerial::write(uint8_t b) {
    if (!open_) return 0; /* as on a board: nothing comes out before begin() */
    poll_rx();
    mlrn_cm_uart_put(b);
    return 1;
}

/* ------------------------------------------------------------------------------ EEPROM, semihosting */

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_SEEK = 0x0A, SYS_FLEN = 0x0C };
enum { OPEN_READ_WRITE_BINARY = 3, OPEN_CREATE_READ_WRITE_BINARY = 7 }; /* fopen's "r+b" and "w+b" */
#define MLRN_SHIM_EEPROM_FILE "mlrn_eeprom.bin"                        /* in the run's directory */
#define MLRN_SHIM_EEPROM_ERASED 0xFFu

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int sh_open(const char *name, int mode) {
    uint32_t args[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return semihost(SYS_OPEN, args);
}

static int sh_io(int op, int fd, const void *buf, uint32_t len) {
    uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    return semihost(op, args); /* SYS_READ / SYS_WRITE: the number of bytes NOT transferred */
}

MlrnShimEEPROM EEPROM;
static uint8_t eeprom_image[MLRN_SHIM_EEPROM_BYTES];
static bool eeprom_loaded;
static int eeprom_fd = -1; /* the file, open once the sketch has written (or found it) */

/* The image at the first access: the file of an earlier run, else erased. */
static void eeprom_load(void) {
    if (eeprom_loaded) return;
    eeprom_loaded = true;
    memset(eeprom_image, MLRN_SHIM_EEPROM_ERASED, sizeof eeprom_image);
    eeprom_fd = sh_open(MLRN_SHIM_EEPROM_FILE, OPEN_READ_WRITE_BINARY);
    if (eeprom_fd < 0) return;
    uint32_t flen_args[1] = {(uint32_t)eeprom_fd};
    int len = semihost(SYS_FLEN, flen_args);
    uint32_t n = len < 0 ? 0u : (uint32_t)len < sizeof eeprom_image ? (uint32_t)len : (uint32_t)sizeof eeprom_image;
    if (n > 0u) {
        int missed = sh_io(SYS_READ, eeprom_fd, eeprom_image, n);
        /* a short file keeps erased bytes past its end */
        if (missed > 0 && (uint32_t)missed <= n) memset(eeprom_image + (n - (uint32_t)missed), MLRN_SHIM_EEPROM_ERASED, (size_t)missed);
    }
}

extern "C" uint8_t mlrn_shim_eeprom_read(int idx) {
    if (idx < 0 || idx >= MLRN_SHIM_EEPROM_BYTES) return MLRN_SHIM_EEPROM_ERASED;
    eeprom_load();
    return eeprom_image[idx];
}

extern "C" void mlrn_shim_eeprom_update(int idx, uint8_t value) {
    if (idx < 0 || idx >= MLRN_SHIM_EEPROM_BYTES) return;
    eeprom_load();
    if (eeprom_image[idx] == value) return;
    eeprom_image[idx] = value;
    if (eeprom_fd < 0) { /* first write of a run with no file: the whole image, then byte by byte */
        eeprom_fd = sh_open(MLRN_SHIM_EEPROM_FILE, OPEN_CREATE_READ_WRITE_BINARY);
        if (eeprom_fd >= 0) (void)sh_io(SYS_WRITE, eeprom_fd, eeprom_image, sizeof eeprom_image);
        return;
    }
    uint32_t seek_args[2] = {(uint32_t)eeprom_fd, (uint32_t)idx};
    if (semihost(SYS_SEEK, seek_args) == 0) (void)sh_io(SYS_WRITE, eeprom_fd, &eeprom_image[idx], 1u);
}

/* -------------------------------------------------------------------------------------- the run */

extern "C" void mlrn_shim_end(void) {
    Serial.flush();
    if (eeprom_fd >= 0) {
        uint32_t close_args[1] = {(uint32_t)eeprom_fd};
        (void)semihost(SYS_CLOSE, close_args);
        eeprom_fd = -1;
    }
    mlrn_target_exit(0); /* flushes the semihosting output, reports the stack, ends qemu */
}

/* What the Arduino cores' main.cpp does, minus the hardware set-up a shim has none of. */
int main(void) {
    time_init();
    setup();
    for (;;) loop();
}
