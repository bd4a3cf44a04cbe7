"""A sweep specification (TOML) read defensively and expanded to tasks.

    [sweep]
    kind = "train"                     # train | loop | reference
    measures = ["accuracy", "cycles"]  # columns of the results table (default: the kind's usual ones)
    max_tasks = 500                    # refuse a grid that expands to more (default 10,000; at most 100,000)
    timeout = 120                      # seconds per emulator run

    [grid]                             # a value or a list of values per key: the tasks are the product
    target = ["host", "uno"]
    dataset = ["iris", "cancer"]
    n = [20, 40]

    [datasets.sensor]                  # a dataset of your own (sweep/user_data.py): dataset = "sensor"
    csv = "sensor.csv"                 # relative to the spec's folder
    label = "activity"                 # default: the last column

`[[grid]]` (an array of tables) gives several grids whose tasks are concatenated (duplicates dropped).
Every key and value is checked here, before any work: a wrong key, type or value is one error line naming
the key; the products check the rest (ranges the C types impose) and a task that fails reports it."""
from __future__ import annotations

import itertools
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from microlearn.boards.registry import get_board
from microlearn.core import vocab
from microlearn.data import streams

from .user_data import UserData, read_datasets

MAX_SPEC_BYTES = 1 << 20       # a spec is a short text file; more is a mistake or an attack
MAX_TASKS = 100_000            # the cap no spec can raise: a grid's product grows fast
DEFAULT_MAX_TASKS = 10_000
MAX_VALUES = 10_000            # values of one key
MAX_TEXT = 200                 # characters of one string value
MAX_GRIDS = 100
DATASETS = ("iris", "iris-vv", "iris3", "cancer", "digits6", "digits", "wine")
MAX_STREAM_ROWS = 600          # the synthetic streams' length (data/streams.py); `rows` takes a prefix
MAX_CSV_STREAM_ROWS = 100_000  # rows of a spec's own CSV stream


class SpecError(ValueError):
    """A sweep specification that cannot be run; the message names the file and the key."""


# ---- value checkers: each returns the normalised value or raises ValueError with what is expected
def _int(lo, hi):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"an integer in {lo}..{hi:,}")
        return v
    check.expects = f"an integer in {lo}..{hi:,}"
    return check


def _float(lo=None, hi=None, open_lo=True):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or (lo is not None and (v <= lo if open_lo else v < lo)) or (hi is not None and v > hi):
            raise ValueError(expects)
        return float(v)
    expects = "a finite number" + (f" {'>' if open_lo else '>='} {lo:g}" if lo is not None else "") \
        + (f" and <= {hi:g}" if hi is not None else "")
    check.expects = expects
    return check


def _bool():
    def check(v):
        if not isinstance(v, bool):
            raise ValueError("true or false")
        return v
    check.expects = "true or false"
    return check


def _choice(options):
    options = tuple(options)

    def check(v):
        if not isinstance(v, str) or v not in options:
            raise ValueError("one of " + ", ".join(options))
        return v
    check.expects = "one of " + ", ".join(options)
    return check


def _either(*checks):
    def check(v):
        for c in checks:
            try:
                return c(v)
            except ValueError:
                pass
        raise ValueError(check.expects)
    check.expects = " or ".join(c.expects for c in checks)
    return check


def check_target(v):
    if not isinstance(v, str) or len(v) > MAX_TEXT:
        raise ValueError("'host' or a board name (microlearn boards)")
    if v == "host":
        return v
    b = get_board(v)              # UnknownBoard (a ValueError) lists the boards
    if not b.emulated:
        raise ValueError(f"{b.name} is not emulated here (planner figures only)")
    return b.name


check_target.expects = "'host' or an emulated board name (microlearn boards)"

