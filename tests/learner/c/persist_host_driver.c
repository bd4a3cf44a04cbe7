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
