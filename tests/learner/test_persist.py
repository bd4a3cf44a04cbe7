"""Power-safe persistence (mlrn_persist.h): host and simavr fault injection, format interop.

The C programs below are test drivers: a host driver (RAM-backed storage with a
power-cut injector) and an ATmega328P firmware using the avr-libc EEPROM callbacks,
run by support/avr/eeprom_runner.c which preloads/dumps the EEPROM and cuts the power
after N EEPROM byte writes.
"""
from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import microlearn
from microlearn.learner import persist_format as pf
from microlearn.targets import get_target
from microlearn.targets.base import COMMON_CFLAGS, SUPPORT_DIR

INCLUDE = Path(microlearn.include_dir())

HOST_DRIVER = r"""
/* Host test driver of mlrn_persist.h (commands on stdin, results on stdout). */
#include "mlrn_target.h"
#include "mlrn_persist.h"
#include "mlrn_persist_ram.h"
#include <string.h>

#define MAXS 2048u

static uint8_t mem[MAXS], before[MAXS], after[MAXS], buf[MAXS];
static mlrn_persist_ram ram;
static mlrn_storage st;
static uint32_t fails;

static void put_kv(const char *k, uint32_t v) {
    mlrn_io_puts(k);
    mlrn_target_putc(' ');
    mlrn_io_put_u32(v);
    mlrn_target_putc('\n');
}

static void put_hex(const uint8_t *p, uint32_t n) {
    static const char d[] = "0123456789abcdef";
    uint32_t i;
    for (i = 0; i < n; i++) {
        mlrn_target_putc(d[p[i] >> 4]);
        mlrn_target_putc(d[p[i] & 15u]);
    }
}

static void fail(const char *what, uint32_t a, uint32_t b, uint32_t c) {
    fails++;
    if (fails > 20u) return;
    mlrn_io_puts("FAIL ");
    mlrn_io_puts(what);
    mlrn_target_putc(' ');
    mlrn_io_put_u32(a);
    mlrn_target_putc(' ');
    mlrn_io_put_u32(b);
    mlrn_target_putc(' ');
    mlrn_io_put_u32(c);
    mlrn_target_putc('\n');
}

/* Payload of version k: length and bytes both depend on k. */
static uint32_t pay_len(uint32_t k, uint32_t cap) { return (37u + 29u * k) % (cap + 1u); }
static uint8_t pay_byte(uint32_t k, uint32_t i) { return (uint8_t)(k * 131u + i * 7u + (i >> 3) + 1u); }

static mlrn_status src_cb(void *ctx, uint32_t off, uint8_t *b, uint16_t n) {
    uint32_t k = *(const uint32_t *)ctx;
    uint16_t i;
    for (i = 0; i < n; i++) b[i] = pay_byte(k, off + i);
    return MLRN_OK;
}

static mlrn_status save_version(uint32_t k) {
    uint32_t kk = k;
    return mlrn_persist_save_from(&st, (uint16_t)(0x100u + k), pay_len(k, mlrn_persist_capacity(&st)), src_cb, &kk);
}

/* 1 if the loaded payload (info) is exactly version k. */
static int is_version(const mlrn_persist_info *info, uint32_t k) {
    uint32_t i, n = pay_len(k, mlrn_persist_capacity(&st));
    if (info->len != n || info->tag != (uint16_t)(0x100u + k)) return 0;
    for (i = 0; i < n; i++)
        if (buf[i] != pay_byte(k, i)) return 0;
    return 1;
}

static void setup(uint32_t size, uint8_t flash) {
    mlrn_persist_ram_init(&ram, mem, size, 0xFFu);
    mlrn_persist_ram_flash(&ram, flash);
    mlrn_persist_ram_bind(&ram, &st);
}

/* Cut the power at every byte of each of n saves, in every cut mode. */
static void sweep(uint32_t size, uint8_t flash, uint32_t n) {
    uint32_t k, cut, total, cuts = 0, old_kept = 0, new_got = 0, passes;
    static const uint8_t garbage[2] = {MLRN_PERSIST_MAGIC0, 0xA5u};
    setup(size, flash);
    fails = 0;
    for (k = 1; k <= n; k++) {
        mlrn_persist_info prev = {0, 0, 0, 0, 0, 0};
        int had_prev = mlrn_persist_find(&st, &prev) == MLRN_OK;
        memcpy(before, mem, size);
        ram.bytes_written = 0;
        if (save_version(k) != MLRN_OK) fail("clean-save", k, 0, 0);
        total = ram.bytes_written;
        memcpy(after, mem, size);
        for (passes = 0; passes < 4; passes++) {
            uint8_t mode = passes == 0 ? MLRN_PERSIST_RAM_CUT_CLEAN : passes == 1 ? MLRN_PERSIST_RAM_CUT_ERASED : MLRN_PERSIST_RAM_CUT_GARBAGE;
            for (cut = 0; cut <= total; cut++) {
                mlrn_persist_info info;
                mlrn_status s;
                memcpy(mem, before, size);
                ram.powered = 1;
                mlrn_persist_ram_cut_after(&ram, cut, mode);
                ram.garbage = passes >= 2 ? garbage[passes - 2] : 0;
                s = save_version(k);
                if (cut < total && s != MLRN_ERR_IO) fail("cut-save-status", k, cut, (uint32_t)(int32_t)s);
                if (cut == total && s != MLRN_OK) fail("full-save-status", k, cut, (uint32_t)(int32_t)s);
                mlrn_persist_ram_power_on(&ram);
                cuts++;
                s = mlrn_persist_load(&st, buf, sizeof buf, &info);
                if (s == MLRN_OK) {
                    if (is_version(&info, k) && info.seq == k) new_got++;
                    else if (k > 1 && is_version(&info, k - 1) && info.seq == k - 1) old_kept++;
                    else fail("garbage-loaded", k, cut, info.seq);
                    if (cut == total && !is_version(&info, k)) fail("complete-save-not-loaded", k, cut, 0);
                } else if (!(s == MLRN_ERR_CRC && k == 1 && cut < total)) {
                    fail("load-status", k, cut, (uint32_t)(int32_t)s);
                }
                /* a torn slot never carries the commit mark: it fails on the magic, not only on the CRC */
                {
                    uint8_t sl;
                    for (sl = 0; sl < 2; sl++) {
                        const uint8_t *m = mem + (sl ? size / 2u : 0u);
                        if (m[0] == MLRN_PERSIST_MAGIC0 && m[1] == MLRN_PERSIST_MAGIC1 && m[2] == MLRN_PERSIST_MAGIC2 &&
                            m[3] == MLRN_PERSIST_MAGIC3 && mlrn_persist_check_slot(&st, sl, NULL) != MLRN_OK)
                            fail("torn-slot-with-magic", k, cut, sl);
                    }
                }
                /* the slot that held the previous copy is byte-for-byte untouched */
                if (had_prev && memcmp(mem + prev.addr, before + prev.addr, size / 2u) != 0)
                    fail("previous-slot-touched", k, cut, 0);
                /* and the device can keep saving after the cut */
                s = save_version(1000u + k);
                if (s != MLRN_OK) fail("save-after-cut", k, cut, (uint32_t)(int32_t)s);
                s = mlrn_persist_load(&st, buf, sizeof buf, &info);
                if (s != MLRN_OK || !is_version(&info, 1000u + k)) fail("load-after-recovery", k, cut, 0);
            }
        }
        memcpy(mem, after, size);
    }
    put_kv("cuts", cuts);
    put_kv("old_kept", old_kept);
    put_kv("new_loaded", new_got);
    put_kv("fails", fails);
}

/* Flip every bit of the newest slot's header and payload, and of the older slot. */
static void bitflips(uint32_t size) {
    uint32_t bit, nbits, flips = 0, k;
    uint8_t slot;
    setup(size, 0);
    fails = 0;
    save_version(1); /* A */
    save_version(2); /* B, newest */
    for (slot = 0; slot < 2; slot++) {
        uint32_t base = slot ? size / 2u : 0u;
        uint32_t expect = slot ? 1u : 2u; /* the other one */
        nbits = (MLRN_PERSIST_HEADER + pay_len(slot ? 2u : 1u, mlrn_persist_capacity(&st))) * 8u;
        for (bit = 0; bit < nbits; bit++) {
            mlrn_persist_info info;
            mlrn_status s;
            mem[base + bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            if (mlrn_persist_check_slot(&st, slot, NULL) != MLRN_ERR_CRC) fail("flip-undetected", slot, bit, 0);
            s = mlrn_persist_load(&st, buf, sizeof buf, &info);
            if (s != MLRN_OK || !is_version(&info, expect)) fail("flip-wrong-load", slot, bit, (uint32_t)(int32_t)s);
            mem[base + bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            flips++;
        }
    }
    /* two random bits anywhere in the newest slot, and both slots damaged */
    for (k = 0; k < 2000u; k++) {
        uint32_t n2 = (MLRN_PERSIST_HEADER + pay_len(2u, mlrn_persist_capacity(&st))) * 8u;
        uint32_t b1 = (k * 2654435761u) % n2, b2 = (k * 40503u + 17u) % n2;
        uint32_t base = size / 2u;
        mlrn_persist_info info;
        if (b1 == b2) continue;
        mem[base + b1 / 8u] ^= (uint8_t)(1u << (b1 % 8u));
        mem[base + b2 / 8u] ^= (uint8_t)(1u << (b2 % 8u));
        if (mlrn_persist_load(&st, buf, sizeof buf, &info) != MLRN_OK || !is_version(&info, 1))
            fail("double-flip", b1, b2, 0);
        mem[0] ^= 0x10u; /* and A too */
        if (mlrn_persist_load(&st, buf, sizeof buf, &info) != MLRN_ERR_CRC) fail("both-bad", b1, b2, 0);
        mem[0] ^= 0x10u;
        mem[base + b1 / 8u] ^= (uint8_t)(1u << (b1 % 8u));
        mem[base + b2 / 8u] ^= (uint8_t)(1u << (b2 % 8u));
        flips++;
    }
    put_kv("flips", flips);
    put_kv("fails", fails);
}

static mlrn_status bad_read(void *ctx, uint32_t a, uint8_t *b, uint16_t n) {
    (void)ctx; (void)a; (void)b; (void)n;
    return MLRN_ERR_IO;
}

static void check(const char *name, mlrn_status got, mlrn_status want) {
    if (got != want) {
        mlrn_io_puts("FAIL ");
        mlrn_io_puts(name);
        mlrn_target_putc(' ');
        mlrn_io_put_i32(got);
        mlrn_target_putc('\n');
        fails++;
    }
}

/* CRC vector, serial arithmetic and argument validation. */
static void unit(void) {
    mlrn_storage bad;
    mlrn_persist_writer w;
    mlrn_persist_info info;
    uint8_t small[4];
    uint32_t c;
    fails = 0;
    put_kv("crc", mlrn_crc32("123456789", 9));
    c = mlrn_crc32_update(mlrn_crc32_init(), "1234", 4);
    c = mlrn_crc32_update(c, "56789", 5);
    put_kv("crc_incremental", mlrn_crc32_final(c));
    put_kv("crc_empty", mlrn_crc32("", 0));
    put_kv("newer_1_0", (uint32_t)mlrn_persist_seq_newer(1u, 0u));
    put_kv("newer_0_ffffffff", (uint32_t)mlrn_persist_seq_newer(0u, 0xFFFFFFFFu));
    put_kv("newer_ffffffff_0", (uint32_t)mlrn_persist_seq_newer(0xFFFFFFFFu, 0u));
    put_kv("newer_5_5", (uint32_t)mlrn_persist_seq_newer(5u, 5u));
    setup(256, 0);
    put_kv("capacity", mlrn_persist_capacity(&st));
    check("blank-load", mlrn_persist_load(&st, buf, sizeof buf, &info), MLRN_ERR_CRC);
    check("null-storage-load", mlrn_persist_load(NULL, buf, sizeof buf, &info), MLRN_ERR_ARG);
    check("null-storage-save", mlrn_persist_save(NULL, 0, buf, 4), MLRN_ERR_ARG);
    check("null-data-save", mlrn_persist_save(&st, 0, NULL, 4), MLRN_ERR_ARG);
    check("null-buf-load", mlrn_persist_load(&st, NULL, 4, &info), MLRN_ERR_ARG);
    check("null-info-find", mlrn_persist_find(&st, NULL), MLRN_ERR_ARG);
    check("bad-slot", mlrn_persist_check_slot(&st, 2, NULL), MLRN_ERR_ARG);
    bad = st;
    bad.read = NULL;
    check("null-read", mlrn_persist_load(&bad, buf, sizeof buf, &info), MLRN_ERR_ARG);
    bad = st;
    bad.write = NULL;
    check("null-write", mlrn_persist_save(&bad, 0, buf, 1), MLRN_ERR_ARG);
    bad = st;
    bad.size = 2u * MLRN_PERSIST_HEADER - 1u;
    check("tiny-storage", mlrn_persist_save(&bad, 0, buf, 0), MLRN_ERR_ARG);
    check("too-big", mlrn_persist_save(&st, 0, buf, mlrn_persist_capacity(&st) + 1u), MLRN_ERR_BUFFER);
    check("null-src", mlrn_persist_save_from(&st, 0, 4, NULL, NULL), MLRN_ERR_ARG);
    check("save-empty", mlrn_persist_save(&st, 7, NULL, 0), MLRN_OK);
    check("load-empty", mlrn_persist_load(&st, NULL, 0, &info), MLRN_OK);
    if (info.len != 0u || info.tag != 7u || info.seq != MLRN_PERSIST_FIRST_SEQ) fails++;
    check("save-full", mlrn_persist_save(&st, 8, mem, mlrn_persist_capacity(&st)), MLRN_OK);
    check("load-small-buf", mlrn_persist_load(&st, small, sizeof small, &info), MLRN_ERR_BUFFER);
    check("read-past-end", mlrn_persist_read(&st, &info, info.len, small, 1), MLRN_ERR_ARG);
    check("read-part", mlrn_persist_read(&st, &info, 3, small, 4), MLRN_OK);
    /* streaming misuse: nothing gets committed, the previous copy stays the newest */
    check("begin", mlrn_persist_save_begin(&w, &st, 9, 8), MLRN_OK);
    check("chunk", mlrn_persist_save_chunk(&w, (const uint8_t *)"abcd", 4), MLRN_OK);
    check("end-short", mlrn_persist_save_end(&w), MLRN_ERR_ARG);
    check("chunk-closed", mlrn_persist_save_chunk(&w, (const uint8_t *)"abcd", 4), MLRN_ERR_ARG);
    check("begin2", mlrn_persist_save_begin(&w, &st, 9, 2), MLRN_OK);
    check("chunk-over", mlrn_persist_save_chunk(&w, (const uint8_t *)"abcd", 4), MLRN_ERR_ARG);
    check("end-after-over", mlrn_persist_save_end(&w), MLRN_ERR_ARG);
    check("begin3", mlrn_persist_save_begin(&w, &st, 9, 2), MLRN_OK);
    check("abort", mlrn_persist_save_abort(&w), MLRN_OK);
    check("find-after-misuse", mlrn_persist_find(&st, &info), MLRN_OK);
    if (info.tag != 8u) fails++;
    check("end-null", mlrn_persist_save_end(NULL), MLRN_ERR_ARG);
    check("begin-null", mlrn_persist_save_begin(NULL, &st, 0, 0), MLRN_ERR_ARG);
    bad = st;
    bad.read = bad_read;
    check("io-error-load", mlrn_persist_load(&bad, buf, sizeof buf, &info), MLRN_ERR_IO);
    check("io-error-save", mlrn_persist_save(&bad, 0, buf, 4), MLRN_ERR_IO);
    check("wipe", mlrn_persist_wipe(&st), MLRN_OK);
    check("load-after-wipe", mlrn_persist_load(&st, buf, sizeof buf, &info), MLRN_ERR_CRC);
    check("ram-init-null", mlrn_persist_ram_init(NULL, mem, 4, 0), MLRN_ERR_ARG);
    check("ram-cut-mode", mlrn_persist_ram_cut_after(&ram, 1, 9), MLRN_ERR_ARG);
    put_kv("fails", fails);
}

static uint32_t rd_u32(void) {
    uint8_t b[4];
    if (mlrn_io_read_bytes(b, 4)) mlrn_target_exit(3);
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* Image mode: 'I' size image[size], then ops: 's' tag len data | 'l' | 'd' | 'q'. */
static void image_ops(void) {
    uint32_t size = rd_u32();
    if (size > MAXS) mlrn_target_exit(4);
    setup(size, 0);
    if (mlrn_io_read_bytes(mem, (uint16_t)size)) mlrn_target_exit(3);
    for (;;) {
        int op = mlrn_target_getc();
        if (op == 's') {
            uint32_t tag = rd_u32(), len = rd_u32();
            if (len > MAXS || mlrn_io_read_bytes(buf, (uint16_t)len)) mlrn_target_exit(3);
            mlrn_io_puts("save ");
            mlrn_io_put_i32(mlrn_persist_save(&st, (uint16_t)tag, buf, len));
            mlrn_target_putc('\n');
        } else if (op == 'l') {
            mlrn_persist_info info;
            mlrn_status s = mlrn_persist_load(&st, buf, sizeof buf, &info);
            mlrn_io_puts("load ");
            mlrn_io_put_i32(s);
            if (s == MLRN_OK) {
                mlrn_target_putc(' '); mlrn_io_put_u32(info.slot);
                mlrn_target_putc(' '); mlrn_io_put_u32(info.seq);
                mlrn_target_putc(' '); mlrn_io_put_u32(info.tag);
                mlrn_target_putc(' '); mlrn_io_put_u32(info.len);
                mlrn_target_putc(' '); put_hex(buf, info.len);
            }
            mlrn_target_putc('\n');
        } else if (op == 'd') {
            mlrn_io_puts("image ");
            put_hex(mem, size);
            mlrn_target_putc('\n');
        } else {
            return;
        }
    }
}

int main(void) {
    int cmd;
    mlrn_target_init();
    cmd = mlrn_target_getc();
    if (cmd == 'u') unit();
    else if (cmd == 's') {
        uint32_t size = rd_u32(), flash = rd_u32(), n = rd_u32();
        if (size > MAXS) mlrn_target_exit(4);
        sweep(size, (uint8_t)flash, n);
    } else if (cmd == 'b') bitflips(rd_u32());
    else if (cmd == 'i') image_ops();
    mlrn_target_exit(0);
    return 0;
}

"""

