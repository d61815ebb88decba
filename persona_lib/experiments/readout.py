"""The readout of one experiment from what its logs hold: the metrics, their units and figures.

`compute_logged_outcomes` gives one row per member with the columns its tables allow: event
outcomes (``hours``, ``sessions`` ...) only with an event log, ``lost``, ``renewals`` and
``revenue_usd`` only with billing, and the columns of a per-member ``outcomes`` table always.
`analyze_readout` tests what that frame holds, by `analyze_arms`:

- from events: ``play_rate`` = ``sum(play_sessions) / sum(sessions)`` (delta method),
  ``hours_per_member`` (Welch) and ``hours_per_member_cuped`` (CUPED on ``pre_hours``);
- from billing: ``monthly_churn`` = ``sum(lost) / sum(renewals)`` (delta method) and
  ``revenue_per_member`` (Welch);
- every ``outcomes`` column: a yes/no column (bool, or numbers all 0 or 1) is a proportion,
  the difference in proportions with its Wald interval and pooled z-test
  (`difference_in_proportions`); any other is a mean, Welch's test (`difference_in_means`).

`outcome_figures` turns the outcome columns' rows into flat metric keys: proportions in percent
(``<metric>_control_pct``, ``<metric>_arm_pct``) and their difference in percentage points
(``<metric>_diff_pp``, ``<metric>_ci_low_pp``, ``<metric>_ci_high_pp``); means in their own
unit (``<metric>_control``, ``<metric>_arm``, ``<metric>_diff``, ``<metric>_ci_low``,
``<metric>_ci_high``); ``<metric>_p_value`` for both. `detectable_effects` gives the minimum
detectable effect of each metric at the smallest arm's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from persona_lib.experiments.frame import ArmsAnalysis, analyze_arms
from persona_lib.experiments.power import mde_means, mde_proportions

__all__ = [
    "READOUT_OUTCOMES",
    "READOUT_RATIOS",
    "READOUT_UNITS",
    "analyze_readout",
    "detectable_effects",
    "metric_kind",
    "outcome_figures",
    "readout_units",
]

# name -> (column of compute_logged_outcomes, pre-period covariate or None)
READOUT_OUTCOMES = {
    "hours_per_member": ("hours", None),
    "hours_per_member_cuped": ("hours", "pre_hours"),
    "revenue_per_member": ("revenue_usd", None),
}
# name -> (numerator column, denominator column)
READOUT_RATIOS = {"play_rate": ("play_sessions", "sessions"), "monthly_churn": ("lost", "renewals")}
READOUT_UNITS = {
    "play_rate": "%", "hours_per_member": "hours", "hours_per_member_cuped": "hours",
    "monthly_churn": "%", "revenue_per_member": "USD",
}  # fmt: skip
_KINDS = {"z_pooled": "proportion", "welch": "mean", "cuped_welch": "mean", "delta_method": "ratio"}


def analyze_readout(
    frame: pd.DataFrame,
    *,
    control: object,
    outcomes: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    expected_weights: Mapping[object, float] | None = None,
) -> ArmsAnalysis:
    """Every variant against the control on the metrics `frame` holds, and the SRM check.

    Parameters
    ----------
    frame : DataFrame
        `compute_logged_outcomes`'s frame (any index, e.g. ``user_id``): a ``variant`` column,
        the event and billing columns the logs gave and the ``outcomes`` columns.
    control : the control variant.
    outcomes : columns of a per-member ``outcomes`` table to test (proportion or mean, by
        their values).
    alpha, correction, expected_weights : as in `analyze_arms`.

    Returns
    -------
    ArmsAnalysis
        Rows in the order ``hours_per_member, hours_per_member_cuped, revenue_per_member``,
        then `outcomes`, then ``play_rate, monthly_churn`` (each when its columns exist).

    Raises
    ------
    ValueError
        Nothing to compare (no event, billing or outcome column), or `analyze_arms`' errors.

    Examples
    --------
    >>> frame = pd.DataFrame({"variant": ["A", "B"] * 3, "kept": [1, 0, 1, 1, 0, 0]})
    >>> analyze_readout(frame, control="A", outcomes=["kept"]).table["outcome"].tolist()
    ['kept']
    """
    columns = set(frame.columns)
    built_in = {
        name: (column, covariate)
        for name, (column, covariate) in READOUT_OUTCOMES.items()
        if column in columns and (covariate is None or covariate in columns)
    }
    ratios = {n: pair for n, pair in READOUT_RATIOS.items() if set(pair) <= columns}
    names = [*built_in, *outcomes]
    if not names and not ratios:
        raise ValueError(
            "nothing to compare: the experiment's members have no event, billing or outcome "
            f"columns (the frame has {list(frame.columns)})"
        )
    readout = frame.assign(**{name: frame[column] for name, (column, _) in built_in.items()})
    covariates = {name: cov for name, (_, cov) in built_in.items() if cov is not None}
    return analyze_arms(
        readout, "variant", names, control=control, covariates=covariates, ratios=ratios,
        alpha=alpha, correction=correction, expected_weights=expected_weights,
    )  # fmt: skip


def metric_kind(method: str) -> str:
    """``"proportion"``, ``"mean"`` or ``"ratio"``: what a test's ``method`` compared."""
    if method not in _KINDS:
        raise ValueError(f"unknown test method {method!r}; known: {list(_KINDS)}")
    return _KINDS[method]


