"""Will this play be completed? Examples with features known at play start, and a model.

Each play (`play_outcomes`) becomes one example. A past play's *start* (title, genres) is known
from its own ``ts``; its *outcome* (completed, watch fraction) only from its stop, at ``ts +
watch_s``. A feature of a play starting at ``t`` uses starts strictly before ``t`` and outcomes
whose stop is strictly before ``t``, so a play never sees itself or anything later. Plays
without a ``play_stop`` have no label and are left out (their starts still count as history).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from persona_lib.data.schema import DEVICES, LANGUAGES
from persona_lib.models.retention.churn import CalibratedClassifier, ChurnConfig
from persona_lib.signals.attribution import PriorSums
from persona_lib.signals.engagement import last_session, play_outcomes, ratio
from persona_lib.signals.features import title_genre_weights

COMPLETION_FEATURES = [
    "user_prior_plays", "user_prior_completion_rate", "user_prior_mean_fraction",
    "genre_match", "genre_completion_rate", "genre_watch_fraction", "same_title_prior_plays",
    "title_prior_plays", "title_prior_completion_rate",
    "runtime_min", "kind", "n_episodes", "same_language", "device", "hour", "from_search",
    "rewatch", "row_kind", "row_position", "col_position",
]  # fmt: skip
ID_COLUMNS = ["event_id", "ts", "user_id", "session_id", "title_id"]
LABEL = "completed"
NEVER = np.iinfo("int64").max  # the stop time of a play without a play_stop
END = NEVER - 1  # a start after every logged start and stop
HOME_ROW = "popular"  # the homepage row a hypothetical play is served from


def _prior(group: tuple, t_query: np.ndarray, t_event: np.ndarray, values: dict) -> dict:
    """Per query: sums of each event value over events of its group with time < query time.

    ``group`` is (query groups, event groups); queries and events at the same instant form
    one time block, so they never see each other.
    """
    g = np.concatenate(group).astype("int64")
    t = np.concatenate([t_query, t_event]).astype("int64")
    order = np.lexsort((t, g))
    prior = PriorSums(g[order], t[order])
    n_q = len(t_query)
    out = {}
    for name, v in values.items():
        full = np.concatenate([np.zeros(n_q), np.asarray(v, "float64")])
        sums = np.empty(len(full))
        sums[order] = prior(full[order])
        out[name] = sums[:n_q]
    return out


class _Plays(NamedTuple):
    """Per play of a log: member, title, genre weights, start and stop (ms; never if unknown)."""

    user: np.ndarray
    title: np.ndarray
    weights: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    outcome: dict  # known, done, frac: what the play's stop reveals (0 while unknown)


def _play_arrays(plays: pd.DataFrame, titles: pd.DataFrame) -> _Plays:
    start = plays["ts"].to_numpy().astype("datetime64[ms]").astype("int64")
    known = plays["watch_s"].notna().to_numpy()
    watch = plays["watch_s"].fillna(0).to_numpy("float64")
    tpos = pd.Index(titles["title_id"]).get_indexer(plays["title_id"])
    return _Plays(
        user=plays["user_id"].to_numpy().astype("int64"),
        title=plays["title_id"].to_numpy().astype("int64"),
        weights=title_genre_weights(titles)[tpos],
        start=start,
        stop=np.where(known, start + np.round(watch * 1000).astype("int64"), NEVER),
        outcome={
            "known": known,
            "done": plays["completed"].to_numpy("float64"),
            "frac": plays["watch_fraction"].fillna(0).to_numpy("float64"),
        },
    )


def _member_sums(p: _Plays, user: np.ndarray, t: np.ndarray) -> dict:
    """Per query (member ``user`` at time ``t``): sums over the member's earlier plays.

    ``plays`` and ``mix<j>`` (genre j's weight) over earlier starts; ``known``, ``done``,
    ``frac`` and their per-genre ``<name><j>`` over earlier stops.
    """
    starts = {f"mix{j}": p.weights[:, j] for j in range(p.weights.shape[1])}
    starts["plays"] = np.ones(len(p.user))
    outcome = dict(p.outcome)
    for j in range(p.weights.shape[1]):  # per-genre outcomes: one vectorized pass per genre
        outcome.update({f"{k}{j}": v * p.weights[:, j] for k, v in p.outcome.items()})
    return {
        **_prior((user, p.user), t, p.start, starts),
        **_prior((user, p.user), t, p.stop, outcome),
    }


def _history_features(member, title: dict, same: np.ndarray, weights: np.ndarray) -> dict:
    """The history columns of ``COMPLETION_FEATURES`` per query.

    ``member(name)`` returns a `_member_sums` column for the queries (a getter, so pair
    queries index one summed column at a time); ``title`` holds the title's stopped plays
    (``known``, ``done``); ``same`` the member's earlier starts of the title; ``weights`` the
    title's genre weights.
    """
    n_genres = weights.shape[1]
    # the member's history in the title's genres, weighted by the title's genre mix
    genre = {
        k: sum(member(f"{k}{j}") * weights[:, j] for j in range(n_genres))
        for k in ("mix", "known", "done", "frac")
    }
    return {
        "user_prior_plays": member("plays"),
        "user_prior_completion_rate": ratio(member("done"), member("known")),
        "user_prior_mean_fraction": ratio(member("frac"), member("known")),
        "genre_match": ratio(genre["mix"], member("plays")),
        "genre_completion_rate": ratio(genre["done"], genre["known"]),
        "genre_watch_fraction": ratio(genre["frac"], genre["known"]),
        "same_title_prior_plays": same,
        "title_prior_plays": title["known"],
        "title_prior_completion_rate": ratio(title["done"], title["known"]),
    }


def _pair_key(user: np.ndarray, title: np.ndarray, n_titles: int) -> np.ndarray:
    return user.astype("int64") * n_titles + title.astype("int64")


def _history(plays: pd.DataFrame, titles: pd.DataFrame) -> dict:
    """Member and title history of every play, from earlier starts and earlier stops."""
    p = _play_arrays(plays, titles)
    member = _member_sums(p, p.user, p.start)
    title = _prior((p.title, p.title), p.start, p.stop, p.outcome)
    pair = _pair_key(p.user, p.title, int(p.title.max(initial=0)) + 1)
    same = _prior((pair, pair), p.start, p.start, {"plays": np.ones(len(pair))})["plays"]
    return _history_features(member.__getitem__, title, same, p.weights)


def completion_examples(
    events: pd.DataFrame, titles: pd.DataFrame, users: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per labelled play: ids, features known at its start and ``completed``.

    Features (``COMPLETION_FEATURES``): the member's ``user_prior_plays`` (earlier starts),
    ``user_prior_completion_rate`` and ``user_prior_mean_fraction`` (over earlier plays already
    stopped; NaN without any), ``genre_match`` (the title's genre weights dotted with the
    genre mix of the member's earlier starts; NaN without any), ``same_title_prior_plays``,
    ``title_prior_plays`` and ``title_prior_completion_rate`` (everyone's stopped plays of the
    title), the title's ``runtime_min``, ``kind``, ``n_episodes``, ``same_language`` (member
    language == title language; False without ``users``), and the context: ``device``,
    ``hour``, ``from_search``, ``rewatch`` (logged at start), ``row_kind`` (``row_id`` with
    ``genre:*`` folded into "genre"), ``row_position``, ``col_position``.

    Returns
    -------
    DataFrame
        ``ID_COLUMNS`` + ``COMPLETION_FEATURES`` + ``watch_fraction``, ``completed``, in play
        order (``ts``, ``event_id``).
    """
    plays = play_outcomes(events, titles)
    history = _history(plays, titles)
    tpos = pd.Index(titles["title_id"]).get_indexer(plays["title_id"])
    info = titles.iloc[tpos].reset_index(drop=True)
    row = plays["row_id"].astype("str")
    out = plays[ID_COLUMNS].copy()
    out = out.assign(**history)
    out["runtime_min"] = info["runtime_min"].to_numpy("float64")
    out["kind"] = info["kind"].to_numpy()
    out["n_episodes"] = info["n_episodes"].to_numpy("float64")
    out["same_language"] = _same_language(plays, info, users)
    out["device"] = plays["device"].to_numpy()
    out["hour"] = plays["ts"].dt.hour.to_numpy().astype("int8")
    out["from_search"] = plays["from_search"].to_numpy()
    out["rewatch"] = plays["rewatch"].to_numpy()
    out["row_kind"] = pd.Categorical(row.where(~row.str.startswith("genre:"), "genre"))
    out["row_position"] = plays["row_position"].to_numpy()
    out["col_position"] = plays["col_position"].to_numpy()
    out["watch_fraction"] = plays["watch_fraction"].to_numpy()
    out[LABEL] = plays["completed"].to_numpy()
    return out[plays["watch_s"].notna().to_numpy()].reset_index(drop=True)


def _same_language(plays: pd.DataFrame, info: pd.DataFrame, users) -> np.ndarray:
    if users is None:
        return np.zeros(len(plays), dtype=bool)
    upos = pd.Index(users["user_id"]).get_indexer(plays["user_id"])
    member = pd.Categorical(users["language"].astype("str"), categories=LANGUAGES).codes
    member = np.where(upos >= 0, member[np.maximum(upos, 0)], -1)
    title = pd.Categorical(info["language"].astype("str"), categories=LANGUAGES).codes
    return (member == title) & (member >= 0)


class CompletionModel(CalibratedClassifier):
    """P(a play is completed) at play start: calibrated LightGBM by default.

    Examples
    --------
    >>> ex = completion_examples(events, titles, users)  # doctest: +SKIP
    >>> model = CompletionModel().fit(ex[COMPLETION_FEATURES], ex["completed"])  # doctest: +SKIP
    """

    default_config = ChurnConfig(
        model="lightgbm", n_estimators=300, learning_rate=0.05, num_leaves=15,
        min_child_samples=50,
    )  # fmt: skip


@dataclass(frozen=True)
class PlayHistory:
    """A log's plays condensed as of its end, for plays that would start right after it.

    ``member_ids`` (sorted, every member with an event) label the rows of ``member``
    (`_member_sums` at the end), ``device`` (codes into ``DEVICES``) and ``hour`` (start hour) of
    the member's most recent session; each holds one extra last row for members without events
    (zero sums, -1 context). ``title`` holds
    the stopped-play sums (``known``, ``done``) of each row of ``titles``; ``pair_keys`` (sorted
    ``user_id * n_title_keys + title_id``) label ``pair_plays`` (starts) and ``pair_done``
    (completed plays) of every (member, title) played.
    """

    titles: pd.DataFrame
    users: pd.DataFrame | None
    member_ids: np.ndarray
    member: dict
    device: np.ndarray
    hour: np.ndarray
    title: dict
    n_title_keys: int
    pair_keys: np.ndarray
    pair_plays: np.ndarray
    pair_done: np.ndarray


def summarize_play_history(
    events: pd.DataFrame, titles: pd.DataFrame, users: pd.DataFrame | None = None
) -> PlayHistory:
    """Condense ``events`` into what `play_history_features` reads, as of the log's end.

    Every logged start and every logged stop counts as before the end; a play without a
    ``play_stop`` counts as started, outcome unknown (as in `completion_examples`).
    """
    plays = play_outcomes(events, titles)
    p = _play_arrays(plays, titles)
    member_ids = np.unique(events["user_id"].to_numpy().astype("int64"))
    member = _member_sums(p, member_ids, np.full(member_ids.size, END))
    member = {k: np.append(v, 0.0) for k, v in member.items()}
    title_ids = titles["title_id"].to_numpy().astype("int64")
    title = _prior((title_ids, p.title), np.full(title_ids.size, END), p.stop, p.outcome)
    session = last_session(events, int(member_ids.max(initial=-1)) + 1)
    n_title_keys = int(max(title_ids.max(initial=0), p.title.max(initial=0))) + 1
    pair_keys, pair = np.unique(_pair_key(p.user, p.title, n_title_keys), return_inverse=True)
    return PlayHistory(
        titles=titles,
        users=users,
        member_ids=member_ids,
        member=member,
        device=np.append(session["device"][member_ids], -1),
        hour=np.append(session["hour"][member_ids], -1),
        title=title,
        n_title_keys=n_title_keys,
        pair_keys=pair_keys,
        pair_plays=np.bincount(pair, minlength=pair_keys.size).astype("float64"),
        pair_done=np.bincount(pair, p.outcome["done"], minlength=pair_keys.size),
    )


def play_history_features(
    history: PlayHistory, user_ids, title_ids, row_kind: str = HOME_ROW
) -> pd.DataFrame:
    """``COMPLETION_FEATURES`` of a play of each (member, title) starting after the history.

    The history columns follow `completion_examples` for a play starting after every event of
    the log. The context is the serving one: ``device`` and ``hour`` of the member's most recent
    session (NaN for a member without events; ``hour`` is float64 for that reason),
    ``from_search`` False, ``rewatch`` True when the member completed the title before,
    ``row_kind`` the homepage row ``row_kind``, positions 0.
    """
    user = np.asarray(user_ids).astype("int64")
    title = np.asarray(title_ids).astype("int64")
    if user.shape != title.shape or user.ndim != 1:
        raise ValueError("user_ids and title_ids must be 1-d and of the same length")
    tpos = pd.Index(history.titles["title_id"]).get_indexer(title)
    if (tpos < 0).any():
        raise ValueError(f"title_ids not in the titles table: {np.unique(title[tpos < 0])[:5]}")
    row = pd.Index(history.member_ids).get_indexer(user)  # -1: the extra row of no events
    key = _pair_key(user, title, history.n_title_keys)
    pos = np.searchsorted(history.pair_keys, key)
    played = pos < history.pair_keys.size
    played[played] = history.pair_keys[pos[played]] == key[played]
    same, done = np.zeros(key.size), np.zeros(key.size)
    same[played], done[played] = history.pair_plays[pos[played]], history.pair_done[pos[played]]
    weights = title_genre_weights(history.titles)[tpos]
    features = _history_features(
        lambda name: history.member[name][row],
        {k: v[tpos] for k, v in history.title.items()},
        same,
        weights,
    )
    info = history.titles.iloc[tpos].reset_index(drop=True)
    hour = history.hour[row]
    out = pd.DataFrame(features)
    out["runtime_min"] = info["runtime_min"].to_numpy("float64")
    out["kind"] = info["kind"].to_numpy()
    out["n_episodes"] = info["n_episodes"].to_numpy("float64")
    out["same_language"] = _same_language(pd.DataFrame({"user_id": user}), info, history.users)
    device = pd.Categorical.from_codes(history.device[row], categories=list(DEVICES))
    out["device"] = pd.Series(device).astype("str")
    out["hour"] = np.where(hour >= 0, hour, np.nan)
    out["from_search"] = False
    out["rewatch"] = done > 0
    out["row_kind"] = pd.Categorical([row_kind] * key.size)
    out["row_position"] = np.zeros(key.size, dtype="int8")
    out["col_position"] = np.zeros(key.size, dtype="int8")
    return out[COMPLETION_FEATURES]


def completion_pair_features(
    events: pd.DataFrame, titles: pd.DataFrame, users: pd.DataFrame | None, user_ids, title_ids
) -> pd.DataFrame:
    """``COMPLETION_FEATURES`` of hypothetical plays of (member, title) pairs after ``events``.

    The same definitions as `completion_examples` for a play starting right after the last
    event, served from the homepage (see `play_history_features`).

    Parameters
    ----------
    events, titles, users : the canonical tables (``users`` optional: ``same_language``).
    user_ids, title_ids : array-like of shape (n,), the pairs.

    Returns
    -------
    DataFrame of shape (n, len(COMPLETION_FEATURES)), in pair order.

    Examples
    --------
    >>> X = completion_pair_features(events, titles, users, [0, 0], [3, 7])  # doctest: +SKIP
    """
    history = summarize_play_history(events, titles, users)
    return play_history_features(history, user_ids, title_ids)


def expected_completion(
    model: CompletionModel,
    events: pd.DataFrame,
    titles: pd.DataFrame,
    users: pd.DataFrame | None,
    user_ids,
    title_ids,
) -> np.ndarray:
    """P(a play of each pair, started after ``events``, is completed) from a fitted ``model``.

    Returns
    -------
    ndarray of shape (n,): ``model.predict_proba(completion_pair_features(...))[:, 1]``.
    """
    X = completion_pair_features(events, titles, users, user_ids, title_ids)
    return model.predict_proba(X)[:, 1]
