/* Shared by the persistence test drivers persist_faults.c and persist_program_word.c (tests/learner/
 * test_hostile_persist.py): what a learner would save, to compare the state a load gave back with the one saved. */
#ifndef PERSIST_TEST_UTIL_H
#define PERSIST_TEST_UTIL_H

#include "mlrn_learner.h"
#include "mlrn_persist_ram.h"

/* The largest payload learner_state_bytes gives back. */
#define STATE_MAX 1200u

/* The payload l would save in format fmt (1: mlrn_learner_save, 2: mlrn_learner_save_all), through a scratch
 * RAM storage (byte-writable), copied into out (cap bytes): its length, or 0 if the save or the load fails
 * (a payload over cap or STATE_MAX included). */
static uint32_t learner_state_bytes(const mlrn_learner *l, uint8_t fmt, uint8_t *out, uint32_t cap) {
    static uint8_t scratch[2u * (MLRN_PERSIST_HEADER + STATE_MAX)];
    mlrn_persist_ram sram;
    mlrn_storage sst;
    mlrn_persist_info info;
    mlrn_persist_ram_init(&sram, scratch, sizeof scratch, 0xFF);
    mlrn_persist_ram_bind(&sram, &sst);
    if ((fmt == 1 ? mlrn_learner_save(l, &sst) : mlrn_learner_save_all(l, &sst)) != MLRN_OK) return 0;
    if (mlrn_persist_load(&sst, out, cap, &info) != MLRN_OK) return 0;
    return info.len;
}

#endif
