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
 * if any) is generated; sketch_config.h says from what. The learner is the SVM loop (mlrn_learner.h:
 * linear, or rbf / poly with the model a snapshot of its support vectors) or the online learner
 * (mlrn_online.h: Passive-Aggressive II, no training store); this template serves all three. The
 * Python reference (microlearn.learner.simulate.run_reference with the same LearnerConfig) makes the
 * same decisions, row by row, bit for bit. Functions are defined before use. */
#include "sketch_config.h"
#include <microlearn.h>
#include "lrn.h"
/* The learner's calls: the SVM loop's unless lrn.h names the online learner's (LRN_ONLINE: the same calls,
 * events and counters, mlrn_online.h). */
#ifndef LRN_PREDICT
#define LRN_PREDICT mlrn_learner_predict
#define LRN_FEEDBACK mlrn_learner_feedback
#define LRN_STEP mlrn_learner_step
#define LRN_SAVE mlrn_learner_save
#define LRN_LOAD mlrn_learner_load
#endif
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

/* One reading's features, as the request decoded them or read_sensor() gave them: one buffer for both (they
 * never overlap: loop() polls the link, then reads the sensor), so they do not take the stack twice. */
static float sketch_x[SKETCH_N_FEATURES];

#if defined(LRN_ONLINE)
/* The online learner stores held-out rows only; its model covers every class once it has one. */
static uint16_t stored(void) { return lrn.hold_n; }
static uint8_t model_classes(void) { return lrn.has_model ? lrn.n_classes : 0u; }
#else
static uint16_t stored(void) { return (uint16_t)(lrn.train.n + lrn.hold.n); }
static uint8_t model_classes(void) { return lrn.has_model ? lrn.n_cur : 0u; }
#endif

/* One labelled reading, as the Python reference does it: predict, learn, a slice of (re)training. */
static int32_t learn_from(const float *x, uint8_t label) {
  int32_t predicted = LRN_PREDICT(&lrn, x);
  (void)LRN_FEEDBACK(&lrn, x, label);
  (void)LRN_STEP(&lrn, LRN_BUDGET);
#if SKETCH_PERSIST
  if (lrn.event == MLRN_LEARNER_EV_ACCEPTED) (void)LRN_SAVE(&lrn, &storage);
#endif
  return predicted;
}

/* The model, as MODEL sends it (docs/serial-protocol.md, "The loop sketch's model"): u8 m, the classes in it
 * (0: none yet), their m class indices, then
 *   linear SVM: f32 w[rows * features], f32 b[rows], rows = one per pair of classes (1 for two);
 *   online:     the same with rows = one per class (one-vs-rest; 1 for two classes);
 *   rbf / poly: u16 n_sv, the n_sv support vectors in the store's element type (float32, int16 or int8 codes),
 *               their n_sv local classes (0..m-1), n_rows(m) coefficient rows of n_sv f32, f32 b[one per pair].
 * Read byte by byte where the learner keeps it: no copy in RAM. */
