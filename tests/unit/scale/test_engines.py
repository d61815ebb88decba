"""`open_signals` picks an engine by name; `ensure_store` writes a world's store once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64

from persona_lib.signals.engines import ENGINES, PandasSignals, open_signals
from persona_lib.sim import ensure_store, load_preset, read_manifest, simulate, store_matches


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
            a["hours_28d"].to_numpy(float), b["hours_28d"].to_numpy(float), **FLOAT64
        )  # pandas and DuckDB sum in different orders
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


def test_spark_store_paths_keep_uris_whole(tmp_path):
    from persona_lib.signals.sql.spark_engine import store_path

    assert store_path("s3a://bucket/store/", "events") == "s3a://bucket/store/events"
    assert store_path("gs://b/s", "users.parquet") == "gs://b/s/users.parquet"
    assert store_path(tmp_path, "events") == str(tmp_path / "events")


def test_features_command_writes_the_engines_features(small_world, store, tmp_path, capsys):
    from persona_lib.report.cli import main

    cutoffs = ["2025-01-05", "2025-01-08"]
    out = tmp_path / "features.parquet"
    assert main(["features", str(store), "--cutoff", *cutoffs, "--out", str(out)]) == 0
    written = pd.read_parquet(out)
    with open_signals("duckdb", store=store) as db:
        expected = pd.concat([db.member_features(c) for c in cutoffs], ignore_index=True)
    pd.testing.assert_frame_equal(written, expected)
    assert "member snapshots" in capsys.readouterr().out
    bad = ["features", str(tmp_path / "nowhere"), "--cutoff", "2025-01-05", "--out", str(out)]
    assert main(bad) == 2
    assert "no event store here" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a cutoff is required
        main(["features", str(store), "--out", str(out)])


def test_engines_agree_at_another_completion_threshold(small_world, store):
    cutoff = pd.Timestamp(small_world.config.start_date) + pd.Timedelta(days=8)
    with (
        open_signals("pandas", world=small_world) as mem,
        open_signals("duckdb", store=store) as db,
    ):
        a, b = mem.member_features(cutoff, threshold=0.5), db.member_features(cutoff, threshold=0.5)
        default = mem.member_features(cutoff)
    for name in ("completion_rate", "completions_period"):
        np.testing.assert_allclose(a[name].to_numpy(float), b[name].to_numpy(float), **FLOAT64)
    assert (a["completion_rate"].fillna(0) >= default["completion_rate"].fillna(0)).all()
    assert a["completion_rate"].sum() > default["completion_rate"].sum()
