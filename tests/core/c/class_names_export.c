/* The exported model m.h, from an estimator fitted on hostile class names (test_hostile_codegen.py), names
 * them exactly: each entry of m_class_names is the name meant (EXPECTED in expected_names.h, written by the
 * test as c_format.c_string literals), and there are as many. Exit code 0; else the index + 1 of the first
 * name that differs, or 99. On AVR the table and its strings are in flash (pgm_read_ptr, strcmp_P). */
#include <string.h>
#include "m.h"
#include "expected_names.h"
#ifdef __AVR__
#define SAME_NAME(i) (strcmp_P(EXPECTED[i], (const char *)pgm_read_ptr(&m_class_names[i])) == 0)
#else
#define SAME_NAME(i) (strcmp(m_class_names[i], EXPECTED[i]) == 0)
#endif

int main(void) {
    unsigned i;
    for (i = 0; i < sizeof EXPECTED / sizeof EXPECTED[0]; i++)
        if (!SAME_NAME(i)) return (int)i + 1;
    return m_N_CLASS_NAMES == sizeof EXPECTED / sizeof EXPECTED[0] ? 0 : 99;
}
