"""Reader/writer of the two-slot persistence format of ``mlrn_persist.h``.

Decode a device's storage dump (EEPROM image, flash sector), build images for
tests, and model the C save byte for byte (its exact write order).

Byte layout
-----------
The storage region (``size`` bytes) holds two slots of ``size // 2`` bytes: slot A
at 0, slot B at ``size // 2``. Each slot is a 20-byte header followed by the
payload; integers are little-endian::

    off len field
     0   4  magic b"MLPS"                      written LAST: the commit mark
     4   1  format version (1)
     5   1  header size (20)
     6   2  tag: the caller's payload schema id
     8   4  sequence number (serial-number arithmetic, wraps at 2**32)
    12   4  payload length
    16   4  CRC-32 (IEEE, zlib.crc32) of header bytes 4..15 followed by the payload
    20   -  payload (opaque to this layer)

Flash that programs whole words of ``word`` bytes once between erases
(``mlrn_storage.program_word``: 2, 4, 8, 16, 32; ECC flash) keeps this layout for
words of up to 4 bytes. Wider words give the magic a word of its own and the header
fields (bytes 4..19 above) whole words: fields at ``max(4, word)``, payload at
``max(4, word) + max(16, word)`` (24 for 8, 32 for 16, 64 for 32; stored in the
header-size byte). The unused bytes of those words and of the payload's last word
are 0xFF (erased) and outside the CRC. Every function below takes ``word`` (default
1: byte-writable storage).

A slot is valid when magic, version and header size match, the payload fits the
slot and the CRC matches. ``load`` picks the valid slot with the newest sequence
number (``newer(a, b) <=> 0 < (a - b) mod 2**32 < 2**31``; A on a tie) and fails
when no slot is valid: it never returns bytes no save completed.

Write order of a save, and why a power cut cannot lose the model
----------------------------------------------------------------
A save goes to the slot that does NOT hold the newest valid copy, with that
copy's sequence number + 1 (1 on blank storage), in this order:

1. invalidate the target: with an erase callback (flash) erase the slot; else,
   only if its magic is currently valid, write 0x00 over magic byte 0
2. the payload, in any chunks (streamed, CRC computed on the fly)
3. header bytes 4..19 (version, header size, tag, sequence, length, CRC)
4. read back bytes 4..end and check the CRC (a bad write is never committed)
5. the magic, bytes 0..3

With program words (``word`` > 1: an erase is required) every write is whole
aligned words, each written once after the erase: the payload's whole words, its
last word padded with 0xFF, the header fields' word(s), the magic's word.

The newest valid copy lives in the other slot, which a save never writes: a cut
at any byte leaves it intact. The target slot's magic is invalid from step 1 until
step 5 writes its last differing byte, and every other byte of the save was
written before that: so the target is either ignored (invalid magic, whatever
its other bytes hold: no reliance on the CRC for torn writes) or complete. A
garbage byte at the cut can at worst restore the old magic byte in step 1, which
leaves the target as the older complete copy it was. The CRC is the second line
of defence: bit rot, torn flash erases, stray writes.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterable

from microlearn.core import vocab

# The format's constants under the names this module has always published (microlearn.core.vocab has them).
MAGIC, VERSION, HEADER_SIZE, FIRST_SEQ = (vocab.PERSIST_MAGIC, vocab.PERSIST_VERSION, vocab.PERSIST_HEADER,
                                          vocab.PERSIST_FIRST_SEQ)
_U32 = 0xFFFFFFFF


class NoValidSlot(ValueError):
    """Neither slot holds a valid copy (blank storage, or both damaged)."""


def crc32(data: bytes, state: int = 0) -> int:
    """CRC-32 (IEEE, reflected 0xEDB88320), the same as mlrn_crc32(); chainable like zlib."""
    return zlib.crc32(bytes(data), state) & _U32


def seq_newer(a: int, b: int) -> bool:
    """True if sequence number a is newer than b (serial-number arithmetic over 32 bits)."""
    d = (a - b) & _U32
    return 0 < d < 0x80000000


def _check_word(word: int) -> int:
    if word not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"program word must be 1, 2, 4, 8, 16 or 32 bytes, got {word}")
    return word


def fields_offset(word: int = 1) -> int:
    """Offset of header bytes 4..19 in a slot: right after the magic, or after its own word."""
    return max(4, _check_word(word))


def header_size(word: int = 1) -> int:
    """Offset of the payload in a slot (the header-size byte): 20 for words of 1, 2, 4 bytes; 24, 32, 64 for
    8, 16, 32."""
    return fields_offset(word) + max(HEADER_SIZE - 4, word)


def slot_size(size: int) -> int:
    return size // 2


def capacity(size: int, word: int = 1) -> int:
    """Payload bytes one slot of a `size`-byte region can hold."""
    hs = header_size(word)
    if size // 2 < hs:
        raise ValueError(f"storage of {size} bytes is too small for two {hs}-byte headers")
    if (size // 2) % word:
        raise ValueError(f"slots of {size // 2} bytes do not start on {word}-byte program words")
    return size // 2 - hs


def slot_addr(size: int, slot: int) -> int:
    if slot not in (0, 1):
        raise ValueError("slot must be 0 (A) or 1 (B)")
    return slot * (size // 2)


def _header_body(tag: int, seq: int, length: int, word: int = 1) -> bytes:
    """Header bytes 4..15 (what the CRC covers before the payload)."""
    if not 0 <= tag <= 0xFFFF:
        raise ValueError("tag must fit 16 bits")
    return (bytes([VERSION, header_size(word)]) + tag.to_bytes(2, "little") + (seq & _U32).to_bytes(4, "little")
            + length.to_bytes(4, "little"))


def _pad(data: bytes, word: int) -> bytes:
    """data padded with 0xFF (the erased value) to whole words."""
    return bytes(data) + b"\xff" * (-len(data) % word)


def encode_slot(payload: bytes, seq: int, tag: int = 0, word: int = 1) -> bytes:
    """Header + payload of one valid slot (with `word` > 1: the padded layout, ending on a whole word)."""
    payload = bytes(payload)
    body = _header_body(tag, seq, len(payload), word)
    crc = crc32(payload, crc32(body))
    fields = body + crc.to_bytes(4, "little")
    if word <= 4:
        return MAGIC + fields + _pad(payload, word)
    return _pad(MAGIC, word) + _pad(fields, word) + _pad(payload, word)


@dataclass
class SlotInfo:
    slot: int                  # 0 = A, 1 = B
    addr: int                  # offset of the header in the region
    valid: bool
    reason: str                # 'ok', or why not: 'magic', 'version', 'header', 'length', 'crc'
    seq: int | None = None
    tag: int | None = None
    length: int | None = None
    crc: int | None = None
    payload: bytes | None = None  # only for valid slots

    @property
    def name(self) -> str:
        return "AB"[self.slot]


def parse_slot(image: bytes, slot: int, word: int = 1) -> SlotInfo:
    """Decode and validate one slot of a region image."""
    image = bytes(image)
    size = len(image)
    cap = capacity(size, word)
    addr = slot_addr(size, slot)
    fo, hs = fields_offset(word), header_size(word)
    h = image[addr:addr + 4] + image[addr + fo:addr + fo + HEADER_SIZE - 4]
    info = SlotInfo(slot=slot, addr=addr, valid=False, reason="magic")
    if h[:4] != MAGIC:
        return info
    info.seq = int.from_bytes(h[8:12], "little")
    info.tag = int.from_bytes(h[6:8], "little")
    info.length = int.from_bytes(h[12:16], "little")
    info.crc = int.from_bytes(h[16:20], "little")
    if h[4] != VERSION:
        info.reason = "version"
    elif h[5] != hs:
        info.reason = "header"
    elif info.length > cap:
        info.reason = "length"
    else:
        payload = image[addr + hs:addr + hs + info.length]
        if crc32(payload, crc32(h[4:16])) != info.crc:
            info.reason = "crc"
        else:
            info.valid, info.reason, info.payload = True, "ok", payload
    return info


def parse_image(image: bytes, word: int = 1) -> tuple[SlotInfo, SlotInfo]:
    """Both slots of a region image (A, B)."""
    return parse_slot(image, 0, word), parse_slot(image, 1, word)


def newest(image: bytes, word: int = 1) -> SlotInfo | None:
    """The slot load() would pick, or None when no slot is valid."""
    a, b = parse_image(image, word)
    if a.valid and (not b.valid or not seq_newer(b.seq, a.seq)):
        return a
    return b if b.valid else None


def load(image: bytes, word: int = 1) -> SlotInfo:
    """Like mlrn_persist_load: the newest valid slot (with .payload), else NoValidSlot."""
    s = newest(image, word)
    if s is None:
        raise NoValidSlot("no valid slot: blank storage or both slots damaged")
    return s


@dataclass
class Write:
    """One storage operation of a save, in order: 'write' `data` at `addr`, or 'erase' `length` bytes."""
    kind: str
    addr: int
    data: bytes = b""
    length: int = 0


def save_ops(image: bytes, payload: bytes, tag: int = 0, erase: bool = False, word: int = 1) -> list[Write]:
    """The exact sequence of storage operations mlrn_persist_save() performs on `image`
    (`erase`: the storage has an erase callback, as flash does; `word` > 1: program words, which need it)."""
    image = bytes(image)
    size = len(image)
    payload = bytes(payload)
    if word > 1 and not erase:
        raise ValueError("storage with program words needs an erase callback")
    if len(payload) > capacity(size, word):
        raise ValueError(f"payload of {len(payload)} bytes exceeds the slot capacity {capacity(size, word)}")
    cur = newest(image, word)
    target = 0 if cur is None else 1 - cur.slot
    seq = FIRST_SEQ if cur is None else (cur.seq + 1) & _U32
    addr = slot_addr(size, target)
    fo, hs = fields_offset(word), header_size(word)
    ops: list[Write] = []
    if erase:
        ops.append(Write("erase", addr, length=size // 2))
    elif image[addr:addr + 4] == MAGIC:
        ops.append(Write("write", addr, b"\x00"))
    whole = len(payload) - len(payload) % word
    if whole:
        ops.append(Write("write", addr + hs, payload[:whole]))
    if whole < len(payload):
        ops.append(Write("write", addr + hs + whole, _pad(payload[whole:], word)))
    full = encode_slot(payload, seq, tag, word)
    ops.append(Write("write", addr + fo, full[fo:hs] if word > 4 else full[4:HEADER_SIZE]))
    ops.append(Write("write", addr, full[:fo]))
    return ops


def apply_ops(image: bytearray, ops: Iterable[Write], limit: int | None = None, flash: bool = False) -> int:
    """Apply operations byte by byte; stop after `limit` bytes (a power cut). Returns bytes applied.
    `flash`: writes can only clear bits (NOR)."""
    done = 0
    for op in ops:
        n = op.length if op.kind == "erase" else len(op.data)
        for i in range(n):
            if limit is not None and done >= limit:
                return done
            a = op.addr + i
            if op.kind == "erase":
                image[a] = 0xFF
            elif flash:
                image[a] &= op.data[i]
            else:
                image[a] = op.data[i]
            done += 1
    return done


def save(image: bytearray, payload: bytes, tag: int = 0, word: int = 1) -> SlotInfo:
    """Save like the C code into `image` in place (EEPROM semantics; with `word` > 1, flash: erase, then
    writes that clear bits); returns the new slot."""
    flash = word > 1
    apply_ops(image, save_ops(image, payload, tag, erase=flash, word=word), flash=flash)
    return load(image, word)


def new_image(size: int, fill: int = 0xFF, word: int = 1) -> bytearray:
    """A blank region (0xFF: erased EEPROM/flash)."""
    capacity(size, word)
    return bytearray([fill]) * size


def write_slot(image: bytearray, slot: int, payload: bytes, seq: int, tag: int = 0, word: int = 1) -> None:
    """Put a valid copy with a chosen sequence number into a slot (for tests: wrap-around...)."""
    if len(payload) > capacity(len(image), word):
        raise ValueError("payload does not fit the slot")
    addr = slot_addr(len(image), slot)
    data = encode_slot(payload, seq, tag, word)
    image[addr:addr + len(data)] = data


def describe(image: bytes, word: int = 1) -> str:
    """One line per slot, for looking at a device dump."""
    lines = []
    best = newest(image, word)
    for s in parse_image(image, word):
        mark = " <- newest" if best is not None and best.slot == s.slot else ""
        if s.reason == "magic":
            lines.append(f"slot {s.name} @{s.addr}: empty or torn (no commit mark)")
        else:
            lines.append(f"slot {s.name} @{s.addr}: {s.reason} seq={s.seq} tag={s.tag} len={s.length}{mark}")
    return "\n".join(lines)
