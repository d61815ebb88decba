"""Top-k ranking metrics: precision, recall, nDCG, MAP, hit rate and MRR at k.

Every metric takes a ``truth`` frame of relevant titles (``user_id, title_id`` and, for graded
nDCG, a gain column) and a ``predictions`` frame (``user_id, title_id, score``), keeps each
member's k best-scored rows and averages a per-member value. The conventions follow
microsoft/recommenders 1.2.1 (``recommenders.evaluation.python_evaluation`` with
``relevancy_method="top_k"``) so that published numbers are comparable, and the values agree
with it to 1e-12 (``benchmarks/bench_ranking_metrics.py`` checks this live):

- **Order and ties.** Rows are ranked by descending score within a member; tied scores keep the
  order in which they appear in ``predictions`` (a stable sort), and NaN scores rank last.
  Rank is 1-based.
- **Members counted.** Precision, recall, MAP, hit rate and MRR average over members present in
  both frames. nDCG averages over every member in ``truth``: a member with relevant titles but
  no predictions scores 0 there (this is what recommenders 1.2.1 does).
- **Short lists.** Precision divides by k even when a member has fewer than k predictions.

Each (user_id, title_id) pair must appear at most once in ``truth`` (checked) and in
``predictions`` (not checked: a repeated pair would count twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

USER, TITLE, SCORE = "user_id", "title_id", "score"
_KEY_LIMIT = 2**63  # a (member, score level, row) sort key must stay below this to fit int64


@dataclass(frozen=True)
class RankedHits:
    """The top-k predictions of the members in ``truth``, as flat arrays sorted by member, rank.

    Members get small integer codes shared by both frames (some codes may be unused). Row arrays
    hold one entry per kept prediction row (members in both frames only); member arrays hold one
    entry per member code.
    """

    k: int
    user: np.ndarray  # member code of each kept row
    rank: np.ndarray  # 1-based rank of each kept row (int64)
    hit: np.ndarray  # bool: the row's title is relevant to the member
    gain: np.ndarray  # gain of the row's title (1.0 when binary, 0.0 on a miss)
    nth_hit: np.ndarray  # how many hits the member has at this rank or above (int64)
    n_relevant: np.ndarray  # number of relevant titles per member (0 when not in truth)
    ideal_dcg: np.ndarray  # best achievable DCG@k per member (0 when not in truth)
    counted: np.ndarray  # bool per member: in both frames

    @property
    def n_counted(self) -> int:
        """Members present in both frames: the denominator of every metric but nDCG."""
        return int(self.counted.sum())

    def per_user(self, weights: np.ndarray) -> np.ndarray:
        """Sum a row quantity per member code."""
        return np.bincount(self.user, weights=weights, minlength=self.n_relevant.size)


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")


def _discount(rank: np.ndarray) -> np.ndarray:
    # natural log as in recommenders; the base cancels in DCG / IDCG
    return 1.0 / np.log(1.0 + rank)


def _rank_within(sorted_codes: np.ndarray) -> np.ndarray:
    """1-based position of each row within its run of equal codes (codes already sorted)."""
    n = sorted_codes.size
    new = np.empty(n, bool)
    new[:1] = True
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    return np.arange(1, n + 1) - starts[run]


def _member_then_score_order(user: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row positions sorted by member, then score descending; ties keep row order, NaN last."""
    levels, uniques = pd.factorize(-score, sort=True)  # ascending -score; NaN gets -1
    n_levels, n = len(uniques) + 1, score.size
    levels = np.where(levels < 0, n_levels - 1, levels)
    n_users = int(user.max()) + 1 if n else 0
    if n_users * n_levels * n < _KEY_LIMIT:
        # one unique int64 key (member, level, row): any sort of it is the stable sort, and
        # numpy's default integer sort is several times faster than lexsort or a stable sort
        key = (user.astype(np.int64) * n_levels + levels) * n + np.arange(n)
        return np.argsort(key)
    return np.lexsort((levels, user))


