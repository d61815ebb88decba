"""The executive summary: computed bottom-line sentences and the summary table, escaped."""

import html
from pathlib import Path

import pytest

from persona_lib.report.summary import (
    BOTTOM_LINE,
    FIGURES,
    NO_INTERVAL,
    TRUTH_MEANING,
    bottom_line,
    headline,
    summary_html,
    summary_table_rows,
)

EXPERIMENT = {
    "play_rate_diff_pp": 7.2, "play_rate_diff_ci_low_pp": 5.2, "play_rate_diff_ci_high_pp": 9.2,
    "truth_play_rate_diff_pp": 8.15,
    "hours_cuped_diff": 1.61, "hours_cuped_ci_low": 1.10, "hours_cuped_ci_high": 2.12,
    "truth_hours_diff": 3.0,  # outside the interval
    "churn_diff_pp": -0.9, "churn_diff_ci_low_pp": -2.45, "churn_diff_ci_high_pp": 0.65,
    "truth_churn_diff_pp": -0.16,
}  # fmt: skip
REVENUE = {
    "scaled_revenue_usd_per_year": 21_283_777.5, "scaled_revenue_ci_low_usd": -49_076_487.0,
    "scaled_revenue_ci_high_usd": 91_644_042.0, "truth_scaled_revenue_usd_per_year": 3_415_087.5,
}  # fmt: skip
RECOMMENDERS = {
    "page_als_play_rate_diff": 0.0651, "page_als_play_rate_diff_ci_low": 0.0575,
    "page_als_play_rate_diff_ci_high": 0.0727, "best_offline_model": "two_stage_ranker",
    "offline_leader_minus_runner_up_ndcg_at_10": 0.0037,
    "offline_leader_minus_runner_up_ndcg_at_10_ci_low": 0.0014,
    "offline_leader_minus_runner_up_ndcg_at_10_ci_high": 0.0060,
}  # fmt: skip
RAN = {"05_experiments": EXPERIMENT, "06_revenue_impact": REVENUE, "02_recommenders": RECOMMENDERS}


def test_bottom_line_sentences_are_computed_from_intervals_and_truth():
    play, hours, churn, revenue, page = bottom_line(RAN)
    assert play.startswith("Sessions with a play, personalized minus default page (A/B test): ")
    assert "+7.20 pp (95 % CI +5.20 to +9.20 pp); the interval excludes zero" in play
    assert "the simulator's true value, +8.15 pp, lies inside the interval" in play
    assert "the interval excludes zero" in hours
    assert "true value, +3.0 hours, lies outside the interval (z = -5.3)" in hours
    assert "-0.90 pp (95 % CI -2.45 to +0.65 pp); it cannot be told from zero" in churn
    assert "+21.3 M USD (95 % CI -49.1 to +91.6 M USD); it cannot be told from zero" in revenue
    assert "+3.4 M USD, lies inside the interval" in revenue
    assert "+6.51 pp (95 % CI +5.75 to +7.27 pp); the interval excludes zero." in page  # x100
    assert "true value" not in page  # no truth recorded, none claimed


def test_bottom_line_has_at_most_five_sentences():
    assert len(BOTTOM_LINE) <= 5 and len(bottom_line(RAN)) == len(BOTTOM_LINE)


def test_missing_notebook_or_metric_leaves_its_sentence_out():
    sentences = bottom_line({"05_experiments": EXPERIMENT})
    assert len(sentences) == 3 and not any("USD" in s for s in sentences)
    partial = {k: v for k, v in EXPERIMENT.items() if not k.startswith("hours")}
    assert len(bottom_line({"05_experiments": partial})) == 2
    assert bottom_line({}) == []


def test_missing_interval_is_said_not_hidden():
    metrics = {"churn_diff_pp": -0.9, "truth_churn_diff_pp": -0.16}
    (sentence,) = bottom_line({"05_experiments": metrics})
    assert sentence == (
        "Churn, personalized minus default page (A/B test): -0.90 pp (interval not available); "
        "the simulator's true value is -0.16 pp."
    )


def notebooks(status_05="ok"):
    return [
        ("02_recommenders", "02_recommenders.html", "ok", RECOMMENDERS),
        ("05_experiments", "05_experiments.html", status_05, EXPERIMENT),
        ("06_revenue_impact", "06_revenue_impact.html", "ok", REVENUE),
    ]


def test_failed_notebook_is_left_out_and_named():
    page = summary_html(notebooks("failed"), {"PRESET": "smoke", "SEED": 3})
    assert "Sessions with a play, personalized minus default page (A/B test)" not in page
    assert "+21.3 M USD" in page
    assert "Left out of the bottom line: 05_experiments (failed)." in page
    assert "Data: the simulated world of preset &quot;smoke&quot;, seed 3." in page


def test_notebook_that_did_not_run_is_named():
    page = summary_html(notebooks()[:2], {"PRESET": "default", "SEED": 0})
    assert "Left out of the bottom line: 06_revenue_impact (did not run)." in page


