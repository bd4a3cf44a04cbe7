"""The trainer on the emulated cores agrees with the Python reference bit for bit, for every
storage type. int16 storage on AVR guards against 16-bit `int` overflow in integer arithmetic
(the case that once hung: an int16 code difference computed in int)."""
import numpy as np
import pytest

from microlearn.data.datasets import load
from microlearn.trainer.runner import train_and_report
from conftest import board_param, check_agreement, need


def iris_case(n, seed=0):
    X, y = load("iris")
    idx = np.random.default_rng(seed).permutation(len(X))
    return X[idx[:n]], X[idx[n:]], y[idx[:n]], y[idx[n:]]


check = check_agreement


@pytest.mark.avr
@need("avr-gcc")
@pytest.mark.parametrize("storage", ["int16", "int8", "float32"])
@pytest.mark.parametrize("n", [10, 20])
def test_uno_every_storage(storage, n):
    Xtr, Xte, ytr, yte = iris_case(n)
    check(train_and_report(Xtr, ytr, Xte, yte, "uno", storage=storage, timeout=60))


@pytest.mark.avr
@need("avr-gcc")
def test_uno_int16_full_code_range():
    """Codes spanning -32768..32767: the largest differences between two samples."""
    Xtr, Xte, ytr, yte = iris_case(40, seed=3)
    check(train_and_report(Xtr, ytr, Xte, yte, "uno", storage="int16", timeout=60,
                           feature_range=(Xtr.min(axis=0), Xtr.max(axis=0))))


@pytest.mark.cortexm
@need("arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("storage", ["int16", "int8"])
def test_nrf52840_quantised(storage):
    Xtr, Xte, ytr, yte = iris_case(20)
    check(train_and_report(Xtr, ytr, Xte, yte, "nrf52840", storage=storage, timeout=60))


# ---- dcd: uno (exact cycles, int8/int16/float32 rows) and nrf52840 by default; more boards under -m slow
@pytest.mark.avr
@need("avr-gcc")
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("storage", ["int16", "int8", "float32"])
def test_uno_dcd(storage, loss):
    Xtr, Xte, ytr, yte = iris_case(20)
    check(train_and_report(Xtr, ytr, Xte, yte, "uno", storage=storage, solver="dcd", loss=loss, timeout=60))


@pytest.mark.cortexm
@need("arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("storage", ["float32", "int8"])
def test_nrf52840_dcd(storage, loss):
    Xtr, Xte, ytr, yte = iris_case(40)
    check(train_and_report(Xtr, ytr, Xte, yte, "nrf52840", storage=storage, solver="dcd", loss=loss, timeout=60))


@pytest.mark.parametrize("board", [board_param(b, slow=True) for b in ("bluepill", "samd21", "esp32c3")])
@pytest.mark.parametrize("storage", ["float32", "int16"])
def test_more_boards_dcd(board, storage):
    Xtr, Xte, ytr, yte = iris_case(30, seed=2)
    check(train_and_report(Xtr, ytr, Xte, yte, board, storage=storage, solver="dcd", timeout=120))
