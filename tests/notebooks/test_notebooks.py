"""Every notebook runs end to end on the smoke preset; its headline figures are checked.

The figures are checked against public calibration targets and, where the simulator knows the
answer, against its truth: not only that the notebook ran.

Every statistical check holds on any draw it can meet. The simulated worlds depend on floating
point that differs between CPUs (a page served by a BLAS-fitted model changes the draw), so no
check asks one 95 % interval to cover its truth (a coin that one machine in twenty loses).
Instead an estimate must lie within ``Z_MAX`` standard errors of the truth (the standard error
read off its interval; a correct estimator fails that with probability 6e-5) or a coverage count
must reach its binomial bound. ``tests/unit/evaluation/test_truth_checks.py`` shows that a biased
estimator fails both.
"""

import json
import re
import sys
from pathlib import Path

import pytest

from persona_lib.evaluation.truth_checks import interval_se, min_covering, z_to_truth
from persona_lib.report.labels import label
from persona_lib.report.runner import discover_notebooks, run_notebooks

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from chromium import chromium_path, dump_dom, non_blank_fraction, screenshot  # noqa: E402

pytestmark = pytest.mark.slow


Z_MAX = 4.0  # |z| of an estimate against its truth; P(|Z| >= 4) = 6.3e-5 for a correct one


def metrics_of(run, name):
    return next(nb.metrics for nb in run.notebooks if nb.name == name)


def assert_near_truth(m, estimate, low, high, truth):
    """The estimate lies within `Z_MAX` standard errors (from its 95 % interval) of the truth;
    `truth` is a metric key or a number."""
    value = m[truth] if isinstance(truth, str) else truth
    z = float(z_to_truth(m[estimate], m[low], m[high], value))
    assert abs(z) < Z_MAX, (
        f"{estimate} = {m[estimate]:.4g} (CI {m[low]:.4g} to {m[high]:.4g}) lies {z:+.1f} "
        f"standard errors from {truth} = {value:.4g}"
    )


def test_every_notebook_runs(smoke_run):
    names = [path.stem for path in discover_notebooks(ROOT / "notebooks")]
    assert [nb.name for nb in smoke_run.notebooks] == names
    failed = {nb.name: nb.error for nb in smoke_run.notebooks if nb.status != "ok"}
    assert not failed, failed
    for nb in smoke_run.notebooks:
        out = Path(smoke_run.out_dir)
        assert (out / nb.html).is_file() and (out / nb.ipynb).is_file()
        assert nb.metrics, f"{nb.name} recorded no metrics"


def test_one_job_writes_what_parallel_jobs_wrote(smoke_run, smoke_data_dir, tmp_path):
    """The session's smoke run used one process per core; 05 and 07 again with ``jobs=1``
    (reading the worlds that run cached) write byte-identical metrics files."""
    serial = run_notebooks(
        preset="smoke", seed=0, out_dir=tmp_path / "serial", only=["05", "07"],
        parameters={"DATA_DIR": str(smoke_data_dir)}, progress=False, jobs=1,
    )  # fmt: skip
    assert not serial.failed, [nb.error for nb in serial.notebooks]
    for name in ("05_experiments", "07_sales_conversions"):
        parallel = (Path(smoke_run.out_dir) / f"{name}.metrics.json").read_bytes()
        assert (tmp_path / "serial" / f"{name}.metrics.json").read_bytes() == parallel, name


def test_data_signals_agree_with_truth_and_public_figures(smoke_run):
    m = metrics_of(smoke_run, "01_data_signals")
    assert m["engine"] == "duckdb"  # the funnel, sessions and hours came from SQL over the store
    # measured funnel rates sit within sampling noise of the simulator's true probabilities
    assert m["truth_check_max_abs_z"] < 4
    assert m["play_rate_per_impression_pct"] == pytest.approx(
        m["truth_play_rate_per_impression_pct"], rel=0.08
    )
    # play rates per impression in the low single-digit percent
    assert 1 < m["play_rate_per_impression_pct"] < 5
    # about 20 % of hours start from search (Gomez-Uribe & Hunt 2016)
    assert 10 < m["search_share_of_hours_pct"] < 30
    # members give up after about a minute: 60-90 s and 10-20 titles reviewed
    assert 30 < m["median_browse_s_without_play"] < 120
    assert 10 <= m["impressions_per_session"] <= 60
    # position bias: the sixth column converts far worse than the first
    assert m["col5_relative_play_rate"] < 0.7
    # a title scrolled past before plays less next time than one shown but never examined
    assert m["scroll_past_vs_seen_z"] < 0
    assert m["scroll_past_next_play_rate_pct"] < m["seen_only_next_play_rate_pct"]
    # monthly churn about 2-4 %
    assert 1.5 < m["monthly_churn_pct"] < 5
    # the play model learns something real from serving-time features
    assert m["play_model_auc"] > 0.62
    assert m["events"] > 100_000 and m["members"] == 1000


