/* A sketch written by `microlearn sketch loop`: the self-learning loop on this board. It predicts from
 * each reading, learns from the feedback it is given, retrains in time slices when it keeps being
 * wrong, validates a new model on held-out samples before it replaces the old one (else rollback),
 * and saves each accepted model to the EEPROM (two copies with a CRC: a power cut during a save
 * keeps the previous one), so the model survives a power cycle.
 *
 * >>> Fill in read_sensor(), act_on() and feedback() below with your hardware. <<<
 * Until you do, the board learns from the FEEDBACK frames of microlearn's serial protocol
 * (docs/serial-protocol.md): `microlearn serial --port PORT --feedback rows.csv` streams labelled
 * rows and reads back, per row, the prediction made before learning from it.
 *
 * lrn.h (the learner: static buffers, parameters, and the model trained in Python it starts from,
 * if any) is generated; sketch_config.h says from what. The Python reference
 * (microlearn.learner.simulate.run_reference with the same LearnerConfig) makes the same
 * decisions, row by row, bit for bit. Functions are defined before use. */
#include "sketch_config.h"
#include <microlearn.h>
#include "lrn.h"
#if SKETCH_PERSIST
#include <EEPROM.h>
#endif
#include "sketch_link.h"

/* ============================ fill these in with your hardware ============================ */
/* A reading of the SKETCH_N_FEATURES features (scaled as the data the model was trained on);
 * false when there is none now. */
static bool read_sensor(float *x) {
  (void)x;
  return false;
}

/* Act on a prediction (a class index; negative: no model yet). */
static void act_on(int32_t predicted) {
  (void)predicted;
}

/* The true class of the reading just predicted (a button, a user's answer...), or -1 when nobody
 * gave one: then the board does not learn from this reading. */
static int16_t feedback(const float *x, int32_t predicted) {
  (void)x;
  (void)predicted;
  return -1;
}
/* ========================================================================================= */

#if SKETCH_PERSIST
/* mlrn_persist's storage callbacks over Arduino's EEPROM library: the same code on every core that
 * has one (AVR; on ARM cores an EEPROM emulation in flash, e.g. FlashStorage on SAMD). */
static mlrn_status eeprom_read(void *ctx, uint32_t addr, uint8_t *buf, uint16_t len) {
  (void)ctx;
  if (addr + len > SKETCH_PERSIST_BASE + SKETCH_PERSIST_BYTES) return MLRN_ERR_ARG;
  for (uint16_t i = 0; i < len; i++) buf[i] = EEPROM.read((int)(SKETCH_PERSIST_BASE + addr + i));
  return MLRN_OK;
}
static mlrn_status eeprom_write(void *ctx, uint32_t addr, const uint8_t *buf, uint16_t len) {
  (void)ctx;
  if (addr + len > SKETCH_PERSIST_BASE + SKETCH_PERSIST_BYTES) return MLRN_ERR_ARG;
  for (uint16_t i = 0; i < len; i++) EEPROM.update((int)(SKETCH_PERSIST_BASE + addr + i), buf[i]);
  return MLRN_OK;
}
static mlrn_storage storage;
#endif

static uint16_t stored(void) { return (uint16_t)(lrn.train.n + lrn.hold.n); }

/* One labelled reading, as the Python reference does it: predict, learn, a slice of (re)training. */
static int32_t learn_from(const float *x, uint8_t label) {
  int32_t predicted = mlrn_learner_predict(&lrn, x);
  mlrn_learner_feedback(&lrn, x, label);
  mlrn_learner_step(&lrn, LRN_BUDGET);
#if SKETCH_PERSIST
  if (lrn.event == MLRN_LEARNER_EV_ACCEPTED) mlrn_learner_save(&lrn, &storage);
#endif
  return predicted;
}

/* The model, as MODEL sends it: u8 classes in it (0: none yet), their class indices, then
 * f32 w[sub * features] and f32 b[sub] (sub = one per pair of classes, 1 for two). */
static uint32_t model_bytes(void) {
  uint32_t n_sub = lrn.has_model ? mlrn_smo_n_sub(lrn.n_cur, MLRN_SMO_OVO) : 0u;
  return 1u + (lrn.has_model ? lrn.n_cur : 0u) + 4u * n_sub * (SKETCH_N_FEATURES + 1u);
}

