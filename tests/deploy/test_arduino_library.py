"""The generated Arduino library: the runtime copied byte for byte, library.properties held to the library
specification (1.5 format, rev. 2.2) and to what the Library Manager accepts, library.json (PlatformIO),
keywords.txt, a tree and a zip with no symlinks, executables or dotfiles, the umbrella header compiling as
C99 and C++11 and refusing a mixed runtime, and where it is written and installed (and where it refuses to)."""
from __future__ import annotations

import json
import re
import stat
import tomllib
import zipfile
from pathlib import Path

import pytest

import microlearn
from arduino_sketches import library
from compile_c import compile_c, host_compilers
from microlearn.deploy import LibraryError, build_library, default_libraries_dir, install
from microlearn.deploy.arduino_library import (CATEGORY, EXAMPLES, LICENSE, URL, keywords, runtime_headers,
                                               write_zip, zip_path_for)

__all__ = ["library"]   # the session fixture

ROOT = Path(__file__).resolve().parents[2]
# library.properties, as the specification lists its fields (rev. 2.2)
REQUIRED = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url", "architectures")
KNOWN = REQUIRED + ("depends", "dot_a_linkage", "includes", "precompiled", "ldflags", "email")
CATEGORIES = ("Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
              "Data Storage", "Data Processing", "Other")
# the specification's name rule: starts with a letter or a number, then letters, numbers, spaces, underscores,
# dots and dashes; at most 63 characters, not starting with "Arduino" (official libraries only)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}")
# semver 2.0.0 (the Library Manager's strict check; it also takes "relaxed" 1.2 / 1)
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
TOKEN_TYPES = ("KEYWORD1", "KEYWORD2", "KEYWORD3", "LITERAL1", "LITERAL2")


def properties(lib: Path) -> dict[str, str]:
    out = {}
    for line in (lib / "library.properties").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key == key.strip(), line
        assert key not in out, f"{key} twice"
        out[key] = value
    return out


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# ------------------------------------------------------------------------------ contents

def test_src_headers_are_the_runtime_byte_for_byte(library):
    runtime = {p.name: p.read_bytes() for p in Path(microlearn.include_dir()).glob("*.h")}
    src = {p.name: p.read_bytes() for p in (library / "src").iterdir()}
    assert set(src) == set(runtime) | {"microlearn.h"}
    for name, data in runtime.items():
        assert src[name] == data, name
    assert runtime_headers() == dict(sorted(runtime.items()))


def test_library_properties_fields(library):
    props = properties(library)
    assert set(REQUIRED) <= set(props) and set(props) <= set(KNOWN), props.keys()
    assert all(props[k].strip() == props[k] and props[k] for k in props)
    assert props["name"] == "microlearn" and NAME_RE.fullmatch(props["name"])
    assert not props["name"].lower().startswith("arduino") and " " not in props["name"]
    assert props["name"] == library.name            # the IDE and the Library Manager expect the folder's name
    assert SEMVER.fullmatch(props["version"]) and props["version"] == microlearn.__version__
    assert props["category"] == CATEGORY and props["category"] in CATEGORIES
    assert props["architectures"] == "*"
    assert "depends" not in props
    includes = [h.strip() for h in props["includes"].split(",")]
    assert includes == ["microlearn.h"] and all((library / "src" / h).is_file() for h in includes)
    assert not props["paragraph"].startswith(props["sentence"])    # the Library Manager shows both, in a row
    assert re.fullmatch(r"https?://[^\s]+", props["url"])


def test_license_and_url_come_from_pyproject(library):
    project = pyproject()["project"]
    assert LICENSE == project["license"]["text"]
    urls = project.get("urls") or {}
    if urls:        # the placeholder only while pyproject.toml has none
        assert URL in urls.values()
    assert json.loads((library / "library.json").read_text())["license"] == LICENSE
    assert "Copyright (c) " in (library / "LICENSE").read_text() and "MIT License" in (library / "LICENSE").read_text()


def test_library_json_for_platformio(library):
    data = json.loads((library / "library.json").read_text(encoding="utf-8"))
    props = properties(library)
    assert data["name"] == props["name"] and data["version"] == props["version"] == microlearn.__version__
    assert data["frameworks"] == "arduino" and data["platforms"] == "*"
    assert data["build"] == {"flags": []}
    assert data["headers"] == "microlearn.h" and data["description"] == props["sentence"]
    assert data["authors"] and all(a["name"] for a in data["authors"])
    # PlatformIO's manifest rules (its schema): name of letters, digits, dashes, spaces, dots, _;
    # keywords lower case [a-z0-9 +_.-], at most 50 characters each
    assert re.fullmatch(r"[\w\-. ]{1,50}", data["name"]) and len(data["description"]) <= 1000
    assert all(re.fullmatch(r"[a-z\d\-_+. ]{1,50}", k) for k in data["keywords"])


