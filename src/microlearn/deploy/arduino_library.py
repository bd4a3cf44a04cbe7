"""The microlearn Arduino library, generated from the package's own runtime.

`build_library(out_dir)` writes a library in the Arduino library specification's 1.5 format (rev. 2.2),
ready for the Library Manager, the Arduino IDE's "Add .ZIP Library", `arduino-cli lib install --zip-path`
and PlatformIO:

    library.properties     name, version (= microlearn.__version__), author, ..., includes=microlearn.h
    library.json           the same library for PlatformIO
    keywords.txt           the runtime's public names for the IDE's highlighting, read off the headers
    LICENSE, README.md
    src/microlearn.h       the one public header (arduino/microlearn.h, a template: version numbers)
    src/mlrn_*.h           every runtime header of microlearn.include_dir(), byte for byte
    examples/TrainOnDevice/TrainOnDevice.ino          an SVM trained on the board (mlrn_store, mlrn_smo)
    examples/SelfLearningLoop/SelfLearningLoop.ino    the learner with feedback, EEPROM persistence on AVR
    examples/ExportedModel/ExportedModel.ino          a scikit-learn model exported by microlearn.export
                           iris_model.h               that model (LogisticRegression on Iris)

The sketches and the public header are files of this room (arduino/); only the model header of
ExportedModel is generated (microlearn.export, at build time). `build_library(..., zip=True)` also writes
`microlearn-<version>.zip` (one folder `microlearn/` at its root) next to the library folder;
`install(library_dir)` copies a built library into the user's Arduino libraries folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from microlearn._version import RUNTIME_VERSION, __version__
from microlearn.core.paths import include_dir
from microlearn.exporter import export

HERE = Path(__file__).resolve().parent / "arduino"
NAME = "microlearn"
AUTHOR = "microlearn contributors"
MAINTAINER = AUTHOR
LICENSE = "MIT"                                        # pyproject.toml's license (a test holds them together)
URL = "https://github.com/microlearn/microlearn"       # placeholder: pyproject.toml names no url
SENTENCE = ("Train support vector machines on the board, keep a deployed model learning from feedback, "
            "and run models exported from scikit-learn.")
PARAGRAPH = ("Header-only C runtime (no malloc, static memory): an SMO trainer (linear, rbf, poly, sigmoid "
             "kernels; float32, int16 or int8 sample storage), a self-learning loop with time-sliced retraining, "
             "validation and rollback, power-safe persistence in EEPROM, and inference of models exported by "
             "the microlearn Python package. The Python reference reproduces the board's results bit for bit.")
CATEGORY = "Data Processing"
KEYWORDS = ["svm", "machine-learning", "on-device-training", "tinyml", "self-learning", "classifier",
            "scikit-learn"]
EXAMPLES = ("TrainOnDevice", "SelfLearningLoop", "ExportedModel")
UMBRELLA = "microlearn.h"

# ExportedModel: the model exported at library-build time.
IRIS_NAME = "iris"

FILE_MODE, DIR_MODE = 0o644, 0o755
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class LibraryError(ValueError):
    """A library that cannot be written where asked (one line for the command line)."""


# ----------------------------------------------------------------------------------- the files

def library_properties() -> str:
    """library.properties (spec 1.5, rev. 2.2). No `depends` line: the library needs no other."""
    fields = [("name", NAME), ("version", __version__), ("author", AUTHOR), ("maintainer", MAINTAINER),
              ("sentence", SENTENCE), ("paragraph", PARAGRAPH), ("category", CATEGORY), ("url", URL),
              ("architectures", "*"), ("includes", UMBRELLA)]
    return "".join(f"{k}={v}\n" for k, v in fields)


def library_json() -> str:
    """library.json, PlatformIO's manifest of the same tree (src/ is PlatformIO's default source folder)."""
    manifest = {
        "name": NAME,
        "version": __version__,
        "description": SENTENCE,
        "keywords": KEYWORDS,
        "homepage": URL,
        "authors": [{"name": AUTHOR, "maintainer": True}],
        "license": LICENSE,
        "frameworks": "arduino",
        "platforms": "*",
        "headers": UMBRELLA,
        "build": {"flags": []},
    }
    return json.dumps(manifest, indent=2) + "\n"


def umbrella_header() -> str:
    """src/microlearn.h: the template of this room with the version numbers filled in."""
    text = (HERE / UMBRELLA).read_text(encoding="utf-8")
    text = text.replace("@MICROLEARN_VERSION@", __version__).replace("@MICROLEARN_RUNTIME_VERSION@",
                                                                     str(RUNTIME_VERSION))
    assert "@" not in text.replace("@MICROLEARN", ""), "unfilled placeholder in microlearn.h"
    return text


_TYPEDEF_END = re.compile(r"^\s*}\s*(mlrn_\w+)\s*;", re.M)
_TYPEDEF_ALIAS = re.compile(r"^\s*typedef\s+(?:struct\s+\w+\s+|[\w ]+?\s+)\**\s*(mlrn_\w+)\s*;", re.M)
_TYPEDEF_FN = re.compile(r"^\s*typedef\s+[^;(]*\(\s*\*\s*(mlrn_\w+)\s*\)", re.M)
_TYPEDEF_STRUCT = re.compile(r"^\s*typedef\s+struct\s+(mlrn_\w+)\s*{", re.M)
_FUNCTION = re.compile(r"^(?:static\s+inline|MLRN_HOT|MLRN_LEARNER__COLD)\b[^;{=]*?\b(mlrn_\w+)\s*\(", re.M)
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)(\()?(.*)$", re.M)


def keywords(headers: dict[str, str]) -> dict[str, str]:
    """{name: KEYWORD1 | KEYWORD2 | LITERAL1} of the public names of `headers` ({file name: text}):
    types KEYWORD1, functions and function-like macros KEYWORD2, constants LITERAL1. Private names
    (`__` inside) and include guards are left out."""
    out: dict[str, str] = {}

    def put(name, kind):
        if "__" not in name and name not in out:
            out[name] = kind

    for text in headers.values():
        for rx in (_TYPEDEF_END, _TYPEDEF_ALIAS, _TYPEDEF_FN, _TYPEDEF_STRUCT):
            for m in rx.finditer(text):
                put(m.group(1), "KEYWORD1")
    for text in headers.values():
        for m in _FUNCTION.finditer(text):
            put(m.group(1), "KEYWORD2")
        for m in _DEFINE.finditer(text):
            name, fn_like, value = m.group(1), m.group(2), m.group(3).strip()
            if not (name.startswith("MLRN_") or name.startswith("MICROLEARN_") or name.startswith("mlrn_")):
                continue
            if fn_like:
                put(name, "KEYWORD2")
            elif value or not name.endswith("_H"):      # an empty #define ..._H is an include guard
                put(name, "LITERAL1")
    return out


def keywords_txt(headers: dict[str, str]) -> str:
    """keywords.txt: `name<TAB>KEYWORDn` / `name<TAB>LITERAL1`, one a line, grouped, sorted."""
    kw = keywords(headers)
    lines = [f"# Syntax colouring for the microlearn library {__version__} (generated from its headers)", ""]
    for kind, title in (("KEYWORD1", "Datatypes"), ("KEYWORD2", "Functions and function-like macros"),
                        ("LITERAL1", "Constants")):
        lines.append(f"# {title} ({kind})")
        lines += [f"{name}\t{kind}" for name in sorted(n for n, k in kw.items() if k == kind)]
        lines.append("")
    return "\n".join(lines)


def readme() -> str:
    return (f"# microlearn {__version__} for Arduino\n\n{SENTENCE}\n\n{PARAGRAPH}\n\n"
            "```cpp\n#include <microlearn.h>\n```\n\n"
            "Examples (File > Examples > microlearn):\n\n"
            "- TrainOnDevice: stores sensor readings, trains an SVM on the board, evaluates it.\n"
            "- SelfLearningLoop: predicts, takes the user's feedback, retrains in time slices, keeps its "
            "model in EEPROM (AVR).\n"
            "- ExportedModel: predicts with a scikit-learn model exported by microlearn.export.\n\n"
            "This library is generated by the microlearn Python package (`microlearn arduino-library`); "
            "the `src/mlrn_*.h` files are its C runtime, unchanged. Documentation: docs/arduino.md of the "
            f"microlearn sources ({URL}).\n")


def license_text() -> str:
    return (f"MIT License\n\nCopyright (c) {AUTHOR}\n\n"
            "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
            "of this software and associated documentation files (the \"Software\"), to deal\n"
            "in the Software without restriction, including without limitation the rights\n"
            "to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
            "copies of the Software, and to permit persons to whom the Software is\n"
            "furnished to do so, subject to the following conditions:\n\n"
            "The above copyright notice and this permission notice shall be included in all\n"
            "copies or substantial portions of the Software.\n\n"
            "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n"
            "IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\n"
            "FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\n"
            "AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n"
            "LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\n"
            "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
            "SOFTWARE.\n")


# ------------------------------------------------------------------------- the examples' data

def iris_estimator():
    """(estimator, X, class names) of ExportedModel: LogisticRegression on the whole of Iris, string
    labels (the header's iris_class_names). Deterministic (lbfgs), refitted by the tests to compare."""
    data = load_iris()
    names = np.array([str(n) for n in data.target_names])
    X = data.data.astype(np.float32)
    est = LogisticRegression(max_iter=1000).fit(X, names[data.target])
    return est, X, names


def iris_model_header() -> str:
    est, X, _ = iris_estimator()
    rep = export(est, None, name=IRIS_NAME, check_X=X)
    if rep.agreement != 1.0:      # the float32 header must predict as the estimator on its training rows
        raise RuntimeError(f"ExportedModel: the exported header disagrees with the estimator ({rep})")
    return rep.header


# ------------------------------------------------------------------------------ the tree

def runtime_headers() -> dict[str, bytes]:
    """{file name: bytes} of every runtime header, as microlearn.include_dir() holds them."""
    return {p.name: p.read_bytes() for p in sorted(Path(include_dir()).glob("*.h"))}


def _files() -> dict[str, bytes]:
    """{path in the library: content} of the whole tree."""
    runtime = runtime_headers()
    umbrella = umbrella_header()
    texts = {name: data.decode("utf-8") for name, data in runtime.items()}
    texts[UMBRELLA] = umbrella
    files = {
        "library.properties": library_properties().encode(),
        "library.json": library_json().encode(),
        "keywords.txt": keywords_txt(texts).encode(),
        "README.md": readme().encode(),
        "LICENSE": license_text().encode(),
        f"src/{UMBRELLA}": umbrella.encode(),
    }
    for name, data in runtime.items():
        files[f"src/{name}"] = data
    for ex in EXAMPLES:
        files[f"examples/{ex}/{ex}.ino"] = (HERE / "examples" / ex / f"{ex}.ino").read_bytes()
    files["examples/ExportedModel/iris_model.h"] = iris_model_header().encode()
    return files


def is_microlearn_library(path) -> bool:
    """A folder holding a library.properties with name=microlearn (one this module wrote)."""
    p = Path(path) / "library.properties"
    try:
        if p.is_symlink() or not p.is_file():
            return False
        return any(line.strip() == f"name={NAME}" for line in p.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def _check_target(path: Path, what: str) -> None:
    """`path` may be (re)written: absent, an empty folder or a microlearn library; else LibraryError."""
    if path.is_symlink():
        raise LibraryError(f"{what} {path} is a symbolic link: give the real folder")
    if not path.exists():
        return
    if not path.is_dir():
        raise LibraryError(f"{what} {path} exists and is not a folder")
    try:
        empty = not any(path.iterdir())
    except OSError as exc:
        raise LibraryError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not empty and not is_microlearn_library(path):
        raise LibraryError(f"{what} {path} is not empty and is not a microlearn library: refusing to overwrite it "
                           "(give a new or empty folder)")


def _write_tree(files: dict[str, bytes], root: Path) -> None:
    os.chmod(root, DIR_MODE)
    for rel, data in sorted(files.items()):
        p = root / rel
        for parent in reversed(p.relative_to(root).parents):
            d = root / parent
            if not d.exists():
                d.mkdir()
                os.chmod(d, DIR_MODE)
        p.write_bytes(data)
        os.chmod(p, FILE_MODE)


def _replace_with(target: Path, fill: Callable[[Path], None], what: str) -> None:
    """Write a folder beside `target` with `fill`, then put it in target's place (a microlearn library or an
    empty folder already there is removed first): an error half-way leaves target as it was."""
    _check_target(target, what)
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise LibraryError(f"cannot write {what} {target}: {parent} is not a folder")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise LibraryError(f"cannot write {what} {target}: {parent} is not writable")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=parent))
    except OSError as exc:
        raise LibraryError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    try:
        fill(tmp)
        if target.exists():
            if any(target.iterdir()):
                shutil.rmtree(target)
            else:
                target.rmdir()
        os.replace(tmp, target)
    except OSError as exc:
        raise LibraryError(f"cannot write {what} {target}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def zip_path_for(library_dir) -> Path:
    return Path(library_dir).parent / f"{NAME}-{__version__}.zip"


def write_zip(library_dir, zip_path) -> Path:
    """The library as a zip with one folder `microlearn/` at its root: regular files (mode 644) and
    folders (755) only, sorted, with a fixed date (the same tree gives the same bytes)."""
    library_dir, zip_path = Path(library_dir), Path(zip_path)
    if zip_path.is_symlink() or (zip_path.exists() and not zip_path.is_file()):
        raise LibraryError(f"{zip_path} exists and is not a regular file")
    entries = []
    for p in sorted(library_dir.rglob("*")):
        rel = p.relative_to(library_dir).as_posix()
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            raise LibraryError(f"{p}: not a regular file or folder")
        entries.append((rel, p))
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            root = zipfile.ZipInfo(f"{NAME}/", ZIP_DATE)
            root.external_attr = (stat.S_IFDIR | DIR_MODE) << 16 | 0x10
            z.writestr(root, b"")
            for rel, p in entries:
                if p.is_dir():
                    info = zipfile.ZipInfo(f"{NAME}/{rel}/", ZIP_DATE)
                    info.external_attr = (stat.S_IFDIR | DIR_MODE) << 16 | 0x10
                    z.writestr(info, b"")
                else:
                    info = zipfile.ZipInfo(f"{NAME}/{rel}", ZIP_DATE)
                    info.external_attr = (stat.S_IFREG | FILE_MODE) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, p.read_bytes())
        os.replace(tmp, zip_path)
    except OSError as exc:
        raise LibraryError(f"cannot write {zip_path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return zip_path


def build_library(out_dir, *, zip: bool = False) -> Path:
    """Write the library into `out_dir` (created; an empty folder or an earlier microlearn library there is
    replaced, anything else refused with LibraryError). Returns the library folder, or with `zip` the zip
    written next to it (`microlearn-<version>.zip`, one folder `microlearn/` at its root)."""
    out = Path(out_dir).expanduser()
    out = out.parent.resolve() / out.name if out.name else out.resolve()
    files = _files()
    _replace_with(out, lambda tmp: _write_tree(files, tmp), "OUT_DIR")
    if zip:
        return write_zip(out, zip_path_for(out))
    return out


# ---------------------------------------------------------------------------- installing

def default_libraries_dir(environ=None, platform: str | None = None, home=None) -> Path:
    """The Arduino libraries folder: $ARDUINO_LIBRARIES if set, else the IDE's default sketchbook's
    `libraries`: ~/Arduino/libraries on Linux, ~/Documents/Arduino/libraries on macOS and Windows."""
    environ = os.environ if environ is None else environ
    own = environ.get("ARDUINO_LIBRARIES")
    if own:
        return Path(own).expanduser()
    platform = platform or sys.platform
    home = Path(home) if home is not None else Path.home()
    if platform == "darwin" or platform.startswith("win"):
        return home / "Documents" / "Arduino" / "libraries"
    return home / "Arduino" / "libraries"


def install(library_dir, *, libraries_dir=None, log: Callable[[str], None] | None = print) -> Path:
    """Copy the built library `library_dir` to <libraries folder>/microlearn (default_libraries_dir() unless
    `libraries_dir`). An earlier microlearn library there is replaced; any other folder of that name is
    refused (LibraryError). Says where through `log` and returns the installed folder."""
    src = Path(library_dir)
    if not is_microlearn_library(src):
        raise LibraryError(f"{src} is not a microlearn library (build one with build_library first)")
    root = Path(libraries_dir).expanduser() if libraries_dir is not None else default_libraries_dir()
    dest = root.resolve() / NAME

    def fill(tmp: Path) -> None:
        shutil.copytree(src, tmp, dirs_exist_ok=True, symlinks=False)

    _replace_with(dest, fill, "Arduino library folder")
    if log is not None:
        log(f"installed the microlearn {__version__} Arduino library in {dest}")
    return dest
