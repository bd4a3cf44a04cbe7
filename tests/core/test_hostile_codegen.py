"""Text from users reaches generated C only as escaped string literals (hardening issue, item 1).

A CSV label used to be written into a C comment with repr(): `*/ ... system(...) /*` closed the comment,
and `microlearn train` compiled and ran what followed on the host. Class names are now a string table
(NAME_class_names) built by c_format.c_string, model descriptions go through c_comment, and every C
prefix (`name=`, `--name`) through c_identifier."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microlearn
from microlearn.cli.main import main
from microlearn.core.c_format import c_bytes, c_comment, c_identifier, c_string
from microlearn.trainer.codegen import export_trainer, render_trainer
from microlearn.trainer.config import make_config

from compile_c import compile_c
from conftest import need

pytestmark = pytest.mark.hostile
need_cc = need("cc", "c++")
need_avr = need("avr-gcc", "avr-nm")
C_DIR = Path(__file__).resolve().parent / "c"
# Labels of 10 KB: longer than the 4095 characters ISO C99 promises a string literal (-pedantic warns);
# the compilers the project supports take them, and the point here is what the text does, not its length.
LONG_LITERALS = ["-Wno-overlength-strings"]
# As the AVR target links: unused code and data dropped (a table nothing reads must go).
GC_SECTIONS = ["-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"]
BAD_NAMES = ["", "1x", "a-b", "x y", "é", "int", "class", "_x", "_X", "mlrn", "mlrn_model", "MLRN_X",
             "x; system(\"id\")", "m */ int y; /*", "a\nb", None, 3]


def payload(marker: Path) -> str:
    """The label that ran `touch` through `microlearn train` before labels left comments (it compiles
    warning-free when it lands in code: system is declared)."""
    return (f'x */ int system(const char *); __attribute__((constructor)) static void pwn(void) '
            f'{{ system("touch {marker}"); }} /* y')


def outside_literals(c_text: str) -> str:
    """The C text with every string literal removed: what the compiler reads as code or comments."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', c_text)


def hostile_labels(marker):
    return [payload(marker), "*/", "/*", "//", '"', "\\", "a\nb", "c\rd", "nul\0byte", "??/", "??=", "é",
            "日本", "🙂", "\x01abc", "é" + "BEEF", "\x7f" + "0123", '"' + "789", "x" * 10240,
            "日本*/??=\\\n" * 1000, "#define int void", "-1", "tab\tend", ""]


def write_expected(tmp_path, values):
    """expected_names.h: EXPECTED, the names a program compares a generated table with, as C literals."""
    (tmp_path / "expected_names.h").write_text(
        "static const char *const EXPECTED[] = {\n" + "".join(f"    {c_string(v)},\n" for v in values) + "};\n")


