/* PrintFormat: Print's number formatting, for comparing the Arduino shim with the Arduino AVR core
 * (tests/deploy/test_shim.py builds it for both and wants the same text). One value per line:
 * floats with 0..MAX_DIGITS digits, then integers in every base. */
#include <microlearn.h>

#define MAX_DIGITS 7

/* The tests read this table (tests/deploy/test_shim.py): keep one value per entry. */
static const float floats[] = {
  0.0f, 1.999f, -1.999f, 0.5f, -0.5f, 3.14159265f, 0.000001f, 123456.789f, 4294967040.0f, 4294967295.0f,
  -4294967296.0f, 10000000000.0f, 0.005f, 0.015f, 2.675f, 0.333333343f, -0.0001f, 99.995f, 1e-40f, 16777217.0f,
  NAN, INFINITY, -INFINITY,
};
#define N_FLOATS (sizeof floats / sizeof floats[0])

static const long longs[] = {0L, 1L, -1L, 255L, -255L, 32767L, -32768L, 65535L, 2147483647L, -2147483647L - 1L};
#define N_LONGS (sizeof longs / sizeof longs[0])
static const int bases[] = {DEC, HEX, OCT, BIN};

void setup() {
  Serial.begin(115200);
  Serial.println(F("PrintFormat"));
  for (uint8_t i = 0; i < N_FLOATS; i++) {
    Serial.print(F("f "));
    Serial.print(i);
    Serial.print(':');
    Serial.print(' ');
    Serial.print(floats[i]); /* the default: 2 digits */
    for (uint8_t d = 0; d <= MAX_DIGITS; d++) {
      Serial.print(' ');
      Serial.print(floats[i], d);
    }
    Serial.println();
  }
  for (uint8_t i = 0; i < N_LONGS; i++) {
    Serial.print(F("l "));
    Serial.print(i);
    Serial.print(':');
    for (uint8_t k = 0; k < sizeof bases / sizeof bases[0]; k++) {
      Serial.print(' ');
      Serial.print(longs[i], bases[k]);
      Serial.print(' ');
      Serial.print((unsigned long)longs[i], bases[k]);
    }
    Serial.println();
  }
  Serial.print((unsigned char)200);
  Serial.print(' ');
  Serial.print((unsigned char)200, HEX);
  Serial.print(' ');
  Serial.print('x');
  Serial.print(' ');
  Serial.print(-12345);
  Serial.print(' ');
  Serial.print(54321u);
  Serial.print(' ');
  Serial.print(65L, 0); /* base 0: the byte itself */
  Serial.print(' ');
  Serial.println(2.5, 3); /* a double constant (32 bits on AVR) */
  Serial.println(F("DONE"));
  Serial.flush();
  mlrn_sketch_end();
}

void loop() {
}
