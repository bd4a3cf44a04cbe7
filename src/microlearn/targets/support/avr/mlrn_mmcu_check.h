/* mlrn_mmcu_check.h: refuse an AVR ELF whose .mmcu section would overflow simavr's buffers.
 *
 * simavr's elf_read_firmware() (sim_elf.c) copies the .mmcu tags of the firmware (simavr's AVR_MCU
 * macros) into a fixed elf_firmware_t with strcpy() and an unbounded trace index: a name tag longer
 * than 64 bytes, a VCD file name longer than 128, more than 32 traced signals, a string without its
 * NUL or a tag running past the section end overwrite the runner's stack. Firmware is untrusted, so
 * the runners check the section with this parser, which bounds every read, before simavr sees it.
 * A well-formed section is accepted (its host requests are then cleared by the runner).
 *
 * mlrn_mmcu_check(path, why, n): 0 = no .mmcu section or a well-formed one; -1 = refused or
 * unreadable, with the reason in `why`. */
#ifndef MLRN_MMCU_CHECK_H
#define MLRN_MMCU_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MLRN_ELF_MAX_BYTES (64u << 20)

/* Tags of simavr's avr_mcu_section.h (simavr 1.6). */
enum {
    MLRN_MMCU_NAME = 1, MLRN_MMCU_FREQUENCY, MLRN_MMCU_VCC, MLRN_MMCU_AVCC, MLRN_MMCU_AREF, MLRN_MMCU_LFUSE,
    MLRN_MMCU_HFUSE, MLRN_MMCU_EFUSE, MLRN_MMCU_SIGNATURE, MLRN_MMCU_COMMAND, MLRN_MMCU_CONSOLE,
    MLRN_MMCU_VCD_FILENAME, MLRN_MMCU_VCD_PERIOD, MLRN_MMCU_VCD_TRACE, MLRN_MMCU_VCD_PORTPIN, MLRN_MMCU_VCD_IRQ,
    MLRN_MMCU_PORT_EXTERNAL_PULL
};

static uint32_t mlrn_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t mlrn_le16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* A NUL-terminated string of at most max-1 characters within p[0..n). */
static int mlrn_mmcu_string(const uint8_t *p, uint32_t n, uint32_t max) {
    uint32_t i;
    for (i = 0; i < n && i < max; i++)
        if (p[i] == 0) return 1;
    return 0;
}

static int mlrn_mmcu_tags(const uint8_t *p, uint32_t size, char *why, size_t whylen) {
    uint32_t traces = 0;
    while (size > 0) {
        uint8_t tag, ts;
        const uint8_t *v;
        if (size < 2) {
            snprintf(why, whylen, "a tag header runs past the section end");
            return -1;
        }
        tag = p[0];
        ts = p[1];
        v = p + 2;
        if ((uint32_t)ts + 2 > size) {
            snprintf(why, whylen, "tag %u (%u bytes) runs past the section end", tag, ts);
            return -1;
        }
        switch (tag) {
        case MLRN_MMCU_NAME:
            if (!mlrn_mmcu_string(v, ts, 64)) goto bad_string;
            break;
        case MLRN_MMCU_VCD_FILENAME:
            if (!mlrn_mmcu_string(v, ts, 128)) goto bad_string;
            break;
        case MLRN_MMCU_FREQUENCY: case MLRN_MMCU_VCC: case MLRN_MMCU_AVCC: case MLRN_MMCU_AREF:
        case MLRN_MMCU_VCD_PERIOD: case MLRN_MMCU_PORT_EXTERNAL_PULL:
            if (ts < 4) goto short_tag;
            break;
        case MLRN_MMCU_COMMAND: case MLRN_MMCU_CONSOLE:
            if (ts < 2) goto short_tag;
            break;
        case MLRN_MMCU_VCD_TRACE: case MLRN_MMCU_VCD_PORTPIN: case MLRN_MMCU_VCD_IRQ:
            if (ts < 3) goto short_tag;
            if (!mlrn_mmcu_string(v + 3, (uint32_t)ts - 3, 64)) goto bad_string;
            if (++traces > 32) {
                snprintf(why, whylen, "more than 32 traced signals");
                return -1;
            }
            break;
        default:
            break; /* simavr skips tags it does not know */
        }
        p += 2 + (uint32_t)ts;
        size -= 2 + (uint32_t)ts;
        continue;
    short_tag:
        snprintf(why, whylen, "tag %u has %u bytes, too few", tag, ts);
        return -1;
    bad_string:
        snprintf(why, whylen, "tag %u: string without its NUL or too long", tag);
        return -1;
    }
    return 0;
}

