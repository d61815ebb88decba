"""Uplift metrics (uplift and Qini curves, AUUC, targeting value) and the push experiment's truth.

Curves follow Gutierrez & Gerardy (2017, "Causal inference and uplift modelling: a review of the
literature", PMLR 67) and Radcliffe (2007, "Using control groups to target on predicted lift").
Rows are sorted by descending score; with ``N_t, N_c`` treated and control rows and ``Y_t, Y_c``
their outcome sums among the top rows:

- uplift curve ``U = (Y_t / N_t - Y_c / N_c) (N_t + N_c)`` (0 while an arm is empty);
- Qini curve ``Q = Y_t - Y_c N_t / N_c`` (``Y_t`` while there are no controls).

Ties: rows with equal scores form one block; the curves are evaluated only after whole blocks and
joined linearly, approximating the expected curve under random tie-breaking (exact for the
truth-based gains, which are sums). `targeting_value` cuts at a row count and breaks ties by row
order. Points are ``(k, curve(k))`` with ``k`` the rows targeted,
starting at ``(0, 0)``.

Areas put ``k / n`` on the x axis (trapezoids), so an area is in outcomes. The random line joins
``(0, 0)`` to ``(1, curve(n))``. AUUC and the Qini coefficient are the area between the model's
curve and the random line, divided (``normalize=True``) by the same area for the best ordering
the data allow: treated responders first, control non-responders, treated non-responders,
control responders last (Radcliffe's optimum with negative effects allowed). With noisy
outcomes this bound is far above any attainable curve, so normalized values are small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.keyed_random import Stream, uniform
from persona_lib.sim.sessions import WEEKDAY

FRACTIONS = (0.1, 0.2, 0.3, 0.5, 1.0)


def _group_sums(score: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows targeted and cumulative sums of ``values`` after each distinct-score block."""
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    s = score[order]
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1] if s.size else np.zeros(0, int)
    k = np.r_[0, ends + 1]
    sums = [np.r_[0.0, np.cumsum(np.asarray(v, dtype=np.float64)[order])[ends]] for v in values]
    return k, sums


def _arms(y, treatment, score):
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(treatment).astype(bool)
    if y.size == 0:
        raise ValueError("uplift curves need at least one row")
    if not y.size == w.size == np.size(score):
        raise ValueError(
            f"y, treatment and score lengths differ: {y.size}, {w.size}, {np.size(score)}"
        )
    return _group_sums(score, w, ~w, y * w, y * ~w)


def uplift_curve(y, treatment, uplift_score) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve ``(k, (Y_t/N_t - Y_c/N_c)(N_t + N_c))`` after each distinct-score block.

    Examples
    --------
    >>> uplift_curve([1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.3, 0.1])
    (array([0, 1, 2, 3, 4]), array([0. , 0. , 2. , 1.5, 0. ]))
    """
    k, (nt, nc, yt, yc) = _arms(y, treatment, uplift_score)
    rate = yt / np.maximum(nt, 1) - yc / np.maximum(nc, 1)
    return k, np.where((nt > 0) & (nc > 0), rate * (nt + nc), 0.0)


def qini_curve(y, treatment, uplift_score) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve ``(k, Y_t - Y_c N_t / N_c)`` after each distinct-score block (Radcliffe 2007)."""
    k, (nt, nc, yt, yc) = _arms(y, treatment, uplift_score)
    return k, yt - np.where(nc > 0, yc * nt / np.maximum(nc, 1), 0.0)


def _area_over_random(k: np.ndarray, curve: np.ndarray) -> float:
    """Trapezoid area of ``curve`` over ``k / n`` minus the random line's ``curve(n) / 2``."""
    x = k / k[-1]
    return float(np.sum((curve[1:] + curve[:-1]) * np.diff(x)) / 2 - curve[-1] / 2)


def _best_order_score(y, treatment) -> np.ndarray:
    """Rank key of the data's best ordering: treated responders 3, control non-responders 2,
    treated non-responders 1, control responders 0 (binary or fractional ``y``)."""
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(treatment).astype(bool)
    return np.where(w, 1 + 2 * y, 2 - 2 * y)


def auuc(y, treatment, uplift_score, normalize: bool = True) -> float:
    """Area between the uplift curve and the random line (see the module docstring).

    ``normalize=False``: in outcomes (x axis is the share targeted); ``True``: divided by the
    best ordering's area, so 1 is the data's optimum and 0 is random.
    """
    area = _area_over_random(*uplift_curve(y, treatment, uplift_score))
    if not normalize:
        return area
    best = _area_over_random(*uplift_curve(y, treatment, _best_order_score(y, treatment)))
    return area / best if best > 0 else float("nan")


