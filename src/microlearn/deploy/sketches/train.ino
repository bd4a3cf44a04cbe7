/* A sketch written by `microlearn sketch train`: it trains a support vector machine ON this board
 * from the rows of your CSV (stored in flash by sketch_data.h, added to the sample store one by one as
 * a sensor would add them), evaluates it on the rows held out for testing, reports over Serial, then
 * serves microlearn's serial protocol (docs/serial-protocol.md): `microlearn serial --port PORT` can
 * send more rows, retrain, predict, evaluate and read the model back.
 *
 * trainer.h (the trainer: static buffers sized for this data, SMO's parameters) and sketch_data.h
 * (the rows) are generated; sketch_config.h says what was generated from what. The Python reference
 * (microlearn.SMOClassifier with the same parameters) gives the same iterations, model and
 * predictions, bit for bit.
 *
 * Serial (SKETCH_BAUD baud): the training status, iterations and time, the test accuracy, "READY",
 * then protocol frames. Functions are defined before use (no Arduino prototype generation needed). */
#include "sketch_config.h"
#include <microlearn.h>
#include "trainer.h"
#include "sketch_data.h"
#include "sketch_link.h"

static uint32_t last_iterations, last_micros;
static mlrn_status last_status = MLRN_ERR_UNTRAINED;

static void read_flash_row(const float *row, float *x) {
  for (uint16_t k = 0; k < SKETCH_N_FEATURES; k++) x[k] = mlrn_flash_f32(&row[k]);
}

static mlrn_status train_now(void) {
  uint32_t t0 = (uint32_t)micros();
  last_status = trainer_train(&last_iterations);
  last_micros = (uint32_t)micros() - t0;
  return last_status;
}

/* Correct predictions on the held-out rows compiled in (none when the CSV gave no test rows). */
static uint16_t evaluate(uint16_t *total) {
  float x[SKETCH_N_FEATURES];
  uint16_t correct = 0, n = SKETCH_N_TEST; /* a variable: no "always false" warning when it is 0 */
  for (uint16_t i = 0; i < n; i++) {
    read_flash_row(&sketch_test_x[(uint32_t)i * SKETCH_N_FEATURES], x);
    if (trainer_predict(x) == (int32_t)mlrn_flash_u8(&sketch_test_y[i])) correct++;
  }
  *total = n;
  return correct;
}

/* The model, as MODEL sends it: u8 kernel, u8 classes, u16 sub-problems, u16 features, u16 stored rows,
 * u16 alpha rows (0: linear, w follows instead), f32 b[sub], then f32 w[sub * features] (linear) or
 * f32 alpha[rows * stored] (the other kernels). */
#define SKETCH_MODEL_HEADER_BYTES 10u
static uint16_t model_rows; /* alpha rows of the model being sent (0: linear) */

static uint32_t model_bytes(void) {
  uint16_t n_sub = trainer_svm.n_sub;
  model_rows = trainer_svm.w ? 0u : mlrn_smo_n_rows(SKETCH_N_CLASSES, trainer_svm.p.multiclass);
  return SKETCH_MODEL_HEADER_BYTES + 4u * (uint32_t)n_sub +
         4u * (model_rows ? (uint32_t)model_rows * trainer_store.n : (uint32_t)n_sub * SKETCH_N_FEATURES);
}

static uint8_t model_byte(uint32_t at) {
  uint16_t rows = model_rows;
  uint8_t head[SKETCH_MODEL_HEADER_BYTES], word[4];
  uint16_t n_sub = trainer_svm.n_sub;
  if (at < SKETCH_MODEL_HEADER_BYTES) {
    head[0] = trainer_svm.p.kernel.type;
    head[1] = SKETCH_N_CLASSES;
    mlrn_link_put_u16(head + 2, n_sub);
    mlrn_link_put_u16(head + 4, SKETCH_N_FEATURES);
    mlrn_link_put_u16(head + 6, trainer_store.n);
    mlrn_link_put_u16(head + 8, rows);
    return head[at];
  }
  at -= SKETCH_MODEL_HEADER_BYTES;
  uint32_t i = at / 4u;
  float v;
  if (i < n_sub) v = trainer_svm.b[i];
  else if (!rows) v = trainer_svm.w[i - n_sub];
  else {
    uint32_t j = i - n_sub, r = j / trainer_store.n, t = j % trainer_store.n;
    v = trainer_svm.alpha[r * SKETCH_CAPACITY + t];
  }
  mlrn_link_put_f32(word, v);
  return word[at % 4u];
}