@need_cc
def test_c_string_round_trips_every_byte(tmp_path):
    values = hostile_labels(tmp_path / "never") + [bytes(range(256)), "\udcff surrogate-escaped", np.str_("np"),
                                                  np.int64(-7), 2.5]
    src = ["static const char *const V[] = {"]
    src += [f"    {c_string(v)}," for v in values]
    src += ["};", "static const unsigned long N[] = {"]
    src += [f"    sizeof({c_string(v)}) - 1," for v in values]
    src += ["};"]
    (tmp_path / "literals.h").write_text("\n".join(src) + "\n")
    want = b"".join((v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")) + b"\xfe\xff"
                    for v in values)
    src = C_DIR / "string_round_trip.c"
    for lang in ("c", "c++"):
        exe = tmp_path / f"rt_{lang}"
        compile_c(src, exe, lang=lang, include_dirs=[tmp_path], extra=[*LONG_LITERALS, "-Wtrigraphs"])
        out = subprocess.run([str(exe)], check=True, capture_output=True).stdout
        assert out == want
    # trigraphs on (-trigraphs / C89 compilers): still the same bytes
    compile_c(src, tmp_path / "rt_tri", include_dirs=[tmp_path], extra=["-trigraphs", *LONG_LITERALS])
    assert subprocess.run([str(tmp_path / "rt_tri")], capture_output=True).stdout == want


def test_c_string_shape():
    assert c_string("é7") == '"\\303\\2517"'              # octal: at most 3 digits, the 7 stays a 7
    assert c_string("a?b") == '"a\\077b"' and c_string("") == '""'
    assert c_bytes(b"\xff") == b"\xff" and c_bytes(np.bytes_(b"ab")) == b"ab"
    lit = c_string("*/" * 100)
    assert "\n" not in lit and lit.count('" "') == 2       # long text: adjacent literals, C concatenates them


def test_c_comment_and_identifier():
    for text in ["*/ x", "/* y", "// z", "??/", "a\\\nb", "\x1b[31m", "*", "/", "x/", "x*", "?", "//*/*/",
                 "é*/日本", "a" * 1000 + "*/"]:
        safe = c_comment(text)
        assert not any(bad in safe for bad in ("*/", "/*", "//", "??", "\\", "\n", "\r", "\x1b"))
        assert safe.isascii() and len(safe) <= 205
        for before, after in (("/* ", " */"), ("/* ", "."), (" * ", "?")):   # as generators embed it
            framed = before + safe + after
            assert framed.count("/*") <= 1 and framed.count("*/") <= 1 and "??" not in framed
    assert c_comment("sklearn SVC(kernel='rbf')") == "sklearn SVC(kernel='rbf')"
    for bad in BAD_NAMES:
        with pytest.raises(ValueError, match="C identifier"):
            c_identifier(bad)
    assert c_identifier("iris_model") == "iris_model" and c_identifier("Mlrnx") == "Mlrnx"


def test_every_generator_refuses_a_bad_name(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from microlearn.learner import codegen as lc
    from microlearn.learner.envs import colour
    from microlearn.learner.config import LearnerConfig
    est = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    cfg = make_config(n_features=2, capacity=8, classes=2)
    lcfg = LearnerConfig(n_features=2, n_classes=2)
    for bad in BAD_NAMES:
        for gen in (lambda: render_trainer(cfg, bad),
                    lambda: export_trainer(tmp_path / "t.h", bad, n_features=2, capacity=8, classes=2),
                    lambda: microlearn.export(est, tmp_path / "m.h", name=bad),
                    lambda: lc.render_header(lcfg, bad),
                    lambda: colour.export_c_table(np.zeros((2, 4)), name=bad)):
            with pytest.raises(ValueError, match="C identifier"):
                gen()
    assert not (tmp_path / "t.h").exists() and not (tmp_path / "m.h").exists()


def test_export_cli_refuses_a_bad_name(tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression
    est = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    microlearn.save_model(est, tmp_path / "m.skops")
    rc = main(["export", str(tmp_path / "m.skops"), "-o", str(tmp_path / "m.h"), "--name", "x */ int y; /*"])
    assert rc == 2 and "C identifier" in capsys.readouterr().err
    assert not (tmp_path / "m.h").exists()


@need_cc
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_trainer_header_with_hostile_labels_compiles_and_names_them(tmp_path, lang):
    marker = tmp_path / "PWNED"
    labels = hostile_labels(marker)[:6] + ["é" + "BEEF", "x" * 10240, "日本*/??=\\\n" * 1000, ""]
    cfg = make_config(n_features=2, capacity=8, classes=labels, storage="float32")
    header = render_trainer(cfg, "t")
    code = outside_literals(header)
    assert "system(" not in code and "pwn" not in code and "*/ x" not in code and "é" not in code
    (tmp_path / "t.h").write_text(header)
    write_expected(tmp_path, labels)
    compile_c(C_DIR / "class_names_trainer.c", tmp_path / "m", lang=lang, include_dirs=[tmp_path],
              extra=LONG_LITERALS)
    assert subprocess.run([str(tmp_path / "m")]).returncode == 0
    assert not marker.exists()


@need_avr
def test_trainer_header_with_hostile_labels_builds_for_avr(tmp_path):
    """In flash (no SRAM: the planner's figures hold), readable with pgm_read_ptr + the _P functions, and
    gone from the program when nothing reads them."""
    labels = ["*/", "é\"\\", "x" * 300]
    cfg = make_config(n_features=2, capacity=8, classes=labels, storage="int8", feature_range=(0, 1))
    (tmp_path / "t.h").write_text(render_trainer(cfg, "t"))
    write_expected(tmp_path, labels)
    syms = {}
    for kind, defines in (("uses", {}), ("unused", {"SKIP_NAMES": 1})):
        compile_c(C_DIR / "class_names_trainer.c", tmp_path / f"{kind}.elf", board="uno", include_dirs=[tmp_path],
                  defines=defines, extra=GC_SECTIONS)
        nm = subprocess.run(["avr-nm", str(tmp_path / f"{kind}.elf")], check=True, capture_output=True, text=True)
        syms[kind] = {ln.split()[-1]: ln.split()[-2] for ln in nm.stdout.splitlines() if "class_names" in ln}
    assert syms["unused"] == {}
    # the table and its strings are in .text (flash: 't'/'T'), none in .data/.bss (SRAM: 'd'/'b')
    assert "t_class_names" in syms["uses"] and set(syms["uses"].values()) <= {"t", "T"}


@need_cc
def test_train_cli_with_hostile_labels_runs_no_injected_code(tmp_path, capsys):
    """The attack as it was: labels that close the comment and add a constructor calling system()."""
    marker = tmp_path / "PWNED"
    rng = np.random.default_rng(0)
    labels = [payload(marker), "/* x", '"q\\??/']
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


def _fitted(names):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier
    X, y = load_iris(return_X_y=True)
    return X, [est.fit(X, names[y]) for est in (LogisticRegression(max_iter=1000), DecisionTreeClassifier(),
                                                SVC(kernel="rbf"))]


def _hostile_names(marker):
    return np.array([payload(marker), "*/ // ??= é日本", "é\n\"\\" + "x" * 5000], dtype=object)


@need_cc
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_export_with_hostile_class_names(tmp_path, lang):
    marker = tmp_path / "PWNED"
    X, models = _fitted(_hostile_names(marker))
    for est in models:
        header = microlearn.export(est, tmp_path / "m.h", name="m", check_X=X[:20]).header
        assert "system(" not in outside_literals(header) and "pwn" not in outside_literals(header)
        write_expected(tmp_path, est.classes_)
        compile_c(C_DIR / "class_names_export.c", tmp_path / "main", lang=lang, include_dirs=[tmp_path],
                  extra=LONG_LITERALS)
        assert subprocess.run([str(tmp_path / "main")]).returncode == 0, type(est).__name__
    assert not marker.exists()


@need_avr
def test_export_with_hostile_class_names_builds_for_avr(tmp_path):
    X, models = _fitted(_hostile_names(tmp_path / "PWNED"))
    for est in models:
        microlearn.export(est, tmp_path / "m.h", name="m")
        write_expected(tmp_path, est.classes_)
        compile_c(C_DIR / "class_names_export.c", tmp_path / "main.o", board="uno", stage="object",
                  include_dirs=[tmp_path], extra=LONG_LITERALS)


def test_export_description_is_sanitised():
    """A model's description and notes are comments: whatever they say, they stay one comment."""
    from microlearn.exporter.model import CModel, render
    m = CModel(name="m", source="evil */ int x; /* ??/", n_features=1, classes=np.array(["a"]),
               includes=[], notes=["*/ #include </etc/passwd>", "line\nsplice\\"], predict_body="    return 0;")
    code = outside_literals(render(m))
    assert "int x;" not in code.split("*/")[1] and "#include </etc" not in code.split("*/")[1]
    assert code.count("/*") == code.count("*/")


def test_colour_table_labels_become_macro_names_only():
    from microlearn.learner.envs import colour
    src = colour.export_c_table(np.zeros((2, 4)), classes=["*/ system(x) /*", "é", "1"])
    assert "system(" not in src and "#define COLOUR_READINGS_CLASS____SYSTEM_X____ 0" in src
    with pytest.raises(ValueError, match="both become"):
        colour.export_c_table(np.zeros((2, 4)), classes=["a-b", "A_B"])
