"""export_trainer: a header a user's application includes, compiled against include_dir()."""
import subprocess
from pathlib import Path

import pytest

import microlearn

APP = r"""
#include <stdio.h>
#include "trainer.h"
int main(void) {
    static const float X[6][2] = {{0,0},{1,0},{0,1},{3,3},{4,3},{3,4}};
    float out[1];
    uint32_t it = 0;
    int i, ok = 0;
    if (iris_setup() != MLRN_OK) return 1;
    if (iris_predict(X[0]) != MLRN_ERR_UNTRAINED) return 2;
    for (i = 0; i < 6; i++) if (iris_add_sample(X[i], (uint8_t)(i >= 3)) != MLRN_OK) return 3;
    if (iris_add_sample(X[0], 0) != MLRN_ERR_FULL) return 4;
    if (iris_train(&it) != MLRN_OK) return 5;
    for (i = 0; i < 6; i++) ok += iris_predict(X[i]) == (i >= 3);
    if (iris_decision_function(X[3], out) != MLRN_OK || !(out[0] > 0.0f)) return 6;
    printf("%d %u %u\n", ok, (unsigned)it, (unsigned)IRIS_BUFFER_BYTES);
    return 0;
}
"""


def build(tmp_path, extra=(), lang="c"):
    (tmp_path / "app.c").write_text(APP)
    cmd = ["cc", "-std=c99"] if lang == "c" else ["c++", "-x", "c++", "-std=c++11"]
    cmd += ["-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-Wconversion", "-ffp-contract=off",
            "-I", microlearn.include_dir(), "-I", str(tmp_path), str(tmp_path / "app.c"), "-o",
            str(tmp_path / "app"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.mark.parametrize("storage", ["float32", "int16", "int8"])
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_user_app_builds_and_trains(tmp_path, storage, lang):
    cfg = microlearn.export_trainer(tmp_path / "trainer.h", name="iris", n_features=2, capacity=6,
                                    classes=["a", "b"], storage=storage, feature_range=(0, 4))
    r = build(tmp_path, lang=lang)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True)
    assert out.returncode == 0, out.returncode
    ok, it, buf = map(int, out.stdout.split())
    assert ok == 6 and it > 0 and buf == sum(cfg.buffers().values())


def test_header_checks_itself(tmp_path):
    microlearn.export_trainer(tmp_path / "trainer.h", name="iris", n_features=2, capacity=6, classes=2)
    text = (tmp_path / "trainer.h").read_text()
    v = microlearn.RUNTIME_VERSION
    assert f"#if MLRN_RUNTIME_VERSION != {v}" in text and "MLRN_STATIC_ASSERT" in text
    # the runtime's own number is the one the generator writes
    assert f"#define MLRN_RUNTIME_VERSION {v}\n" in (Path(microlearn.include_dir()) / "mlrn.h").read_text()
    r = build(tmp_path, extra=["-DMLRN_SRAM_BUDGET=16"])
    assert r.returncode != 0 and "exceed the SRAM budget" in r.stderr
    (tmp_path / "trainer.h").write_text(text.replace(f"!= {v}", "!= 99"))
    r = build(tmp_path)
    assert r.returncode != 0 and "regenerate it" in r.stderr


def test_board_budget_is_compiled_in(tmp_path):
    microlearn.export_trainer(tmp_path / "trainer.h", name="iris", n_features=64, capacity=400, classes=2,
                              board="uno")
    r = build(tmp_path)
    assert r.returncode != 0 and "exceed the SRAM budget" in r.stderr


def test_buffer_sizes_match_the_c_formula(tmp_path):
    """TrainerConfig.work_floats (Python) == mlrn_smo_work_floats (C) over a grid."""
    cases = []
    for kernel in ["linear", "rbf", "poly"]:
        for solver in ["wss2", "simplified"]:
            for storage in ["float32", "int8"]:
                for k in [2, 3, 5]:
                    for mc in ["ovo", "ovr"]:
                        cases.append((kernel, solver, storage, k, mc))
    src = ['#include <stdio.h>', '#include "mlrn_smo.h"', "int main(void) {", "mlrn_smo_params p;"]
    exp = []
    for kernel, solver, storage, k, mc in cases:
        cfg = microlearn.export_trainer(tmp_path / "t.h", n_features=7, capacity=33, classes=k, kernel=kernel,
                                        solver=solver, storage=storage, multiclass=mc, feature_range=(0, 1))
        exp.append(cfg.work_floats)
        src += ["p = mlrn_smo_default_params();",
                f"p.kernel.type = {['linear', 'rbf', 'poly'].index(kernel)}; p.solver = {int(solver != 'wss2')};",
                f"p.multiclass = {int(mc == 'ovr')};",
                f'printf("%u\\n", (unsigned)mlrn_smo_work_floats(33, 7, {k}, {0 if storage == "float32" else 2}, &p));']
        if kernel == "linear" and solver == "wss2":   # the constant-expression twin used for static arrays
            exp.append(cfg.work_floats)
            nsub = 1 if k == 2 else (k if mc == "ovr" else k * (k - 1) // 2)
            src.append(f'printf("%u\\n", (unsigned)MLRN_SMO_WORK_FLOATS_LINEAR(33, 7, {nsub}, '
                       f'{0 if storage == "float32" else 2}));')
    src += ["return 0; }"]
    (tmp_path / "w.c").write_text("\n".join(src))
    r = subprocess.run(["cc", "-I", microlearn.include_dir(), str(tmp_path / "w.c"), "-o", str(tmp_path / "w")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = [int(v) for v in subprocess.run([str(tmp_path / "w")], capture_output=True, text=True).stdout.split()]
    assert got == exp


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="feature_range"):
        microlearn.export_trainer(tmp_path / "t.h", n_features=2, capacity=6, classes=2, storage="int8")
    with pytest.raises(ValueError, match="capacity"):
        microlearn.export_trainer(tmp_path / "t.h", n_features=2, capacity=70000, classes=2)
    with pytest.raises(ValueError, match="C must be > 0"):
        microlearn.export_trainer(tmp_path / "t.h", n_features=2, capacity=6, classes=2, C=0)
    with pytest.raises(ValueError, match="unknown kernel"):
        microlearn.export_trainer(tmp_path / "t.h", n_features=2, capacity=6, classes=2, kernel="cubic")
    with pytest.raises(ValueError, match="C identifier"):
        microlearn.export_trainer(tmp_path / "t.h", name="9x", n_features=2, capacity=6, classes=2)


def test_only_the_trainers_kernel_is_compiled(tmp_path):
    """A generated trainer sets MLRN_KERNELS to its own kernel: a linear trainer links no exponential
    (smaller on AVR), a later header that needs another kernel refuses to compile instead of silently
    computing a linear kernel, and defining MLRN_KERNELS first keeps both."""
    import shutil

    from sklearn.datasets import load_iris
    from sklearn.svm import SVC
    X, y = load_iris(return_X_y=True)
    microlearn.export_trainer(tmp_path / "trainer.h", name="iris", n_features=2, capacity=6, classes=2)
    microlearn.export(SVC(kernel="rbf", gamma=0.5).fit(X[:, :2], y == 0), tmp_path / "m.h", name="m")
    (tmp_path / "app.c").write_text('#include "trainer.h"\n#include "m.h"\n'
                                    "int main(void) { float x[2] = {5.0f, 3.0f};\n"
                                    "  return iris_setup() == MLRN_OK ? (int)m_predict(x) : 9; }\n")
    cmd = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", microlearn.include_dir(), "-I", str(tmp_path),
           str(tmp_path / "app.c"), "-o", str(tmp_path / "app")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode != 0 and "needs the rbf kernel, which MLRN_KERNELS leaves out" in r.stderr
    r = subprocess.run(cmd + ["-DMLRN_KERNELS=3u"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert subprocess.run([str(tmp_path / "app")]).returncode == 1      # (5, 3) is a setosa: class index 1
    if shutil.which("avr-gcc"):
        (tmp_path / "t.c").write_text(APP.replace("#include <stdio.h>", "#define printf(...) ((void)0)"))

        def text_bytes(extra):
            o = tmp_path / "t.o"
            subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", "-I", microlearn.include_dir(),
                            "-I", str(tmp_path), "-c", str(tmp_path / "t.c"), "-o", str(o), *extra], check=True)
            out = subprocess.run(["avr-size", str(o)], capture_output=True, text=True, check=True).stdout
            return int(out.splitlines()[1].split()[0])
        assert text_bytes([]) + 500 < text_bytes(["-DMLRN_KERNELS=0xfu"])