AVR_FIRMWARE = r"""
/* AVR fault-injection firmware: saves/loads through mlrn_persist_avr_eeprom.h. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include "mlrn_persist.h"
#include "mlrn_persist_avr_eeprom.h"

#ifndef REGION_BASE
#define REGION_BASE 64
#endif
#ifndef REGION_SIZE
#define REGION_SIZE 256
#endif

static void out(char c) { GPIOR2 = (uint8_t)c; }
static void outs(const char *s) { while (*s) out(*s++); }
static void out_u32(uint32_t v) {
    char b[11];
    int i = 10;
    b[i] = 0;
    do { b[--i] = (char)('0' + (v % 10u)); v /= 10u; } while (v);
    outs(&b[i]);
}
static void out_i(int v) { if (v < 0) { out('-'); v = -v; } out_u32((uint32_t)v); }
static int in(void) {
    GPIOR0 = 1;
    if (GPIOR0 != 0) return -1;
    return GPIOR1;
}
static void halt(void) {
    cli();
    SMCR = (uint8_t)(_BV(SM1) | _BV(SE));
    for (;;) __asm__ __volatile__("sleep");
}

static uint32_t pay_len(uint32_t k, uint32_t cap) { return (37u + 29u * k) % (cap + 1u); }
static uint8_t pay_byte(uint32_t k, uint32_t i) { return (uint8_t)(k * 131u + i * 7u + (i >> 3) + 1u); }

static mlrn_status src_cb(void *ctx, uint32_t off, uint8_t *b, uint16_t n) {
    uint32_t k = *(const uint32_t *)ctx;
    uint16_t i;
    for (i = 0; i < n; i++) b[i] = pay_byte(k, off + i);
    return MLRN_OK;
}

int main(void) {
    static mlrn_persist_avr_eeprom ee;
    mlrn_storage st;
    int c;
    if (mlrn_persist_avr_eeprom_bind(&ee, &st, REGION_BASE, REGION_SIZE) != MLRN_OK) { outs("bind failed\n"); halt(); }
    while ((c = in()) >= 0) {
        if (c == 's') {
            uint32_t k = (uint32_t)in();
            mlrn_status s = mlrn_persist_save_from(&st, (uint16_t)(0x100u + k), pay_len(k, mlrn_persist_capacity(&st)), src_cb, &k);
            outs("save ");
            out_i(s);
            out('\n');
        } else if (c == 'l') {
            mlrn_persist_info info;
            mlrn_status s = mlrn_persist_find(&st, &info);
            outs("load ");
            out_i(s);
            if (s == MLRN_OK) {
                /* stream the payload: compare against version (tag - 0x100) byte by byte */
                uint32_t k = (uint32_t)info.tag - 0x100u, i, bad = 0;
                uint8_t b[8];
                if (info.len != pay_len(k, mlrn_persist_capacity(&st))) bad = 1;
                for (i = 0; i < info.len && !bad; i += 8u) {
                    uint16_t n = (uint16_t)(info.len - i < 8u ? info.len - i : 8u), j;
                    if (mlrn_persist_read(&st, &info, i, b, n) != MLRN_OK) bad = 2;
                    for (j = 0; j < n; j++) if (b[j] != pay_byte(k, i + j)) bad = 3;
                }
                out(' '); out_u32(info.slot);
                out(' '); out_u32(info.seq);
                out(' '); out_u32(k);
                out(' '); out_u32(info.len);
                out(' '); out_u32(bad);
            }
            out('\n');
        }
    }
    halt();
    return 0;
}

"""


