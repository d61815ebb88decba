import numpy as np
import pandas as pd
import pytest

from persona_lib.data.schema import EVENT_TYPES
from persona_lib.experiments import (
    analyze_arms,
    analyze_logged_experiment,
    choose_experiment,
    compute_logged_outcomes,
    cumulative_daily_hours,
)

T = pd.Timestamp


def event_log(rows: list[tuple]) -> pd.DataFrame:
    """Events from (ts, user_id, session_id, event_type, title_id, watch_s) tuples."""
    frame = pd.DataFrame(rows, columns=["ts", "user_id", "session_id", "event_type", "title_id",
                                        "watch_s"])  # fmt: skip
    return frame.assign(
        event_id=np.arange(len(frame), dtype=np.int32),
        ts=pd.to_datetime(frame["ts"], format="ISO8601").astype("datetime64[ms]"),
        event_type=pd.Categorical(frame["event_type"], categories=EVENT_TYPES),
        watch_s=frame["watch_s"].astype("float32"),
    )


NAN = np.nan
# window 2 days. User 1 assigned 2025-01-10 00:00 (pre [01-08, 01-10), post [01-10, 01-12));
# user 2 at 01-10 12:00; user 3 at 01-11 without events; user 4 at 01-11, browsing only;
# user 5 is in another experiment only.
EVENTS = event_log([
    ("2025-01-07 12:00", 1, 10, "play_start", 5, NAN),  # before the pre window
    ("2025-01-07 13:00", 1, 10, "play_stop", 5, 3600.0),
    ("2025-01-09 20:00", 1, 11, "play_start", 1, NAN),  # pre: 1.5 h
    ("2025-01-09 21:30", 1, 11, "play_stop", 1, 5400.0),
    ("2025-01-09 23:30", 1, 12, "play_start", 2, NAN),  # starts pre, stops post: 1 h pre
    ("2025-01-10 00:30", 1, 12, "play_stop", 2, 3600.0),
    ("2025-01-10 00:00", 1, 13, "impression", 3, NAN),  # exactly at assignment: post
    ("2025-01-10 00:00", 1, 13, "play_start", 3, NAN),  # post: 0.5 h
    ("2025-01-10 01:00", 1, 13, "play_stop", 3, 1800.0),
    ("2025-01-11 10:00", 1, 14, "play_start", 4, NAN),  # post: 2 h
    ("2025-01-11 12:00", 1, 14, "play_stop", 4, 7200.0),
    ("2025-01-12 00:00", 1, 15, "play_start", 5, NAN),  # exactly at the window's end: out
    ("2025-01-12 01:00", 1, 15, "play_stop", 5, 3600.0),
    ("2025-01-08 12:00", 2, 19, "play_start", 6, NAN),  # exactly at the pre window's start: in
    ("2025-01-08 12:15", 2, 19, "play_stop", 6, 900.0),
    ("2025-01-10 11:59:59.999", 2, 20, "impression", 1, NAN),  # pre, no play
    ("2025-01-10 12:00", 2, 21, "play_start", 1, NAN),  # post: 0.75 h
    ("2025-01-10 12:45", 2, 21, "play_stop", 1, 2700.0),
    ("2025-01-11 15:00", 2, 22, "play_start", 9, NAN),  # never stopped: a play, 0 h
    ("2025-01-12 11:00", 2, 23, "play_start", 3, NAN),  # post day block 1: 0.5 h
    ("2025-01-12 11:30", 2, 23, "play_stop", 3, 1800.0),
    ("2025-01-11 05:00", 4, 40, "impression", 2, NAN),
    ("2025-01-12 06:00", 4, 41, "impression", 2, NAN),
    ("2025-01-10 09:00", 5, 50, "play_start", 1, NAN),
    ("2025-01-10 10:00", 5, 50, "play_stop", 1, 3600.0),
])  # fmt: skip

