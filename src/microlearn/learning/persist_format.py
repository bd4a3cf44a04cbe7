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

MAGIC = b"MLPS"
VERSION = 1
HEADER_SIZE = 20
FIRST_SEQ = 1
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


def slot_size(size: int) -> int:
    return size // 2


def capacity(size: int) -> int:
    """Payload bytes one slot of a `size`-byte region can hold."""
    if size // 2 < HEADER_SIZE:
        raise ValueError(f"storage of {size} bytes is too small for two {HEADER_SIZE}-byte headers")
    return size // 2 - HEADER_SIZE


def slot_addr(size: int, slot: int) -> int:
    if slot not in (0, 1):
        raise ValueError("slot must be 0 (A) or 1 (B)")
    return slot * (size // 2)


def _header_body(tag: int, seq: int, length: int) -> bytes:
    """Header bytes 4..15 (what the CRC covers before the payload)."""
    if not 0 <= tag <= 0xFFFF:
        raise ValueError("tag must fit 16 bits")
    return (bytes([VERSION, HEADER_SIZE]) + tag.to_bytes(2, "little") + (seq & _U32).to_bytes(4, "little")
            + length.to_bytes(4, "little"))


def encode_slot(payload: bytes, seq: int, tag: int = 0) -> bytes:
    """Header + payload of one valid slot."""
    payload = bytes(payload)
    body = _header_body(tag, seq, len(payload))
    crc = crc32(payload, crc32(body))
    return MAGIC + body + crc.to_bytes(4, "little") + payload


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


def parse_slot(image: bytes, slot: int) -> SlotInfo:
    """Decode and validate one slot of a region image."""
    image = bytes(image)
    size = len(image)
    cap = capacity(size)
    addr = slot_addr(size, slot)
    h = image[addr:addr + HEADER_SIZE]
    info = SlotInfo(slot=slot, addr=addr, valid=False, reason="magic")
    if h[:4] != MAGIC:
        return info
    info.seq = int.from_bytes(h[8:12], "little")
    info.tag = int.from_bytes(h[6:8], "little")
    info.length = int.from_bytes(h[12:16], "little")
    info.crc = int.from_bytes(h[16:20], "little")
    if h[4] != VERSION:
        info.reason = "version"
    elif h[5] != HEADER_SIZE:
        info.reason = "header"
    elif info.length > cap:
        info.reason = "length"
    else:
        payload = image[addr + HEADER_SIZE:addr + HEADER_SIZE + info.length]
        if crc32(payload, crc32(h[4:16])) != info.crc:
            info.reason = "crc"
        else:
            info.valid, info.reason, info.payload = True, "ok", payload
    return info


def parse_image(image: bytes) -> tuple[SlotInfo, SlotInfo]:
    """Both slots of a region image (A, B)."""
    return parse_slot(image, 0), parse_slot(image, 1)


def newest(image: bytes) -> SlotInfo | None:
    """The slot load() would pick, or None when no slot is valid."""
    a, b = parse_image(image)
    if a.valid and (not b.valid or not seq_newer(b.seq, a.seq)):
        return a
    return b if b.valid else None


def load(image: bytes) -> SlotInfo:
    """Like mlrn_persist_load: the newest valid slot (with .payload), else NoValidSlot."""
    s = newest(image)
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


def save_ops(image: bytes, payload: bytes, tag: int = 0, erase: bool = False) -> list[Write]:
    """The exact sequence of storage operations mlrn_persist_save() performs on `image`
    (`erase`: the storage has an erase callback, as flash does)."""
    image = bytes(image)
    size = len(image)
    payload = bytes(payload)
    if len(payload) > capacity(size):
        raise ValueError(f"payload of {len(payload)} bytes exceeds the slot capacity {capacity(size)}")
    cur = newest(image)
    target = 0 if cur is None else 1 - cur.slot
    seq = FIRST_SEQ if cur is None else (cur.seq + 1) & _U32
    addr = slot_addr(size, target)
    ops: list[Write] = []
    if erase:
        ops.append(Write("erase", addr, length=size // 2))
    elif image[addr:addr + 4] == MAGIC:
        ops.append(Write("write", addr, b"\x00"))
    if payload:
        ops.append(Write("write", addr + HEADER_SIZE, payload))
    full = encode_slot(payload, seq, tag)
    ops.append(Write("write", addr + 4, full[4:HEADER_SIZE]))
    ops.append(Write("write", addr, full[:4]))
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


def save(image: bytearray, payload: bytes, tag: int = 0) -> SlotInfo:
    """Save like the C code (EEPROM semantics) into `image` in place; returns the new slot."""
    apply_ops(image, save_ops(image, payload, tag))
    return load(image)


def new_image(size: int, fill: int = 0xFF) -> bytearray:
    """A blank region (0xFF: erased EEPROM/flash)."""
    capacity(size)
    return bytearray([fill]) * size


def write_slot(image: bytearray, slot: int, payload: bytes, seq: int, tag: int = 0) -> None:
    """Put a valid copy with a chosen sequence number into a slot (for tests: wrap-around...)."""
    if len(payload) > capacity(len(image)):
        raise ValueError("payload does not fit the slot")
    addr = slot_addr(len(image), slot)
    data = encode_slot(payload, seq, tag)
    image[addr:addr + len(data)] = data


def describe(image: bytes) -> str:
    """One line per slot, for looking at a device dump."""
    lines = []
    best = newest(image)
    for s in parse_image(image):
        mark = " <- newest" if best is not None and best.slot == s.slot else ""
        if s.reason == "magic":
            lines.append(f"slot {s.name} @{s.addr}: empty or torn (no commit mark)")
        else:
            lines.append(f"slot {s.name} @{s.addr}: {s.reason} seq={s.seq} tag={s.tag} len={s.length}{mark}")
    return "\n".join(lines)