# ----------------------------------------------------------------- host driver

@pytest.fixture(scope="module")
def host_driver(tmp_path_factory):
    work = tmp_path_factory.mktemp("persist_host")
    src = work / "persist_driver.c"
    src.write_text(HOST_DRIVER)
    t = get_target("host")
    build = t.build([src], work / "c", include_dirs=[INCLUDE])

    def run(data: bytes) -> str:
        return t.run(build, data, timeout=120).output
    return run


def kv(out: str) -> dict[str, int]:
    d = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            d[parts[0]] = int(parts[1])
    return d


def pay_len(k: int, cap: int) -> int:
    return (37 + 29 * k) % (cap + 1)


def pay_bytes(k: int, cap: int) -> bytes:
    return bytes((k * 131 + i * 7 + (i >> 3) + 1) & 0xFF for i in range(pay_len(k, cap)))


def test_crc32_vector():
    assert pf.crc32(b"123456789") == 0xCBF43926


def test_unit_and_argument_validation(host_driver):
    out = host_driver(b"u")
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["crc"] == 0xCBF43926 and d["crc_incremental"] == 0xCBF43926 and d["crc_empty"] == 0
    assert d["newer_1_0"] == 1 and d["newer_0_ffffffff"] == 1 and d["newer_ffffffff_0"] == 0 and d["newer_5_5"] == 0
    assert d["capacity"] == 128 - pf.HEADER_SIZE == pf.capacity(256)
    assert d["fails"] == 0


