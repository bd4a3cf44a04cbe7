"""`microlearn fleet`: every simulated device is the Python reference learner on its own seeded stream
(equal to learner.simulate called for that device), batches are cached, and --confirm runs sampled devices
on an emulated board, which agree with the reference row by row."""
import csv
import json

import pytest

pytest.importorskip("distributed", reason="Dask is not installed: pip install '.[sweep]' (scripts/setup.sh)")

from microlearn.cli import main as cli_main  # noqa: E402
from microlearn.data import streams  # noqa: E402
from microlearn.learner.simulate import simulate  # noqa: E402

from conftest import tools_missing  # noqa: E402

ARGS = ["fleet", "--devices", "6", "--rows", "120", "--scenario", "rotating_hyperplane,label_swap", "--seed", "10",
        "--capacity", "24", "--batch", "2", "--workers", "1", "--json", "--no-plots"]


def test_each_device_is_the_reference_learner_on_its_own_stream(tmp_path, capsys):
    rc = cli_main.main([*ARGS, "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["computed"] == 3 and out["cached"] == 0
    with open(tmp_path / "fleet.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["device"]) for r in rows] == list(range(6))
    for r in rows:
        i = int(r["device"])
        scenario = ("rotating_hyperplane", "label_swap")[i % 2]
        assert r["scenario"] == scenario and int(r["stream_seed"]) == 10 + i
        s = streams.make(scenario, seed=10 + i, n_features=4)
        direct = simulate((s.X[:120], s.y[:120], [d for d in s.drift_points if d < 120]), window=100,
                          baselines=False, capacity=24)
        assert float(r["accuracy"]) == direct["accuracy"]
        assert int(r["retrains"]) == len(direct["retrains"]) and int(r["rollbacks"]) == len(direct["rollbacks"])
    acc = out["distributions"]["measures"]["accuracy"]
    assert acc["n"] == 6 and acc["min"] <= acc["p50"] <= acc["max"]
    assert sum(out["distributions"]["retrains_histogram"].values()) == 6
    # the same fleet again: every batch from the cache
    assert cli_main.main([*ARGS, "--out", str(tmp_path)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["computed"] == 0 and again["cached"] == 3
    assert again["distributions"] == out["distributions"]


@pytest.mark.avr
@pytest.mark.skipif(bool(tools_missing("uno")), reason="avr-gcc / simavr not installed")
def test_confirm_runs_sampled_devices_on_the_board_and_they_agree(tmp_path, capsys):
    args = [a if a != "6" else "4" for a in ARGS]
    rc = cli_main.main([*args, "--out", str(tmp_path), "--confirm", "1", "--board", "uno"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    (c,) = out["confirm"]
    assert c["target"] == "uno" and c["status"] == "ok"
    assert c["agreement"] == 1.0 and c["same_events"] is True and c["same_accuracy"] is True
    assert c["cycles"] > 0 and c["sram_bytes"] <= 2048
