"""`microlearn serial --port PORT`: the host side of the serial protocol (docs/serial-protocol.md).

Talks to a board running a sketch from `microlearn sketch` (or any program speaking the protocol):
    --clear           CLEAR: an empty sample store, no model               (train sketches)
    --rows CSV        training rows (features..., label) -> ROW each      (train sketches)
    --train           TRAIN: status, iterations, the board's time
    --eval            EVAL: the board's accuracy on its test rows
    --feedback CSV    labelled rows -> FEEDBACK each: the board's prediction before it learns from the row
    --predict CSV     feature rows -> PREDICT each
    --model PATH      MODEL: the board's model, written to PATH
With --sketch DIR (the sketch's folder) labels are mapped to the sketch's classes, the board's shape is
checked against the sketch's, and a train sketch's results are compared with the Python reference's.
Every request is framed and checksummed; a lost or corrupted frame is sent again, never applied twice."""
from __future__ import annotations

import csv
import json

from microlearn.core.progress import progress
from microlearn.data.datasets import DataError, read_features, read_table
from microlearn.deploy.link import Device, DeviceError, Link, LinkError, open_port
from microlearn.deploy.sketch import SketchError, read_manifest

from . import CheckFailed, CLIError, clean

MAX_ROWS = 100_000


def register(sub):
    p = sub.add_parser("serial", help="talk to a board running a microlearn sketch (serial protocol)",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--port", required=True, help="the board's serial port (/dev/ttyACM0, COM3, a pty) or a "
                                                 "pyserial URL (socket://host:port)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--sketch", metavar="DIR", help="the sketch's folder (microlearn_sketch.json): class labels, "
                                                   "shape and reference checks")
    p.add_argument("--clear", action="store_true", help="empty the board's sample store first (CLEAR)")
    p.add_argument("--rows", metavar="CSV", help="training rows to store on the board (ROW)")
    p.add_argument("--train", action="store_true", help="train on the board (TRAIN)")
    p.add_argument("--eval", action="store_true", help="the board's accuracy on its test rows (EVAL)")
    p.add_argument("--feedback", metavar="CSV", help="labelled rows to learn from (FEEDBACK)")
    p.add_argument("--predict", metavar="CSV", help="feature rows to predict (PREDICT)")
    p.add_argument("--model", metavar="PATH", help="read the board's model and write it to PATH (MODEL)")
    p.add_argument("--out", metavar="CSV", help="write the per-row results of --feedback / --predict here")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each reply (default 2)")
    p.add_argument("--retries", type=int, default=8, help="resends of a request before giving up (default 8)")
    p.add_argument("--wait", type=float, default=10.0,
                   help="seconds to wait for the board to answer at all (a board may reset when the port opens)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _labels(manifest):
    return list(manifest["classes"]) if manifest else None


def _to_index(label, classes):
    """A CSV label -> the board's class index (the manifest's order, else the label as an integer)."""
    if classes is not None:
        for i, c in enumerate(classes):
            if str(c) == str(label):
                return i
        raise CLIError(f"label {clean(str(label), 60)!r} is not one of the sketch's classes {classes}")
    try:
        return int(str(label))
    except ValueError:
        raise CLIError(f"label {clean(str(label), 60)!r} is not a class index (give --sketch DIR to map labels)") from None


class _Rows:
    def __init__(self, X, labels=None):
        self.X, self.labels = X, labels


def _read(path, *, labelled: bool) -> _Rows:
    """Labelled rows (features..., label) or, for --predict, feature rows only; the datasets module's limits."""
    try:
        if not labelled:
            return _Rows(read_features(path))
        t = read_table(path, max_rows=MAX_ROWS, rows_limit=f" (at most {MAX_ROWS:,} rows per run)")
    except (DataError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    return _Rows(t.X, t.labels)


def _connect(args) -> tuple[Device, Link]:
    try:
        port = open_port(args.port, args.baud)
    except LinkError as exc:
        raise CLIError(str(exc)) from None
    link = Link(port, timeout=args.timeout, retries=args.retries)
    dev = Device(link)
    # The first HELLO waits up to --wait: an Arduino resets when its port opens and prints its banner first.
    hello_link = Link(port, timeout=min(args.timeout, 1.0), retries=max(int(args.wait), 1), seq=link.seq)
    try:
        dev.link = hello_link
        dev.hello()
    except (LinkError, DeviceError) as exc:
        raise CLIError(f"{args.port}: {exc}") from None
    finally:
        dev.link = link
        link.seq = hello_link.seq
        link.parser = hello_link.parser
    return dev, link


def run(args) -> int:
    if not 0 < args.timeout <= 3600 or not 0 <= args.retries <= 1000 or not 0 < args.wait <= 3600:
        raise CLIError("--timeout and --wait must be in (0, 3600] seconds and --retries in 0..1000")
    manifest = None
    if args.sketch:
        try:
            manifest = read_manifest(args.sketch)
        except SketchError as exc:
            raise CLIError(str(exc)) from None
    classes = _labels(manifest)
    tables = {k: _read(getattr(args, k), labelled=k != "predict") for k in ("rows", "feedback", "predict")
              if getattr(args, k)}
    dev, link = _connect(args)
    info = dev.info
    report = {"port": args.port, "device": {"kind": info.kind, "n_features": info.n_features,
                                            "n_classes": info.n_classes, "capacity": info.capacity,
                                            "microlearn": ".".join(map(str, info.version))}}
    if manifest and (manifest["kind"] != info.kind or manifest["n_features"] != info.n_features):
        raise CLIError(f"the board runs a {info.kind} sketch of {info.n_features} features, {args.sketch} is a "
                       f"{manifest['kind']} sketch of {manifest['n_features']}: another sketch is on the board")
    for k, t in tables.items():
        if t.X.shape[1] != info.n_features:
            raise CLIError(f"--{k}: {t.X.shape[1]} features, the board expects {info.n_features}")
    try:
        if args.clear:
            dev.clear()
            report["cleared"] = True
        if "rows" in tables:
            t = tables["rows"]
            with progress(len(t.X), "rows", unit="rows") as bar:
                for x, lab in zip(t.X, t.labels):
                    stored = dev.send_row(x, _to_index(lab, classes))
                    bar.advance()
            report["rows_stored"] = stored if len(t.X) else None
        if args.train:
            r = dev.train()
            report["train"] = {"status": r.status_name, "iterations": r.iterations, "time_us": r.time_us}
        if args.eval:
            e = dev.evaluate()
            report["eval"] = {"correct": e.correct, "total": e.total}
        per_row = []
        if "feedback" in tables:
            t = tables["feedback"]
            right = 0
            events = {"accepted": [], "rollback": [], "failed": []}
            with progress(len(t.X), "feedback", unit="rows") as bar:
                for i, (x, lab) in enumerate(zip(t.X, t.labels)):
                    y = _to_index(lab, classes)
                    fb = dev.feedback(x, y)
                    right += fb.prediction == y
                    if fb.event in events:
                        events[fb.event].append(i)
                    per_row.append((i, fb.prediction, y, fb.event))
                    bar.advance()
            report["feedback"] = {"rows": len(t.X), "correct": int(right), "accepted": events["accepted"],
                                  "rollbacks": events["rollback"], "failed": events["failed"]}
        if "predict" in tables:
            t = tables["predict"]
            with progress(len(t.X), "predict", unit="rows") as bar:
                for i, x in enumerate(t.X):
                    per_row.append((i, dev.predict(x), None, None))
                    bar.advance()
            report["predictions"] = [p for _, p, _, _ in per_row[-len(t.X):]] if len(t.X) else []
        if args.model:
            blob = dev.model_bytes()
            with open(args.model, "wb") as f:
                f.write(blob)
            report["model"] = {"path": args.model, "bytes": len(blob)}
    except DeviceError as exc:
        raise CLIError(f"the board refused: {exc}") from None
    except LinkError as exc:
        raise CLIError(str(exc)) from None
    report["link"] = {"resends": link.resends, "ignored_replies": link.stale}
    report["board_text"] = [clean(s, 200) for s in list(link.text_lines)[-20:]]
    if args.out and per_row:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["row", "prediction", "label", "event"])
            for i, p, y, ev in per_row:
                w.writerow([i, "" if p is None else (classes[p] if classes and 0 <= p < len(classes) else p),
                            "" if y is None else (classes[y] if classes else y), ev or ""])
    problems = _check_reference(report, manifest)
    if args.json:
        print(json.dumps(report))
    else:
        _print(report, classes)
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0


def _check_reference(report, manifest) -> list[str]:
    """A train sketch's training on its compiled-in rows must give the reference's iterations (the board
    trains the same rows again on TRAIN when no --rows were added)."""
    out = []
    ref = (manifest or {}).get("reference")
    if ref and "train" in report and "rows_stored" not in report and not report.get("cleared"):
        if report["train"]["iterations"] != ref["iterations"]:
            out.append(f"the board trained in {report['train']['iterations']} iterations, the Python reference in "
                       f"{ref['iterations']}")
        if "eval" in report and report["eval"]["correct"] != ref["test_correct"]:
            out.append(f"the board got {report['eval']['correct']} test rows right, the Python reference "
                       f"{ref['test_correct']}")
    return out


def _print(r, classes) -> None:
    d = r["device"]
    print(f"{r['port']}: a {d['kind']} sketch, {d['n_features']} features, {d['n_classes']} classes, capacity "
          f"{d['capacity']} (microlearn {d['microlearn']})")
    if r.get("rows_stored") is not None:
        print(f"  rows stored on the board: {r['rows_stored']}")
    if "train" in r:
        t = r["train"]
        print(f"  trained: {t['status']}, {t['iterations']} iterations, {t['time_us']:,} us on the board")
    if "eval" in r:
        e = r["eval"]
        acc = f"{100 * e['correct'] / e['total']:.1f}%" if e["total"] else "n/a"
        print(f"  test rows right: {e['correct']}/{e['total']} ({acc})")
    if "feedback" in r:
        f = r["feedback"]
        print(f"  feedback: {f['correct']}/{f['rows']} predicted right before learning; models accepted at rows "
              f"{f['accepted']}, rolled back at {f['rollbacks']}")
    if "predictions" in r:
        p = r["predictions"]
        names = [classes[i] if classes and 0 <= i < len(classes) else i for i in p[:20]]
        print(f"  predictions ({len(p)}): {', '.join(map(str, names))}" + (" ..." if len(p) > 20 else ""))
    if "model" in r:
        print(f"  model: {r['model']['bytes']} bytes -> {r['model']['path']}")
    print(f"  link: {r['link']['resends']} requests sent again")