@pytest.mark.parametrize("flash", [0, 1], ids=["eeprom", "flash"])
def test_power_cut_at_every_byte_host(host_driver, flash):
    """5 saves (blank, then each over the previous), power cut at every byte of each,
    in 4 cut modes (clean, cell erased, garbage 'M', garbage 0xA5): the old or the new
    payload loads exactly, the previous slot is untouched, and saving works again."""
    out = host_driver(b"s" + struct.pack("<III", 512, flash, 5))
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["fails"] == 0
    assert d["cuts"] > (2000 if not flash else 6000)
    assert d["old_kept"] + d["new_loaded"] + 4 * pay_len(1, 236) > 0


def test_flipped_bits_detected_host(host_driver):
    out = host_driver(b"b" + struct.pack("<I", 512))
    d = kv(out)
    assert "FAIL" not in out, out
    assert d["fails"] == 0 and d["flips"] > 3000


def test_c_and_cxx_and_sanitizers(tmp_path):
    """The headers are C99 and C++11 clean under -Werror, and the sweep is clean under ASan/UBSan."""
    src = tmp_path / "persist_driver.c"
    src.write_text(HOST_DRIVER)
    t = get_target("host")
    t.build([src], tmp_path / "cxx", include_dirs=[INCLUDE], language="c++")
    t.build([src], tmp_path / "bitwise", include_dirs=[INCLUDE], defines={"MLRN_CRC32_BITWISE": 1})
    san = get_target("host", sanitize=True, opt="-O1")
    b = san.build([src], tmp_path / "san", include_dirs=[INCLUDE])
    assert kv(san.run(b, b"u").output)["fails"] == 0
    assert kv(san.run(b, b"s" + struct.pack("<III", 300, 1, 2)).output)["fails"] == 0


