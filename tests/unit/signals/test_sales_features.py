"""Viewing profiles and the sales feature frame: hand-computed values on the standard log."""

import numpy as np
import pandas as pd
import pytest

from persona_lib.signals.sales_features import SHARE_COLUMNS, sales_features, viewing_profile

BASE = pd.Timestamp("2024-01-01 20:00:00")


def test_viewing_profile_by_hand(standard_events, titles):
    out = viewing_profile(standard_events, titles, 3, BASE + pd.Timedelta(days=1))
    # user 0: T0 (Drama|Comedy) 5500 s and T1 (Action) 3000 s
    u0 = out.iloc[0]
    assert u0["viewing_hours"] == pytest.approx(8500 / 3600)
    assert u0["titles_played"] == 2
    assert u0["share_Action"] == pytest.approx(3000 / 8500)
    assert u0["share_Drama"] == pytest.approx(2750 / 8500)
    assert u0["days_since_play"] == pytest.approx((86400 - 23010) / 86400)
    assert u0["hours_per_day"] == pytest.approx(8500 / 3600)  # span under a day counts as 1
    # user 1: T1 (Action) 1000 s, T2 (Drama) 5000 s
    assert out.loc[1, "share_Drama"] == pytest.approx(5 / 6)
    # user 2 never watched: zero shares, no recency
    assert out.loc[2, SHARE_COLUMNS].sum() == 0 and np.isnan(out.loc[2, "days_since_play"])
    np.testing.assert_allclose(out.loc[:1, SHARE_COLUMNS].sum(axis=1), 1.0)


def test_viewing_profile_reads_only_rows_before_the_cutoff(standard_events, titles):
    out = viewing_profile(standard_events, titles, 2, BASE + pd.Timedelta(seconds=20000))
    assert out.loc[0, "titles_played"] == 1  # T1's play ends at 23010 s
    assert out.loc[0, "viewing_hours"] == pytest.approx(5500 / 3600)


def test_bad_inputs_name_the_argument(standard_events, titles):
    with pytest.raises(ValueError, match="n_users"):
        viewing_profile(standard_events, titles, 0, BASE)
    with pytest.raises(ValueError, match="tables lacks"):
        sales_features({"events": standard_events}, {}, BASE)
