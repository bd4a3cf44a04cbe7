"""`microlearn demo`: train on emulated boards and print the figures."""


def register(sub):
    p = sub.add_parser("demo", help="train Iris on emulated boards and print cycles, memory and agreement")
    p.set_defaults(func=lambda args: __import__("microlearn.demo", fromlist=["main"]).main())
