/* The trainer header t.h, generated with hostile class names (test_hostile_codegen.py), names them exactly:
 * each entry of t_class_names is the label meant (EXPECTED in expected_names.h, written by the test as
 * c_format.c_string literals), there are as many, and the trainer sets up. Exit code 0; else the index + 1
 * of the first name that differs, or 99. On AVR the table and its strings are in flash (pgm_read_ptr,
 * strcmp_P). Built with -DSKIP_NAMES it reads no name: the table must then be gone from the program. */
#include <string.h>
#include "t.h"
#ifndef SKIP_NAMES
#include "expected_names.h"
#ifdef __AVR__
#define SAME_NAME(i) (strcmp_P(EXPECTED[i], (const char *)pgm_read_ptr(&t_class_names[i])) == 0)
#else
#define SAME_NAME(i) (strcmp(t_class_names[i], EXPECTED[i]) == 0)
#endif
#endif

int main(void) {
#ifndef SKIP_NAMES
    unsigned i;
    for (i = 0; i < sizeof EXPECTED / sizeof EXPECTED[0]; i++)
        if (!SAME_NAME(i)) return (int)i + 1;
    if (T_N_CLASS_NAMES != sizeof EXPECTED / sizeof EXPECTED[0]) return 99;
#endif
    return t_setup() == MLRN_OK ? 0 : 99;
}
