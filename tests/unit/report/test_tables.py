"""Tables for reading: units and decimals, labels, missing values, no index, HTML that scrolls."""

import re

import numpy as np
import pandas as pd
import pytest

from persona_lib.report.tables import FOOTNOTE, MISSING, format_table, infer_unit, label, show

NAN = float("nan")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("two_stage_ranker", "two-stage ranker"),
        ("item_knn", "item-kNN"),
        ("ndcg_at_10", "nDCG@10"),
        ("recall_at_20", "recall@20"),
        ("play_rate_lift_pct", "play rate lift"),
        ("diff_ci_low", "diff CI low"),
        ("value_usd_per_year", "value per year"),
        ("n_members", "members"),
        ("roc_auc", "ROC AUC"),
        ("p_value", "p-value"),
        ("page_als", "ALS page"),
        ("Already words", "Already words"),
        ("pct", "pct"),
        (3, "3"),
    ],
)
def test_label_turns_keys_into_words(key, expected):
    assert label(key) == expected


def test_label_overrides_come_first():
    assert label("two_stage_ranker", {"two_stage_ranker": "LambdaRank"}) == "LambdaRank"


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("lift_pct", "%"),
        ("lift_ci_low_pct", "%"),
        ("diff_pp", "pp"),
        ("ltv_usd", "USD"),
        ("value_usd_per_year", "USD"),
        ("pr_auc", "auc"),
        ("p_value", "p"),
        ("n_members", "count"),
        ("rows", "count"),
        ("play_rate", "fraction"),
        ("hours_share", "fraction"),
        ("user_id", "text"),
        ("ndcg_at_10", ""),
    ],
)
def test_infer_unit_from_the_name(name, unit):
    assert infer_unit(name) == unit


def cells(frame, **kw):
    return format_table(frame, **kw).to_dict("list")


def test_fixed_decimals_and_separators_per_unit():
    frame = pd.DataFrame(
        {
            "diff": [2.6, -0.123],
            "lift": [12.345, 3.0],
            "revenue": [21_634_000.4, 1280.0],
            "price": [9.99, 12.5],
            "members": [20000, 1234567],
            "auc": [0.61712, 0.7],
            "ratio": [1.346, 2.0],
        }
    )
    units = {"diff": "pp", "lift": "%", "revenue": "USD", "price": "USD", "members": "count",
             "auc": "auc", "ratio": "x"}  # fmt: skip
    assert cells(frame, units=units) == {
        "diff (pp)": ["2.60", "-0.12"],
        "lift (%)": ["12.3", "3.0"],
        "revenue (USD)": ["21,634,000", "1,280"],
        "price (USD)": ["9.99", "12.50"],
        "members": ["20,000", "1,234,567"],
        "AUC": ["0.617", "0.700"],
        "ratio (×)": ["1.35", "2.00"],
    }


def test_plain_numbers_share_decimals_and_integers_stay_integers():
    frame = pd.DataFrame({"ndcg": [0.41234, 0.0312], "plays": [1200.0, np.nan], "k": [10, 20]})
    assert cells(frame) == {
        "nDCG": ["0.412", "0.031"],  # three significant digits of the column's largest value
        "plays": ["1,200", MISSING],  # integers that pandas stored as floats (because of NaN)
        "k": ["10", "20"],
    }


def test_missing_values_are_dashes_never_nan():
    frame = pd.DataFrame(
        {"a": [1.5, np.nan], "b": pd.array([1, None], dtype="Int64"), "c": ["x", None]}
    )
    frame["d"] = pd.to_datetime(["2024-01-02", None])
    assert cells(frame) == {
        "a": ["1.50", MISSING],
        "b": ["1", MISSING],
        "c": ["x", MISSING],
        "d": ["2024-01-02", MISSING],
    }


def test_percent_or_fraction_but_not_both():
    frame = pd.DataFrame({"play_rate": [0.312, 0.2], "lift_pct": [1.25, -3.0]})
    # the table has a percent column, so the share is shown as percent too
    assert cells(frame) == {"play rate (%)": ["31.2", "20.0"], "lift (%)": ["1.2", "-3.0"]}
    assert cells(frame, percent=False) == {"play rate": ["0.312", "0.200"],
                                           "lift": ["0.013", "-0.030"]}  # fmt: skip
    alone = pd.DataFrame({"play_rate": [0.312, 0.2]})
    assert cells(alone) == {"play rate": ["0.312", "0.200"]}
    assert cells(alone, percent=True) == {"play rate (%)": ["31.2", "20.0"]}
    # a "rate" above 1 is not a share
    assert cells(pd.DataFrame({"arrival_rate": [3.5, 12.0]})) == {"arrival rate": ["3.5", "12.0"]}


def test_interval_columns_follow_their_base_column():
    frame = pd.DataFrame(
        {"diff": [0.0123, -0.004], "diff_ci_low": [-0.15, -0.02], "diff_ci_high": [0.2, 0.012]}
    )
    assert cells(frame, units={"diff": "pp"}) == {
        "diff (pp)": ["0.01", "0.00"],  # -0.004 rounds to zero, printed without a sign
        "diff CI low (pp)": ["-0.15", "-0.02"],
        "diff CI high (pp)": ["0.20", "0.01"],
    }
    # plain numbers: the CI columns take the decimals of "diff" (4), not their own (3)
    assert cells(frame)["diff CI low"] == ["-0.1500", "-0.0200"]
    assert cells(frame)["diff"] == ["0.0123", "-0.0040"]


