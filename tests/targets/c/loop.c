/* Never ends: the target must stop it (time or cycle bound). */
#include "mlrn_target.h"
int main(void) { volatile uint8_t x = 0; mlrn_target_init(); for (;;) x++; }
