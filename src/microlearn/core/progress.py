"""Progress a person can watch, on stderr, while a long command works.

    with progress(len(cases), "bench") as p:        # a known total: count, %, bar, rate, ETA
        for case in cases:
            run(case)
            p.advance(detail=name(case))            # thread-safe
    with spinner("building for uno") as s:          # one long step: an elapsed-time line that a
        build()                                     # background thread refreshes, cleared at the end
        s.update("running on uno")
        run()

Shown only when it helps a person and harms nothing: when stderr is a terminal, and not under a command's
--json (the CLI wraps such commands in `muted()`). MICROLEARN_PROGRESS=1 forces it on, =0 off (tests, and
users piping). Stdout is never written. At most ~10 redraws a second; a line never exceeds the terminal's
width (it is cut, never wrapped); a bar's last line stays, with the count and the elapsed time; a spinner's
line is erased; when the wrapped work raises, the line is finished all the same and the exception goes on.
A failing stderr (closed, a broken pipe) switches the reporter off rather than failing the work."""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager

ENV = "MICROLEARN_PROGRESS"
INTERVAL = 0.1          # seconds between redraws: at most ~10 a second
BAR_WIDTH = 20          # characters of the bar itself
SPIN = "|/-\\"

_muted = 0              # >0 inside muted(True): a command printing JSON


def forced() -> bool | None:
    """MICROLEARN_PROGRESS: True for 1/on/yes/true, False for 0/off/no/false, None when unset (or other)."""
    v = os.environ.get(ENV, "").strip().lower()
    if v in ("1", "on", "yes", "true"):
        return True
    if v in ("0", "off", "no", "false"):
        return False
    return None


def enabled(stream=None) -> bool:
    """Whether progress is shown on `stream` (default stderr): MICROLEARN_PROGRESS decides when set;
    otherwise off inside muted(), else on only when the stream is a terminal."""
    f = forced()
    if f is not None:
        return f
    if _muted:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


_shown_on = enabled      # the function, for the classes whose `enabled` argument overrides it


@contextmanager
def muted(flag: bool = True):
    """No progress inside (unless MICROLEARN_PROGRESS=1): what a command with --json runs in."""
    global _muted
    flag = bool(flag)
    _muted += flag
    try:
        yield
    finally:
        _muted -= flag


def format_seconds(s: float) -> str:
    """4.2s, 42s, 3m07s, 2h05m."""
    s = max(0.0, float(s))
    if s < 10:
        return f"{s:.1f}s"
    s = int(round(s))
    if s < 3600:
        return f"{s}s" if s < 60 else f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def format_rate(per_second: float, unit: str = "") -> str:
    """12/s, 1.5/s, or 8.0s/case below one a second."""
    if per_second <= 0:
        return "--"
    if per_second >= 1:
        return f"{per_second:.0f}/s" if per_second >= 100 else f"{per_second:.1f}/s"
    one = unit[:-1] if unit.endswith("s") else unit     # 'rows' counted, 's/row' each
    return f"{1 / per_second:.1f}s/{one or 'it'}"


