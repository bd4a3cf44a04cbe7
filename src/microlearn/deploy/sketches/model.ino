/* A sketch written by `microlearn sketch model`: a model trained in Python (scikit-learn or
 * microlearn) exported as C (model.h: its tables in flash and model_predict, which gives what the
 * Python model's predict gives, for every input), predicting on this board.
 *
 * >>> Fill in read_sensor() and act_on() below with your hardware. <<<
 * The board also answers PREDICT frames of microlearn's serial protocol (docs/serial-protocol.md):
 * `microlearn serial --port PORT --predict rows.csv` sends rows and prints the board's predictions.
 * Functions are defined before use. */
#include "sketch_config.h"
#include <microlearn.h>
#include "model.h"
#include "sketch_link.h"

/* ============================ fill these in with your hardware ============================ */
/* A reading of the model_N_FEATURES inputs the model was trained on; false when there is none now. */
static bool read_sensor(float *x) {
  (void)x;
  return false;
}

/* Act on a prediction: an index into model_class_names. */
static void act_on(int32_t predicted) {
  (void)predicted;
}
/* ========================================================================================= */

static uint8_t sketch_request(uint8_t type, const uint8_t *req, uint8_t *reply) {
  float x[SKETCH_N_FEATURES];
  if (type != MLRN_LINK_PREDICT) /* ROW, TRAIN, FEEDBACK, ...: this sketch only predicts */
    return sketch_status(reply, MLRN_ERR_ARG);
  for (uint16_t k = 0; k < SKETCH_N_FEATURES; k++) {
    x[k] = mlrn_link_get_f32(req + 4u * k);
    if (!mlrn_isfinite(x[k])) return sketch_status(reply, MLRN_ERR_NAN);
  }
  int32_t c = model_predict(x);
  reply[0] = (uint8_t)(c < 0 ? (mlrn_status)c : MLRN_OK);
  mlrn_link_put_i16(reply + 1, (int16_t)(c < 0 ? MLRN_LINK_NO_PREDICTION : c));
  return MLRN_LINK_PREDICT_REPLY_BYTES;
}

void setup() {
  Serial.begin(SKETCH_BAUD);
  sketch_link_begin();
  Serial.println(F("microlearn sketch: exported model, microlearn " MICROLEARN_VERSION));
  Serial.print(F("inputs "));
  Serial.print((int)model_N_FEATURES);
  Serial.print(F(", classes "));
  Serial.println((int)model_N_CLASSES);
  Serial.println(F("READY"));
}

void loop() {
  float x[SKETCH_N_FEATURES];
  sketch_link_poll();
  if (read_sensor(x)) act_on(model_predict(x));
}
