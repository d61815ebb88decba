"""Discrete-time hazard model: churn odds per billing period from member covariates.

The person-period layout (`person_period`) and a logistic model on it (`DiscreteTimeHazard`),
Allison (1982) and Singer & Willett (2003). Kaplan-Meier and the log-rank test are in
`persona_lib.models.retention.survival`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from persona_lib.models.retention.survival import check_events, check_times


def person_period(
    frame: pd.DataFrame, duration: str, event: str, period_length: float = 1.0
) -> pd.DataFrame:
    """Expand each subject into one row per period at risk (the person-period layout).

    Subject i with duration T_i covers periods 1..K_i, K_i = max(1, ceil(T_i / period_length))
    (period j is the interval ((j-1) L, j L]). ``event`` is 1 only in period K_i of a subject
    with an event; a censored subject counts as at risk through its last period, matching the
    Kaplan-Meier convention (censored at t means at risk at t).

    Returns
    -------
    DataFrame: the columns of ``frame`` repeated per period (index reset), ``event`` rewritten
    as int8, plus ``period`` (1-based int).
    """
    if not (np.isfinite(period_length) and period_length > 0):
        raise ValueError(f"period_length: must be finite and > 0, got {period_length}")
    for col in (duration, event):
        if col not in frame.columns:
            raise ValueError(f"frame: missing column {col!r}")
    dur = check_times(frame[duration], duration)
    ev = check_events(frame[event], dur.size, event)
    # round first so 3.0000000001 periods (float noise) stays 3
    k = np.maximum(1, np.ceil(np.round(dur / period_length, 9))).astype(np.int64)
    rows = np.repeat(np.arange(dur.size), k)
    period = np.arange(rows.size) - np.repeat(np.cumsum(k) - k, k) + 1
    out = frame.iloc[rows].reset_index(drop=True)
    out[event] = ((period == k[rows]) & (ev[rows] == 1)).astype(np.int8)
    out["period"] = period
    return out


class DiscreteTimeHazard:
    """Discrete-time proportional-odds hazard model (Allison 1982; Singer & Willett 2003).

    The hazard in period j (1-based, of length ``period_length`` in the duration's unit) is a
    logistic regression on the person-period rows::

        logit h_j(x) = alpha_j + x' beta,   S_J(x) = prod_{j <= J} (1 - h_j(x))

    with one free alpha per period (a saturated baseline) and covariate effects on the odds of
    the event that are the same in every period. Without covariates and with a large ``C`` the
    fitted h_j = d_j / n_j and S equals Kaplan-Meier at the period ends. Fitted by scikit-learn's
    L2-penalized LogisticRegression (inverse strength ``C``) on standardized covariates; the
    learned ``coef_`` and ``baseline_`` are reported on the original scale. ``tol`` is tight by
    default because lbfgs at scikit-learn's 1e-4 stops short of the saturated optimum (S off
    by ~6e-4). Periods past the last one seen in training reuse its alpha.

    Attributes (after fit): ``periods_``, ``baseline_`` (alpha_j, Series by period),
    ``coef_`` (beta, Series by covariate), ``covariates_``, ``model_``.
    """

    def __init__(
        self, C: float = 1e4, period_length: float = 1.0, max_iter: int = 1000, tol: float = 1e-8
    ):
        self.C = C
        self.period_length = period_length
        self.max_iter = max_iter
        self.tol = tol

    def _covariates(self, frame: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
        missing = [c for c in covariates if c not in frame.columns]
        if missing:
            raise ValueError(f"frame: missing covariate column(s) {missing}")
        bad = [
            c
            for c in covariates
            if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
        ]
        if bad:
            raise ValueError(f"covariates: must be numeric or bool (one-hot encode first): {bad}")
        x = frame[list(covariates)].to_numpy(np.float64).reshape(len(frame), len(covariates))
        if not np.isfinite(x).all():
            raise ValueError("covariates: contain NaN or infinite values")
        return x

    def fit(
        self, frame: pd.DataFrame, duration: str, event: str, covariates: Sequence[str] = ()
    ) -> DiscreteTimeHazard:
        """Fit on one row per subject with ``duration``, ``event`` and numeric ``covariates``."""
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        missing = [c for c in (duration, event, *covariates) if c not in frame.columns]
        if missing:
            raise ValueError(f"frame: missing column(s) {missing}")
        pp = person_period(frame[[duration, event, *covariates]], duration, event,
                           self.period_length)  # fmt: skip
        x = self._covariates(pp, covariates)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        n_periods = int(pp["period"].max())
        dummies = sp.csr_matrix(
            (np.ones(len(pp)), (np.arange(len(pp)), pp["period"].to_numpy() - 1)),
            shape=(len(pp), n_periods),
        )
        design = sp.hstack([dummies, sp.csr_matrix((x - mean) / scale)], format="csr")
        y = pp[event].to_numpy()
        if y.min() == y.max():
            raise ValueError(f"{event}: need both events and non-events to fit a hazard")
        model = LogisticRegression(
            C=self.C, fit_intercept=False, max_iter=self.max_iter, tol=self.tol
        )
        self.model_ = model.fit(design, y)
        w = self.model_.coef_.ravel()
        beta = w[n_periods:] / scale
        self.periods_ = np.arange(1, n_periods + 1)
        self.covariates_ = covariates
        self.coef_ = pd.Series(beta, index=pd.Index(covariates, dtype=object), name="coef")
        self.baseline_ = pd.Series(w[:n_periods] - mean @ beta, index=self.periods_, name="alpha")
        return self

    def predict_hazard(self, frame: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
        """Hazard h_j(x) for each subject (rows, ``frame``'s index) and period j = 1..horizon."""
        if not hasattr(self, "model_"):
            raise ValueError("DiscreteTimeHazard is not fitted; call fit first")
        horizon = int(self.periods_[-1] if horizon is None else horizon)
        if horizon < 1:
            raise ValueError(f"horizon: must be >= 1 period, got {horizon}")
        alpha = self.baseline_.to_numpy()[np.minimum(np.arange(horizon), self.periods_.size - 1)]
        lin = self._covariates(frame, self.covariates_) @ self.coef_.to_numpy()
        return pd.DataFrame(
            expit(lin[:, None] + alpha[None, :]),
            index=frame.index,
            columns=pd.Index(np.arange(1, horizon + 1), name="period"),
        )

    def predict_survival(self, frame: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
        """S_J(x) = prod_{j <= J} (1 - h_j(x)): survival through the end of period J."""
        hazard = self.predict_hazard(frame, horizon)
        return pd.DataFrame(
            np.cumprod(1 - hazard.to_numpy(), axis=1), index=hazard.index, columns=hazard.columns
        )
