"""C source formatting helpers: exact float literals and const table declarations.

`c_float(x)` prints a float32 value so that a C compiler reads back exactly the same
bits: `%.9g` is enough digits for any float32 (round-trip), followed by `f`. inf and
NaN have no literal: they are spelled through `mlrn_` macros-free expressions that
stay C99 and C++ clean (`(1.0f / 0.0f)` would warn), so we use bit patterns instead
when a table holds them (see `c_array`).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

# C type name -> (numpy dtype, flash accessor, bytes)
CTYPES = {
    "float": (np.float32, "mlrn_flash_f32", 4),
    "uint8_t": (np.uint8, "mlrn_flash_u8", 1),
    "int8_t": (np.int8, "mlrn_flash_i8", 1),
    "uint16_t": (np.uint16, "mlrn_flash_u16", 2),
    "int16_t": (np.int16, "mlrn_flash_i16", 2),
    "uint32_t": (np.uint32, "mlrn_flash_u32", 4),
    "int32_t": (np.int32, "mlrn_flash_i32", 4),
}


def c_float(x) -> str:
    """A float32 literal that reads back bit-identically (finite values)."""
    f = np.float32(x)
    if not np.isfinite(f):
        raise ValueError(f"no C literal for non-finite float {f!r}: use a table of bits")
    if f == 0:
        return "-0.0f" if math.copysign(1.0, float(f)) < 0 else "0.0f"
    s = "%.9g" % float(f)
    if "e" not in s and "." not in s:
        s += ".0"
    # The literal must parse back to the same float32 (float(s) is a double; float32 of it
    # is what the compiler produces for the `f` suffix: correctly rounded decimal -> float).
    assert np.float32(float(s)) == f, (s, f)
    return s + "f"


def c_int(v: int) -> str:
    v = int(v)
    if v == -2147483648:
        return "(-2147483647 - 1)"
    return str(v)


def smallest_uint(max_value: int) -> str:
    if max_value < 256:
        return "uint8_t"
    if max_value < 65536:
        return "uint16_t"
    return "uint32_t"


def smallest_int(min_value: int, max_value: int) -> str:
    if -128 <= min_value and max_value <= 127:
        return "int8_t"
    if -32768 <= min_value and max_value <= 32767:
        return "int16_t"
    return "int32_t"


def format_values(values: Iterable, ctype: str, per_line: int | None = None) -> str:
    vals = list(np.asarray(values).ravel())
    if ctype == "float":
        items = [c_float(v) for v in vals]
        per_line = per_line or 6
    else:
        items = [c_int(v) for v in vals]
        per_line = per_line or 12
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[i:i + per_line]) + ",")
    return "\n".join(lines)


def c_array(name: str, ctype: str, values, flash: bool = True, per_line: int | None = None) -> str:
    """`static const ctype name[n] MLRN_FLASH = {...};` (at least one element: C forbids empty arrays)."""
    arr = np.asarray(values)
    if ctype in CTYPES:
        dt = CTYPES[ctype][0]
        if ctype != "float":
            if arr.size and (arr.min() < np.iinfo(dt).min or arr.max() > np.iinfo(dt).max):
                raise ValueError(f"{name}: values out of range for {ctype}")
    n = max(int(arr.size), 1)
    body = format_values(arr if arr.size else np.zeros(1), ctype, per_line)
    attr = " MLRN_FLASH" if flash else ""
    return f"static const {ctype} {name}[{n}]{attr} = {{\n{body}\n}};\n"


def table_bytes(ctype: str, n: int) -> int:
    return CTYPES[ctype][2] * max(int(n), 1)


def c_identifier_ok(name: str) -> bool:
    import re
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or "") is not None


def format_doubles_as_f32(values: Sequence[float]) -> list[str]:
    return [c_float(np.float32(v)) for v in values]
