"""The day-partitioned event store: same world as `simulate`, streamed, atomic."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import PopularityGenrePolicy
from persona_lib.sim import (
    code_version,
    ensure_store,
    event_store,
    load_preset,
    read_events,
    read_manifest,
    read_table,
    read_world,
    simulate,
    simulate_to_store,
    store_matches,
    write_world_to_store,
)

SMOKE = load_preset("smoke")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    world = simulate(SMOKE)
    root = tmp_path_factory.mktemp("store") / "smoke-0"
    simulate_to_store(SMOKE, root)
    return world, root


def digests(directory):
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_streamed_store_equals_simulate_including_event_ids(stored):
    world, root = stored
    events = read_events(root)
    pd.testing.assert_frame_equal(events, world.events)
    assert np.array_equal(events["event_id"], np.arange(len(events)))
    back = read_world(root)
    assert back.config == SMOKE
    for name, frame in world.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], frame)
    pd.testing.assert_frame_equal(back.propensities, world.propensities.reset_index(drop=True))
    assert set(back.truth.tables) == set(world.truth.tables)
    for name, frame in world.truth.tables.items():
        pd.testing.assert_frame_equal(back.truth.tables[name], frame.reset_index(drop=True))


def test_partitions_cover_every_date_including_spill_past_midnight(stored):
    world, root = stored
    days = sorted(p.name for p in (root / "events").iterdir())
    expected = pd.date_range(SMOKE.start_date, world.events["ts"].max().normalize(), freq="D")
    assert days == [f"day={d.date()}" for d in expected]
    assert len(days) > SMOKE.n_days  # sessions spill into the day after the window
    for day in days:
        assert (root / "events" / day / "part-00000.parquet").is_file()
        assert (root / "propensities" / day / "part-00000.parquet").is_file()
        assert (root / "truth" / "impressions" / day / "part-00000.parquet").is_file()
    one = read_events(root, days=["2025-01-05"], columns=["event_id", "ts", "event_type"])
    assert list(one.columns) == ["event_id", "ts", "event_type"]
    assert (one["ts"].dt.normalize() == pd.Timestamp("2025-01-05")).all()
    on_day = world.events[world.events["ts"].dt.normalize() == pd.Timestamp("2025-01-05")]
    assert np.array_equal(one["event_id"], on_day["event_id"])
    none = read_events(root, days=["1999-01-01"])
    assert none.empty and list(none.columns) == list(world.events.columns)
    assert (none.dtypes == world.events.dtypes).all()
    assert not (root / "truth" / "events").exists() and not (root / "pscore.parquet").exists()


def test_manifest_records_config_counts_and_days(stored):
    world, root = stored
    manifest = read_manifest(root)
    assert manifest["format"] == 1
    assert manifest["config"] == SMOKE.to_dict()
    assert manifest["n_events"] == len(world.events) == manifest["rows"]["events"]
    assert manifest["truth_rows"]["impressions"] == len(world.truth.tables["impressions"])
    assert manifest["days"][0] == SMOKE.start_date and len(manifest["days"]) > SMOKE.n_days
    assert manifest["code"] == code_version.code_manifest() == world.code
    text = (root / "manifest.json").read_text()
    assert str(root) not in text and "/tmp" not in text
    assert json.loads(text) == manifest


def test_write_world_to_store_gives_the_same_files(stored, tmp_path):
    world, root = stored
    write_world_to_store(world, tmp_path / "w")
    assert digests(tmp_path / "w") == digests(root)
    pd.testing.assert_frame_equal(read_table(tmp_path / "w", "billing"), world.billing)


class FailingPolicy(PopularityGenrePolicy):
    """Raises in its update after day ``fail_day``."""

    def __init__(self, fail_day: int):
        super().__init__(random_state=0)
        self.fail_day, self.calls = fail_day, 0

    def update(self, day_events):
        if self.calls == self.fail_day:
            raise RuntimeError("boom on day 2")
        self.calls += 1
        super().update(day_events)


def test_a_failing_simulation_leaves_no_partial_store(tmp_path):
    config = SMOKE.replace(n_users=200, n_days=5)
    with pytest.raises(RuntimeError, match="boom on day 2"):
        simulate_to_store(config, tmp_path / "new", policy=FailingPolicy(2))
    assert list(tmp_path.iterdir()) == []  # neither the store nor a temporary directory

    simulate_to_store(config, tmp_path / "old")
    before = digests(tmp_path / "old")
    with pytest.raises(RuntimeError, match="boom on day 2"):
        simulate_to_store(config.replace(random_state=1), tmp_path / "old", FailingPolicy(2))
    assert digests(tmp_path / "old") == before
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    simulate_to_store(config.replace(random_state=1), tmp_path / "old")  # replaced in place
    assert read_manifest(tmp_path / "old")["config"]["random_state"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["old"]


def test_refuses_to_replace_a_directory_that_is_not_a_store(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="is not an event store"):
        simulate_to_store(SMOKE.replace(n_users=50, n_days=2), tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_ensure_store_is_keyed_on_the_code_that_made_the_world(tmp_path, monkeypatch):
    config = SMOKE.replace(n_users=200, n_days=3)
    world = simulate(config)
    root = ensure_store(world, tmp_path / "store")
    assert read_manifest(root)["code"] == code_version.code_manifest() == world.code

    def fail(*args, **kwargs):
        raise AssertionError("should have reused the store")

    with monkeypatch.context() as patch:
        patch.setattr(event_store, "write_world_to_store", fail)
        assert ensure_store(world, root) == root  # nothing changed: reused

    newer = "e" * 64
    monkeypatch.setattr(code_version, "simulator_code_hash", lambda: newer)
    newer_world = simulate(config)  # the same world, made by (pretend) edited code
    assert newer_world.code["simulator_sha256"] == newer
    assert store_matches(root, world) and not store_matches(root, newer_world)
    assert ensure_store(newer_world, root) == root
    assert read_manifest(root)["code"]["simulator_sha256"] == newer
    assert store_matches(root, newer_world) and not store_matches(root, world)
    pd.testing.assert_frame_equal(read_events(root), world.events)
    assert [p.name for p in tmp_path.iterdir()] == ["store"]  # swapped atomically, no leftovers


def test_a_store_without_code_still_reads_but_is_rewritten(tmp_path):
    config = SMOKE.replace(n_users=100, n_days=2)
    root = simulate_to_store(config, tmp_path / "old")
    manifest = read_manifest(root)
    del manifest["code"]
    (root / "manifest.json").write_text(json.dumps(manifest))  # as written before the hash
    old = read_world(root)
    assert old.code == {} and old.config == config
    assert len(read_events(root, columns=["ts"])) == manifest["n_events"]
    assert not store_matches(root, old)  # unknown code matches nothing, not even itself
    world = simulate(config)
    assert not store_matches(root, world)
    ensure_store(world, root)
    assert read_manifest(root)["code"] == code_version.code_manifest()
    assert store_matches(root, world)