static uint8_t model_byte(uint32_t at) {
  uint8_t m = lrn.has_model ? lrn.n_cur : 0u, word[4];
  uint32_t n_sub = m ? mlrn_smo_n_sub(m, MLRN_SMO_OVO) : 0u, i;
  if (at == 0) return m;
  if (at < 1u + m) return lrn.cur_map[at - 1u];
  at -= 1u + m;
  i = at / 4u;
  mlrn_link_put_f32(word, i < n_sub * SKETCH_N_FEATURES ? lrn.cur_w[i] : lrn.cur_b[i - n_sub * SKETCH_N_FEATURES]);
  return word[at % 4u];
}

static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply) {
  float x[SKETCH_N_FEATURES];
  for (uint16_t k = 0; k < SKETCH_N_FEATURES && (type == MLRN_LINK_FEEDBACK || type == MLRN_LINK_PREDICT); k++)
    x[k] = mlrn_link_get_f32(req + 4u * k);
  switch (type) {
  case MLRN_LINK_FEEDBACK: {
    int16_t label = mlrn_link_get_i16(req + 4u * SKETCH_N_FEATURES);
    int32_t predicted;
    if (label < 0 || label >= (int16_t)SKETCH_N_CLASSES) return sketch_status(reply, MLRN_ERR_LABEL);
    for (uint16_t k = 0; k < SKETCH_N_FEATURES; k++)
      if (!mlrn_isfinite(x[k])) return sketch_status(reply, MLRN_ERR_NAN);
    predicted = learn_from(x, (uint8_t)label);
    reply[0] = (uint8_t)MLRN_OK;
    mlrn_link_put_i16(reply + 1, (int16_t)(predicted < 0 ? MLRN_LINK_NO_PREDICTION : predicted));
    reply[3] = lrn.event;
    mlrn_link_put_u16(reply + 4, stored());
    return MLRN_LINK_FEEDBACK_REPLY_BYTES;
  }
  case MLRN_LINK_PREDICT: {
    int32_t c = mlrn_learner_predict(&lrn, x);
    reply[0] = (uint8_t)(c < 0 ? (mlrn_status)c : MLRN_OK);
    mlrn_link_put_i16(reply + 1, (int16_t)(c < 0 ? MLRN_LINK_NO_PREDICTION : c));
    return MLRN_LINK_PREDICT_REPLY_BYTES;
  }
  case MLRN_LINK_MODEL:
    return sketch_model_reply(req, reply, model_bytes(), model_byte);
  default: /* ROW, TRAIN, EVAL, CLEAR: the train sketch's requests; this one learns from FEEDBACK */
    return sketch_status(reply, MLRN_ERR_ARG);
  }
}

void setup() {
  Serial.begin(SKETCH_BAUD);
  sketch_link_begin();
  Serial.println(F("microlearn sketch: self-learning loop, microlearn " MICROLEARN_VERSION));
  mlrn_status st = lrn_setup(); /* buffers, parameters, and the initial model when there is one */
  Serial.print(F("learner set-up: "));
  Serial.println((int)st);
#if SKETCH_PERSIST
  storage.read = eeprom_read;
  storage.write = eeprom_write;
  storage.erase = NULL;
  storage.ctx = NULL;
  storage.size = SKETCH_PERSIST_BYTES;
  storage.program_word = 0u;
  mlrn_status ld = mlrn_learner_load(&lrn, &storage); /* a saved model is newer than the initial one */
  Serial.print(ld == MLRN_OK ? F("restored a saved model of ") : F("no saved model; model classes: "));
  Serial.println(lrn.has_model ? (int)lrn.n_cur : 0);
#else
  Serial.print(F("model classes: "));
  Serial.println(lrn.has_model ? (int)lrn.n_cur : 0);
#endif
  Serial.println(F("READY"));
}

void loop() {
  float x[SKETCH_N_FEATURES];
  sketch_link_poll();
  if (read_sensor(x)) { /* one reading: the same steps as a FEEDBACK frame (or a prediction only) */
    int32_t predicted = mlrn_learner_predict(&lrn, x);
    act_on(predicted);
    int16_t label = feedback(x, predicted);
    if (label >= 0 && label < (int16_t)SKETCH_N_CLASSES) mlrn_learner_feedback(&lrn, x, (uint8_t)label);
    mlrn_learner_step(&lrn, LRN_BUDGET); /* a slice of retraining, validation, accept or rollback */
#if SKETCH_PERSIST
    if (lrn.event == MLRN_LEARNER_EV_ACCEPTED) mlrn_learner_save(&lrn, &storage);
#endif
  }
}
