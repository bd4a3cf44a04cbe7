/* A host program that tries to write MARKER_FILE (-D, a path outside its run directory) and to read
 * /etc/passwd: confined, both fail. Prints what it could do. */
#include <stdio.h>
#include "mlrn_target.h"
int main(void) {
    FILE *f = fopen(MARKER_FILE, "w");
    FILE *g = fopen("/etc/passwd", "r");
    mlrn_target_init();
    mlrn_io_puts(f ? "opened " : "refused ");
    mlrn_io_puts(g ? "read\n" : "unread\n");
    mlrn_target_exit(0);
}
