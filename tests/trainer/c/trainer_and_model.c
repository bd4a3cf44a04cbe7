/* A trainer (trainer.h, linear, prefix iris) and an exported RBF SVM (m.h) in one program: the trainer
 * sets MLRN_KERNELS to its own kernel, so this compiles only when MLRN_KERNELS is defined first with both.
 * Exit code: the class index m predicts for (5, 3), 9 if the trainer does not set up. */
#include "trainer.h"
#include "m.h"
int main(void) { float x[2] = {5.0f, 3.0f};
  return iris_setup() == MLRN_OK ? (int)m_predict(x) : 9; }
