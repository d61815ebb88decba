"""record_metrics / read_metrics: flat, finite, JSON-safe, written atomically."""

import json

import numpy as np
import pytest

from persona_lib.report import read_metrics, record_metrics
from persona_lib.report.metrics import metrics_path


def test_round_trip_converts_numpy_scalars(tmp_path):
    metrics = {
        "ndcg_at_10": np.float64(0.25),
        "n_users": np.int64(7),
        "truth_positive": np.bool_(True),
        "preset": "smoke",
        "note": None,
        "zero_d": np.array(1.5),
    }
    path = record_metrics("01_data_signals", metrics, tmp_path)
    assert path == tmp_path / "01_data_signals.metrics.json"
    raw = json.loads(path.read_text())
    assert raw == {
        "ndcg_at_10": 0.25,
        "n_users": 7,
        "truth_positive": True,
        "preset": "smoke",
        "note": None,
        "zero_d": 1.5,
    }
    assert type(raw["n_users"]) is int and type(raw["truth_positive"]) is bool
    assert read_metrics(path) == raw
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_creates_out_dir_and_overwrites(tmp_path):
    out = tmp_path / "a" / "b"
    record_metrics("x", {"v": 1}, out)
    record_metrics("x", {"v": 2}, out)
    assert read_metrics(out / "x.metrics.json") == {"v": 2}


@pytest.mark.parametrize("bad", [float("nan"), np.float32("inf"), -np.inf])
def test_rejects_non_finite_naming_the_key(tmp_path, bad):
    with pytest.raises(ValueError, match="metric 'lift_pct' is .*must be finite"):
        record_metrics("x", {"ok": 1, "lift_pct": bad}, tmp_path)
    assert not (tmp_path / "x.metrics.json").exists()


@pytest.mark.parametrize("bad", [{"a": 1}, [1, 2], (1,), np.array([1.0, 2.0]), {1, 2}])
def test_rejects_nested_values_naming_the_key(tmp_path, bad):
    with pytest.raises(TypeError, match="metric 'by_genre' is a .*flat scalars"):
        record_metrics("x", {"by_genre": bad}, tmp_path)


def test_rejects_non_string_keys_and_non_dicts(tmp_path):
    with pytest.raises(TypeError, match="metric key 3 must be a non-empty str"):
        record_metrics("x", {3: 1.0}, tmp_path)
    with pytest.raises(TypeError, match="metrics must be a dict"):
        record_metrics("x", [("a", 1)], tmp_path)


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".."])
def test_rejects_names_that_are_not_stems(tmp_path, name):
    with pytest.raises(ValueError, match="metrics name"):
        metrics_path(name, tmp_path)


def test_read_metrics_rejects_non_objects(tmp_path):
    path = tmp_path / "x.metrics.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_metrics(path)
