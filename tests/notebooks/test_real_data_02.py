"""02 on MovieLens 100K imported as logs: the offline comparison on a time cut, and nothing else.

`persona import movielens` turns each rating into a ``play_start`` at the rating's time, with
titles (genres, years) and members but no impressions, watch time or billing. ``persona run
--data`` on that folder runs 02 with its default parameters (the same time cut and tuning
budget as on any logs) and must

- succeed, and record nDCG, recall and MAP at K, coverage and effective catalog size for every
  model of the offline table (and no online or truth figure);
- record figures equal to the library's own computation on the same time cut (popularity);
- say, for each section it left out (the online comparison and its agreement with offline, which
  run the simulator), what it would need, and say that the published MovieLens figures come
  from another protocol (a stratified split, not a time cut), with none set beside these.
"""

import json
from pathlib import Path

import pytest
from imported_runs import run_on_import
from own_logs_checks import markdown_text
from shared_data import SHARED_DATA

from persona_lib.data import open_logs
from persona_lib.datasets.importers import import_movielens
from persona_lib.evaluation import map_at_k, ndcg_at_k, recall_at_k, temporal_holdout
from persona_lib.models import PopularityRecommender
from persona_lib.report.parameters import parameter_defaults

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_recommenders.ipynb"
ML_100K = SHARED_DATA / "movielens" / "ml-100k"
MODELS = ("popularity", "trending", "item_knn", "ease", "als", "bpr", "content", "blend", "ranker")
SIMULATOR_ONLY = ("online_members", "page_als_play_rate_diff", "offline_online_spearman")

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    """The imported folder and 02's run on it: (folder, NotebookResult, executed notebook)."""
    logs, run, run_dir = run_on_import(
        tmp_path_factory, "ml100k", ML_100K, import_movielens, ML_100K, ["02"]
    )
    return logs, run.notebooks[0], run_dir / "02_recommenders.ipynb"


def test_02_runs_on_movielens_and_records_the_offline_table_for_every_model(ml100k):
    _, result, _ = ml100k
    assert result.status == "ok", result.error
    m = result.metrics
    k = parameter_defaults(NOTEBOOK)["K"]
    for model in MODELS:
        for key in (f"ndcg_at_{k}", f"recall_at_{k}", f"map_at_{k}"):
            assert 0 <= m[f"{model}_{key}"] <= 1, (model, key)
        assert 0 < m[f"{model}_coverage_pct"] <= 100, model
        assert 1 <= m[f"{model}_effective_catalog_size"] <= 1_682, model
    assert m[f"best_ndcg_at_{k}"] == max(m[f"{model}_ndcg_at_{k}"] for model in MODELS)
    assert m["test_members"] > 0 and m["tuning_settings_scored"] > 0
    assert not [key for key in m if key.startswith("truth") or "_truth_" in key]
    assert not [key for key in SIMULATOR_ONLY if key in m], "simulator figures on logs"


def test_02_popularity_figures_equal_the_library_on_the_same_time_cut(ml100k):
    folder, result, _ = ml100k
    assert result.status == "ok", result.error
    defaults = parameter_defaults(NOTEBOOK)
    k = defaults["K"]
    logs = open_logs(folder)
    holdout = temporal_holdout(logs.events, test_days=defaults["TEST_DAYS"])
    model = PopularityRecommender().fit(
        holdout.train, n_users=len(logs.users), n_titles=len(logs.titles), titles=logs.titles
    )
    recs = model.recommend(holdout.users, k=k)
    m = result.metrics
    assert m["test_members"] == holdout.users.size == 53  # members who started a new title
    for metric, formula in (("ndcg", ndcg_at_k), ("recall", recall_at_k), ("map", map_at_k)):
        ours = formula(holdout.truth, recs, k)
        assert m[f"popularity_{metric}_at_{k}"] == pytest.approx(ours, rel=1e-12), metric
    assert m["popularity_coverage_pct"] == pytest.approx(
        100 * recs.loc[recs["rank"] <= k, "title_id"].nunique() / len(logs.titles), rel=1e-12
    )


def test_02_says_what_it_left_out_and_that_published_figures_use_another_split(ml100k):
    _, result, executed = ml100k
    assert result.status == "ok", result.error
    text = markdown_text(executed)
    needs = "Not computed on these logs: this section needs the simulator itself"
    headings = (
        "## 5. Online, in the simulated service",
        "## 6. Do offline metrics rank the models like the online outcome?",
    )
    for heading in headings:
        assert f"{heading}\n{needs}" in text, heading
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    sentences = "\n".join(
        "".join(out["data"]["text/markdown"])
        for cell in cells
        for out in cell.get("outputs", [])
        if "text/markdown" in out.get("data", {})
    )
    assert "These logs record no watch time" in sentences  # offline weights, and the pages
    assert "not comparable with these and none is set beside them" in sentences
    assert "benchmarks/movielens_100k.py" in sentences