ASSIGNMENTS = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 5, 1],
        "experiment": ["row-v2"] * 4 + ["other", "other"],
        "variant": ["A", "B", "A", "B", "A", "B"],
        "assigned_ts": pd.to_datetime(
            ["2025-01-10 00:00", "2025-01-10 12:00", "2025-01-11 00:00", "2025-01-11 00:00",
             "2025-01-09 00:00", "2025-01-09 00:00"]
        ),
    }
)  # fmt: skip

BILLING = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 4],
        "period_start": pd.to_datetime(
            ["2025-01-10", "2025-01-11", "2025-01-05", "2025-01-11", "2025-01-13"]
        ),
        "plan": ["basic"] * 5,
        "price": [11.99] * 5,
        "status": ["renewed", "churned", "churned", "new", "payment_failed"],
    }
)


def test_pre_and_post_periods_split_exactly_at_assignment():
    out = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D")
    assert out["user_id"].tolist() == [1, 2, 3, 4]
    assert out["variant"].tolist() == ["A", "B", "A", "B"]
    np.testing.assert_allclose(out["pre_hours"], [1.5 + 1.0, 0.25, 0, 0])
    np.testing.assert_allclose(out["hours"], [0.5 + 2.0, 0.75 + 0.5, 0, 0])
    assert out["pre_plays"].tolist() == [2, 1, 0, 0]
    assert out["plays"].tolist() == [2, 3, 0, 0]
    # user 1: 01-09; user 2: the blocks [01-08 12:00, 01-09 12:00) and [01-09 12:00, 01-10 12:00)
    assert out["pre_active_days"].tolist() == [1, 2, 0, 0]
    assert out["active_days"].tolist() == [2, 2, 0, 2]
    assert out["pre_played"].tolist() == [True, True, False, False]
    assert out["played"].tolist() == [True, True, False, False]
    assert "churned" not in out.columns


def test_window_length_sets_both_periods():
    out = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window=3)
    # 3 days: user 1's pre window reaches back to 01-07 00:00 and post to 01-13 00:00
    np.testing.assert_allclose(out["pre_hours"], [1.0 + 1.5 + 1.0, 0.25, 0, 0])
    np.testing.assert_allclose(out["hours"], [0.5 + 2.0 + 1.0, 1.25, 0, 0])
    assert out["pre_active_days"].tolist() == [2, 2, 0, 0]
    with pytest.raises(ValueError, match="window must be positive"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window="0D")


def test_billing_gives_churn_within_the_post_window():
    out = compute_logged_outcomes(
        EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D", billing=BILLING
    )
    # user 3 churned before assignment; user 4's payment failed at 01-13, the window's end
    assert out["renewals"].tolist() == [1, 1, 0, 0]
    assert out["lost"].tolist() == [0, 1, 0, 0]
    assert out["churned"].tolist() == [False, True, False, False]


def test_outcomes_table_is_merged_by_user():
    extra = pd.DataFrame({"user_id": [4, 2, 1], "revenue": [3.0, 2.0, 1.0]})
    out = compute_logged_outcomes(
        EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D", outcomes=extra
    )
    np.testing.assert_array_equal(out["revenue"], [1.0, 2.0, np.nan, 3.0])
    with pytest.raises(ValueError, match=r"more than one row for user_id \[2\]"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2",
                                outcomes=pd.concat([extra, extra.iloc[[1]]]))  # fmt: skip
    with pytest.raises(ValueError, match=r"outcomes columns \['hours'\] clash"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2",
                                outcomes=extra.rename(columns={"revenue": "hours"}))  # fmt: skip


def test_members_assigned_to_two_variants_are_named():
    twice = pd.concat(
        [ASSIGNMENTS, ASSIGNMENTS.iloc[[0, 2]].assign(variant="B", assigned_ts=T("2025-01-12"))]
    )
    with pytest.raises(
        ValueError, match=r"2 members are assigned to more than one variant.*user_id \[1, 3\]"
    ):
        compute_logged_outcomes(EVENTS, twice, experiment="row-v2")


