"""One simulated day end to end: browsing (`simulate_sessions`), searches, plays, sorted events.

Searches: a title drawn from a genre the member likes, mostly one not finished yet, then click
and play by true fit. Plays: a Beta watch fraction by true fit, completion, autoplayed episodes of
a series and rewatches (see `simulate_sessions` for the logging conventions). The day's events are
sorted by (ts, session, seq) and the impression truth kept aligned with the impression events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from persona_lib.data import schema
from persona_lib.data.keyed_random import Stream, beta, categorical, hash_keys, to_uniform
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.population import fit_score
from persona_lib.sim.sessions import (
    DETAILS_MS,
    ET,
    KEY_PLAY,
    KEY_SEARCH,
    TILE_EVENT_DTYPES,
    DayContext,
    Sessions,
    browse,
    draw_sessions,
    event_arrays,
    local_hour,
)


def search(ctx: DayContext, s: Sessions, idx: np.ndarray, end_ms: np.ndarray, day: int):
    """Searches of sessions ``idx``: a title fitting the member's taste, then click and play."""
    pop = ctx.pop
    user = s.user[idx]
    u = to_uniform(hash_keys(KEY_SEARCH + np.arange(6), base=s.base[idx][:, None]))
    genre = categorical(u[:, 0], np.exp(pop.genre_taste[user]))
    title = np.zeros((2, idx.size), dtype=np.int64)
    for g in np.unique(genre):
        ids, cum = ctx.search_cum[g]
        m = genre == g
        title[:, m] = ids[np.minimum(np.searchsorted(cum, u[m][:, [1, 5]].T), ids.size - 1)]
    # members mostly search for something they have not finished yet
    title = np.where(ctx.completed.contains(user, title[0]), title[1], title[0])
    art = pop.art_offset[title] + np.floor(u[:, 2] * pop.art_count[title]).astype(np.int64)
    fit = fit_score(pop, user, title)
    typing = 4000 + 8000 * u[:, 3]
    t_search = end_ms + 2000 + typing
    play = u[:, 4] < expit(1.5 + 0.8 * fit)
    out = [
        event_arrays(idx, t_search, ET["search"], title, art, 0, 0, 0, typing, np.nan, 30_000),
        event_arrays(idx, t_search + 1500, ET["click"], title, art, 0, 0, 0, 1500, np.nan, 30_001),
    ]
    plays = {
        "sess": idx[play],
        "offset": t_search[play] + 1500 + DETAILS_MS / 2,
        "title_id": title[play],
        "artwork_id": art[play],
        "row_id": np.zeros(play.sum(), int),
        "row_position": 0,
        "col_position": 0,
        "fit": fit[play],
    }
    return out, plays


WATCH_CONCENTRATION = 1.2  # a + b of the watch-fraction Beta: below 2 it is U-shaped
WATCH_INTERCEPT = 0.8  # logit of the mean watch fraction of a title of fit 0
COMPLETION_FRACTION = 0.9  # a play is completed when it reaches this fraction of the title
MAX_EPISODES_PER_SITTING = 8  # autoplay asks "are you still watching?" after a few episodes
EVENING_HOURS = (19, 1)  # local start hours [from, to) of evening sittings (across midnight)


