/* Calls the two text functions and nothing else: its object file shows what they cost in SRAM
 * (tests/core/test_vocab.py: nothing on AVR, where the texts and their tables stay in flash). */
#include "mlrn_smo.h"

const char *status_text_of(mlrn_status s);
const char *param_text_of(uint8_t code);

const char *status_text_of(mlrn_status s) { return mlrn_status_str(s); }
const char *param_text_of(uint8_t code) { return mlrn_smo_param_str(code); }
