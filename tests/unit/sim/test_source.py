"""open_world: logs when DATA is given (no truth), else a preset's or a config's cached world."""

import pandas as pd
import pytest

from persona_lib.data import Logs, TruthUnavailable
from persona_lib.sim import World, export_logs, load_preset, open_world
from persona_lib.sim.source import config_cache_dir


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_data_gives_logs_without_truth(cache, tmp_path):
    world = open_world("", "smoke", random_state=0, data_dir=cache)
    assert isinstance(world, World) and world.has_truth
    export_logs(world, tmp_path / "logs")
    logs = open_world(str(tmp_path / "logs"), "smoke", data_dir=cache)
    assert isinstance(logs, Logs) and not logs.has_truth
    with pytest.raises(TruthUnavailable, match="carry no true values"):
        logs.truth  # noqa: B018 - the access itself must raise
    pd.testing.assert_series_equal(logs.events["user_id"], world.events["user_id"])


def test_a_config_is_simulated_once_and_then_read_from_its_cache(cache):
    config = load_preset("smoke").replace(random_state=3, n_users=200, n_days=5)
    first = open_world(None, config, data_dir=cache)
    directory = config_cache_dir(config, cache)
    assert (directory / "manifest.json").is_file()
    stamp = (directory / "events.parquet").stat().st_mtime_ns
    again = open_world(None, config, data_dir=cache)
    assert (directory / "events.parquet").stat().st_mtime_ns == stamp  # read, not rewritten
    pd.testing.assert_frame_equal(first.events, again.events, check_exact=True)
    other = config.replace(random_state=4)
    assert config_cache_dir(other, cache) != directory


def test_opened_worlds_are_noted_when_the_log_is_set(cache, tmp_path, monkeypatch):
    from persona_lib.sim.cache import preset_cache_dir
    from persona_lib.sim.source import WORLDS_LOG, opened_worlds

    log = tmp_path / "worlds.jsonl"
    open_world("", "smoke", random_state=0, data_dir=cache)
    assert opened_worlds(log) == ()  # not set: nothing noted
    monkeypatch.setenv(WORLDS_LOG, str(log))
    config = load_preset("smoke").replace(random_state=3, n_users=200, n_days=5)
    open_world(None, config, data_dir=cache)
    open_world("", "smoke", random_state=0, data_dir=cache)
    open_world(None, config, data_dir=cache)  # once each, first opening first
    expected = (config_cache_dir(config, cache).name, preset_cache_dir("smoke", 0, cache).name)
    assert opened_worlds(log) == expected == (expected[0], "smoke-0")
