/* Two exported models in one program (a.h: prefix first, b.h: prefix second): their names and shared
 * runtime must not collide. Exit code: the sum of their class indices for an Iris setosa (0). */
#include "a.h"
#include "b.h"
int main(void) { float x[4] = {5.1f, 3.5f, 1.4f, 0.2f};
  return (int)(first_predict(x) + second_predict(x)); }
