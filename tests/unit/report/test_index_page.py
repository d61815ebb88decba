"""The index page: summary first, report links visible, the full metric dump collapsed."""

import re
import tempfile
from pathlib import Path

from persona_lib.report.index_page import index_html, metric_text
from persona_lib.report.runner import NotebookResult

RUN = {
    "parameters": {
        "PRESET": "default",
        "SEED": 0,
        "OUT_DIR": str(Path(tempfile.gettempdir(), "reports")),
    },
    "unfinished": [],
    "finished_at": "2026-12-06T15:01:58+00:00",
    "git_commit": None,
    "duration_s": 12.5,
}
EXPERIMENT = {
    "play_rate_diff_pp": 7.2, "play_rate_diff_ci_low_pp": 5.2, "play_rate_diff_ci_high_pp": 9.2,
    "truth_play_rate_diff_pp": 8.15, "peeking_naive_fpr_pct": float("nan"),
}  # fmt: skip
REVENUE = {
    "scaled_revenue_usd_per_year": 21_283_777.5, "scaled_revenue_ci_low_usd": -49_076_487.0,
    "scaled_revenue_ci_high_usd": 91_644_042.0, "netflix_annual_revenue_usd": 9_229_919_999.99,
    "engagement_logrank_p": 1.1e-06, "note": "<script>alert(1)</script>",
}  # fmt: skip


def result(name, metrics, status="ok", error=None, html=True):
    return NotebookResult(
        name=name, status=status, execute_s=1.25, export_s=0.5, ipynb=f"{name}.ipynb",
        html=f"{name}.html" if html else None, metrics=metrics, error=error,
    )  # fmt: skip


def page(results, run=RUN):
    return index_html(results, run)


def test_bottom_line_comes_first_and_dump_is_collapsed():
    text = page([result("05_experiments", EXPERIMENT), result("06_revenue_impact", REVENUE)])
    bottom, summary, reports = (text.index(s) for s in ("Bottom line", "<h2>Summary", "Reports"))
    details = text.index('<details class="dump">')
    assert bottom < summary < reports < details
    assert '<details class="dump" open' not in text
    assert "All recorded metrics (11 keys)" in text
    visible = text[:details]
    assert '<a href="05_experiments.html">05_experiments</a>' in visible
    assert '<td data-label="Duration" class="num">1.8 s</td>' in visible
    assert "scaled_revenue_ci_low_usd" not in visible  # raw keys only in the dump
    assert "<code>scaled_revenue_ci_low_usd</code>" in text[details:]


def test_no_scientific_notation_or_nan_anywhere():
    text = page([result("05_experiments", EXPERIMENT), result("06_revenue_impact", REVENUE)])
    assert not re.search(r"\de[+-]\d", text) and "nan" not in text.lower()
    assert "<code>netflix_annual_revenue_usd</code> 9,229,920,000" in text
    assert "<code>engagement_logrank_p</code> 0.00000110" in text
    assert "<code>peeking_naive_fpr_pct</code> not available" in text


def test_metric_text():
    assert metric_text(True) == "True" and metric_text(14_044_093) == "14,044,093"
    assert (
        metric_text(0.3511559) == "0.351" and metric_text("two_stage_ranker") == "two_stage_ranker"
    )


def test_failed_notebook_error_is_escaped_and_its_sentence_left_out():
    failed = result("05_experiments", EXPERIMENT, "failed", "ValueError: <b>x</b>")
    text = page([failed, result("06_revenue_impact", REVENUE)])
    assert '<a href="05_experiments.html">05_experiments (partial report)</a>' in text
    assert '<pre class="error">ValueError: &lt;b&gt;x&lt;/b&gt;</pre>' in text
    assert "1 of 2 notebooks ran; failed: 05_experiments" in text
    assert (
        "Left out of the bottom line: 05_experiments (failed), 02_recommenders (did not run)"
        in text
    )
    assert "+7.20 pp" not in text.split("<details")[0]
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_interrupted_run_is_flagged():
    text = page(
        [result("05_experiments", EXPERIMENT)], {**RUN, "unfinished": ["06_revenue_impact"]}
    )
    assert "This run was interrupted during 06_revenue_impact: 1 of 2 notebooks finished" in text


def test_parameters_shown_without_the_output_folder():
    text = page([result("05_experiments", EXPERIMENT)])
    assert "Parameters: PRESET=&#x27;default&#x27;, SEED=0." in text
    assert RUN["parameters"]["OUT_DIR"] not in text


def test_page_is_responsive():
    text = page([result("05_experiments", EXPERIMENT)])
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media (max-width: 600px)" in text and "overflow-x: auto" in text
    assert text.count('<div class="scroll">') == 2
