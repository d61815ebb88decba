"""The executive summary: headline figures per notebook, escaped, truth beside estimates."""

from persona_lib.report.summary import HEADLINES, summary_html, summary_rows


def test_rows_format_values_and_put_the_truth_beside_them():
    metrics = {"play_rate_per_impression_pct": 2.3456, "truth_play_rate_per_impression_pct": 2.4,
               "monthly_churn_pct": 3.1}  # fmt: skip
    rows = summary_rows("01_data_signals", metrics)
    assert rows == [("Plays per impression", "2.35 %", "2.40 %"), ("Monthly churn", "3.10 %", "")]


def test_unknown_notebooks_and_missing_metrics_are_skipped():
    assert summary_rows("99_mine", {"x": 1}) == []
    assert summary_html([("99_mine", "99_mine.html", {"x": 1})]) == ""


def test_html_is_escaped_and_links_each_report():
    metrics = {"best_offline_model": "<b>ease</b>"}
    page = summary_html([("02_recommenders", "02 recs.html", metrics)])
    assert "&lt;b&gt;ease&lt;/b&gt;" in page and "<b>ease</b>" not in page
    assert 'href="02%20recs.html"' in page and "Executive summary" in page


def test_every_headline_notebook_exists():
    from pathlib import Path

    notebooks = {p.stem for p in (Path(__file__).parents[3] / "notebooks").glob("*.ipynb")}
    assert set(HEADLINES) <= notebooks
