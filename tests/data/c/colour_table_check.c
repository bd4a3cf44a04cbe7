/* The readings table microlearn.learner.envs.colour.export_c_table generates (colour_readings.h, written by
 * tests/data/test_streams.py into the build directory) compiles, and holds what the stream held: exits 0 if
 * its first reading is FIRST_READING and its last label LAST_LABEL (both passed by the test with -D). */
#include "colour_readings.h"

int main(void) {
    return colour_readings[0][0] == FIRST_READING && colour_readings_labels[59] == LAST_LABEL ? 0 : 1;
}
