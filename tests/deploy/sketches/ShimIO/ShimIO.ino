/* ShimIO: what the Arduino shim adds to a Cortex-M run, exercised: time (millis/micros around
 * delay/delayMicroseconds), the EEPROM (a boot counter that survives a run, put/get, out-of-range
 * addresses) and Serial input (each line received is sent back upper-cased until a line "."). */
#include <EEPROM.h>
#include <microlearn.h>

#define DELAY_MS 250u
#define DELAY_US 20000u
#define BOOTS_ADDR 0 /* one byte: runs so far */
#define VALUE_ADDR 8 /* a float and a struct, put and got back */
#define LINE_MAX 80

struct Record {
  uint16_t id;
  int8_t level;
  float gain;
};

static char line[LINE_MAX + 1];
static uint8_t line_len;

void setup() {
  Serial.begin(115200);
  Serial.println(F("ShimIO"));
  unsigned long m0 = millis();
  delay(DELAY_MS);
  unsigned long m1 = millis();
  Serial.print(F("delay "));
  Serial.println(m1 - m0);
  unsigned long u0 = micros();
  delayMicroseconds(DELAY_US);
  unsigned long u1 = micros();
  Serial.print(F("delayMicroseconds "));
  Serial.println(u1 - u0);

  Serial.print(F("eeprom length "));
  Serial.println(EEPROM.length());
  uint8_t boots = EEPROM.read(BOOTS_ADDR);
  Serial.print(F("boots before "));
  Serial.println(boots);
  EEPROM.write(BOOTS_ADDR, (uint8_t)(boots + 1u));
  Record r = {1234u, -7, 0.25f};
  float f = 3.5f;
  EEPROM.put(VALUE_ADDR, f);
  EEPROM.put(VALUE_ADDR + (int)sizeof f, r);
  Record back = {0u, 0, 0.0f};
  float fb = 0.0f;
  EEPROM.get(VALUE_ADDR, fb);
  EEPROM.get(VALUE_ADDR + (int)sizeof f, back);
  Serial.print(F("got "));
  Serial.print(fb, 2);
  Serial.print(' ');
  Serial.print(back.id);
  Serial.print(' ');
  Serial.print(back.level);
  Serial.print(' ');
  Serial.println(back.gain, 3);
  EEPROM[2] = 0x5A;
  Serial.print(F("cell 2 "));
  Serial.println((uint8_t)EEPROM[2], HEX);
  /* outside the EEPROM: reads give 0xFF, writes are ignored, nothing crashes */
  EEPROM.write(-5, 1);
  EEPROM.write(EEPROM.length(), 1);
  uint32_t past = 0x11223344u;
  EEPROM.put(EEPROM.length() - 2, past); /* the first 2 bytes land, the rest is outside */
  uint32_t past_back = 0u;
  EEPROM.get(EEPROM.length() - 2, past_back);
  Serial.print(F("outside "));
  Serial.print(EEPROM.read(-1));
  Serial.print(' ');
  Serial.print(EEPROM.read(32767));
  Serial.print(' ');
  Serial.println(past_back, HEX);
  Serial.println(F("ready"));
}

static void upper_line(void) {
  for (uint8_t i = 0; i < line_len; i++) {
    char c = line[i];
    line[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
}

void loop() {
  while (Serial.available() > 0) {
    int p = Serial.peek();
    int c = Serial.read();
    if (p != c) Serial.println(F("peek differs from read"));
    if (c == '\n') {
      line[line_len] = '\0';
      if (line_len == 1 && line[0] == '.') {
        Serial.println(F("DONE"));
        Serial.flush();
        mlrn_sketch_end();
      }
      upper_line();
      Serial.print(F("echo "));
      Serial.println(line);
      line_len = 0;
    } else if (line_len < LINE_MAX) {
      line[line_len++] = (char)c;
    }
  }
}
