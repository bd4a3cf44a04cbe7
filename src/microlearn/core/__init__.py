"""Shared floor under every product: the Python twin of the C vocabulary, the float32 reference
arithmetic, the PRNG, storage quantisation and C code formatting. Imports nothing above itself."""
