"""Uplift (heterogeneous treatment effect) meta-learners and a send-hour model, on LightGBM.

The conditional average treatment effect (CATE) of a binary treatment ``W`` on an outcome ``Y``
given features ``x`` is ``tau(x) = E[Y | x, W=1] - E[Y | x, W=0]``. All learners here assume a
randomized design (or unconfoundedness with known propensity) and use deterministic, single
threaded LightGBM base learners configured by `BoosterParams`.

- `TLearner`: two outcome models, ``tau(x) = mu1(x) - mu0(x)``.
- `XLearner` (Kuenzel, Sekhon, Bickel & Yu 2019, PNAS 116(10)): imputed effects
  ``D1 = Y - mu0(x)`` on the treated and ``D0 = mu1(x) - Y`` on the controls, regressed to
  ``tau1``, ``tau0``, combined as ``tau = e tau0 + (1 - e) tau1`` with propensity ``e``.
- `ClassTransformation`: Jaskowski & Jaroszewicz (2012) for ``e = 1/2``,
  ``Z = Y W + (1 - Y)(1 - W)``, ``tau = 2 P(Z=1 | x) - 1``; for other ``e`` the transformed
  outcome of Athey & Imbens (2016), ``Z = Y W / e - Y (1 - W) / (1 - e)``, ``E[Z | x] = tau(x)``.
- `SendHourModel` / `best_send_hour`: the open probability of a push as a function of member
  features and the send hour, and its argmax over the 24 hours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from persona_lib.models.frames import align_features, learn_categories

HOURS = np.arange(24)


@dataclass(frozen=True)
class BoosterParams:
    """LightGBM settings of every base learner (CPU, one thread, deterministic).

    Uplift signals are small next to outcome noise (a push moves P(session) by about 0.3
    points on a base near 18 %), so the defaults are few, shallow trees with very large leaves:
    each leaf holds at least ``max(min_child_samples, min_child_share x rows fitted)`` rows.
    On the default world this ranked members about twice as well against the truth as
    LightGBM-like defaults (31 leaves, 20 rows per leaf), which fit the noise.
    """

    n_estimators: int = 100
    learning_rate: float = 0.05
    num_leaves: int = 3
    min_child_samples: int = 100
    min_child_share: float = 0.02
    reg_lambda: float = 1.0
    colsample_bytree: float = 1.0
    random_state: int = 0

    def __post_init__(self) -> None:
        for name in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples"):
            if not getattr(self, name) > 0:
                raise ValueError(f"BoosterParams.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.min_child_share < 0.5:
            raise ValueError(
                f"BoosterParams.min_child_share must be in [0, 0.5): {self.min_child_share}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    def make(self, kind: str, n_rows: int = 0):
        """A fresh ``LGBMClassifier`` (``kind="classifier"``) or ``LGBMRegressor``."""
        import lightgbm  # heavy backend, imported when used

        cls = {"classifier": lightgbm.LGBMClassifier, "regressor": lightgbm.LGBMRegressor}[kind]
        params = self.to_dict()
        share = params.pop("min_child_share")
        params["min_child_samples"] = max(self.min_child_samples, int(share * n_rows))
        return cls(**params, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1)


class _Features:
    """Remembers the feature columns and categories of ``fit`` and casts frames for LightGBM."""

    def fit(self, X) -> _Features:
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        self.names = [str(c) for c in X.columns]
        self.categories = learn_categories(X.rename(columns=str))
        return self

    def transform(self, X) -> pd.DataFrame:
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        return align_features(X.rename(columns=str), self.names, self.categories)


def _check(X, treatment, y) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(treatment)
    y = np.asarray(y, dtype=np.float64)
    if not np.isin(w, (0, 1)).all():
        raise ValueError("treatment must be binary (0/1 or bool)")
    w = w.astype(bool)
    if len(X) != w.size or w.size != y.size:
        raise ValueError(f"X, treatment and y lengths differ: {len(X)}, {w.size}, {y.size}")
    if w.all() or not w.any():
        raise ValueError("both treated and control rows are needed")
    return w, y


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


class _Outcome:
    """A fitted E[y | x]: a classifier's P(y=1) for binary ``y``, else a regressor."""

    def __init__(self, params: BoosterParams, X: pd.DataFrame, y: np.ndarray):
        self.binary = _is_binary(y)
        self.model = params.make("classifier" if self.binary else "regressor", len(y))
        self.model.fit(X, y.astype(np.int64) if self.binary else y)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.binary:
            return self.model.predict_proba(X)[:, 1]
        return self.model.predict(X)


