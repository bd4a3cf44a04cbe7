"""C source formatting helpers: exact float literals, const tables, escaping, and the one layout of
generated headers (c_header).

`c_float(x)` prints a float32 value so that a C compiler reads back exactly the same
bits: `%.9g` is enough digits for any float32 (round-trip), followed by `f`. inf and
NaN have no literal: they are spelled through `mlrn_` macros-free expressions that
stay C99 and C++ clean (`(1.0f / 0.0f)` would warn), so we use bit patterns instead
when a table holds them (see `c_array`).
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

import numpy as np

from microlearn._version import RUNTIME_VERSION
from microlearn.core.vocab import KERNEL_MACROS, SOLVER_MACROS

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


# C99 and C++11 keywords: a generated prefix must not be one (`int_predict` is fine, `int` is not).
_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Bool _Complex _Imaginary alignas alignof and and_eq asm bitand bitor bool catch char16_t char32_t
class compl constexpr const_cast decltype delete dynamic_cast explicit export false friend mutable namespace new
noexcept not not_eq nullptr operator or or_eq private protected public reinterpret_cast static_assert static_cast
template this thread_local throw true try typeid typename using virtual wchar_t xor xor_eq""".split())


def c_identifier_ok(name: str) -> bool:
    return c_identifier_problem(name) is None


def c_identifier_problem(name) -> str | None:
    """Why `name` cannot prefix generated C identifiers (None: it can). Generators write `name_...` and
    `NAME_...` (upper case) at file scope, so besides the syntax: no C/C++ keyword, no leading underscore
    (reserved at file scope, and `_X...` everywhere), no `mlrn` prefix in any case (the runtime's own
    `mlrn_*` functions and `MLRN_*` macros would clash)."""
    if not isinstance(name, str) or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is None:
        return "letters, digits and '_' only, not starting with a digit"
    if name in _KEYWORDS:
        return "it is a C/C++ keyword"
    if name.startswith("_"):
        return "a leading '_' is reserved for the C implementation"
    if name.lower() == "mlrn" or name.lower().startswith("mlrn_"):
        return "the 'mlrn' prefix is reserved for the microlearn runtime"
    return None


def c_identifier(name, what: str = "name") -> str:
    """`name` if it can prefix generated C identifiers; else one ValueError saying why."""
    why = c_identifier_problem(name)
    if why is not None:
        raise ValueError(f"{what} must be a C identifier ({why}), got {name!r}")
    return name


# The one way text from outside (class labels, names, paths) enters generated C: as a string literal.
# Every byte outside printable ASCII, and the characters that mean something inside a literal or to the
# preprocessor (\ " ? for trigraphs), is an octal escape: \ooo takes at most three digits, whereas \x
# would swallow hex digits that follow. Long text is split into adjacent literals (C concatenates them).
_PLAIN = frozenset(range(0x20, 0x7F)) - {ord("\\"), ord('"'), ord("?")}


def c_bytes(value) -> bytes:
    """The bytes a label stands for: bytes as they are, text (str, numpy scalars, ints: str()) as UTF-8.
    Lone surrogates (file names, labels decoded with errors='surrogateescape') keep their bytes."""
    if not isinstance(value, (str, bytes, bytearray, memoryview)) and hasattr(value, "item"):
        try:
            value = value.item()          # numpy scalar -> Python str / bytes / number
        except (ValueError, TypeError):
            pass
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    text = str(value)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def c_string(value, per_literal: int = 80) -> str:
    """A C string literal whose bytes are c_bytes(value) (str, bytes, numpy labels, ints); valid in C99
    and C++, in any context (code or #define). Each byte is one complete token of the literal, so the
    split into adjacent literals never cuts an escape, and no `?` is ever left to start a trigraph."""
    parts, cur = [], []
    for b in c_bytes(value):
        cur.append(chr(b) if b in _PLAIN else f"\\{b:03o}")
        if len(cur) >= per_literal:
            parts.append('"' + "".join(cur) + '"')
            cur = []
    if cur or not parts:
        parts.append('"' + "".join(cur) + '"')
    return " ".join(parts)


def c_comment(text, limit: int = 200) -> str:
    """Text that is safe inside a /* */ comment: printable ASCII only, no comment delimiters, no
    line splices or trigraphs; for human-readable mentions (model descriptions), never for data."""
    out = []
    for ch in str(text):
        out.append(ch if " " <= ch <= "~" and ch != "\\" else "?")
    s = "".join(out)
    s = s if len(s) <= limit else s[: limit - 3] + "..."
    for bad in ("/*", "*/", "//", "??"):   # a space between the two: inserting one never makes another
        while bad in s:
            s = s.replace(bad, bad[0] + " " + bad[1])
    # Nor at the edges, where the text meets the surrounding comment ("/* " before, " */" or "." after).
    if s[:1] in ("*", "/", "?"):
        s = " " + s
    if s[-1:] in ("*", "/", "?"):
        s += " "
    return s


def format_doubles_as_f32(values: Sequence[float]) -> list[str]:
    return [c_float(np.float32(v)) for v in values]


