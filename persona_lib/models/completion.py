"""Will this play be completed? Examples with features known at play start, and a model.

Each play (`play_outcomes`) becomes one example. A past play's *start* (title, genres) is known
from its own ``ts``; its *outcome* (completed, watch fraction) only from its stop, at ``ts +
watch_s``. A feature of a play starting at ``t`` uses starts strictly before ``t`` and outcomes
whose stop is strictly before ``t``, so a play never sees itself or anything later. Plays
without a ``play_stop`` have no label and are left out (their starts still count as history).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.schema import LANGUAGES
from persona_lib.models.churn import CalibratedClassifier, ChurnConfig
from persona_lib.signals.attribution import PriorSums
from persona_lib.signals.engagement import play_outcomes, ratio
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


def _outcome_history(plays: pd.DataFrame, weights: np.ndarray, start: np.ndarray) -> dict:
    """Outcomes of the member's and the title's plays that stopped before each start."""
    known = plays["watch_s"].notna().to_numpy()
    watch = plays["watch_s"].fillna(0).to_numpy("float64")
    stop = np.where(known, start + np.round(watch * 1000).astype("int64"), np.iinfo("int64").max)
    outcome = {
        "known": known,
        "done": plays["completed"].to_numpy("float64"),
        "frac": plays["watch_fraction"].fillna(0).to_numpy("float64"),
    }
    title = plays["title_id"].to_numpy().astype("int64")
    by_title = _prior((title, title), start, stop, outcome)
    base = list(outcome.items())
    for j in range(weights.shape[1]):  # per-genre outcomes: one vectorized pass per genre
        outcome.update({f"{k}{j}": v * weights[:, j] for k, v in base})
    user = plays["user_id"].to_numpy().astype("int64")
    by_user = _prior((user, user), start, stop, outcome)
    # the member's outcomes in the title's genres, weighted by the title's genre mix
    genre = {
        k: sum(by_user[f"{k}{j}"] * weights[:, j] for j in range(weights.shape[1]))
        for k in ("known", "done", "frac")
    }
    return {
        "user_prior_completion_rate": ratio(by_user["done"], by_user["known"]),
        "user_prior_mean_fraction": ratio(by_user["frac"], by_user["known"]),
        "genre_completion_rate": ratio(genre["done"], genre["known"]),
        "genre_watch_fraction": ratio(genre["frac"], genre["known"]),
        "title_prior_plays": by_title["known"],
        "title_prior_completion_rate": ratio(by_title["done"], by_title["known"]),
    }


def _start_history(plays: pd.DataFrame, weights: np.ndarray, start: np.ndarray) -> dict:
    """The member's plays started before each start: count, genre match, same title."""
    user = plays["user_id"].to_numpy().astype("int64")
    title = plays["title_id"].to_numpy().astype("int64")
    values = {f"g{j}": weights[:, j] for j in range(weights.shape[1])}
    values["plays"] = np.ones(len(plays))
    prior = _prior((user, user), start, start, values)
    overlap = sum(prior[f"g{j}"] * weights[:, j] for j in range(weights.shape[1]))
    pair = user * (int(title.max(initial=0)) + 1) + title
    same = _prior((pair, pair), start, start, {"plays": values["plays"]})
    return {
        "user_prior_plays": prior["plays"],
        "genre_match": ratio(overlap, prior["plays"]),
        "same_title_prior_plays": same["plays"],
    }


def _history(plays: pd.DataFrame, titles: pd.DataFrame) -> dict:
    """Member and title history of every play, from earlier starts and earlier stops."""
    start = plays["ts"].to_numpy().astype("datetime64[ms]").astype("int64")
    tpos = pd.Index(titles["title_id"]).get_indexer(plays["title_id"])
    weights = title_genre_weights(titles)[tpos]
    history = {**_start_history(plays, weights, start), **_outcome_history(plays, weights, start)}
    return {name: history[name] for name in COMPLETION_FEATURES if name in history}


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
