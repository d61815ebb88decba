"""Round terms of an off-policy estimate and their nonparametric bootstrap interval.

Every estimator in `persona_lib.evaluation.ope.estimators` reduces the logged data to three
per-round arrays and a value of the form

    V_hat = E_n[base_i] + E_n[numer_i] / E_n[denom_i]

(``denom`` is all ones for the unnormalized estimators). Keeping the arrays, not just their
round-wise sum, lets the bootstrap recompute self-normalized estimators exactly on each resample
(the normalizer is resampled too), instead of resampling already-normalized round rewards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

_CHUNK = 128  # bootstrap resamples drawn at a time: bounds memory at _CHUNK * n indices


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval of a policy value.

    Attributes
    ----------
    mean : float
        Mean of the bootstrap replicates (as obp reports it; the full-sample point estimate is
        ``estimate_policy_value``).
    low, high : float
        The ``alpha / 2`` and ``1 - alpha / 2`` percentiles of the replicates.
    """

    mean: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"Interval needs low <= high; got low={self.low}, high={self.high}")

    def to_dict(self) -> dict[str, float]:
        """The three figures as plain floats."""
        return {key: float(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class RoundTerms:
    """Per-round arrays whose means give the estimate: ``mean(base) + mean(numer) / mean(denom)``.

    Attributes
    ----------
    base, numer, denom : numpy.ndarray, shape (n_rounds,)
        ``denom`` is None for an unnormalized estimator (a denominator of one).
    """

    base: np.ndarray
    numer: np.ndarray
    denom: np.ndarray | None = None

    def value(self) -> float:
        """The estimate on the full sample."""
        ratio = self.numer.mean()
        if self.denom is not None:
            total = self.denom.mean()
            if total == 0.0:
                raise ValueError("the estimator's normalizer is zero: no round has weight")
            ratio = ratio / total
        return float(self.base.mean() + ratio)

    def resampled_values(self, index: np.ndarray) -> np.ndarray:
        """Estimates on resamples ``index`` (shape (n_resamples, n_rounds)); NaN if 0 / 0."""
        ratio = self.numer[index].mean(axis=1)
        if self.denom is not None:
            total = self.denom[index].mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(total > 0.0, ratio / np.where(total > 0.0, total, 1.0), np.nan)
        return self.base[index].mean(axis=1) + ratio


def bootstrap_interval(
    terms: RoundTerms, n_bootstrap: int = 1000, alpha: float = 0.05, random_state: int = 0
) -> Interval:
    """Percentile bootstrap interval of an estimate, resampling logged rounds with replacement.

    Each replicate recomputes the whole estimator (normalizers included) on ``n_rounds`` rounds
    drawn with replacement; the interval is the ``alpha / 2`` and ``1 - alpha / 2`` percentiles
    of the replicates (Efron & Tibshirani 1993, ch. 13). Replicates whose normalizer is zero (a
    resample with no matching round) are dropped.

    Parameters
    ----------
    terms : RoundTerms
        The estimator's per-round arrays.
    n_bootstrap : int
        Number of resamples, at least 2.
    alpha : float
        Miscoverage level in (0, 1); 0.05 gives a 95 % interval.
    random_state : int
        Seed of `numpy.random.default_rng`.

    Returns
    -------
    Interval

    Examples
    --------
    >>> terms = RoundTerms(base=np.zeros(4), numer=np.array([0.0, 1.0, 0.0, 1.0]))
    >>> bootstrap_interval(terms, n_bootstrap=200).low >= 0.0
    True
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise TypeError(f"n_bootstrap must be an int; got {type(n_bootstrap).__name__}")
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap must be at least 2; got {n_bootstrap}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    rng = np.random.default_rng(random_state)
    n = terms.numer.shape[0]
    replicates = []
    for start in range(0, n_bootstrap, _CHUNK):
        size = min(_CHUNK, n_bootstrap - start)
        replicates.append(terms.resampled_values(rng.integers(0, n, size=(size, n))))
    values = np.concatenate(replicates)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("every bootstrap resample had a zero normalizer")
    low, high = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return Interval(mean=float(values.mean()), low=float(low), high=float(high))