U16 = 65_535
TRAINER_PARAMS = {   # what SMOClassifier / train_and_report take, with the types the C runtime has
    "kernel": _choice(vocab.KERNELS), "C": _float(0, 3.4e38), "gamma": _either(_choice(("scale",)), _float(0, 3.4e38)),
    "degree": _int(1, 255), "coef0": _float(-3.4e38, 3.4e38), "tol": _float(0, 1e6),
    "max_iter": _int(1, 4_294_967_295), "solver": _choice(vocab.SOLVERS), "loss": _choice(vocab.LOSSES),
    "max_passes": _int(1, U16),
    "alpha_tol": _float(0, 1e6, open_lo=False), "multiclass": _choice(vocab.MULTICLASS),
    # fixed point (MLRN_SMO_FIXED); train_and_report's default 'auto' when not given (left out of the task's key)
    "arith": _choice(("auto", "float", "fixed")),
}
LEARNER_PARAMS = {   # LearnerConfig's fields (it checks the ranges the C types impose)
    "capacity": _int(2, U16), "holdout_every": _int(0, 255), "store": _choice(vocab.STORE_POLICIES),
    "replace": _choice(vocab.REPLACE_POLICIES), "k_mistakes": _int(0, U16), "trigger_window": _int(0, U16),
    "err_pct": _int(0, 100), "drift_pct": _int(0, 100), "margin_pct": _int(0, 100), "queue": _int(1, U16),
    "budget": _int(0, U16), "seed": _int(0, 4_294_967_295), "C": _float(0, 3.4e38), "tol": _float(0, 1e6),
    "max_iter": _int(1, 4_294_967_295), "storage": _choice(vocab.STORAGES),
    "warm": _bool(),   # warm-started retraining (MLRN_LEARNER_WARM); left out of a task's key when not given
}
STREAM_PARAMS = {
    "scenario": _choice(streams.STREAMS), "stream_seed": _int(0, 2**32 - 1), "rows": _int(10, MAX_CSV_STREAM_ROWS),
    "n_features": _int(1, 64), "window": _int(1, MAX_STREAM_ROWS),
}
GRID_KEYS = {
    "train": {"target": check_target, "dataset": _choice(DATASETS), "split": _choice(("ordered", "shuffled")),
              "test_size": _float(0, 0.9), "split_seed": _int(0, 2**32 - 1), "scale": _choice(("minmax", "none")),
              "n": _either(_int(2, U16), _choice(("all",))),
              "storage": _choice((*vocab.STORAGES, "auto")),
              "capacity": _either(_int(2, U16), _choice(("n",))), **TRAINER_PARAMS},
    "loop": {"target": check_target, **STREAM_PARAMS, **LEARNER_PARAMS},
    "reference": {**STREAM_PARAMS, **LEARNER_PARAMS},
}
REQUIRED = {"train": ("target", "dataset"), "loop": ("target", "scenario"), "reference": ("scenario",)}
DEFAULTS = {   # filled in so that a task's key does not change when a default elsewhere would
    "train": {"split": "shuffled", "test_size": 0.3, "split_seed": 0, "scale": "minmax", "n": "all",
              "storage": "float32", "capacity": "n", "kernel": "linear", "C": 1.0, "solver": "wss2"},
    "loop": {"stream_seed": 0, "rows": MAX_STREAM_ROWS, "n_features": 4, "window": 100},
    "reference": {"stream_seed": 0, "rows": MAX_STREAM_ROWS, "n_features": 4, "window": 100},
}
MEASURES = {
    "train": ("status", "accuracy", "python_accuracy", "agreement", "iterations", "python_iterations",
              "max_alpha_diff", "intercept_identical", "n_train", "n_test", "n_features", "n_classes", "storage",
              "capacity", "cycles", "instructions", "seconds", "seconds_kind", "flash_bytes", "sram_bytes",
              "static_ram_bytes", "stack_bytes", "buffer_bytes", "clock_hz"),
    "loop": ("status", "accuracy", "final_accuracy", "agreement", "same_events", "n_rows", "n_classes",
             "retrains", "accepted", "rollbacks", "failed", "mistakes", "dropped", "train_iterations", "cycles",
             "instructions", "train_cycles", "train_instructions", "seconds", "seconds_kind", "flash_bytes",
             "sram_bytes", "static_ram_bytes", "stack_bytes", "buffer_bytes", "clock_hz", "static_accuracy",
             "oracle_accuracy", "warm_starts"),
    "reference": ("status", "accuracy", "final_accuracy", "n_rows", "n_classes", "retrains", "accepted",
                  "rollbacks", "failed", "mistakes", "dropped", "train_iterations", "static_accuracy",
                  "oracle_accuracy", "warm_starts"),
}
DEFAULT_MEASURES = {
    "train": ["status", "n_train", "storage", "accuracy", "agreement", "iterations", "cycles", "instructions",
              "seconds", "flash_bytes", "sram_bytes", "buffer_bytes"],
    "loop": ["status", "accuracy", "final_accuracy", "agreement", "same_events", "retrains", "rollbacks",
             "cycles", "instructions", "train_cycles", "train_instructions", "flash_bytes", "sram_bytes"],
    "reference": ["status", "accuracy", "final_accuracy", "retrains", "accepted", "rollbacks", "failed"],
}
SWEEP_KEYS = {"name", "kind", "measures", "max_tasks", "timeout", "baselines"}
DATA_KEY = {"train": "dataset", "loop": "scenario", "reference": "scenario"}   # the key a spec dataset fills


