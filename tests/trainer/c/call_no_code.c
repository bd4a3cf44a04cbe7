/* Calls an address that holds no code (0xFFFFFFF0, Thumb bit clear): the emulator must report a crash. */
#include "mlrn_target.h"
typedef void (*fn)(void);
int main(void) { volatile unsigned a = 0xFFFFFFF0u; mlrn_target_init(); ((fn)a)(); return 0; }
