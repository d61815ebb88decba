"""Saving, loading and caching simulated worlds: Parquet only, byte-identical, no machine paths."""

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.sim import (
    SimulationConfig,
    code_version,
    load_or_simulate,
    load_world,
    save_world,
    simulate,
)
from persona_lib.sim import world as world_module

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
    assert manifest["code"] == code_version.code_manifest() == w.code
    assert "persona_lib/sim/simulate.py" in manifest["code"]["files"]
    assert str(directory) not in text and "/tmp" not in text
    assert not list(directory.rglob("*.pkl")) and not list(directory.rglob("*.tmp"))


def test_same_seed_gives_byte_identical_files(saved, tmp_path):
    w, directory = saved
    again = save_world(simulate(TINY), tmp_path / "again")
    assert digests(again) == digests(directory)
    assert digests(save_world(w, tmp_path / "twice")) == digests(directory)


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

    monkeypatch.setattr("persona_lib.sim.cache.simulate", fail)
    cached = load_or_simulate("mini", random_state=2, data_dir=data)
    pd.testing.assert_frame_equal(cached.events, first.events)
    monkeypatch.undo()
    monkeypatch.setenv("PERSONA_PRESETS_DIR", str(presets))
    (presets / "mini.yaml").write_text("simulation:\n  n_users: 150\n  n_titles: 40\n  n_days: 4\n")
    rebuilt = load_or_simulate("mini", random_state=2, data_dir=data)
    assert rebuilt.config.n_users == 150
    assert world_module.load_world(data / "mini-2").config.n_users == 150


@pytest.fixture
def mini(tmp_path, monkeypatch):
    """A tiny preset ``mini`` and the data directory its worlds are cached under."""
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "mini.yaml").write_text("simulation:\n  n_users: 120\n  n_titles: 40\n  n_days: 4\n")
    monkeypatch.setenv("PERSONA_PRESETS_DIR", str(presets))
    return tmp_path / "data"


def count_simulations(monkeypatch) -> list:
    """Patch `simulate` to record each call (and still simulate); return the list of configs."""
    calls = []

    def counting(config, *args, **kwargs):
        calls.append(config)
        return simulate(config, *args, **kwargs)

    monkeypatch.setattr("persona_lib.sim.cache.simulate", counting)
    return calls


def read_code(directory):
    return json.loads((directory / "manifest.json").read_text())["code"]


def test_load_or_simulate_rebuilds_when_the_simulator_code_changes(mini, monkeypatch):
    calls = count_simulations(monkeypatch)
    first = load_or_simulate("mini", random_state=2, data_dir=mini)
    assert len(calls) == 1 and read_code(mini / "mini-2") == code_version.code_manifest()
    assert load_or_simulate("mini", random_state=2, data_dir=mini).code == first.code
    assert len(calls) == 1  # same format, config and code: the cache is read

    newer = "f" * 64
    monkeypatch.setattr(code_version, "simulator_code_hash", lambda: newer)
    rebuilt = load_or_simulate("mini", random_state=2, data_dir=mini)
    assert len(calls) == 2
    assert rebuilt.code["simulator_sha256"] == newer
    assert read_code(mini / "mini-2") == {"simulator_sha256": newer, "files": first.code["files"]}
    pd.testing.assert_frame_equal(rebuilt.events, first.events)  # the fake edit changed nothing
    assert load_or_simulate("mini", random_state=2, data_dir=mini).code == rebuilt.code
    assert len(calls) == 2
    assert not list(mini.rglob("*.tmp"))


def test_a_manifest_without_code_still_loads_but_is_not_reused(mini, monkeypatch):
    calls = count_simulations(monkeypatch)
    first = load_or_simulate("mini", random_state=3, data_dir=mini)
    path = mini / "mini-3" / "manifest.json"
    old = json.loads(path.read_text())
    del old["code"]
    path.write_text(json.dumps(old))  # as written before the code was recorded
    loaded = load_world(mini / "mini-3")
    assert loaded.code == {}
    pd.testing.assert_frame_equal(loaded.events, first.events)
    again = load_or_simulate("mini", random_state=3, data_dir=mini)
    assert len(calls) == 2 and again.code == code_version.code_manifest()
    assert read_code(mini / "mini-3") == code_version.code_manifest()


def test_save_world_records_the_code_that_made_the_world(saved, tmp_path):
    w, directory = saved
    old = json.loads((directory / "manifest.json").read_text())
    older = {"simulator_sha256": "0" * 64, "files": ["persona_lib/sim/simulate.py"]}
    copy = save_world(dataclasses.replace(w, code=older), tmp_path / "copy")
    assert read_code(copy) == older  # not the running code: the world says who made it
    assert load_world(copy).code == older
    assert json.loads((copy / "manifest.json").read_text()) == {**old, "code": older}