class MetaLearner:
    """Base class: validation and feature casting; subclasses implement ``_fit``/``_predict``.

    Parameters
    ----------
    params : BoosterParams of the base learners (default `BoosterParams()`).
    propensity : float in (0, 1) or None
        Known treatment probability of the randomized design; None estimates it as the treated
        share (the maximum-likelihood constant, right for a design with a fixed share).
    """

    def __init__(self, params: BoosterParams | None = None, propensity: float | None = None):
        self.params = params
        self.propensity = propensity

    def fit(self, X, treatment, y) -> MetaLearner:
        """Fit on features ``X`` (n, p), binary ``treatment`` (n,) and outcome ``y`` (n,)."""
        w, y = _check(X, treatment, y)
        p = float(w.mean()) if self.propensity is None else float(self.propensity)
        if not 0 < p < 1:
            raise ValueError(f"propensity must be in (0, 1), got {p}")
        self.propensity_ = p
        self.params_ = self.params or BoosterParams()
        self.features_ = _Features().fit(X)
        self._fit(self.features_.transform(X), w, y)
        return self

    def predict_uplift(self, X) -> np.ndarray:
        """Estimated CATE ``tau(x)`` per row, shape (n,)."""
        return self._predict(self.features_.transform(X))


class TLearner(MetaLearner):
    """Two-model learner: ``tau(x) = mu1(x) - mu0(x)``, each ``mu`` fitted on one arm."""

    def _fit(self, X, w, y) -> None:
        self.mu0_ = _Outcome(self.params_, X[~w], y[~w])
        self.mu1_ = _Outcome(self.params_, X[w], y[w])

    def _predict(self, X) -> np.ndarray:
        return self.mu1_.predict(X) - self.mu0_.predict(X)


class XLearner(TLearner):
    """X-learner (Kuenzel et al. 2019): ``tau = e tau0(x) + (1 - e) tau1(x)``.

    ``tau1`` regresses ``D1 = Y - mu0(x)`` on the treated, ``tau0`` regresses
    ``D0 = mu1(x) - Y`` on the controls; the weight ``e`` (propensity) favours the estimate
    learned from the larger arm.
    """

    def _fit(self, X, w, y) -> None:
        super()._fit(X, w, y)
        make = self.params_.make
        self.tau1_ = make("regressor", w.sum()).fit(X[w], y[w] - self.mu0_.predict(X[w]))
        self.tau0_ = make("regressor", (~w).sum()).fit(X[~w], self.mu1_.predict(X[~w]) - y[~w])

    def _predict(self, X) -> np.ndarray:
        e = self.propensity_
        return e * self.tau0_.predict(X) + (1 - e) * self.tau1_.predict(X)


class ClassTransformation(MetaLearner):
    """Class-variable / transformed-outcome learner (one model of a transformed target).

    ``method="classification"`` (Jaskowski & Jaroszewicz 2012, binary ``Y``, needs ``e = 1/2``):
    ``Z = Y W + (1 - Y)(1 - W)`` and ``tau(x) = 2 P(Z = 1 | x) - 1``.
    ``method="regression"`` (Athey & Imbens 2016): ``Z = Y W / e - Y (1 - W) / (1 - e)``, an
    unbiased signal of ``tau(x)``, regressed on ``x``. ``"auto"`` uses the classification form
    when the propensity is exactly 1/2 and ``Y`` is binary, the regression form otherwise.
    """

    def __init__(self, params=None, propensity=None, method: str = "auto"):
        super().__init__(params, propensity)
        self.method = method

    def _fit(self, X, w, y) -> None:
        if self.method not in ("auto", "classification", "regression"):
            raise ValueError(f"method must be auto, classification or regression: {self.method!r}")
        e = self.propensity_
        method = self.method
        if method == "auto":
            method = "classification" if e == 0.5 and _is_binary(y) else "regression"
        if method == "classification" and not (e == 0.5 and _is_binary(y)):
            raise ValueError("the classification form needs propensity 0.5 and a binary y")
        self.method_ = method
        if method == "classification":
            z = (y * w + (1 - y) * (1 - w)).astype(np.int64)
            self.model_ = self.params_.make("classifier", len(z)).fit(X, z)
        else:
            z = y * w / e - y * (1 - w) / (1 - e)
            self.model_ = self.params_.make("regressor", len(z)).fit(X, z)

    def _predict(self, X) -> np.ndarray:
        if self.method_ == "classification":
            return 2 * self.model_.predict_proba(X)[:, 1] - 1
        return self.model_.predict(X)