# ----------------------------------------------------------------- C <-> Python interop

def image_session(run, image: bytes, ops: bytes) -> list[str]:
    return run(b"i" + struct.pack("<I", len(image)) + bytes(image) + ops + b"q").splitlines()


def op_save(tag: int, payload: bytes) -> bytes:
    return b"s" + struct.pack("<II", tag, len(payload)) + payload


def parse_load(line: str):
    parts = line.split()
    assert parts[0] == "load"
    if int(parts[1]) != 0:
        return int(parts[1]), None
    slot, seq, tag, n = map(int, parts[2:6])
    payload = bytes.fromhex(parts[6]) if n else b""
    return 0, (slot, seq, tag, payload)


def test_c_writes_python_reads(host_driver):
    img = pf.new_image(256)
    lines = image_session(host_driver, img, op_save(7, b"model-v1") + op_save(8, b"model-v2!") + b"d")
    assert lines[0] == "save 0" and lines[1] == "save 0"
    image = bytes.fromhex(lines[2].split()[1])
    a, b = pf.parse_image(image)
    assert a.valid and a.payload == b"model-v1" and a.seq == 1 and a.tag == 7
    assert b.valid and b.payload == b"model-v2!" and b.seq == 2 and b.tag == 8
    assert pf.load(image).payload == b"model-v2!"
    assert "newest" in pf.describe(image)


