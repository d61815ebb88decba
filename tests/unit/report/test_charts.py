"""Chart helpers: titles and units always set, unaggregated frames refused."""

import altair as alt
import pandas as pd
import pytest

from persona_lib.report.charts import MAX_ROWS, bar_chart, funnel_chart, heatmap, line_chart


@pytest.fixture
def genres():
    return pd.DataFrame({"genre": ["drama", "comedy", "horror"], "plays": [30, 12, 5]})


def test_bar_chart_sets_title_axes_and_tooltip(genres):
    chart = bar_chart(genres, "genre", "plays", "Plays by genre", "Genre", "Plays (count)")
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert isinstance(chart, alt.Chart)
    assert spec["title"] == "Plays by genre"
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["title"] == "Genre"
    assert spec["encoding"]["x"]["type"] == "nominal"
    assert spec["encoding"]["y"]["title"] == "Plays (count)"
    assert [t["title"] for t in spec["encoding"]["tooltip"]] == ["Genre", "Plays (count)"]


def test_numeric_categories_are_ordinal_on_bar_x():
    frame = pd.DataFrame({"k": [1, 5, 10], "recall": [0.1, 0.2, 0.3]})
    spec = bar_chart(frame, "k", "recall", "Recall", "k (items)", "Recall (fraction)").to_dict()
    assert spec["encoding"]["x"]["type"] == "ordinal"


def test_refuses_unaggregated_frames():
    frame = pd.DataFrame({"g": ["a"] * (MAX_ROWS + 1), "v": 1.0})
    with pytest.raises(ValueError, match=r"got 5,001 rows; aggregate to at most 5,000 rows"):
        bar_chart(frame, "g", "v", "T", "G", "V (count)")


def test_refuses_missing_columns_and_titles(genres):
    with pytest.raises(KeyError, match=r"columns \['nope'\] not in frame"):
        bar_chart(genres, "genre", "nope", "T", "Genre", "Plays (count)")
    with pytest.raises(ValueError, match="needs a non-empty title"):
        bar_chart(genres, "genre", "plays", " ", "Genre", "Plays (count)")
    with pytest.raises(ValueError, match="needs a non-empty x_title"):
        bar_chart(genres, "genre", "plays", "T", "", "Plays (count)")


def test_quantitative_axes_need_a_unit(genres):
    with pytest.raises(ValueError, match=r"'Plays' is quantitative and needs a unit"):
        bar_chart(genres, "genre", "plays", "Plays by genre", "Genre", "Plays")
    chart = bar_chart(genres, "genre", "plays", "Plays", "Genre", "Revenue [USD]")
    assert chart.to_dict()["encoding"]["y"]["title"] == "Revenue [USD]"


def test_line_chart_with_dates_and_colour():
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2),
            "plays": [1.0, 2.0, 3.0, 4.0],
            "arm": ["a", "a", "b", "b"],
        }
    )
    spec = line_chart(
        frame,
        "day",
        "plays",
        "Plays per day",
        "Day",
        "Plays (count)",
        color="arm",
        color_title="Arm",
    ).to_dict()
    assert spec["encoding"]["x"]["type"] == "temporal"  # dates need no unit
    assert spec["encoding"]["color"]["title"] == "Arm"
    assert spec["mark"] == {"type": "line", "point": True}


def test_heatmap_colour_needs_unit():
    frame = pd.DataFrame({"hour": [0, 1], "day": ["Mon", "Tue"], "plays": [3, 4]})
    spec = heatmap(
        frame, "hour", "day", "plays", "Plays by hour", "Hour (h)", "Day", "Plays (count)"
    ).to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["title"] == "Plays (count)"
    with pytest.raises(ValueError, match="needs a unit"):
        heatmap(frame, "hour", "day", "plays", "T", "Hour (h)", "Day", "Plays")


