"""export_trainer: a header a user's application includes, compiled against include_dir()."""
import subprocess
from pathlib import Path

import pytest

import microlearn
from microlearn.core import vocab

from compile_c import compile_c

C_DIR = Path(__file__).resolve().parent / "c"


def build(tmp_path, extra=(), lang="c"):
    """The application against the trainer.h in tmp_path; the result (returncode, stderr) is the caller's to read."""
    return compile_c(C_DIR / "trainer_app.c", tmp_path / "app", lang=lang, include_dirs=[tmp_path], extra=extra,
                     check=False)


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


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_user_app_trains_with_dcd(tmp_path, loss):
    """A dcd trainer header (p.solver and p.loss written by the generator) builds as C and C++ and trains."""
    cfg = microlearn.export_trainer(tmp_path / "trainer.h", name="iris", n_features=2, capacity=6,
                                    classes=["a", "b"], solver="dcd", loss=loss)
    text = (tmp_path / "trainer.h").read_text()
    assert "p.solver = MLRN_SMO_SOLVER_DCD;" in text and f"p.loss = {vocab.LOSS_MACROS[loss]};" in text
    for lang in ("c", "c++"):
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
        for solver in ["wss2", "simplified", "dcd"]:
            if solver == "dcd" and kernel != "linear":
                continue                               # dcd trains the linear kernel only
            for storage in ["float32", "int8"]:
                for k in [2, 3, 5]:
                    for mc in ["ovo", "ovr"]:
                        cases.append((kernel, solver, storage, k, mc))
    rows, exp = [], []
    for kernel, solver, storage, k, mc in cases:
        cfg = microlearn.export_trainer(tmp_path / "t.h", n_features=7, capacity=33, classes=k, kernel=kernel,
                                        solver=solver, storage=storage, multiclass=mc, feature_range=(0, 1))
        exp.append(cfg.work_floats)
        nsub = 0
        if kernel == "linear" and solver == "wss2":   # the constant-expression twin used for static arrays
            exp.append(cfg.work_floats)
            nsub = 1 if k == 2 else (k if mc == "ovr" else k * (k - 1) // 2)
        rows.append(f"    {{{['linear', 'rbf', 'poly'].index(kernel)}, {vocab.SOLVERS[solver]}, {int(mc == 'ovr')}, "
                    f"{k}, {0 if storage == 'float32' else 2}, {nsub}}},")
    (tmp_path / "work_cases.h").write_text("static const work_case CASES[] = {\n" + "\n".join(rows) + "\n};\n")
    compile_c(C_DIR / "smo_work_floats.c", tmp_path / "w", include_dirs=[tmp_path])
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
    app = C_DIR / "trainer_and_model.c"
    r = compile_c(app, tmp_path / "app", include_dirs=[tmp_path], check=False)
    assert r.returncode != 0 and "needs the rbf kernel, which MLRN_KERNELS leaves out" in r.stderr
    r = compile_c(app, tmp_path / "app", include_dirs=[tmp_path], defines={"MLRN_KERNELS": "3u"}, check=False)
    assert r.returncode == 0, r.stderr
    assert subprocess.run([str(tmp_path / "app")]).returncode == 1      # (5, 3) is a setosa: class index 1
    if shutil.which("avr-gcc"):
        def text_bytes(defines):
            o = tmp_path / "t.o"
            compile_c(C_DIR / "trainer_app.c", o, board="uno", stage="object", include_dirs=[tmp_path],
                      defines={"NO_STDIO": 1, **defines})
            out = subprocess.run(["avr-size", str(o)], capture_output=True, text=True, check=True).stdout
            return int(out.splitlines()[1].split()[0])
        assert text_bytes({}) + 500 < text_bytes({"MLRN_KERNELS": "0xfu"})