def test_python_save_is_byte_identical_to_c(host_driver):
    rnd = random.Random(1)
    img = pf.new_image(300)
    ops = b""
    py = bytearray(img)
    for k in range(6):
        payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, pf.capacity(300) + 1)))
        ops += op_save(k, payload)
        pf.save(py, payload, tag=k)
    lines = image_session(host_driver, img, ops + b"d")
    assert lines[:6] == ["save 0"] * 6
    assert bytes.fromhex(lines[6].split()[1]) == bytes(py)


@pytest.mark.parametrize("seqs", [(0xFFFFFFFF, 0xFFFFFFFE), (0xFFFFFFFE, 0xFFFFFFFF), (0, 0xFFFFFFFF),
                                  (0x7FFFFFFF, 0x7FFFFFFE), (5, 5)])
def test_python_writes_c_reads_sequence_wrap(host_driver, seqs):
    """Python writes both slots with sequence numbers around the wrap; C must pick the
    serial-arithmetic newest, and its next saves continue the sequence across 2**32."""
    img = pf.new_image(256)
    pf.write_slot(img, 0, b"slot-A", seqs[0], tag=1)
    pf.write_slot(img, 1, b"slot-B", seqs[1], tag=2)
    want = pf.load(img)
    lines = image_session(host_driver, img, b"l" + op_save(3, b"next-1") + b"l" + op_save(4, b"next-2") + b"l" + b"d")
    st, (slot, seq, tag, payload) = parse_load(lines[0])
    assert (slot, seq, payload) == (want.slot, want.seq, want.payload)
    if seqs == (5, 5):
        assert slot == 0  # tie -> A
    for i, (line, expect) in enumerate(((lines[2], b"next-1"), (lines[4], b"next-2"))):
        _, (slot2, seq2, _, payload2) = parse_load(line)
        assert payload2 == expect and seq2 == (want.seq + 1 + i) & 0xFFFFFFFF
    final = bytes.fromhex(lines[5].split()[1])
    assert pf.load(final).payload == b"next-2"


