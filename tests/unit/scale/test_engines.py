"""`open_signals` picks an engine by name; `ensure_store` writes a world's store once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.data.event_store import ensure_store, read_manifest, store_matches
from persona_lib.data.simulate import simulate
from persona_lib.data.simulate_config import load_preset
from persona_lib.signals.engines import ENGINES, PandasSignals, open_signals


@pytest.fixture(scope="module")
def small_world():
    return simulate(load_preset("smoke").replace(n_users=300, n_days=10))


@pytest.fixture(scope="module")
def store(small_world, tmp_path_factory):
    return ensure_store(small_world, tmp_path_factory.mktemp("engines") / "store")


def test_ensure_store_reuses_a_matching_store_and_replaces_another(small_world, store, tmp_path):
    stamp = (store / "manifest.json").stat().st_mtime_ns
    assert ensure_store(small_world, store) == store
    assert (store / "manifest.json").stat().st_mtime_ns == stamp  # not rewritten
    other = simulate(small_world.config.replace(random_state=1))
    assert not store_matches(store, other)
    copy = ensure_store(small_world, tmp_path / "s")
    ensure_store(other, copy)
    assert read_manifest(copy)["config"]["random_state"] == 1
    assert read_manifest(copy)["n_events"] == len(other.events)
    assert not store_matches(tmp_path / "missing", small_world)


def test_duckdb_and_pandas_engines_answer_alike(small_world, store):
    cutoff = pd.Timestamp(small_world.config.start_date) + pd.Timedelta(days=6)
    with (
        open_signals("pandas", world=small_world) as mem,
        open_signals("duckdb", store=store) as db,
    ):
        assert isinstance(mem, PandasSignals)
        a, b = mem.member_features(cutoff), db.member_features(cutoff)
        assert a["user_id"].tolist() == b["user_id"].tolist()
        np.testing.assert_allclose(
            a["hours_28d"].to_numpy(float), b["hours_28d"].to_numpy(float), rtol=0, atol=1e-9
        )
        fa, fb = mem.compute_funnel("device"), db.compute_funnel("device")
        assert fa["plays"].tolist() == fb["plays"].tolist()
        assert (
            mem.churn_labels(cutoff)["churn"].tolist() == db.churn_labels(cutoff)["churn"].tolist()
        )


def test_open_signals_explains_what_is_missing(small_world, tmp_path):
    assert ENGINES == ("pandas", "duckdb", "spark")
    with pytest.raises(ValueError, match="unknown engine 'polars'"):
        open_signals("polars", world=small_world)
    with pytest.raises(ValueError, match="pass world="):
        open_signals("pandas")
    with pytest.raises(ValueError, match="pass store="):
        open_signals("duckdb", world=small_world)
    with pytest.raises(FileNotFoundError, match="no event store here"):
        open_signals("duckdb", store=tmp_path)
