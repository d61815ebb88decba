import pandas as pd
import pytest

from persona_lib.signals.window import LogWindow, log_window


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
