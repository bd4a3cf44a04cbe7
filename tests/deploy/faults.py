"""Seeded byte faults on a serial link (drops, bit flips, duplicates, cut writes), for the protocol tests:
tests/deploy/test_link.py against fake devices, tests/deploy/test_sketch.py against emulated boards."""
from __future__ import annotations

import random


class Faults:
    """Seeded byte faults: each byte dropped, corrupted or duplicated with probability `p`, and a whole
    write or read cut short (its tail lost) with probability `p_cut`. Counts what it did."""

    def __init__(self, seed: int, p: float = 0.003, p_cut: float = 0.02):
        self.rng, self.p, self.p_cut = random.Random(seed), p, p_cut
        self.counts = {"drop": 0, "corrupt": 0, "dup": 0, "cut": 0}

    def apply(self, data: bytes) -> bytes:
        if data and self.rng.random() < self.p_cut:
            self.counts["cut"] += 1
            data = data[:self.rng.randrange(len(data))]
        out = bytearray()
        for b in data:
            r = self.rng.random()
            if r < self.p:
                self.counts["drop"] += 1
            elif r < 2 * self.p:
                self.counts["corrupt"] += 1
                out.append(b ^ (1 << self.rng.randrange(8)))
            elif r < 3 * self.p:
                self.counts["dup"] += 1
                out += bytes((b, b))
            else:
                out.append(b)
        return bytes(out)


class FaultyTransport:
    """Another transport, with Faults on what is written (to the device) and what is read (from it)."""

    def __init__(self, inner, to_device: Faults | None, from_device: Faults | None):
        self.inner, self.to_device, self.from_device = inner, to_device, from_device

    def write(self, data: bytes) -> int:
        self.inner.write(self.to_device.apply(data) if self.to_device else data)
        return len(data)

    def read(self, n: int) -> bytes:
        data = self.inner.read(n)
        return self.from_device.apply(data) if self.from_device and data else data


