"""Bit-exact agreement in a user's build: Arduino, PlatformIO and ESP-IDF compile with gcc's default
-ffp-contract=fast, which fuses a*b + c on FPUs that have a fused multiply-add (Cortex-M4F here). The
runtime headers and every generated header switch contraction off around their code (MLRN_FP_EXACT_BEGIN
in mlrn.h), so the trainer, the learner and exported models still compute what the Python reference
computes. Built here with the targets' flags followed by -ffp-contract=fast (the later flag wins).

The guard is shown to matter, not assumed: with -DMLRN_FP_CONTRACT_ALLOWED (the guard off) the same
build fuses multiply-adds (vfma in the ELF) and the training takes another number of iterations."""
import re
import shutil
import subprocess
from pathlib import Path
from platform import machine as platform_machine

import numpy as np
import pytest
from sklearn.datasets import load_iris

import microlearn
from compile_c import compile_c, host_compilers
from conftest import board_param
from microlearn.learner.config import LearnerConfig
from microlearn.learner.runner import run_on_target
from microlearn.learner.simulate import run_reference
from microlearn.targets import get_target
from microlearn.trainer.config import make_config
from microlearn.trainer.estimator import SMOClassifier
from microlearn.trainer.runner import train_on_target

FAST = ["-ffp-contract=fast"]
FUSED = re.compile(r"\bv(fma|fms|fnma|fnms)\.f32\b")   # ARMv7E-M fused multiply-add instructions


def _iris(n_train=40):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    return X[idx[:n_train]], y[idx[:n_train]], X[idx[n_train:]], y[idx[n_train:]]


def _train(board, kernel, cflags, language="c"):
    Xtr, ytr, Xte, yte = _iris()
    est = SMOClassifier(kernel=kernel, gamma=0.5).fit(Xtr, ytr)
    cfg = make_config(n_features=4, capacity=len(Xtr), classes=3, kernel=kernel, gamma=0.5)
    run = train_on_target(cfg, get_target(board), Xtr, ytr, Xte, yte, cflags=cflags, language=language,
                          dump=True)
    return est, run, Xte


def _fused_instructions(elf) -> int:
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        pytest.skip("arm-none-eabi-objdump not installed")
    text = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    return len(FUSED.findall(text))


@pytest.mark.parametrize("board", [board_param("nrf52840"), board_param("uno")])
@pytest.mark.parametrize("kernel,language", [("linear", "c"), ("rbf", "c++")])
def test_trainer_exact_under_fast_contraction(board, kernel, language):
    est, run, Xte = _train(board, kernel, FAST, language)
    assert run.iterations == int(np.sum(est.n_iter_))
    assert np.array_equal(run.predictions, est.predict(Xte).astype(int))
    assert np.array_equal(run.b.view(np.uint32), est.intercept_.view(np.uint32))


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_without_the_guard_the_same_build_fuses_and_drifts(board, tmp_path):
    """The control: the guard off, -ffp-contract=fast gives fused instructions and another training."""
    Xtr, ytr, Xte, yte = _iris()
    cfg = make_config(n_features=4, capacity=len(Xtr), classes=3, kernel="linear")
    est = SMOClassifier(kernel="linear").fit(Xtr, ytr)
    target = get_target(board)
    guarded = train_on_target(cfg, target, Xtr, ytr, Xte, yte, cflags=FAST, workdir=tmp_path / "g")
    loose = train_on_target(cfg, target, Xtr, ytr, Xte, yte, cflags=[*FAST, "-DMLRN_FP_CONTRACT_ALLOWED"],
                            workdir=tmp_path / "l")
    assert _fused_instructions(tmp_path / "g" / "build" / "program.elf") == 0
    assert _fused_instructions(tmp_path / "l" / "build" / "program.elf") > 0
    assert guarded.iterations == int(np.sum(est.n_iter_))
    assert loose.iterations != guarded.iterations or not np.array_equal(loose.b, guarded.b)


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_learner_exact_under_fast_contraction(board):
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (300, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    y[150:] = 1 - y[150:]                       # an abrupt drift: retrains and a rollback or two
    cfg = LearnerConfig(n_features=3, n_classes=2, capacity=24, queue=4)
    ref = run_reference(cfg, X, y)
    dev = run_on_target(cfg, X, y, board, cflags=FAST)
    assert np.array_equal(dev["predictions"], ref["predictions"])
    assert ref["retrains"], "the stream must make the learner retrain"
    assert dev["retrains"] == ref["retrains"] and dev["rollbacks"] == ref["rollbacks"]


@pytest.mark.parametrize("board", [board_param("nrf52840")])
def test_exported_model_exact_under_fast_contraction(board, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    Xtr, ytr, Xte, _ = _iris(100)
    for est in (SVC(kernel="rbf", gamma=0.5).fit(Xtr, ytr), LogisticRegression(max_iter=2000).fit(Xtr, ytr)):
        cm = microlearn.compile(est, target=board, workdir=tmp_path / type(est).__name__, cflags=FAST)
        got = cm.predict_index(Xte)
        np.testing.assert_array_equal(got, cm.model.ref_predict(Xte))     # the float32 mirror, row by row
        np.testing.assert_array_equal(cm.classes_[got], est.predict(Xte))


# ---- the guard itself, per compiler and language, on the host ---------------------------------------------------
# gcc contracts by default in GNU modes; `fast` is what Arduino/PlatformIO get. clang's default is `on` (within an
# expression, honouring pragmas); clang's `-ffp-contract=fast` ignores every pragma by design (clang's manual:
# "fuses across statements disregarding pragmas"), so no header can keep it exact: docs/targets.md says so.
MODES = {"gcc": "fast", "g++": "fast", "clang": "on", "clang++": "on"}
X86_FMA = re.compile(r"\bvfn?m(add|sub)\d*[sp]s\b")


def _fma_by_function(obj) -> dict[str, int]:
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    counts, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(\w+)>:", line)
        if m:
            name = m.group(1)
            counts[name] = 0
        elif name and X86_FMA.search(line):
            counts[name] += 1
    return counts


@pytest.mark.skipif(platform_machine() != "x86_64" or shutil.which("objdump") is None,
                    reason="needs an x86-64 host (FMA3 via -mfma) and objdump")
@pytest.mark.parametrize("compiler", [pytest.param(c, id=i) for i, c, _ in host_compilers()])
def test_headers_keep_contraction_off_in_c_and_cpp(compiler, tmp_path):
    lang = "c++" if compiler.endswith("++") else "c"
    mode = MODES[compiler]
    src = Path(__file__).resolve().parent / "c" / "fp_contract_dot.c"
    found = {}
    for guard in ("on", "off"):
        obj = tmp_path / f"{guard}.o"
        defines = {"MLRN_FP_CONTRACT_ALLOWED": 1} if guard == "off" else None
        compile_c(src, obj, compiler=compiler, lang=lang, stage="object", defines=defines,
                  extra=["-mfma", f"-ffp-contract={mode}"])
        found[guard] = {k: v for k, v in _fma_by_function(obj).items() if "runtime_dot" in k or "user_muladd" in k}
    by = lambda counts, fn: sum(v for k, v in counts.items() if fn in k)  # noqa: E731 (C++ names are mangled)
    assert by(found["on"], "user_muladd") >= 1, found         # the build does contract the user's code
    assert by(found["on"], "runtime_dot") == 0, found         # not the runtime's
    assert by(found["off"], "runtime_dot") >= 1, found        # the control: without the guard it would
