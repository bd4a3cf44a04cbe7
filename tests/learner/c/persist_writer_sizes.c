/* The persistence writer and reader as static objects and nothing else: their sizes, read from the AVR
 * object file, are what a save costs in RAM (tests/learner/test_hostile_persist.py). */
#include "mlrn_persist.h"

mlrn_persist_writer writer;
mlrn_persist_reader reader;
