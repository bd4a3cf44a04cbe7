"""Benchmarks: the seeds' experiments rerun on the emulated boards (`microlearn bench`), and the
measurements that calibrate the memory planner (`python -m microlearn.tools.calibrate`)."""
