"""04 and 06 on the IBM Telco churn table imported as logs: members and billing, no viewing.

`persona import telco` turns the 7,043 customers into members (plan and price, the file's 21
columns kept) with a monthly billing history reconstructed from tenure, and a ``churned`` row
for each of the 1,869 churners; there are no events or titles. ``persona run --data`` on that
folder must

- run both notebooks without simulating and record no truth figure and no figure of a section
  that reads viewing, pushes or the simulator;
- record figures equal to the same arithmetic done here on the imported tables (and, where the
  reconstruction keeps it, on the source file): 04's members, days, monthly churn and share of
  members who churned (26.54 %, the share published for the file, shown beside it in the
  report); 06's ARPU overall and of the ads tier (phone-only customers);
- say, for every section it left out, what that section needs.
"""

import json

import numpy as np
import pandas as pd
import pytest
from imported_runs import run_on_import, simulated_nothing
from own_logs_checks import markdown_text, result_of
from shared_data import SHARED_DATA

from persona_lib.data import load_logs
from persona_lib.data.published import read_published
from persona_lib.datasets.importers.telco import import_telco
from persona_lib.datasets.telco import TELCO_FILE, load_telco

TELCO = SHARED_DATA / "telco" / TELCO_FILE
CHURN, REVENUE = "04_churn_retention", "06_revenue_impact"
PAID = ("new", "renewed", "reactivated")
EVENTS = "Not computed on these logs: this section needs an `events` table."
SIMULATOR = (
    "Not computed on these logs: this section needs the simulator itself (it compares or "
    "replays policies the logs did not run)."
)
VIEWING_FIGURES = {
    CHURN: ("train_churners", "logistic_roc_auc", "best_churn_model", "top_churn_driver",
            "engagement_logrank_p", "completion_roc_auc", "push_effect_pp"),
    REVENUE: ("experiment_revenue_diff_usd", "scaled_revenue_usd_per_year",
              "experiment_churn_diff_pp"),
}  # fmt: skip

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    """The imported folder, its tables and the run of 04 and 06 on it."""
    logs, run, run_dir = run_on_import(
        tmp_path_factory, "telco", TELCO, import_telco, TELCO, ["04", "06"]
    )
    assert simulated_nothing(run_dir), "the run on logs simulated"
    return logs, load_logs(logs), run, run_dir


def outputs_text(executed) -> str:
    """The markdown and HTML outputs of an executed notebook, joined."""
    return "\n".join(
        "".join(out["data"].get("text/html", "")) + "".join(out["data"].get("text/markdown", ""))
        for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]
        for out in cell.get("outputs", [])
        if "data" in out
    )


@pytest.mark.parametrize("name", [CHURN, REVENUE])
def test_runs_on_members_and_billing_alone(telco, name):
    _, _, run, _ = telco
    result = result_of(run, name)
    assert result.status == "ok", result.error
    m = result.metrics
    assert not [k for k in m if k.startswith("truth") or "_truth_" in k], "truth figures on logs"
    assert not [k for k in VIEWING_FIGURES[name] if k in m], "figures of sections left out"


def test_04_churn_figures_are_the_imported_tables(telco):
    folder, logs, run, run_dir = telco
    m = result_of(run, CHURN).metrics
    billing, users = logs.billing, logs.users
    status = billing["status"].astype(str)
    churned = int((status == "churned").sum())
    renewals = int(status.isin(["renewed", "churned", "payment_failed"]).sum())
    days = billing["period_start"].to_numpy().astype("datetime64[D]")
    assert m["members"] == len(users) == 7_043
    assert m["days"] == int((days.max() - days.min()).astype(np.int64)) + 1
    assert m["renewals"] == renewals
    assert m["monthly_churn_pct"] == pytest.approx(100 * churned / renewals, rel=1e-12)
    assert m["involuntary_share_pct"] == 0.0
    # one churned row per churner of the file: the file's churn share, 1,869 of 7,043
    churners = int(load_telco(TELCO)["Churn"].sum())
    assert billing.loc[status == "churned", "user_id"].nunique() == churners == 1_869
    assert m["members_churned_pct"] == pytest.approx(100 * churners / 7_043, rel=1e-12)
    (published,) = read_published(folder, CHURN)
    assert published.key == "members_churned_pct" and published.agrees(m["members_churned_pct"])
    assert 0 < m["km_12_month_retention_pct"] < 100
    shown = outputs_text(run_dir / f"{CHURN}.ipynb")
    assert "1 of 1 published figures are reproduced to their printed precision." in shown
    assert "1,869 members (26.54 % of all) ended a membership in that window." in shown
    # the import puts every churn in the last month: of the renewals due then
    last = status[(billing["period_start"] == billing["period_start"].max()) & (status != "new")]
    rate = f"{100 * (last == 'churned').mean():.2f} % of its {len(last):,} renewals."
    assert f"The month with the most churn, 2017-12, lost {rate}" in shown


def test_04_says_what_each_section_left_out_needs(telco):
    text = markdown_text(telco[3] / f"{CHURN}.ipynb")
    for heading in ("## 2. Point-in-time features", "## 3. Churn models",
                    "## 4. Why: drivers of the prediction",
                    "### Engagement tiers and a hazard model"):  # fmt: skip
        assert f"{heading}\n{EVENTS}" in text, heading
    assert (
        "## 6. Will this member finish this title?\nNot computed on these logs: this section "
        "needs an `events` table and a `titles` table." in text
    )
    assert (
        "## 7. Re-engagement pushes: whom to nudge, and when\nNot computed on these logs: this "
        "section needs an `events` table and a `notifications` table." in text
    )
    assert "## 5. Retention curves\n\nKaplan-Meier curves" in text  # ran, with its text


def test_06_revenue_figures_are_the_imported_tables(telco):
    _, logs, run, run_dir = telco
    m = result_of(run, REVENUE).metrics
    paid = logs.billing[logs.billing["status"].astype(str).isin(PAID)]
    price = paid["price"].to_numpy(np.float64)
    ads = paid["plan"].astype(str).to_numpy() == "ads"
    assert m["arpu_usd"] == pytest.approx(price.mean(), rel=1e-12)
    assert m["ads_tier_arpu_usd"] == pytest.approx(price[ads].mean(), rel=1e-12)
    # and on the source file: each customer paid MonthlyCharges for each month of tenure
    # (float32 prices in the billing table: 1e-6)
    source = load_telco(TELCO)
    weighted = (source["tenure"] * source["MonthlyCharges"]).sum() / source["tenure"].sum()
    assert m["arpu_usd"] == pytest.approx(weighted, rel=1e-6)
    assert m["best_ltv_plan"] in {"ads", "basic", "standard", "premium"}
    assert m["mean_ltv_usd"] > 0
    shown = outputs_text(run_dir / f"{REVENUE}.ipynb")
    assert "These logs record no viewing, so no ad revenue is counted" in shown
    assert f"A paying member brings {m['arpu_usd']:,.2f} USD a month on average" in shown


def test_06_says_what_each_section_left_out_needs(telco):
    text = markdown_text(telco[3] / f"{REVENUE}.ipynb")
    assert f"## 3. What the personalization experiment is worth\n{SIMULATOR}" in text
    assert "## 1. Revenue per member, by plan\n\nEach paid billing period" in text
    assert "## 2. Lifetime and lifetime value by plan\n\nKaplan-Meier" in text
    assert "## 4. The Netflix back-of-envelope\n\nGomez-Uribe" in text
    assert not pd.isna(result_of(telco[2], REVENUE).metrics["netflix_churn_cut_steady_state_pp"])