def test_funnel_keeps_stage_order_and_labels_share_of_first():
    frame = pd.DataFrame({"stage": ["impression", "click", "play"], "users": [200, 50, 20]})
    chart = funnel_chart(frame, "stage", "users", "Discovery funnel", "Users (count)")
    spec = chart.to_dict()
    assert isinstance(chart, alt.LayerChart)
    assert spec["title"] == "Discovery funnel"
    bars, labels = spec["layer"]
    assert bars["mark"]["type"] == "bar" and labels["mark"]["type"] == "text"
    assert bars["encoding"]["y"]["sort"] == ["impression", "click", "play"]
    data = next(iter(spec["datasets"].values()))
    assert [row["pct_of_first"] for row in data] == [100.0, 25.0, 10.0]
    assert [row["label"] for row in data] == ["100.0%", "25.0%", "10.0%"]


def test_coloured_bars_sit_side_by_side_unless_stacked():
    frame = pd.DataFrame(
        {
            "device": ["tv", "tv", "web", "web"],
            "source": ["measured", "expected"] * 2,
            "rate": [2.5, 2.4, 1.9, 1.8],
        }
    )
    args = (frame, "device", "rate", "Play rate", "Device", "Play rate (%)")
    grouped = bar_chart(*args, color="source").to_dict()
    assert grouped["encoding"]["xOffset"]["field"] == "source"
    stacked = bar_chart(*args, color="source", stack=True).to_dict()
    assert "xOffset" not in stacked["encoding"]


def test_scatter_labels_points_and_needs_units():
    from persona_lib.report.charts import scatter_chart

    frame = pd.DataFrame({"model": ["a", "b"], "ndcg": [0.3, 0.4], "coverage": [10.0, 40.0]})
    spec = scatter_chart(
        frame,
        "coverage",
        "ndcg",
        "Accuracy vs coverage",
        "Coverage (%)",
        "nDCG@10 (0-1)",
        label="model",
    ).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["circle", "text"]
    with pytest.raises(ValueError, match="unit"):
        scatter_chart(frame, "coverage", "ndcg", "t", "Coverage", "nDCG@10 (0-1)")


def test_band_chart_draws_a_step_line_inside_its_band():
    from persona_lib.report.charts import band_chart

    frame = pd.DataFrame(
        {
            "t": [0.0, 1.0, 2.0] * 2,
            "s": [1.0, 0.9, 0.8, 1.0, 0.7, 0.6],
            "lo": [1.0, 0.8, 0.7, 1.0, 0.6, 0.5],
            "hi": [1.0, 0.95, 0.9, 1.0, 0.8, 0.7],
            "plan": ["a"] * 3 + ["b"] * 3,
        }
    )
    chart = band_chart(frame, "t", "s", "lo", "hi", "Retention", "Month (months)",
                       "Still subscribed (share)", color="plan", color_title="Plan")  # fmt: skip
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["area", "line"]
    assert all(layer["mark"]["interpolate"] == "step-after" for layer in spec["layer"])
    assert spec["layer"][0]["encoding"]["y2"]["field"] == "hi"
    with pytest.raises(ValueError, match="unit"):
        band_chart(frame, "t", "s", "lo", "hi", "Retention", "Month", "Share (share)")


def test_interval_chart_draws_estimate_interval_and_zero_line():
    from persona_lib.report import charts

    frame = pd.DataFrame({"lever": ["upsell", "win-back"], "usd": [1.2, -0.1],
                          "lo": [0.9, -0.4], "hi": [1.5, 0.2]})  # fmt: skip
    spec = charts.interval_chart(
        frame,
        "lever",
        "usd",
        "lo",
        "hi",
        "Effects",
        "Lever",
        "Revenue per member (USD)",
        sort=["win-back", "upsell"],
    ).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "point", "rule"]
    rule, point, zero = spec["layer"]
    assert rule["encoding"]["x"]["field"] == "lo" and rule["encoding"]["x2"]["field"] == "hi"
    assert point["encoding"]["y"]["sort"] == ["win-back", "upsell"]
    assert zero["encoding"]["x"]["field"] == "zero"
    with pytest.raises(ValueError, match="needs a unit"):
        charts.interval_chart(frame, "lever", "usd", "lo", "hi", "Effects", "Lever", "Revenue")


