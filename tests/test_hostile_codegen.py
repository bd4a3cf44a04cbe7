"""Text from users reaches generated C only as escaped string literals (hardening issue, item 1).

A CSV label used to be written into a C comment with repr(): `*/ ... system(...) /*` closed the comment,
and `microlearn train` compiled and ran what followed on the host. Class names are now a string table
(NAME_class_names) built by c_format.c_string, and model descriptions go through c_comment."""
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microlearn
from microlearn.cli.main import main
from microlearn.codegen.c_format import c_comment, c_identifier, c_string
from microlearn.codegen.trainer import make_config, render_trainer

pytestmark = pytest.mark.hostile
need_cc = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("g++") is None, reason="no host gcc/g++")
STRICT = ["-Wall", "-Wextra", "-Werror", "-Wcomment", "-Wconversion", "-Wdouble-promotion"]


def payload(marker: Path) -> str:
    return (f'x */ __attribute__((constructor)) static void pwn(void) {{ system("touch {marker}"); }} /* y')


def outside_literals(c_text: str) -> str:
    """The C text with every string literal removed: what the compiler reads as code or comments."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', c_text)


def hostile_labels(marker):
    return [payload(marker), "*/", "/*", "//", '"', "\\", "a\nb", "c\rd", "nul\0byte", "??/", "??=", "é",
            "日本", "🙂", "\x01abc", "x" * 3000, "#define int void", "-1", "tab\tend"]


@need_cc
def test_c_string_round_trips_every_byte(tmp_path):
    values = hostile_labels(tmp_path / "never") + [bytes(range(256))]
    src = ["#include <stdio.h>", "static const char *const V[] = {"]
    src += [f"    {c_string(v)}," for v in values]
    src += ["};", "static const unsigned long N[] = {"]
    src += [f"    sizeof({c_string(v)}) - 1," for v in values]
    src += ["};", "int main(void) { unsigned i; for (i = 0; i < sizeof N / sizeof N[0]; i++) "
            "{ fwrite(V[i], 1, N[i], stdout); fputc(0xFE, stdout); fputc(0xFF, stdout); } return 0; }"]
    (tmp_path / "rt.c").write_text("\n".join(src) + "\n")
    subprocess.run(["gcc", "-std=c99", *STRICT, "-Wno-overlength-strings", str(tmp_path / "rt.c"), "-o",
                    str(tmp_path / "rt")], check=True, capture_output=True, text=True)
    out = subprocess.run([str(tmp_path / "rt")], check=True, capture_output=True).stdout
    want = b"".join((v if isinstance(v, bytes) else v.encode()) + b"\xfe\xff" for v in values)
    assert out == want


def test_c_comment_and_identifier():
    for text in ["*/ x", "/* y", "// z", "??/", "a\\\nb", "\x1b[31m"]:
        safe = c_comment(text)
        assert not any(bad in safe for bad in ("*/", "/*", "//", "??", "\\", "\n", "\x1b"))
    for bad in ["", "1x", "a-b", "int", "class", "x y", "é", None]:
        with pytest.raises(ValueError):
            c_identifier(bad)
    assert c_identifier("iris_model") == "iris_model"


@need_cc
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_trainer_header_with_hostile_labels_compiles_and_names_them(tmp_path, lang):
    marker = tmp_path / "PWNED"
    labels = hostile_labels(marker)[:6]
    cfg = make_config(n_features=2, capacity=8, classes=labels, storage="float32")
    header = render_trainer(cfg, "t")
    code = outside_literals(header)
    assert "system(" not in code and "pwn" not in code and "*/ x" not in code
    (tmp_path / "t.h").write_text(header)
    checks = "\n".join(f"    if (strcmp(t_class_names[{i}], {c_string(v)}) != 0) return {i + 1};"
                       for i, v in enumerate(labels))
    (tmp_path / "m.c").write_text(f'#include <string.h>\n#include "t.h"\nint main(void) {{\n{checks}\n'
                                  f'    return T_N_CLASS_NAMES == {len(labels)}u ? 0 : 99;\n}}\n')
    cc = ["gcc", "-std=c99"] if lang == "c" else ["g++", "-x", "c++", "-std=c++11"]
    subprocess.run([*cc, *STRICT, "-I", microlearn.include_dir(), "-I", str(tmp_path), str(tmp_path / "m.c"),
                    "-o", str(tmp_path / "m"), "-lm"], check=True, capture_output=True, text=True)
    assert subprocess.run([str(tmp_path / "m")]).returncode == 0
    assert not marker.exists()


@pytest.mark.skipif(shutil.which("avr-gcc") is None, reason="no avr-gcc")
def test_trainer_header_with_hostile_labels_builds_for_avr(tmp_path):
    cfg = make_config(n_features=2, capacity=8, classes=["*/", "é\"\\"], storage="int8", feature_range=(0, 1))
    (tmp_path / "t.h").write_text(render_trainer(cfg, "t"))
    (tmp_path / "m.c").write_text('#include "t.h"\nint main(void) {\n'
                                  '    const char *p = (const char *)pgm_read_ptr(&t_class_names[1]);\n'
                                  '    return pgm_read_byte(p) == 0xC3 ? 0 : 1;\n}\n')
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", *STRICT, "-I", microlearn.include_dir(),
                    "-I", str(tmp_path), "-c", str(tmp_path / "m.c"), "-o", str(tmp_path / "m.o")],
                   check=True, capture_output=True, text=True)


@need_cc
def test_train_cli_with_hostile_labels_runs_no_injected_code(tmp_path, capsys):
    """The attack as it was: labels that close the comment and add a constructor calling system()."""
    marker = tmp_path / "PWNED"
    rng = np.random.default_rng(0)
    labels = [payload(marker), "/* x", '"q\\']
    rows = ["a,b,label"]
    for i in range(45):
        c = i % 3
        x = rng.normal(size=2) * 0.2 + [3 * c, -2 * c]
        text = labels[c]
        rows.append(f"{x[0]:.4f},{x[1]:.4f}," + '"' + text.replace('"', '""') + '"')
    csv = tmp_path / "hostile.csv"
    csv.write_text("\n".join(rows) + "\n")
    rc = main(["train", str(csv), "--target", "host", "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert not marker.exists()
    assert '"agreement": 1.0' in out.out


@need_cc
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_export_with_hostile_class_names(tmp_path, lang):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier
    marker = tmp_path / "PWNED"
    X, y = load_iris(return_X_y=True)
    names = np.array([payload(marker), "*/ // ??=", "é\n\"\\"], dtype=object)
    for est in (LogisticRegression(max_iter=1000).fit(X, names[y]), DecisionTreeClassifier().fit(X, names[y])):
        header = microlearn.export(est, tmp_path / "m.h", name="m", check_X=X[:20]).header
        assert "system(" not in outside_literals(header)
        checks = "\n".join(f"    if (strcmp(m_class_names[{i}], {c_string(v)}) != 0) return {i + 1};"
                           for i, v in enumerate(est.classes_))
        (tmp_path / "main.c").write_text(f'#include <string.h>\n#include "m.h"\nint main(void) {{\n{checks}\n'
                                         "    return 0;\n}\n")
        cc = ["gcc", "-std=c99"] if lang == "c" else ["g++", "-x", "c++", "-std=c++11"]
        subprocess.run([*cc, *STRICT, "-I", microlearn.include_dir(), "-I", str(tmp_path),
                        str(tmp_path / "main.c"), "-o", str(tmp_path / "main"), "-lm"], check=True,
                       capture_output=True, text=True)
        assert subprocess.run([str(tmp_path / "main")]).returncode == 0
    assert not marker.exists()