static int mlrn_mmcu_check(const char *path, char *why, size_t whylen) {
    FILE *f = fopen(path, "rb");
    uint8_t *elf = NULL;
    long len;
    uint32_t shoff, shentsize, shnum, shstrndx, stroff, strsize, i;
    int rc = -1;
    if (!f) {
        snprintf(why, whylen, "cannot read %s", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 52 || (unsigned long)len > MLRN_ELF_MAX_BYTES ||
        fseek(f, 0, SEEK_SET) != 0) {
        snprintf(why, whylen, "not an ELF file of a plausible size");
        goto done;
    }
    elf = malloc((size_t)len);
    if (!elf || fread(elf, 1, (size_t)len, f) != (size_t)len) {
        snprintf(why, whylen, "cannot read %s", path);
        goto done;
    }
    if (memcmp(elf, "\177ELF", 4) != 0 || elf[4] != 1 /* 32-bit */ || elf[5] != 1 /* little-endian */) {
        snprintf(why, whylen, "not a 32-bit little-endian ELF file");
        goto done;
    }
    shoff = mlrn_le32(elf + 32);
    shentsize = mlrn_le16(elf + 46);
    shnum = mlrn_le16(elf + 48);
    shstrndx = mlrn_le16(elf + 50);
    if (shnum == 0) {
        /* no sections: nothing for simavr to parse; with a table offset, libelf would read the count
         * from section 0 (extended numbering), which this parser does not follow: refused */
        if (shoff == 0) rc = 0;
        else snprintf(why, whylen, "extended section numbering");
        goto done;
    }
    if (shentsize != 40 || shoff > (uint32_t)len || shnum > ((uint32_t)len - shoff) / 40 || shstrndx >= shnum) {
        snprintf(why, whylen, "malformed section header table");
        goto done;
    }
    stroff = mlrn_le32(elf + shoff + shstrndx * 40 + 16);
    strsize = mlrn_le32(elf + shoff + shstrndx * 40 + 20);
    if (stroff > (uint32_t)len || strsize > (uint32_t)len - stroff) {
        snprintf(why, whylen, "malformed section name table");
        goto done;
    }
    rc = 0;
    for (i = 0; i < shnum; i++) {
        const uint8_t *sh = elf + shoff + i * 40;
        uint32_t name = mlrn_le32(sh), type = mlrn_le32(sh + 4), off = mlrn_le32(sh + 16), size = mlrn_le32(sh + 20);
        if (name >= strsize || !memchr(elf + stroff + name, 0, strsize - name)) {
            snprintf(why, whylen, "section %u has no valid name", i);
            rc = -1;
            break;
        }
        if (strcmp((const char *)elf + stroff + name, ".mmcu") != 0 || type == 8 /* SHT_NOBITS */) continue;
        if (off > (uint32_t)len || size > (uint32_t)len - off) {
            snprintf(why, whylen, ".mmcu section outside the file");
            rc = -1;
            break;
        }
        if (mlrn_mmcu_tags(elf + off, size, why, whylen) != 0) {
            rc = -1;
            break;
        }
    }
done:
    free(elf);
    fclose(f);
    return rc;
}

#endif