def test_recommenders_offline_and_online(smoke_run):
    m = metrics_of(smoke_run, "02_recommenders")
    for name in ("best", "popularity", "ease", "als", "blend"):
        assert 0 <= m[f"{name}_ndcg_at_10"] <= 1
    assert m["ease_ndcg_at_10"] > 0.2 and m["als_ndcg_at_10"] > 0.2
    assert m["best_ndcg_at_10"] >= m["popularity_ndcg_at_10"]
    # in the simulated service, with common random numbers, each page is served to the same
    # members on the same days; on smoke (members visit a quarter as often as on the calibrated
    # default) the pages' differences from the default page are within about two standard
    # errors of 0 in play rate and hours (in the calibrated world the ALS page's hours lie ~14
    # standard errors above 0: tests/unit/models/homepage/test_page_policy.py), so no sign is
    # asserted here, only that each estimate lies inside its interval
    assert m["page_als_play_rate_diff_ci_low"] < m["page_als_play_rate_diff"]
    assert m["page_als_play_rate_diff"] < m["page_als_play_rate_diff_ci_high"]
    assert m["page_als_hours_diff_ci_low"] < m["page_als_hours_diff"]
    assert m["page_als_hours_diff"] < m["page_als_hours_diff_ci_high"]
    assert m["default_hours_per_member"] > 0
    assert -1 <= m["offline_online_spearman"] <= 1
    # the feedback loop changes a member's page without a refit
    assert m["feedback_page_titles_changed_pct"] > 0
    assert m["plays_effective_catalog_size"] > 1


FLIP_SEED = 2  # on smoke, seed 2 puts another page first online than seed 0 (popularity vs EASE)


def _markdown_outputs(notebook: Path) -> str:
    """The computed sentences of an executed notebook: its Markdown outputs, joined."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        "".join(out["data"]["text/markdown"])
        for cell in cells
        for out in cell.get("outputs", [])
        if "text/markdown" in out.get("data", {})
    )


def _headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [
        line
        for cell in cells
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("#")
    ]


def _assert_sentences_follow_metrics(notebook: Path, m: dict) -> None:
    """Leaders are the best recorded values; a leader is named only when the recorded paired
    interval of leader minus runner-up excludes zero, otherwise the sentence says they cannot be
    told apart."""
    text = _markdown_outputs(notebook)
    assert "nan" not in text.lower().split()
    assert not any(re.search(r"\b(best|winner|wins)\b", h, re.I) for h in _headings(notebook))
    lifts = {p: m[f"{p}_play_rate_lift_pct"] for p in ("page_popularity", "page_ease", "page_als")}
    ndcg = {name: m[f"{name}_ndcg_at_10"] for name in ("popularity", "ease", "als", "blend")}
    checks = [
        ("online", "play-rate lift over the default page", max(lifts, key=lifts.get),
         m["online_leader_page"], m["online_runner_up_page"],
         m["online_leader_minus_runner_up_lift_ci_low_pp"], m["online_leader_significant"]),
        ("offline", "nDCG@10", m["best_offline_model"], m["best_offline_model"],
         m["offline_runner_up_model"], m["offline_leader_minus_runner_up_ndcg_at_10_ci_low"],
         m["offline_leader_significant"]),
    ]  # fmt: skip
    assert m["best_ndcg_at_10"] >= max(ndcg.values())
    for where, metric, expected, leader, runner_up, ci_low, significant in checks:
        assert leader == expected, f"{where}: recorded leader {leader}, best value {expected}"
        assert significant == (ci_low > 0), where
        leader, runner_up = label(leader), label(runner_up)  # sentences print keys as words
        named = f"{leader} ranks first on {metric}"
        tie = re.search(rf"(The top \d+ on {re.escape(metric)} cannot be told apart|"
                        rf"cannot be told apart on {re.escape(metric)}):", text)  # fmt: skip
        if significant:
            assert named in text, f"{where}: expected {named!r} in {text}"
        else:
            assert named not in text and f"ranks first on {metric}" not in text, where
            assert tie and leader in text[tie.start() : tie.start() + 300], where
            assert runner_up in text[tie.start() : tie.start() + 300], where


def test_recommenders_sentences_follow_the_numbers(smoke_run, tmp_path):
    """Another seed puts another page first online (seed 2 on this machine: popularity instead
    of EASE); the sentences follow the numbers of each run, not a winner written into the
    notebook. Which page leads is within noise on smoke, so the flip itself is not asserted (it
    could differ on another CPU); the sentences must agree with each run's numbers either way."""
    run = run_notebooks(
        preset="smoke", seed=FLIP_SEED, out_dir=tmp_path / "reports", only=["02"],
        parameters={"DATA_DIR": str(tmp_path / "data")}, progress=False,
    )  # fmt: skip
    assert not run.failed, [nb.error for nb in run.notebooks]
    flipped = metrics_of(run, "02_recommenders")
    default = metrics_of(smoke_run, "02_recommenders")
    _assert_sentences_follow_metrics(Path(run.out_dir) / "02_recommenders.ipynb", flipped)
    _assert_sentences_follow_metrics(Path(smoke_run.out_dir) / "02_recommenders.ipynb", default)


