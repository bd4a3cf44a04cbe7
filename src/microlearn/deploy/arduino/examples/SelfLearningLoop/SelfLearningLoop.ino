/* SelfLearningLoop: a thermostat that learns what its occupant finds comfortable, and keeps
 * learning when the occupant's taste changes.
 *
 * Every reading: the board predicts the comfort (too cold / ok / too hot) from temperature and
 * humidity and acts on it; the occupant's vote is the feedback (a button press in a real room);
 * the learner stores the sample, notices when it keeps being wrong, retrains in small time slices
 * (BUDGET SMO iterations per loop(), so the loop keeps running), checks the new model on held-out
 * samples and keeps it only if it is better (else rollback). Each accepted model is saved to the
 * EEPROM (power-safe, two copies with a CRC; AVR and microlearn's Cortex-M shim) and loaded at the next
 * power-on.
 *
 * >>> Replace read_sensor() and feedback() below with your sensor and your user's input. <<<
 * Here a simulated room stands in for both (integer arithmetic and the runtime's xorshift32, so
 * that every run is the same): a thermostat wanders between 16 and 29 degC, and the occupant's
 * preferred temperature changes at row 240 (summer: warmer) and at row 408 (a new occupant, who
 * is also more particular); one vote in 32 is random, as people are.
 *
 * The Python twin makes the same decisions, row by row (tests/deploy mirrors the room):
 *     microlearn.learner.simulate.run_reference(LearnerConfig(n_features=2, n_classes=3, capacity=60,
 *         holdout_every=4, k_mistakes=5, trigger_window=20, err_pct=30, queue=8, budget=20), X, y)
 *
 * Flash: the learner, its persistence and Serial take 30.6 KB of AVR flash: the sketch fits an Uno
 * and, with the table-less CRC below, a Nano (30 KB with its bootloader; 2 bytes over without it).
 *
 * Serial (115200 baud): whether a model was restored, "W <rows> <correct>" every 50 rows,
 * "E <row> A|R" per accepted / rolled-back model, "S <row> <status>" per save, then
 * "DONE <correct> <rows> <retrains> <accepted> <rollbacks>". */
#define MLRN_KERNELS (1u << MLRN_KERNEL_LINEAR) /* the learner trains linear SVMs: no other kernel */
#define MLRN_CRC32_BITWISE /* the persistence's CRC-32 without its table: ~100 B less flash, so the sketch fits a Nano */
#include <microlearn.h>

#define N_FEATURES 2 /* temperature, humidity */
#define N_CLASSES 3  /* 0 too cold, 1 ok, 2 too hot */
#define TRAIN_CAP 45 /* samples kept for training */
#define HOLD_CAP 15  /* samples held out to judge a new model (every 4th stored sample) */
#define QUEUE 8      /* samples arriving while a retrain runs */
#define WINDOW 20    /* recent outcomes watched by the retrain and drift triggers */
#define BUDGET 20u   /* SMO iterations per loop() */

/* Static buffers of the learner `comfort` and comfort_init(): about 1.2 KB of SRAM here. */
MLRN_LEARNER_DEFINE(comfort, N_FEATURES, N_CLASSES, TRAIN_CAP, HOLD_CAP, QUEUE, WINDOW)

#if defined(__AVR__) || defined(MLRN_ARDUINO_SHIM)
/* The model lives in the first 256 bytes of the EEPROM (two slots: the last good copy survives a power
 * cut during a save). The rest of the EEPROM is yours. (MLRN_ARDUINO_SHIM: microlearn's Arduino shim for
 * the emulated Cortex-M boards, whose EEPROM is kept in a file by the emulator.) */
#define MODEL_IN_EEPROM 1
#if defined(__AVR__)
static mlrn_persist_avr_eeprom eeprom;
#else
static mlrn_persist_arduino_eeprom eeprom;
#endif
static mlrn_storage storage;
static bool have_storage;
#endif

static uint16_t row, correct, win_correct;

/* ---- a simulated room (the stand-in for your hardware: delete it with the two functions below) ----
 * Temperature and humidity in 1/100 degC and 1/100 %, moved by a hidden thermostat (unsigned integer
 * arithmetic only, so that the Python twin in tests/deploy reproduces every reading). */
#define ROWS 600
static uint32_t room_rng;
static uint16_t room_t = 1900, room_rh = 4500, room_target = 2100;
static uint8_t room_hold;
static int8_t room_vote;

static void room_step(void) {
  uint32_t r = mlrn_rng_next(&room_rng);
  if (room_hold == 0) { /* a new set point every 4..16 readings, 16.00..28.99 degC */
    room_target = (uint16_t)(1600u + r % 1300u);
    room_hold = (uint8_t)(4u + (r >> 12) % 13u);
  }
  room_hold--;
  /* the room moves towards the set point by at most 0.6 degC per reading, +-0.1 degC of noise */
  uint16_t t = room_t;
  if (room_target > t + 60u) t = (uint16_t)(t + 60u);
  else if (room_target + 60u < t) t = (uint16_t)(t - 60u);
  else t = room_target;
  room_t = (uint16_t)(t + (r >> 20) % 21u - 10u);
  /* humidity: +-1 % of noise, drawn back towards 50 % */
  uint16_t rh = (uint16_t)(room_rh - room_rh / 16u + (r >> 8) % 201u + 212u);
  room_rh = rh < 2000u ? 2000u : rh > 8000u ? 8000u : rh;
  /* the occupant: felt temperature t + 0.05 (rh - 50 %) against a preference that changes */
  int16_t felt = (int16_t)(room_t + room_rh / 20u) - 250;
  int16_t pref = row < 240 ? 2100 : row < 408 ? 2450 : 2250, band = row < 408 ? 100 : 70;
  room_vote = felt < pref - band ? 0 : felt > pref + band ? 2 : 1;
  if ((r >> 27) == 0u) room_vote = (int8_t)((r >> 24) % 3u); /* a careless vote */
}

