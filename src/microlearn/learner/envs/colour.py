"""Colour sensor (the blog's TCS3200 project): readings, ambient drift, new colours.

The TCS3200 turns light into a square wave whose frequency is proportional to the
intensity behind each of its filters (red, green, blue, clear). The sketch reads
the four frequencies and a classifier names the colour; when the user shows a new
colour and labels it, the classifier learns a new class.

Model of one reading (Hz, at the 2 % output scaling: full scale ~12 kHz, fits int16)::

    f_c = dark + full_scale * ambient(t) * light_c(t) * sensitivity_c * reflectance_c(colour) * (1 + gain noise)
          + read noise,              c in (R, G, B)
    f_clear = dark + full_scale * ambient(t) * mean_c(light_c * reflectance_c) * clear_gain * (...)

ambient(t): a slow daylight swing plus a trend (lamp ageing, clouds), light_c(t):
the colour temperature drifting from warm to cool (red up / blue down, then back).
Readings are rounded to integers like the sketch's counts.

`colour_stream()` returns (X float32 (n, 4) = [R, G, B, clear] Hz, y, drift_points):
the first colours appear from the start, each new colour from its drift point on
(it gets the next label). `export_c_table()` turns readings into C source for an
Arduino sketch to replay (int16 in flash).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from microlearn.core.c_format import c_identifier
from microlearn.data.streams import Stream

# Diffuse reflectance of the test cards behind the (R, G, B) filters.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.10),
    "green": (0.15, 0.60, 0.20),
    "blue": (0.10, 0.20, 0.75),
    "yellow": (0.90, 0.85, 0.15),
    "orange": (0.95, 0.45, 0.10),
    "purple": (0.45, 0.15, 0.60),
    "pink": (0.95, 0.55, 0.65),
    "brown": (0.40, 0.25, 0.12),
    "white": (0.92, 0.92, 0.92),
    "black": (0.05, 0.05, 0.05),
}
SENSITIVITY = np.array([1.0, 0.85, 0.75])  # photodiode response behind each filter
CHANNELS = ("red", "green", "blue", "clear")


def _ambient(t: np.ndarray, n: int, drift: float) -> tuple[np.ndarray, np.ndarray]:
    """ambient level (n,) and per-channel light colour (n, 3) at sample indices t."""
    phase = 2 * np.pi * t / max(n, 1)
    level = 1.0 + drift * (0.6 * np.sin(phase) - 0.4 * t / max(n, 1))
    warm = drift * 0.5 * np.sin(0.5 * phase + 1.0)  # colour temperature: + warm, - cool
    light = np.stack([1.0 + warm, np.ones_like(warm), 1.0 - warm], axis=1)
    return level, light


def readings(colours: Sequence[str], t: np.ndarray, n_total: int, rng: np.random.Generator, *,
             full_scale: float = 12000.0, dark: float = 40.0, noise: float = 0.02, read_noise: float = 15.0,
             ambient_drift: float = 0.3) -> np.ndarray:
    """Integer readings [R, G, B, clear] (n, 4) of the named colours at sample indices t."""
    refl = np.array([COLOURS[c] for c in colours])
    level, light = _ambient(np.asarray(t, dtype=float), n_total, ambient_drift)
    rgb = full_scale * level[:, None] * light * SENSITIVITY * refl
    clear = full_scale * level * (light * refl).mean(axis=1) * 1.6
    raw = np.column_stack([rgb, clear])
    raw *= 1.0 + noise * rng.standard_normal(raw.shape)
    raw += dark + read_noise * rng.standard_normal(raw.shape)
    return np.clip(np.rint(raw), 0, 32767)


def colour_stream(n: int = 600, colours: Sequence[str] = ("red", "green", "blue"),
                  new_colours: Sequence[str] = ("yellow",), new_at: Sequence[int] = (300,), *,
                  seed: int = 0, ambient_drift: float = 0.3, noise: float = 0.02) -> Stream:
    """A stream of labelled readings where new colours appear mid-stream.

    Labels follow the order of appearance: colours[0] = 0, ..., new_colours[j] =
    len(colours) + j. Before new_at[j] the j-th new colour never shows; from then on
    every known colour is equally likely. drift_points = sorted(new_at)."""
    names = list(colours) + list(new_colours)
    unknown = [c for c in names if c not in COLOURS]
    if unknown:
        raise ValueError(f"unknown colours {unknown}; known: {sorted(COLOURS)}")
    if len(set(names)) != len(names) or not colours:
        raise ValueError("colours must be distinct and at least one must be there from the start")
    if len(new_at) != len(new_colours) or list(new_at) != sorted(new_at) or any(not 0 < p < n for p in new_at):
        raise ValueError("new_at: one increasing index inside (0, n) per new colour")
    rng = np.random.default_rng(seed)
    n_known = np.full(n, len(colours))
    for p in new_at:
        n_known[p:] += 1
    y = np.floor(rng.random(n) * n_known).astype(np.int64)
    # the first sample after each drift point is the newly labelled colour (the user shows it)
    for j, p in enumerate(new_at):
        y[p] = len(colours) + j
    X = readings([names[k] for k in y], np.arange(n), n, rng, noise=noise, ambient_drift=ambient_drift)
    level, _ = _ambient(np.arange(n, dtype=float), n, ambient_drift)
    return Stream(X.astype(np.float32), y, list(new_at), {
        "name": "colour_tcs3200", "kind": "new_class", "n_classes": len(names), "classes": tuple(names),
        "features": CHANNELS, "ambient": level.astype(np.float32), "concept": n_known - len(colours)})


def export_c_table(X: np.ndarray, y: np.ndarray | None = None, *, name: str = "colour_readings",
                   classes: Sequence[str] | None = None, drift_points: Sequence[int] = (),
                   per_line: int = 4) -> str:
    """C source of a readings table for an Arduino sketch to replay.

    Emits `static const int16_t NAME[N][D]` (in flash on AVR through PROGMEM: read
    with pgm_read_word), `static const uint8_t NAME_labels[N]` if y is given, and
    #defines NAME_N, NAME_D, NAME_CLASS_<COLOUR> and NAME_DRIFT_<i>. Self-contained:
    needs only <stdint.h> (and <avr/pgmspace.h> on AVR). Values are rounded and must
    fit int16."""
    name = c_identifier(name, "table name")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError("X must be a non-empty (n, d) array")
    Xi = np.rint(X).astype(np.int64)
    if Xi.min() < -32768 or Xi.max() > 32767:
        raise ValueError("readings do not fit int16")
    n, d = Xi.shape
    up = name.upper()
    lines = [
        f"/* {name}: {n} sensor readings x {d} channels, generated by microlearn.learner.envs.colour. */",
        f"#ifndef {up}_H",
        f"#define {up}_H",
        "#include <stdint.h>",
        "#if defined(__AVR__)",
        "#include <avr/pgmspace.h>",
        f"#define {up}_FLASH PROGMEM",
        "#else",
        f"#define {up}_FLASH",
        "#endif",
        "",
        f"#define {up}_N {n}",
        f"#define {up}_D {d}",
    ]
    if d == 4:
        lines.append(f"/* channels: {', '.join(CHANNELS)} (Hz) */")
    for i, p in enumerate(drift_points):
        lines.append(f"#define {up}_DRIFT_{i} {int(p)}")
    if classes is not None:
        seen = {}
        for k, c in enumerate(classes):
            # A label becomes part of a macro name, never C text: ASCII letters and digits kept, anything
            # else '_'. Two labels mapping to one macro are refused (a redefinition would renumber a class).
            macro = f"{up}_CLASS_" + re.sub(r"[^A-Za-z0-9_]", "_", str(c)).upper()
            if macro in seen:
                raise ValueError(f"class labels {seen[macro]!r} and {c!r} both become the macro {macro}; "
                                 "rename one")
            seen[macro] = c
            lines.append(f"#define {macro} {k}")
        lines.append(f"#define {up}_N_CLASSES {len(classes)}")
    lines.append("")
    lines.append(f"static const int16_t {name}[{n}][{d}] {up}_FLASH = {{")
    rows = ["{" + ", ".join(str(int(v)) for v in row) + "}" for row in Xi]
    for i in range(0, n, per_line):
        lines.append("    " + ", ".join(rows[i:i + per_line]) + ",")
    lines.append("};")
    if y is not None:
        y = np.asarray(y)
        if y.shape != (n,) or y.min() < 0 or y.max() > 255:
            raise ValueError("y must be (n,) labels in 0..255")
        lines.append(f"static const uint8_t {name}_labels[{n}] {up}_FLASH = {{")
        for i in range(0, n, 24):
            lines.append("    " + ", ".join(str(int(v)) for v in y[i:i + 24]) + ",")
        lines.append("};")
    lines.append(f"#endif /* {up}_H */")
    return "\n".join(lines) + "\n"
