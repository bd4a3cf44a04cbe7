"""xorshift32, the PRNG of mlrn_rng.h: both sides draw the same sequence from the same seed."""


class XorShift32:
    def __init__(self, seed: int):
        s = (int(seed) ^ 0x6D2B79F5) & 0xFFFFFFFF   # mlrn_rng_seed
        self.state = s or 0x6D2B79F5

    def next(self) -> int:
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x
