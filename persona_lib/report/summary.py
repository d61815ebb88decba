"""The executive summary at the top of the index page: a computed bottom line, then one table.

`BOTTOM_LINE` names the few figures a leader reads first: what personalization changed in
engagement, retention and revenue. Each becomes one `estimate_sentence`, so the words say whether
the 95 % interval excludes zero and whether it holds the simulator's true value; a figure whose
notebook failed or did not run is left out and the page says so. `FIGURES` are the rows of the
summary table: one unit per quantity, the estimate, its interval (or why there is none) and the
simulator's truth (or why there is none). Every string is escaped: values may come from user data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from persona_lib.report.numbers import fmt, fmt_interval, is_missing
from persona_lib.report.tables import label as human_label
from persona_lib.report.verdicts import estimate_sentence

__all__ = [
    "BOTTOM_LINE",
    "FIGURES",
    "TRUTH_MEANING",
    "Figure",
    "bottom_line",
    "headline",
    "summary_html",
    "summary_table_rows",
]

TRUTH_MEANING = (
    "Truth is the simulator's true value, known because the data is simulated; real logs have none."
)
NO_INTERVAL = "the notebook records no interval for this figure"
NOT_RECORDED = "not recorded by the notebook"
MISSING = "—"


@dataclass(frozen=True)
class Figure:
    """One figure of the summary: where it is recorded, how it prints, its interval and truth.

    Attributes
    ----------
    notebook, key : str
        The notebook that records the figure and its metric key.
    label : str
        What the figure is, in words; it also starts the bottom-line sentence.
    unit : str
        As in `fmt`; ``"text"`` for a name (a model), printed as words.
    ci : (str, str), optional
        Metric keys of the interval's ends.
    truth : str, optional
        Metric key of the simulator's true value.
    signed : bool
        A difference: print ``+`` before positive numbers.
    scale : float
        Multiplier from the recorded unit to `unit` (100 for a fraction shown in pp).
    no_interval, no_truth : str
        Why there is no interval or no truth, when the keys are absent.
    decimals : int, optional
        Override the unit's decimals (figures without an interval only).
    """

    notebook: str
    key: str
    label: str
    unit: str = ""
    ci: tuple[str, str] | None = None
    truth: str | None = None
    signed: bool = False
    scale: float = 1.0
    no_interval: str = NO_INTERVAL
    no_truth: str = NOT_RECORDED
    decimals: int | None = None

    def values(self, metrics: Mapping[str, Any]) -> tuple[float | None, ...]:
        """(estimate, ci_low, ci_high, truth) in `unit`; None where not recorded or not finite."""
        keys = (self.key, *(self.ci or (None, None)), self.truth)
        return tuple(_number(metrics.get(k), self.scale) if k else None for k in keys)


def _number(value: Any, scale: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or is_missing(value):
        return None
    value = float(value) * scale
    return value if math.isfinite(value) else None


PLAY_RATE = Figure(
    "05_experiments", "play_rate_diff_pp",
    "Sessions with a play, personalized minus default page (A/B test)", "pp",
    ("play_rate_diff_ci_low_pp", "play_rate_diff_ci_high_pp"), "truth_play_rate_diff_pp", True,
)  # fmt: skip
HOURS = Figure(
    "05_experiments", "hours_cuped_diff",
    "Hours watched per member, personalized minus default page (A/B test, CUPED)", "hours",
    ("hours_cuped_ci_low", "hours_cuped_ci_high"), "truth_hours_diff", True,
)  # fmt: skip
CHURN = Figure(
    "05_experiments", "churn_diff_pp", "Churn, personalized minus default page (A/B test)", "pp",
    ("churn_diff_ci_low_pp", "churn_diff_ci_high_pp"), "truth_churn_diff_pp", True,
)  # fmt: skip
REVENUE = Figure(
    "06_revenue_impact", "scaled_revenue_usd_per_year",
    "Yearly revenue of the A/B test's effect, scaled to the member base", "USD",
    ("scaled_revenue_ci_low_usd", "scaled_revenue_ci_high_usd"),
    "truth_scaled_revenue_usd_per_year", True,
)  # fmt: skip
PAGE = Figure(
    "02_recommenders", "page_als_play_rate_diff",
    "Sessions with a play, personalized (ALS) minus default page (recommender simulation)",
    "pp", ("page_als_play_rate_diff_ci_low", "page_als_play_rate_diff_ci_high"), signed=True,
    scale=100.0,
)  # fmt: skip

BOTTOM_LINE: tuple[Figure, ...] = (PLAY_RATE, HOURS, CHURN, REVENUE, PAGE)

FIGURES: tuple[Figure, ...] = (
    Figure("01_data_signals", "play_rate_per_impression_pct", "Plays per title shown", "%",
           truth="truth_play_rate_per_impression_pct", decimals=2),
    Figure("04_churn_retention", "monthly_churn_pct", "Monthly churn", "%",
           truth="truth_monthly_churn_pct", decimals=2),
    Figure("02_recommenders", "offline_leader_minus_runner_up_ndcg_at_10",
           "nDCG@10 offline, highest model minus the runner-up (paired, names in the report)",
           "", ("offline_leader_minus_runner_up_ndcg_at_10_ci_low",
                "offline_leader_minus_runner_up_ndcg_at_10_ci_high"), signed=True,
           no_truth="no truth: measured on held-out plays"),
    PAGE,
    Figure("03_artwork_personalization", "dr_greedy_logistic_clicks_per_1k",
           "Clicks per 1,000 impressions of a learned artwork policy, off-policy (DR) estimate",
           "clicks / 1k", ("dr_greedy_logistic_ci_low_per_1k", "dr_greedy_logistic_ci_high_per_1k"),
           "truth_greedy_logistic_clicks_per_1k"),
    Figure("03_artwork_personalization", "linucb_take_fraction_lift_pct",
           "Quality plays per artwork impression, LinUCB against fixed artwork (relative)", "%",
           ("linucb_take_fraction_lift_ci_low_pct", "linucb_take_fraction_lift_ci_high_pct"),
           signed=True),
    Figure("04_churn_retention", "push_effect_pp", "Visits after a re-engagement push, push "
           "minus none", "pp", ("push_effect_ci_low_pp", "push_effect_ci_high_pp"),
           "truth_push_effect_pp", True),
    PLAY_RATE,
    HOURS,
    CHURN,
    REVENUE,
    Figure("07_sales_conversions", "upsell_top_upgrades_per_1k",
           "Plan upgrades per 1,000 eligible members, uplift-targeted offer", "upgrades / 1k",
           ("upsell_top_upgrades_ci_low", "upsell_top_upgrades_ci_high"),
           "truth_upsell_top_upgrades_per_1k"),
    Figure("07_sales_conversions", "personalization_vs_baselines_per_1k_members_usd",
           "Revenue per 1,000 members a year, personalized sales levers minus their "
           "non-personalized alternatives", "USD",
           ("personalization_vs_baselines_ci_low", "personalization_vs_baselines_ci_high"),
           signed=True),
)  # fmt: skip


def _sentence(fig: Figure, metrics: Mapping[str, Any]) -> str | None:
    """The figure's `estimate_sentence`, or None when the notebook did not record it."""
    estimate, low, high, truth = fig.values(metrics)
    if estimate is None:
        return None
    return estimate_sentence(fig.label, estimate, low, high, fig.unit, truth=truth,
                             signed=fig.signed)  # fmt: skip


