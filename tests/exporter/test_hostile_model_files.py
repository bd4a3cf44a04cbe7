"""Model files are untrusted (hardening issue, items 2 and 7): `microlearn export` used to unpickle any
file, so a crafted .pkl/.joblib ran a command; malformed files gave tracebacks. Now skops with only the
types an export needs; pickle/joblib only with --trust-pickle; every bad file is one line, exit 2."""
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

import microlearn
from microlearn.cli.main import main

pytestmark = pytest.mark.hostile


class Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def run_export(capsys, *argv):
    rc = main(["export", *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_error_line(err):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("microlearn export: error:"), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("suffix", [".pkl", ".joblib", ".skops", ".bin"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, capsys, suffix):
    import joblib
    marker = tmp_path / "PWNED"
    path = tmp_path / f"evil{suffix}"
    if suffix == ".joblib":
        joblib.dump(Evil(marker), path)
    else:
        path.write_bytes(pickle.dumps(Evil(marker)))
    rc, _, err = run_export(capsys, path, "-o", tmp_path / "m.h")
    assert rc == 2 and "--trust-pickle" in one_error_line(err)
    assert not marker.exists()


def test_malicious_skops_types_are_refused(tmp_path, capsys):
    """A skops file whose schema names os.system: refused by name before anything is built."""
    import json
    good = tmp_path / "good.skops"
    microlearn.save_model(LogisticRegression().fit(*load_iris(return_X_y=True)), good)
    with zipfile.ZipFile(good) as z:
        schema = json.loads(z.read("schema.json"))
        files = {n: z.read(n) for n in z.namelist() if n != "schema.json"}
    schema["__module__"], schema["__class__"] = "os", "system"
    bad = tmp_path / "evil.skops"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
        for n, b in files.items():
            z.writestr(n, b)
    rc, _, err = run_export(capsys, bad, "-o", tmp_path / "m.h")
    line = one_error_line(err)
    assert rc == 2 and "os.system" in line and "refused" in line


def test_skops_with_an_untrusted_estimator_type_is_refused(tmp_path, capsys, iris):
    import operator
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import FunctionTransformer, make_pipeline
    # a function skops does not trust (a kNN's KDTree and distance object are trusted since kNN exports)
    est = make_pipeline(FunctionTransformer(operator.neg), KNeighborsClassifier()).fit(*iris)
    path = microlearn.save_model(est, tmp_path / "m.skops")
    rc, _, err = run_export(capsys, path, "-o", tmp_path / "m.h")
    assert rc == 2 and "refused" in one_error_line(err)


def _bad_files(tmp_path):
    good = microlearn.save_model(LogisticRegression().fit(*load_iris(return_X_y=True)), tmp_path / "g.skops")
    data = good.read_bytes()
    files = {"empty.skops": b"", "text.pkl": b"hello, world\n", "random.skops": os.urandom(4096),
             "truncated.skops": data[: len(data) // 2], "zip_without_schema.skops": None}
    for name, content in files.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    with zipfile.ZipFile(tmp_path / "zip_without_schema.skops", "w") as z:
        z.writestr("other.txt", "x")
    return list(files)


def test_malformed_model_files_one_line_each(tmp_path, capsys):
    for name in _bad_files(tmp_path):
        rc, _, err = run_export(capsys, tmp_path / name, "-o", tmp_path / "m.h")
        assert rc == 2, name
        assert name in one_error_line(err)
    for path in (tmp_path / "missing.skops", tmp_path):
        rc, _, err = run_export(capsys, path)
        assert rc == 2
        one_error_line(err)


def test_trusted_pickle_of_a_non_model(tmp_path, capsys):
    (tmp_path / "int.pkl").write_bytes(pickle.dumps(42))
    rc, _, err = run_export(capsys, tmp_path / "int.pkl", "--trust-pickle", "-o", tmp_path / "m.h")
    assert rc == 2 and "not a fitted scikit-learn model" in one_error_line(err)
    (tmp_path / "trunc.pkl").write_bytes(pickle.dumps(LogisticRegression().fit(*load_iris(return_X_y=True)))[:100])
    rc, _, err = run_export(capsys, tmp_path / "trunc.pkl", "--trust-pickle", "-o", tmp_path / "m.h")
    assert rc == 2
    one_error_line(err)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.skops"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "microlearn", "export", str(fifo)], capture_output=True,
                          text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_good_models_export_and_check_with_or_without_header(tmp_path, capsys, iris):
    X, y = iris
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", fmt="%.17g")
    (tmp_path / "xh.csv").write_text("a,b,c,d\n" + (tmp_path / "x.csv").read_text())
    for est in (LogisticRegression(max_iter=1000).fit(X, y), SVC().fit(X, y)):
        path = microlearn.save_model(est, tmp_path / "m.skops")
        for check in ("x.csv", "xh.csv"):
            rc, out, err = run_export(capsys, path, "-o", tmp_path / "m.h", "--check", tmp_path / check)
            assert rc == 0, err
            assert "agreement 100.00% on 150 rows" in out, out


def test_check_and_calib_csv_errors(tmp_path, capsys, iris):
    X, y = iris
    path = microlearn.save_model(LogisticRegression(max_iter=1000).fit(X, y), tmp_path / "m.skops")
    np.savetxt(tmp_path / "w3.csv", X[:, :3], delimiter=",")
    rc, _, err = run_export(capsys, path, "--dtype", "int8", "--calib", tmp_path / "w3.csv", "-o", tmp_path / "m.h")
    line = one_error_line(err)
    assert rc == 2 and "3 values, the model takes 4" in line and "w3.csv" in line
    (tmp_path / "nan.csv").write_text("1,2,3,4\n5,nan,6,7\n")
    rc, _, err = run_export(capsys, path, "--check", tmp_path / "nan.csv", "-o", tmp_path / "m.h")
    assert rc == 2 and "line 2" in one_error_line(err)


def test_pickle_still_loads_when_trusted(tmp_path, capsys, iris):
    import joblib
    X, y = iris
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), tmp_path / "m.joblib")
    rc, out, err = run_export(capsys, tmp_path / "m.joblib", "--trust-pickle", "-o", tmp_path / "m.h")
    assert rc == 0, err
    assert "wrote" in out


def test_a_model_file_from_before_a_parameter_existed_loads_with_its_default(tmp_path, iris):
    """An SMOClassifier saved before `loss` and `arith` existed (its state lacks them) loads with the defaults it was
    trained with: get_params, repr and the exporter work, predictions unchanged."""
    X, y = iris
    m = microlearn.SMOClassifier().fit(X, y)
    del m.loss, m.arith
    microlearn.save_model(m, tmp_path / "old.skops")
    old = microlearn.load_model(tmp_path / "old.skops")
    assert old.get_params()["loss"] == "hinge" and old.get_params()["arith"] == "float"
    assert "SMOClassifier" in repr(old) and np.array_equal(old.predict(X), m.predict(X))
    assert pickle.loads(pickle.dumps(m)).arith == "float"
    assert main(["export", str(tmp_path / "old.skops"), "--out", str(tmp_path / "o")]) == 0
