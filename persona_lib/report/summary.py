"""The executive summary at the top of the index page: each notebook's headline figures.

`HEADLINES` names, per notebook, the few metrics a reader needs first, how to print them, and the
simulator's true value recorded beside them (``truth_*`` keys) where there is one. Metrics a
notebook did not record are left out, so a partial run still gets a summary. Every string is
escaped: metric values may come from user data.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Headline:
    """One figure of the summary: metric key, label, format and optional truth key."""

    key: str
    label: str
    fmt: str = "{:,.3g}"
    truth: str | None = None


HEADLINES: dict[str, tuple[Headline, ...]] = {
    "01_data_signals": (
        Headline(
            "play_rate_per_impression_pct",
            "Plays per impression",
            "{:.2f} %",
            "truth_play_rate_per_impression_pct",
        ),
        Headline("search_share_of_hours_pct", "Hours started from search", "{:.0f} %"),
        Headline("monthly_churn_pct", "Monthly churn", "{:.2f} %"),
    ),
    "02_recommenders": (
        Headline("best_offline_model", "Best model offline", "{}"),
        Headline(
            "page_als_play_rate_lift_pct", "Personalized page: sessions with a play", "{:+.1f} %"
        ),
        Headline("plays_effective_catalog_size", "Effective catalog size of plays", "{:,.0f}"),
    ),
    "03_artwork_personalization": (
        Headline(
            "dr_greedy_logistic_clicks_per_1k",
            "Off-policy (DR) value of a learned policy",
            "{:.1f} clicks / 1k",
            "truth_greedy_logistic_clicks_per_1k",
        ),
        Headline(
            "linucb_take_fraction_lift_pct",
            "LinUCB artwork: quality plays per impression",
            "{:+.1f} %",
        ),
        Headline("study_dr_coverage_pct", "DR intervals holding the true value", "{:.0f} %"),
    ),
    "04_churn_retention": (
        Headline(
            "auc_share_of_truth_pct", "Churn model AUC, share of the true hazard's", "{:.0f} %"
        ),
        Headline(
            "predicted_churn_pct",
            "Predicted churn at next renewal",
            "{:.2f} %",
            "truth_predicted_churn_pct",
        ),
        Headline(
            "push_effect_pp",
            "Effect of a re-engagement push on visits",
            "{:+.2f} pp",
            "truth_push_effect_pp",
        ),
    ),
    "05_experiments": (
        Headline(
            "play_rate_diff_pp",
            "Personalization: sessions with a play",
            "{:+.1f} pp",
            "truth_play_rate_diff_pp",
        ),
        Headline(
            "hours_cuped_diff",
            "Personalization: hours per member (CUPED)",
            "{:+.2f} h",
            "truth_hours_diff",
        ),
        Headline("aa_false_positive_rate_pct", "A/A false-positive rate at 5 %", "{:.1f} %"),
    ),
    "06_revenue_impact": (
        Headline("arpu_usd", "Revenue per paid member-month", "{:.2f} USD"),
        Headline(
            "scaled_revenue_usd_per_year",
            "Experiment's revenue effect, scaled (USD/year)",
            "{:+,.3g}",
            "truth_scaled_revenue_usd_per_year",
        ),
        Headline(
            "netflix_churn_cut_steady_state_pp",
            "Churn cut worth $1B/yr to Netflix (2016)",
            "{:.2f} pp",
        ),
    ),
    "07_sales_conversions": (
        Headline(
            "upsell_top_upgrades_per_1k",
            "Uplift-targeted upgrade offer: upgrades per 1,000 eligible",
            "{:.1f}",
            "truth_upsell_top_upgrades_per_1k",
        ),
        Headline(
            "cross_sell_model_adoptions_per_1k",
            "Games recommended by viewing taste: adoptions per 1,000",
            "{:.0f}",
            "truth_cross_sell_model_adoptions_per_1k",
        ),
        Headline(
            "ads_tier_arpu_usd",
            "Ads-tier revenue per member-month (basic plan: 11.99)",
            "{:.2f} USD",
            "truth_ads_tier_arpu_usd",
        ),
        Headline(
            "combined_revenue_per_1k_members_usd",
            "Sales levers, true revenue per 1,000 members in a year",
            "{:,.0f} USD",
        ),
    ),
}


def _format(fmt: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def summary_rows(name: str, metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, truth) strings of one notebook's headlines that its metrics hold."""
    rows = []
    for h in HEADLINES.get(name, ()):
        if h.key not in metrics:
            continue
        truth = _format(h.fmt, metrics[h.truth]) if h.truth and h.truth in metrics else ""
        rows.append((h.label, _format(h.fmt, metrics[h.key]), truth))
    return rows


def summary_html(notebooks: list[tuple[str, str | None, dict[str, Any]]]) -> str:
    """The summary table: (name, report file or None, metrics) per notebook, escaped HTML."""
    esc = html.escape
    body = []
    for name, report, metrics in notebooks:
        rows = summary_rows(name, metrics)
        link = f'<a href="{esc(quote(report))}">{esc(name)}</a>' if report else esc(name)
        for i, (label, value, truth) in enumerate(rows):
            first = f'<td class="nb" rowspan="{len(rows)}">{link}</td>' if i == 0 else ""
            body.append(f'<tr>{first}<td>{esc(label)}</td><td class="num">{esc(value)}</td>'
                        f'<td class="num">{esc(truth)}</td></tr>')  # fmt: skip
    if not body:
        return ""
    return (
        '<h2>Executive summary</h2>\n<table class="summary"><thead><tr><th>Notebook</th>'
        "<th>Headline</th><th>Estimate</th><th>Truth (simulator)</th></tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>\n<h2>All reports</h2>\n"
    )
