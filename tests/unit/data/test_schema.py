"""validate / validate_world: canonical dtypes on success, one pinned message per problem."""

import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import (
    DEVICES,
    EVENT_TYPES,
    GENRES,
    MAX_WATCH_S,
    NO_ARTWORK,
    TABLES,
    TS_UNIT,
    SchemaError,
    canonical_dtype,
    validate,
    validate_world,
)


@pytest.fixture
def events(raw_world):
    """Build the raw events table with some columns replaced: ``events(ts=[...])``."""

    def make(**changes) -> pd.DataFrame:
        return raw_world()["events"].assign(**changes)

    return make


def message(column: str, problem: str, rows: str, hint: str = "", table="events") -> str:
    """The exact message, as a regex, for source "ev.csv"."""
    text = f"ev.csv: table '{table}', column '{column}': {problem} in rows {rows}"
    return "^" + re.escape(text + (f"; {hint}" if hint else "")) + "$"


# --- success -----------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_coerces_to_the_canonical_dtypes(table, raw_world):
    out = validate_world(raw_world())[table]
    spec = TABLES[table]
    assert list(out.columns) == spec.names
    for col in spec.columns:
        expected = canonical_dtype(col)
        if expected == "category":
            assert isinstance(out[col.name].dtype, pd.CategoricalDtype)
        else:
            assert out[col.name].dtype == expected, col.name


def test_dtype_details(raw_world, events):
    out = validate(events(), "events")
    assert out["ts"].dtype == np.dtype(f"datetime64[{TS_UNIT}]")
    assert out["device"].dtype == pd.CategoricalDtype(DEVICES)
    assert out["event_type"].dtype == pd.CategoricalDtype(EVENT_TYPES)
    assert out["row_id"].cat.categories.tolist() == ["genre:Drama", "popular", "search"]
    assert out["watch_s"].isna().tolist() == [True, True, True, False]
    assert out["watch_s"].iloc[3] == np.float32(1834.5)
    assert out["artwork_id"].tolist() == [0, 1, 2, NO_ARTWORK]
    titles = validate(raw_world()["titles"], "titles")
    assert titles["name"].dtype == "str"
    assert titles["name"].tolist()[1] == "NA"


def test_booleans_accept_bools_01_and_words_in_any_case(raw_world):
    artworks = validate(raw_world()["artworks"], "artworks")
    assert artworks["face"].tolist() == [True, False, True]
    assert artworks["text"].tolist() == [False, False, False]
    typed = raw_world()["artworks"].assign(face=[True, False, True], smile=[1, 0, 1])
    out = validate(typed, "artworks")
    assert out["face"].tolist() == out["smile"].tolist() == [True, False, True]


def test_timestamps_aware_are_converted_to_naive_utc(events):
    moments = pd.Series(
        pd.to_datetime([f"2024-01-01 1{h}:00" for h in range(2, 6)])
    ).dt.tz_localize("Europe/Paris")
    out = validate(events(ts=moments), "events")
    assert out["ts"].dtype == f"datetime64[{TS_UNIT}]"
    assert str(out["ts"].iloc[0]) == "2024-01-01 11:00:00"
    strings = [
        "2024-01-01T12:00:00+01:00",
        "2024-01-01T11:00:00Z",
        "2024-01-01 11:00",
        "2024-01-01",
    ]
    out = validate(events(ts=strings), "events")
    assert [str(t) for t in out["ts"]] == [
        "2024-01-01 11:00:00",
        "2024-01-01 11:00:00",
        "2024-01-01 11:00:00",
        "2024-01-01 00:00:00",
    ]
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    out = validate(events(ts=[aware] * 4).assign(event_id=range(4)), "events")
    assert str(out["ts"].iloc[0]) == "2024-01-01 10:00:00"


def test_timestamps_in_other_resolutions_become_milliseconds(events):
    ns = pd.Series(pd.to_datetime(["2024-01-01 00:00:00.123456789"] * 4)).astype("datetime64[ns]")
    out = validate(events(ts=ns), "events")
    assert out["ts"].dtype == f"datetime64[{TS_UNIT}]"
    assert str(out["ts"].iloc[0]) == "2024-01-01 00:00:00.123000"


def test_canonical_input_round_trips_unchanged(events):
    once = validate(events(), "events")
    twice = validate(once, "events")
    pd.testing.assert_frame_equal(once, twice)


def test_extra_columns_follow_and_index_is_kept(events):
    frame = events(note=list("abcd"))
    frame.insert(0, "first_extra", [1, 2, 3, 4])
    frame.index = [10, 20, 30, 40]
    out = validate(frame, "events")
    assert list(out.columns) == TABLES["events"].names + ["first_extra", "note"]
    assert out.index.tolist() == [10, 20, 30, 40]
    assert out["note"].tolist() == list("abcd")