def terminal_width(stream, default: int = 80) -> int:
    """Columns of the terminal behind `stream`, else $COLUMNS, else `default`."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, ValueError, OSError):
        pass
    try:
        return int(os.environ.get("COLUMNS", "")) or default
    except ValueError:
        return default


class _Line:
    """One status line, redrawn in place with a carriage return, cut to the width, erased with spaces
    (no escape sequences needed)."""

    def __init__(self, stream, width):
        self.stream, self.width, self.shown = stream, width, 0
        self.broken = False

    def cols(self) -> int:
        w = self.width() if callable(self.width) else self.width
        return max(int(w or 80) - 1, 1)      # the last column would make some terminals wrap

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):        # stderr closed or a broken pipe: progress stops, the work does not
            self.broken = True

    def draw(self, text: str) -> None:
        cols = self.cols()
        text = text[:cols]
        pad = max(min(self.shown, cols) - len(text), 0)
        self._write("\r" + text + " " * pad)
        self.shown = len(text)

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * min(self.shown, self.cols()) + "\r")
            self.shown = 0

    def finish(self, text: str) -> None:
        self.draw(text)
        self._write("\n")
        self.shown = 0


class Progress:
    """A bar for a known total (total=None: a count without percentage or ETA). advance() is thread-safe;
    drawing happens at most every `interval` seconds (a daemon thread draws, an interval later, a change that
    came too soon); close() (or leaving the with block) leaves the final line showing the count and the
    elapsed time."""

    def __init__(self, total: int | None, label: str = "", *, unit: str = "", stream=None, clock=time.monotonic,
                 width=None, enabled: bool | None = None, interval: float = INTERVAL):
        self.total = None if total is None else max(int(total), 0)
        self.label, self.unit, self.count, self.detail = label, unit, 0, ""
        self.stream = sys.stderr if stream is None else stream
        self.on = _shown_on(self.stream) if enabled is None else bool(enabled)
        self.clock, self.interval = clock, interval
        self._line = _Line(self.stream, width if width is not None else (lambda: terminal_width(self.stream)))
        self._lock = threading.RLock()
        self._t0 = clock()
        self._drawn_at = None
        self._dirty = False               # a change not drawn yet (it came too soon after the last draw)
        self._stop = threading.Event()
        self._thread = None
        self.closed = False

    # what is shown
    def elapsed(self) -> float:
        return self.clock() - self._t0

    def text(self, final: bool = False, failed: bool = False, cols: int | None = None) -> str:
        """The line. Given the columns, the bar's picture is left out when the line would not fit them (the
        current step's name says more); the line is then cut to them where it is drawn."""
        t = self.elapsed()
        head = f"{self.label}: " if self.label else ""
        count = f"{self.count}/{self.total}" if self.total is not None else f"{self.count}"
        if self.unit:
            count += f" {self.unit}"
        if final:
            how = "stopped after" if failed else "in"
            return f"{head}{count} {how} {format_seconds(t)}" + (f" ({format_rate(self.count / t, self.unit)})" if
                                                                  self.count and t > 0 and not failed else "")
        parts = [head + count]
        rate = self.count / t if t > 0 else 0.0
        if self.total is not None:
            frac = min(self.count / self.total, 1.0) if self.total else 1.0
            fill = int(frac * BAR_WIDTH)
            parts.append(f"{int(frac * 100):3d}%")
            parts.append(format_rate(rate, self.unit) if self.count else "--/s")
            left = self.total - self.count
            parts.append("ETA " + (format_seconds(left / rate) if rate > 0 else "--"))
        else:
            parts.append(format_rate(rate, self.unit) if self.count else "--/s")
            parts.append(format_seconds(t))
        if self.detail:
            parts.append(self.detail)
        if self.total is not None:
            picture = f"{parts[1]} [{'#' * fill}{'.' * (BAR_WIDTH - fill)}]"
            if cols is None or len("  ".join(parts)) + len(picture) - len(parts[1]) <= cols:
                parts[1] = picture
        return "  ".join(parts)

    # what the work calls
    def advance(self, n: int = 1, detail: str | None = None) -> None:
        with self._lock:
            self.count += n
            if detail is not None:
                self.detail = detail
            self._maybe_draw()

    def note(self, detail: str) -> None:
        """What is being worked on now (shown after the ETA), without counting."""
        with self._lock:
            self.detail = detail
            self._maybe_draw()

    def _maybe_draw(self, force: bool = False) -> None:
        if not self.on or self.closed:
            return
        now = self.clock()
        if force or self._drawn_at is None or now - self._drawn_at >= self.interval:
            self._drawn_at, self._dirty = now, False
            self._line.draw(self.text(cols=self._line.cols()))
        else:
            self._dirty = True

    def _tick(self) -> None:
        """Draws what advance() left undrawn, an interval later: the last step of a burst shows even if the
        next one is minutes away."""
        while not self._stop.wait(max(self.interval, 0.01)):
            with self._lock:
                if self._dirty:
                    self._maybe_draw(force=True)

    @contextmanager
    def paused(self):
        """Erase the line while something else prints (a log line), then draw it again."""
        with self._lock:
            if self.on and not self.closed:
                self._line.clear()
            try:
                yield
            finally:
                self._maybe_draw(force=True)

    def start(self) -> "Progress":
        with self._lock:
            self._maybe_draw(force=True)
        if self.on and self._thread is None and not self.closed:
            self._thread = threading.Thread(target=self._tick, name="microlearn-progress", daemon=True)
            self._thread.start()
        return self

    def close(self, failed: bool = False) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
            self._thread = None
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self.on:
                self._line.finish(self.text(final=True, failed=failed))

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None)
        return False


class Spinner:
    """One long step without a total: `| building for uno  12.3s`, refreshed by a daemon thread every
    `interval` seconds, erased when the step ends (also when it raises). update() changes the label."""

    def __init__(self, label: str, *, stream=None, clock=time.monotonic, width=None, enabled: bool | None = None,
                 interval: float = INTERVAL):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.on = _shown_on(self.stream) if enabled is None else bool(enabled)
        self.clock, self.interval = clock, interval
        self._line = _Line(self.stream, width if width is not None else (lambda: terminal_width(self.stream)))
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = None
        self._frame = 0
        self._t0 = clock()

    def elapsed(self) -> float:
        return self.clock() - self._t0

    def text(self) -> str:
        return f"{SPIN[self._frame % len(SPIN)]} {self.label}  {format_seconds(self.elapsed())}"

    def update(self, label: str) -> None:
        with self._lock:
            self.label = label
            self._draw()

    def _draw(self) -> None:
        if self.on and not self._stop.is_set():
            self._line.draw(self.text())

    @contextmanager
    def paused(self):
        """Erase the line while something else prints (a log line), then draw it again."""
        with self._lock:
            if self.on:
                self._line.clear()
            try:
                yield
            finally:
                self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._frame += 1
                self._draw()

    def start(self) -> "Spinner":
        if self.on and self._thread is None:
            with self._lock:
                self._draw()
            self._thread = threading.Thread(target=self._tick, name="microlearn-spinner", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if self.on:
                self._line.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        return False


def progress(total: int | None, label: str = "", **kwargs) -> Progress:
    """A bar for `total` steps (see Progress); use it as a context manager."""
    return Progress(total, label, **kwargs)


def spinner(label: str, **kwargs) -> Spinner:
    """An elapsed-time line for one long step (see Spinner); use it as a context manager."""
    return Spinner(label, **kwargs)


__all__ = ["progress", "spinner", "Progress", "Spinner", "enabled", "forced", "muted", "format_seconds",
           "format_rate", "terminal_width", "ENV", "INTERVAL"]