def test_meaningful_index_becomes_a_column_and_row_numbers_vanish():
    by_policy = pd.DataFrame(
        {"ndcg": [0.4, 0.3], "n_users": [10, 20]}, index=pd.Index(["ease", "als"], name="policy")
    )
    assert cells(by_policy) == {"policy": ["ease", "als"], "nDCG": ["0.400", "0.300"],
                                "users": ["10", "20"]}  # fmt: skip
    filtered = pd.DataFrame({"x": [1.0, 2.0, 3.0]}).iloc[[0, 2]]
    assert cells(filtered) == {"x": ["1", "3"]}
    two_levels = pd.DataFrame(
        {"hours": [1.5, 2.25]},
        index=pd.MultiIndex.from_tuples([("tv", 1), ("phone", 2)], names=["device", "week"]),
    )
    assert cells(two_levels) == {"device": ["tv", "phone"], "week": ["1", "2"],
                                 "hours": ["1.50", "2.25"]}  # fmt: skip


def test_series_of_metrics_gets_one_row_per_key_with_its_unit():
    metrics = {
        "ndcg_at_10": 0.41234,
        "play_rate_lift_pct": 4.26,
        "revenue_saved_usd_per_year": 21_634_000.0,
        "n_members": 20000.0,
        "best_offline_model": "ease",
        "push_effect_pp": None,
    }
    expected = {
        "name": ["nDCG@10", "play rate lift (%)", "revenue saved per year (USD)", "members",
                 "best offline model", "push effect (pp)"],
        "value": ["0.412", "4.3", "21,634,000", "20,000", "ease", MISSING],
    }  # fmt: skip
    assert cells(pd.Series(metrics)) == expected
    # what the notebooks end with today
    assert cells(pd.Series(metrics, name="value").to_frame()) == expected


def test_series_of_one_quantity_is_a_column():
    rows = pd.Series({"impressions": 1_234_567, "plays": 89_012}, name="rows")
    assert cells(rows) == {"name": ["impressions", "plays"], "rows": ["1,234,567", "89,012"]}
    ndcg = pd.Series([0.4123, 0.05], index=pd.Index(["ease", "pop"], name="model"), name="ndcg")
    assert cells(ndcg) == {"model": ["ease", "pop"], "nDCG": ["0.412", "0.050"]}


def test_ids_booleans_and_overrides():
    frame = pd.DataFrame({"user_id": [123456, 7], "churned": [True, False], "x": [1.23456, 2.0]})
    assert cells(frame, decimals={"x": 4}, labels={"x": "score"}) == {
        "user ID": ["123456", "7"],
        "churned": ["yes", "no"],
        "score": ["1.2346", "2.0000"],
    }


def test_duplicate_labels_raise():
    frame = pd.DataFrame({"lift_pct": [1.0], "lift": [2.0]})
    with pytest.raises(ValueError, match="two columns share the label 'lift"):
        format_table(frame, units={"lift": "%"})


# --- HTML ----------------------------------------------------------------------------------------


def huge_and_small():
    return pd.DataFrame(
        {
            "policy": ["a", "b", "c"],
            "revenue_usd": [2.1e13, 1.5e-3, np.nan],
            "tiny": [1e-9, 2.5e-10, 3e-12],
            "big": [1e21, 3.3e17, np.inf],
            "p_value": [1e-12, 0.0342, 0.5],
            "share_pct": [np.nan, 12.0, 1e-7],
        }
    )


def test_rendered_table_has_no_nan_dtype_or_scientific_notation():
    html = show(huge_and_small()).to_html()
    for bad in ("NaN", "nan", "dtype:", "e+0", "e-0", "e+1", "e-1", "None"):
        assert bad not in html, bad
    assert "21,000,000,000,000" in html and "0.00000000100" in html and "&lt; 0.001" in html
    assert "1,000,000,000,000,000,000,000" in html and "∞" in html


def test_missing_values_get_a_dash_and_a_footnote():
    html = show(huge_and_small()).to_html()
    assert f">{MISSING}</td>" in html
    assert f"<caption>{FOOTNOTE}</caption>" in html
    assert "caption-side: bottom" in html
    complete = show(pd.DataFrame({"a": [1.0, 2.0]})).to_html()
    assert "<caption>" not in complete and MISSING not in complete


def test_no_index_column_in_the_html():
    html = show(pd.DataFrame({"a": [1.0, 2.0]}, index=[5, 9])).to_html()
    assert "row_heading" not in html and "index_name" not in html and "blank" not in html
    body = html[html.index("<tbody>") :]
    assert "<th" not in body
    assert re.findall(r"<th [^>]*>([^<]*)</th>", html) == ["a"]


def test_wide_tables_scroll_inside_their_box():
    wide = pd.DataFrame({f"metric_{i}_pct": [1.0] for i in range(30)})
    html = show(wide).to_html()
    table_tag = re.search(r"<table [^>]*>", html).group(0)
    assert "display:block" in table_tag
    assert "overflow-x:auto" in table_tag
    assert "max-width:100%" in table_tag


def test_numbers_are_right_aligned_and_text_left_aligned():
    styler = show(pd.DataFrame({"policy": ["a", "b"], "lift_pct": [1.0, -2.0]}))
    html = styler.to_html()
    uuid = styler.uuid
    assert re.search(rf"#T_{uuid} td.col1 {{\s*text-align: right;", html)
    assert re.search(rf"#T_{uuid} td.col0 {{\s*text-align: left;", html)


def test_strings_are_escaped_and_html_is_deterministic():
    frame = pd.DataFrame({"<b>name</b>": ["<script>x</script>"], "v": [1.0]})
    html = show(frame).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    assert show(frame).to_html() == html  # no random ids: reports do not change between runs
