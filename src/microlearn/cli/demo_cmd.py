"""`microlearn demo`: train on emulated boards and print the figures."""
from microlearn.tools.demo import main

from . import CheckFailed


def register(sub):
    p = sub.add_parser("demo", help="train Iris on emulated boards and print cycles, memory and agreement",
                       description="Trains Iris setosa-vs-rest on the host and the emulated boards whose tools are "
                                   "installed (the others are skipped). Exit status 1 if a target did not train or "
                                   "disagrees with the Python reference, 2 if every target was skipped.")
    p.set_defaults(func=run)


def run(args) -> int:
    if main() == 1:
        raise CheckFailed("a target did not train or its predictions differ from the Python reference's "
                          "(see the table)")
    return 0
