"""The trainer's parameter check, three ways that must agree: mlrn_smo_check_params names the first wrong
parameter, mlrn_smo_init refuses (MLRN_ERR_ARG) exactly those parameters, and the Python check that runs
before any C is written (trainer.reference.check_params) refuses the same values under the same name.
The C program is tests/trainer/c/param_check.c (one wrong parameter per case)."""
import math
from pathlib import Path

import pytest

from compile_c import program_output
from microlearn.core import vocab
from microlearn.trainer.reference import check_combination, check_params

SOURCE = Path(__file__).resolve().parent / "c" / "param_check.c"

# case of param_check.c -> (the parameter mlrn_smo_check_params must name, the Python value that is as wrong;
# None where the Python API has no such value: a NULL pointer, a kernel id left out of MLRN_KERNELS)
CASES = {
    "params": ("params", None),
    "C": ("C", {"C": 0.0}),
    "C_inf": ("C", {"C": math.inf}),
    "tol": ("tol", {"tol": 0.0}),
    "tol_nan": ("tol", {"tol": math.nan}),
    "alpha_tol": ("alpha_tol", {"alpha_tol": -1e-3}),
    "kernel": ("kernel", {"kernel": "laplacian"}),
    "kernel_not_compiled": ("kernel", None),
    "solver": ("solver", {"solver": "smo2"}),
    "multiclass": ("multiclass", {"multiclass": "ecoc"}),
    "gamma": ("gamma", {"gamma": math.inf}),
    "coef0": ("coef0", {"coef0": math.nan}),
    "n_classes": ("n_classes", {"n_classes": vocab.SMO_MAX_CLASSES_LIMIT + 1}),
    "max_iter": ("max_iter", {"max_iter": 0}),
    "max_passes": ("max_passes", {"max_passes": 0}),
    "solver_dcd_rbf": ("solver", {"solver": "dcd", "kernel": "rbf"}),
    "loss": ("loss", {"loss": "l1"}),
    "loss_wss2": ("loss", {"loss": "squared_hinge", "solver": "wss2"}),
    "C_squared_hinge_tiny": ("C", {"C": 1e-45, "loss": "squared_hinge", "solver": "dcd"}),
    "C_and_max_iter": ("C", None),
}


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    out = program_output(SOURCE, tmp_path_factory.mktemp("param_check"))
    rows = {}
    for line in out.splitlines():
        name, rest = line.split(" ", 1)
        if name == "unknown":
            rows[name] = rest
            continue
        code, status, text = rest.split(" ", 2)
        rows[name] = (int(code), int(status), text)
    return rows


@pytest.mark.parametrize("case", list(CASES))
def test_c_check_names_the_parameter_init_refuses(device, case):
    param, _ = CASES[case]
    code, status, text = device[case]
    assert code == vocab.SMO_PARAM_CODES[param], (case, code)
    assert status == vocab.STATUS_BY_CODE[-1].code     # MLRN_ERR_ARG
    assert text == vocab.smo_param_str(code) and text.startswith(param + ":")


def test_c_check_accepts_what_init_accepts(device):
    assert device["defaults"] == (0, vocab.OK, vocab.SMO_PARAM_OK_TEXT)
    # the wss2 solver does not read max_passes: neither the check nor init refuses a zero there
    assert device["max_passes_wss2"] == (0, vocab.OK, vocab.SMO_PARAM_OK_TEXT)
    assert device["unknown"] == vocab.SMO_PARAM_UNKNOWN_TEXT
    # dcd with squared hinge and a normal C; hinge with a C whose 0.5 / C would overflow (hinge never divides)
    assert device["dcd_squared_hinge"] == (0, vocab.OK, vocab.SMO_PARAM_OK_TEXT)
    assert device["dcd_hinge_tiny_C"] == (0, vocab.OK, vocab.SMO_PARAM_OK_TEXT)


@pytest.mark.parametrize("case", [c for c, (_, v) in CASES.items() if v is not None])
def test_python_refuses_the_same_value_by_the_same_name(case):
    param, values = CASES[case]
    with pytest.raises(ValueError) as e:
        check_all(**values)
    msg = str(e.value)
    assert msg.startswith(param) or msg.startswith(f"unknown {param}"), msg


def check_all(**values):
    """check_params on each value, then the rules that join parameters (as SMOClassifier does)."""
    check_params(**values)
    combined = {"solver": "wss2", "kernel": "linear", "loss": "hinge", "C": 1.0}
    if set(values) & {"solver", "loss"}:
        check_combination(**{**combined, **{k: v for k, v in values.items() if k in combined}})


def test_python_accepts_dcd():
    check_combination(solver="dcd", kernel="linear", loss="squared_hinge", C=1e-3)
    check_combination(solver="dcd", kernel="linear", loss="hinge", C=1e-45)


def test_python_accepts_the_defaults():
    check_params(C=1.0, tol=1e-3, alpha_tol=1e-7, gamma=0.5, coef0=0.0, max_iter=100000, max_passes=10,
                 degree=3, seed=0, n_classes=vocab.SMO_MAX_CLASSES, kernel="rbf", solver="wss2",
                 multiclass="ovr", storage="int8")
