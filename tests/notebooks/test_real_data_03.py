"""03 on the Open Bandit Dataset imported as logs: the off-policy value of the uniform-random item
policy from the Bernoulli TS logs, beside the CTR the random policy logged itself.

`persona import obd --policy bts --campaign all` turns the 10,000 logged rounds into impressions
of items at slots with clicks and the logging propensities (no artworks), and writes into
``published.json`` the random policy's on-policy CTR in the same sample (38 clicks in 10,000
rounds) and Saito et al. 2021's full-data CTRs. ``persona run --data`` on that folder runs 03 and
must

- succeed, leave out every artwork section (no `artworks` table) and the simulator's, and record
  only the item section's figures;
- record the estimates that ``benchmarks/obd_ope.py`` computes for the same campaign (its own
  functions, imported from ``benchmarks/``): every estimator, value and 95 % interval, with the
  notebook's bootstrap count and threshold, which are the benchmark's;
- show the random policy's on-policy CTR, its clicks and its exact interval beside them, and
  the published figures beside this run's.

Tolerance: FLOAT64 (tests/tolerances.py). The benchmark reads the propensities from OBD's CSV as
float64 and the notebook from the imported folder, where persona's schema stores them as
float32; `persona_lib.evaluation.ope.logged_items.logged_probabilities` reads them back as the
decimals that were logged (they match the CSV's to 2e-16 relative), so both sides compute the
same float64 formulas on the same rounds, the same folds and the same bootstrap draws.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from imported_runs import run_on_import
from own_logs_checks import markdown_text
from shared_data import SHARED_DATA
from tolerances import FLOAT64, approx64

from persona_lib.data.published import read_published
from persona_lib.datasets.importers import import_obd
from persona_lib.report.parameters import parameter_defaults

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "benchmarks") not in sys.path:  # the benchmark's own functions, as tests/regression
    sys.path.append(str(ROOT / "benchmarks"))
import obd_ope as bench  # noqa: E402

NAME = "03_artwork_personalization"
NOTEBOOK = ROOT / "notebooks" / f"{NAME}.ipynb"
OBD = SHARED_DATA / "obd"
CAMPAIGN = "all"

pytestmark = pytest.mark.real_data  # about 12 s: the import, then 03 with its item section only


@pytest.fixture(scope="module")
def obd(tmp_path_factory):
    """The imported folder and 03's run on it: (folder, NotebookResult, executed notebook)."""
    logs, run, run_dir = run_on_import(
        tmp_path_factory, "obd", OBD / "SHA256SUMS", import_obd, OBD, ["03"],
        policy="bts", campaign=CAMPAIGN,
    )  # fmt: skip
    return logs, run.notebooks[0], run_dir / f"{NAME}.ipynb"


@pytest.fixture(scope="module")
def benchmark():
    """``benchmarks/obd_ope.py``'s result for the campaign, with the notebook's settings."""
    defaults = parameter_defaults(NOTEBOOK)
    assert (defaults["ITEM_TAU"], defaults["SEED"]) == (bench.TAU, bench.SEED)
    result, _ = bench.evaluate_campaign(OBD, CAMPAIGN, defaults["ITEM_BOOTSTRAP"])
    return result


def output_text(executed: Path) -> str:
    """What the executed notebook shows: markdown outputs and HTML tables, tags stripped."""
    texts = []
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                texts.append("".join(data["text/markdown"]))
            elif "text/html" in data and "persona-table" in "".join(data["text/html"]):
                html = re.sub(r"<style.*?</style>", " ", "".join(data["text/html"]), flags=re.S)
                texts.append(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    return "\n".join(texts).replace("&#39;", "'").replace("&#x27;", "'")


def test_03_runs_on_obd_and_records_only_the_item_section(obd):
    _, result, executed = obd
    assert result.status == "ok", result.error
    assert result.metrics and all(key.startswith("item_") for key in result.metrics)
    text = markdown_text(executed)
    for heading, need in (
        ("## 1. Logged rounds", "an `artworks` table"),
        ("## 2. Off-policy estimates of artwork policies", "an `artworks` table"),
        ("## 6. Online: the same members under each artwork policy", "the simulator itself"),
    ):
        assert f"{heading}\nNot computed on these logs: this section needs {need}" in text
    assert "## 5. Off-policy value of item policies\n\nWhere the logged decision" in text


def test_03_estimates_equal_the_benchmarks(obd, benchmark):
    _, result, _ = obd
    m = result.metrics
    assert (m["item_rounds"], m["item_count"]) == (10_000, benchmark["n_items"])
    assert m["item_logged_clicks"] == benchmark["bts_logs_clicks"] == 42
    assert m["item_logged_ctr_pct"] == approx64(100 * benchmark["bts_logs_ctr"])
    assert m["item_uniform_ess"] == approx64(benchmark["weights"]["ess"])
    estimates = {k: v for k, v in benchmark["estimates"].items() if isinstance(v, dict)}
    assert set(estimates) == set(bench.ESTIMATORS)
    for name, e in estimates.items():
        ours = [m[f"item_uniform_{name}_{part}_pct"] for part in ("ctr", "ci_low", "ci_high")]
        theirs = [100 * e["estimate"], 100 * e["ci95"][0], 100 * e["ci95"][1]]
        np.testing.assert_allclose(ours, theirs, **FLOAT64, err_msg=name)


def test_03_shows_the_random_policys_on_policy_ctr_beside_the_estimates(obd, benchmark):
    folder, result, executed = obd
    truth = benchmark["truth_random_logs"]
    reference = read_published(folder, NAME)[0]
    assert reference.value == 100 * truth["ctr"] == 0.38  # 38 clicks in 10,000 rounds: exact
    low, high = (100 * x for x in truth["ctr_ci95_exact_binomial"])
    detail = f"38 clicks in 10,000 rounds (exact 95 % CI {low:.2f} % to {high:.2f} %)"
    assert detail in reference.label
    text = output_text(executed)
    # the estimates' table: the estimators, then the references with their labels
    assert re.search(r"DR 0\.212 0\.061 0\.422 off-policy estimate from these logs", text)
    assert f"reference 1 0.380 — — {reference.label}" in text
    # the computed sentence: the intervals that hold the on-policy CTR, as in the benchmark
    holds = [name for name, e in benchmark["estimates"].items()
             if isinstance(e, dict) and e["truth_in_ci95"]]  # fmt: skip
    assert f"Reference 1 (0.38 %) lies inside {len(holds)} of 7 intervals" in text
    # the headline's published figures beside this run's
    figures = read_published(folder, NAME)
    assert len(figures) == 3
    agree = sum(f.agrees(result.metrics[f.key]) for f in figures)
    assert f"{agree} of 3 published figures are reproduced to their printed precision" in text
    dr = result.metrics["item_uniform_dr_ctr_pct"]
    assert f"{reference.label} 0.38 % {dr:.4f} % no" in text
