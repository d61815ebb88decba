"""load_table / load_events: CSV and Parquet round trips, files left untouched, clear errors."""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from persona_lib.data import SchemaError, load_events, load_table, validate, validate_world


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def world(raw_world) -> dict[str, pd.DataFrame]:
    return validate_world(raw_world())


@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz", "EVENTS.CSV"])
def test_csv_round_trip_leaves_the_file_unchanged(tmp_path, world, name):
    path = tmp_path / name
    world["events"].to_csv(path, index=False)
    before = digest(path)
    out = load_events(path)
    pd.testing.assert_frame_equal(out, world["events"])
    assert digest(path) == before


@pytest.mark.parametrize("name", ["events.parquet", "events.pq"])
def test_parquet_round_trip_leaves_the_file_unchanged(tmp_path, world, name):
    path = tmp_path / name
    world["events"].to_parquet(path, index=False)
    before = digest(path)
    out = load_table(str(path), "events")
    pd.testing.assert_frame_equal(out, world["events"])
    assert digest(path) == before


@pytest.mark.parametrize("table", ["titles", "artworks", "users", "billing", "notifications"])
def test_every_table_round_trips_through_csv_and_parquet(tmp_path, world, table):
    world[table].to_csv(tmp_path / "t.csv", index=False)
    world[table].to_parquet(tmp_path / "t.parquet", index=False)
    pd.testing.assert_frame_equal(load_table(tmp_path / "t.csv", table), world[table])
    pd.testing.assert_frame_equal(load_table(tmp_path / "t.parquet", table), world[table])


def test_raw_strings_in_parquet_are_coerced(tmp_path, world, raw_world):
    path = tmp_path / "events.parquet"
    raw_world()["events"].to_parquet(path, index=False)
    pd.testing.assert_frame_equal(load_events(path), world["events"])


def test_only_empty_csv_cells_are_null(tmp_path, raw_world):
    path = tmp_path / "titles.csv"
    raw_world()["titles"].to_csv(path, index=False)
    assert load_table(path, "titles")["name"].tolist() == ["Night Shift", "NA", "Blue Coast"]
    raw_world()["titles"].assign(synopsis=["x", "", "y"]).to_csv(path, index=False)
    expected = f"{path}: table 'titles', column 'synopsis': null value in rows [1] (1 row)"
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        load_table(path, "titles")


def test_csv_errors_name_the_path_and_data_rows(tmp_path, raw_world):
    path = tmp_path / "events.csv"
    raw_world()["events"].assign(event_type=["click", "purchase", "click", "click"]).to_csv(
        path, index=False
    )
    before = digest(path)
    expected = (
        f"{path}: table 'events', column 'event_type': unknown category 'purchase' "
        "in rows [1] (1 row); allowed: impression, hover, "
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected)):
        load_events(path)
    assert digest(path) == before


def test_window_and_references_are_passed_on(tmp_path, world):
    path = tmp_path / "events.csv"
    world["events"].to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"column 'ts': timestamp .* outside window"):
        load_events(path, window=("2024-01-01 10:02", "2024-02-01"))
    with pytest.raises(SchemaError, match=r"column 'user_id': value 1 not found in users\.user_id"):
        load_events(path, references={"users": world["users"].iloc[:1]})
    refs = {k: world[k] for k in ("users", "titles", "artworks")}
    assert len(load_events(path, window=("2024-01-01", "2024-01-02"), references=refs)) == 4


def test_unsupported_suffix_and_missing_file(tmp_path):
    path = tmp_path / "events.json"
    path.write_text("{}")
    expected = f"{path}: unsupported file type; expected one of .csv, .csv.gz, .parquet, .pq"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        load_events(path)
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="^" + re.escape(f"{missing}: no such file") + "$"):
        load_events(missing)


def test_unreadable_files_raise_schema_errors(tmp_path):
    path = tmp_path / "events.parquet"
    path.write_text("not parquet")
    with pytest.raises(SchemaError, match="^" + re.escape(f"{path}: cannot read as Parquet: ")):
        load_events(path)
    empty = tmp_path / "events.csv"
    empty.write_text("")
    with pytest.raises(SchemaError, match="^" + re.escape(f"{empty}: cannot read as CSV: ")):
        load_events(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("event_id,ts\n")
    with pytest.raises(SchemaError, match=re.escape(f"{header_only}: table 'events', columns ")):
        load_events(header_only)


def test_header_only_csv_gives_an_empty_canonical_table(tmp_path, world):
    path = tmp_path / "events.csv"
    world["events"].iloc[:0].to_csv(path, index=False)
    out = load_events(path)
    assert len(out) == 0
    expected = validate(world["events"], "events").dtypes.astype(str)
    pd.testing.assert_series_equal(out.dtypes.astype(str), expected)  # row_id: no categories
