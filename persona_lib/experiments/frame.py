"""Analyse an A/B/n test from a plain table: one row per unit, an arm column, outcome columns.

`analyze_arms` compares every treatment arm (and every pooled group of arms) with a named control
on every outcome, with the tests of `persona_lib.experiments.stats`:

- binary outcome (bool, or numbers all 0 or 1): difference in proportions,
  `difference_in_proportions` (pooled-variance z-test, Wald interval);
- numeric outcome: Welch difference in means, `difference_in_means`;
- numeric or binary outcome with a pre-period covariate: CUPED, `cuped_difference`, with ``theta``
  estimated on the two arms being compared;
- ratio outcome ``sum(numerator) / sum(denominator)`` per arm: `ratio_metric` (delta method).

The ``m`` comparisons (arms x outcomes) form one family: adjusted p-values come from Holm (1979)
step-down (family-wise error rate, ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``) or
Benjamini & Hochberg (1995) step-up (false discovery rate), and a comparison is ``significant``
when its adjusted p-value is below ``alpha``. Intervals are per comparison (``1 - alpha``, not
adjusted). Before any comparison, the arm counts go through the sample-ratio check `srm_check`
(Pearson chi-square against the designed weights): when it fires, distrust every effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from persona_lib.experiments.assignment import SRMResult, srm_check
from persona_lib.experiments.multiple import benjamini_hochberg, holm
from persona_lib.experiments.results import TestResult
from persona_lib.experiments.stats import (
    cuped_difference,
    difference_in_means,
    difference_in_proportions,
    ratio_metric,
)

__all__ = ["OUTCOME_KINDS", "TABLE_COLUMNS", "ArmsAnalysis", "analyze_arms"]

OUTCOME_KINDS = ("binary", "numeric")
CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}
TABLE_COLUMNS = (
    "arm", "control", "outcome", "method", "n_control", "n_arm", "mean_control", "mean_arm",
    "diff", "ci_low", "ci_high", "relative_lift", "relative_ci_low", "relative_ci_high",
    "p_value", "p_adjusted", "significant",
)  # fmt: skip
SHOWN = 5  # row indices quoted in an error message


def _json(value: object) -> object:
    """A JSON-safe scalar: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, eq=False)
class ArmsAnalysis:
    """Result of `analyze_arms`: the sample-ratio check and one row per arm x outcome.

    Attributes
    ----------
    srm : `SRMResult` of the arm counts against the expected weights.
    table : DataFrame with the columns `TABLE_COLUMNS`, one row per (arm, outcome); ``diff =
        mean_arm - mean_control``, ``relative_lift = diff / mean_control`` (NaN when the control
        mean is 0), ``p_adjusted`` the family-wise (Holm) or false-discovery (BH) adjusted
        p-value and ``significant = p_adjusted < alpha``.
    counts : rows per arm (control first), the counts the SRM check tested.
    control : the control arm's label.
    alpha : significance level of the intervals and of ``significant``.
    correction : ``"holm"`` or ``"bh"``.
    """

    srm: SRMResult
    table: pd.DataFrame
    counts: dict = field(default_factory=dict)
    control: object = None
    alpha: float = 0.05
    correction: str = "holm"

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.correction not in CORRECTIONS:
            raise ValueError(
                f"correction must be one of {list(CORRECTIONS)}, got {self.correction!r}"
            )
        missing = [c for c in TABLE_COLUMNS if c not in self.table.columns]
        if missing:
            raise ValueError(f"table lacks the columns {missing}")

    def to_dict(self) -> dict[str, object]:
        """JSON-safe: labels and counts, the SRM check and the table's rows (NaN as None)."""
        rows = [{k: _json(v) for k, v in row.items()} for row in self.table.to_dict("records")]
        return {
            "control": _json(self.control),
            "alpha": float(self.alpha),
            "correction": self.correction,
            "counts": {str(k): int(v) for k, v in self.counts.items()},
            "srm": self.srm.to_dict(),
            "table": rows,
        }