def test_bar_chart_draws_error_bars_from_low_and_high(genres):
    from persona_lib.report.charts import bar_chart as bars

    frame = genres.assign(lo=[26, 9, 3], hi=[34, 15, 7])
    chart = bars(frame, "genre", "plays", "Plays by genre", "Genre", "Plays (count)",
                 low="lo", high="hi")  # fmt: skip
    spec = chart.to_dict()
    assert isinstance(chart, alt.LayerChart)
    assert spec["title"] == "Plays by genre"
    bar, whisker = spec["layer"]
    assert bar["mark"]["type"] == "bar" and whisker["mark"]["type"] == "errorbar"
    assert whisker["encoding"]["y"]["field"] == "lo" and whisker["encoding"]["y2"]["field"] == "hi"
    # both layers sort the categories by the bar's value, so whiskers sit on their bars
    assert bar["encoding"]["x"]["sort"] == whisker["encoding"]["x"]["sort"]
    assert bar["encoding"]["x"]["sort"]["field"] == "plays"
    assert [t["title"] for t in bar["encoding"]["tooltip"]] == [
        "Genre", "Plays (count)", "low", "high"
    ]  # fmt: skip


def test_bar_chart_error_bars_follow_side_by_side_colours(genres):
    frame = pd.concat([genres.assign(arm="a"), genres.assign(arm="b")])
    frame = frame.assign(lo=frame["plays"] - 2, hi=frame["plays"] + 2)
    spec = bar_chart(frame, "genre", "plays", "T", "Genre", "Plays (count)", color="arm",
                     low="lo", high="hi", sort=None).to_dict()  # fmt: skip
    assert spec["layer"][1]["encoding"]["xOffset"]["field"] == "arm"


def test_bar_chart_error_bars_need_both_ends_and_no_stack(genres):
    frame = genres.assign(lo=0, hi=1)
    with pytest.raises(ValueError, match="both low and high"):
        bar_chart(frame, "genre", "plays", "T", "Genre", "Plays (count)", low="lo")
    with pytest.raises(ValueError, match="side-by-side"):
        bar_chart(frame.assign(arm="a"), "genre", "plays", "T", "Genre", "Plays (count)",
                  color="arm", stack=True, low="lo", high="hi")  # fmt: skip


def test_scatter_colours_points_instead_of_labels():
    from persona_lib.report.charts import scatter_chart

    frame = pd.DataFrame({"model": ["a", "b"], "ndcg": [0.3, 0.4], "coverage": [10, 40]})
    spec = scatter_chart(frame, "coverage", "ndcg", "T", "Coverage (%)", "nDCG@10 (0-1)",
                         color="model", color_title="Model").to_dict()  # fmt: skip
    assert len(spec["layer"]) == 1  # no text layer
    assert spec["layer"][0]["encoding"]["color"] == {"field": "model", "title": "Model",
                                                     "type": "nominal"}  # fmt: skip
    assert "Model" in [t["title"] for t in spec["layer"][0]["encoding"]["tooltip"]]


def test_category_keys_read_as_words_and_the_sort_follows():
    frame = pd.DataFrame({"policy": ["page_als", "page_ease"], "lift": [9.7, 8.2],
                          "lo": [8.5, 7.1], "hi": [10.8, 9.3]})  # fmt: skip
    spec = bar_chart(frame, "policy", "lift", "Lift", "Page", "Lift (%)", low="lo", high="hi",
                     sort=["page_ease", "page_als"]).to_dict()  # fmt: skip
    values = [row["policy"] for row in spec["datasets"][next(iter(spec["datasets"]))]]
    assert values == ["ALS page", "EASE page"]
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["EASE page", "ALS page"]
    assert list(frame["policy"]) == ["page_als", "page_ease"]  # the caller's frame is untouched
    numbers = bar_chart(pd.DataFrame({"k": [1, 2], "v": [3, 4]}), "k", "v", "T", "K", "V (count)")
    assert [
        r["k"] for r in numbers.to_dict()["datasets"][next(iter(numbers.to_dict()["datasets"]))]
    ] == [1, 2]
