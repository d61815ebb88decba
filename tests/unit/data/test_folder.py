"""A folder of logs: the layouts (csv, csv.gz, parquet, pq, day store), the summary, load_logs
and the folder-level errors (each message names the file, and the column and rows if any)."""

import hashlib
import json
import re

import pandas as pd
import pytest

from persona_lib.data import (
    FOLDER_TABLES,
    SchemaError,
    find_tables,
    load_logs,
    validate,
    validate_folder,
    validate_world,
)


@pytest.fixture
def world(raw_world):
    return validate_world(raw_world())


def write(frame: pd.DataFrame, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def write_folder(folder, world, suffix=".csv"):
    for name, frame in world.items():
        write(frame, folder / f"{name}{suffix}")
    return folder


def write_store(folder, events):
    """events/day=YYYY-MM-DD/part-0.parquet by the date of ts."""
    day = events["ts"].dt.strftime("%Y-%m-%d")
    for date in sorted(day.unique()):
        write(events[day == date], folder / "events" / f"day={date}" / "part-0.parquet")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".pq"])
def test_every_file_layout_loads_the_canonical_tables(tmp_path, world, suffix):
    write_folder(tmp_path, world, suffix)
    logs = load_logs(tmp_path)
    assert list(logs.tables) == [t for t in FOLDER_TABLES if t in world]
    for name, frame in world.items():
        pd.testing.assert_frame_equal(getattr(logs, name), frame)
    assert logs.propensities is None and logs.campaigns is None
    assert logs.summary["events"].file == f"events{suffix}"
    assert logs.summary["events"].layout == "file"


def test_the_day_store_loads_like_one_file(tmp_path, world):
    shifted = world["events"]["ts"] + pd.to_timedelta([0, 0, 1, 2], "D")
    events = validate(world["events"].assign(ts=shifted), "events")
    write_folder(tmp_path, {k: v for k, v in world.items() if k != "events"})
    write_store(tmp_path, events)
    (tmp_path / "events" / "_SUCCESS").write_text("")  # what Spark leaves; skipped
    logs = load_logs(tmp_path)
    pd.testing.assert_frame_equal(logs.events, events)
    summary = logs.summary["events"]
    assert (summary.file, summary.layout, summary.rows) == ("events/", "store", 4)
    assert [f.name for f in (tmp_path / "events").glob("day=*")] != []
    parts = sorted(
        p.relative_to(tmp_path / "events").as_posix() for p in tmp_path.glob("events/day=*/*")
    )
    lines = "".join(
        f"{p}\0{hashlib.sha256((tmp_path / 'events' / p).read_bytes()).hexdigest()}\n"
        for p in parts
    )
    assert summary.sha256 == hashlib.sha256(lines.encode()).hexdigest()


def test_summary_is_json_safe_relative_and_hashes_the_bytes(tmp_path, world):
    write_folder(tmp_path, world)
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "export.json").write_text("{}")
    summary = validate_folder(tmp_path)
    assert summary.names == ["events", "titles", "artworks", "users", "billing", "notifications"]
    assert summary.ignored == ("README.md",)
    record = summary.to_dict()
    assert record["tables"]["users"] == {
        "file": "users.csv",
        "layout": "file",
        "rows": 2,
        "sha256": hashlib.sha256((tmp_path / "users.csv").read_bytes()).hexdigest(),
    }
    assert str(tmp_path) not in json.dumps(record)
    before = record["tables"]["users"]["sha256"]
    write(world["users"].assign(price=[1.0, 2.0]), tmp_path / "users.csv")
    assert validate_folder(tmp_path)["users"].sha256 != before


def test_load_logs_returns_the_tables_asked_for_checked_against_their_references(tmp_path, world):
    write_folder(tmp_path, world)
    logs = load_logs(tmp_path, tables=["billing"])
    assert set(logs.tables) == {"events", "billing"}
    assert "users" in logs.summary  # read to check billing's and events' user ids
    with pytest.raises(ValueError, match=r"unknown tables \['movies'\]"):
        load_logs(tmp_path, tables=["movies"])