@dataclass(frozen=True)
class _Outcome:
    """One outcome to test: its name, kind and the columns it reads."""

    name: str
    kind: str  # "binary", "numeric" or "ratio"; "auto" until the values are read
    column: str | None = None
    covariate: str | None = None
    ratio: tuple[str, str] | None = None

    @property
    def columns(self) -> list[str]:
        cols = list(self.ratio) if self.ratio else [self.column]
        return cols + ([self.covariate] if self.covariate else [])

    @property
    def roles(self) -> dict[str, str]:
        """Column -> what it is to this outcome, for error messages."""
        if self.ratio:
            roles = {self.ratio[0]: f"numerator of ratio {self.name!r}"}
            return {**roles, self.ratio[1]: f"denominator of ratio {self.name!r}"}
        covariate = {self.covariate: f"covariate of {self.name!r}"} if self.covariate else {}
        return {self.column: "outcome", **covariate}


def _rows_text(index: pd.Index, mask: np.ndarray) -> str:
    """'3 rows (index [2, 5, 9])', quoting the first few index labels of the rows in ``mask``."""
    n = int(np.sum(mask))
    if n == 0:
        return "0 rows"
    labels = [_json(v) for v in index[np.asarray(mask)][:SHOWN]]
    more = ", first" if n > SHOWN else ""
    return f"{n:,} row{'s' if n != 1 else ''} (index{more} {labels})"


def _outcome_specs(outcomes, ratios, kinds, covariates) -> list[_Outcome]:
    """Normalize the outcome arguments and check that every key names an outcome."""
    names = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    ratios, kinds, covariates = dict(ratios or {}), dict(kinds or {}), dict(covariates or {})
    every = names + list(ratios)
    if not every:
        raise ValueError("name at least one outcome column (or a ratio)")
    repeated = sorted({n for n in every if every.count(n) > 1})
    if repeated:
        raise ValueError(f"outcomes named more than once: {repeated}")
    for arg, keys in (("kinds", kinds), ("covariates", covariates)):
        unknown = [k for k in keys if k not in names]
        if unknown:
            raise ValueError(f"{arg} names {unknown}, which are not in outcomes {names}")
    bad = {k: v for k, v in kinds.items() if v not in OUTCOME_KINDS}
    if bad:
        raise ValueError(f"kinds must be one of {OUTCOME_KINDS}, got {bad}")
    specs = [_Outcome(n, kinds.get(n, "auto"), n, covariates.get(n)) for n in names]
    for name, pair in ratios.items():
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"ratio {name!r} must be (numerator column, denominator column)")
        specs.append(_Outcome(name, "ratio", ratio=(pair[0], pair[1])))
    return specs