def readout_units(analysis: ArmsAnalysis) -> dict[str, str]:
    """Unit of each outcome of `analysis`, as `persona_lib.report.fmt` prints it.

    The built-in metrics have theirs (`READOUT_UNITS`); an outcome column is ``"%"`` when it is
    a proportion and ``""`` (its own unit, unknown here) when it is a mean.
    """
    rows = analysis.table.drop_duplicates("outcome")
    return {
        o: READOUT_UNITS.get(o, "%" if metric_kind(m) == "proportion" else "")
        for o, m in zip(rows["outcome"], rows["method"], strict=True)
    }


def _suffixes(analysis: ArmsAnalysis, suffix: Mapping[object, str] | None) -> dict:
    arms = list(pd.unique(analysis.table["arm"]))
    if suffix is not None:
        return {a: suffix[a] for a in arms}
    return {a: "" if len(arms) == 1 else f"_{a}" for a in arms}


def outcome_figures(
    analysis: ArmsAnalysis,
    outcomes: Sequence[str],
    *,
    suffix: Mapping[object, str] | None = None,
    taken: Sequence[str] = (),
) -> dict[str, float]:
    """Flat metric keys for the `outcomes` rows of `analysis` (see the module docstring).

    Parameters
    ----------
    analysis : ArmsAnalysis
    outcomes : outcome columns whose figures to record.
    suffix : arm -> text appended to each arm's keys; by default ``""`` with one treatment arm,
        else ``"_<arm>"``. The control's level (``<metric>_control[_pct]``) has none.
    taken : keys already recorded; a figure that would overwrite one raises.

    Returns
    -------
    dict of str to float
        Proportions in percent and percentage points, means in their unit, p-values unadjusted.

    Raises
    ------
    ValueError
        An outcome that `analysis` did not test, or a key in `taken`.

    Examples
    --------
    >>> frame = pd.DataFrame({"variant": ["A", "B"] * 2, "kept": [1, 0, 1, 1]})
    >>> figures = outcome_figures(analyze_arms(frame, "variant", ["kept"], control="A"), ["kept"])
    >>> figures["kept_control_pct"], figures["kept_arm_pct"], figures["kept_diff_pp"]
    (100.0, 50.0, -50.0)
    """
    table, ends = analysis.table, _suffixes(analysis, suffix)
    missing = [o for o in outcomes if o not in set(table["outcome"])]
    if missing:
        raise ValueError(f"outcomes {missing} were not tested; the analysis has "
                         f"{list(pd.unique(table['outcome']))}")  # fmt: skip
    figures = {}
    for _, row in table[table["outcome"].isin(outcomes)].iterrows():
        m, end = row["outcome"], ends[row["arm"]]
        share = metric_kind(row["method"]) == "proportion"
        scale, level, diff = (100.0, "_pct", "_pp") if share else (1.0, "", "")
        figures[f"{m}_control{level}"] = scale * row["mean_control"]
        figures.update({
            f"{m}_arm{level}{end}": scale * row["mean_arm"],
            f"{m}_diff{diff}{end}": scale * row["diff"],
            f"{m}_ci_low{diff}{end}": scale * row["ci_low"],
            f"{m}_ci_high{diff}{end}": scale * row["ci_high"],
            f"{m}_p_value{end}": float(row["p_value"]),
        })  # fmt: skip
    clash = sorted(set(figures) & set(taken))
    if clash:
        raise ValueError(f"outcome figures {clash} are already recorded; rename those outcome "
                         "columns")  # fmt: skip
    return figures


