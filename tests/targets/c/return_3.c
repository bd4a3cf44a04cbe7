/* Prints a line and returns 3 from main: the exit code must reach the caller, with the output. */
#include "mlrn_target.h"
int main(void) { mlrn_target_init(); mlrn_io_puts("hi\n"); return 3; }