static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply) {
  float x[SKETCH_N_FEATURES];
  for (uint16_t k = 0; k < SKETCH_N_FEATURES && (type == MLRN_LINK_ROW || type == MLRN_LINK_PREDICT); k++)
    x[k] = mlrn_link_get_f32(req + 4u * k);
  switch (type) {
  case MLRN_LINK_ROW: {
    int16_t label = mlrn_link_get_i16(req + 4u * SKETCH_N_FEATURES);
    mlrn_status st = label < 0 || label >= (int16_t)SKETCH_N_CLASSES ? MLRN_ERR_LABEL : trainer_add_sample(x, (uint8_t)label);
    if (st == MLRN_OK) last_status = MLRN_ERR_UNTRAINED; /* the model no longer matches the store */
    reply[0] = (uint8_t)st;
    mlrn_link_put_u16(reply + 1, trainer_store.n);
    return MLRN_LINK_ROW_REPLY_BYTES;
  }
  case MLRN_LINK_TRAIN:
    reply[0] = (uint8_t)train_now();
    mlrn_link_put_u32(reply + 1, last_iterations);
    mlrn_link_put_u32(reply + 5, last_micros);
    return MLRN_LINK_TRAIN_REPLY_BYTES;
  case MLRN_LINK_PREDICT: {
    int32_t c = last_status < 0 ? (int32_t)MLRN_ERR_UNTRAINED : trainer_predict(x);
    reply[0] = (uint8_t)(c < 0 ? (mlrn_status)c : MLRN_OK);
    mlrn_link_put_i16(reply + 1, (int16_t)(c < 0 ? MLRN_LINK_NO_PREDICTION : c));
    return MLRN_LINK_PREDICT_REPLY_BYTES;
  }
  case MLRN_LINK_EVAL: {
    uint16_t total = 0, correct = 0;
    if (last_status < 0) return sketch_status(reply, MLRN_ERR_UNTRAINED);
    correct = evaluate(&total);
    reply[0] = (uint8_t)MLRN_OK;
    mlrn_link_put_u16(reply + 1, correct);
    mlrn_link_put_u16(reply + 3, total);
    return MLRN_LINK_EVAL_REPLY_BYTES;
  }
  case MLRN_LINK_MODEL:
    if (last_status < 0) return sketch_status(reply, MLRN_ERR_UNTRAINED);
    return sketch_model_reply(req, reply, model_bytes(), model_byte);
  case MLRN_LINK_CLEAR: /* a fresh set-up: empty store, no model */
    last_status = MLRN_ERR_UNTRAINED;
    return sketch_status(reply, trainer_setup());
  default: /* FEEDBACK: the self-learning loop's request, not this sketch's */
    return sketch_status(reply, MLRN_ERR_ARG);
  }
}

static void print_status(mlrn_status st) {
  Serial.print((int)st);
  Serial.print(F(" ("));
  Serial.print((const __FlashStringHelper *)mlrn_status_str(st));
  Serial.print(')');
}

void setup() {
  Serial.begin(SKETCH_BAUD);
  sketch_link_begin();
  Serial.println(F("microlearn sketch: train on the board, microlearn " MICROLEARN_VERSION));
  mlrn_status st = trainer_setup();
  float x[SKETCH_N_FEATURES];
  for (uint16_t i = 0; i < SKETCH_N_TRAIN && st == MLRN_OK; i++) {
    read_flash_row(&sketch_train_x[(uint32_t)i * SKETCH_N_FEATURES], x);
    st = trainer_add_sample(x, mlrn_flash_u8(&sketch_train_y[i]));
  }
  Serial.print(F("stored "));
  Serial.print(trainer_store.n);
  Serial.print(F(" rows, status "));
  print_status(st);
  Serial.println();
  if (st == MLRN_OK && trainer_store.n > 0) {
    st = train_now();
    Serial.print(F("trained: status "));
    print_status(st);
    Serial.print(F(", "));
    Serial.print(last_iterations);
    Serial.print(F(" iterations, "));
    Serial.print(last_micros);
    Serial.println(F(" us"));
    if (st >= 0) {
      uint16_t total = 0, correct = evaluate(&total);
      Serial.print(F("accuracy "));
      Serial.print(correct);
      Serial.print('/');
      Serial.println(total);
    }
  }
  Serial.println(F("READY"));
}

void loop() {
  sketch_link_poll();
}
