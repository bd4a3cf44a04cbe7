/* Arduino.h of microlearn's Arduino shim: the part of the Arduino API that the microlearn library's
 * examples and microlearn's generated sketches use, for running those very sketches on the emulated
 * Cortex-M boards (qemu's mps2-an386 for nrf52840 and bluepill, microbit for samd21 and rp2040).
 *
 * This is NOT an Arduino core. It has: byte/boolean, F() and PROGMEM/pgm_read_* (plain reads: flash is
 * in the address space on Cortex-M), millis()/micros()/delay()/delayMicroseconds() on SysTick, and a
 * Serial object (a Print) on the emulated machine's UART0 with a 64-byte software receive ring. The
 * EEPROM library is EEPROM.h next to this file. There are no pins (pinMode, digitalWrite, analogRead),
 * no interrupts, no String, no Wire/SPI, no min/max macros: a sketch that uses them does not build.
 * It exists to run sketches under qemu (it talks to the host through ARM semihosting, which stops a
 * real board without a debugger): on a real board, build with the board's own Arduino core.
 *
 * Serial prints exactly what the Arduino AVR core's Print prints (same number and float algorithms,
 * "\r\n" line ends); floats are printed in single precision because double IS float on AVR, so one
 * sketch prints the same text on an Uno and here.
 *
 * Time: SysTick counts the emulated machine's clock, which qemu (run without -icount) ties to the HOST's
 * clock: millis() is fine for reporting, it is not a measurement of the board (instruction counts come
 * from the target's plugin). SysTick is polled, not interrupt-driven (the targets' start-up owns the
 * vector table): every call of millis(), micros(), delay() and of Serial notices the time passed, and a
 * stretch of more than 0.67 s (mps2) / 1 s (microbit) of host time with no such call loses whole SysTick
 * periods. */
#ifndef MLRN_SHIM_ARDUINO_H
#define MLRN_SHIM_ARDUINO_H

#define MLRN_ARDUINO_SHIM 1

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t byte;
typedef bool boolean;

/* Flash is ordinary memory on Cortex-M: PROGMEM places nothing and pgm_read_* are plain reads. */
#define PROGMEM
#define PGM_P const char *
#define PSTR(s) (s)
#define pgm_read_byte(p) (*(const uint8_t *)(p))
#define pgm_read_word(p) (*(const uint16_t *)(p))
#define pgm_read_dword(p) (*(const uint32_t *)(p))
#define pgm_read_float(p) (*(const float *)(p))
#define pgm_read_ptr(p) (*(const void *const *)(p))

/* F("text"): a string Print knows to read from flash (here: any memory). */
class __FlashStringHelper;
#define F(string_literal) (reinterpret_cast<const __FlashStringHelper *>(string_literal))

#define DEC 10
#define HEX 16
#define OCT 8
#define BIN 2

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);
void delayMicroseconds(unsigned int us);

/* The Arduino AVR core's Print: the same overloads (an int32_t is a long on both), the same text. */
class Print {
public:
    virtual size_t write(uint8_t b);
    virtual size_t write(const uint8_t *buffer, size_t size);
    size_t write(const char *str) { return str == NULL ? 0 : write((const uint8_t *)str, strlen(str)); }
    size_t write(const char *buffer, size_t size) { return write((const uint8_t *)buffer, size); }
    virtual void flush() {}

    size_t print(const __FlashStringHelper *s);
    size_t print(const char s[]) { return write(s); }
    size_t print(char c) { return write((uint8_t)c); }
    size_t print(unsigned char b, int base = DEC) { return print((unsigned long)b, base); }
    size_t print(int n, int base = DEC) { return print((long)n, base); }
    size_t print(unsigned int n, int base = DEC) { return print((unsigned long)n, base); }
    size_t print(long n, int base = DEC);
    size_t print(unsigned long n, int base = DEC);
    size_t print(double n, int digits = 2);
    size_t print(float n, int digits = 2) { return print_float(n, (uint8_t)digits); }

    size_t println(void) { return write("\r\n"); }
    size_t println(const __FlashStringHelper *s) { return print(s) + println(); }
    size_t println(const char s[]) { return print(s) + println(); }
    size_t println(char c) { return print(c) + println(); }
    size_t println(unsigned char b, int base = DEC) { return print(b, base) + println(); }
    size_t println(int n, int base = DEC) { return print(n, base) + println(); }
    size_t println(unsigned int n, int base = DEC) { return print(n, base) + println(); }
    size_t println(long n, int base = DEC) { return print(n, base) + println(); }
    size_t println(unsigned long n, int base = DEC) { return print(n, base) + println(); }
    size_t println(double n, int digits = 2) { return print(n, digits) + println(); }
    size_t println(float n, int digits = 2) { return print(n, digits) + println(); }

protected:
    /* Print::printNumber and Print::printFloat of the AVR core (Print.cpp), in float arithmetic. */
    size_t print_number(unsigned long n, uint8_t base);
    size_t print_float(float number, uint8_t digits);
};

/* Serial: UART0 of the emulated machine, polled. The UART models hold one received byte, so a software
 * ring of MLRN_SHIM_SERIAL_RX bytes (Arduino's SERIAL_RX_BUFFER_SIZE on AVR) takes what has arrived
 * whenever the sketch calls available(), read(), peek() or writes; bytes beyond a full ring are lost,
 * as on a board. */
#ifndef MLRN_SHIM_SERIAL_RX
#define MLRN_SHIM_SERIAL_RX 64
#endif

class MlrnShimSerial : public Print {
public:
    void begin(unsigned long baud);
    void begin(unsigned long baud, uint8_t config) { (void)config; begin(baud); }
    void end(void);
    int available(void);
    int read(void);
    int peek(void);
    int availableForWrite(void) { return 1; }
    void flush(void);
    size_t write(uint8_t b);
    size_t write(const uint8_t *buffer, size_t size) { return Print::write(buffer, size); }
    using Print::write;
    operator bool() const { return true; }

private:
    void poll_rx(void);
    uint8_t ring_[MLRN_SHIM_SERIAL_RX];
    uint16_t head_, tail_; /* head_: next free slot, tail_: next byte to read; equal when empty */
    bool open_;
};

extern MlrnShimSerial Serial;

/* The sketch's two functions (the shim's main() calls setup() once, then loop() forever). */
void setup(void);
void loop(void);

/* End the emulated run: Serial is flushed, the EEPROM file closed and qemu exits with status 0 (through
 * semihosting, which also reports the stack's high-water mark). microlearn.h's mlrn_sketch_end() calls it. */
extern "C" void mlrn_shim_end(void) __attribute__((noreturn));

#endif /* MLRN_SHIM_ARDUINO_H */