@dataclass
class Spec:
    name: str
    kind: str
    measures: list[str]
    grids: list[dict[str, list]]
    timeout: float = 600.0
    baselines: bool = False
    max_tasks: int = DEFAULT_MAX_TASKS
    source: str = "<spec>"
    columns: list[str] = field(default_factory=list)   # the grid's keys, in the order the spec gave them
    data: dict[str, UserData] = field(default_factory=dict)   # the spec's [datasets.NAME]

    def count(self) -> int:
        return sum(math.prod(len(v) for v in g.values()) for g in self.grids)

    def tasks(self) -> list[dict]:
        """The tasks: one per point of each grid (defaults filled in), duplicates dropped, in spec order."""
        out, seen = [], set()
        for g in self.grids:
            keys = list(g)
            for values in itertools.product(*(g[k] for k in keys)):
                params = {**DEFAULTS[self.kind], **dict(zip(keys, values))}
                own = self.data.get(params.get(DATA_KEY[self.kind]))
                if own is not None:       # the rows' hash is part of the key; the rows travel beside the task
                    params["data_sha256"] = own.sha256
                    if self.kind != "train":
                        params["n_features"] = own.n_features
                        if "rows" not in g:
                            params["rows"] = own.n_rows
                task = {"kind": self.kind, "params": params, "timeout": self.timeout, "baselines": self.baselines}
                ident = repr(sorted(params.items()))
                if ident not in seen:
                    seen.add(ident)
                    out.append(task)
        return out


def _fail(where: str, what: str):
    raise SpecError(f"{where}: {what}")


def read_spec(path) -> Spec:
    """Read and check a spec file (a regular file of at most 1 MB, UTF-8 TOML)."""
    p = Path(path)
    try:
        if not p.is_file():
            _fail(str(path), "not a regular file" if p.exists() else "no such file")
        if p.stat().st_size > MAX_SPEC_BYTES:
            _fail(str(path), f"larger than {MAX_SPEC_BYTES >> 20} MB: not a sweep specification")
        raw = p.read_bytes()
    except OSError as exc:
        _fail(str(path), exc.strerror or str(exc))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(str(path), "not UTF-8 text")
    return parse_spec(text, str(path), base=p.parent)


