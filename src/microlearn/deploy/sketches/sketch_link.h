/* sketch_link.h: a generated sketch's end of microlearn's serial protocol (docs/serial-protocol.md).
 *
 * Written by `microlearn sketch`, the same for every kind of sketch. The sketch defines, before it
 * includes this file, SKETCH_KIND (MLRN_LINK_KIND_*), SKETCH_N_FEATURES, SKETCH_N_CLASSES,
 * SKETCH_CAPACITY and SKETCH_REPLY_BYTES (its largest reply payload), and later the function
 *     static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply);
 * which executes one request (its payload length is already checked by mlrn_link.h) and writes the
 * reply payload, status first; it returns the reply's length. HELLO is answered here.
 *
 * Call sketch_link_begin() in setup() after Serial.begin(), and sketch_link_poll() from loop(), as
 * often as you can: the Arduino cores keep 64 received bytes (the shim of the Cortex-M builds as
 * many); a request arriving while the sketch is busy waits there, and a lost one is sent again by
 * the host (the protocol retries; a repeat is answered from a cache, never executed twice). */
#ifndef SKETCH_LINK_H
#define SKETCH_LINK_H

#include "mlrn_link.h"

#if SKETCH_REPLY_BYTES < MLRN_LINK_HELLO_REPLY_BYTES
#undef SKETCH_REPLY_BYTES
#define SKETCH_REPLY_BYTES MLRN_LINK_HELLO_REPLY_BYTES
#endif

static mlrn_link sketch_link;
static uint8_t sketch_link_rx[MLRN_LINK_RX_BYTES(SKETCH_N_FEATURES)];
static uint8_t sketch_link_tx[MLRN_LINK_TX_BYTES(SKETCH_REPLY_BYTES)];

static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply);

static void sketch_link_begin(void) {
  mlrn_link_init(&sketch_link, SKETCH_N_FEATURES, sketch_link_rx, sizeof sketch_link_rx, sketch_link_tx,
                 sizeof sketch_link_tx);
}

/* HELLO's reply: what this sketch is, so the host can check the shapes it sends. */
static uint8_t sketch_hello(uint8_t *reply) {
  reply[0] = (uint8_t)MLRN_OK;
  reply[1] = MLRN_LINK_VERSION;
  reply[2] = SKETCH_KIND;
  mlrn_link_put_u16(reply + 3, SKETCH_N_FEATURES);
  reply[5] = SKETCH_N_CLASSES;
  mlrn_link_put_u16(reply + 6, SKETCH_CAPACITY);
  reply[8] = mlrn_link_max_request(&sketch_link);
  reply[9] = SKETCH_VERSION_MAJOR;
  reply[10] = SKETCH_VERSION_MINOR;
  reply[11] = SKETCH_VERSION_PATCH;
  return MLRN_LINK_HELLO_REPLY_BYTES;
}

static void sketch_link_poll(void) {
  while (Serial.available() > 0) {
    int8_t r = mlrn_link_feed(&sketch_link, (uint8_t)Serial.read(), (uint32_t)millis());
    if (r == MLRN_LINK_REQUEST) {
      uint8_t *reply = mlrn_link_reply_payload(&sketch_link);
      uint8_t n = sketch_link.type == MLRN_LINK_HELLO ? sketch_hello(reply)
                                                       : sketch_request(sketch_link.type, sketch_link.rx, reply);
      mlrn_link_reply(&sketch_link, reply, n);
    } else if (r == MLRN_LINK_NONE) {
      continue;
    }
    Serial.write(sketch_link.out, sketch_link.out_len); /* the reply, a cached one again, or a NAK */
  }
}

/* A status-only reply (a request this kind of sketch does not serve, or one that failed). */
static inline uint8_t sketch_status(uint8_t *reply, mlrn_status st) {
  reply[0] = (uint8_t)st;
  return 1;
}

/* A MODEL reply: the model's size in bytes (`total`), then its bytes from the requested offset, as many as
 * the reply holds, each read by `byte_at` (the sketch's model is in RAM in its own layout: no copy). */
typedef uint8_t (*sketch_model_byte)(uint32_t at);
static inline uint8_t sketch_model_reply(const uint8_t *req, uint8_t *reply, uint32_t total, sketch_model_byte byte_at) {
  uint16_t offset = mlrn_link_get_u16(req);
  uint8_t room = (uint8_t)(SKETCH_REPLY_BYTES - MLRN_LINK_MODEL_REPLY_HEADER_BYTES), n = 0;
  if (total > 0xFFFFu) return sketch_status(reply, MLRN_ERR_BUFFER);
  reply[0] = (uint8_t)MLRN_OK;
  mlrn_link_put_u16(reply + 1, (uint16_t)total);
  while (n < room && (uint32_t)offset + n < total) {
    reply[MLRN_LINK_MODEL_REPLY_HEADER_BYTES + n] = byte_at((uint32_t)offset + n);
    n++;
  }
  return (uint8_t)(MLRN_LINK_MODEL_REPLY_HEADER_BYTES + n);
}

#endif
