"""Saving, loading and caching simulated worlds: Parquet only, byte-identical, no machine paths."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import world as world_module
from persona_lib.data.simulate import simulate
from persona_lib.data.simulate_config import SimulationConfig
from persona_lib.data.world import load_or_simulate, load_world, save_world

TINY = SimulationConfig(n_users=300, n_titles=90, n_days=8, random_state=5)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    w = simulate(TINY)
    directory = tmp_path_factory.mktemp("world") / "tiny-5"
    save_world(w, directory)
    return w, directory


def digests(directory):
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_round_trip_keeps_every_table_and_dtype(saved):
    w, directory = saved
    loaded = load_world(directory)
    assert loaded.config == w.config
    for name, frame in w.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name], frame)
    pd.testing.assert_frame_equal(loaded.propensities, w.propensities)
    assert set(loaded.truth.tables) == set(w.truth.tables)
    for name, frame in w.truth.tables.items():
        pd.testing.assert_frame_equal(loaded.truth.tables[name], frame)
    ids = np.arange(20)
    best = w.truth.best_artwork(ids, ids)
    assert np.array_equal(loaded.truth.best_artwork(ids, ids), best)
    np.testing.assert_allclose(
        loaded.truth.click_prob(ids, ids, best), w.truth.click_prob(ids, ids, best)
    )


def test_manifest_has_config_and_counts_but_no_paths_or_times(saved):
    w, directory = saved
    text = (directory / "manifest.json").read_text()
    manifest = json.loads(text)
    assert manifest["config"] == TINY.to_dict()
    assert manifest["rows"]["events"] == len(w.events)
    assert manifest["truth_rows"]["impressions"] == len(w.truth.tables["impressions"])
    assert str(directory) not in text and "/tmp" not in text
    assert not list(directory.rglob("*.pkl")) and not list(directory.rglob("*.tmp"))


def test_same_seed_gives_byte_identical_files(saved, tmp_path):
    _, directory = saved
    again = save_world(simulate(TINY), tmp_path / "again")
    assert digests(again) == digests(directory)


def test_load_or_simulate_caches_and_rebuilds_on_config_change(tmp_path, monkeypatch):
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "mini.yaml").write_text(
        "simulation:\n  n_users: 120\n  n_titles: 40\n  n_days: 4\nnotebook:\n  k: 10\n"
    )
    monkeypatch.setenv("PERSONA_PRESETS_DIR", str(presets))
    data = tmp_path / "data"
    first = load_or_simulate("mini", random_state=2, data_dir=data)
    assert (data / "mini-2" / "manifest.json").is_file()
    assert first.config.random_state == 2

    def fail(*args, **kwargs):
        raise AssertionError("should have loaded the cache")

    monkeypatch.setattr("persona_lib.data.simulate.simulate", fail)
    cached = load_or_simulate("mini", random_state=2, data_dir=data)
    pd.testing.assert_frame_equal(cached.events, first.events)
    monkeypatch.undo()
    monkeypatch.setenv("PERSONA_PRESETS_DIR", str(presets))
    (presets / "mini.yaml").write_text("simulation:\n  n_users: 150\n  n_titles: 40\n  n_days: 4\n")
    rebuilt = load_or_simulate("mini", random_state=2, data_dir=data)
    assert rebuilt.config.n_users == 150
    assert world_module.load_world(data / "mini-2").config.n_users == 150
