"""Sweeps and fleets on Dask: many configurations of the products (the trainer on a board, the learner's
loop, the Python reference learner) run as tasks on a local or remote Dask cluster, each keyed by its
configuration and the runtime's fingerprint and cached, so an interrupted sweep resumes and a repeated one
is free. `spec.py` reads and expands a sweep specification (TOML), `tasks.py` runs one task with the
product functions (on a worker), `keys.py` and `cache.py` name and keep results, `engine.py` dispatches
tasks on Dask, `table.py`, `pareto.py`, `plots.py` and `summary.py` write what came out, `fleet.py` makes
and summarises a fleet of simulated devices. docs/sweeps.md."""
