"""core/progress.py: the bar's and the spinner's text on a fake stream and clock, what a terminal shows
after them, when they are on, and that they survive the work raising, many threads and a dead stderr."""
import io
import threading
import time

import pytest

from microlearn.core import progress as pg


class Clock:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


def screen(text: str) -> list[str]:
    """What a terminal shows after `text`: '\\r' returns to the line's start, characters overwrite, '\\n' ends
    the line. Trailing spaces are dropped."""
    lines, cur, col = [], [], 0
    for ch in text:
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(cur).rstrip())
            cur, col = [], 0
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
    lines.append("".join(cur).rstrip())
    return lines


def drawn(text: str) -> list[str]:
    """Every line drawn (the pieces between carriage returns and line ends)."""
    return [p for p in text.replace("\n", "\r").split("\r") if p]


class TTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(pg.ENV, raising=False)


# --- the bar ----------------------------------------------------------------------------------------------

def test_bar_text_count_percentage_rate_eta():
    out, clock = io.StringIO(), Clock()
    p = pg.progress(10, "bench", unit="cases", stream=out, clock=clock, width=120, enabled=True)
    with p:
        assert screen(out.getvalue()) == ["bench: 0/10 cases    0% [....................]  --/s  ETA --"]
        clock.t += 6.0
        p.advance(3, detail="done: goal iris uno")
        # 3 in 6 s: 2 s a case, 7 left: 14 s
        assert screen(out.getvalue()) == ["bench: 3/10 cases   30% [######..............]  2.0s/case  ETA 14s  "
                                          "done: goal iris uno"]
        clock.t += 14.0
        p.advance(7)
        assert screen(out.getvalue())[-1].startswith("bench: 10/10 cases  100% [####################]")
    # the last line stays, with the count and the elapsed time, and the line is ended
    assert out.getvalue().endswith("\n")
    assert screen(out.getvalue()) == ["bench: 10/10 cases in 20s (2.0s/case)", ""]


def test_bar_redraws_at_most_ten_times_a_second_but_counts_everything():
    out, clock = io.StringIO(), Clock()
    started = time.monotonic()
    with pg.progress(1000, "rows", stream=out, clock=clock, width=100, enabled=True) as p:
        for i in range(1000):
            clock.t += 0.001            # 1,000 steps in one second
            p.advance()
        assert p.count == 1000
    draws = drawn(out.getvalue())
    late = int((time.monotonic() - started) / pg.INTERVAL) + 1   # the thread's deferred draws, in real time
    assert 10 <= len(draws) <= 13 + late      # the first, ~10 in the second, the final line
    assert screen(out.getvalue())[0] == "rows: 1000/1000 in 1.0s (1000/s)"


def test_a_change_that_came_too_soon_is_drawn_an_interval_later():
    out, clock = io.StringIO(), Clock()
    with pg.progress(3, "bench", stream=out, clock=clock, width=100, enabled=True, interval=0.02) as p:
        p.advance(detail="first")
        p.advance(detail="second")             # same instant: not drawn now ...
        assert "second" not in out.getvalue()
        assert _wait_for(lambda: "second" in out.getvalue())    # ... but soon, without another advance
        assert screen(out.getvalue())[-1].startswith("bench: 2/3")


def test_bar_without_total_counts_and_shows_elapsed():
    out, clock = io.StringIO(), Clock()
    with pg.progress(None, "rows", unit="rows", stream=out, clock=clock, width=100, enabled=True) as p:
        clock.t += 2.0
        p.advance(50)
        assert screen(out.getvalue()) == ["rows: 50 rows  25.0/s  2.0s"]
    assert screen(out.getvalue()) == ["rows: 50 rows in 2.0s (25.0/s)", ""]


def test_bar_is_cut_to_the_terminal_width_never_wrapped():
    out, clock = io.StringIO(), Clock()
    with pg.progress(40, "sketch calibration", unit="sketches", stream=out, clock=clock, width=24,
                     enabled=True) as p:
        for _ in range(40):
            clock.t += 1.0
            p.advance(detail="loop sketch on mega2560 with a long name")
    assert all(len(line) <= 23 for line in drawn(out.getvalue()))   # one column spare: no terminal wraps
    assert screen(out.getvalue())[0] == "sketch calibration: 40/"


def test_a_narrow_terminal_loses_the_bar_picture_before_the_step_name():
    out, clock = io.StringIO(), Clock()
    with pg.progress(10, "bench", unit="cases", stream=out, clock=clock, width=90, enabled=True) as p:
        clock.t += 2.0
        p.advance(detail="done: goal iris n=100 nrf52840 float32")
        assert screen(out.getvalue()) == ["bench: 1/10 cases   10%  2.0s/case  ETA 18s  done: goal iris n=100 "
                                          "nrf52840 float32"]


def test_a_shorter_line_erases_the_longer_one_before_it():
    out, clock = io.StringIO(), Clock()
    with pg.progress(3, "x", stream=out, clock=clock, width=200, enabled=True) as p:
        p.note("a very long description of the current step")
        clock.t += 1
        p.note("short")
        assert screen(out.getvalue()) == ["x: 0/3    0% [....................]  --/s  ETA --  short"]


def test_bar_finishes_its_line_when_the_work_raises_and_the_error_propagates():
    out, clock = io.StringIO(), Clock()
    with pytest.raises(RuntimeError, match="emulator died"):
        with pg.progress(5, "bench", stream=out, clock=clock, width=100, enabled=True) as p:
            clock.t += 3.0
            p.advance()
            raise RuntimeError("emulator died")
    # the error line that follows starts on a line of its own
    assert out.getvalue().endswith("\n")
    assert screen(out.getvalue()) == ["bench: 1/5 stopped after 3.0s", ""]


