"""Serving policies: what the simulated homepage shows each member.

A policy receives a `PageRequest` (a batch of sessions plus the public catalogue) and returns a
`Page` of rows of titles with one artwork per tile and the probability (``pscore``) that it chose
that artwork. After each simulated day it receives that day's *logged* events through
``update``; it never sees the simulator's truth. The default `PopularityGenrePolicy` picks
artwork uniformly at random among a title's artworks (``pscore = 1 / n_artworks``), so its logs
support unbiased off-policy evaluation of artwork policies (inverse propensity scoring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from persona_lib.data import schema

FIXED_ROWS = ("continue", "popular", "trending", "new")
ROW_NAMES = (*FIXED_ROWS, *(f"genre:{g}" for g in schema.GENRES))
PLAY_START = schema.EVENT_TYPES.index("play_start")


@dataclass(frozen=True)
class PageRequest:
    """A batch of homepage requests (one per session) and the public catalogue.

    ``device`` holds codes into ``schema.DEVICES``; ``n_rows`` x ``n_cols`` is the part of the page
    the members can reach; ``rng`` is the policy's own source of randomness.
    """

    session_id: np.ndarray  # (n,) int
    user_id: np.ndarray  # (n,) int
    device: np.ndarray  # (n,) int8 codes into schema.DEVICES
    hour: np.ndarray  # (n,) int 0-23
    day: int
    n_rows: int
    n_cols: int
    rng: np.random.Generator
    titles: pd.DataFrame
    artworks: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.session_id)


@dataclass(frozen=True)
class Page:
    """Served tiles: ``title_id``/``artwork_id``/``pscore`` are (n, R, C), ``row_id`` is (n, R).

    ``row_id`` indexes ``row_names``; R and C may be smaller than requested.
    """

    title_id: np.ndarray
    artwork_id: np.ndarray
    pscore: np.ndarray
    row_id: np.ndarray
    row_names: tuple[str, ...]

    def __post_init__(self) -> None:
        shape = self.title_id.shape
        if len(shape) != 3 or self.artwork_id.shape != shape or self.pscore.shape != shape:
            raise ValueError("Page title_id, artwork_id and pscore must share one (n, R, C) shape")
        if self.row_id.shape != shape[:2]:
            raise ValueError("Page row_id must have shape (n, R)")


@runtime_checkable
class ServingPolicy(Protocol):
    """What the simulator needs from a policy.

    ``serve`` is called once per batch of same-device sessions; ``update`` once after each day
    with that day's logged events (schema columns except ``event_id``, which is assigned when
    all days are merged; sorted by ``ts``). A policy never receives the simulator's truth.
    """

    def serve(self, request: PageRequest) -> Page: ...

    def update(self, day_events: pd.DataFrame) -> None: ...


class UniformArtworkMixin:
    """Choose each tile's artwork uniformly at random among the title's artworks."""

    def choose_artwork(self, title_id: np.ndarray, request: PageRequest):
        """Return ``(artwork_id, pscore)`` arrays shaped like ``title_id``."""
        offset, count = self._artwork_index(request.artworks)
        n_art = count[title_id]
        pick = (request.rng.random(title_id.shape, dtype=np.float32) * n_art).astype(np.int64)
        pick = np.minimum(pick, n_art - 1)
        artwork = (offset[title_id] + pick).astype(np.int32)
        return artwork, (1.0 / n_art).astype(np.float32)

    def _artwork_index(self, artworks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """`artwork_index` of the catalogue, computed once per artworks frame."""
        cached = getattr(self, "_artwork_index_cache", None)
        if cached is None or cached[0] is not artworks:
            cached = (artworks, artwork_index(artworks))
            self._artwork_index_cache = cached
        return cached[1]


def artwork_index(artworks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per title: first artwork_id and number of artworks (artworks sorted by title, contiguous)."""
    title = artworks["title_id"].to_numpy()
    count = np.bincount(title)
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    return offset.astype(np.int64), count.astype(np.int64)