def test_artwork_personalization_against_truth(smoke_run):
    m = metrics_of(smoke_run, "03_artwork_personalization")
    # uniformly random artwork has no lift over the title's average artwork, by construction
    assert abs(m["truth_uniform_click_lift_pct"]) < 2
    # off-policy estimates of a fitted policy land near its exactly computed true value: within
    # Z_MAX standard errors (from its interval); every policy's DR and SNIPS error within Z_MAX
    # of that relative standard error (the policies are scored on the same logged rounds), not
    # within a fixed 6 % that a draw 2 standard errors out would cross (7.1 % on smoke after
    # the viewing calibration, 2.2 standard errors)
    assert_near_truth(
        m,
        "dr_greedy_logistic_clicks_per_1k",
        "dr_greedy_logistic_ci_low_per_1k",
        "dr_greedy_logistic_ci_high_per_1k",
        "truth_greedy_logistic_clicks_per_1k",
    )
    se = interval_se(m["dr_greedy_logistic_ci_low_per_1k"], m["dr_greedy_logistic_ci_high_per_1k"])
    bound = Z_MAX * 100 * float(se) / m["truth_greedy_logistic_clicks_per_1k"]
    assert m["dr_max_abs_error_pct"] < bound and m["snips_max_abs_error_pct"] < bound
    # a misspecified reward model biases DM more than DR corrects it
    assert m["dm_max_abs_error_pct"] > m["dr_max_abs_error_pct"]
    assert m["truth_greedy_logistic_clicks_per_1k"] > 1.1 * m["truth_uniform_clicks_per_1k"]
    # repeated logging runs in the simulator: the study's truth is the same exact value, DR and
    # IPS intervals cover it in most runs (nominal 95 %) and their error shrinks with the log
    assert m["truth_study_clicks_per_1k"] == pytest.approx(
        m["truth_greedy_logistic_clicks_per_1k"], rel=1e-12
    )
    assert m["study_dr_min_coverage_pct"] >= 70 and m["study_ipw_min_coverage_pct"] >= 70
    assert m["study_dr_relative_rmse_pct"] < 25
    # online, a learning policy beats random artwork: its true click lift (computed from the
    # simulator's click probabilities, no sampling noise of clicks) and less regret; the
    # measured take-fraction lift is about 3 standard errors above 0 on smoke, so only its sign
    # is asserted (P(< 0) about 1e-3), not that its interval excludes 0
    assert m["truth_linucb_click_lift_pct"] > 5
    assert m["linucb_take_fraction_lift_pct"] > 0
    assert m["truth_linucb_regret_clicks"] < m["truth_uniform_regret_clicks"]
    # in a world with clickbait, training on clicks buys clicks with clickbait artwork, and
    # those clicks turn into quality plays less often than the play-trained policy's
    assert m["click_trained_click_lift_pct"] > m["play_trained_click_lift_pct"]
    assert m["truth_click_trained_clickbait_share_pct"] > m["truth_uniform_clickbait_share_pct"] + 3
    assert m["click_trained_plays_per_click"] < m["play_trained_plays_per_click"]