def test_nothing_in_the_folder_is_written(tmp_path, world):
    write_folder(tmp_path, world, ".parquet")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    load_logs(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# --- errors ----------------------------------------------------------------------------------


def test_propensities_without_events_name_the_folder_and_list_what_was_found(tmp_path, world):
    propensities = pd.DataFrame({"event_id": [0, 1], "pscore": [0.5, 0.25]})
    write_folder(tmp_path, {"users": world["users"], "propensities": propensities})
    (tmp_path / "sessions.csv").write_text("a\n1\n")
    expected = (
        f"{tmp_path}: no events table; expected events.csv, events.csv.gz, events.parquet, "
        "events.pq or events/day=YYYY-MM-DD/*.parquet beside propensities.csv (column event_id "
        "refers to events.event_id); found: users.csv, propensities.csv, sessions.csv"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate_folder(tmp_path)


def test_a_folder_without_events_loads_and_require_names_them(tmp_path, world):
    write_folder(tmp_path, {"users": world["users"], "billing": world["billing"]}, ".parquet")
    (tmp_path / "sessions.csv").write_text("a\n1\n")
    assert validate_folder(tmp_path).names == ["users", "billing"]
    logs = load_logs(tmp_path)
    assert logs.events is None and not logs.is_store
    assert list(logs.tables) == ["users", "billing"]
    pd.testing.assert_frame_equal(logs.billing, world["billing"])
    assert load_logs(tmp_path, tables=["billing"]).users is None  # read for the check only
    expected = (
        f"{tmp_path}: 01_data_signals needs the tables events (<folder>/events.csv or "
        ".parquet); none found"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        logs.require("users", "events", who="01_data_signals")
    assert logs.require("users", "billing") is logs


def test_a_folder_without_any_table_names_what_was_found(tmp_path):
    (tmp_path / "sessions.csv").write_text("a\n1\n")
    expected = (
        f"{tmp_path}: no table; expected at least one of events, titles, artworks, users, "
        "billing, notifications, propensities, assignments, outcomes, campaigns as "
        "<table>.csv, .csv.gz, .parquet or .pq (events and propensities also as "
        "<table>/day=YYYY-MM-DD/*.parquet); found: sessions.csv"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate_folder(tmp_path)
    (tmp_path / "sessions.csv").unlink()
    with pytest.raises(SchemaError, match=r"; found: nothing$"):
        load_logs(tmp_path)


def test_two_files_for_one_table_name_both(tmp_path, world):
    write_folder(tmp_path, world)
    write_store(tmp_path, world["events"])
    expected = f"{tmp_path}: two files for table 'events': events/ and events.csv; keep one"
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        find_tables(tmp_path)


def test_a_csv_with_a_wrong_dtype_names_file_column_and_rows(tmp_path, world, raw_world):
    write_folder(tmp_path, world)
    write(raw_world()["users"].assign(price=["9.99", "free"]), tmp_path / "users.csv")
    expected = (
        f"{tmp_path / 'users.csv'}: table 'users', column 'price': cannot parse 'free' as "
        "float32 in rows [1] (1 row)"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        load_logs(tmp_path)


def test_duplicate_event_ids_and_unknown_members(tmp_path, world):
    write_folder(tmp_path, world)
    write(world["events"].assign(event_id=[0, 1, 1, 3]), tmp_path / "events.csv")
    with pytest.raises(SchemaError, match=r"events\.csv: table 'events', column 'event_id': "
                       r"duplicate key 1 in rows \[1, 2\] \(2 rows\)$"):  # fmt: skip
        validate_folder(tmp_path)
    write(world["events"].assign(user_id=[0, 0, 9, 1]), tmp_path / "events.csv")
    unknown = r"column 'user_id': value 9 not found in users\.user_id in rows \[2\] \(1 row\)$"
    with pytest.raises(SchemaError, match=r"events\.csv: table 'events', " + unknown):
        validate_folder(tmp_path)
    (tmp_path / "users.csv").unlink()  # without users, any member id is accepted
    assert validate_folder(tmp_path)["events"].rows == 4


def test_empty_events_files(tmp_path, world):
    write_folder(tmp_path, world)
    write(world["events"].iloc[:0], tmp_path / "events.csv")
    expected = (
        f"{tmp_path / 'events.csv'}: table 'events': no rows; the folder needs at least one event"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate_folder(tmp_path)
    (tmp_path / "events.csv").write_text("")
    expected = f"{tmp_path / 'events.csv'}: cannot read as CSV: empty file, no header line"
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate_folder(tmp_path)


def test_store_rows_are_labelled_by_partition_file(tmp_path, world):
    write_folder(tmp_path, {k: v for k, v in world.items() if k != "events"})
    write_store(tmp_path, world["events"].assign(user_id=[0, 0, 1, 5]))
    expected = (
        f"{tmp_path / 'events'}: table 'events', column 'user_id': value 5 not found in "
        "users.user_id in rows [('day=2024-01-01/part-0.parquet', 3)] (1 row)"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate_folder(tmp_path)


def test_store_events_must_sit_in_their_own_day(tmp_path, world):
    write(world["events"], tmp_path / "events" / "day=2024-01-02" / "part-0.parquet")
    start = re.escape("events: table 'events', column 'ts': timestamp 2024-01-01 10:00:00, ")
    rows = r" outside its day= partition in rows \[\('day=2024-01-02/part-0\.parquet', 0\), "
    with pytest.raises(SchemaError, match=start + ".*" + rows):
        validate_folder(tmp_path)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("events/2024-01-01/part-0.parquet", "not a day=YYYY-MM-DD partition of the events store"),
        ("events/day=2024-13-01/part-0.parquet", "not a day=YYYY-MM-DD partition"),
        ("events/day=2024-01-01/part-0.csv", "a events partition holds only *.parquet files"),
        ("users/day=2024-01-01/part-0.parquet", "a folder; table 'users' must be one file"),
        ("users.xlsx", "unsupported file type for table 'users'; expected users.csv, "),
    ],
)
def test_malformed_layouts(tmp_path, world, path, problem):
    write_folder(tmp_path, {"events": world["events"]})
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("x")
    with pytest.raises(SchemaError, match=re.escape(problem)):
        validate_folder(tmp_path)


def test_not_a_folder(tmp_path):
    with pytest.raises(NotADirectoryError, match="no such folder"):
        validate_folder(tmp_path / "nowhere")


def test_store_keys_are_checked_across_partitions(tmp_path, world):
    # two events on different days with one event_id: each partition alone is fine
    shifted = world["events"]["ts"] + pd.to_timedelta([0, 0, 1, 2], "D")
    events = world["events"].assign(ts=shifted)
    events.loc[3, "event_id"] = events.loc[0, "event_id"]
    write_folder(tmp_path, {k: v for k, v in world.items() if k != "events"})
    write_store(tmp_path, events)
    first = events.loc[0, "ts"].strftime("%Y-%m-%d")
    last = events.loc[3, "ts"].strftime("%Y-%m-%d")
    expected = (
        f"{tmp_path / 'events'}: table 'events', column 'event_id': duplicate key "
        f"{events.loc[0, 'event_id']} in rows [('day={first}/part-0.parquet', 0), "
        f"('day={last}/part-0.parquet', 0)] (2 rows)"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected)):
        validate_folder(tmp_path)
    with pytest.raises(SchemaError, match="duplicate key"):
        load_logs(tmp_path)  # the whole-table reader says the same