def _check_columns(frame: pd.DataFrame, arm: str, specs: list[_Outcome]) -> None:
    needed = {arm: "arm"}
    for s in specs:
        needed.update({c: role for c, role in s.roles.items() if c not in needed})
    missing = [f"{c!r} ({role})" for c, role in needed.items() if c not in frame.columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise ValueError(
            f"{noun} {', '.join(missing)} not in the frame; its columns are {list(frame.columns)}"
        )


def _values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as finite float64, or a ValueError naming the column and the offending rows."""
    s = frame[column]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        text = pd.to_numeric(s, errors="coerce").isna().to_numpy() & s.notna().to_numpy()
        where = f"; {_rows_text(frame.index, text)} hold non-numbers" if text.any() else ""
        raise ValueError(
            f"column {column!r} is not numeric (dtype {s.dtype}){where}; convert it with "
            "pd.to_numeric or map it to 0/1 first"
        )
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"column {column!r} has {_rows_text(frame.index, bad)} that are NaN or infinite; "
            "drop or fill them before the analysis"
        )
    return values


def _resolve_kind(spec: _Outcome, values: np.ndarray, index: pd.Index) -> _Outcome:
    if spec.kind == "ratio":
        return spec
    not_01 = (values != 0) & (values != 1)
    if spec.kind == "binary" and not_01.any():
        raise ValueError(
            f"outcome {spec.name!r} is declared binary but {_rows_text(index, not_01)} are "
            "not 0 or 1"
        )
    if spec.kind == "auto":
        return _Outcome(spec.name, "numeric" if not_01.any() else "binary", spec.column,
                        spec.covariate)  # fmt: skip
    return spec


def _sorted_labels(labels: list) -> list:
    try:
        return sorted(labels)
    except TypeError:  # mixed label types: order by their text
        return sorted(labels, key=str)


def _arm_groups(frame: pd.DataFrame, arm: str, control, pooled, weights) -> dict[object, list]:
    """Arm label -> the labels it covers: control, each treatment, then each pooled group."""
    column = frame[arm]
    if column.isna().any():
        rows = _rows_text(frame.index, column.isna().to_numpy())
        raise ValueError(f"column {arm!r} has {rows} without an arm label")
    labels = list(pd.unique(column))
    if control not in labels:
        raise ValueError(
            f"control {control!r} is not a value of column {arm!r}; its values are "
            f"{_sorted_labels([_json(v) for v in labels])}"
        )
    arms = _sorted_labels([v for v in labels if v != control])
    arms += [w for w in (weights or {}) if w not in labels]  # designed but absent: 0 rows
    if not arms:
        raise ValueError(f"column {arm!r} holds only the control {control!r}; nothing to compare")
    groups = {control: [control], **{a: [a] for a in arms}}
    for name, members in (pooled or {}).items():
        members = [members] if isinstance(members, str) else list(members)
        if name in groups:
            raise ValueError(f"pooled arm {name!r} has the name of an arm of column {arm!r}")
        if not members or any(m not in arms for m in members):
            raise ValueError(
                f"pooled arm {name!r} must list treatment arms of column {arm!r} ({arms}), "
                f"got {members}"
            )
        groups[name] = members
    return groups


def _check_sizes(frame: pd.DataFrame, arm: str, counts: dict) -> None:
    for label, n in counts.items():
        if n < 2:
            rows = _rows_text(frame.index, (frame[arm] == label).to_numpy())
            raise ValueError(
                f"arm {label!r} has {rows} in column {arm!r}; every arm needs at least 2 rows"
            )


def _srm(counts: dict, expected_weights, threshold: float) -> SRMResult:
    if expected_weights is None:
        return srm_check(list(counts.values()), np.ones(len(counts)), threshold)
    missing = [a for a in counts if a not in expected_weights]
    if missing:
        raise ValueError(f"expected_weights has no weight for the arms {missing}")
    return srm_check(list(counts.values()), [expected_weights[a] for a in counts], threshold)


def _compare(spec: _Outcome, cols: dict, c: np.ndarray, t: np.ndarray, alpha: float) -> TestResult:
    """One comparison: rows ``t`` against control rows ``c`` on one outcome."""
    if spec.kind == "ratio":
        num, den = cols[spec.ratio[0]], cols[spec.ratio[1]]
        return ratio_metric(num[c], den[c], num[t], den[t], alpha, spec.name)
    y = cols[spec.column]
    if spec.covariate is not None:
        both = c | t
        return cuped_difference(y[both], cols[spec.covariate][both], t[both], alpha, spec.name)
    if spec.kind == "binary":
        return difference_in_proportions(
            int(y[c].sum()), int(c.sum()), int(y[t].sum()), int(t.sum()), alpha, spec.name
        )
    return difference_in_means(y[c], y[t], alpha, spec.name)


def _row(spec: _Outcome, cols: dict, masks: dict, label, control, alpha: float) -> dict:
    """The table row of ``label`` against ``control`` on one outcome."""
    try:
        r = _compare(spec, cols, masks[control], masks[label], alpha)
    except ValueError as err:  # say which comparison failed, e.g. a ratio's zero denominator
        where = f"outcome {spec.name!r}, arm {label!r} against {control!r}"
        raise ValueError(f"{where}: {err}") from err
    return {
        "arm": label, "control": control, "outcome": r.metric, "method": r.method,
        "n_control": r.n_control, "n_arm": r.n_treatment, "mean_control": r.control_mean,
        "mean_arm": r.treatment_mean, "diff": r.estimate, "ci_low": r.ci_low,
        "ci_high": r.ci_high, "relative_lift": r.relative_lift,
        "relative_ci_low": r.relative_ci_low, "relative_ci_high": r.relative_ci_high,
        "p_value": r.p_value,
    }  # fmt: skip


def analyze_arms(
    frame: pd.DataFrame,
    arm: str,
    outcomes: str | Sequence[str] = (),
    *,
    control: object,
    pooled: Mapping[str, Sequence] | None = None,
    kinds: Mapping[str, str] | None = None,
    covariates: Mapping[str, str] | None = None,
    ratios: Mapping[str, tuple[str, str]] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    expected_weights: Mapping[object, float] | None = None,
    srm_threshold: float = 0.001,
) -> ArmsAnalysis:
    """Every arm against the control on every outcome, with the SRM check and multiplicity control.

    Parameters
    ----------
    frame : DataFrame, one row per randomized unit (member).
    arm : column holding each row's arm label.
    outcomes : outcome columns; bool or numeric. A column whose values are all 0 or 1 is binary
        (difference in proportions) unless ``kinds`` says otherwise; others get Welch's test.
    control : the control arm's label.
    pooled : name -> treatment arms compared together with the control, e.g.
        ``{"any_treatment": ["B", "C"]}``.
    kinds : outcome -> ``"binary"`` or ``"numeric"``, overriding the detection above.
    covariates : outcome -> pre-period covariate column: CUPED (`cuped_difference`), ``theta``
        fitted on the two arms of each comparison.
    ratios : name -> (numerator column, denominator column): ``sum(num) / sum(den)`` per arm by
        the delta method (`ratio_metric`), e.g. ``{"play_rate": ("play_sessions", "sessions")}``.
    alpha : level of the ``1 - alpha`` intervals and of ``significant``.
    correction : ``"holm"`` (family-wise error rate) or ``"bh"`` (false discovery rate), over all
        arm x outcome comparisons.
    expected_weights : arm -> designed traffic share (normalized); equal shares when None.
    srm_threshold : p-value below which the sample-ratio check flags a mismatch.

    Returns
    -------
    ArmsAnalysis : ``srm`` and ``table`` (columns `TABLE_COLUMNS`; rows by outcome, then arm:
    treatments in sorted order, then pooled groups).

    Raises
    ------
    ValueError : a missing column, a control that is not a value of ``arm``, an arm with fewer
        than 2 rows, a non-numeric outcome, or NaN / infinite values (naming their rows).

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["A", "B"] * 4, "played": [0, 1, 1, 1, 0, 1, 0, 0]})
    >>> result = analyze_arms(df, "arm", ["played"], control="A")
    >>> result.table[["arm", "method", "diff"]].to_dict("records")
    [{'arm': 'B', 'method': 'z_pooled', 'diff': 0.5}]
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {list(CORRECTIONS)}, got {correction!r}")
    specs = _outcome_specs(outcomes, ratios, kinds, covariates)
    _check_columns(frame, arm, specs)
    groups = _arm_groups(frame, arm, control, pooled, expected_weights)
    labels = frame[arm].to_numpy()
    masks = {g: np.isin(labels, members) for g, members in groups.items()}
    counts = {g: int(masks[g].sum()) for g in groups if groups[g] == [g]}
    _check_sizes(frame, arm, counts)
    srm = _srm(counts, expected_weights, srm_threshold)
    cols = {c: _values(frame, c) for s in specs for c in s.columns}
    specs = [_resolve_kind(s, cols[s.column] if s.column else None, frame.index) for s in specs]
    rows = [_row(s, cols, masks, g, control, alpha) for s in specs for g in groups if g != control]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS[:-2])
    table["p_adjusted"] = CORRECTIONS[correction](table["p_value"].to_numpy(np.float64))
    table["significant"] = table["p_adjusted"] < alpha
    return ArmsAnalysis(srm, table, counts, control, alpha, correction)