def circular_gap(a, b) -> np.ndarray:
    """Signed circular difference ``a - b`` in hours, wrapped into [-12, 12)."""
    return (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64) + 12) % 24 - 12


class SendHourModel:
    """P(open | member features, send hour): a LightGBM classifier on logged pushes.

    The hour enters circularly as ``sin(2 pi h / 24)``, ``cos(2 pi h / 24)`` and, when
    ``anchor`` names a feature column (default ``typical_hour``, the member's usual viewing
    hour), as the signed circular gap ``h - anchor`` in [-12, 12), so one tree split can express
    "a few hours before the member usually watches" for every member at once.

    Parameters
    ----------
    params : BoosterParams (default: 100 trees of 7 leaves, each leaf at least 50 rows and 1 %
        of the pushes; chosen on the smoke and default worlds, where larger trees overfit the
        few opens of a small log).
    anchor : feature column whose circular gap to the hour is added, or None.
    """

    def __init__(self, params: BoosterParams | None = None, anchor: str | None = "typical_hour"):
        self.params = params
        self.anchor = anchor

    def _with_hour(self, X: pd.DataFrame, hour) -> pd.DataFrame:
        h = np.broadcast_to(np.asarray(hour, dtype=np.float64), (len(X),))
        out = X.reset_index(drop=True).copy()
        out["send_hour_sin"] = np.sin(2 * np.pi * h / 24)
        out["send_hour_cos"] = np.cos(2 * np.pi * h / 24)
        if self.anchor is not None and self.anchor in X.columns:
            out["send_hour_gap"] = circular_gap(h, X[self.anchor].to_numpy(np.float64))
        return out

    def fit(self, X: pd.DataFrame, hour, opened) -> SendHourModel:
        """Fit on the features of pushed rows, their send ``hour`` (0..23) and ``opened``."""
        y = np.asarray(opened).astype(np.int64)
        if len(X) != y.size or not np.isin(y, (0, 1)).all():
            raise ValueError("opened must be binary and as long as X")
        params = self.params or BoosterParams(
            n_estimators=100, num_leaves=7, min_child_samples=50, min_child_share=0.01
        )
        Z = self._with_hour(X, hour)
        self.features_ = _Features().fit(Z)
        self.model_ = params.make("classifier").fit(self.features_.transform(Z), y)
        return self

    def predict_open(self, X: pd.DataFrame, hour) -> np.ndarray:
        """Open probability of a push at ``hour`` (scalar or per row), shape (n,)."""
        Z = self.features_.transform(self._with_hour(X, hour))
        return self.model_.predict_proba(Z)[:, 1]

    def open_curve(self, X: pd.DataFrame) -> np.ndarray:
        """Open probability at each of the 24 hours, shape (n, 24)."""
        return np.column_stack([self.predict_open(X, h) for h in HOURS])


def best_send_hour(model: SendHourModel, X: pd.DataFrame) -> np.ndarray:
    """The send hour (0..23) with the highest predicted open probability for each row of ``X``.

    Pass one row per member (e.g. each member's latest features) to get a per-member schedule;
    ties go to the earliest hour.

    Examples
    --------
    >>> model = SendHourModel().fit(X_pushed, hour, opened)  # doctest: +SKIP
    >>> best_send_hour(model, X_latest)  # doctest: +SKIP
    """
    return model.open_curve(X).argmax(axis=1).astype(np.int64)
