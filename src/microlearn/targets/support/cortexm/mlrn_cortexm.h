/* Internal interface between the Cortex-M start-up code and mlrn_target.c. */
#ifndef MLRN_CORTEXM_H
#define MLRN_CORTEXM_H
#include <stdint.h>

#include "mlrn_target.h"

void mlrn_paint_stack(void);                                          /* start-up, before main */
char *mlrn_heap_break(void);                                          /* current top of the heap */
void mlrn_report_fault(uint32_t pc, uint32_t lr) __attribute__((noreturn)); /* from the fault handler */

#endif
