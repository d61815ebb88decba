"""Two-stage ranking: candidate models propose titles, a LambdaRank model orders them."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.base import (
    Recommender,
    as_interactions,
    check_k,
    empty_recommendations,
    top_k,
)
from persona_lib.models.recommenders.ranker_features import (
    CandidateBlock,
    candidate_features,
    pair_features,
    score_candidates,
    summarize_history,
)
from persona_lib.models.retention.completion import (
    COMPLETION_FEATURES,
    LABEL,
    CompletionModel,
    PlayHistory,
    completion_examples,
    play_history_features,
    summarize_play_history,
)
from persona_lib.signals.engagement import play_outcomes

# measured on the default world's validation window: nDCG@10 of held-out members plateaus
# after 20-80 trees at this learning rate; each tree costs ~0.5 s on 2M candidate rows
DEFAULT_RANKER_PARAMS = {
    "n_estimators": 150,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_child_samples": 100,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "lambdarank_truncation_level": 20,
}
EARLY_STOPPING_ROUNDS = 20
EVAL_AT = 10
COMPLETION_FEATURE = "expected_completion"
COMPLETION_BATCH_ROWS = 1 << 18  # pairs per completion-model call: bounds its memory


@dataclass(frozen=True)
class TrainingSet:
    """The ranker's training rows: stage-1 candidates of members with a positive label.

    Rows are grouped by member (one LambdaRank query per member, ``user_id`` ascending) and
    sorted by ``title_id`` within a member. ``cutoff`` is the split time (None for a matrix).
    """

    user_id: np.ndarray
    title_id: np.ndarray
    features: pd.DataFrame
    gain: np.ndarray
    cutoff: pd.Timestamp | None

    @property
    def group_sizes(self) -> np.ndarray:
        """Rows per member, in row order."""
        return np.unique(self.user_id, return_counts=True)[1]


def _is_events(interactions) -> bool:
    return isinstance(interactions, pd.DataFrame) and "event_type" in interactions.columns


@dataclass(frozen=True)
class CompletionFeature:
    """A completion model fitted on a history, and that history as `play_history_features` reads
    it: ``predict`` gives P(complete) of a play of each pair started after the history."""

    model: CompletionModel
    history: PlayHistory

    @classmethod
    def fit(cls, template: CompletionModel, events, titles, users) -> CompletionFeature:
        """Fit a copy of ``template`` on the plays of ``events`` and summarise ``events``."""
        examples = completion_examples(events, titles, users)
        if examples.empty:
            raise ValueError("no play with its play_stop to fit the completion model on")
        model = copy.deepcopy(template).fit(examples[COMPLETION_FEATURES], examples[LABEL])
        return cls(model, summarize_play_history(events, titles, users))

    def predict(self, user_ids: np.ndarray, title_ids: np.ndarray) -> np.ndarray:
        out = np.empty(len(user_ids), dtype=np.float64)
        for start in range(0, len(user_ids), COMPLETION_BATCH_ROWS):
            part = slice(start, start + COMPLETION_BATCH_ROWS)
            X = play_history_features(self.history, user_ids[part], title_ids[part])
            out[part] = self.model.predict_proba(X)[:, 1]
        return out


def play_labels(events: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    """Graded relevance of each (member, title) played in ``events``: 1 played, 2 completed.

    A pair counts as completed when any of its plays reached the completion threshold of
    `persona_lib.signals.play_outcomes`. Returns ``user_id, title_id, gain`` (int8).
    """
    plays = play_outcomes(events, titles)
    pairs = plays.groupby(["user_id", "title_id"], sort=True)["completed"].any()
    return pairs.rename("gain").astype(np.int8).add(1).reset_index()


def holdout_labels(matrix: sp.csr_matrix, fraction: float, random_state: int):
    """Per-member random holdout of interactions: ``(train_matrix, labels)``.

    Members with at least two titles lose ``max(1, round(fraction * n))`` of their ``n`` titles
    (drawn with ``numpy.random.default_rng(random_state)``) to ``labels`` (``user_id, title_id,
    gain``, gain 1: a matrix has no completion to grade by).
    """
    matrix = sp.csr_matrix(matrix, copy=True)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    counts = np.diff(matrix.indptr)
    n_hold = np.where(counts >= 2, np.maximum(1, np.round(fraction * counts)), 0).astype(int)
    keys = np.random.default_rng(random_state).random(rows.size)
    order = np.lexsort((keys, rows))
    position = np.empty(rows.size, dtype=np.int64)
    position[order] = np.arange(rows.size) - matrix.indptr[rows[order]]
    held = position < n_hold[rows]
    labels = pd.DataFrame(
        {
            "user_id": rows[held],
            "title_id": matrix.indices[held],
            "gain": np.ones(held.sum(), dtype=np.int8),
        }
    )
    matrix.data[held] = 0.0
    matrix.eliminate_zeros()
    return matrix, labels


class TwoStageRanker(Recommender):
    """Candidate generation by several recommenders, then learning to rank with LambdaRank.

    Stage 1: each member's candidates are the union of every candidate model's top
    ``n_candidates`` unseen titles. Stage 2: a LightGBM ``LGBMRanker(objective="lambdarank")``
    (Burges 2010, "From RankNet to LambdaRank to LambdaMART: An Overview") scores each
    candidate from the features of `persona_lib.models.recommenders.ranker_features` (every model's
    score and rank, title popularity and age, genre match, member activity, serving device and
    hour).

    Training never lets a label leak into a feature. Given an events log, the log is cut at a
    time ``t*`` (the last ``valid_days`` days, or the last ``valid_fraction`` of its time span):
    copies of the candidate models are fitted, and the features computed, on events before
    ``t*``; candidates are labelled by the plays at or after ``t*`` (gain 2 for a completed play,
    1 for any other play, 0 otherwise; see `play_labels`); the members with at least one positive
    candidate are the LambdaRank queries. Given a matrix (no timestamps), a seeded per-member
    holdout (`holdout_labels`) supplies the labels instead. A share ``early_stopping_fraction``
    of the queries is held out to stop boosting by nDCG@10. Finally the candidate models and the
    history are refitted on everything, so serving uses all the data through the same feature
    code.

    With ``completion_model`` (an events log only), one more pair feature,
    ``expected_completion``: P(the member would finish the title if they started it now), from
    `persona_lib.models.retention.completion` (`play_history_features` of the history, scored by a
    `CompletionModel`). It follows the candidate models: a copy of ``completion_model`` is fitted
    on the plays of the events before ``t*`` (only plays that stopped before ``t*`` carry a
    label) and the feature computed from that same history for training; both are redone on the
    full log for serving. So neither the completion model nor its inputs see the label window.

    Scores: ``sigmoid(f(x)) + 1`` for a member's stage-1 candidates and ``sigmoid(f(x))`` for
    any other title (seen titles are never candidates), with ``f`` the LambdaRank output. So
    every candidate ranks above every non-candidate, and ``score`` agrees with ``recommend``
    for any pair; a list longer than the candidates continues with the other titles in the
    order of ``f``.

    Parameters
    ----------
    candidate_models : dict of name -> unfitted `Recommender`
        Copied (``copy.deepcopy``) before each fit; the objects passed are left untouched. Names
        become feature names (``score_<name>``, ``rank_<name>``).
    n_candidates : int
        List length asked of each candidate model.
    ranker_params : dict or None
        Overrides of `DEFAULT_RANKER_PARAMS` for ``LGBMRanker``; ``objective``,
        ``random_state``, ``deterministic`` and ``n_jobs`` are fixed.
    random_state : int
        Seeds the matrix holdout, the early-stopping and member sampling, and LightGBM.
    valid_days : float or None
        Length of the label window of an events log; None uses ``valid_fraction``.
    valid_fraction, holdout_fraction : float
        Share of the log's time span used for labels; share of a member's titles held out of a
        matrix.
    recent_days : float
        Window of the recent-popularity feature.
    early_stopping_fraction : float
        Share of the training members held out to pick the number of trees (0 disables).
    max_train_users : int or None
        Train on a random subset of at most this many members (None: all).
    completion_model : `CompletionModel` or None
        Unfitted template of the completion model behind the ``expected_completion`` feature
        (copied before each fit; None: no such feature, the ranker is unchanged). Pass the
        ``users`` table to `fit` for its ``same_language`` input.

    Attributes
    ----------
    models_ : dict of the candidate models fitted on the full history.
    history_ : `ranker_features.History` of the full history.
    ranker_ : lightgbm.LGBMRanker
    cutoff_ : pandas.Timestamp or None, the training split time.
    feature_names_ : list of str
    valid_ndcg_ : float or None, nDCG@10 of the held-out training members at the best iteration.
    completion_ : `CompletionFeature` of the full history, or None without ``completion_model``.

    Examples
    --------
    >>> ranker = TwoStageRanker({"ease": EASERecommender(), "pop": PopularityRecommender()})
    >>> ranker.fit(events, titles=titles, valid_days=7).recommend([0, 1], k=10)  # doctest: +SKIP
    """

    batch_size = 1024

    def __init__(
        self,
        candidate_models: dict[str, Recommender],
        n_candidates: int = 100,
        ranker_params: dict | None = None,
        random_state: int = 0,
        valid_days: float | None = None,
        valid_fraction: float = 0.2,
        holdout_fraction: float = 0.2,
        recent_days: float = 7.0,
        early_stopping_fraction: float = 0.2,
        max_train_users: int | None = None,
        completion_model: CompletionModel | None = None,
    ):
        self.candidate_models = candidate_models
        self.n_candidates = n_candidates
        self.ranker_params = ranker_params
        self.random_state = random_state
        self.valid_days = valid_days
        self.valid_fraction = valid_fraction
        self.holdout_fraction = holdout_fraction
        self.recent_days = recent_days
        self.early_stopping_fraction = early_stopping_fraction
        self.max_train_users = max_train_users
        self.completion_model = completion_model

    # -- fitting -------------------------------------------------------------------------------
    def fit(
        self,
        interactions,
        n_users: int | None = None,
        n_titles: int | None = None,
        titles=None,
        valid_days: float | None = None,
        users: pd.DataFrame | None = None,
    ) -> TwoStageRanker:
        """Train the ranker on a split of ``interactions``, then refit stage 1 on all of it.

        ``valid_days`` overrides the constructor's for this call (events logs only); ``users``
        (the members table) feeds the completion model's ``same_language``, if any.
        """
        self._check_params()
        self._check_completion(interactions)
        if n_titles is None and titles is not None:
            n_titles = len(titles)
        history = summarize_history(interactions, n_users, n_titles, titles, self.recent_days)
        shape = history.matrix.shape
        training = self.training_set(
            interactions, *shape, titles=titles, valid_days=valid_days, users=users
        )
        self.ranker_ = self._fit_ranker(training)
        self.cutoff_ = training.cutoff
        self.feature_names_ = list(training.features.columns)
        self.models_ = self._fit_models(interactions, *shape, titles)
        self.completion_ = self._fit_completion(interactions, titles, users)
        self.history_ = history
        self.n_users_, self.n_titles_ = shape
        self.seen_ = self.history_.matrix
        return self

    def training_set(
        self,
        interactions,
        n_users: int,
        n_titles: int,
        titles=None,
        valid_days: float | None = None,
        users: pd.DataFrame | None = None,
    ) -> TrainingSet:
        """The LambdaRank rows `fit` trains on; features use only the part before the cutoff."""
        self._check_params()
        self._check_completion(interactions)
        cutoff = None
        if _is_events(interactions):
            past, labels, cutoff = self._temporal_split(interactions, titles, valid_days)
        else:
            matrix = as_interactions(interactions, n_users, n_titles, titles)
            past, labels = holdout_labels(matrix, self.holdout_fraction, self.random_state)
        models = self._fit_models(past, n_users, n_titles, titles)
        history = summarize_history(past, n_users, n_titles, titles, self.recent_days)
        members = np.unique(labels["user_id"].to_numpy(np.int64))
        if self.max_train_users is not None and members.size > self.max_train_users:
            rng = np.random.default_rng(self.random_state)
            members = np.sort(rng.choice(members, self.max_train_users, replace=False))
        user_id, title_id, features = candidate_features(
            models, history, members, self.n_candidates
        )
        pair = pd.MultiIndex.from_arrays([labels["user_id"], labels["title_id"]])
        found = pair.get_indexer(pd.MultiIndex.from_arrays([user_id, title_id]))
        gain = np.where(found >= 0, labels["gain"].to_numpy()[found], 0).astype(np.int8)
        positive = np.zeros(n_users, dtype=bool)
        positive[user_id[gain > 0]] = True
        keep = positive[user_id]
        if not keep.any():
            raise ValueError("no candidate was played in the label window: nothing to learn")
        user_id, title_id = user_id[keep], title_id[keep]
        features = features[keep].reset_index(drop=True)
        completion = self._fit_completion(past, titles, users)
        if completion is not None:  # fitted and computed on the history before the cutoff
            features[COMPLETION_FEATURE] = completion.predict(user_id, title_id)
        return TrainingSet(user_id, title_id, features, gain[keep], cutoff)

    def _temporal_split(self, events: pd.DataFrame, titles, valid_days):
        if titles is None:
            raise ValueError("fitting on an events log needs the titles table (runtimes)")
        days = self.valid_days if valid_days is None else valid_days
        ts = events["ts"]
        end = ts.max()
        if days is not None:
            if days <= 0:
                raise ValueError(f"valid_days must be > 0, got {days}")
            cutoff = end - pd.Timedelta(days=days)
        else:
            cutoff = end - (end - ts.min()) * self.valid_fraction
        before = (ts < cutoff).to_numpy()
        past, future = events[before], events[~before]
        labels = play_labels(future, titles)
        if labels.empty or not past["event_type"].eq("play_start").any():
            raise ValueError(f"cutoff {cutoff} leaves no plays on one side: change valid_days")
        return past, labels, cutoff

    def _fit_models(self, interactions, n_users, n_titles, titles) -> dict[str, Recommender]:
        return {
            name: copy.deepcopy(model).fit(interactions, n_users, n_titles, titles)
            for name, model in self.candidate_models.items()
        }

    def _fit_completion(self, events, titles, users) -> CompletionFeature | None:
        if self.completion_model is None:
            return None
        return CompletionFeature.fit(self.completion_model, events, titles, users)

    def _fit_ranker(self, training: TrainingSet):
        import lightgbm

        params = {**DEFAULT_RANKER_PARAMS, **(self.ranker_params or {})}
        params.update(
            objective="lambdarank",
            random_state=self.random_state,
            deterministic=True,
            force_row_wise=True,
            n_jobs=1,
            verbose=-1,
        )
        ranker = lightgbm.LGBMRanker(**params)
        users = np.unique(training.user_id)
        rng = np.random.default_rng(self.random_state + 1)
        n_eval = int(round(self.early_stopping_fraction * users.size))
        in_eval = np.isin(training.user_id, rng.choice(users, n_eval, replace=False))
        fit = self._subset(training, ~in_eval)
        self.valid_ndcg_ = None
        if n_eval < 10:
            return ranker.fit(fit[0], fit[1], group=fit[2])
        held = self._subset(training, in_eval)
        stop = lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, first_metric_only=True, verbose=False)
        ranker.fit(
            fit[0],
            fit[1],
            group=fit[2],
            eval_X=(held[0],),
            eval_y=(held[1],),
            eval_group=[held[2]],
            eval_at=[EVAL_AT],
            callbacks=[stop],
        )
        self.valid_ndcg_ = float(ranker.best_score_["valid_0"][f"ndcg@{EVAL_AT}"])
        return ranker

    @staticmethod
    def _subset(training: TrainingSet, mask: np.ndarray):
        """``(X, y, group sizes)`` of the rows in ``mask`` (whole members only)."""
        sizes = np.unique(training.user_id[mask], return_counts=True)[1]
        return training.features[mask].reset_index(drop=True), training.gain[mask], sizes

    def _check_params(self) -> None:
        if not self.candidate_models:
            raise ValueError("candidate_models must name at least one recommender")
        if isinstance(self.n_candidates, bool) or int(self.n_candidates) < 1:
            raise ValueError(f"n_candidates must be a positive integer, got {self.n_candidates}")
        for name in ("valid_fraction", "holdout_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must lie in (0, 1), got {getattr(self, name)}")
        if not 0 <= self.early_stopping_fraction < 1:
            raise ValueError("early_stopping_fraction must lie in [0, 1)")

    def _check_completion(self, interactions) -> None:
        if self.completion_model is not None and not _is_events(interactions):
            raise ValueError("completion_model needs an events log (plays with their stops)")

    # -- serving -------------------------------------------------------------------------------
    def _pair_scores(self, block: CandidateBlock, rows: np.ndarray, titles: np.ndarray):
        if rows.size == 0:
            return np.zeros(0)
        features = pair_features(self.history_, block, rows, titles)
        if self.completion_ is not None:
            features[COMPLETION_FEATURE] = self.completion_.predict(block.users[rows], titles)
        raw = self.ranker_.predict(features)
        return 1.0 / (1.0 + np.exp(-raw)) + block.is_candidate[rows, titles]

    def recommend(self, user_ids, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-k titles per member, ``user_id, title_id, score, rank``: stage-1 candidates
        reranked, then (only when a member has fewer than k candidates) the other titles."""
        users = self._check_users(user_ids)
        check_k(k)
        parts = [empty_recommendations()]
        for start in range(0, users.size, self.batch_size):
            batch = users[start : start + self.batch_size]
            block = score_candidates(self.models_, self.seen_, batch, self.n_candidates)
            eligible = np.ones(block.is_candidate.shape, dtype=bool)
            if exclude_seen:
                eligible[self.seen_[batch].nonzero()] = False
            short = block.is_candidate.sum(axis=1) < k
            rows, titles = np.nonzero(block.is_candidate | (short[:, None] & eligible))
            scores = np.full(eligible.shape, -np.inf)
            scores[rows, titles] = self._pair_scores(block, rows, titles)
            idx, best = top_k(scores, k)
            keep = idx >= 0
            parts.append(
                pd.DataFrame(
                    {
                        "user_id": np.repeat(batch, keep.sum(axis=1)).astype(np.int32),
                        "title_id": idx[keep].astype(np.int32),
                        "score": best[keep],
                        "rank": (np.cumsum(keep, axis=1)[keep]).astype(np.int32),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        block = score_candidates(self.models_, self.seen_, user_idx, self.n_candidates)
        rows, titles = np.indices(block.is_candidate.shape).reshape(2, -1)
        return self._pair_scores(block, rows, titles).reshape(block.is_candidate.shape)

    def _score_pairs(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        out = np.empty(users.size, dtype=np.float64)
        unique, inverse = np.unique(users, return_inverse=True)
        for start in range(0, unique.size, self.batch_size):
            batch = unique[start : start + self.batch_size]
            block = score_candidates(self.models_, self.seen_, batch, self.n_candidates)
            mine = np.flatnonzero((inverse >= start) & (inverse < start + batch.size))
            out[mine] = self._pair_scores(block, inverse[mine] - start, titles[mine])
        return out
