/* Prints each entry of m_class_names (the exported model m.h) as hex bytes, one line per name, so the test
 * compares them with the labels' bytes exactly (quotes, backslashes, newlines, non-ASCII included). */
#include <stdio.h>
#include "m.h"

int main(void) {
    unsigned i;
    const unsigned char *p;
    for (i = 0; i < m_N_CLASS_NAMES; i++) {
        for (p = (const unsigned char *)m_class_names[i]; *p; p++) printf("%02x", (unsigned)*p);
        printf("\n");
    }
    return 0;
}