def qini_coefficient(y, treatment, uplift_score, normalize: bool = True) -> float:
    """Qini coefficient: area between the Qini curve and the random line (Radcliffe 2007).

    ``normalize=True`` divides by the best ordering's area (see the module docstring).
    """
    area = _area_over_random(*qini_curve(y, treatment, uplift_score))
    if not normalize:
        return area
    best = _area_over_random(*qini_curve(y, treatment, _best_order_score(y, treatment)))
    return area / best if best > 0 else float("nan")


def _top(score: np.ndarray, fraction: float) -> np.ndarray:
    """Indices of the top ``ceil(fraction n)`` rows by score (ties by row order)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fractions must be in (0, 1], got {fraction}")
    k = int(np.ceil(fraction * score.size))
    return np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")[:k]


def targeting_value(y, treatment, score, fractions=FRACTIONS) -> pd.DataFrame:
    """Estimated incremental outcomes of treating the top x % by ``score``, from randomized data.

    In the targeted group ``G`` (top ``k = ceil(x n)`` rows, ties by row order) the uplift is
    ``ybar_t(G) - ybar_c(G)`` and the incremental outcomes ``k (ybar_t(G) - ybar_c(G))`` with
    standard error ``k sqrt(s_t^2 / n_t + s_c^2 / n_c)``. Random targeting of ``k`` rows yields
    ``k ATE`` in expectation and treating everyone ``n ATE`` (ATE = difference in means).

    Returns
    -------
    DataFrame: fraction, n_targeted, uplift_targeted, incremental_model, incremental_model_se,
    incremental_random, incremental_all.
    """
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(treatment).astype(bool)
    ate = y[w].mean() - y[~w].mean()
    rows = []
    for f in fractions:
        g = _top(np.asarray(score), f)
        yt, yc = y[g][w[g]], y[g][~w[g]]
        diff = yt.mean() - yc.mean() if yt.size and yc.size else np.nan
        se = np.nan
        if min(yt.size, yc.size) > 1:
            se = np.sqrt(yt.var(ddof=1) / yt.size + yc.var(ddof=1) / yc.size)
        rows.append((f, g.size, diff, g.size * diff, g.size * se, g.size * ate, y.size * ate))
    cols = ["fraction", "n_targeted", "uplift_targeted", "incremental_model",
            "incremental_model_se", "incremental_random", "incremental_all"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def true_targeting_value(true_effect, score, fractions=FRACTIONS) -> pd.DataFrame:
    """True incremental outcomes of treating the top x % by ``score``, given each row's effect.

    ``model = sum of true_effect over the top k rows``; ``random = k mean(true_effect)``;
    ``oracle`` targets the k largest true effects; ``all`` treats everyone;
    ``captured = (model - random) / (oracle - random)`` (1: as good as the oracle, 0: random).
    """
    tau = np.asarray(true_effect, dtype=np.float64)
    rows = []
    for f in fractions:
        g = _top(np.asarray(score), f)
        model, random, oracle = tau[g].sum(), g.size * tau.mean(), tau[_top(tau, f)].sum()
        captured = (model - random) / (oracle - random) if oracle > random else np.nan
        rows.append((f, g.size, model, random, oracle, tau.sum(), captured))
    cols = ["fraction", "n_targeted", "model", "random", "oracle", "all", "captured"]
    return pd.DataFrame(rows, columns=cols)


def true_qini_coefficient(true_effect, score) -> float:
    """Qini coefficient against the truth: area between the true gain curve and random, / oracle.

    The true gain curve is ``G(k) = sum of true_effect over the top k rows by score`` (ties as
    blocks); the oracle sorts by ``true_effect`` itself. 1 is the oracle, 0 random, < 0 worse.
    """
    tau = np.asarray(true_effect, dtype=np.float64)
    k, (gain,) = _group_sums(score, tau)
    model = _area_over_random(k, gain)
    k, (gain,) = _group_sums(tau, tau)
    oracle = _area_over_random(k, gain)
    return model / oracle if oracle > 0 else float("nan")


def true_open_probability(hour, best_hour) -> np.ndarray:
    """The simulator's open probability ``0.02 + 0.22 exp(-gap^2 / (2 * 2.5^2))``.

    ``gap`` is the circular distance in hours between the send hour and the member's true best
    send hour (``Subscriptions.notify`` in ``persona_lib.sim.billing``).
    """
    gap = np.abs(np.asarray(hour, dtype=np.float64) - np.asarray(best_hour, dtype=np.float64))
    gap = np.minimum(gap, 24 - gap)
    return 0.02 + 0.22 * np.exp(-(gap**2) / (2 * 2.5**2))


def true_notification_effect(world, experiment: pd.DataFrame, hour=None) -> np.ndarray:
    """True change in P(session that day) from sending each row's member a push.

    The simulator draws a day's sessions as Poisson with rate ``lam = engagement x WEEKDAY[dow]``
    (times ``1 + uplift`` when a push was opened; the cap at 8 sessions does not change
    ``P(count >= 1)``), so ``P(session) = 1 - exp(-lam)`` without a push and
    ``1 - (1 - p) exp(-lam) - p exp(-lam (1 + uplift))`` with one opened with probability ``p``:

        effect = p_open(hour) (exp(-lam) - exp(-lam (1 + uplift)))

    Parameters
    ----------
    world : the simulated `World` (its truth is read here: evaluation only).
    experiment : rows of `notification_experiment` (user_id, day, hour).
    hour : None averages ``p_open`` over the 24 equally likely hours (the randomized design's
        estimand, what a meta-learner without the hour estimates); ``"logged"`` uses each treated
        row's send hour (controls: the average); an int or array sets the hour.
    """
    users = world.truth.tables["users"].set_index("user_id")
    u = experiment["user_id"].to_numpy()
    day = experiment["day"].to_numpy()
    dow = (world.config.start.astype(np.int64) + 3 + day) % 7  # 1970-01-01 was a Thursday
    lam = users["engagement"].to_numpy()[u] * WEEKDAY[dow]
    best = users["best_send_hour"].to_numpy()[u]
    mean_open = true_open_probability(np.arange(24)[:, None], best[None, :]).mean(axis=0)
    if hour is None:
        p_open = mean_open
    elif isinstance(hour, str) and hour == "logged":
        logged = experiment["hour"].to_numpy(np.float64)
        p_open = np.where(np.isnan(logged), mean_open, true_open_probability(logged, best))
    else:
        p_open = true_open_probability(hour, best)
    boost = users["notification_uplift"].to_numpy()[u]
    return p_open * (np.exp(-lam) - np.exp(-lam * (1 + boost)))


def hour_accuracy(chosen, best) -> dict[str, float]:
    """Share of chosen send hours equal to, within 1 and within 2 circular hours of the best.

    Circular distance ``min(|a - b|, 24 - |a - b|)``; also its mean (``mean_gap_hours``).
    """
    gap = np.abs(np.asarray(chosen, dtype=np.float64) - np.asarray(best, dtype=np.float64)) % 24
    gap = np.minimum(gap, 24 - gap)
    return {
        "exact": float(np.mean(gap < 0.5)),
        "within_1": float(np.mean(gap <= 1)),
        "within_2": float(np.mean(gap <= 2)),
        "mean_gap_hours": float(gap.mean()),
    }


def eligibility_audit(world, experiment: pd.DataFrame) -> dict[str, float]:
    """Mismatch of the reconstructed eligible member-days against the simulator's own coins.

    The simulator sends a push iff the member is eligible and its keyed uniform
    ``u0(user, day) < notification_share``. On the rows whose coin says "send", truth eligibility
    is observed exactly: a reconstructed row without a push is a false positive, a logged push
    (on a day the reconstruction covers) outside the rows a false negative. Since the coin is
    independent of eligibility, ``mismatch_rate = (fp + fn) / coin_rows`` estimates the share of
    wrongly classified member-days.
    """
    cfg = world.config
    u, d = experiment["user_id"].to_numpy(), experiment["day"].to_numpy()
    coin = uniform(cfg.random_state, Stream.NOTIFICATIONS, u, d, 0) < cfg.notification_share
    treated = experiment["treated"].to_numpy()
    first_day = max(cfg.inactive_days - 1, 0)
    push_day = (
        world.notifications["ts"].to_numpy().astype("datetime64[ms]").astype("datetime64[D]")
        - cfg.start
    ).astype(np.int64)
    n_pushes = int((push_day >= first_day).sum())
    fp = int((coin & ~treated).sum())
    fn = n_pushes - int(treated.sum())
    rows = max(int(coin.sum()) + fn, 1)
    return {"coin_rows": rows, "false_positives": fp, "false_negatives": fn,
            "mismatch_rate": (fp + fn) / rows}  # fmt: skip
