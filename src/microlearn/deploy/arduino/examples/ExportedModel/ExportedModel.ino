/* ExportedModel: predict on the board with a model trained in Python by scikit-learn.
 *
 * iris_model.h was written by microlearn when this library was built:
 *     from sklearn.linear_model import LogisticRegression
 *     est = LogisticRegression(max_iter=1000).fit(X, species)          # Iris: 4 measurements in cm
 *     microlearn.export(est, "iris_model.h", name="iris")
 * It holds the model's tables in flash (PROGMEM on AVR) and iris_predict / iris_predict_proba /
 * iris_decision_function, which give what scikit-learn's predict gives, for every input (float32).
 * Export your own model the same way (or `microlearn export model.skops -o my_model.h --name my`)
 * and put its header next to your sketch.
 *
 * Serial (115200 baud): per flower its measurements, the predicted species with its probability
 * and the true species, then the count of agreements and DONE. */
#include <microlearn.h>
#include "iris_model.h"

/* Flowers to classify: sepal length, sepal width, petal length, petal width (cm), and the species
 * a botanist gave them (0 setosa, 1 versicolor, 2 virginica). Some versicolor and virginica overlap:
 * a linear model gets a few of them wrong, as it does in Python. */
static const float flowers[][iris_N_FEATURES] MLRN_FLASH = {
  {5.1f, 3.5f, 1.4f, 0.2f}, {4.6f, 3.6f, 1.0f, 0.2f}, {5.1f, 3.8f, 1.9f, 0.4f},
  {6.4f, 3.2f, 4.5f, 1.5f}, {4.9f, 2.4f, 3.3f, 1.0f}, {5.9f, 3.2f, 4.8f, 1.8f},
  {6.7f, 3.0f, 5.0f, 1.7f}, {6.0f, 2.7f, 5.1f, 1.6f}, {5.1f, 2.5f, 3.0f, 1.1f},
  {4.9f, 2.5f, 4.5f, 1.7f}, {6.0f, 2.2f, 5.0f, 1.5f}, {6.2f, 2.8f, 4.8f, 1.8f},
  {6.3f, 2.8f, 5.1f, 1.5f}, {6.0f, 3.0f, 4.8f, 1.8f}, {5.9f, 3.0f, 5.1f, 1.8f},
};
static const uint8_t species[] MLRN_FLASH = {0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
#define N_FLOWERS (sizeof flowers / sizeof flowers[0])

/* iris_class_names[k] is the label scikit-learn was given ("setosa", ...); on AVR both the table and
 * the texts are in flash. */
static void print_species(int32_t k) {
  if (k < 0 || k >= iris_N_CLASS_NAMES) {
    Serial.print(F("?"));
    return;
  }
  Serial.print((const __FlashStringHelper *)mlrn_flash_ptr(&iris_class_names[k]));
}

static void finish(void) {
  Serial.println(F("DONE"));
  Serial.flush();
  mlrn_sketch_end(); /* AVR: cli(); sleep_cpu() (simavr stops there); the shim: the emulator's run ends */
}

void setup() {
  Serial.begin(115200);
  Serial.println(F("ExportedModel: microlearn " MICROLEARN_VERSION));
  uint16_t right = 0;
  for (uint16_t i = 0; i < N_FLOWERS; i++) {
    float x[iris_N_FEATURES], proba[iris_N_CLASSES];
    for (uint8_t k = 0; k < iris_N_FEATURES; k++) x[k] = mlrn_flash_f32(&flowers[i][k]);
    int32_t c = iris_predict(x); /* index into the model's classes */
    iris_predict_proba(x, proba);
    int32_t truth = mlrn_flash_u8(&species[i]);
    if (c == truth) right++;
    Serial.print(F("flower "));
    Serial.print(i);
    Serial.print(':');
    for (uint8_t k = 0; k < iris_N_FEATURES; k++) {
      Serial.print(' ');
      Serial.print(x[k], 1);
    }
    Serial.print(F(" -> class "));
    Serial.print(c);
    Serial.print(' ');
    print_species(c);
    Serial.print(F(" p="));
    Serial.print(c >= 0 ? proba[c] : 0.0f, 4);
    Serial.print(F(", true "));
    print_species(truth);
    Serial.println();
  }
  Serial.print(F("right "));
  Serial.print(right);
  Serial.print('/');
  Serial.println((unsigned)N_FLOWERS);
  finish();
}

void loop() {
}
