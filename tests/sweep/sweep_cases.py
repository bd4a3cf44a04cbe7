"""What the sweep tests share: two small specs and the fixtures (imported by the test modules: a
conftest.py here would clash with tests/conftest.py under pytest's module names)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from dask_cluster import LocalDaskCluster  # noqa: E402

# A sweep small enough for tests: the Python reference learner (no toolchain) on short streams, and the
# trainer on the host (gcc) on Iris.
REFERENCE_SPEC = """
[sweep]
name = "ref"
kind = "reference"
measures = ["accuracy", "final_accuracy", "retrains", "accepted", "rollbacks", "mistakes", "train_iterations"]

[grid]
scenario = ["rotating_hyperplane", "label_swap"]
stream_seed = [1, 2, 3]
rows = 200
capacity = [24, 40]
"""

TRAIN_SPEC = """
[sweep]
name = "host-train"
kind = "train"
measures = ["n_train", "accuracy", "agreement", "iterations", "python_iterations", "max_alpha_diff", "buffer_bytes"]

[grid]
target = "host"
dataset = "iris"
n = [12, 24]
kernel = ["linear", "rbf"]
"""


@pytest.fixture
def write_spec(tmp_path):
    def write(text, name="spec.toml"):
        p = tmp_path / name
        p.write_text(text)
        return p
    return write


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two workers shared by a module's tests (starting them takes seconds)."""
    with LocalDaskCluster(tmp_path_factory.mktemp("cluster"), n_workers=2) as c:
        yield c


@pytest.fixture
def own_dask_cluster(tmp_path):
    """A scheduler and two workers for one test (which may kill a worker)."""
    folder = tmp_path / "cluster"
    folder.mkdir()
    with LocalDaskCluster(folder, n_workers=2) as c:
        yield c