def test_churn_retention_against_truth(smoke_run):
    m = metrics_of(smoke_run, "04_churn_retention")
    assert m["engine"] == "duckdb"  # point-in-time features were SQL over the event store
    # the world is calibrated to 2-4 % monthly churn and its logs agree with its own hazards
    assert 2 <= m["monthly_churn_pct"] <= 4
    assert abs(m["monthly_churn_pct"] - m["truth_monthly_churn_pct"]) < 0.5
    # churn models beat chance, stay near or below the truth's ceiling and predict the level
    # of churn within 1 percentage point (the target)
    assert 0.55 < m["logistic_roc_auc"] <= m["truth_roc_auc"] + 0.02
    assert 0.55 < m["lightgbm_roc_auc"] <= m["truth_roc_auc"] + 0.02
    # the chosen model (chosen on validation snapshots, not on the test) goes part of the way from
    # chance to the ceiling; smoke's ~180 test churners give this share a standard error near 10
    # points around ~55-65 % (62.5 % measured on seed 0 with the cross-fitted ChurnModel, which
    # now chooses LightGBM), so the bound sits more than Z_MAX of them below (the old ratio of
    # AUCs, auc_share_of_truth_pct, is gone)
    assert m["churn_model_chosen_on"] == "validation AUC"
    assert m["uplift_learner_chosen_on"] == "cross-fitted logged Qini"
    assert m["auc_share_above_chance_pct"] > 15
    assert abs(m["predicted_churn_pct"] - m["realized_churn_pct"]) < 1.0
    # ChurnModel chooses its capacity by inner cross-validation (recorded, inside its grids) and
    # calibrates on cross-fitted margins; on smoke seed 0 it chose C = 0.01 and 3 leaves, 40 trees
    assert m["logistic_chosen_C"] in (0.001, 0.01, 0.1, 1.0, 10.0)
    assert m["lightgbm_chosen_num_leaves"] in (3, 7, 15, 31)
    assert 1 <= m["lightgbm_chosen_n_estimators"] <= 500
    # retention: engagement tiers differ and more viewing lowers the weekly hazard
    assert m["engagement_logrank_p"] < 0.05 and m["hazard_odds_ratio_per_sd_hours_28d"] < 1
    assert 40 < m["km_12_month_retention_pct"] < 90
    # completion at play start: better than chance, below the exact ceiling, calibrated
    assert 0.6 < m["completion_roc_auc"] < m["truth_completion_roc_auc"]
    assert abs(m["completion_mean_predicted_pct"] - m["completion_rate_pct"]) < 2
    # the randomized push experiment estimates the true mean effect
    assert_near_truth(
        m,
        "push_effect_pp",
        "push_effect_ci_low_pp",
        "push_effect_ci_high_pp",
        "truth_push_effect_pp",
    )
    # targeting by the true effect is the ceiling of any learner and of random targeting (the
    # learner is chosen on logged outcomes only, so whether it beats random is reported, not
    # asserted: in this world most of a push's effect is a hidden trait); the learned send
    # hour is closer to each member's true best hour than a fixed evening hour
    assert m["truth_top30_model_visits"] <= m["truth_top30_oracle_visits"]
    assert m["truth_top30_random_visits"] < m["truth_top30_oracle_visits"]
    assert m["send_hour_within_1_pct"] > m["fixed_hour_within_1_pct"]


def test_experiments_calibrated_and_against_truth(smoke_run):
    m = metrics_of(smoke_run, "05_experiments")
    # the hashed assignment splits as designed
    assert m["srm_p_value"] > 0.001 and 45 < m["treated_share_pct"] < 55
    # the experiment estimates the true launch effects (known from counterfactual runs): each
    # within Z_MAX standard errors, and the coverage count reaches its binomial bound
    for metric, unit in (("play_rate_diff", "_pp"), ("hours_diff", ""), ("churn_diff", "_pp")):
        assert_near_truth(
            m,
            f"{metric}{unit}",
            f"{metric}_ci_low{unit}",
            f"{metric}_ci_high{unit}",
            f"truth_{metric}{unit}",
        )
    assert m["intervals_covering_truth"] >= min_covering(m["metrics_tested"])
    # the launch adds hours (true +1.6 h a member on smoke seed 0, about 3 of the estimate's
    # standard errors); its true effect on the play rate per visit is near 0 (-1.0 pp) because
    # most visits resume a series that either page shows, so its sign is not asserted
    assert m["truth_hours_diff"] > 0
    # CUPED: a narrower interval around the same truth
    assert m["cuped_variance_reduction_pct"] > 20
    cuped_width = m["hours_cuped_ci_high"] - m["hours_cuped_ci_low"]
    assert cuped_width < m["hours_diff_ci_high"] - m["hours_diff_ci_low"]
    assert_near_truth(
        m, "hours_cuped_diff", "hours_cuped_ci_low", "hours_cuped_ci_high", "truth_hours_diff"
    )
    # A/A calibration: the false-positive rate is 5 % within sampling error; peeking inflates
    # the naive test while the always-valid test holds
    assert_near_truth(
        m, "aa_false_positive_rate_pct", "aa_fpr_ci_low_pct", "aa_fpr_ci_high_pct", 5.0
    )
    assert m["peeking_naive_fpr_pct"] > 10 and m["peeking_msprt_fpr_pct"] < 6