def test_keywords_txt(library):
    lines = (library / "keywords.txt").read_text(encoding="utf-8").splitlines()
    entries = [ln for ln in lines if ln and not ln.startswith("#")]
    for ln in entries:
        assert re.fullmatch(r"[A-Za-z_]\w*\t(KEYWORD[123]|LITERAL[12])", ln), repr(ln)
    kw = dict(ln.split("\t") for ln in entries)
    assert len(kw) == len(entries)
    assert kw["mlrn_smo"] == kw["mlrn_store"] == kw["mlrn_learner"] == kw["mlrn_status"] == "KEYWORD1"
    assert kw["mlrn_smo_train"] == kw["mlrn_learner_step"] == kw["MLRN_LEARNER_DEFINE"] == "KEYWORD2"
    assert kw["MLRN_OK"] == kw["MLRN_KERNEL_LINEAR"] == kw["MICROLEARN_VERSION"] == "LITERAL1"
    assert not [k for k in kw if "__" in k]                                    # private names stay out
    assert not {"MLRN_H", "MLRN_SMO_H", "MICROLEARN_ARDUINO_H"} & set(kw)      # include guards
    # every public function of every header is there
    for name, text in runtime_headers().items():
        for fn in re.findall(r"^static inline [^;{=(]*?\b(mlrn_[a-z0-9_]+)\(", text.decode(), re.M):
            if "__" not in fn:
                assert kw.get(fn) == "KEYWORD2", (name, fn)


def test_keywords_kinds_from_a_made_up_header():
    kw = keywords({"x.h": "#ifndef MLRN_X_H\n#define MLRN_X_H\ntypedef struct {\n int a;\n} mlrn_x;\n"
                           "typedef int8_t mlrn_code;\n#define MLRN_X_ONE 1\n#define mlrn_x_get(p) (*(p))\n"
                           "static inline int mlrn_x_run(mlrn_x *x) { return 0; }\n"
                           "static inline int mlrn_x__private(void) { return 1; }\n#endif\n"})
    assert kw == {"mlrn_x": "KEYWORD1", "mlrn_code": "KEYWORD1", "MLRN_X_ONE": "LITERAL1",
                  "mlrn_x_get": "KEYWORD2", "mlrn_x_run": "KEYWORD2"}


def test_examples_are_sketches(library):
    for ex in EXAMPLES:
        folder = library / "examples" / ex
        ino = folder / f"{ex}.ino"
        assert ino.is_file(), ex
        text = ino.read_text(encoding="utf-8")
        assert "#include <microlearn.h>" in text and "void setup()" in text and "void loop()" in text
        assert "sleep_cpu()" in text and "DONE" in text                  # how simavr sees the end
    assert (library / "examples" / "ExportedModel" / "iris_model.h").is_file()
    text = (library / "examples" / "SelfLearningLoop" / "SelfLearningLoop.ino").read_text()
    assert "replace read_sensor() and feedback()" in text.lower() and "mlrn_persist_avr_eeprom_bind" in text


def _hygiene(paths: list[tuple[str, int, bool]]):
    """(relative path, mode, is symlink) of each entry: no symlinks, executables, dotfiles."""
    for rel, mode, link in paths:
        assert not link, rel
        assert not any(part.startswith(".") for part in rel.split("/")), rel
        if not stat.S_ISDIR(mode):
            assert stat.S_ISREG(mode) and not mode & 0o111, (rel, oct(mode))


def test_tree_has_no_symlinks_executables_dotfiles(library):
    entries = [(p.relative_to(library).as_posix(), p.lstat().st_mode, p.is_symlink()) for p in library.rglob("*")]
    # the five top files, the runtime headers + the umbrella, the three examples (+ ExportedModel's model header)
    expected = 5 + len(runtime_headers()) + 1 + 4
    assert len([e for e in entries if stat.S_ISREG(e[1])]) == expected
    _hygiene(entries)
    assert not [p for p in library.parent.iterdir() if p.name.startswith(".microlearn-")]   # no leftovers


def test_zip_has_one_root_folder(library, tmp_path):
    z = write_zip(library, tmp_path / "microlearn-test.zip")
    with zipfile.ZipFile(z) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert {n.split("/")[0] for n in names} == {"microlearn"} and "microlearn/" in names
        _hygiene([(i.filename.rstrip("/"), i.external_attr >> 16, stat.S_ISLNK(i.external_attr >> 16))
                  for i in infos])
        files = {n[len("microlearn/"):]: zf.read(n) for n in names if not n.endswith("/")}
    on_disk = {p.relative_to(library).as_posix(): p.read_bytes() for p in library.rglob("*") if p.is_file()}
    assert files == on_disk
    assert write_zip(library, tmp_path / "again.zip").read_bytes() == z.read_bytes()   # reproducible