/* ======================= replace these two with your hardware ======================= */
/* The sensor: temperature (degC) and relative humidity (%). Returns false when there is no reading
 * (here: after ROWS readings). */
static bool read_sensor(float *temperature, float *humidity) {
  if (row >= ROWS) return false;
  room_step();
  *temperature = (float)room_t / 100.0f;
  *humidity = (float)room_rh / 100.0f;
  return true;
}

/* The occupant's vote on the current reading: 0 too cold, 1 ok, 2 too hot; -1 when nobody voted. */
static int8_t feedback(void) {
  return room_vote;
}
/* ===================================================================================== */

/* What the SVM sees: both features around 0, of the same order. */
static void features(float temperature, float humidity, float *x) {
  x[0] = (temperature - 22.0f) / 5.0f;
  x[1] = (humidity - 50.0f) / 20.0f;
}

static void act_on(int32_t comfort_class) {
  /* Heat when too cold, cool when too hot: drive your relays here. A negative value means no model
   * yet (the first retrain needs votes of two classes). */
  (void)comfort_class;
}

static void finish(void) {
  Serial.print(F("DONE "));
  Serial.print(correct);
  Serial.print(' ');
  Serial.print(row);
  Serial.print(' ');
  Serial.print(comfort.n_retrains);
  Serial.print(' ');
  Serial.print(comfort.n_accepted);
  Serial.print(' ');
  Serial.println(comfort.n_rollbacks);
  Serial.flush();
  mlrn_sketch_end(); /* AVR: cli(); sleep_cpu() (simavr stops there); the shim: the emulator's run ends */
}

void setup() {
  Serial.begin(115200);
  Serial.println(F("SelfLearningLoop: microlearn " MICROLEARN_VERSION));
  room_rng = mlrn_rng_seed(1); /* the simulated room */
  mlrn_learner_params p = mlrn_learner_default_params();
  p.holdout_every = 4; /* every 4th stored sample is held out */
  p.k_mistakes = 5;    /* retrain after 5 mistakes... */
  p.window = WINDOW;   /* ...or when the last 20 rows hold more than 30 % errors */
  p.err_pct = 30;
  p.svm.max_iter = 2000u;
  mlrn_status st = comfort_init(&p);
  if (st != MLRN_OK) {
    Serial.print(F("learner set-up failed: "));
    Serial.println(st);
    finish();
  }
#if defined(MODEL_IN_EEPROM)
#if defined(__AVR__)
  have_storage = mlrn_persist_avr_eeprom_bind(&eeprom, &storage, 0, 256) == MLRN_OK;
#else
  have_storage = mlrn_persist_arduino_eeprom_bind(&eeprom, &storage, 0, 256) == MLRN_OK;
#endif
  st = have_storage ? mlrn_learner_load(&comfort, &storage) : MLRN_ERR_IO;
  if (st == MLRN_OK) {
    Serial.print(F("restored a model of "));
    Serial.print(comfort.n_cur);
    Serial.println(F(" classes from the EEPROM"));
  } else {
    Serial.print(F("no saved model (status "));
    Serial.print(st);
    Serial.println(F("): learning from scratch"));
  }
#else
  Serial.println(F("no persistence on this board: learning from scratch"));
#endif
}

void loop() {
  float temperature, humidity, x[N_FEATURES];
  if (!read_sensor(&temperature, &humidity)) finish();
  features(temperature, humidity, x);

  int32_t predicted = mlrn_learner_predict(&comfort, x);
  act_on(predicted);

  int8_t vote = feedback();
  if (vote >= 0) {
    if (predicted == vote) {
      correct++;
      win_correct++;
    }
    mlrn_learner_feedback(&comfort, x, (uint8_t)vote); /* stores the sample, arms the triggers */
  }
  mlrn_learner_step(&comfort, BUDGET); /* a slice of retraining, validation, accept or rollback */

  if (comfort.event == MLRN_LEARNER_EV_ACCEPTED || comfort.event == MLRN_LEARNER_EV_ROLLBACK) {
    Serial.print(F("E "));
    Serial.print(row);
    Serial.print(' ');
    Serial.println(comfort.event == MLRN_LEARNER_EV_ACCEPTED ? 'A' : 'R');
  }
#if defined(MODEL_IN_EEPROM)
  if (comfort.event == MLRN_LEARNER_EV_ACCEPTED && have_storage) {
    mlrn_status st = mlrn_learner_save(&comfort, &storage); /* about 60 bytes: ~0.2 s of EEPROM writes */
    Serial.print(F("S "));
    Serial.print(row);
    Serial.print(' ');
    Serial.println(st);
  }
#endif
  row++;
  if (row % 50 == 0) {
    Serial.print(F("W "));
    Serial.print(row);
    Serial.print(' ');
    Serial.println(win_correct);
    win_correct = 0;
  }
}