def test_a_repeated_assignment_to_the_same_variant_counts_from_the_first():
    again = pd.concat([ASSIGNMENTS, ASSIGNMENTS.iloc[[0]].assign(assigned_ts=T("2025-01-11"))])
    out = compute_logged_outcomes(EVENTS, again.iloc[::-1], experiment="row-v2", window="2D")
    assert out.loc[0, "assigned_ts"] == T("2025-01-10")
    assert out.loc[0, "hours"] == pytest.approx(2.5)


def test_experiment_choice_and_required_columns():
    with pytest.raises(ValueError, match=r"hold the experiments \['row-v2', 'other'\]; choose one"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS)
    with pytest.raises(ValueError, match="experiment 'nope' is not in the assignments"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="nope")
    with pytest.raises(ValueError, match=r"assignments lacks the columns \['assigned_ts'\]"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS.drop(columns="assigned_ts"))
    with pytest.raises(ValueError, match=r"events lacks the columns \['watch_s'\]"):
        compute_logged_outcomes(EVENTS.drop(columns="watch_s"), ASSIGNMENTS, experiment="other")
    missing = ASSIGNMENTS.assign(assigned_ts=ASSIGNMENTS["assigned_ts"].where(
        ASSIGNMENTS["user_id"] != 4))  # fmt: skip
    with pytest.raises(ValueError, match=r"1 assignments have no assigned_ts \(user_id \[4\]\)"):
        compute_logged_outcomes(EVENTS, missing, experiment="row-v2")


def test_windows_past_the_end_of_the_log_are_named():
    with pytest.raises(ValueError, match=r"2 members' post windows end after .*user_id \[3, 4\]"):
        compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D",
                                end=T("2025-01-12 12:00"))  # fmt: skip
    out = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D",
                                  end=T("2025-01-13"))  # fmt: skip
    assert len(out) == 4