class PopularityGenrePolicy(UniformArtworkMixin):
    """Rows "continue", "popular", "trending", "new" then "genre:<Genre>" rows.

    Genre rows are ordered by the member's observed plays (with Gumbel noise); titles within a row
    by observed popularity with a small exploration shuffle; artwork uniformly at random.

    Parameters
    ----------
    exploration : scale of the Gumbel noise added to log-rank scores (0 = strict ranking).
    trending_half_life_days : half-life of the play counts behind "trending".
    continue_days : a series played within this many days appears in "continue watching".
    n_variants : shuffled orderings per row type and request batch (each tile row draws one).
    random_state : seed of the tie-breaking prior used before any plays are observed.
    """

    def __init__(
        self,
        exploration: float = 0.35,
        trending_half_life_days: float = 3.0,
        continue_days: int = 14,
        n_variants: int = 32,
        random_state: int = 0,
    ):
        self.exploration = exploration
        self.trending_half_life_days = trending_half_life_days
        self.continue_days = continue_days
        self.random_state = random_state
        self.n_variants = n_variants
        self._ready = False

    def _setup(self, request: PageRequest) -> None:
        titles = request.titles
        n = len(titles)
        prior = np.random.default_rng(self.random_state).random(n) * 1e-3
        self.plays_ = prior.copy()
        self.trend_ = prior.copy()
        genre_lists = titles["genres"].str.split("|")
        self.genres_ = np.zeros((n, len(schema.GENRES)), dtype=np.float32)
        for t, names in enumerate(genre_lists):
            self.genres_[t, [schema.GENRES.index(g) for g in names]] = 1.0
        year = titles["release_year"].to_numpy()
        self.new_ = year >= year.max() - 1
        self.series_ = (titles["kind"] == "series").to_numpy()
        self.user_genre_ = np.zeros((0, len(schema.GENRES)), dtype=np.float32)
        self.last_series_ = np.full(0, -1, dtype=np.int64)
        self.last_series_day_ = np.zeros(0, dtype=np.int64)
        self._candidate_cache: dict[int, np.ndarray] = {}
        self._ready = True

    def _grow(self, n_users: int) -> None:
        extra = n_users - len(self.last_series_)
        if extra > 0:
            self.user_genre_ = np.vstack(
                [self.user_genre_, np.zeros((extra, self.genres_.shape[1]), np.float32)]
            )
            self.last_series_ = np.concatenate([self.last_series_, np.full(extra, -1)])
            self.last_series_day_ = np.concatenate([self.last_series_day_, np.zeros(extra, int)])

    def _candidates(self, k: int) -> np.ndarray:
        """(len(ROW_NAMES), k) title ids per row type, best first (row 0 filled per member).

        Depends only on the play counts, which change in `update`: cached per ``k`` until then.
        """
        if k not in self._candidate_cache:
            self._candidate_cache[k] = self._rank_candidates(k)
        return self._candidate_cache[k]

    def _rank_candidates(self, k: int) -> np.ndarray:
        order = np.argsort(-self.plays_, kind="stable")
        rows = [order[:k], order[:k], np.argsort(-self.trend_, kind="stable")[:k]]
        for mask in (self.new_, *(self.genres_.T > 0)):
            chosen = order[mask[order]][:k]
            top = order[: 2 * k]
            fill = top[~np.isin(top, chosen)][: k - len(chosen)]
            rows.append(np.concatenate([chosen, fill]))
        return np.stack(rows)

    def _row_layout(self, request: PageRequest, n_rows: int) -> np.ndarray:
        users = request.user_id
        self._grow(int(users.max(initial=-1)) + 1)
        prior = np.log1p(self.genres_.sum(0) / len(self.genres_))
        score = (
            np.log1p(self.user_genre_[users])
            + prior
            + 0.5 * request.rng.gumbel(size=(len(users), self.genres_.shape[1]))
        )
        genre_rows = len(FIXED_ROWS) + np.argsort(-score, axis=1)
        base = np.concatenate([np.tile(np.arange(len(FIXED_ROWS)), (len(users), 1)), genre_rows], 1)
        last = self.last_series_[users]
        has_continue = (last >= 0) & (
            request.day - self.last_series_day_[users] <= self.continue_days
        )
        return np.where(has_continue[:, None], base[:, :n_rows], base[:, 1 : n_rows + 1])

    def serve(self, request: PageRequest) -> Page:
        if not self._ready:
            self._setup(request)
        self.day_ = request.day
        n_rows = min(request.n_rows, len(ROW_NAMES) - 1)
        n_cols = min(request.n_cols, len(request.titles))
        k = min(len(request.titles), n_cols + max(2, n_cols // 2))
        layout = self._row_layout(request, n_rows)
        # exploration: a few shuffled variants of each row's ranking, one drawn per tile row
        cand = self._candidates(k)  # (row types, k)
        keys = np.log1p(np.arange(k)) + self.exploration * request.rng.gumbel(
            size=(len(cand), self.n_variants, k)
        )
        order = np.argsort(keys, axis=2)[:, :, :n_cols]
        variants = np.take_along_axis(cand[:, None, :], order, axis=2)
        pick = request.rng.integers(self.n_variants, size=layout.shape)
        title = variants[layout, pick].astype(np.int32)  # (n, R, C)
        series = self.last_series_[request.user_id]
        title[:, :, 0] = np.where(layout == 0, series[:, None], title[:, :, 0])
        artwork, pscore = self.choose_artwork(title, request)
        return Page(title, artwork, pscore, layout.astype(np.int16), ROW_NAMES)

    def update(self, day_events: pd.DataFrame) -> None:
        if not self._ready or day_events.empty:
            return
        self._candidate_cache.clear()
        plays = day_events[day_events["event_type"].cat.codes.to_numpy() == PLAY_START]
        title = plays["title_id"].to_numpy()
        user = plays["user_id"].to_numpy()
        counts = np.bincount(title, minlength=len(self.plays_))
        self.plays_ += counts
        self.trend_ = self.trend_ * 0.5 ** (1.0 / self.trending_half_life_days) + counts
        if len(user) == 0:
            return
        self._grow(int(user.max()) + 1)
        np.add.at(self.user_genre_, user, self.genres_[title])
        series = self.series_[title]
        self.last_series_[user[series]] = title[series]
        self.last_series_day_[user[series]] = self.day_
