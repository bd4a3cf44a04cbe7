/* TrainOnDevice: train a support vector machine ON the board, from sensor readings.
 *
 * A vibration sensor on a fan gives two numbers per reading: the RMS acceleration (mg) and the
 * dominant frequency (Hz). Three states are labelled by hand: 0 normal, 1 imbalance (a blade
 * lost its weight: strong, slow), 2 bearing wear (weaker, high-pitched). The board stores the
 * labelled readings one at a time (mlrn_store_add), trains a linear SVM (mlrn_smo_train: SMO,
 * one-vs-one for three classes), then classifies readings it has never seen.
 *
 * Here the readings come from two tables in flash, so the run is the same every time; in your
 * project, call add_reading() with what your sensor measures and the label the user gives.
 *
 * The Python twin gives the very same model, bit for bit:
 *     microlearn.SMOClassifier(kernel="linear", C=1.0).fit(X, y)     (X: the features below, float32)
 *
 * Serial (115200 baud): the training status, iterations and time, one line per test reading,
 * the accuracy, then DONE. */
#define MLRN_KERNELS (1u << MLRN_KERNEL_LINEAR) /* compile only the linear kernel: less flash */
#include <microlearn.h>

#define N_FEATURES 2
#define N_CLASSES 3
#define CAPACITY 40 /* readings the store can hold */

/* Labelled readings for training: {RMS mg, frequency Hz, state}. */
static const int16_t training_readings[][3] MLRN_FLASH = {
  { 166,  46, 0}, { 362, 172, 2}, { 180,  39, 0}, { 322, 152, 2},
  { 173,  50, 0}, { 326,  23, 1}, { 289, 172, 2}, { 537,  21, 1},
  { 213,  49, 0}, { 220, 165, 2}, { 151,  58, 0}, { 115,  41, 0},
  { 138,  47, 0}, { 280, 160, 2}, { 339,  25, 1}, { 414,  22, 1},
  { 408,  26, 1}, { 427,  21, 1}, { 327, 158, 2}, { 177,  49, 0},
  { 315, 147, 2}, { 523,  24, 1}, { 324, 149, 2}, { 510,  24, 1},
  { 328, 169, 2}, { 498,  28, 1}, { 343, 140, 2}, { 135,  53, 0},
  { 349, 169, 2}, { 356,  25, 1}, { 328, 166, 2}, { 446,  23, 1},
  { 144,  54, 0}, { 183,  49, 0}, { 199,  47, 0}, { 484,  26, 1},
};
/* Readings the model has not seen, with their true state. */
static const int16_t test_readings[][3] MLRN_FLASH = {
  { 213,  53, 0}, { 149,  49, 0}, { 121,  52, 0}, { 360, 168, 2},
  { 395, 161, 2}, { 426,  29, 1}, { 279, 138, 2}, { 360, 199, 2},
  { 120,  52, 0}, { 447,  21, 1}, { 482,  25, 1}, { 444,  21, 1},
};
#define N_TRAINING (sizeof training_readings / sizeof training_readings[0])
#define N_TEST (sizeof test_readings / sizeof test_readings[0])

/* Every buffer is static and sized at compile time: the sample store (float32 rows and labels) and
 * the trainer's work array (alphas, one w and b per pair of classes). */
static float store_rows[CAPACITY * N_FEATURES];
static uint8_t store_labels[CAPACITY];
static float work[MLRN_SMO_WORK_FLOATS_LINEAR(CAPACITY, N_FEATURES, MLRN_SMO_N_SUB_OVO(N_CLASSES), MLRN_STORAGE_F32)];
static mlrn_store store;
static mlrn_smo svm;

/* The features the SVM sees: g and hundreds of Hz, so that both are of the same order. */
static void features(int16_t rms_mg, int16_t freq_hz, float *x) {
  x[0] = (float)rms_mg / 1000.0f;
  x[1] = (float)freq_hz / 100.0f;
}

