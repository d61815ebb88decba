"""Measured signals against the simulator's truth.

The simulator records, for every impression, the true probability that it leads to a hover, a
click and a play (`world.truth.tables["impressions"]`). The mean of those probabilities over any
group of impressions is the expected rate of that group, so a measured rate that strays from it by
more than sampling noise points to a bug in the measurement, not in the world.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta

from persona_lib.signals.funnel import compute_funnel
from persona_lib.signals.subscriptions import renewal_loss_probability
from persona_lib.sim.day import COMPLETION_FRACTION, watch_fraction_shape

# measured funnel rate (cumulative: a click is also a hover) -> the truth columns that sum to it
EXPECTED_FROM = {
    "hover_rate": ("p_hover", "p_click"),
    "click_rate": ("p_click",),
    "play_rate": ("p_play",),
}
TRUTH_COLUMNS = ("event_id", "p_hover", "p_click", "p_play")


def funnel_against_truth(
    events: pd.DataFrame,
    truth_impressions: pd.DataFrame,
    by: list[str] | None = None,
    users: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Measured hover, click and play rates per impression beside their true expected values.

    Parameters
    ----------
    events : events table (schema columns).
    truth_impressions : ``event_id, p_hover, p_click, p_play`` for every impression, where
        ``p_hover`` is a hover without a click; a click is counted as a hover too, as in
        `compute_funnel`.
    by : grouping keys accepted by `compute_funnel` (e.g. ``["device"]``); None for overall.
    users : needed when grouping by member ``language``.

    Returns
    -------
    DataFrame with the group keys, ``stage`` (hover_rate, click_rate, play_rate),
    ``impressions``, ``measured``, ``expected``, ``se`` (binomial standard error of the measured
    rate under the expected one: sqrt(sum p (1 - p)) / n) and ``z`` = (measured - expected) / se.

    Examples
    --------
    >>> truth = world.truth.tables["impressions"]  # doctest: +SKIP
    >>> funnel_against_truth(world.events, truth, by=["device"])  # doctest: +SKIP
    """
    by = list(by or [])
    keys = by or ["_all"]  # one group when no keys are given
    measured = compute_funnel(events, by=by or None, users=users)
    impressions = _impressions_with_truth(events, truth_impressions, by, users)
    if not by:
        measured, impressions = measured.assign(_all=0), impressions.assign(_all=0)
    rows = []
    for stage, columns in EXPECTED_FROM.items():
        p = impressions[list(columns)].sum(axis=1).clip(0, 1)
        grouped = (
            pd.DataFrame({"p": p, "var": p * (1 - p), **{k: impressions[k] for k in keys}})
            .groupby(keys, observed=True, sort=True)
            .agg(expected=("p", "mean"), var_sum=("var", "sum"), n=("p", "size"))
            .reset_index()
        )
        merged = grouped.merge(measured[[*keys, "impressions", stage]], on=keys)
        merged["stage"] = stage
        merged["measured"] = merged.pop(stage)
        merged["se"] = np.sqrt(merged.pop("var_sum")) / merged.pop("n")
        merged["z"] = (merged["measured"] - merged["expected"]) / merged["se"]
        rows.append(merged)
    columns = [*by, "stage", "impressions", "measured", "expected", "se", "z"]
    return pd.concat(rows, ignore_index=True)[columns]


def _impressions_with_truth(events, truth_impressions, by, users) -> pd.DataFrame:
    """Impression events with their group keys and true probabilities (inner join on event_id)."""
    missing = [c for c in TRUTH_COLUMNS if c not in truth_impressions.columns]
    if missing:
        raise ValueError(f"truth_impressions lacks columns {missing}")
    keys = [k for k in by if k in events.columns]
    impressions = events.loc[events["event_type"] == "impression", ["event_id", "ts", *keys]]
    if "hour" in by:
        impressions = impressions.assign(hour=impressions["ts"].dt.hour)
    if "language" in by:
        if users is None:
            raise ValueError("grouping by language needs the users table")
        impressions = impressions.merge(events[["event_id", "user_id"]], on="event_id").merge(
            users[["user_id", "language"]], on="user_id"
        )
    joined = impressions.merge(truth_impressions[list(TRUTH_COLUMNS)], on="event_id")
    if len(joined) != len(impressions):
        raise ValueError(
            f"truth covers {len(joined)} of {len(impressions)} impressions: "
            "truth and events come from different worlds"
        )
    return joined


def true_completion_prob(world, plays: pd.DataFrame) -> np.ndarray:
    """The simulator's exact probability that each play is completed: the ceiling for any model.

    A play's watch fraction is ``Beta(a, b)`` with the shape of `sim.day.watch_fraction_shape`
    (mean ``expit(0.2 + 0.9 fit)``, ``fit`` the title's true fit to the member) and the play is
    completed when the fraction reaches 0.9, so ``P(completed) = beta.sf(0.9, a, b)``. Reads
    ``world.truth``; only evaluation may. `plays` has rows with ``user_id`` and ``title_id``.

    Examples
    --------
    >>> plays = completion_examples(world.events, world.titles)  # doctest: +SKIP
    >>> p = true_completion_prob(world, plays)  # doctest: +SKIP
    """
    fit = world.truth.fit(plays["user_id"].to_numpy(), plays["title_id"].to_numpy())
    return beta.sf(COMPLETION_FRACTION, *watch_fraction_shape(np.asarray(fit, dtype="float64")))


def expected_churn(churn_hazard: pd.DataFrame) -> float:
    """Mean probability of losing a member at a renewal (`renewal_loss_probability`).

    ``churn_hazard`` is the simulator's truth table (user_id, period_start, hazard,
    payment_failure_prob); a renewal is lost if the payment fails or, if it goes through, the
    member cancels.
    """
    loss = renewal_loss_probability(churn_hazard["hazard"], churn_hazard["payment_failure_prob"])
    return float(np.mean(loss))