def test_input_frame_is_not_mutated(events):
    frame = events()
    before = frame.copy(deep=True)
    out = validate(frame, "events")
    out.loc[out.index[0], "event_id"] = 99
    pd.testing.assert_frame_equal(frame, before)
    canonical = validate(before, "events")
    snapshot = canonical.copy(deep=True)
    out = validate(canonical, "events")
    out.loc[out.index[0], "dwell_ms"] = 7
    pd.testing.assert_frame_equal(canonical, snapshot)


def test_categorical_input_with_other_category_order_is_recoded(events):
    device = pd.Categorical(["web", "tv", "web", "tv"], categories=["web", "tv"])
    row_id = pd.Categorical(["b", "a", "a", "b"], categories=["b", "a", "unused"])
    out = validate(events(device=device, row_id=row_id), "events")
    assert out["device"].dtype == pd.CategoricalDtype(DEVICES)
    assert out["device"].tolist() == ["web", "tv", "web", "tv"]
    assert out["row_id"].cat.categories.tolist() == ["a", "b"]
    assert out["row_id"].tolist() == ["b", "a", "a", "b"]


def test_window_accepts_timestamps_inside_half_open_interval(events):
    out = validate(events(), "events", window=("2024-01-01 10:00", "2024-01-01 10:03:00.001"))
    assert len(out) == 4


def test_references_allow_no_artwork(raw_world, events):
    world = validate_world(raw_world())
    refs = {k: world[k] for k in ("users", "titles", "artworks")}
    out = validate(events(), "events", references=refs)
    assert (out["artwork_id"] == NO_ARTWORK).sum() == 1


def test_validate_world_keeps_order_and_checks_references(raw_world, events):
    raw = raw_world()
    out = validate_world({"events": raw["events"], "users": raw["users"]})
    assert list(out) == ["events", "users"]
    bad = raw | {"events": events(user_id=["0", "0", "1", "7"])}
    with pytest.raises(SchemaError, match=r"^w: table 'events', column 'user_id': value 7 "):
        validate_world(bad, source="w")


# --- every error message ----------------------------------------------------------------