def test_pausing_the_bar_lets_a_log_line_print_cleanly():
    out, clock = io.StringIO(), Clock()
    with pg.progress(2, "cal", stream=out, clock=clock, width=100, enabled=True) as p:
        with p.paused():
            out.write("uno train: measured ...\n")
        p.advance()
    assert screen(out.getvalue())[0] == "uno train: measured ..."
    assert screen(out.getvalue())[1].startswith("cal: 1/2 in")


def test_advance_is_thread_safe():
    out = io.StringIO()
    p = pg.progress(8 * 2000, "threads", stream=out, width=100, enabled=True, interval=0.0)
    with p:
        def work():
            for _ in range(2000):
                p.advance()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert p.count == 16000
    # every draw is whole: no two threads interleaved inside one line
    assert all(d.startswith("threads: ") for d in drawn(out.getvalue()))
    assert screen(out.getvalue())[0].startswith("threads: 16000/16000 in ")


def test_a_dead_stderr_stops_the_bar_not_the_work():
    class Dead(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")
    with pg.progress(3, "x", stream=Dead(), width=80, enabled=True) as p:
        for _ in range(3):
            p.advance()
    assert p.count == 3


def test_disabled_writes_nothing():
    out = io.StringIO()
    with pg.progress(3, "x", stream=out, enabled=False) as p:
        p.advance(3)
        with p.paused():
            pass
    with pg.spinner("building for uno", stream=out, enabled=False) as s:
        s.update("running on uno")
    assert out.getvalue() == ""


# --- the spinner ------------------------------------------------------------------------------------------

def _wait_for(cond, seconds=5.0):
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.005)
    return cond()


def test_spinner_refreshes_from_a_thread_and_is_erased_at_the_end():
    out, clock = io.StringIO(), Clock()
    with pg.spinner("building for uno", stream=out, clock=clock, width=100, enabled=True, interval=0.01) as s:
        assert screen(out.getvalue())[0][1:] == " building for uno  0.0s"
        clock.t += 12.34
        assert _wait_for(lambda: len(drawn(out.getvalue())) >= 4)     # the thread redraws, the frame turns
        frames = {d[0] for d in drawn(out.getvalue())}
        assert len(frames) >= 2 and frames <= set(pg.SPIN)
        s.update("running on uno")
        assert screen(out.getvalue())[-1].endswith("running on uno  12s")
    # nothing is left on the line, and the cursor is back at its start
    assert screen(out.getvalue()) == [""]
    assert out.getvalue().endswith("\r")
    after = out.getvalue()
    time.sleep(0.05)
    assert out.getvalue() == after                 # the thread is gone
    assert not any(t.name == "microlearn-spinner" for t in threading.enumerate())


def test_spinner_is_erased_when_the_work_raises():
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with pg.spinner("running on uno", stream=out, width=100, enabled=True, interval=0.01):
            raise KeyboardInterrupt
    assert screen(out.getvalue()) == [""]
    assert not any(t.name == "microlearn-spinner" for t in threading.enumerate())


def test_spinner_is_cut_to_the_width():
    out = io.StringIO()
    with pg.spinner("building examples/colour_sensor for nrf52840", stream=out, width=16, enabled=True,
                    interval=0.005):
        _wait_for(lambda: len(drawn(out.getvalue())) >= 3)
    assert drawn(out.getvalue()) and all(len(d) <= 15 for d in drawn(out.getvalue()))


# --- when it is on ----------------------------------------------------------------------------------------

def test_on_only_on_a_terminal_by_default(no_env):
    assert pg.enabled(TTY()) is True
    assert pg.enabled(io.StringIO()) is False
    assert pg.progress(3, stream=io.StringIO()).on is False
    assert pg.spinner("x", stream=TTY()).on is True


def test_muted_turns_it_off_even_on_a_terminal(no_env):
    with pg.muted(True):
        assert pg.enabled(TTY()) is False
        with pg.muted(False):                      # an inner command without --json does not unmute
            assert pg.enabled(TTY()) is False
    assert pg.enabled(TTY()) is True
    with pg.muted(False):
        assert pg.enabled(TTY()) is True


@pytest.mark.parametrize("value, on_tty, off_tty", [("1", True, True), ("0", False, False), ("on", True, True),
                                                    ("off", False, False), ("", True, False),
                                                    ("maybe", True, False)])
def test_microlearn_progress_forces_it(monkeypatch, value, on_tty, off_tty):
    monkeypatch.setenv(pg.ENV, value)
    assert pg.enabled(TTY()) is on_tty
    assert pg.enabled(io.StringIO()) is off_tty


def test_forcing_on_beats_muted(monkeypatch):
    monkeypatch.setenv(pg.ENV, "1")
    with pg.muted(True):
        assert pg.enabled(io.StringIO()) is True


def test_under_pytest_stderr_is_no_terminal(no_env):
    # what the CLI tests below rely on: no MICROLEARN_PROGRESS, no terminal, no progress
    import sys
    assert pg.enabled() is sys.stderr.isatty()


@pytest.mark.parametrize("s, text", [(0, "0.0s"), (4.25, "4.2s"), (42.4, "42s"), (187, "3m07s"),
                                     (7500, "2h05m"), (-1, "0.0s")])
def test_format_seconds(s, text):
    assert pg.format_seconds(s) == text


@pytest.mark.parametrize("rate, unit, text", [(250, "", "250/s"), (1.5, "rows", "1.5/s"),
                                              (0.125, "cases", "8.0s/case"), (0.5, "", "2.0s/it"), (0, "", "--")])
def test_format_rate(rate, unit, text):
    assert pg.format_rate(rate, unit) == text
