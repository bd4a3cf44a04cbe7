"""The `microlearn` command line (see main.py)."""


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""