def test_build_with_zip_names_it_by_version(tmp_path):
    z = build_library(tmp_path / "dist" / "microlearn", zip=True)
    assert z == zip_path_for(tmp_path / "dist" / "microlearn") == tmp_path / "dist" / f"microlearn-{microlearn.__version__}.zip"
    assert zipfile.ZipFile(z).testzip() is None


def test_package_data_ships_the_deploy_room():
    """A wheel must carry the sketches and the header template (pyproject's package-data globs)."""
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["microlearn"]
    room = Path(microlearn.__file__).parent
    shipped = {p for pat in patterns for p in room.glob(pat) if p.is_file()}
    mine = {p for p in (room / "deploy" / "arduino").rglob("*") if p.is_file()}
    assert len(mine) == 4 and mine <= shipped, mine - shipped


# ---------------------------------------------------------------------- the umbrella header

@pytest.mark.parametrize("cid, compiler, lang", host_compilers())
def test_umbrella_header_compiles(library, tmp_path, cid, compiler, lang):
    src = tmp_path / "use.c"
    src.write_text('#include <microlearn.h>\nint main(void) {\n  mlrn_smo_params p = mlrn_smo_default_params();\n'
                   '  return (int)p.solver + (MICROLEARN_RUNTIME_VERSION == MLRN_RUNTIME_VERSION ? 0 : 1);\n}\n')
    compile_c(src, tmp_path / "use", lang=lang, compiler=compiler, include_dirs=[library / "src"])


def test_umbrella_header_refuses_a_mixed_runtime(library, tmp_path):
    src = tmp_path / "lib"
    (src).mkdir()
    for p in (library / "src").iterdir():
        (src / p.name).write_bytes(p.read_bytes())
    mlrn = src / "mlrn.h"
    mlrn.write_text(re.sub(r"#define MLRN_RUNTIME_VERSION \d+", "#define MLRN_RUNTIME_VERSION 999", mlrn.read_text()))
    use = tmp_path / "use.c"
    use.write_text("#include <microlearn.h>\nint main(void) { return 0; }\n")
    p = compile_c(use, tmp_path / "use", include_dirs=[src], check=False, stage="syntax")
    assert p.returncode != 0 and "runtime version mismatch" in p.stderr


# ----------------------------------------------------------------------- where it is written

def test_out_dir_refusals(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(LibraryError, match="not empty and is not a microlearn library"):
        build_library(busy)
    assert (busy / "notes.txt").read_text() == "mine"
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(LibraryError, match="not a folder"):
        build_library(afile)
    with pytest.raises(LibraryError, match="not a folder"):
        build_library(afile / "lib")
    (tmp_path / "link").symlink_to(busy)
    with pytest.raises(LibraryError, match="symbolic link"):
        build_library(tmp_path / "link")
    assert (busy / "notes.txt").read_text() == "mine"


def test_rebuild_replaces_an_earlier_library_and_fills_an_empty_folder(tmp_path):
    lib = tmp_path / "microlearn"
    lib.mkdir()
    assert build_library(lib) == lib.resolve()
    (lib / "src" / "stale.h").write_text("old")
    build_library(lib)
    assert not (lib / "src" / "stale.h").exists() and (lib / "library.properties").is_file()


def test_default_libraries_dir(tmp_path):
    home = tmp_path / "home"
    assert default_libraries_dir({}, "linux", home) == home / "Arduino" / "libraries"
    assert default_libraries_dir({}, "darwin", home) == home / "Documents" / "Arduino" / "libraries"
    assert default_libraries_dir({}, "win32", home) == home / "Documents" / "Arduino" / "libraries"
    assert default_libraries_dir({"ARDUINO_LIBRARIES": str(tmp_path / "x")}, "linux", home) == tmp_path / "x"


def test_install(library, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARDUINO_LIBRARIES", str(tmp_path / "libs"))
    dest = install(library)
    assert dest == (tmp_path / "libs" / "microlearn").resolve()
    assert f"in {dest}" in capsys.readouterr().out
    assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == sorted(p.relative_to(library) for p in library.rglob("*"))
    install(library)                                     # an earlier microlearn library is replaced
    other = tmp_path / "other" / "microlearn"
    other.mkdir(parents=True)
    (other / "main.cpp").write_text("someone else's")
    with pytest.raises(LibraryError, match="refusing to overwrite"):
        install(library, libraries_dir=tmp_path / "other")
    assert (other / "main.cpp").read_text() == "someone else's"
    with pytest.raises(LibraryError, match="not a microlearn library"):
        install(tmp_path / "other" / "microlearn", libraries_dir=tmp_path / "elsewhere")
