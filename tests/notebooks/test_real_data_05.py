"""05 on the Cookie Cats A/B test imported as logs: the published figures, reproduced.

`persona import cookie-cats` turns the 90,189 players into members with their gate variant
(``assignments``) and their ``retention_1``, ``retention_7`` and ``sum_gamerounds``
(``outcomes``), with no events or billing, and writes the figures published from the file
(``published.json``, see ../shared/data/README.md). ``persona run --data`` on that folder runs
05 with its default parameters and must

- succeed without simulating, and record no truth, event or billing figure;
- reproduce every published figure at its printed precision (`PublishedFigure.agrees` on the
  recorded metric): 7-day retention 19.02 % (gate_30, n = 44,700) vs 18.20 % (gate_40,
  n = 45,489), difference -0.82 pp, 95 % CI (-1.33, -0.31), p 0.0016; sample-ratio check
  against 50/50, chi-square 6.90, p 0.0086;
- show the published figures beside its own in the report, and say what each section it left
  out (A/A tests, peeking, segments: they read events) would need.
"""

import json
from pathlib import Path

import pytest
from imported_runs import run_on_import, simulated_nothing
from own_logs_checks import markdown_text
from shared_data import SHARED_DATA

from persona_lib.data.published import read_published
from persona_lib.datasets.importers import import_cookie_cats
from persona_lib.report.numbers import fmt

NAME = "05_experiments"
COOKIE_CATS = SHARED_DATA / "cookie_cats" / "cookie_cats.csv"
EVENT_OR_BILLING = (
    "play_rate_diff_pp", "hours_diff", "hours_cuped_diff", "churn_diff_pp", "revenue_diff_usd",
    "aa_false_positive_rate_pct", "experiment_days",
)  # fmt: skip

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def cookie_cats(tmp_path_factory):
    """The imported folder and 05's run on it: (folder, NotebookResult, run folder)."""
    logs, run, run_dir = run_on_import(
        tmp_path_factory, "cookie_cats", COOKIE_CATS, import_cookie_cats, COOKIE_CATS, [NAME[:2]]
    )
    assert simulated_nothing(run_dir), "the run on logs simulated"
    return logs, run.notebooks[0], run_dir


def test_05_reproduces_every_published_cookie_cats_figure(cookie_cats):
    folder, result, _ = cookie_cats
    assert result.status == "ok", result.error
    figures = read_published(folder, NAME)
    assert len(figures) == 10
    m = result.metrics
    off = {
        f.key: (m.get(f.key), f.value) for f in figures if f.key not in m or not f.agrees(m[f.key])
    }
    assert not off, f"published figures not reproduced (this run, published): {off}"
    assert m["members"] == 90_189 and m["metrics_tested"] == 3
    assert not [k for k in m if k.startswith("truth") or "_truth_" in k], "truth figures on logs"
    assert not [k for k in EVENT_OR_BILLING if k in m], "event or billing figures without them"


def test_05_report_shows_the_published_figures_beside_its_own(cookie_cats):
    folder, result, run_dir = cookie_cats
    assert result.status == "ok", result.error
    executed = run_dir / f"{NAME}.ipynb"
    outputs = "\n".join(
        "".join(out["data"].get("text/html", "")) + "".join(out["data"].get("text/markdown", ""))
        for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]
        for out in cell.get("outputs", [])
        if "data" in out
    )
    sentence = "10 of 10 published figures are reproduced to their printed precision."
    assert sentence in outputs
    assert sentence in (run_dir / f"{NAME}.html").read_text(encoding="utf-8")
    for f in read_published(folder, NAME):
        assert f.label in outputs and fmt(f.value, f.unit, decimals=f.decimals) in outputs, f.key
    assert "-0.82 pp (95 % CI -1.33 to -0.31 pp); the interval excludes zero" in outputs
    assert "not computed from these logs: play rate and hours (no events)" in outputs
    text = markdown_text(executed)
    needs = "Not computed on these logs: this section needs an `events` table."
    for heading in ("## 3. Is the toolkit honest here? A/A tests", "## 4. Peeking",
                    "## 5. Many metrics, many segments"):  # fmt: skip
        assert f"{heading}\n{needs}" in text, heading
    assert "## 2. How big must an experiment be?\n\nThe minimum detectable effect" in text
    assert Path(folder / "published.json").is_file()