def test_revenue_impact_against_truth(smoke_run):
    m = metrics_of(smoke_run, "06_revenue_impact")
    # ARPU lies between the cheapest and the dearest plan; ads members add ad revenue
    assert 7.99 < m["arpu_usd"] < 24.99 and m["ads_tier_arpu_usd"] > 7.99
    # the Netflix back-of-envelope: the three framings ask ever larger churn cuts
    assert 0.2 < m["netflix_churn_cut_steady_state_pp"]
    assert m["netflix_churn_cut_steady_state_pp"] < m["netflix_churn_cut_avoided_lifetime_pp"]
    assert m["netflix_churn_cut_avoided_lifetime_pp"] < m["netflix_churn_cut_avoided_first_year_pp"]
    assert m["netflix_churn_cut_avoided_first_year_pp"] < 1.5
    # the same experiment as notebook 05 (same parameters, same numbers), scaled with its CI
    assert (
        m["experiment_revenue_diff_usd"]
        == metrics_of(smoke_run, "05_experiments")["revenue_diff_usd"]
    )
    assert_near_truth(
        m,
        "scaled_revenue_usd_per_year",
        "scaled_revenue_ci_low_usd",
        "scaled_revenue_ci_high_usd",
        "truth_scaled_revenue_usd_per_year",
    )


def test_sales_conversions_against_truth(smoke_run):
    m = metrics_of(smoke_run, "07_sales_conversions")
    # upsell: an offer lifts upgrades over no offer, the targeted third reaches at most what an
    # offer to everyone does, and the estimate from the logs alone lies near the true value.
    # Whether the uplift-targeted third beats a random third is the notebook's to state from
    # the truth's interval: on smoke seed 0 it does by +1.1 per 1k (CI low +0.2, about 2
    # standard errors, against about 20 before the viewing calibration), a coin here
    assert m["truth_upsell_none_upgrades_per_1k"] < m["truth_upsell_top_upgrades_per_1k"]
    assert m["truth_upsell_top_upgrades_per_1k"] <= m["truth_upsell_everyone_upgrades_per_1k"]
    assert_near_truth(
        m,
        "upsell_top_upgrades_per_1k",
        "upsell_top_upgrades_ci_low",
        "upsell_top_upgrades_ci_high",
        "truth_upsell_top_upgrades_per_1k",
    )
    # win-back: a featured title brings back more than no message; the logged random-title arm
    # estimates its true rate; the personalized title is no worse than a random one
    assert m["winback_lapsed"] >= 200
    assert (
        m["truth_winback_none_reactivations_per_1k"]
        < m["truth_winback_popular_reactivations_per_1k"]
    )
    assert_near_truth(
        m,
        "winback_featured_random_reactivations_per_1k",
        "winback_featured_random_ci_low",
        "winback_featured_random_ci_high",
        "truth_winback_featured_random_reactivations_per_1k",
    )
    assert (
        m["truth_winback_personalized_reactivations_per_1k"]
        > m["truth_winback_featured_random_reactivations_per_1k"]
    )
    # cross-sell: games chosen by viewing taste beat the most popular games (interval above 0),
    # and the model's own expectation is within 10 % of the truth
    assert m["truth_cross_sell_model_vs_popularity_ci_low"] > 0
    assert m["cross_sell_model_adoptions_per_1k"] == pytest.approx(
        m["truth_cross_sell_model_adoptions_per_1k"], rel=0.1
    )
    # ads: targeted categories draw more responses than untargeted ads; more ad load loses
    # members, and the experiment's churn estimate lies near the truth
    assert m["truth_ads_targeting_lift_ci_low"] > 0
    assert m["truth_ads_6_vs_4_churn_6m_per_1k"] > 0
    assert_near_truth(
        m,
        "ads_6_churn_6m_per_1k",
        "ads_6_churn_6m_ci_low",
        "ads_6_churn_6m_ci_high",
        "truth_ads_6_churn_6m_per_1k",
    )
    # six ad minutes an hour earn more than four in the first year; over a lifetime the extra
    # churn takes part of it back (with realistic hours the lifetime difference is positive too:
    # its sign is the notebook's to state, from the numbers)
    assert 0 < m["truth_ads_6_vs_4_revenue_12m_usd"]
    assert m["ads_tier_arpu_usd"] == pytest.approx(m["truth_ads_tier_arpu_usd"], rel=0.05)
    assert m["ads_tier_arpu_usd"] > 7.99
    # the conversion map adds the three personalization levers, each against its best
    # non-personalized alternative (not against doing nothing) and per 1,000 members of the
    # whole service; the ad-load trade stays out. Each lever's paired difference lies 9 to 20
    # standard errors above zero on smoke, and the sum about 13 (conservative) standard errors
    gain = m["personalization_vs_baselines_per_1k_members_usd"]
    assert (
        m["personalization_vs_baselines_ci_low"] < gain < m["personalization_vs_baselines_ci_high"]
    )
    assert 0 < gain