def bottom_line(ran: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The bottom-line sentences of the notebooks that ran to the end.

    Parameters
    ----------
    ran : mapping of str to dict
        Metrics per notebook name, only of notebooks that finished without error.

    Returns
    -------
    list of str
        At most five sentences, in the order of `BOTTOM_LINE`; figures not recorded are left out.
    """
    sentences = (_sentence(fig, ran[fig.notebook]) for fig in BOTTOM_LINE if fig.notebook in ran)
    return [s for s in sentences if s is not None]


def headline(notebook: str, metrics: Mapping[str, Any]) -> str:
    """The takeaway of a notebook's headline figures: the sentences of its rows on the index.

    Each figure of `FIGURES` that `notebook` records becomes its `estimate_sentence` (interval,
    whether it excludes zero, where the simulator's truth lies); a figure without an interval
    says why it has none.

    Parameters
    ----------
    notebook : str
        The notebook's name as given to `record_metrics` (``"06_revenue_impact"``).
    metrics : mapping
        The figures it recorded.

    Returns
    -------
    str
        The sentences, or a sentence saying that none of its figures is on the index summary.

    Examples
    --------
    >>> print(headline("06_revenue_impact", {"scaled_revenue_usd_per_year": 2.13e7,
    ...     "scaled_revenue_ci_low_usd": -4.91e7, "scaled_revenue_ci_high_usd": 9.16e7}))
    On the index: yearly revenue of the A/B test's effect, scaled to the member base: +21.3 M USD \
(95 % CI -49.1 to +91.6 M USD); it cannot be told from zero.
    """
    figures = [fig for fig in FIGURES if fig.notebook == notebook]
    sentences = []
    for fig in figures:
        if fig.unit == "text" or fig.key not in metrics:
            continue
        sentence = _sentence(fig, metrics)
        if sentence is None:
            continue
        if fig.ci is None:
            sentence = sentence[:-1] + f" ({fig.no_interval})."
        sentences.append(sentence)
    if not metrics:
        return "No figure was computed: every section above needs something these data lack."
    if not sentences:
        return (
            f"{len(metrics)} {'figure is' if len(metrics) == 1 else 'figures are'} recorded to the "
            "metrics file beside this report; none of them is on the index summary."
        )
    first = sentences[0]
    return "On the index: " + " ".join([first[:1].lower() + first[1:], *sentences[1:]])


def _left_out(statuses: Mapping[str, str], ran: Mapping[str, Mapping[str, Any]]) -> str:
    """Which bottom-line notebooks are missing from the summary, and why."""
    reasons = {}
    for fig in BOTTOM_LINE:
        name = fig.notebook
        if name in reasons or (name in ran and fig.key in ran[name]):
            continue
        status = statuses.get(name)
        reasons[name] = (
            "did not run" if status is None else "failed" if status != "ok" else "did not record it"
        )
    items = [f"{name} ({why})" for name, why in reasons.items()]
    return f" Left out of the bottom line: {', '.join(items)}." if items else ""


def _cell(value: Any, fig: Figure) -> str:
    if fig.unit == "text":
        return human_label(str(value))
    return fmt(value, fig.unit, signed=fig.signed, decimals=fig.decimals)


def _row(fig: Figure, metrics: Mapping[str, Any]) -> tuple[Figure, str, str | None, str, bool]:
    """(figure, estimate, interval or None, truth or why there is none, truth known)."""
    estimate, low, high, truth = fig.values(metrics)
    shown = _cell(metrics[fig.key] if fig.unit == "text" else estimate, fig)
    interval = None
    if low is not None and high is not None:
        interval = fmt_interval(low, high, fig.unit, signed=fig.signed)
    if truth is None:
        return fig, shown, interval, fig.no_truth, False
    where = ""
    if interval is not None:
        where = ", inside the interval" if low <= truth <= high else ", outside the interval"
    return (
        fig,
        shown,
        interval,
        fmt(truth, fig.unit, signed=fig.signed, decimals=fig.decimals) + where,
        True,
    )


def summary_table_rows(
    ran: Mapping[str, Mapping[str, Any]],
) -> list[tuple[Figure, str, str | None, str, bool]]:
    """(figure, estimate, interval or None, truth or why there is none, truth known) per row.

    Rows whose notebook did not finish or did not record the figure are left out.
    """
    rows = []
    for fig in FIGURES:
        metrics = ran.get(fig.notebook, {})
        if fig.key not in metrics:
            continue
        if fig.unit != "text" and fig.values(metrics)[0] is None:
            continue
        rows.append(_row(fig, metrics))
    return rows


def _row_html(
    fig: Figure, estimate: str, interval: str, truth: str | None, known: bool, report: str | None
) -> str:
    """One escaped row; `interval` is HTML already (a footnote mark when missing); no truth
    cell when `truth` is None (a run on logs)."""
    esc = html.escape
    name = esc(fig.notebook.replace("_", " "))
    source = f'<a href="{esc(quote(report))}">{name}</a>' if report else name
    truth_td = ""
    if truth is not None:
        truth_cell = esc(truth) if known else f'<span class="why">{esc(truth)}</span>'
        truth_td = f'<td data-label="Truth" class="num">{truth_cell}</td>'
    return (
        f'<tr><td data-label="Figure">{esc(fig.label)}</td>'
        f'<td data-label="Estimate" class="num nowrap">{esc(estimate)}</td>'
        f'<td data-label="95 % interval" class="num nowrap">{interval}</td>'
        f"{truth_td}"
        f'<td data-label="Report">{source}</td></tr>'
    )


def _table_html(
    ran: Mapping[str, Mapping[str, Any]], reports: Mapping[str, str | None], simulated: bool = True
) -> str:
    """The summary table, the line that explains the truth column and the interval footnotes;
    on logs (``simulated=False``) there is no truth column."""
    esc = html.escape
    notes: list[str] = []
    body = []
    for fig, estimate, interval, truth, known in summary_table_rows(ran):
        if interval is None:
            if fig.no_interval not in notes:
                notes.append(fig.no_interval)
            interval_cell = f"{MISSING}<sup>{notes.index(fig.no_interval) + 1}</sup>"
        else:
            interval_cell = esc(interval)
        shown = truth if simulated else None
        body.append(
            _row_html(fig, estimate, interval_cell, shown, known, reports.get(fig.notebook))
        )
    if not body:
        return ""
    footnotes = "".join(f"<li>{MISSING} : {esc(note)}</li>" for note in notes)
    truth_th = '<th class="num">Truth (simulator)</th>' if simulated else ""
    note = f'<p class="note">{esc(TRUTH_MEANING)}</p>\n' if simulated else ""
    return (
        '<h2>Summary</h2>\n<div class="scroll"><table class="summary stack"><thead><tr>'
        '<th>Figure</th><th class="num">Estimate</th><th class="num">95 % interval</th>'
        f"{truth_th}<th>Report</th></tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></div>\n"
        + note
        + (f'<ol class="notes">{footnotes}</ol>\n' if footnotes else "")
    )


def _data_line(parameters: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> str:
    """Which data the run used: a folder of logs (its name only: no machine path in a report,
    its tables and event count), or the simulated world of its preset and seed."""
    if data and data.get("source") == "folder":
        tables = data.get("tables", {})
        events = tables.get("events", {}).get("rows")
        count = f", {fmt(events, 'count')} events" if isinstance(events, int) else ""
        names = ", ".join(tables)
        return (
            f"Data: the logs in the folder {PurePath(str(data.get('folder'))).name!r} "
            f"({names}{count}). Logs carry no true "
            "values, so there is no truth column; sections that need the simulator or a table "
            "the logs lack say so in their report."
        )
    preset, seed = parameters.get("PRESET"), parameters.get("SEED")
    world = "the simulated world" + (f' of preset "{preset}"' if preset is not None else "")
    world += f", seed {seed}" if seed is not None else ""
    return f"Data: {world}. {TRUTH_MEANING}"


def summary_html(
    notebooks: Sequence[tuple[str, str | None, str, Mapping[str, Any]]],
    parameters: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
) -> str:
    """The bottom line and the summary table as escaped HTML.

    Parameters
    ----------
    notebooks : sequence of (name, report file or None, status, metrics)
        One entry per notebook of the run; only those with status ``"ok"`` are summarized.
    parameters : mapping
        The run's notebook parameters (``PRESET``, ``SEED``).
    data : mapping, optional
        run.json's ``data`` record; for a folder of logs the page names it and shows no truth.

    Returns
    -------
    str
    """
    esc = html.escape
    ran = {name: dict(metrics) for name, _, status, metrics in notebooks if status == "ok"}
    statuses = {name: status for name, _, status, _ in notebooks}
    sentences = bottom_line(ran)
    if sentences:
        items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
        lead = f'<ul class="bottom-line">{items}</ul>'
    else:
        lead = '<p class="bottom-line">No bottom line: no notebook that computes it finished.</p>'
    meta = esc(_data_line(parameters, data) + _left_out(statuses, ran))
    simulated = not data or data.get("source") != "folder"
    reports = {name: report for name, report, _, _ in notebooks}
    return (
        f'<section class="summary"><h2>Bottom line</h2>\n{lead}\n<p class="meta">{meta}</p>\n'
        f"{_table_html(ran, reports, simulated)}</section>\n"
    )
