"""The `microlearn` command line (see main.py)."""
import re


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class CheckFailed(CLIError):
    """A check the command ran did not pass (e.g. agreement below 100%): one line, exit status 1."""


# ANSI / VT100 escape sequences (CSI, OSC, two-byte ESC sequences), then every other control character:
# emulator and compiler output must not drive the user's terminal.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text, limit: int = 1000) -> str:
    """One printable line: escape sequences and control characters removed, line breaks joined with '; ',
    at most `limit` characters."""
    text = _ESCAPES.sub("", str(text)).replace("\t", " ")
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "; ".join(p.strip() for p in text.split("\n") if p.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_option(message, options) -> str:
    """'max_passes must be ...' -> '--max-passes must be ...' when the message is about a parameter the
    command takes as an option (options: the Python names, or {python name: option})."""
    text = str(message)
    names = options if isinstance(options, dict) else {o: "--" + o.replace("_", "-") for o in options}
    for name, opt in names.items():
        if text.startswith(name + " ") or text.startswith(name + "="):
            return opt + text[len(name):]
    return text

