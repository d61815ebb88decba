"""Logged artwork bandit rounds: one (context, candidates, action, pscore, rewards) per impression.

The context of an impression is built only from what a serving policy can observe: the
member's logged history (homepage impressions and clicks by artwork attribute, plays by genre
and by language) and the tile's title, device and session hour. Offline
(`build_artwork_rounds`) each impression sees the member's events strictly before its ``ts``
(same-instant events excluded); online (`ArtworkHistory`, used by
`persona_lib.models.artwork.policy.ArtworkPolicy`) a page sees the logs of the days before.

``CONTEXT_FEATURES`` (d = 13):

- ``bias``: 1;
- ``attr_lift_<a>``: how much more often the member's clicks carry attribute ``a`` than the
  artworks they were shown, shrunk to 0 without clicks:
  ``clicks / (clicks + 2) * (clicks_a / clicks - (shown_a + 0.5) / (shown + 1))``;
- ``log_clicks``: ``log1p(clicks) / 3``;
- ``genre_affinity``: share of the member's plays in the title's genres (title genres weighted
  equally), ``(plays_by_genre . title_genres) / (plays + 1)``;
- ``language_affinity``: share of the member's plays in the title's language;
- ``device_tv``: 1 on TV; ``evening``: 1 when the session started between 18:00 and 23:59.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.sampling import sample_log
from persona_lib.signals.attribution import (
    PriorSums,
    attribute,
    event_code,
    homepage_mask,
    stable_argsort,
)
from persona_lib.signals.engagement import start_watch_s

A, G, L = len(schema.ARTWORK_ATTRIBUTES), len(schema.GENRES), len(schema.LANGUAGES)
CONTEXT_FEATURES = (
    "bias", *(f"attr_lift_{a}" for a in schema.ARTWORK_ATTRIBUTES), "log_clicks",
    "genre_affinity", "language_affinity", "device_tv", "evening",
)  # fmt: skip
ATTR_LIFT_COLUMNS = tuple(range(1, 1 + A))  # segment columns of `BernoulliThompsonPolicy`
# columns of the per-member count matrix
SHOWN, SHOWN_ATTR = 0, slice(1, 1 + A)
CLICKS, CLICKS_ATTR = 1 + A, slice(2 + A, 2 + 2 * A)
PLAYS, PLAYS_GENRE = 2 + 2 * A, slice(3 + 2 * A, 3 + 2 * A + G)
PLAYS_LANG = slice(3 + 2 * A + G, 3 + 2 * A + G + L)
N_COUNTS = 3 + 2 * A + G + L
REWARDS = ("click", "quality_play")


@dataclass(frozen=True)
class ArtworkCatalog:
    """What the artwork policies know of the catalogue, from the public tables.

    ``candidates`` (n_titles, max_k): each title's artwork ids, -1 padded; ``action_features``
    (n_artworks, A) 0/1 attributes indexed by artwork_id; ``title_genres`` (n_titles, G) 0/1;
    ``title_language`` (n_titles,) codes into ``schema.LANGUAGES``.
    """

    candidates: np.ndarray
    action_features: np.ndarray
    title_genres: np.ndarray
    title_language: np.ndarray

    @classmethod
    def from_tables(cls, titles: pd.DataFrame, artworks: pd.DataFrame) -> ArtworkCatalog:
        n_titles = int(titles["title_id"].max()) + 1
        art = artworks.sort_values(["title_id", "artwork_id"], kind="stable")
        title, art_id = art["title_id"].to_numpy(np.int64), art["artwork_id"].to_numpy(np.int64)
        count = np.bincount(title, minlength=n_titles)
        slot = np.arange(len(title)) - np.repeat(np.cumsum(count) - count, count)
        candidates = np.full((n_titles, max(int(count.max(initial=0)), 1)), -1, dtype=np.int64)
        candidates[title, slot] = art_id
        features = np.zeros((int(art_id.max(initial=-1)) + 1, A))
        features[art_id] = art[list(schema.ARTWORK_ATTRIBUTES)].to_numpy(np.float64)
        genres = np.zeros((n_titles, G))
        names = titles["genres"].astype("str").str.get_dummies(sep="|")
        names = names.reindex(columns=list(schema.GENRES), fill_value=0).to_numpy(np.float64)
        genres[titles["title_id"].to_numpy()] = names
        language = np.zeros(n_titles, dtype=np.int64)
        codes = pd.Categorical(titles["language"], categories=list(schema.LANGUAGES)).codes
        language[titles["title_id"].to_numpy()] = codes
        return cls(candidates, features, genres, language)

    @property
    def n_artworks(self) -> np.ndarray:
        """(n_titles,) number of artworks of each title."""
        return (self.candidates >= 0).sum(axis=1)


def event_increments(events: pd.DataFrame, catalog: ArtworkCatalog, dtype=np.float64):
    """Rows of ``events`` that feed the member history and what each adds to the counts.

    Returns ``(rows, increments)``: positions in ``events`` of homepage impressions and clicks
    with a known artwork and of every ``play_start``, and their (len(rows), N_COUNTS) counts,
    each 0 or 1 (so ``dtype`` may be a small integer type).
    """
    et = events["event_type"]
    codes = et.cat.codes.to_numpy()
    art = events["artwork_id"].to_numpy().astype(np.int64)
    home = homepage_mask(events, ("impression", "click")) & (art >= 0)
    home &= art < len(catalog.action_features)
    shown = home & (codes == event_code(et, "impression"))
    click = home & (codes == event_code(et, "click"))
    play = codes == event_code(et, "play_start")
    rows = np.flatnonzero(shown | click | play)
    inc = np.zeros((len(rows), N_COUNTS), dtype=dtype)
    attrs = catalog.action_features[np.maximum(art[rows], 0)]
    s, c, p = shown[rows], click[rows], play[rows]
    inc[s, SHOWN], inc[s, SHOWN_ATTR] = 1.0, attrs[s]
    inc[c, CLICKS], inc[c, CLICKS_ATTR] = 1.0, attrs[c]
    title = events["title_id"].to_numpy().astype(np.int64)[rows[p]]
    inc[p, PLAYS] = 1.0
    inc[p, PLAYS_GENRE] = catalog.title_genres[title]
    inc[np.flatnonzero(p), PLAYS_LANG.start + catalog.title_language[title]] = 1.0
    return rows, inc


def context_features(counts, title_id, device, hour, catalog: ArtworkCatalog) -> np.ndarray:
    """(n, len(CONTEXT_FEATURES)) context from (n, N_COUNTS) member counts and the tiles.

    ``device`` holds codes into ``schema.DEVICES``; ``hour`` the session's starting hour.
    """
    counts = np.asarray(counts, dtype=np.float64)
    title_id = np.asarray(title_id, dtype=np.int64)
    n = len(counts)
    shown_share = (counts[:, SHOWN_ATTR] + 0.5) / (counts[:, [SHOWN]] + 1.0)
    clicks = counts[:, [CLICKS]]
    lift = (counts[:, CLICKS_ATTR] - clicks * shown_share) / (clicks + 2.0)
    plays = counts[:, PLAYS] + 1.0
    genres = (counts[:, PLAYS_GENRE] * catalog.title_genres[title_id]).sum(axis=1) / plays
    language = counts[np.arange(n), PLAYS_LANG.start + catalog.title_language[title_id]] / plays
    device_tv = np.asarray(device) == schema.DEVICES.index("tv")
    evening = np.asarray(hour) >= 18
    return np.column_stack([np.ones(n), lift, np.log1p(clicks[:, 0]) / 3.0, genres, language,
                            device_tv, evening]).astype(np.float64)  # fmt: skip


class ArtworkHistory:
    """Running per-member counts for online policies (updated with each day's logs)."""

    def __init__(self, catalog: ArtworkCatalog):
        self.catalog = catalog
        self.counts_ = np.zeros((0, N_COUNTS))

    def _grow(self, n_users: int) -> None:
        if n_users > len(self.counts_):
            extra = np.zeros((n_users - len(self.counts_), N_COUNTS))
            self.counts_ = np.vstack([self.counts_, extra])

    def update(self, events: pd.DataFrame) -> None:
        rows, inc = event_increments(events, self.catalog)
        users = events["user_id"].to_numpy().astype(np.int64)[rows]
        if len(users):
            self._grow(int(users.max()) + 1)
            np.add.at(self.counts_, users, inc)

    def context(self, user_id, title_id, device, hour) -> np.ndarray:
        users = np.asarray(user_id, dtype=np.int64)
        self._grow(int(users.max(initial=-1)) + 1)
        return context_features(self.counts_[users], title_id, device, hour, self.catalog)


def impression_rewards(events: pd.DataFrame, min_watch_minutes: float = 10.0):
    """Per homepage impression (in the events' order): positions, ``click``, ``quality_play``.

    A click or ``play_start`` counts for the latest earlier impression of the same tile
    (`persona_lib.signals.attribution.attribute`); a quality play is an attributed play whose
    ``play_stop`` has ``watch_s >= 60 * min_watch_minutes``. ``events`` needs ``event_id``.
    """
    positions = np.flatnonzero(homepage_mask(events, ("impression",)))
    out_row = np.full(len(events), -1)
    out_row[positions] = np.arange(len(positions))
    rows, target = attribute(events)
    codes = events["event_type"].cat.codes.to_numpy()[rows]
    ok = target >= 0
    click = np.zeros(len(positions), dtype=bool)
    click[out_row[target[ok & (codes == event_code(events["event_type"], "click"))]]] = True
    starts, watch = start_watch_s(events)
    good = np.zeros(len(events), dtype=bool)
    good[starts] = watch >= 60.0 * min_watch_minutes  # NaN (no stop yet) is not a quality play
    play = ok & good[rows]
    quality = np.zeros(len(positions), dtype=bool)
    quality[out_row[target[play]]] = True
    return positions, click, quality


def session_hour(events: pd.DataFrame) -> np.ndarray:
    """Per event: the hour (0-23) of its session's first event."""
    ms = events["ts"].to_numpy().astype("datetime64[ms]").view("int64")
    first = pd.Series(ms).groupby(events["session_id"].to_numpy()).transform("min")
    return ((first.to_numpy() // 3_600_000) % 24).astype(np.int64)


@dataclass(frozen=True)
class ArtworkRounds:
    """Logged artwork bandit rounds (one per impression of a title with >= 2 artworks).

    Arrays have one row per round: ids ``event_id``, ``user_id``, ``title_id``; ``context``
    (n, d) named by ``context_names``; ``candidates`` (n, max_k) artwork ids, -1 padded;
    ``action`` the shown artwork and ``action_index`` its slot in ``candidates``; ``pscore``
    the logging policy's probability of it (NaN when unknown); rewards ``click`` and
    ``quality_play`` (0/1 floats). ``action_features`` (n_artworks, A) for `bind_actions`.
    """

    event_id: np.ndarray
    user_id: np.ndarray
    title_id: np.ndarray
    context: np.ndarray
    candidates: np.ndarray
    action: np.ndarray
    action_index: np.ndarray
    pscore: np.ndarray
    click: np.ndarray
    quality_play: np.ndarray
    action_features: np.ndarray
    context_names: tuple[str, ...] = CONTEXT_FEATURES

    def __len__(self) -> int:
        return len(self.event_id)

    def reward(self, name: str = "quality_play") -> np.ndarray:
        if name not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {name!r}")
        return getattr(self, name)

    def select(self, index) -> ArtworkRounds:
        """The rounds at ``index`` (positions or a boolean mask of length ``len(self)``), in
        that order; ``action_features`` and ``context_names`` are shared.

        Examples
        --------
        >>> logged = rounds.select(np.isfinite(rounds.pscore))  # doctest: +SKIP
        """
        index = np.asarray(index)
        if index.dtype == bool and index.shape != (len(self),):
            raise ValueError(f"a boolean index needs {len(self)} entries, got {index.shape[0]}")
        shared = ("action_features", "context_names")
        per_round = (f.name for f in fields(self) if f.name not in shared)
        return replace(self, **{name: getattr(self, name)[index] for name in per_round})


def build_artwork_rounds(events, titles, artworks, propensities=None,
                         min_watch_minutes: float = 10.0) -> ArtworkRounds:  # fmt: skip
    """Turn logged events into artwork bandit rounds with leakage-free contexts.

    Parameters
    ----------
    events : canonical events table (with ``event_id``); titles, artworks : catalogue tables.
    propensities : frame ``event_id, pscore`` (e.g. ``world.propensities``), optional.
    min_watch_minutes : a play is a quality play when ``watch_s >= 60 * min_watch_minutes``.

    Returns
    -------
    ArtworkRounds

    Examples
    --------
    >>> rounds = artwork_rounds(world)  # doctest: +SKIP
    >>> policy = LinUCBPolicy().bind_actions(rounds.action_features)  # doctest: +SKIP
    """
    catalog = ArtworkCatalog.from_tables(titles, artworks)
    positions, click, quality = impression_rewards(events, min_watch_minutes)
    title = events["title_id"].to_numpy().astype(np.int64)
    art = events["artwork_id"].to_numpy().astype(np.int64)
    cand = catalog.candidates[title[positions]]
    hit = cand == art[positions][:, None]
    keep = (catalog.n_artworks[title[positions]] >= 2) & hit.any(axis=1)
    positions, click, quality, cand, hit = (x[keep] for x in (positions, click, quality, cand, hit))
    counts = _counts_before(events, catalog, positions)
    device = events["device"].cat.codes.to_numpy()[positions]
    context = context_features(counts, title[positions], device,
                               session_hour(events)[positions], catalog)  # fmt: skip
    event_id = events["event_id"].to_numpy()[positions]
    pscore = np.full(len(positions), np.nan)
    if propensities is not None:
        found = pd.Index(propensities["event_id"].to_numpy()).get_indexer(event_id)
        pscore = np.where(found >= 0, propensities["pscore"].to_numpy()[found], np.nan)
    return ArtworkRounds(
        event_id=event_id, user_id=events["user_id"].to_numpy()[positions],
        title_id=title[positions], context=context, candidates=cand, action=art[positions],
        action_index=hit.argmax(axis=1), pscore=pscore.astype(np.float64),
        click=click.astype(np.float64), quality_play=quality.astype(np.float64),
        action_features=catalog.action_features,
    )  # fmt: skip


def _counts_before(events, catalog, positions) -> np.ndarray:
    """(len(positions), N_COUNTS) member counts from events strictly before each position's ts.

    Increments are 0/1, so they are summed as integers (exact, an eighth of the memory of
    float64), and the prior sums are formed for the query rows only.
    """
    rows, inc = event_increments(events, catalog, dtype=np.int8)
    # queries ride along as zero increments so that they share the members' time blocks
    all_rows = np.concatenate([rows, positions])
    inc = np.vstack([inc, np.zeros((len(positions), N_COUNTS), dtype=np.int8)])
    is_query = np.r_[np.zeros(len(rows), bool), np.ones(len(positions), bool)]
    ts = events["ts"].to_numpy().astype("datetime64[ms]").view("int64")[all_rows]
    user = events["user_id"].to_numpy().astype(np.int64)[all_rows]
    order = np.argsort(ts, kind="stable")
    order = order[stable_argsort(user[order])]
    sums = PriorSums(user[order], ts[order])
    inc = inc[order]
    before = np.cumsum(inc, axis=0, dtype=np.int32 if len(inc) < 2**31 else np.int64)
    before -= inc  # exclusive running sums
    del inc
    query = is_query[order]
    out = np.empty((len(positions), N_COUNTS))
    out[order[query] - len(rows)] = (
        before[sums.block_start[query]] - before[sums.group_start[query]]
    )
    return out


def artwork_rounds(
    world,
    min_watch_minutes: float = 10.0,
    max_members: int | None = None,
    max_days: int | None = None,
    random_state: int = 0,
) -> ArtworkRounds:
    """`build_artwork_rounds` of a simulated `World` or a team's `Logs`, with their propensities.

    Reads only logged tables: ``events``, ``titles``, ``artworks`` and ``propensities`` (None on
    logs without that table: every ``pscore`` is then NaN). ``max_members`` and ``max_days`` cap
    the log first (`persona_lib.data.sampling.sample_log`: a seeded random sample of members
    over the first days; a log within both caps is used whole): the rounds' member history
    arrays grow with the log, so a large log is sampled to the size the estimates need. Logs
    read only the sampled rows (`persona_lib.data.Logs.read_sample`), so a day-partitioned
    store larger than memory is never read whole.
    """
    if hasattr(world, "read_sample"):
        events, propensities = world.read_sample(max_members, max_days, random_state)
    else:
        events = sample_log(world.events, max_members, max_days, random_state)
        propensities = world.propensities
        if events is not world.events:
            events = events.reset_index(drop=True)  # positions, as the logs' sample has
    return build_artwork_rounds(events, world.titles, world.artworks, propensities,
                                min_watch_minutes)  # fmt: skip