def test_python_reader_rejects_damage():
    img = pf.new_image(128)
    pf.save(img, b"abc", tag=1)
    pf.save(img, b"defg", tag=2)
    assert pf.load(img).payload == b"defg"
    for bit in range((pf.HEADER_SIZE + 4) * 8):
        bad = bytearray(img)
        bad[64 + bit // 8] ^= 1 << (bit % 8)
        assert not pf.parse_slot(bad, 1).valid
        assert pf.load(bad).payload == b"abc"
    with pytest.raises(pf.NoValidSlot):
        pf.load(pf.new_image(128))


@pytest.mark.parametrize("erase", [False, True])
def test_python_model_of_write_order_is_power_safe(erase):
    """The documented write order, cut at every byte (Python model): old or new, never garbage."""
    img = pf.new_image(200)
    prev = None
    for k in range(4):
        payload = bytes([k + 1]) * (10 + 13 * k)
        ops = pf.save_ops(img, payload, tag=k, erase=erase)
        total = sum(o.length if o.kind == "erase" else len(o.data) for o in ops)
        for cut in range(total + 1):
            for garbage in (None, 0x4D, 0xFF):
                t = bytearray(img)
                n = pf.apply_ops(t, ops, limit=cut, flash=erase)
                if n < total and garbage is not None:
                    # the byte at the cut gets garbage
                    pos = 0
                    for o in ops:
                        ln = o.length if o.kind == "erase" else len(o.data)
                        if pos + ln > n:
                            t[o.addr + n - pos] = garbage
                            break
                        pos += ln
                got = pf.newest(t)
                if cut == total:
                    assert got.payload == payload
                elif got is None:
                    assert prev is None
                else:
                    assert got.payload in (payload, prev)
                for s in pf.parse_image(t):  # a torn slot never carries the commit mark
                    assert s.valid or s.reason == "magic"
        pf.apply_ops(img, ops, flash=erase)
        prev = payload


# ----------------------------------------------------------------- AVR EEPROM on simavr

REGION_BASE, REGION_SIZE = 64, 256


@pytest.fixture(scope="module")
def avr(tmp_path_factory):
    missing = [t for t in ("avr-gcc", "gcc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing {missing}: apt-get install gcc-avr avr-libc")
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        pytest.skip("libsimavr headers missing: apt-get install libsimavr-dev")
    work = tmp_path_factory.mktemp("persist_avr")
    runner = work / "eeprom_runner"
    p = subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I/usr/include/simavr",
                        str(SUPPORT_DIR / "avr" / "eeprom_runner.c"), "-lsimavr", "-o", str(runner)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"cannot build eeprom_runner against libsimavr: {p.stderr[:300]}")
    src = work / "fw.c"
    src.write_text(AVR_FIRMWARE)
    elf = work / "fw.elf"
    p = subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-DF_CPU=16000000UL", "-std=c99", *COMMON_CFLAGS,
                        f"-DREGION_BASE={REGION_BASE}", f"-DREGION_SIZE={REGION_SIZE}", "-I", str(INCLUDE),
                        str(src), "-o", str(elf)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return AvrRig(runner, elf, work)


class AvrRig:
    def __init__(self, runner, elf, work):
        self.runner, self.elf, self.work = runner, elf, work
        self.n = 0

    def run(self, image: bytes | None, commands: bytes, cut: int = -1, mode: str = "clean", garbage: int = 0):
        self.n += 1
        inp = self.work / f"in{self.n % 2}.bin"
        out = self.work / f"out{self.n % 2}.bin"
        if image is not None:
            inp.write_bytes(image)
        p = subprocess.run([str(self.runner), "atmega328p", "16000000", "200000000", str(self.elf),
                            str(inp) if image is not None else "-", str(out), str(cut), mode, str(garbage)],
                           input=commands, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        rep = dict(re.findall(r"(\w+)=(\w+)", p.stderr.decode().strip().splitlines()[-1]))
        assert rep["status"] == "exit", rep
        return p.stdout.decode(), out.read_bytes(), rep


def region(ee: bytes) -> bytes:
    return ee[REGION_BASE:REGION_BASE + REGION_SIZE]


def avr_loaded(out: str):
    """Parse the firmware's last 'load' line -> (status, slot, seq, version, len, bad)."""
    line = [ln for ln in out.splitlines() if ln.startswith("load")][-1].split()
    vals = tuple(int(x) for x in line[1:])
    return vals + (None,) * (6 - len(vals))


@pytest.mark.avr
def test_avr_eeprom_roundtrip_and_python_decode(avr):
    out, ee, rep = avr.run(None, b"s\x01s\x02s\x03l")
    assert out.splitlines()[:3] == ["save 0"] * 3
    st, slot, seq, ver, n, bad = avr_loaded(out)
    assert (st, seq, ver, bad) == (0, 3, 3, 0)
    cap = pf.capacity(REGION_SIZE)
    info = pf.load(region(ee))
    assert info.seq == 3 and info.tag == 0x103 and info.payload == pay_bytes(3, cap)
    assert ee[:REGION_BASE] == b"\xff" * REGION_BASE and set(ee[REGION_BASE + REGION_SIZE:]) == {0xFF}
    # Python writes an image around the sequence wrap, the device reads it and saves after it
    img = pf.new_image(REGION_SIZE)
    pf.write_slot(img, 0, pay_bytes(5, cap), 0xFFFFFFFF, tag=0x105)
    pf.write_slot(img, 1, pay_bytes(4, cap), 0xFFFFFFFE, tag=0x104)
    full = b"\xff" * REGION_BASE + bytes(img) + b"\xff" * (1024 - REGION_BASE - REGION_SIZE)
    out, ee, _ = avr.run(full, b"ls\x06l")
    lines = out.splitlines()
    first = tuple(int(x) for x in lines[0].split()[1:])
    assert first[0] == 0 and first[2] == 0xFFFFFFFF and first[3] == 5 and first[5] == 0
    st, slot, seq, ver, n, bad = avr_loaded(out)
    assert (st, slot, seq, ver, bad) == (0, 1, 0, 6, 0)
    assert pf.load(region(ee)).seq == 0 and pf.load(region(ee)).payload == pay_bytes(6, cap)


def avr_cut_sweep(avr, versions, modes, stride=1):
    """For each save k over the image holding k-1: cut after every `stride`-th EEPROM byte
    write, reboot, load. Returns (cuts, old, new)."""
    cap = pf.capacity(REGION_SIZE)
    image = None
    cuts = old = new = 0
    for k in versions:
        _, after, rep = avr.run(image, bytes([ord("s"), k]))
        total = int(rep["writes"])
        before = image
        prev_slot = pf.newest(region(before)) if before is not None else None
        for mode, garbage in modes:
            for cut in list(range(0, total, stride)) + [total]:
                out, ee, rep = avr.run(before, bytes([ord("s"), k, ord("l")]), cut=cut, mode=mode, garbage=garbage)
                assert rep["cut"] == ("1" if cut < total else "0")
                st, slot, seq, ver, n, bad = avr_loaded(out)
                reg = region(ee)
                if st != 0:
                    assert prev_slot is None and cut < total, (k, cut, st)
                else:
                    assert bad == 0, (k, cut, mode)
                    assert ver in (k, versions[versions.index(k) - 1] if versions.index(k) else k), (k, cut, ver)
                    assert pf.load(reg).payload == pay_bytes(ver, cap)
                    if cut == total:
                        assert ver == k
                    new += ver == k
                    old += ver != k
                if prev_slot is not None:  # the previous copy is untouched
                    a = prev_slot.addr
                    assert reg[a:a + REGION_SIZE // 2] == region(before)[a:a + REGION_SIZE // 2]
                for s in pf.parse_image(reg):  # torn slots carry no commit mark
                    assert s.valid or s.reason == "magic", (k, cut, mode, s)
                cuts += 1
        image = after
    return cuts, old, new


@pytest.mark.avr
def test_avr_power_cut_every_eeprom_write(avr):
    """simavr, avr-libc eeprom_update_block path: every EEPROM byte write of the first
    save (blank EEPROM), of v2 over v1 and of v3 over v2; the cell at the cut keeps its
    old value, or holds 'M' (the worst garbage: the first magic byte)."""
    cuts, old, new = avr_cut_sweep(avr, [1, 2, 3], [("clean", 0), ("garbage", 0x4D)])
    assert cuts > 400 and old > 200


@pytest.mark.avr
@pytest.mark.slow
def test_avr_power_cut_every_eeprom_write_all_modes(avr):
    cuts, old, new = avr_cut_sweep(avr, [1, 2, 3, 4, 5],
                                   [("clean", 0), ("erased", 0), ("garbage", 0x4D), ("garbage", 0xA5)])
    assert cuts > 1400


@pytest.mark.avr
def test_avr_flipped_bit_ignored(avr):
    _, ee, _ = avr.run(None, b"s\x01s\x02")
    rnd = random.Random(3)
    base_b = REGION_BASE + REGION_SIZE // 2
    n_b = pf.HEADER_SIZE + pay_len(2, pf.capacity(REGION_SIZE))
    bits = list(range(pf.HEADER_SIZE * 8)) + rnd.sample(range(pf.HEADER_SIZE * 8, n_b * 8), 12)
    for bit in bits[::4]:  # every 4th header bit + random payload bits: 52 boots
        bad = bytearray(ee)
        bad[base_b + bit // 8] ^= 1 << (bit % 8)
        out, _, _ = avr.run(bytes(bad), b"l")
        st, slot, seq, ver, n, badp = avr_loaded(out)
        assert (st, slot, ver, badp) == (0, 0, 1, 0), bit
