"""Features of (member, candidate title) pairs for the two-stage ranker.

One code path serves training and serving: `summarize_history` condenses a history (an events
log, or a plain members x titles matrix) into per-member and per-title arrays, `score_candidates`
asks the candidate models for a batch of members, and `pair_features` turns both into one row per
(member, title) pair. At training time the history is the log before the cutoff and the models
are fitted on it; at serving time both use the full log. Nothing here reads the future.

Features per pair (``FEATURE_COLUMNS`` after the per-model ones):

- ``score_<model>``, ``rank_<model>``: each candidate model's score and its rank in that model's
  top ``n_candidates`` of unseen titles (``n_candidates + 1`` when outside the list);
- ``title_popularity``: share of all plays in the history that went to the title;
- ``title_popularity_recent``: the same share over the last ``recent_days`` (NaN without ``ts``);
- ``title_age_years``: latest year of the history (of its last event; the newest release year for
  a matrix) minus the release year;
- ``genre_match``: cosine between the member's genre profile (confidence-weighted sum of the
  one-hot genres of what they played) and the title's genres;
- ``member_plays``: plays in the history (titles played, for a matrix);
- ``member_days_active``: distinct calendar days with any event (NaN for a matrix);
- ``device``, ``hour``: device and start hour of the member's most recent session, the serving
  context (categorical; missing for a matrix or a member without events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.data.schema import DEVICES
from persona_lib.models.recommenders.base import as_interactions, top_k
from persona_lib.signals.engagement import last_session, play_outcomes

FEATURE_COLUMNS = (
    "title_popularity",
    "title_popularity_recent",
    "title_age_years",
    "genre_match",
    "member_plays",
    "member_days_active",
    "device",
    "hour",
)
DEVICE_DTYPE = pd.CategoricalDtype(list(DEVICES))
HOUR_DTYPE = pd.CategoricalDtype(list(range(24)))


@dataclass(frozen=True)
class History:
    """What the features know about the past, as arrays indexed by ``user_id`` / ``title_id``.

    ``matrix`` is the members x titles confidence matrix (its non-zeros are the seen titles);
    ``device`` holds codes into ``DEVICES`` (-1 unknown) and ``hour`` 0-23 (-1 unknown).
    """

    matrix: sp.csr_matrix
    title_popularity: np.ndarray
    title_popularity_recent: np.ndarray
    title_age_years: np.ndarray
    title_genres: np.ndarray  # (n_titles, n_genres), rows L2-normalised
    member_genres: np.ndarray  # (n_users, n_genres), rows L2-normalised
    member_plays: np.ndarray
    member_days_active: np.ndarray
    device: np.ndarray
    hour: np.ndarray


def _title_table(titles: pd.DataFrame | None, n_titles: int) -> tuple[np.ndarray, np.ndarray]:
    """Release years (NaN unknown) and L2-normalised one-hot genres, in ``title_id`` order."""
    if titles is None:
        return np.full(n_titles, np.nan), np.zeros((n_titles, 1))
    ordered = titles.set_index("title_id").reindex(np.arange(n_titles))
    years = ordered["release_year"].to_numpy(dtype=np.float64, na_value=np.nan)
    genres = ordered["genres"].fillna("").astype(str).str.get_dummies(sep="|")
    onehot = genres.to_numpy(np.float64)
    norms = np.linalg.norm(onehot, axis=1, keepdims=True)
    return years, np.divide(onehot, norms, out=np.zeros_like(onehot), where=norms > 0)


def _share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros(counts.shape)


def _member_genres(matrix: sp.csr_matrix, title_genres: np.ndarray) -> np.ndarray:
    profile = np.asarray(matrix @ title_genres, dtype=np.float64)
    norms = np.linalg.norm(profile, axis=1, keepdims=True)
    return np.divide(profile, norms, out=np.zeros_like(profile), where=norms > 0)


def summarize_history(
    interactions,
    n_users: int | None = None,
    n_titles: int | None = None,
    titles: pd.DataFrame | None = None,
    recent_days: float = 7.0,
) -> History:
    """Condense a history into the per-member and per-title arrays the features read.

    Parameters
    ----------
    interactions : an events log (with ``event_type`` and ``ts``), or anything `as_interactions`
        accepts without timestamps (sparse matrix, ``user_id, title_id[, weight]`` frame).
    n_users, n_titles : the id ranges (default: one past the largest id seen).
    titles : the titles table (``release_year``, ``genres``); needed for an events log,
        optional otherwise (age and genre match are then NaN / 0).
    recent_days : window of the recent popularity.

    Returns
    -------
    History
    """
    matrix = as_interactions(interactions, n_users, n_titles, titles)
    n_users, n_titles = matrix.shape
    years, title_genres = _title_table(titles, n_titles)
    fields = dict(
        matrix=matrix, title_genres=title_genres, member_genres=_member_genres(matrix, title_genres)
    )
    if isinstance(interactions, pd.DataFrame) and "event_type" in interactions.columns:
        return History(
            **fields, **_event_arrays(interactions, titles, years, recent_days, n_users, n_titles)
        )
    played = (matrix > 0).astype(np.float64)
    unknown = np.full(n_users, -1, dtype=np.int64)
    return History(
        **fields,
        title_popularity=_share(np.asarray(played.sum(axis=0)).ravel()),
        title_popularity_recent=np.full(n_titles, np.nan),
        title_age_years=(np.nanmax(years) if np.isfinite(years).any() else np.nan) - years,
        member_plays=np.diff(matrix.indptr).astype(np.float64),
        member_days_active=np.full(n_users, np.nan),
        device=unknown,
        hour=unknown.copy(),
    )


def _event_arrays(events, titles, years, recent_days, n_users, n_titles) -> dict:
    plays = play_outcomes(events, titles)
    last = events["ts"].max()
    recent = (plays["ts"] > last - pd.Timedelta(days=recent_days)).to_numpy()
    play_titles = plays["title_id"].to_numpy(np.int64)
    play_users = plays["user_id"].to_numpy(np.int64)
    active = events[["user_id"]].assign(day=events["ts"].dt.floor("D")).drop_duplicates()
    return dict(
        title_popularity=_share(np.bincount(play_titles, minlength=n_titles).astype(float)),
        title_popularity_recent=_share(
            np.bincount(play_titles[recent], minlength=n_titles).astype(float)
        ),
        title_age_years=(last.year if pd.notna(last) else np.nan) - years,
        member_plays=np.bincount(play_users, minlength=n_users).astype(float),
        member_days_active=np.bincount(active["user_id"], minlength=n_users).astype(float),
        **last_session(events, n_users),
    )


@dataclass(frozen=True)
class CandidateBlock:
    """Dense per-model scores and ranks for a batch of members (rows) over every title.

    ``ranks[name][i, j]`` is title j's 1-based rank in the model's top ``n_candidates`` unseen
    titles for member ``users[i]``, ``n_candidates + 1`` outside it; ``is_candidate`` is the union
    of the lists (seen titles are never candidates).
    """

    users: np.ndarray
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    is_candidate: np.ndarray


def score_candidates(
    models: dict, seen: sp.csr_matrix, users: np.ndarray, n_candidates: int
) -> CandidateBlock:
    """Stage 1 for a batch of members: every model's dense scores and top-``n_candidates`` lists.

    ``models`` are fitted `Recommender` objects; their ``_score_users`` hook (dense scores of
    every title) is called once per model, and both the lists and the score features are read
    from it, so a pair's score feature is exactly what ``model.score`` returns.
    """
    users = np.asarray(users, dtype=np.int64)
    seen_rows, seen_cols = seen[users].nonzero()
    n_titles = seen.shape[1]
    scores, ranks = {}, {}
    is_candidate = np.zeros((users.size, n_titles), dtype=bool)
    for name, model in models.items():
        dense = np.array(model._score_users(users), dtype=np.float64)
        masked = dense.copy()
        masked[seen_rows, seen_cols] = -np.inf
        idx, _ = top_k(masked, n_candidates)
        rank = np.full((users.size, n_titles), n_candidates + 1, dtype=np.int32)
        rows, cols = np.nonzero(idx >= 0)
        rank[rows, idx[rows, cols]] = cols + 1
        is_candidate |= rank <= n_candidates
        scores[name], ranks[name] = dense, rank
    return CandidateBlock(users, scores, ranks, is_candidate)


def pair_features(
    history: History, block: CandidateBlock, rows: np.ndarray, titles: np.ndarray
) -> pd.DataFrame:
    """One feature row per pair (``block.users[rows[i]]``, ``titles[i]``).

    Returns
    -------
    DataFrame with ``score_<model>``, ``rank_<model>`` per candidate model then
    ``FEATURE_COLUMNS``; ``device`` and ``hour`` are categorical with fixed categories, so
    training and serving frames encode them identically.
    """
    users = block.users[rows]
    columns = {}
    for name in block.scores:
        columns[f"score_{name}"] = block.scores[name][rows, titles]
        columns[f"rank_{name}"] = block.ranks[name][rows, titles]
    genre_match = np.einsum("ij,ij->i", history.member_genres[users], history.title_genres[titles])
    device, hour = history.device[users], history.hour[users]

    columns.update(
        title_popularity=history.title_popularity[titles],
        title_popularity_recent=history.title_popularity_recent[titles],
        title_age_years=history.title_age_years[titles],
        genre_match=genre_match,
        member_plays=history.member_plays[users],
        member_days_active=history.member_days_active[users],
        device=pd.Categorical.from_codes(device, dtype=DEVICE_DTYPE),
        hour=pd.Categorical.from_codes(hour, dtype=HOUR_DTYPE),
    )
    return pd.DataFrame(columns)


def candidate_features(
    models: dict, history: History, users: np.ndarray, n_candidates: int, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Features of every stage-1 candidate of ``users``: ``(user_ids, title_ids, features)``.

    Rows are sorted by member (in the order given) then ``title_id``, so each member's rows form
    one contiguous ranking group.
    """
    users = np.asarray(users, dtype=np.int64)
    user_parts, title_parts, frames = [], [], []
    for start in range(0, max(users.size, 1), batch_size):
        block = score_candidates(
            models, history.matrix, users[start : start + batch_size], n_candidates
        )
        rows, titles = np.nonzero(block.is_candidate)
        user_parts.append(block.users[rows])
        title_parts.append(titles)
        frames.append(pair_features(history, block, rows, titles))
    return (
        np.concatenate(user_parts),
        np.concatenate(title_parts),
        pd.concat(frames, ignore_index=True),
    )