def watch_fraction_shape(fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape ``(a, b)`` of a play's watch fraction, ``Beta(1.2 m, 1.2 (1 - m))`` with mean
    ``m = expit(0.8 + 0.9 fit)`` (``fit``: the title's true fit to the member). With ``a + b``
    below 2 the density is U-shaped: a film or an episode is mostly finished or left in its
    first minutes, seldom stopped half way. The one place the formula lives: the simulator draws
    from it and `evaluation.truth` reads its exact completion probability
    ``P(fraction >= 0.9)`` off it."""
    mean = expit(WATCH_INTERCEPT + 0.9 * fit)
    return WATCH_CONCENTRATION * mean, WATCH_CONCENTRATION * (1 - mean)


def is_evening(start_ms: np.ndarray) -> np.ndarray:
    """Whether sessions starting at ``start_ms`` (ms since the epoch, local time) are evening."""
    hour = local_hour(start_ms)
    lo, hi = EVENING_HOURS
    return (hour >= lo) | (hour < hi)


def episodes_after(
    config: SimulationConfig, fit: np.ndarray, evening: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Further episodes autoplayed after a finished one: geometric, longer in the evening.

    After each finished episode the next one autoplays and the member stays with probability
    ``s = expit(binge_intercept + 0.5 fit + evening_binge * evening)``; the number of further
    episodes is geometric, ``floor(log u / log s)`` for one uniform ``u`` per play, at most
    ``MAX_EPISODES_PER_SITTING - 1``.
    """
    stay = expit(config.binge_intercept + 0.5 * fit + config.evening_binge * evening)
    return np.minimum(np.floor(np.log(u) / np.log(stay)), MAX_EPISODES_PER_SITTING - 1)


def watch_outcomes(ctx: DayContext, s: Sessions, plays: dict, day: int) -> tuple[list[dict], dict]:
    """Watch time of each play (U-shaped fraction by true fit), completion, binge, rewatch.

    A series play starts at the member's next unwatched episode (`SeriesProgress`); a finished
    episode autoplays the following ones (`episodes_after`) up to the last. A film, or a series
    whose last episode is finished, joins the member's completed titles.
    """
    pop = ctx.pop
    idx, title = plays["sess"], plays["title_id"]
    user = s.user[idx]
    u = to_uniform(hash_keys(KEY_PLAY + np.arange(2), base=s.base[idx][:, None]))
    frac = beta(*watch_fraction_shape(plays["fit"]), u[:, 0])
    completed = frac >= COMPLETION_FRACTION
    n_ep = pop.titles["n_episodes"].to_numpy()[title].astype(np.int64)
    runtime_s = pop.titles["runtime_min"].to_numpy()[title] * 60.0
    rewatch = ctx.completed.contains(user, title)
    done = np.where(rewatch, 0, ctx.progress.episodes(user, title))  # a rewatch starts over
    left = n_ep - done  # episodes from this play's first to the last
    more = episodes_after(ctx.config, plays["fit"], is_evening(s.start_ms[idx]), u[:, 1])
    more = np.where(completed & (left > 1), np.minimum(more, left - 1), 0).astype(np.int64)
    watch = np.minimum(runtime_s * (frac + more), schema.MAX_WATCH_S).astype(np.float32)
    series = n_ep > 1
    finished = done + completed + more  # episodes finished after this play
    ctx.progress.update(user[series], title[series], finished[series])
    done_title = completed & (~series | (finished >= n_ep))
    ctx.completed.add(user[done_title], title[done_title])
    common = (
        plays["title_id"],
        plays["artwork_id"],
        plays["row_id"],
        plays["row_position"],
        plays["col_position"],
        0,
        np.nan,
    )
    start = plays["offset"]
    out = [
        event_arrays(idx, start, ET["play_start"], *common, 20_000),
        event_arrays(
            idx[rewatch],
            start[rewatch],
            ET["rewatch"],
            *(x[rewatch] if np.ndim(x) else x for x in common),
            20_001,
        ),
        event_arrays(idx, start + watch * 1000.0, ET["play_stop"], *common[:-1], watch, 20_002),
    ]
    outcome = {
        "user": user,
        "title": title,
        "watch_s": watch,
        "completed": completed,
        "good": completed & (plays["fit"] > 0.5),
        "search": plays["row_id"] == 0,
    }
    return out, outcome


EVENT_COLUMNS = {
    "ts": np.int64,
    "user_id": np.int32,
    "session_id": np.int32,
    "device": np.int8,
    **TILE_EVENT_DTYPES,
}
IMPRESSION_COLUMNS = ("pscore", "p_examine", "p_hover", "p_click", "p_play")


@dataclass
class DayResult:
    """A day's events (columns of EVENT_COLUMNS, sorted), impression truth and play outcomes."""

    events: dict[str, np.ndarray]
    impressions: dict[str, np.ndarray]  # aligned with the day's impression events, in order
    outcome: dict[str, np.ndarray]
    session_users: np.ndarray
    n_sessions: int


def _concat_plays(parts: list[dict]) -> dict:
    keys = parts[0].keys()
    return {k: np.concatenate([np.broadcast_to(p[k], len(p["sess"])) for p in parts]) for k in keys}


def simulate_day(
    ctx: DayContext, day: int, eligible: np.ndarray, boost: np.ndarray, first_id: int, policy
) -> DayResult:
    """Sessions, browsing, searches and plays of one day as sorted event columns."""
    cfg = ctx.config
    s = draw_sessions(ctx, day, eligible, boost, first_id)
    rng = np.random.default_rng([cfg.random_state, int(Stream.POLICY), day])
    groups, plays = [], []
    end, played = np.zeros(s.user.size), np.zeros(s.user.size, bool)
    for device in range(len(schema.DEVICES)):
        ids = np.flatnonzero(s.device == device)
        for chunk in np.array_split(ids, max(1, -(-ids.size // cfg.session_chunk))):
            if chunk.size:
                ev, res = browse(ctx, s, chunk, device, policy, day, rng)
                groups += ev
                plays.append(res["plays"])
                end[chunk], played[chunk] = res["end"], res["played"]
    abandon = ~played & (s.u_search < cfg.search_after_abandon_rate)
    to_search = np.flatnonzero((s.patience_ms < 0) | abandon)
    ev, search_plays = search(ctx, s, to_search, end[to_search], day)
    groups += ev
    ev, outcome = watch_outcomes(ctx, s, _concat_plays([*plays, search_plays]), day)
    groups += ev
    return _assemble(s, groups, outcome)


def _assemble(s: Sessions, groups: list[dict], outcome: dict) -> DayResult:
    """Concatenate the day's event groups and sort them by (ts, session, seq)."""
    groups = sorted(groups, key=lambda g: "pscore" not in g)  # impressions first
    sess = np.concatenate([g["sess"] for g in groups])
    ts = s.start_ms[sess] + np.concatenate([g["offset"] for g in groups]).astype(np.int64)
    order = _day_order(s, ts, sess, np.concatenate([g["seq"] for g in groups]))
    sess = sess[order]
    events = {
        "ts": ts[order],
        "user_id": s.user[sess].astype(np.int32),
        "session_id": s.session_id[sess].astype(np.int32),
        "device": s.device[sess],
    }
    del ts, sess
    for k, t in EVENT_COLUMNS.items():
        if k not in events:
            events[k] = np.concatenate([g[k] for g in groups])[order].astype(t, copy=False)
    events = {k: events[k] for k in EVENT_COLUMNS}
    imp_groups = [g for g in groups if "pscore" in g]
    n_imp = sum(len(g["sess"]) for g in imp_groups)
    imp_order = order[order < n_imp]
    impressions = {
        k: np.concatenate([g[k] for g in imp_groups])[imp_order].astype(np.float32, copy=False)
        for k in IMPRESSION_COLUMNS
    }
    return DayResult(events, impressions, outcome, s.user, s.user.size)


def _day_order(s: Sessions, ts: np.ndarray, sess: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Order of a day's events by (ts, session, seq); the keys are unique."""
    # one int64 sort key (ts within 3 days: 28 bits, session in day: 20 bits, seq: 15 bits)
    rel = ts - (s.start_ms.min() if s.start_ms.size else 0)
    if s.user.size < 2**20 and (rel.size == 0 or rel.max() < 2**28):
        rel <<= 35
        rel |= sess.astype(np.int64) << 15
        rel |= seq.astype(np.int64)
        return np.argsort(rel)
    return np.lexsort((seq, sess, ts))