#if defined(MLRN_LEARNER_KERNEL) && MLRN_LEARNER_KERNEL != MLRN_KERNEL_LINEAR
#define SKETCH_KERNEL_MODEL 1
static uint32_t sv_bytes(void) {
  return (uint32_t)lrn.n_sv * (uint32_t)(mlrn_store_elem_size(lrn.train.storage) * SKETCH_N_FEATURES + 1u);
}
static uint32_t model_floats(uint8_t m) {
  return (uint32_t)mlrn_smo_n_rows(m, MLRN_SMO_OVO) * lrn.n_sv + mlrn_smo_n_sub(m, MLRN_SMO_OVO);
}
static float model_f32(uint8_t m, uint32_t i) {
  uint32_t coefs = (uint32_t)mlrn_smo_n_rows(m, MLRN_SMO_OVO) * lrn.n_sv;
  if (i >= coefs) return lrn.cur_b[i - coefs];
  return lrn.cur_w[(size_t)(i / lrn.n_sv) * lrn.train.capacity + i % lrn.n_sv];
}
#else
#define SKETCH_KERNEL_MODEL 0
#if defined(LRN_ONLINE)
static uint32_t model_rows(uint8_t m) { return m ? mlrn_online_n_out(m) : 0u; }
/* lrn.cur holds each output's w then b; MODEL sends every w, then every b */
static float model_f32(uint8_t m, uint32_t i) {
  uint32_t nw = model_rows(m) * SKETCH_N_FEATURES;
  if (i >= nw) return lrn.cur[(size_t)(i - nw) * (SKETCH_N_FEATURES + 1u) + SKETCH_N_FEATURES];
  return lrn.cur[(size_t)(i / SKETCH_N_FEATURES) * (SKETCH_N_FEATURES + 1u) + i % SKETCH_N_FEATURES];
}
#else
static uint32_t model_rows(uint8_t m) { return m ? mlrn_smo_n_sub(m, MLRN_SMO_OVO) : 0u; }
static float model_f32(uint8_t m, uint32_t i) {
  uint32_t nw = model_rows(m) * SKETCH_N_FEATURES; /* cur_b sits after the w of every declared class's pairs */
  return i < nw ? lrn.cur_w[i] : lrn.cur_b[i - nw];
}
#endif
static uint32_t model_floats(uint8_t m) { return model_rows(m) * (SKETCH_N_FEATURES + 1u); }
#endif

static uint32_t model_bytes(void) {
  uint8_t m = model_classes();
  if (!m) return 1u;
  return 1u + m + 4u * model_floats(m)
#if SKETCH_KERNEL_MODEL
         + 2u + sv_bytes()
#endif
      ;
}

static uint8_t model_byte(uint32_t at) {
  uint8_t m = model_classes(), word[4];
  if (at == 0) return m;
#if defined(LRN_ONLINE)
  if (at < 1u + m) return (uint8_t)(at - 1u); /* every class, in order */
#else
  if (at < 1u + m) return lrn.cur_map[at - 1u];
#endif
  at -= 1u + m;
#if SKETCH_KERNEL_MODEL
  if (at < 2u) return (uint8_t)(lrn.n_sv >> (8u * at));
  at -= 2u;
  if (at < (uint32_t)lrn.n_sv * mlrn_store_elem_size(lrn.train.storage) * SKETCH_N_FEATURES)
    return ((const uint8_t *)lrn.sv_x)[at];
  at -= (uint32_t)lrn.n_sv * mlrn_store_elem_size(lrn.train.storage) * SKETCH_N_FEATURES;
  if (at < lrn.n_sv) return lrn.sv_y[at];
  at -= lrn.n_sv;
#endif
  mlrn_link_put_f32(word, model_f32(m, at / 4u));
  return word[at % 4u];
}

static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply) {
  float *x = sketch_x;
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
    int32_t c = LRN_PREDICT(&lrn, x);
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
  mlrn_status ld = LRN_LOAD(&lrn, &storage); /* a saved model is newer than the initial one */
  Serial.print(ld == MLRN_OK ? F("restored a saved model of ") : F("no saved model; model classes: "));
  Serial.println((int)model_classes());
#else
  Serial.print(F("model classes: "));
  Serial.println((int)model_classes());
#endif
  Serial.println(F("READY"));
}

void loop() {
  float *x = sketch_x;
  sketch_link_poll();
  if (read_sensor(x)) { /* one reading: the same steps as a FEEDBACK frame (or a prediction only) */
    int32_t predicted = LRN_PREDICT(&lrn, x);
    act_on(predicted);
    int16_t label = feedback(x, predicted);
    if (label >= 0 && label < (int16_t)SKETCH_N_CLASSES) (void)LRN_FEEDBACK(&lrn, x, (uint8_t)label);
    (void)LRN_STEP(&lrn, LRN_BUDGET); /* a slice of retraining, validation, accept or rollback */
#if SKETCH_PERSIST
    if (lrn.event == MLRN_LEARNER_EV_ACCEPTED) (void)LRN_SAVE(&lrn, &storage);
#endif
  }
}
