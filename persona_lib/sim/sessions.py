"""A day's sessions and their homepage browsing, as event arrays (see `simulate_day`).

Browsing follows Gomez-Uribe & Hunt (2016, ACM TMIS 6(4)): a member scans the homepage top to
bottom and left to right within the columns visible on the device (sometimes scrolling a row to
the right) and "loses interest after perhaps 60 to 90 seconds of choosing, having reviewed 10 to
20 titles". Every tile on screen logs an impression; each examined tile logs exactly one of hover,
click or scroll_past; a play ends the browsing. About 80 % of hours start from recommendations and
20 % from search (same source). All outcomes are keyed random draws of (member, day, session,
tile), so two policies see the same coins wherever they show the same thing.

Logging conventions: a play is ``play_start`` (plus ``rewatch`` beside it when the member had
completed the title before) and ``play_stop`` carrying ``watch_s``. For a series, one play covers
the autoplayed episodes that follow a completed episode: ``watch_s`` can exceed one episode's
runtime; completion means ``watch_s >= 0.9 * runtime``. (One longer play rather than a
``play_start``/``play_stop`` pair per episode keeps a sitting of several episodes at two events:
the hours come from the viewing, not from a larger log.) A series the member is part way through
is *resumed*: its tile draws the click and the play (``RESUME_CLICK``, ``RESUME_PLAY`` in
`population`), and the play starts at the next episode, so a "continue watching" row earns the
return visits it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from persona_lib.data import schema
from persona_lib.data.keyed_random import Stream, categorical, hash_keys, poisson, to_uniform
from persona_lib.data.policies import PageRequest
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.population import Population, tile_probabilities

VISIBLE_COLS = np.array([6, 3, 4, 6])  # tv, mobile, tablet, web
SCREEN_ROWS = np.array([2, 3, 3, 3])
SCROLL_COLS = np.array([3, 2, 2, 3])  # extra tiles revealed when a member scrolls a row right
WEEKDAY = np.array([0.92, 0.90, 0.92, 0.97, 1.08, 1.15, 1.06])  # Monday .. Sunday
ET = {name: np.int8(i) for i, name in enumerate(schema.EVENT_TYPES)}
GLANCE_MS, DETAILS_MS, SCROLL_RIGHT = 250.0, 6000.0, 0.15
MAX_SESSIONS_PER_DAY = 8
_LO32 = np.uint64(0xFFFFFFFF)
# dwell multiplier: lognormal(0, 0.45) quantiles on a 4096-point grid, indexed by 12 hash bits
_LOGNORMAL = np.exp(0.45 * ndtri((np.arange(4096) + 0.5) / 4096)).astype(np.float32)


def local_hour(start_ms: np.ndarray) -> np.ndarray:
    """Hour of the day (0-23) of times in ms since the epoch (the simulator's clock is local)."""
    return (np.asarray(start_ms) // 3_600_000) % 24


def _u32(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two uniforms from one 64-bit hash (high and low 32 bits)."""
    hi = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    lo = ((h & _LO32).astype(np.float64) + 0.5) * 2.0**-32
    return hi, lo


class CompletedSet:
    """Sorted keys ``user_id * n_titles + title_id`` of titles each member has completed."""

    def __init__(self, n_titles: int):
        self.n_titles = n_titles
        self.keys = np.zeros(0, dtype=np.int64)

    def contains(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        k = users.astype(np.int64) * self.n_titles + titles
        pos = np.minimum(np.searchsorted(self.keys, k), max(len(self.keys) - 1, 0))
        return (self.keys[pos] == k) if len(self.keys) else np.zeros(k.shape, bool)

    def add(self, users: np.ndarray, titles: np.ndarray) -> None:
        k = np.unique(users.astype(np.int64) * self.n_titles + titles)
        k = k[~self.contains(k // self.n_titles, k % self.n_titles)]
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, k), k)


class SeriesProgress:
    """Episodes each member has finished of each series they started (sorted keys, as above).

    A series stays *in progress* until its last episode is finished; only then does it join the
    member's `CompletedSet` (and a later play of it is a rewatch).
    """

    def __init__(self, n_titles: int):
        self.n_titles = n_titles
        self.keys = np.zeros(0, dtype=np.int64)
        self.done = np.zeros(0, dtype=np.int32)

    def episodes(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        """Episodes finished so far (0 for a series never finished an episode of, or a film)."""
        k = users.astype(np.int64) * self.n_titles + titles
        if not len(self.keys):
            return np.zeros(k.shape, dtype=np.int32)
        pos = np.minimum(np.searchsorted(self.keys, k), len(self.keys) - 1)
        return np.where(self.keys[pos] == k, self.done[pos], 0)

    def update(self, users: np.ndarray, titles: np.ndarray, episodes: np.ndarray) -> None:
        """Set each (member, series) to ``episodes`` (the largest if a pair comes twice)."""
        k = users.astype(np.int64) * self.n_titles + titles
        order = np.lexsort((episodes, k))
        k, episodes = k[order], episodes[order]
        last = np.r_[k[1:] != k[:-1], True]
        k, episodes = k[last], episodes[last].astype(np.int32)
        pos = np.searchsorted(self.keys, k)
        hit = pos < len(self.keys)
        hit[hit] = self.keys[pos[hit]] == k[hit]
        self.done[pos[hit]] = np.maximum(self.done[pos[hit]], episodes[hit])
        self.keys = np.insert(self.keys, pos[~hit], k[~hit])
        self.done = np.insert(self.done, pos[~hit], episodes[~hit])


@dataclass
class DayContext:
    """What persists across days for the session simulator."""

    config: SimulationConfig
    pop: Population
    completed: CompletedSet
    progress: SeriesProgress
    row_names: dict[str, int] = field(default_factory=lambda: {"search": 0})
    search_cum: list = field(default_factory=list)  # per genre: (title ids, cumulative weights)

    @classmethod
    def create(cls, config: SimulationConfig, pop: Population) -> DayContext:
        ctx = cls(config, pop, CompletedSet(config.n_titles), SeriesProgress(config.n_titles))
        weight = pop.title_popularity**0.8 * np.exp(0.3 * pop.title_quality)
        for g in range(pop.title_genres.shape[1]):
            ids = np.flatnonzero(pop.title_genres[:, g] > 0)
            ids = ids if ids.size else np.arange(config.n_titles)
            cum = np.cumsum(weight[ids])
            ctx.search_cum.append((ids, cum / cum[-1]))
        return ctx

    def row_codes(self, names: tuple[str, ...]) -> np.ndarray:
        for name in names:
            self.row_names.setdefault(name, len(self.row_names))
        return np.array([self.row_names[n] for n in names], dtype=np.int8)


@dataclass
class Sessions:
    """One day's sessions, ordered by (user_id, k)."""

    user: np.ndarray
    k: np.ndarray
    device: np.ndarray
    start_ms: np.ndarray  # absolute, ms since the epoch
    patience_ms: np.ndarray  # < 0: the member goes straight to search
    max_review: np.ndarray
    u_search: np.ndarray
    base: np.ndarray  # keyed-hash prefix of (seed, TILES, user, day, k)
    session_id: np.ndarray


def draw_sessions(
    ctx: DayContext, day: int, eligible: np.ndarray, boost: np.ndarray, first_id: int
) -> Sessions:
    """Poisson sessions per eligible member (engagement x weekday x notification boost)."""
    cfg, pop = ctx.config, ctx.pop
    seed = cfg.random_state
    date = cfg.start + np.timedelta64(day, "D")
    dow = int((date.astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
    all_users = np.arange(cfg.n_users)
    lam = pop.engagement * WEEKDAY[dow] * boost
    count = poisson(lam, to_uniform(hash_keys(seed, Stream.SESSIONS, all_users, day)))
    count = np.where(eligible, np.minimum(count, MAX_SESSIONS_PER_DAY), 0)
    user = np.repeat(all_users, count)
    k = np.arange(user.size) - np.repeat(np.cumsum(count) - count, count)
    base = hash_keys(seed, Stream.TILES, user, day, k)
    u = to_uniform(hash_keys(KEY_SESSION + np.arange(6), base=base[:, None]))
    device = categorical(u[:, 0], pop.device_mix[user]).astype(np.int8)
    hours = (pop.peak_hour[user] + pop.hour_spread[user] * ndtri(u[:, 1])) % 24
    start = date.astype("datetime64[ms]").astype(np.int64) + (hours * 3.6e6).astype(np.int64)
    patience = cfg.patience_s * 1000 * pop.patience[user] * np.exp(0.3 * ndtri(u[:, 2]))
    patience = np.where(u[:, 4] < cfg.search_first_rate, -1.0, patience)
    span = cfg.review_max - cfg.review_min + 1
    return Sessions(
        user,
        k,
        device,
        start,
        patience,
        cfg.review_min + np.floor(u[:, 3] * span).astype(np.int64),
        u[:, 5],
        base,
        first_id + np.arange(user.size, dtype=np.int64),
    )


# dtypes of the logged columns an event group carries; the day adds ts, user, session, device
TILE_EVENT_DTYPES = {
    "event_type": np.int8,
    "title_id": np.int32,
    "artwork_id": np.int32,
    "row_id": np.int8,
    "row_position": np.int8,
    "col_position": np.int8,
    "dwell_ms": np.uint16,
    "watch_s": np.float32,
}
_EVENT_DTYPES = {"offset": np.float64, **TILE_EVENT_DTYPES, "seq": np.int32}


def event_arrays(sess, offset, etype, title, art, row, rpos, cpos, dwell, watch, seq, **extra):
    """One group of events as equal-length arrays in their final dtypes (scalars broadcast)."""
    n = len(sess)
    values = {
        "offset": offset,
        "event_type": etype,
        "title_id": title,
        "artwork_id": art,
        "row_id": row,
        "row_position": rpos,
        "col_position": cpos,
        "dwell_ms": np.clip(dwell, 0, schema.MAX_DWELL_MS),
        "watch_s": watch,
        "seq": seq,
    }
    out = {
        k: np.broadcast_to(np.asarray(v).astype(_EVENT_DTYPES[k], copy=False), n)
        for k, v in values.items()
    }
    return {"sess": sess, **out, **extra}


def _request_page(
    ctx: DayContext,
    s: Sessions,
    idx: np.ndarray,
    device: int,
    policy,
    day: int,
    rng: np.random.Generator,
):
    """Ask the policy for a page just deep enough for these sessions' scanning."""
    cfg, pop = ctx.config, ctx.pop
    vis, screen = int(VISIBLE_COLS[device]), int(SCREEN_ROWS[device])
    per_row = float(exam_probability(np.arange(vis), 0).sum())
    depth = int(np.ceil(1.25 * s.max_review[idx].max() / per_row)) + screen
    hours = local_hour(s.start_ms[idx]).astype(np.int8)
    width = min(cfg.titles_per_row, vis + int(SCROLL_COLS[device]))
    request = PageRequest(
        s.session_id[idx],
        s.user[idx],
        s.device[idx],
        hours,
        day,
        min(cfg.rows_per_page, depth),
        width,
        rng,
        pop.titles,
        pop.artworks,
    )
    return policy.serve(request)


# Disjoint key ranges under a session's hash prefix: tile slots use 0..rows*width-1 (< 10,000),
# so no two decisions of one session ever share a uniform (a shared one biased the truth once).
KEY_ROW, KEY_CLICK, KEY_SEARCH, KEY_PLAY, KEY_SESSION = 10_000, 100_000, 200_000, 300_000, 400_000


def exam_probability(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Position bias: probability that a reachable tile is examined (left and top first)."""
    return 0.92 * 0.9**col * 0.985**row


def _scan(ctx: DayContext, s: Sessions, idx: np.ndarray, rows: int, width: int, vis: int):
    """Tiles on the scan path before the member's patience and review budget run out.

    Returns per-slot arrays (n, rows * width): valid, examined, time (ms), candidate mask.
    A tile's inclusion depends only on earlier tiles, so truth probabilities stay unbiased.
    """
    slot = np.arange(rows * width)
    r, c = slot // width, slot % width
    base = s.base[idx]
    h = hash_keys(slot, base=base[:, None])
    scrolled = to_uniform(hash_keys(KEY_ROW + np.arange(rows), base=base[:, None])) < SCROLL_RIGHT
    valid = (c < vis)[None, :] | scrolled[:, r]
    threshold = (exam_probability(c, r) * 2.0**24).astype(np.uint64)
    ex = valid & ((h >> np.uint64(40)) < threshold)
    speed = (ctx.config.dwell_s * 1000 * ctx.pop.speed[s.user[idx]]).astype(np.float32)
    dwell = speed[:, None] * _LOGNORMAL[(h & np.uint64(4095)).astype(np.intp)]
    time = np.where(ex, dwell, np.where(valid, np.float32(GLANCE_MS), np.float32(0)))
    cnt = np.cumsum(ex, 1, dtype=np.int16) - ex
    cand = valid & (np.cumsum(time, 1) - time <= s.patience_ms[idx][:, None])
    cand &= cnt < s.max_review[idx][:, None]
    return ex, dwell, time, cand


def browse(
    ctx: DayContext,
    s: Sessions,
    idx: np.ndarray,
    device: int,
    policy,
    day: int,
    rng: np.random.Generator,
) -> tuple[list[dict], dict]:
    """Homepage browsing of sessions ``idx`` (all on one device) against the policy's page."""
    page = _request_page(ctx, s, idx, device, policy, day, rng)
    n, rows, width = page.title_id.shape
    size = rows * width
    vis = min(int(VISIBLE_COLS[device]), width)
    ex, dwell, time, cand = _scan(ctx, s, idx, rows, width, vis)
    flat = np.flatnonzero(cand)  # candidate tiles, session-major then scan order
    si, sj = np.divmod(flat, size)
    t = {
        "title": page.title_id.reshape(-1)[flat],
        "artwork": page.artwork_id.reshape(-1)[flat],
        "user": s.user[idx][si],
        "ex": ex.reshape(-1)[flat],
        "dwell": dwell.reshape(-1)[flat],
    }
    seen = ctx.completed.contains(t["user"], t["title"])
    resume = ~seen & (ctx.progress.episodes(t["user"], t["title"]) > 0)
    pc, pp, ph, t["fit"] = tile_probabilities(
        ctx.pop, ctx.config, t["user"], t["title"], t["artwork"], device, seen, resume
    )
    u_click, u_play = _u32(hash_keys(KEY_CLICK + sj, base=s.base[idx][si]))
    t["click"] = t["ex"] & (u_click < pc)
    t["play"] = t["click"] & (u_play < pp)
    t["hover"] = t["ex"] & ~t["click"] & ((u_click - pc) / (1 - pc) < ph)
    t["extra"] = np.where(t["hover"], 1.5 * t["dwell"], 0.0) + np.where(
        t["click"] & ~t["play"], DETAILS_MS, 0.0
    )
    time.reshape(-1)[flat] += t["extra"]
    cum = (np.cumsum(time, 1) - time).reshape(-1)
    incl = cum[flat] <= s.patience_ms[idx][si]
    first = np.full(n, size)
    np.minimum.at(first, si[incl & t["play"]], sj[incl & t["play"]])
    incl &= sj <= first[si]
    t["cum"], t["incl"] = cum[flat], incl
    truth = {"p_click": pc, "p_play": pc * pp, "p_hover": (1 - pc) * ph}
    out, plays = _emit(ctx, page, idx, flat, t, truth, cum, device)
    end = np.bincount(si[incl], weights=time.reshape(-1)[flat[incl]], minlength=n)
    return out, {"plays": plays, "end": end, "played": first < size}


def _emit(
    ctx: DayContext,
    page,
    idx: np.ndarray,
    flat: np.ndarray,
    t: dict,
    truth: dict,
    cum: np.ndarray,
    device: int,
) -> tuple[list[dict], dict]:
    """Impression, examination and play events of the included tiles (see `browse`)."""
    n, rows, width = page.title_id.shape
    size = rows * width
    vis, screen = min(int(VISIBLE_COLS[device]), width), int(SCREEN_ROWS[device])
    r, c = np.divmod(np.arange(size), width)
    si, sj = np.divmod(flat, size)
    incl = t["incl"]
    pos = np.full(n * size, -1, dtype=np.int64)
    pos[flat[incl]] = np.flatnonzero(incl)
    last_row = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_row, si[incl], r[sj[incl]])
    on_screen = (c < vis)[None, :] & (r[None, :] <= last_row[:, None] + screen - 1)
    fi = np.flatnonzero((pos >= 0) | on_screen.reshape(-1))
    ii, jj = np.divmod(fi, size)
    rc = ctx.row_codes(page.row_names)[page.row_id].reshape(-1)
    arrival = cum[ii * size + np.maximum(r[jj] - screen + 1, 0) * width]
    k = pos[fi]
    pe = np.where(k >= 0, exam_probability(c, r)[jj], 0.0)
    k = np.maximum(k, 0)
    out = [
        event_arrays(
            idx[ii],
            np.where(c[jj] < vis, arrival, cum[fi]),
            ET["impression"],
            page.title_id.reshape(-1)[fi],
            page.artwork_id.reshape(-1)[fi],
            rc[ii * rows + r[jj]],
            r[jj],
            c[jj],
            0,
            np.nan,
            jj,
            pscore=page.pscore.reshape(-1)[fi],
            p_examine=pe.astype(np.float32),
            **{name: (pe * p[k]).astype(np.float32) for name, p in truth.items()},
        )
    ]
    e = incl & t["ex"]
    etype = np.where(t["click"], ET["click"], np.where(t["hover"], ET["hover"], ET["scroll_past"]))
    se, je = si[e], sj[e]
    out.append(
        event_arrays(
            idx[se],
            t["cum"][e] + t["dwell"][e],
            etype[e],
            t["title"][e],
            t["artwork"][e],
            rc[se * rows + r[je]],
            r[je],
            c[je],
            (t["dwell"] + t["extra"])[e],
            np.nan,
            10_000 + je,
        )
    )
    p = incl & t["play"]
    sp, jp = si[p], sj[p]
    plays = {
        "sess": idx[sp],
        "offset": t["cum"][p] + t["dwell"][p] + DETAILS_MS / 2,
        "title_id": t["title"][p],
        "artwork_id": t["artwork"][p],
        "row_id": rc[sp * rows + r[jp]],
        "row_position": r[jp],
        "col_position": c[jp],
        "fit": t["fit"][p],
    }
    return out, plays