def detectable_effects(
    frame: pd.DataFrame,
    analysis: ArmsAnalysis,
    metrics: Sequence[str],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """The minimum detectable effect of each metric with the smallest arm's members.

    With ``n`` the smallest arm's count and every baseline taken over all members:

    - proportion: ``mde_proportions(n, mean(y))``;
    - mean: ``mde_means(n, sd(y))`` (the unadjusted test's; CUPED would detect less);
    - ratio ``sum(num) / sum(den)``: ``mde_proportions(floor(n * mean(den)), sum(num) /
      sum(den))``, the denominator's units (sessions, renewals) as the trials.

    Parameters
    ----------
    frame : the frame `analysis` was computed from (`analyze_readout`'s input).
    analysis : its `ArmsAnalysis`.
    metrics : outcomes of `analysis`.
    alpha, power : level and power of the two-sided test.

    Returns
    -------
    DataFrame indexed by metric: ``kind``, ``baseline``, ``units_per_arm`` and
    ``mde_at_this_size`` (absolute: a share for proportions and ratios).

    Examples
    --------
    >>> frame = pd.DataFrame({"variant": ["A", "B"] * 500, "kept": [0, 1, 1, 0] * 250})
    >>> table = detectable_effects(frame, analyze_readout(frame, control="A", outcomes=["kept"]),
    ...                            ["kept"])
    >>> round(float(table.loc["kept", "mde_at_this_size"]), 3)
    0.088
    """
    n_arm = int(min(analysis.counts.values()))
    kinds = {o: metric_kind(m) for o, m in analysis.table[["outcome", "method"]].values}
    rows = []
    for metric in metrics:
        if metric not in kinds:
            raise ValueError(f"metric {metric!r} is not an outcome of the analysis {list(kinds)}")
        kind = kinds[metric]
        if kind == "ratio":
            num, den = (frame[c] for c in READOUT_RATIOS[metric])
            units, baseline = int(n_arm * den.mean()), num.sum() / den.sum()
            mde = mde_proportions(units, baseline, alpha, power)
        else:
            y = frame[READOUT_OUTCOMES.get(metric, (metric, None))[0]].astype(np.float64)
            units, baseline = n_arm, y.mean()
            mde = (mde_proportions(units, baseline, alpha, power) if kind == "proportion"
                   else mde_means(units, y.std(), alpha, power))  # fmt: skip
        rows.append({"metric": metric, "kind": kind, "baseline": float(baseline),
                     "units_per_arm": units, "mde_at_this_size": float(mde)})  # fmt: skip
    columns = ["metric", "kind", "baseline", "units_per_arm", "mde_at_this_size"]
    return pd.DataFrame(rows, columns=columns).set_index("metric")