def c_string_table(name: str, values, flash: bool = True) -> str:
    """`static const char *const name[n]` of C string literals (c_string), each string its own const
    array; in flash on AVR (MLRN_FLASH: read the pointer with pgm_read_ptr, the text with the _P
    functions). Unreferenced, the compiler drops all of it."""
    c_identifier(name, "table name")
    attr = " MLRN_FLASH" if flash else ""
    values = list(values)
    lines = [f"static const char {name}_{i}[]{attr} = {c_string(v)};" for i, v in enumerate(values)]
    items = ", ".join(f"{name}_{i}" for i in range(len(values))) or "0"
    lines.append(f"static const char *const {name}[{max(len(values), 1)}]{attr} = {{{items}}};")
    return "\n".join(lines) + "\n"


def c_header(name: str, kind: str, what: str, lines: Sequence[str], includes: Sequence[str], body: str, *,
             kernels: Sequence[str] = (), select_kernels: bool = False, version: str | None = None,
             macro_prefix: str | None = None, solvers: Sequence[str] = (),
             config_macros: Sequence[tuple[str, int, str]] = ()) -> str:
    """The one layout of every generated header (trainer, learner, exported model), in this order: the
    comment block (`/* name: what; generated by microlearn.` then `lines`, already safe comment text:
    see c_comment), the include guard PREFIX_KIND_H (macro_prefix: the header's macros' prefix, default
    name; a trainer and a model of the same name keep apart), for
    `select_kernels` the default MLRN_KERNELS of only `kernels` (a trainer or learner compiles only its
    own kernel; see mlrn_kernel.h), for `solvers` (a trainer) the default MLRN_SMO_SOLVERS of only those
    (see mlrn_smo.h), mlrn.h and `includes`, the #error for another runtime version, an
    #error for each of `kernels` that MLRN_KERNELS leaves out and each of `solvers` that MLRN_SMO_SOLVERS
    leaves out, then `body` between MLRN_FP_EXACT_BEGIN and
    MLRN_FP_EXACT_END (contraction off, see mlrn.h). Ids are written as the
    runtime's named constants (microlearn.core.vocab), never as bare numbers.
    version: the package version for the first line; left out of the trainer's and learner's headers,
    which the planner's calibration fingerprints (a release must not make them stale).
    config_macros: (MACRO, value, why) compile-time switches of the runtime this header was generated for
    (e.g. MLRN_LEARNER_DDM): defined before the includes when not defined yet, and an #error after them when an
    earlier include or -D left a different value (the runtime would be built another way than planned)."""
    c_identifier(name, "name")
    guard = f"{macro_prefix or name}_{kind.upper()}_H"
    made_by = f"microlearn {version}" if version else "microlearn"
    out = [f"/* {name}: {what}; generated by {made_by}."]
    out += [f" * {line}" if line else " *" for line in lines]
    out += [" */", f"#ifndef {guard}", f"#define {guard}"]
    if select_kernels:
        bits = " | ".join(f"1u << {KERNEL_MACROS[k]}" for k in kernels)
        out += ["#ifndef MLRN_KERNELS",
                f"#define MLRN_KERNELS ({bits})   /* compile only this header's kernel: see mlrn_kernel.h */",
                "#endif"]
    if solvers:
        bits = " | ".join(f"(1u << {SOLVER_MACROS[x]})" for x in solvers)
        out += ["#ifndef MLRN_SMO_SOLVERS",
                f"#define MLRN_SMO_SOLVERS ({bits})   /* compile only these solvers: see mlrn_smo.h */",
                "#endif"]
    for macro, value, why in config_macros:
        out += [f"#ifndef {macro}", f"#define {macro} {int(value)}   /* {why} */", "#endif"]
    out += [f'#include "{inc}"' for inc in ["mlrn.h", *[i for i in includes if i != "mlrn.h"]]]
    for macro, value, _ in config_macros:
        out += [f"#if {macro} != {int(value)}",
                f'#error "{name}: generated for {macro} {int(value)}; define it so before the first microlearn '
                f'include (or regenerate this header)"',
                "#endif"]
    out += [f"#if MLRN_RUNTIME_VERSION != {RUNTIME_VERSION}",
            f'#error "{name}: generated for microlearn runtime version {RUNTIME_VERSION}; regenerate it or use '
            f'the matching microlearn include_dir()"',
            "#endif"]
    for k in kernels:
        out += [f"#if !MLRN_KERNEL_COMPILED({KERNEL_MACROS[k]})",
                f'#error "{name}: needs the {k} kernel, which MLRN_KERNELS leaves out (a trainer or learner '
                f'header included first, or -DMLRN_KERNELS, sets it): define MLRN_KERNELS to include it before '
                f'the first microlearn include"',
                "#endif"]
    for x in solvers:
        out += [f"#if !MLRN_SMO_SOLVER_COMPILED({SOLVER_MACROS[x]})",
                f'#error "{name}: needs the {x} solver, which MLRN_SMO_SOLVERS leaves out (a trainer header '
                f'included first, or -DMLRN_SMO_SOLVERS, sets it): define MLRN_SMO_SOLVERS to include it before '
                f'the first microlearn include"',
                "#endif"]
    # Contraction off in the generated code too, whatever the user's build flags (see mlrn.h).
    out += ["MLRN_FP_EXACT_BEGIN", "", body.strip("\n"), "", "MLRN_FP_EXACT_END", f"#endif /* {guard} */", ""]
    return "\n".join(out)
