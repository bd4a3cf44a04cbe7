/* Internal interface between the ESP8266 (Xtensa lx106) start-up code and mlrn_target.c (qemu's sim machine). */
#ifndef MLRN_XTENSA_H
#define MLRN_XTENSA_H
#include <stdint.h>

#include "mlrn_target.h"

void mlrn_paint_stack(void);                                                  /* start-up, before main */
char *mlrn_heap_break(void);                                                  /* the end of static data */
void mlrn_report_fault(uint32_t pc, uint32_t cause, uint32_t vaddr) __attribute__((noreturn)); /* from the vector */

#endif