def test_missing_columns(events):
    with pytest.raises(SchemaError, match=r"^ev\.csv: table 'events', column 'ts': missing; "):
        validate(events().drop(columns="ts"), "events", "ev.csv")
    frame = pd.DataFrame({"user_id": ["1"], "extra": ["x"]})
    expected = (
        "u.csv: table 'billing', columns 'period_start', 'plan', 'price', 'status': missing; "
        "found columns: user_id, extra"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate(frame, "billing", "u.csv")


def test_unknown_table_and_not_a_frame(events):
    with pytest.raises(SchemaError, match=r"^x\.csv: unknown table 'movies'; known: titles, "):
        validate(events(), "movies", "x.csv")
    with pytest.raises(SchemaError, match=r"^<world>: unknown table 'movies'; known: titles, "):
        validate_world({"movies": events()})
    with pytest.raises(TypeError, match="expected a pandas DataFrame, got dict"):
        validate({"a": [1]}, "events")


@pytest.mark.parametrize(
    ("changes", "column", "problem", "rows"),
    [
        ({"event_id": ["0", "abc", "2", "x1"]}, "event_id", "cannot parse 'abc', 'x1' as int32",
         "[1, 3] (2 rows)"),
        ({"event_id": ["0", "1.5", "2", "3"]}, "event_id", "non-integer value 1.5 (expected int32)",
         "[1] (1 row)"),
        ({"event_id": ["0", "1", "2", "3000000000"]}, "event_id",
         "value 3000000000 does not fit int32 [-2147483648, 2147483647]", "[3] (1 row)"),
        ({"ts": ["2024-01-01", "yesterday", "2024-02-30", "2024-01-02"]}, "ts",
         "cannot parse 'yesterday', '2024-02-30' as a timestamp", "[1, 2] (2 rows)"),
        ({"user_id": ["0", None, "1", "1"]}, "user_id", "null value", "[1] (1 row)"),
        ({"row_id": ["a", "b", None, "c"]}, "row_id", "null value", "[2] (1 row)"),
        ({"ts": ["2024-01-01", None, "2024-01-01", "2024-01-01"]}, "ts", "null value",
         "[1] (1 row)"),
        ({"device": ["tv", None, "tv", "tv"]}, "device", "null value", "[1] (1 row)"),
        ({"watch_s": ["-1", None, None, "1"]}, "watch_s", "value -1 below minimum 0",
         "[0] (1 row)"),
        ({"watch_s": [str(MAX_WATCH_S + 1), None, None, "1"]}, "watch_s",
         f"value {MAX_WATCH_S + 1} above maximum {MAX_WATCH_S}", "[0] (1 row)"),
        ({"row_position": ["0", "-2", "0", "0"]}, "row_position", "value -2 below minimum 0",
         "[1] (1 row)"),
        ({"col_position": ["0", "0", "200", "0"]}, "col_position",
         "value 200 does not fit int8 [-128, 127]", "[2] (1 row)"),
        ({"dwell_ms": ["0", "70000", "0", "65536"]}, "dwell_ms",
         "value 70000, 65536 above maximum 65535", "[1, 3] (2 rows)"),
        ({"artwork_id": ["0", "-2", "0", "0"]}, "artwork_id", "value -2 below minimum -1",
         "[1] (1 row)"),
    ],
)  # fmt: skip
def test_column_errors(changes, column, problem, rows, events):
    with pytest.raises(SchemaError, match=message(column, problem, rows)):
        validate(events(**changes), "events", "ev.csv")


def test_unknown_category_lists_allowed_values(events):
    hint = "allowed: " + ", ".join(EVENT_TYPES)
    expected = message("event_type", "unknown category 'purchase'", "[1, 3] (2 rows)", hint)
    with pytest.raises(SchemaError, match=expected):
        validate(events(event_type=["click", "purchase", "click", "purchase"]), "events", "ev.csv")
    expected = message("device", "unknown category 'TV'", "[0] (1 row)", "allowed: tv, mobile, ")
    with pytest.raises(SchemaError, match=expected.rstrip("$")):
        validate(events(device=["TV", "tv", "tv", "tv"]), "events", "ev.csv")


HINT_ISO = "write ISO 8601 strings, e.g. 2024-01-31 18:00"


@pytest.mark.parametrize(
    ("ts", "values"),
    [
        (["1704067200000", "2024-01-01", "1704067200", "2024-01-01"],
         "'1704067200000', '1704067200'"),
        (np.array([1704067200000, "2024-01-01", 1704067200, "2024-01-01"], dtype=object),
         "1704067200000, 1704067200"),
    ],
    ids=["strings", "object"],
)  # fmt: skip
def test_integers_are_not_timestamps(ts, values, events):
    expected = message("ts", f"number {values} is not a timestamp", "[0, 2] (2 rows)", HINT_ISO)
    with pytest.raises(SchemaError, match=expected):
        validate(events(ts=ts), "events", "ev.csv")


def test_integer_columns_are_not_timestamps(events):
    ts = np.array([1704067200000, 1, 1704067200, 1], dtype="int64")
    values = "1704067200000, 1, 1704067200"
    expected = message(
        "ts", f"number {values} is not a timestamp", "[0, 1, 2, 3] (4 rows)", HINT_ISO
    )
    with pytest.raises(SchemaError, match=expected):
        validate(events(ts=ts), "events", "ev.csv")


def test_bool_errors(raw_world):
    expected = message(
        "face",
        "cannot parse 'yes' as bool",
        "[2] (1 row)",
        "use true/false or 1/0",
        table="artworks",
    )
    with pytest.raises(SchemaError, match=expected):
        validate(raw_world()["artworks"].assign(face=["1", "0", "yes"]), "artworks", "ev.csv")
    expected = message(
        "smile", "cannot parse 2 as bool", "[0] (1 row)", "use true/false or 1/0", table="artworks"
    )
    with pytest.raises(SchemaError, match=expected):
        validate(raw_world()["artworks"].assign(smile=[2, 0, 1]), "artworks", "ev.csv")


def test_other_tables_ranges_and_nulls(raw_world):
    notifications = raw_world()["notifications"].assign(hour=["24", "-1"])
    expected = message("hour", "value -1 below minimum 0", "[1] (1 row)", table="notifications")
    with pytest.raises(SchemaError, match=expected):
        validate(notifications, "notifications", "ev.csv")
    notifications = raw_world()["notifications"].assign(hour=["24", "3"])
    expected = message("hour", "value 24 above maximum 23", "[0] (1 row)", table="notifications")
    with pytest.raises(SchemaError, match=expected):
        validate(notifications, "notifications", "ev.csv")
    titles = raw_world()["titles"].assign(synopsis=["x", None, "y"])
    with pytest.raises(
        SchemaError, match=message("synopsis", "null value", "[1] (1 row)", table="titles")
    ):
        validate(titles, "titles", "ev.csv")


def test_rows_are_truncated_to_five_and_use_index_labels(events):
    frame = pd.concat([events()] * 3, ignore_index=True)
    frame["event_id"] = [str(i) for i in range(12)]
    frame["device"] = ["phone"] * 12
    frame.index = [f"r{i}" for i in range(12)]
    expected = message(
        "device",
        "unknown category 'phone'",
        "['r0', 'r1', 'r2', 'r3', 'r4', ...] (12 rows)",
        "allowed: tv, mobile",
    )
    with pytest.raises(SchemaError, match=expected.rstrip("$")):
        validate(frame, "events", "ev.csv")
    frame.index = range(100, 112)
    frame["device"] = "tv"
    frame["event_id"] = ["a", "1", "b", "c", "d", "e", "f", "g", "2", "3", "4", "5"]
    expected = message(
        "event_id",
        "cannot parse 'a', 'b', 'c', 'd', 'e', ... as int32",
        "[100, 102, 103, 104, 105, ...] (7 rows)",
    )
    with pytest.raises(SchemaError, match=expected):
        validate(frame, "events", "ev.csv")


def test_window(raw_world, events):
    window = ("2024-01-01 10:01", "2024-01-01 10:03")
    problem = (
        "timestamp 2024-01-01 10:00:00, 2024-01-01 10:03:00 outside window "
        "[2024-01-01 10:01:00, 2024-01-01 10:03:00)"
    )
    with pytest.raises(SchemaError, match=message("ts", problem, "[0, 3] (2 rows)")):
        validate(events(), "events", "ev.csv", window=window)
    billing = raw_world()["billing"]
    problem = (
        "timestamp 2024-01-01 00:00:00 outside window [2024-02-01 00:00:00, 2024-03-01 00:00:00)"
    )
    with pytest.raises(
        SchemaError, match=message("period_start", problem, "[0, 1] (2 rows)", table="billing")
    ):
        validate(billing, "billing", "ev.csv", window=("2024-02-01", "2024-03-01"))
    assert len(validate(raw_world()["users"], "users", window=("2030-01-01", "2031-01-01"))) == 2


def test_duplicate_keys(raw_world, events):
    expected = message("event_id", "duplicate key 1", "[1, 3] (2 rows)")
    with pytest.raises(SchemaError, match=expected):
        validate(events(event_id=["0", "1", "2", "1"]), "events", "ev.csv")
    billing = raw_world()["billing"].assign(user_id=["1", "1"])
    expected = (
        "ev.csv: table 'billing', columns 'user_id', 'period_start': "
        "duplicate key (1, 2024-01-01 00:00:00) in rows [0, 1] (2 rows)"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate(billing, "billing", "ev.csv")
    notifications = raw_world()["notifications"].assign(user_id=["1", "1"])
    with pytest.raises(SchemaError, match=r"columns 'user_id', 'ts': duplicate key \(1, "):
        validate(notifications, "notifications", "ev.csv")


def test_references(raw_world, events):
    world = validate_world(raw_world())
    refs = {k: world[k] for k in ("users", "titles", "artworks")}
    cases = [
        ({"user_id": ["0", "5", "1", "1"]}, "user_id", "value 5 not found in users.user_id"),
        ({"title_id": ["0", "0", "9", "2"]}, "title_id", "value 9 not found in titles.title_id"),
        ({"artwork_id": ["0", "7", "2", "-1"]}, "artwork_id",
         "value 7 not found in artworks.artwork_id"),
    ]  # fmt: skip
    for changes, column, problem in cases:
        row = "[1] (1 row)" if column != "title_id" else "[2] (1 row)"
        with pytest.raises(SchemaError, match=message(column, problem, row)):
            validate(events(**changes), "events", "ev.csv", references=refs)
    artworks = raw_world()["artworks"].assign(title_id=["0", "3", "1"])
    expected = message(
        "title_id", "value 3 not found in titles.title_id", "[1] (1 row)", table="artworks"
    )
    with pytest.raises(SchemaError, match=expected):
        validate(artworks, "artworks", "ev.csv", references={"titles": world["titles"]})
    expected = "column 'user_id': referenced table 'users' has no column 'user_id'$"
    with pytest.raises(SchemaError, match=expected):
        validate(events(), "events", "ev.csv", references={"users": pd.DataFrame({"id": [0]})})


def test_genres_must_be_known(raw_world):
    titles = raw_world()["titles"].assign(genres=["Drama|Western", "Comedy", "Opera|Drama"])
    expected = message(
        "genres",
        "unknown genre 'Western', 'Opera'",
        "[0, 2] (2 rows)",
        "allowed: " + ", ".join(GENRES),
        table="titles",
    )
    with pytest.raises(SchemaError, match=expected):
        validate(titles, "titles", "ev.csv")
