"""`open_logs` reads a table on first use; `Logs.read_sample` reads the rows `sample_log` keeps.

A small simulated world (200 members over 6 days) exported as a day-partitioned store and as
single CSV files; the sample caps bind on members, on days, on both and on neither.
"""

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import SchemaError, load_logs, open_logs, sample_log
from persona_lib.sim import export_logs, load_preset, simulate


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder_logs")
    world = simulate(load_preset("smoke").replace(n_users=200, n_days=6))
    export_logs(world, root / "store", layout="store")
    export_logs(world, root / "csv", format="csv")
    return root


@pytest.fixture(scope="module")
def whole(folders):
    return {layout: load_logs(folders / layout) for layout in ("store", "csv")}


def test_open_logs_reads_nothing_until_a_table_is_used(folders):
    logs = open_logs(folders / "store")
    assert logs._frames == {}
    assert logs.table_names[:4] == ("events", "titles", "artworks", "users")
    assert logs.require("events", "users") is logs and logs._frames == {}  # presence only
    assert logs.assignments is None and logs._frames == {}
    users = logs.users
    assert set(logs._frames) == {"users"} and len(users) == 200
    assert logs.is_store and not logs.has_truth


def test_open_logs_equals_load_logs(folders, whole):
    lazy, eager = open_logs(folders / "csv"), whole["csv"]
    for name in eager.tables:
        pd.testing.assert_frame_equal(getattr(lazy, name), getattr(eager, name))
    assert lazy.summary == eager.summary


@pytest.mark.parametrize("layout", ["store", "csv"])
@pytest.mark.parametrize("caps", [(60, 3, 1), (60, None, 2), (5000, 2, 0), (5000, 99, 0)])
def test_read_sample_is_sample_log_of_the_whole_log(folders, whole, layout, caps):
    whole = whole[layout]
    expected = sample_log(whole.events, *caps).reset_index(drop=True)
    logs = open_logs(folders / layout)
    events, propensities = logs.read_sample(*caps)
    pd.testing.assert_frame_equal(events, expected)
    keep = np.isin(whole.propensities["event_id"], expected["event_id"])
    pd.testing.assert_frame_equal(propensities, whole.propensities[keep].reset_index(drop=True))
    if layout == "store" and caps[0] < 200:
        assert "events" not in logs._frames  # the store was never loaded whole
        drawn = events["user_id"].nunique()  # members without a session in the days drop out
        assert drawn == caps[0] if caps[1] is None else 0 < drawn <= caps[0]


def test_read_sample_without_events_and_bad_caps(folders, tmp_path):
    (tmp_path / "users.parquet").write_bytes((folders / "store" / "users.parquet").read_bytes())
    assert open_logs(tmp_path).read_sample(10, 2) == (None, None)
    with pytest.raises(ValueError, match="max_members"):
        open_logs(folders / "store").read_sample(0, 2)


def test_a_bad_table_fails_when_first_used_with_the_file_named(folders, tmp_path):
    for f in (folders / "csv").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    users = pd.read_csv(tmp_path / "users.csv", dtype=str)
    users.loc[3, "signup_ts"] = "yesterday"
    users.to_csv(tmp_path / "users.csv", index=False)
    logs = open_logs(tmp_path)  # finding the tables reads no values
    assert logs.titles is not None
    with pytest.raises(SchemaError, match=r"users\.csv.*signup_ts"):
        _ = logs.users
