"""Metrics of binary probability forecasts: discrimination, calibration and targeting.

Pure vectorized functions of labels ``y`` (0/1) and predicted probabilities ``p``; they take
no model and print nothing. Discrimination and proper scores come from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STRATEGIES = ("quantile", "uniform")


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype("float64").ravel()
    p = np.asarray(p, dtype="float64").ravel()
    if y.shape != p.shape:
        raise ValueError(f"y and p must have the same length, got {y.size} and {p.size}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must be binary (0/1 or bool)")
    if np.any((p < 0) | (p > 1)) or np.isnan(p).any():
        raise ValueError("p must be probabilities in [0, 1]")
    return y, p


def classification_report(y, p) -> dict[str, float]:
    """Headline metrics of probabilities ``p`` for labels ``y``.

    ``roc_auc`` (area under the ROC curve; NaN with one class), ``pr_auc`` (average
    precision, sum_k (R_k - R_{k-1}) P_k), ``brier`` = mean((p - y)^2), ``log_loss`` (mean
    negative log-likelihood, p clipped to [1e-15, 1 - 1e-15]), ``base_rate`` = mean(y),
    ``mean_predicted`` = mean(p), ``n``.

    Examples
    --------
    >>> classification_report([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])["roc_auc"]
    1.0
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y, p = _check(y, p)
    both = len(np.unique(y)) == 2
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "base_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "n": int(y.size),
    }


def calibration_table(y, p, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Mean prediction against the observed rate per bin of ``p``.

    ``strategy="quantile"``: equal-count bins (fewer when predictions tie); ``"uniform"``:
    equal-width bins on [0, 1]. ``se`` = sqrt(rate (1 - rate) / n) of the observed rate.

    Returns
    -------
    DataFrame
        ``bin``, ``p_low``, ``p_high``, ``n``, ``mean_predicted``, ``observed_rate``, ``se``;
        empty bins are left out.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    y, p = _check(y, p)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
        bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    else:  # floor(p * n_bins): exact at the edges, where linspace rounding is not
        edges = np.arange(n_bins + 1) / n_bins
        bins = np.minimum(np.floor(p * n_bins).astype("int64"), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "p": p, "y": y})
    out = frame.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"),
                                   observed_rate=("y", "mean"))  # fmt: skip
    out["se"] = np.sqrt(out["observed_rate"] * (1 - out["observed_rate"]) / out["n"])
    index = out.index.to_numpy()
    out.insert(0, "p_low", edges[index])
    out.insert(1, "p_high", edges[np.minimum(index + 1, len(edges) - 1)])
    return out.reset_index()


def cumulative_gains(y, p) -> pd.DataFrame:
    """Share of positives captured when targeting the top share of rows by ``p``.

    Rows sorted by ``p`` descending (ties kept in input order); after the k-th row
    ``share_targeted = k / n`` and ``share_captured = positives so far / all positives``;
    ``lift = share_captured / share_targeted``. A first row (0, 0) anchors the curve.

    Returns
    -------
    DataFrame
        ``share_targeted``, ``share_captured``, ``lift`` (NaN at 0); n + 1 rows.
    """
    y, p = _check(y, p)
    order = np.argsort(-p, kind="stable")
    hits = np.concatenate([[0.0], np.cumsum(y[order])])
    targeted = np.arange(y.size + 1) / max(y.size, 1)
    captured = hits / hits[-1] if hits[-1] > 0 else np.full(hits.shape, np.nan)
    lift = np.divide(captured, targeted, out=np.full(targeted.shape, np.nan), where=targeted > 0)
    return pd.DataFrame({"share_targeted": targeted, "share_captured": captured, "lift": lift})


def top_decile_capture(y, p, share: float = 0.1) -> dict[str, float]:
    """Positives captured in the top ``share`` of rows by ``p`` and the lift over random.

    The top ``ceil(share * n)`` rows by ``p`` (ties in input order): ``capture`` = their
    positives / all positives, ``lift`` = their positive rate / the base rate (= capture /
    share targeted).

    Examples
    --------
    >>> top_decile_capture([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], np.linspace(1, 0, 10))["capture"]
    0.5
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    y, p = _check(y, p)
    k = int(np.ceil(share * y.size))
    top = y[np.argsort(-p, kind="stable")[:k]]
    total = y.sum()
    capture = top.sum() / total if total > 0 else float("nan")
    lift = top.mean() / y.mean() if total > 0 and k > 0 else float("nan")
    return {"capture": float(capture), "lift": float(lift), "n_targeted": k}