def _top_k_order(user: np.ndarray, score: pd.Series, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of each member's k best scores, sorted by member then rank, and the ranks."""
    order = _member_then_score_order(user, score.to_numpy(dtype=np.float64, na_value=np.nan))
    rank = _rank_within(user[order])
    keep = rank <= k
    return order[keep], rank[keep]


def _codes(name: str, first: pd.Series, second: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of the ids in ``first`` then ``second``, and how many codes there are."""
    both = np.concatenate([first.to_numpy(), second.to_numpy()])
    if both.dtype.kind in "iu" and both.size:
        low, high = int(both.min()), int(both.max())
        if high - low < 4 * both.size + 1_024:  # compact ids serve as codes: no hashing
            return (both - low).astype(np.int64), high - low + 1
    codes, uniques = pd.factorize(both)
    if codes.size and codes.min() < 0:
        raise ValueError(f"{name} has missing values")
    return codes.astype(np.int64), len(uniques)


def keep_top_k(predictions: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each member's k best-scored rows, sorted by member and rank, with a 1-based ``rank``.

    Ties in score keep their order in ``predictions``; NaN scores rank last.

    Parameters
    ----------
    predictions : ``user_id, title_id, score`` (other columns are kept).
    k : list length, a positive integer.

    Returns
    -------
    DataFrame with the rows kept, a fresh index and ``rank`` (int64) last.

    Examples
    --------
    >>> predictions = pd.DataFrame({"user_id": [1, 1, 1], "title_id": [7, 8, 9],
    ...                             "score": [0.5, 0.9, 0.5]})
    >>> keep_top_k(predictions, k=2)["title_id"].tolist()
    [8, 7]
    """
    _check_k(k)
    _require(predictions, "predictions", (USER, SCORE))
    users = _codes(USER, predictions[USER], predictions[USER][:0])[0]
    order, rank = _top_k_order(users, predictions[SCORE], int(k))
    top = predictions.iloc[order].reset_index(drop=True)
    return top.assign(rank=rank.astype(np.int64))


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def _ideal_dcg(user: np.ndarray, gain: np.ndarray | None, k: int, n_users: int) -> np.ndarray:
    """Best DCG@k per member: the k largest gains at ranks 1..k."""
    if gain is None:  # binary relevance: sum of the first min(k, n_relevant) discounts
        n_relevant = np.bincount(user, minlength=n_users)
        cumulative = np.concatenate([[0.0], np.cumsum(_discount(np.arange(1, k + 1)))])
        return cumulative[np.minimum(n_relevant, k)]
    order = _member_then_score_order(user, gain)
    rank = _rank_within(user[order])
    keep = rank <= k
    weights = gain[order][keep] * _discount(rank[keep])
    return np.bincount(user[order][keep], weights=weights, minlength=n_users)


def rank_hits(
    truth: pd.DataFrame, predictions: pd.DataFrame, k: int, gain_col: str | None = None
) -> RankedHits:
    """Keep each member's k best predictions and mark the relevant ones.

    Parameters
    ----------
    truth : ``user_id, title_id`` (and ``gain_col`` when given): one row per relevant pair.
    predictions : ``user_id, title_id, score``, any row order.
    k : list length, a positive integer.
    gain_col : column of ``truth`` holding graded relevance for nDCG; None means every relevant
        title has gain 1.

    Returns
    -------
    RankedHits, the shared intermediate of every metric in this module.

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1], "title_id": [7]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 8], "score": [0.2, 0.9]})
    >>> ranked = rank_hits(truth, predictions, k=2)
    >>> ranked.rank[ranked.hit].tolist()
    [2]
    """
    _check_k(k)
    k = int(k)
    _require(truth, "truth", (USER, TITLE) + ((gain_col,) if gain_col else ()))
    _require(predictions, "predictions", (USER, TITLE, SCORE))
    n_truth = len(truth)
    users, n_users = _codes(USER, truth[USER], predictions[USER])
    titles, n_titles = _codes(TITLE, truth[TITLE], predictions[TITLE])
    pairs = users * n_titles + titles
    truth_user, pred_user = users[:n_truth], users[n_truth:]
    truth_pairs = pd.Index(pairs[:n_truth])
    if not truth_pairs.is_unique:
        raise ValueError("truth has repeated (user_id, title_id) pairs")
    n_relevant = np.bincount(truth_user, minlength=n_users)
    counted = (n_relevant > 0) & (np.bincount(pred_user, minlength=n_users) > 0)

    order, rank = _top_k_order(pred_user, predictions[SCORE], k)
    kept = counted[pred_user[order]]
    order, rank = order[kept], rank[kept]
    user = pred_user[order]
    position = truth_pairs.get_indexer(pairs[n_truth:][order])
    hit = position >= 0
    gains = np.ones(n_truth) if gain_col is None else truth[gain_col].to_numpy(np.float64)
    gain = np.where(hit, gains[position], 0.0)
    cumulative = np.cumsum(hit)
    first = np.flatnonzero(rank == 1)
    before = (cumulative[first] - hit[first])[np.cumsum(rank == 1) - 1]
    return RankedHits(
        k=k,
        user=user,
        rank=rank.astype(np.int64),
        hit=hit,
        gain=gain,
        nth_hit=(cumulative - before).astype(np.int64),
        n_relevant=n_relevant,
        ideal_dcg=_ideal_dcg(truth_user, None if gain_col is None else gains, k, n_users),
        counted=counted,
    )


def _mean_over_counted(ranked: RankedHits, per_user: np.ndarray) -> float:
    n = ranked.n_counted
    return float(per_user[ranked.counted].sum() / n) if n else 0.0


def precision_at_k(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """Precision at k: the share of a member's top k that is relevant, averaged over members.

    ``P@k = (1/|U|) sum_u |top_k(u) & rel(u)| / k`` over members U in both frames; the
    denominator is k even for shorter lists (Spark MLlib ``precisionAt``; recommenders 1.2.1).

    Parameters
    ----------
    truth : ``user_id, title_id`` of relevant pairs.
    predictions : ``user_id, title_id, score``; ties in score keep their row order.
    k : list length.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 9]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 8], "score": [0.9, 0.5]})
    >>> precision_at_k(truth, predictions, k=2)
    0.5
    """
    ranked = rank_hits(truth, predictions, k)
    return _mean_over_counted(ranked, ranked.per_user(ranked.hit) / ranked.k)


def recall_at_k(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """Recall at k: the share of a member's relevant titles found in the top k, averaged.

    ``R@k = (1/|U|) sum_u |top_k(u) & rel(u)| / |rel(u)|`` over members U in both frames
    (recommenders 1.2.1 ``recall_at_k``); non-decreasing in k.

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 9]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 8], "score": [0.9, 0.5]})
    >>> recall_at_k(truth, predictions, k=2)
    0.5
    """
    ranked = rank_hits(truth, predictions, k)
    found = ranked.per_user(ranked.hit)
    return _mean_over_counted(ranked, found / np.maximum(ranked.n_relevant, 1))


def ndcg_at_k(
    truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10, gain_col: str | None = None
) -> float:
    """nDCG at k (normalized discounted cumulative gain), averaged over members in ``truth``.

    ``DCG@k(u) = sum_{r<=k} g(u, item at r) / log(1 + r)``; ``IDCG@k(u)`` is the same sum over
    u's relevant gains sorted descending; ``nDCG@k = (1/|T|) sum_u DCG@k(u) / IDCG@k(u)`` over
    every member T in ``truth``, so members without predictions score 0 (Jarvelin & Kekalainen
    2002; the log base cancels; recommenders 1.2.1 ``ndcg_at_k`` with ``score_type="binary"``,
    or ``"raw"`` when ``gain_col`` is given).

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.
    gain_col : graded relevance column of ``truth`` (e.g. a rating, or ``2**rating - 1`` for
        exponential gain); None gives every relevant title gain 1.

    Returns
    -------
    float in [0, 1] when gains are non-negative.

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1], "title_id": [7]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [8, 7], "score": [0.9, 0.5]})
    >>> round(ndcg_at_k(truth, predictions, k=2), 4)  # 1/log(3) / (1/log(2))
    0.6309
    """
    ranked = rank_hits(truth, predictions, k, gain_col)
    dcg = ranked.per_user(ranked.gain * _discount(ranked.rank))
    in_truth = ranked.n_relevant > 0
    if not in_truth.any() or not ranked.hit.any():
        return 0.0
    return float(np.mean(dcg[in_truth] / ranked.ideal_dcg[in_truth]))


def _average_precision(ranked: RankedHits) -> np.ndarray:
    """Per member: sum over hits at rank r of (hits at or above r) / r."""
    return ranked.per_user(np.where(ranked.hit, ranked.nth_hit / ranked.rank, 0.0))


def map_at_k(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """MAP at k (mean average precision) with denominator min(k, number of relevant titles).

    ``AP@k(u) = sum_{r<=k} P@r(u) rel(u, r) / min(k, |rel(u)|)``, averaged over members in both
    frames (Spark MLlib ``meanAveragePrecisionAt``; recommenders 1.2.1 ``map_at_k``). A perfect
    top k scores 1 even when a member has more than k relevant titles; compare `map_full`.

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1, 1, 1], "title_id": [7, 8, 9]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 8], "score": [0.9, 0.5]})
    >>> map_at_k(truth, predictions, k=2)
    1.0
    """
    ranked = rank_hits(truth, predictions, k)
    denominator = np.maximum(np.minimum(ranked.n_relevant, ranked.k), 1)
    return _mean_over_counted(ranked, _average_precision(ranked) / denominator)


def map_full(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """MAP of the top k with the full denominator: the number of relevant titles.

    ``AP(u) = sum_{r<=k} P@r(u) rel(u, r) / |rel(u)|``, averaged over members in both frames
    (Manning et al. 2008, ch. 8; recommenders 1.2.1 calls this ``map``). Unlike `map_at_k` it
    cannot reach 1 when a member has more than k relevant titles, so it also rewards recall.

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1, 1, 1], "title_id": [7, 8, 9]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [7, 8], "score": [0.9, 0.5]})
    >>> round(map_full(truth, predictions, k=2), 4)
    0.6667
    """
    ranked = rank_hits(truth, predictions, k)
    denominator = np.maximum(ranked.n_relevant, 1)
    return _mean_over_counted(ranked, _average_precision(ranked) / denominator)


def hit_rate_at_k(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """Hit rate at k: the share of members with at least one relevant title in their top k.

    ``HR@k = (1/|U|) sum_u [top_k(u) & rel(u) is not empty]`` over members in both frames.

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1, 2], "title_id": [7, 7]})
    >>> predictions = pd.DataFrame({"user_id": [1, 2], "title_id": [7, 8], "score": [0.9, 0.5]})
    >>> hit_rate_at_k(truth, predictions, k=1)
    0.5
    """
    ranked = rank_hits(truth, predictions, k)
    return _mean_over_counted(ranked, ranked.per_user(ranked.hit) > 0)


def mrr_at_k(truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10) -> float:
    """MRR at k (mean reciprocal rank): 1 / rank of the first relevant title, 0 if none in k.

    ``MRR@k = (1/|U|) sum_u 1 / min{r <= k : rel(u, r)}`` over members in both frames
    (Voorhees 1999).

    Parameters
    ----------
    truth, predictions, k : as in `precision_at_k`.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> truth = pd.DataFrame({"user_id": [1], "title_id": [7]})
    >>> predictions = pd.DataFrame({"user_id": [1, 1], "title_id": [8, 7], "score": [0.9, 0.5]})
    >>> mrr_at_k(truth, predictions, k=2)
    0.5
    """
    ranked = rank_hits(truth, predictions, k)
    first = ranked.hit & (ranked.nth_hit == 1)
    return _mean_over_counted(ranked, ranked.per_user(np.where(first, 1.0 / ranked.rank, 0.0)))