def test_no_bottom_line_without_its_notebooks():
    page = summary_html([("01_data_signals", None, "ok", {})], {})
    assert "No bottom line" in page and "<table" not in page
    assert "Data: the simulated world." in page


def test_table_rows_give_interval_and_truth_or_a_reason():
    ran = {**RAN, "01_data_signals": {"play_rate_per_impression_pct": 2.417,
                                      "truth_play_rate_per_impression_pct": 2.414}}  # fmt: skip
    rows = {fig.key: rest for fig, *rest in summary_table_rows(ran)}
    assert rows["play_rate_per_impression_pct"] == ["2.42 %", None, "2.41 %", True]
    assert rows["offline_leader_minus_runner_up_ndcg_at_10"] == [
        "+0.00370", "95 % CI +0.0014 to +0.0060", "no truth: measured on held-out plays", False,
    ]  # fmt: skip
    assert rows["page_als_play_rate_diff"] == [
        "+6.51 pp", "95 % CI +5.75 to +7.27 pp", "not recorded by the notebook", False,
    ]  # fmt: skip
    assert rows["hours_cuped_diff"][2] == "+3.0 hours, outside the interval"
    assert rows["scaled_revenue_usd_per_year"][1:3] == [
        "95 % CI -49.1 to +91.6 M USD", "+3.4 M USD, inside the interval",
    ]  # fmt: skip


def test_table_html_has_footnotes_truth_line_and_no_raw_numbers():
    nan = float("nan")
    recs = {**RECOMMENDERS, "page_als_play_rate_diff_ci_low": nan}
    page = summary_html(
        [("02_recommenders", "02 recs.html", "ok", recs), *notebooks()[1:]], {"SEED": 0}
    )
    assert "e+" not in page and "nan" not in page.lower() and "inf" not in page.lower()
    assert '<td data-label="95 % interval" class="num nowrap">—<sup>1</sup></td>' in page
    assert "<li>— : the notebook records no interval for this figure</li>" in page
    assert f'<p class="note">{html.escape(TRUTH_MEANING)}</p>' in page
    assert 'href="02%20recs.html"' in page and "two_stage_ranker" not in page


def test_about_a_dozen_rows_each_quantity_once():
    assert 10 <= len(FIGURES) <= 14
    keys = [(fig.notebook, fig.key) for fig in FIGURES]
    assert len(set(keys)) == len(keys)
    # the page's play-rate lift in % was the same quantity as its difference in pp
    assert ("02_recommenders", "page_als_play_rate_lift_pct") not in keys


def test_strings_are_escaped():
    page = summary_html([("02_recommenders", "<b>x</b>.html", "ok", RECOMMENDERS)],
                        {"PRESET": "<i>p</i>"})  # fmt: skip
    assert "<b>" not in page and "<i>" not in page
    assert "&lt;i&gt;p&lt;/i&gt;" in page


@pytest.mark.parametrize("fig", FIGURES + BOTTOM_LINE, ids=lambda f: f.key)
def test_every_figure_names_an_existing_notebook(fig):
    notebooks_dir = Path(__file__).parents[3] / "notebooks"
    assert (notebooks_dir / f"{fig.notebook}.ipynb").exists()


def test_headline_states_each_index_figure_of_the_notebook():
    text = headline("07_sales_conversions", {
        "upsell_top_upgrades_per_1k": 12.0, "upsell_top_upgrades_ci_low": 9.0,
        "upsell_top_upgrades_ci_high": 15.0, "truth_upsell_top_upgrades_per_1k": 16.0,
        "personalization_vs_baselines_per_1k_members_usd": 50.0,
        "personalization_vs_baselines_ci_low": -10.0, "personalization_vs_baselines_ci_high": 110.0,
    })  # fmt: skip
    assert text.startswith("On the index: plan upgrades per 1,000 eligible members")
    assert "the interval excludes zero" in text and "lies outside the interval" in text
    assert "it cannot be told from zero" in text
    flipped = headline("07_sales_conversions", {
        "upsell_top_upgrades_per_1k": 12.0, "upsell_top_upgrades_ci_low": -1.0,
        "upsell_top_upgrades_ci_high": 25.0, "truth_upsell_top_upgrades_per_1k": 16.0,
    })  # fmt: skip
    assert "cannot be told from zero" in flipped and "lies inside the interval" in flipped


def test_headline_of_a_run_that_computed_nothing_says_so():
    assert headline("05_experiments", {}) == (
        "No figure was computed: every section above needs something these data lack."
    )
    other = headline("05_experiments", {"members_not_on_the_index": 3})
    assert other.startswith("1 figure is recorded")


def test_headline_of_a_figure_without_interval_says_why():
    text = headline(
        "04_churn_retention", {"monthly_churn_pct": 2.41, "truth_monthly_churn_pct": 2.4}
    )
    assert "interval not available" in text and NO_INTERVAL in text
    assert headline("99_other", {"a": 1, "b": 2}) == (
        "2 figures are recorded to the metrics file beside this report; none of them is on the "
        "index summary."
    )