def simulated_log(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members with a steady taste for watching, assigned at noon on 01-15; B watches 30 % more."""
    rng = np.random.default_rng(seed)
    start = T("2025-01-15 12:00")
    variant = np.where(np.arange(n) % 2 == 0, "A", "B")
    taste = rng.gamma(2.0, 1.0, n)
    rows, session = [], 0
    for u in range(n):
        for sign, boost in ((-1, 1.0), (1, 1.3 if variant[u] == "B" else 1.0)):
            for _ in range(rng.poisson(taste[u] * boost * 2)):
                ts = start + sign * pd.Timedelta(hours=float(rng.uniform(1, 13 * 24)))
                watch = float(rng.uniform(0.5, 1.5) * 3600 * taste[u])
                stop = ts + pd.Timedelta(minutes=1)
                rows += [(ts, u, session, "play_start", 1, NAN),
                         (stop, u, session, "play_stop", 1, watch)]  # fmt: skip
                session += 1
    assignments = pd.DataFrame(
        {"user_id": np.arange(n), "experiment": "e", "variant": variant, "assigned_ts": start}
    )
    return event_log(rows), assignments


def test_analyze_logged_experiment_is_cuped_on_the_pre_period():
    events, assignments = simulated_log()
    result = analyze_logged_experiment(events, assignments, control="A", window="14D")
    table = result.table.set_index("outcome")
    assert result.counts == {"A": 120, "B": 120}
    assert not result.srm.mismatch
    assert table["method"].to_dict() == dict.fromkeys(
        ["hours", "plays", "active_days", "played"], "cuped_welch"
    )
    frame = compute_logged_outcomes(events, assignments, window="14D")
    covariates = {m: f"pre_{m}" for m in ["hours", "plays", "active_days", "played"]}
    direct = analyze_arms(frame, "variant", list(covariates), control="A", covariates=covariates)
    np.testing.assert_allclose(result.table["diff"], direct.table["diff"], rtol=1e-12)
    np.testing.assert_allclose(result.table["p_adjusted"], direct.table["p_adjusted"], rtol=1e-12)
    plain = analyze_arms(frame, "variant", ["hours"], control="A").table.iloc[0]
    assert table.loc["hours", "ci_high"] - table.loc["hours", "ci_low"] < 0.8 * (
        plain["ci_high"] - plain["ci_low"]
    )
    assert table.loc["hours", "diff"] > 0


def test_analyze_logged_experiment_with_billing_outcomes_and_user_ids_in_errors():
    extra = pd.DataFrame({"user_id": [1, 2, 3, 4], "revenue": [1.0, 2.0, 1.5, 2.5]})
    result = analyze_logged_experiment(
        EVENTS, ASSIGNMENTS, control="A", experiment="row-v2", window="2D", billing=BILLING,
        outcomes=extra,
    )  # fmt: skip
    table = result.table.set_index("outcome")
    assert list(table.index) == ["hours", "plays", "active_days", "played", "churned", "revenue"]
    assert table.loc["churned", "method"] == "z_pooled"
    assert table.loc["churned", "diff"] == pytest.approx(0.5)  # B: 1 of 2 churned, A: 0 of 2
    assert table.loc["revenue", "diff"] == pytest.approx(2.25 - 1.25)
    with pytest.raises(
        ValueError, match=r"column 'revenue' has 1 row \(index \[3\]\) that are NaN"
    ):
        analyze_logged_experiment(EVENTS, ASSIGNMENTS, control="A", experiment="row-v2",
                                  outcomes=extra.iloc[[0, 1, 3]])  # fmt: skip


def test_without_a_window_the_periods_are_the_whole_log_on_each_side():
    out = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window=None,
                                  billing=BILLING, end=T("2025-01-11"))  # fmt: skip
    # user 1: pre 1.0 (01-07) + 1.5 + 1.0; post 0.5 + 2.0 + 1.0 (the play at 01-12)
    np.testing.assert_allclose(out["pre_hours"], [3.5, 0.25, 0, 0])
    np.testing.assert_allclose(out["hours"], [3.5, 1.25, 0, 0])
    assert out["active_days"].tolist() == [3, 2, 0, 2]
    # user 3 churned before assignment; user 4's payment failure at 01-13 now counts
    assert out["lost"].tolist() == [0, 1, 0, 1]
    assert out["renewals"].tolist() == [1, 1, 0, 1]


def test_sessions_play_sessions_and_revenue_per_period():
    out = compute_logged_outcomes(
        EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D", billing=BILLING
    )
    # user 1: session 12 starts pre (its stop is post), 13 and 14 post, 15 at the window's end
    assert out["pre_sessions"].tolist() == [2, 2, 0, 0]
    assert out["pre_play_sessions"].tolist() == [2, 1, 0, 0]
    assert out["sessions"].tolist() == [2, 3, 0, 2]
    assert out["play_sessions"].tolist() == [2, 3, 0, 0]
    # paid periods in the post window: user 1 renewed at 01-10; user 4 new at 01-11
    np.testing.assert_allclose(out["revenue_usd"], [11.99, 0, 0, 11.99])


def test_a_session_counts_where_its_first_event_is_whatever_the_row_order():
    shuffled = EVENTS.sample(frac=1.0, random_state=3)
    a = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window="2D")
    b = compute_logged_outcomes(shuffled, ASSIGNMENTS, experiment="row-v2", window="2D")
    pd.testing.assert_frame_equal(a, b)


def test_choose_experiment_names_the_choices():
    choice = choose_experiment(ASSIGNMENTS, "row-v2")
    assert (choice.control, choice.variants) == ("A", ("A", "B"))
    assert choice.control_rule == "first alphabetically"
    assert choice.treatments == ("B",)
    named = ASSIGNMENTS.assign(variant=ASSIGNMENTS["variant"].replace({"B": "control", "A": "new"}))
    assert choose_experiment(named, "row-v2").control == "control"
    assert choose_experiment(named, "row-v2").control_rule == "named control"
    assert choose_experiment(ASSIGNMENTS, "row-v2", "B").control_rule == "given"
    assert choose_experiment(ASSIGNMENTS, "row-v2", "B").to_dict()["variants"] == ["A", "B"]
    with pytest.raises(ValueError, match=r"hold 2 experiments \['other', 'row-v2'\]; name the one"):
        choose_experiment(ASSIGNMENTS)
    with pytest.raises(ValueError, match=r"experiment 'x' is not in the assignments; they hold"):
        choose_experiment(ASSIGNMENTS, "x")
    with pytest.raises(ValueError, match=r"control 'C' is not a variant .* are \['A', 'B'\]"):
        choose_experiment(ASSIGNMENTS, "row-v2", "C")
    one = ASSIGNMENTS[ASSIGNMENTS["variant"] == "A"]
    with pytest.raises(ValueError, match=r"the variants \['A'\]; an analysis needs at least two"):
        choose_experiment(one, "row-v2")
    only = ASSIGNMENTS[ASSIGNMENTS["experiment"] == "row-v2"]
    assert choose_experiment(only).experiment == "row-v2"


def test_cumulative_daily_hours_by_day_since_assignment():
    hours = cumulative_daily_hours(EVENTS, ASSIGNMENTS, experiment="row-v2")
    # user 1: 0.5 h on day 1 (01-10), 2 h on day 2, 1 h on day 3; user 2 (assigned at noon): 0.75 h
    # on day 1, then on day 2 an unstopped play (0 h) and 0.5 h at 01-12 11:00
    np.testing.assert_allclose(hours, [[0.5, 2.5, 3.5], [0.75, 1.25, 1.25], [0, 0, 0], [0, 0, 0]])
    full = compute_logged_outcomes(EVENTS, ASSIGNMENTS, experiment="row-v2", window=None)
    np.testing.assert_allclose(hours[:, -1], full["hours"])
    two = cumulative_daily_hours(EVENTS, ASSIGNMENTS, experiment="row-v2", days=2)
    np.testing.assert_allclose(two, hours[:, :2])
    with pytest.raises(ValueError, match="days must be at least 1"):
        cumulative_daily_hours(EVENTS, ASSIGNMENTS, experiment="row-v2", days=0)


def test_without_events_only_billing_and_outcome_columns():
    extra = pd.DataFrame({"user_id": [1, 2, 3, 4], "kept": [True, False, True, True]})
    out = compute_logged_outcomes(None, ASSIGNMENTS, experiment="row-v2", window="2D",
                                  billing=BILLING, outcomes=extra)  # fmt: skip
    assert list(out.columns) == ["user_id", "variant", "assigned_ts", "renewals", "lost",
                                 "churned", "revenue_usd", "kept"]  # fmt: skip
    assert out["lost"].tolist() == [0, 1, 0, 0]  # as with the events
    bare = compute_logged_outcomes(None, ASSIGNMENTS, experiment="row-v2", outcomes=extra)
    assert list(bare.columns) == ["user_id", "variant", "assigned_ts", "kept"]
    assert bare["kept"].tolist() == [True, False, True, True]
    members = compute_logged_outcomes(None, ASSIGNMENTS, experiment="row-v2")
    assert list(members.columns) == ["user_id", "variant", "assigned_ts"]


def test_analyze_logged_experiment_without_events_tests_what_the_tables_give():
    extra = pd.DataFrame({"user_id": [1, 2, 3, 4], "revenue": [1.0, 2.0, 1.5, 2.5]})
    result = analyze_logged_experiment(None, ASSIGNMENTS, control="A", experiment="row-v2",
                                       window="2D", billing=BILLING, outcomes=extra)  # fmt: skip
    table = result.table.set_index("outcome")
    assert list(table.index) == ["churned", "revenue"]
    assert table.loc["churned", "diff"] == pytest.approx(0.5)
    assert table.loc["revenue", "method"] == "welch"
    with pytest.raises(ValueError, match="nothing to compare: give events, billing or an outcomes"):
        analyze_logged_experiment(None, ASSIGNMENTS, control="A", experiment="row-v2")