def test_index_lists_every_report_with_its_figures(smoke_run):
    index = Path(smoke_run.index).read_text(encoding="utf-8")
    for nb in smoke_run.notebooks:
        assert f"{nb.name}.html" in index
    assert "play_rate_per_impression_pct" in index
    # the bottom line opens the page, then the summary (estimates with their truth), then the
    # reports; the bottom line's sentences carry intervals
    assert index.index("Bottom line") < index.index("Summary") < index.index("Reports")
    assert "Plays per title shown" in index and "Truth (simulator)" in index
    assert "95 % CI" in index[index.index("Bottom line") : index.index("Summary")]
    run = json.loads(Path(smoke_run.run_json).read_text(encoding="utf-8"))
    assert run["parameters"]["PRESET"] == "smoke"


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="chromium is not on PATH")
def test_data_signals_report_draws_its_charts_offline(smoke_run, tmp_path):
    out = Path(smoke_run.out_dir)
    report = out / next(nb.html for nb in smoke_run.notebooks if nb.name == "01_data_signals")
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(report), flags=re.S | re.I)
    charts = len(re.findall(r'<svg[^>]*class="marks"', dom))
    assert charts >= 12, f"only {charts} charts rendered"
    assert 'class="error"' not in dom
    png = screenshot(report, tmp_path / "report.png", height=3000)
    assert non_blank_fraction(png) > 0.04
    index_png = screenshot(out / Path(smoke_run.index).name, tmp_path / "index.png", height=900)
    assert non_blank_fraction(index_png) > 0.01


def _chart_cells(notebook: Path) -> int:
    """Code cells of a notebook whose result is a chart (a line starting with ``charts.``)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(
        1
        for c in cells
        if c["cell_type"] == "code" and re.search(r"^charts\.\w+\(", "".join(c["source"]), re.M)
    )


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="chromium is not on PATH")
def test_every_report_draws_every_chart_offline(smoke_run):
    out = Path(smoke_run.out_dir)
    for nb in smoke_run.notebooks:
        expected = _chart_cells(ROOT / "notebooks" / f"{nb.name}.ipynb")
        dom = re.sub(r"<script\b.*?</script>", "", dump_dom(out / nb.html), flags=re.S | re.I)
        drawn = len(re.findall(r'<svg[^>]*class="marks"', dom))
        assert drawn >= expected > 0, f"{nb.name}: {drawn} of {expected} charts drawn"
        assert 'class="error"' not in dom, nb.name
        # the reader view: no file-system path (the page's own file:// URL aside), tables
        # for reading, code folded and closed, a table of contents
        body = re.sub(r"<head\b.*?</head>", "", dom, count=1, flags=re.S | re.I)
        paths = re.findall(r"(?<![\w.])(?<!file://)/(?:tmp|work|home|root)/\S{0,40}", body)
        assert not paths, f"{nb.name}: absolute paths {paths}"
        text = re.sub(r"<[^>]+>", " ", body)
        for raw in ("NaN", "dtype:", "e+0", "e-0"):
            assert raw not in text, f"{raw!r} in {nb.name}"
        folds = re.findall(r'<details\b[^>]*\bclass="persona-code"[^>]*>', body)
        assert folds and not [tag for tag in folds if re.search(r"\sopen\b", tag)], nb.name
        assert '<nav class="persona-toc">' in body, nb.name
