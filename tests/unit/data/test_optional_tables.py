"""The optional tables (propensities, assignments, outcomes, campaigns): canonical dtypes on
success, one pinned message per problem, and their place in a folder of logs."""

import re

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import (
    ALL_TABLES,
    OPTIONAL_TABLES,
    TABLES,
    SchemaError,
    canonical_dtype,
    load_logs,
    validate,
    validate_world,
)


def raw_optional() -> dict[str, pd.DataFrame]:
    """Text cells, as a CSV reader gives them, for the tiny world of ``raw_world``."""
    return {
        "propensities": pd.DataFrame({"event_id": ["0", "2"], "pscore": ["0.25", "1"]}),
        "assignments": pd.DataFrame(
            {
                "user_id": ["0", "1", "1"],
                "experiment": ["new_row", "new_row", "artwork"],
                "variant": ["control", "treatment", "B"],
                "assigned_ts": ["2024-01-01 09:00", "2024-01-01 09:30", "2024-01-02"],
            }
        ),
        "outcomes": pd.DataFrame(
            {
                "user_id": ["0", "1"],
                "hours": ["2.5", "0"],
                "plays": ["3", "0"],
                "kept": ["TRUE", "false"],
            }
        ),
        "campaigns": pd.DataFrame(
            {
                "user_id": ["0", "1"],
                "campaign": ["spring_upgrade", "spring_upgrade"],
                "arm": ["offer", "holdout"],
                "ts": ["2024-01-03 12:00", "2024-01-03 12:00"],
                "converted": ["1", "0"],
                "revenue": ["7.0", "0"],
            }
        ),
    }


def message(table: str, column: str, problem: str, rows: str, hint: str = "") -> str:
    text = f"t.csv: table '{table}', column '{column}': {problem} in rows {rows}"
    return "^" + re.escape(text + (f"; {hint}" if hint else "")) + "$"


def test_the_optional_tables_are_apart_from_the_logs_every_world_has():
    assert set(OPTIONAL_TABLES) == {"propensities", "assignments", "outcomes", "campaigns"}
    assert ALL_TABLES == {**TABLES, **OPTIONAL_TABLES}
    assert not set(TABLES) & set(OPTIONAL_TABLES)


@pytest.mark.parametrize("table", list(OPTIONAL_TABLES))
def test_optional_tables_coerce_to_the_canonical_dtypes(table, raw_world):
    out = validate_world({**raw_world(), **raw_optional()})[table]
    spec = OPTIONAL_TABLES[table]
    for col in spec.columns:
        assert out[col.name].dtype == canonical_dtype(col), col.name
    assert list(out.columns[: len(spec.names)]) == spec.names


def test_outcomes_metrics_become_numbers_and_bools():
    out = validate(raw_optional()["outcomes"], "outcomes")
    assert out.dtypes.astype(str).to_dict() == {
        "user_id": "int32", "hours": "float64", "plays": "int64", "kept": "bool",
    }  # fmt: skip
    assert out["kept"].tolist() == [True, False]
    typed = pd.DataFrame({"user_id": [0], "n": pd.array([2], dtype="Int64"), "x": [np.float32(1)]})
    assert validate(typed, "outcomes").dtypes.astype(str).tolist() == ["int32", "int64", "float32"]


def test_campaign_values(raw_world):
    out = validate(raw_optional()["campaigns"], "campaigns")
    assert out["converted"].tolist() == [True, False]
    assert out["revenue"].tolist() == [7.0, 0.0]
    assert out["ts"].dtype == np.dtype("datetime64[ms]")


@pytest.mark.parametrize(
    ("table", "changes", "pattern"),
    [
        ("outcomes", {"when": ["2024-01-01", "x"]},
         message("outcomes", "when", "cannot parse '2024-01-01', 'x' as a number or bool",
                 "[0, 1] (2 rows)", "metric columns hold numbers or true/false")),
        ("outcomes", {"when": pd.to_datetime(["2024-01-01", "2024-01-02"])},
         message("outcomes", "when", "dtype datetime64[us] is not numeric or bool",
                 "[0, 1] (2 rows)", "metric columns hold numbers or bools")),
        ("outcomes", {"hours": ["2.5", None]},
         message("outcomes", "hours", "null value", "[1] (1 row)")),
        ("campaigns", {"revenue": ["7.0", "-1"]},
         message("campaigns", "revenue", "value -1 below minimum 0", "[1] (1 row)")),
        ("campaigns", {"converted": ["yes", "0"]},
         message("campaigns", "converted", "cannot parse 'yes' as bool", "[0] (1 row)",
                 "use true/false or 1/0")),
        ("assignments", {"assigned_ts": ["soon", "2024-01-01", "2024-01-01"]},
         message("assignments", "assigned_ts", "cannot parse 'soon' as a timestamp",
                 "[0] (1 row)")),
        ("assignments", {"experiment": ["new_row", "new_row", "new_row"]},
         r"^t\.csv: table 'assignments', columns 'user_id', 'experiment': duplicate key "
         r"\(1, 'new_row'\) in rows \[1, 2\] \(2 rows\)$"),
        ("propensities", {"pscore": ["0.25", "1.5"]},
         message("propensities", "pscore", "value 1.5 above maximum 1", "[1] (1 row)")),
    ],
)  # fmt: skip
def test_optional_table_errors(table, changes, pattern):
    frame = raw_optional()[table].assign(**changes)
    with pytest.raises(SchemaError, match=pattern):
        validate(frame, table, "t.csv")


def test_outcomes_need_a_metric_column():
    expected = (
        "t.csv: table 'outcomes': no metric column besides 'user_id'; "
        "add at least one numeric or bool column"
    )
    with pytest.raises(SchemaError, match="^" + re.escape(expected) + "$"):
        validate(pd.DataFrame({"user_id": ["0"]}), "outcomes", "t.csv")


def test_references_to_members_and_events(raw_world):
    world = {**raw_world(), **raw_optional()}
    world["campaigns"] = world["campaigns"].assign(user_id=["0", "8"])
    with pytest.raises(SchemaError, match=r"column 'user_id': value 8 not found in users\.user_id"):
        validate_world(world)
    world = {**raw_world(), **raw_optional()}
    world["propensities"] = world["propensities"].assign(event_id=["0", "40"])
    with pytest.raises(SchemaError, match=r"value 40 not found in events\.event_id in rows \[1\]"):
        validate_world(world)


def test_a_folder_with_every_optional_table(tmp_path, raw_world):
    for name, frame in {**raw_world(), **raw_optional()}.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    logs = load_logs(tmp_path)
    assert set(logs.tables) == set(ALL_TABLES)
    assert logs.outcomes.columns.tolist() == ["user_id", "hours", "plays", "kept"]
    raw_optional()["outcomes"].assign(hours=["2.5", "lots"]).to_csv(
        tmp_path / "outcomes.csv", index=False
    )
    with pytest.raises(SchemaError, match=re.escape(
        f"{tmp_path / 'outcomes.csv'}: table 'outcomes', column 'hours': cannot parse 'lots'"
    )):  # fmt: skip
        load_logs(tmp_path)