static void print_state(int32_t c) {
  if (c == 0) Serial.print(F("normal"));
  else if (c == 1) Serial.print(F("imbalance"));
  else if (c == 2) Serial.print(F("bearing wear"));
  else Serial.print(F("?"));
}

static void print_status(mlrn_status st) {
  Serial.print(st);
  Serial.print(F(" ("));
  Serial.print((const __FlashStringHelper *)mlrn_status_str(st)); /* the text lives in flash on AVR */
  Serial.print(')');
}

/* One labelled reading into the store (what a sketch does each time the user labels a measurement). */
static mlrn_status add_reading(int16_t rms_mg, int16_t freq_hz, uint8_t state) {
  float x[N_FEATURES];
  features(rms_mg, freq_hz, x);
  return mlrn_store_add(&store, x, state); /* MLRN_ERR_FULL when CAPACITY readings are stored */
}

static void finish(void) {
  Serial.println(F("DONE"));
  Serial.flush();
  mlrn_sketch_end(); /* AVR: cli(); sleep_cpu() (simavr stops there); the shim: the emulator's run ends */
}

void setup() {
  Serial.begin(115200);
  Serial.println(F("TrainOnDevice: microlearn " MICROLEARN_VERSION));

  mlrn_status st = mlrn_store_init(&store, store_rows, sizeof store_rows, store_labels, sizeof store_labels,
                                   CAPACITY, N_FEATURES, MLRN_STORAGE_F32, N_CLASSES, NULL, NULL);
  mlrn_smo_params p = mlrn_smo_default_params(); /* linear kernel, C = 1, wss2 solver, one-vs-one */
  if (st == MLRN_OK) st = mlrn_smo_init(&svm, &p, &store, work, sizeof work / sizeof work[0]);
  if (st != MLRN_OK) {
    Serial.print(F("set-up failed: "));
    print_status(st);
    Serial.println();
    finish();
  }

  for (uint16_t i = 0; i < N_TRAINING; i++) {
    st = add_reading(mlrn_flash_i16(&training_readings[i][0]), mlrn_flash_i16(&training_readings[i][1]),
                     (uint8_t)mlrn_flash_i16(&training_readings[i][2]));
    if (st != MLRN_OK) {
      Serial.print(F("reading not stored: "));
      print_status(st);
      Serial.println();
    }
  }
  Serial.print(F("stored "));
  Serial.print(store.n);
  Serial.println(F(" readings"));

  uint32_t iterations = 0;
  unsigned long t0 = millis();
  st = mlrn_smo_train(&svm, &iterations); /* MLRN_OK: converged */
  unsigned long ms = millis() - t0;
  Serial.print(F("trained: status "));
  print_status(st);
  Serial.print(F(", "));
  Serial.print(iterations);
  Serial.print(F(" iterations, "));
  Serial.print(ms);
  Serial.println(F(" ms"));
  if (st < 0) finish();

  uint16_t correct = 0;
  for (uint16_t i = 0; i < N_TEST; i++) {
    int16_t rms = mlrn_flash_i16(&test_readings[i][0]), hz = mlrn_flash_i16(&test_readings[i][1]);
    int32_t truth = mlrn_flash_i16(&test_readings[i][2]);
    float x[N_FEATURES];
    features(rms, hz, x);
    int32_t c = mlrn_smo_predict(&svm, x); /* class index, or a negative status */
    if (c == truth) correct++;
    Serial.print(F("test "));
    Serial.print(i);
    Serial.print(F(": "));
    Serial.print(rms);
    Serial.print(F(" mg "));
    Serial.print(hz);
    Serial.print(F(" Hz -> class "));
    Serial.print(c);
    Serial.print(F(" ("));
    print_state(c);
    Serial.print(F("), true "));
    Serial.print(truth);
    Serial.print(F(" ("));
    print_state(truth);
    Serial.println(')');
  }
  Serial.print(F("accuracy "));
  Serial.print(correct);
  Serial.print('/');
  Serial.println((unsigned)N_TEST);
  finish();
}

void loop() {
}
