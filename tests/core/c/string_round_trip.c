/* Writes every value of literals.h (written by test_hostile_codegen.py: V, the values as c_format.c_string
 * literals, and N, each one's length as sizeof the literal - 1) byte for byte, each followed by FE FF: the
 * test compares the output with the bytes it meant. */
#include <stdio.h>
#include "literals.h"

int main(void) {
    unsigned i;
    for (i = 0; i < sizeof N / sizeof N[0]; i++) {
        fwrite(V[i], 1, N[i], stdout);
        fputc(0xFE, stdout);
        fputc(0xFF, stdout);
    }
    return 0;
}
