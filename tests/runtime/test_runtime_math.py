"""mlrn_math.h: the exponentials every kernel and probability uses.

They must give the same bits on every target and in the numpy mirror (estimators/_f32.py),
because training on the device is checked against the Python reference bit for bit; and they
must be accurate: mlrn_math_expf within 2 ulp of exp on [-87, 88], mlrn_math_exp2_16 (the RBF kernel's
2^(y/16), integer arithmetic) within 2 ulp of 2^(y/16) on [-2008, 2031]. Checked here on the
host (gcc, C and C++, under UBSan: the integer path shifts and converts) and on the emulated
ATmega328P (avr-gcc's 16-bit int and its float library) with the same inputs.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microlearn
from microlearn.core import f32 as _f32

from compile_c import UBSAN, compile_c
from conftest import need

C_DIR = Path(__file__).resolve().parent / "c"
INCLUDE = Path(microlearn.include_dir())
# The integer path of mlrn_math_exp2_16 shifts and converts: sign conversions warned about too, and UBSan
# (no recovery) watches every shift and float-to-integer conversion.
MATH_EXTRA = ["-Wsign-conversion", *UBSAN]


def _inputs(n_random=200_000, seed=0):
    rng = np.random.default_rng(seed)
    special = np.array([0.0, -0.0, 1e-30, -1e-30, 2.0 ** -22, -2.0 ** -22, 2.0 ** -21, 0.5, -0.5,
                        -87.0, -86.99, 88.0, 88.01, -2008.0, -2007.99, 2031.0, 2031.01, 1e30, -1e30,
                        np.inf, -np.inf, np.nan], dtype=np.float32)
    return np.concatenate([
        special,
        np.linspace(-2010, 2035, 400_001, dtype=np.float32),        # both functions' whole ranges
        np.linspace(-90, 90, 200_001, dtype=np.float32),
        rng.uniform(-60, 0, n_random).astype(np.float32),             # RBF arguments
        (rng.standard_normal(n_random) * 1e-3).astype(np.float32),   # near 0: the Q20 rounding
        rng.integers(0, 2 ** 32, n_random, dtype=np.uint64).astype(np.uint32).view(np.float32),  # any bits
    ])


def _mirror(x):
    with np.errstate(all="ignore"):
        return np.stack([_f32.expf(x), _f32.exp2_16(x), _f32.tanhf(x)], axis=1)


def _run_host(tmp_path, lang):
    exe = tmp_path / f"math_{lang}"
    compile_c(C_DIR / "math_dump.c", exe, lang=lang, extra=MATH_EXTRA)
    x = _inputs()
    out = subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True)
    assert out.stderr == b"", out.stderr.decode()[:2000]     # UBSan reports go to stderr
    return x, np.frombuffer(out.stdout, dtype=np.float32).reshape(-1, 3)


@need("cc", "c++")
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_host_c_matches_the_mirror_bit_for_bit(tmp_path, lang):
    x, got = _run_host(tmp_path, lang)
    want = _mirror(x)
    for col, name in enumerate(("mlrn_math_expf", "mlrn_math_exp2_16", "mlrn_math_tanhf")):
        diff = np.flatnonzero(got[:, col].view(np.uint32) != want[:, col].view(np.uint32))
        assert diff.size == 0, f"{name}: {diff.size} inputs differ, first x={x[diff[0]]!r}"


def _ulps(got, exact):
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / ulp


def test_expf_accuracy_and_edges():
    x = np.linspace(-86.99, 88, 2_000_001, dtype=np.float32)
    assert _ulps(_f32.expf(x), np.exp(x.astype(np.float64))).max() < 2.0
    e = _f32.expf(np.array([-87.0, -1e30, np.nan, 88.0, 1e30, np.inf, 0.0], dtype=np.float32))
    assert e[0] == 0 and e[1] == 0 and e[2] == 0          # below the normal range and NaN: 0
    assert np.isfinite(e[3]) and e[3] == e[4] == e[5]    # saturates at e^88, never inf
    assert e[6] == 1.0


def test_exp2_16_accuracy_and_edges():
    rng = np.random.default_rng(1)
    y = np.concatenate([np.linspace(-2007.99, 2031, 3_000_001, dtype=np.float32),
                        (rng.standard_normal(500_000) * 1e-2).astype(np.float32)])
    assert _ulps(_f32.exp2_16(y), np.exp2(y.astype(np.float64) / 16)).max() < 2.0
    with np.errstate(all="ignore"):
        e = _f32.exp2_16(np.array([-2008.0, -1e30, np.nan, -np.nan, 2031.0, 1e30, 0.0, -0.0, 16.0],
                                  dtype=np.float32))
    assert (e[:4] == 0).all()
    assert np.isfinite(e[4]) and e[4] == e[5]
    assert e[6] == 1.0 and e[7] == 1.0 and e[8] == 2.0


def test_rbf_kernel_is_exp_minus_gamma_d():
    """The kernel folds -16/ln 2 into gamma; the result stays within a few ulp of exp(-gamma d)."""
    rng = np.random.default_rng(2)
    d = rng.uniform(0, 40, 100_000).astype(np.float32)
    for gamma in (0.01, 0.25, 1.0, 3.7):
        k = _f32.kernel_finish("rbf", d, gamma, 0.0, 3)
        exact = np.exp(-np.float64(np.float32(gamma)) * d.astype(np.float64))
        ok = exact > 1e-37
        # one rounding of gamma * (-16/ln 2) and one of the product: |y| ln2/16 2^-24 relative each
        bound = 2.0 + 2 * np.float64(gamma) * d[ok] * 2.0 ** -24 / np.spacing(np.float32(1.0)) * 2
        assert (_ulps(k[ok], exact[ok]) <= bound).all()


@pytest.mark.skipif(shutil.which("avr-gcc") is None or shutil.which("simavr") is None,
                    reason="needs avr-gcc and simavr")
def test_avr_matches_the_mirror(tmp_path):
    """avr-gcc: 16-bit int, its own float library and float-to-integer conversions."""
    from microlearn.targets import get_target
    drv = C_DIR / "math_dump_target.c"
    t = get_target("uno")
    b = t.build([drv], tmp_path, include_dirs=[INCLUDE])
    rng = np.random.default_rng(3)
    x = np.concatenate([_inputs(n_random=0)[:22], rng.uniform(-2010, 2035, 300).astype(np.float32),
                        rng.uniform(-60, 0, 300).astype(np.float32),
                        (rng.standard_normal(200) * 1e-3).astype(np.float32)])
    res = t.run(b, input_bytes=x.astype("<f4").tobytes(), timeout=300)
    got = np.array([[int(v) for v in line.split()] for line in res.output.strip().splitlines()], dtype=np.uint64)
    assert got.shape == (len(x), 3)
    want = _mirror(x).view(np.uint32).astype(np.uint64)
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"{len(bad)} differ, first x={x[bad[0][0]]!r} function {bad[0][1]}"
