"""position_bias_curve and position_heatmap against hand counts."""

import numpy as np
import pytest

from persona_lib.signals import position_bias_curve, position_heatmap


def test_play_curve_by_column(standard_events):
    out = position_bias_curve(standard_events, axis="col_position", outcome="play")
    assert out["col_position"].tolist() == [0, 1, 2]
    assert out["impressions"].tolist() == [5, 3, 1]
    assert out["plays"].tolist() == [3, 0, 0]
    np.testing.assert_allclose(out["rate"], [0.6, 0, 0])
    np.testing.assert_allclose(out["relative_rate"], [1, 0, 0])
    np.testing.assert_allclose(out["rate_se"].iloc[0], np.sqrt(0.6 * 0.4 / 5))


def test_hover_curve_relative_to_first_position(standard_events):
    out = position_bias_curve(standard_events, outcome="hover")
    np.testing.assert_allclose(out["rate"], [0.6, 0, 1])
    np.testing.assert_allclose(out["relative_rate"], [1, 0, 1 / 0.6])


def test_row_curve_clicks(standard_events):
    out = position_bias_curve(standard_events, axis="row_position", outcome="click")
    assert out["impressions"].tolist() == [8, 1]
    assert out["clicks"].tolist() == [3, 0]


def test_heatmap_cells_and_cap(standard_events, random_events):
    out = position_heatmap(standard_events, outcome="play").set_index(
        ["row_position", "col_position"]
    )
    assert out.loc[(0, 0), ["impressions", "plays"]].tolist() == [4, 3]
    assert out.loc[(1, 0), "impressions"] == 1
    assert out["impressions"].sum() == 9
    capped = position_heatmap(random_events, max_rows=2, max_cols=3)
    assert capped["row_position"].max() <= 1 and capped["col_position"].max() <= 2
    assert capped["rate"].between(0, 1).all()


def test_bad_arguments_raise(standard_events):
    with pytest.raises(ValueError, match="outcome must be one of"):
        position_bias_curve(standard_events, outcome="purchase")
    with pytest.raises(ValueError, match="axis must be one of"):
        position_bias_curve(standard_events, axis="diagonal")
