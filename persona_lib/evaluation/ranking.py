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

Speed: one sort of a packed int64 key (member, score level, row) ranks every list, a hash
lookup marks the hits and ``np.bincount`` sums per member; on 1.5 million prediction rows each
metric runs 20-30 times faster than recommenders 1.2.1 (``benchmarks/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

USER, TITLE, SCORE = "user_id", "title_id", "score"
_KEY_LIMIT = 2**63  # a (member, score level, row) sort key must stay below this to fit int64


@dataclass(frozen=True)
class RankedHits:
    """The top-k predictions of the members in ``truth``, as flat arrays sorted by member, rank.

    Members get small integer codes shared by both frames (some codes may be unused). Row arrays
    hold one entry per kept prediction row (members in both frames only); member arrays hold one
    entry per member code. Quantities only some metrics need are computed on first use.
    """

    k: int
    user: np.ndarray  # member code of each kept row
    rank: np.ndarray  # 1-based rank of each kept row (int64)
    position: np.ndarray  # row of ``truth`` holding the kept row's title, -1 when not relevant
    n_relevant: np.ndarray  # number of relevant titles per member (0 when not in truth)
    counted: np.ndarray  # bool per member: in both frames
    truth_user: np.ndarray  # member code of each truth row
    truth_gain: np.ndarray | None  # gain of each truth row; None for binary relevance

    @cached_property
    def hit(self) -> np.ndarray:
        """Whether each kept row's title is relevant to its member."""
        return self.position >= 0

    @cached_property
    def gain(self) -> np.ndarray:
        """Gain of each kept row: its truth gain (1 when binary) on a hit, else 0."""
        if self.truth_gain is None:
            return self.hit.astype(np.float64)
        return np.where(self.hit, self.truth_gain[self.position], 0.0)

    @cached_property
    def nth_hit(self) -> np.ndarray:
        """How many hits the row's member has at this rank or above."""
        cumulative = np.cumsum(self.hit)
        first = self.rank == 1
        starts = np.flatnonzero(first)
        before = (cumulative[starts] - self.hit[starts])[np.cumsum(first) - 1]
        return cumulative - before

    @cached_property
    def ideal_dcg(self) -> np.ndarray:
        """Best achievable DCG@k per member: its k largest gains at ranks 1..k."""
        if self.truth_gain is None:  # the first min(k, n_relevant) discounts
            cumulative = np.concatenate([[0.0], np.cumsum(_discount(np.arange(1, self.k + 1)))])
            return cumulative[np.minimum(self.n_relevant, self.k)]
        n_users, gain = self.n_relevant.size, self.truth_gain
        levels, n_levels = _score_levels(gain)
        if n_levels <= 64:  # few gain values (ratings): count them per member, no sort needed
            return _ideal_dcg_from_counts(self.truth_user, n_users, levels, n_levels, gain, self.k)
        order, user, rank = _top_k_order(self.truth_user, n_users, gain, self.k)
        return np.bincount(user, weights=gain[order] * _discount(rank), minlength=n_users)

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


def _score_levels(score: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense rank of each score, highest first from 0; NaN scores share the last level."""
    negated = -score
    if np.unique(negated[:4_096]).size < 256:  # few distinct scores: hash, sort the uniques
        codes, uniques = pd.factorize(negated)  # NaN gets code -1, i.e. the last slot below
        level_of = np.empty(uniques.size + 1, np.int64)
        level_of[np.argsort(uniques)] = np.arange(uniques.size)
        level_of[-1] = uniques.size
        return level_of[codes], uniques.size + 1
    order = np.argsort(negated)  # numpy puts NaN last
    ordered = negated[order]
    new = np.empty(score.size, bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    n_numbers = score.size - int(np.isnan(score).sum())
    new[n_numbers + 1 :] = False  # NaN != NaN, yet all NaN rows tie
    levels = np.empty(score.size, np.int64)
    levels[order] = np.cumsum(new) - 1
    return levels, int(new.sum())


def _ideal_dcg_from_counts(
    user: np.ndarray, n_users: int, levels: np.ndarray, n_levels: int, gain: np.ndarray, k: int
) -> np.ndarray:
    """Best DCG@k per member when gains take few values (``levels``: 0 for the largest).

    A member's titles of level l fill ranks (c_<l, c_<=l], cut at k, where c are cumulative
    counts over levels; the level contributes its gain times those ranks' summed discounts.
    """
    counts = np.bincount(levels * n_users + user, minlength=n_levels * n_users)
    end = np.minimum(np.cumsum(counts.reshape(n_levels, n_users), axis=0), k)
    start = np.concatenate([np.zeros((1, n_users), np.int64), end[:-1]])
    discounts = np.concatenate([[0.0], np.cumsum(_discount(np.arange(1, k + 1)))])
    level_gain = np.zeros(n_levels)
    level_gain[levels] = gain
    return np.einsum("l,lu->u", level_gain, discounts[end] - discounts[start])  # not BLAS: tiny


def _top_k_order(
    user: np.ndarray,
    n_users: int,
    score: np.ndarray,
    k: int,
    members: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions, member codes and 1-based ranks of each member's k best scores.

    Rows sort by (member, score descending, row): tied scores keep their row order, NaN last.
    ``members`` (bool per member code), when given, drops the rows of the other members.
    """
    n = score.size
    levels, n_levels = _score_levels(score)
    counts = np.bincount(user, minlength=n_users)
    first_row = np.cumsum(counts) - counts
    packed = n_users * n_levels * n < _KEY_LIMIT
    if packed:
        # one unique int64 key per row; sorting the keys themselves (SIMD) is several times
        # faster than argsort, lexsort or a stable sort, and member and row decode from it
        key = user * n_levels + levels
        key *= n
        key += np.arange(n)
        key.sort()
        sorted_user = key // (n_levels * n)
    else:
        order = np.lexsort((levels, user))
        sorted_user = user[order]
    rank = np.arange(1, n + 1) - first_row[sorted_user]
    keep = rank <= k
    if members is not None:
        keep &= members[sorted_user]
    order = key[keep] % n if packed else order[keep]
    return order, sorted_user[keep], rank[keep]


def _codes(name: str, first: pd.Series, second: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes of the ids in ``first`` and in ``second``, and how many codes."""
    a, b = first.to_numpy(), second.to_numpy()
    if a.dtype.kind in "iu" and b.dtype.kind in "iu" and a.size + b.size:
        present = [x for x in (a, b) if x.size]
        low = min(int(x.min()) for x in present)
        high = max(int(x.max()) for x in present)
        if high - low < 4 * (a.size + b.size) + 1_024:  # compact ids serve as codes: no hashing
            codes = (np.subtract(x, low, dtype=np.int64) for x in (a, b))
            return *codes, high - low + 1
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    if codes.size and codes.min() < 0:
        raise ValueError(f"{name} has missing values")
    codes = codes.astype(np.int64)
    return codes[: a.size], codes[a.size :], len(uniques)


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
    users, _, n_users = _codes(USER, predictions[USER], predictions[USER][:0])
    score = predictions[SCORE].to_numpy(dtype=np.float64, na_value=np.nan)
    order, _, rank = _top_k_order(users, n_users, score, int(k))
    top = predictions.iloc[order].reset_index(drop=True)
    return top.assign(rank=rank.astype(np.int64))


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


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
    truth_user, pred_user, n_users = _codes(USER, truth[USER], predictions[USER])
    truth_title, pred_title, n_titles = _codes(TITLE, truth[TITLE], predictions[TITLE])
    truth_pairs = pd.Index(truth_user * n_titles + truth_title)
    if not truth_pairs.is_unique:
        raise ValueError("truth has repeated (user_id, title_id) pairs")
    n_relevant = np.bincount(truth_user, minlength=n_users)
    counted = (n_relevant > 0) & (np.bincount(pred_user, minlength=n_users) > 0)

    score = predictions[SCORE].to_numpy(dtype=np.float64, na_value=np.nan)
    order, user, rank = _top_k_order(pred_user, n_users, score, k, members=counted)
    return RankedHits(
        k=k,
        user=user,
        rank=rank,
        position=truth_pairs.get_indexer(user * n_titles + pred_title[order]),
        n_relevant=n_relevant,
        counted=counted,
        truth_user=truth_user,
        truth_gain=None if gain_col is None else _gains(truth[gain_col]),
    )


def _gains(column: pd.Series) -> np.ndarray:
    gain = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(gain).any():
        raise ValueError(f"{column.name} has missing values")
    return gain


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
    in_truth = ranked.n_relevant > 0
    if not in_truth.any() or not ranked.hit.any():
        return 0.0
    return float(np.mean(_ndcg_values(ranked)[in_truth]))


def _ndcg_values(ranked: RankedHits) -> np.ndarray:
    """DCG / IDCG per member code; 0 for a member without relevant titles."""
    dcg = ranked.per_user(ranked.gain * _discount(ranked.rank))
    ideal = ranked.ideal_dcg
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def ndcg_per_member(
    truth: pd.DataFrame, predictions: pd.DataFrame, k: int = 10, gain_col: str | None = None
) -> pd.Series:
    """nDCG at k of each member in ``truth``: the values `ndcg_at_k` averages, for intervals
    over members (e.g. a bootstrap) and paired comparisons of two models on the same truth.

    Returns a float Series indexed by ``user_id`` (ascending); members without a hit score 0.
    """
    ranked = rank_hits(truth, predictions, k, gain_col)
    in_truth = ranked.n_relevant > 0
    ids = np.empty(in_truth.size, dtype=truth[USER].to_numpy().dtype)
    ids[ranked.truth_user] = truth[USER].to_numpy()
    values = _ndcg_values(ranked)
    per_member = pd.Series(values[in_truth], index=pd.Index(ids[in_truth], name=USER))
    return per_member.sort_index().rename("ndcg")


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
