import pandas as pd
import pytest

from persona_lib.data.sampling import sample_log
from persona_lib.signals.window import LogWindow, billing_window, log_window


def _events(session_ids, stamps):
    return pd.DataFrame({"session_id": session_ids, "ts": pd.to_datetime(stamps)})


def test_window_spans_first_to_last_session_day():
    ev = _events([1, 1, 2], ["2025-01-01 08:00", "2025-01-01 09:00", "2025-01-03 23:59"])
    w = log_window(ev)
    assert w == LogWindow("2025-01-01", 3)
    assert w.start == pd.Timestamp("2025-01-01") and w.end == pd.Timestamp("2025-01-04")


def test_session_crossing_midnight_on_the_last_day_adds_no_day():
    ev = _events([1, 2, 2], ["2025-03-01 10:00", "2025-03-02 23:50", "2025-03-03 00:20"])
    assert log_window(ev) == LogWindow("2025-03-01", 2)


def test_one_session_is_one_day():
    assert log_window(_events([5], ["2024-02-29 12:00"])).n_days == 1


def test_invalid_inputs():
    with pytest.raises(ValueError, match="at least one timestamped event"):
        log_window(_events([], []))
    with pytest.raises(ValueError, match="positive integer"):
        LogWindow("2025-01-01", 0)
    with pytest.raises(ValueError):
        LogWindow("2025-13-01", 3)


def test_billing_window_spans_first_to_last_period_start_day():
    billing = pd.DataFrame({"period_start": pd.to_datetime(
        ["2017-12-01 00:00", "2017-10-01 06:00", None, "2017-11-01 00:00"])})  # fmt: skip
    w = billing_window(billing)
    assert w == LogWindow("2017-10-01", 62)  # Oct 1 through Dec 1
    assert w.end == pd.Timestamp("2017-12-02")
    assert billing_window(billing.iloc[:1]) == LogWindow("2017-12-01", 1)
    with pytest.raises(ValueError, match="at least one dated row"):
        billing_window(billing.iloc[2:3])


def _log():
    # members 0-3; sessions 1-6; session 5 starts on day 2 (Jan 2) late and runs past midnight
    return pd.DataFrame({
        "user_id": [0, 1, 2, 3, 0, 0, 1],
        "session_id": [1, 2, 3, 4, 5, 5, 6],
        "ts": pd.to_datetime(["2025-01-01 08:00", "2025-01-01 09:00", "2025-01-02 10:00",
                              "2025-01-02 11:00", "2025-01-02 23:50", "2025-01-03 00:20",
                              "2025-01-03 12:00"]),
    })  # fmt: skip


def test_sample_log_days_keep_whole_sessions():
    kept = sample_log(_log(), max_days=2)
    # days Jan 1 and Jan 2: session 5 started on Jan 2 and keeps its event after midnight
    assert kept["session_id"].tolist() == [1, 2, 3, 4, 5, 5]
    assert kept.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert sample_log(_log(), max_days=1)["session_id"].tolist() == [1, 2]


def test_sample_log_members_are_a_seeded_sample_of_whole_histories():
    log = _log()
    kept = sample_log(log, max_members=2, random_state=3)
    members = set(kept["user_id"])
    assert len(members) == 2
    # every event of a drawn member is kept, none of the others
    assert kept.equals(log[log["user_id"].isin(members)])
    assert sample_log(log, max_members=2, random_state=3).equals(kept)
    draws = {frozenset(sample_log(log, max_members=2, random_state=s)["user_id"]) for s in range(9)}
    assert len(draws) > 1  # the seed matters


def test_sample_log_within_the_caps_is_the_log_itself():
    log = _log()
    assert sample_log(log) is log
    assert sample_log(log, max_members=4, max_days=3) is log
    both = sample_log(log, max_members=1, max_days=1, random_state=0)
    assert set(both["session_id"]) <= {1, 2} and both["user_id"].nunique() <= 1


@pytest.mark.parametrize("cap", [0, -1, 1.5])
def test_sample_log_rejects_bad_caps(cap):
    with pytest.raises(ValueError, match="max_members"):
        sample_log(_log(), max_members=cap)
    with pytest.raises(ValueError, match="max_days"):
        sample_log(_log(), max_days=cap)