def parse_spec(text: str, source: str = "<spec>", base=None) -> Spec:
    """base: the folder a [datasets.NAME] csv path is relative to (default: the spec file's folder, or the
    current directory for a spec given as text)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail(source, f"not valid TOML: {exc}")
    unknown = sorted(set(doc) - {"sweep", "grid", "datasets"})
    if unknown:
        _fail(source, f"unknown section(s) {', '.join(map(repr, unknown))}; a spec has [sweep], [grid] and "
                      "optionally [datasets.NAME]")
    head = doc.get("sweep")
    if not isinstance(head, dict):
        _fail(source, "a [sweep] table is required (kind = \"train\" | \"loop\" | \"reference\")")
    bad = sorted(set(head) - SWEEP_KEYS)
    if bad:
        _fail(source, f"[sweep]: unknown key(s) {', '.join(map(repr, bad))}; known: {', '.join(sorted(SWEEP_KEYS))}")
    kind = head.get("kind")
    if kind not in GRID_KEYS:
        _fail(source, f"[sweep] kind must be one of {', '.join(GRID_KEYS)}, got {_show(kind)}")
    name = head.get("name", Path(source).stem)
    if not isinstance(name, str) or len(name) > MAX_TEXT:
        _fail(source, f"[sweep] name must be a string of at most {MAX_TEXT} characters")
    measures = head.get("measures", DEFAULT_MEASURES[kind])
    if not isinstance(measures, list) or not measures or not all(isinstance(m, str) for m in measures):
        _fail(source, "[sweep] measures must be a non-empty list of names")
    wrong = [m for m in measures if m not in MEASURES[kind]]
    if wrong:
        _fail(source, f"[sweep] measures: unknown for kind {kind}: {', '.join(map(_show, wrong[:5]))}; "
                      f"known: {', '.join(MEASURES[kind])}")
    measures = list(dict.fromkeys(["status", *measures]))
    max_tasks = head.get("max_tasks", DEFAULT_MAX_TASKS)
    if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or not 1 <= max_tasks <= MAX_TASKS:
        _fail(source, f"[sweep] max_tasks must be an integer in 1..{MAX_TASKS:,}, got {_show(max_tasks)}")
    timeout = head.get("timeout", 600.0)
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not 0 < timeout <= 1e6 \
            or not math.isfinite(timeout):
        _fail(source, f"[sweep] timeout must be a number of seconds in (0, 1e6], got {_show(timeout)}")
    baselines = head.get("baselines", False)
    if not isinstance(baselines, bool):
        _fail(source, "[sweep] baselines must be true or false")
    if baselines and kind == "train":
        _fail(source, "[sweep] baselines apply to kinds loop and reference (static and oracle models)")

    base = Path(base) if base is not None else (Path(source).parent if source != "<spec>" else Path("."))
    data = read_datasets(doc["datasets"], base, (*DATASETS, *streams.STREAMS),
                         lambda where, what: _fail(f"{source}: {where}", what)) if "datasets" in doc else {}
    grids = doc.get("grid")
    if isinstance(grids, dict):
        grids = [grids]
    if not isinstance(grids, list) or not grids or not all(isinstance(g, dict) for g in grids):
        _fail(source, "a [grid] table (or [[grid]] tables) is required")
    if len(grids) > MAX_GRIDS:
        _fail(source, f"more than {MAX_GRIDS} [[grid]] tables")
    checked, columns = [], []
    for i, g in enumerate(grids):
        where = "[grid]" if len(grids) == 1 else f"[[grid]] #{i + 1}"
        checked.append(_check_grid(g, kind, f"{source}: {where}", data))
        columns += [k for k in g if k not in columns]
    spec = Spec(name=name, kind=kind, measures=measures, grids=checked, timeout=float(timeout),
                baselines=baselines, max_tasks=max_tasks, source=source,
                columns=columns + [k for k in DEFAULTS[kind] if k not in columns], data=data)
    n = spec.count()
    if n > max_tasks:
        _fail(source, f"the grid expands to {n:,} tasks, more than max_tasks = {max_tasks:,} (raise max_tasks in "
                      f"[sweep], at most {MAX_TASKS:,}, or shrink the grid)")
    return spec


def _check_grid(g: dict, kind: str, where: str, data: dict | None = None) -> dict[str, list]:
    allowed = dict(GRID_KEYS[kind])
    if data:       # the spec's own datasets are values of the dataset / scenario key too
        key = DATA_KEY[kind]
        allowed[key] = _choice((*(DATASETS if kind == "train" else streams.STREAMS), *data))
    bad = sorted(set(g) - set(allowed))
    if bad:
        _fail(where, f"unknown key(s) {', '.join(map(_show, bad[:5]))} for kind {kind}; known: "
                     f"{', '.join(allowed)}")
    missing = [k for k in REQUIRED[kind] if k not in g]
    if missing:
        _fail(where, f"{', '.join(missing)} required for kind {kind}")
    out = {}
    for key, raw in g.items():
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            _fail(where, f"{key}: an empty list (give at least one value)")
        if len(values) > MAX_VALUES:
            _fail(where, f"{key}: {len(values):,} values, more than {MAX_VALUES:,}")
        norm = []
        for v in values:
            if isinstance(v, (dict, list)):
                _fail(where, f"{key}: a value or a list of values, not nested tables or lists")
            if isinstance(v, str) and len(v) > MAX_TEXT:
                _fail(where, f"{key}: a string of more than {MAX_TEXT} characters")
            try:
                norm.append(allowed[key](v))
            except ValueError as exc:
                _fail(where, f"{key} = {_show(v)}: expected {allowed[key].expects}"
                      + (f" ({exc})" if str(exc) and str(exc) != allowed[key].expects else ""))
        out[key] = list(dict.fromkeys(norm))      # a value given twice is one task, not two
    if kind != "train":
        _check_stream_rows(out, where, data or {})
    return out


def _check_stream_rows(g: dict, where: str, data: dict) -> None:
    """rows: at most the 600 of a synthetic stream, at most a CSV stream's own; a CSV stream's width is
    its file's (n_features is for the synthetic ones)."""
    rows = g.get("rows", [])
    for s in g["scenario"]:
        own = data.get(s)
        if own is None:
            if any(r > MAX_STREAM_ROWS for r in rows):
                _fail(where, f"rows = {max(rows)}: the synthetic stream {s} has {MAX_STREAM_ROWS} rows")
            continue
        if "n_features" in g:
            _fail(where, f"n_features: the stream {s} is a CSV file with {own.n_features} feature columns; "
                         "leave n_features out of a grid with CSV streams")
        if any(r > own.n_rows for r in rows):
            _fail(where, f"rows = {max(rows)}: the stream {s} ({own.path}) has {own.n_rows} rows")


def _show(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."
