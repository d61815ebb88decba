"""The personalized homepage as a serving policy of the simulator.

`PersonalizedPagePolicy` keeps the logged events it is given, refits its recommender on them
every ``refit_every_days`` days and serves pages built by `persona_lib.models.homepage.page`
(through a `HomepageScorer`). Until the first refit it serves the popularity page (every member
scored by the titles' play counts). Artwork is drawn uniformly at random, like the default policy,
so artwork effects do not confound a comparison of row layouts.

Row ids in the served `Page` are ``continue``, ``top_picks``, ``because``, ``genre:<Genre>``,
``trending``, ``new`` and ``more``: the anchor of a "because you watched" row is left out of
the logged name because the simulator codes row names in an int8 (at most 127 distinct
names), whereas ``Homepage.row_names`` (``because:<title_id>``) keeps it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.policies import Page, PageRequest, UniformArtworkMixin
from persona_lib.models.homepage.history import MemberHistory, genre_matrix, new_releases
from persona_lib.models.homepage.page import ROW_KINDS, PageCatalog
from persona_lib.models.homepage.scorer import HomepageScorer, title_neighbours, title_similarity

ROW_NAMES = ("continue", "top_picks", "because", *(f"genre:{g}" for g in schema.GENRES),
             "trending", "new", "more")  # fmt: skip
KEPT_EVENTS = ("play_start", "play_stop", "rewatch", "scroll_past")  # what refits read
_GENRE = ROW_KINDS.index("genre")
_ROW_CODE = np.array([ROW_NAMES.index(k if k != "genre" else f"genre:{schema.GENRES[0]}")
                      for k in ROW_KINDS])  # fmt: skip


class PersonalizedPagePolicy(UniformArtworkMixin):
    """Serve personalized homepages from a recommender refitted on the logs.

    Parameters
    ----------
    recommender_factory : callable returning an unfitted `Recommender` (e.g.
        ``lambda: ALSRecommender(factors=32)``).
    refit_every_days : days between refits (the first after this many days of logs).
    diversity, priors, pool_size : page options of `persona_lib.models.homepage.page.build_pages`.
    n_neighbours : neighbours per title for "because you watched" rows.
    trending_half_life_days : half-life of the decayed play counts behind "trending".
    popularity_weight : blend of log popularity into the model's scores (`HomepageScorer`).
    random_state : kept for the scikit-learn convention; artwork draws use the request's rng.

    Attributes
    ----------
    model_ : the last fitted recommender (None before the first refit).
    history_ : `MemberHistory` of the logs so far; scorer_ : the current `HomepageScorer`.
    n_refits_ : number of refits so far.
    """

    def __init__(self, recommender_factory, refit_every_days: int = 7, diversity: float = 0.3,
                 priors: dict | None = None, pool_size: int = 300, n_neighbours: int = 50,
                 trending_half_life_days: float = 3.0, popularity_weight: float = 0.0,
                 random_state: int = 0):  # fmt: skip
        self.recommender_factory = recommender_factory
        self.refit_every_days = refit_every_days
        self.diversity = diversity
        self.priors = priors
        self.pool_size = pool_size
        self.n_neighbours = n_neighbours
        self.trending_half_life_days = trending_half_life_days
        self.popularity_weight = popularity_weight
        self.random_state = random_state

    def _setup(self, titles: pd.DataFrame) -> None:
        if self.refit_every_days < 1:
            raise ValueError(f"refit_every_days must be >= 1, got {self.refit_every_days}")
        self.titles_ = titles
        n = len(titles)
        self.history_ = MemberHistory(titles)
        self.model_ = None
        self.n_refits_ = 0
        self.n_days_ = 0
        self._logs: list[pd.DataFrame] = []
        self._n_logged = 0
        self.trend_ = np.zeros(n)
        self._catalog = PageCatalog(genre_matrix(titles), schema.GENRES, np.full((n, 1), -1),
                                    self.trend_, new_releases(titles))  # fmt: skip
        self._rebuild_scorer()

    def _rebuild_scorer(self) -> None:
        self._catalog = dataclasses.replace(self._catalog, trending=self.trend_.copy())
        self.scorer_ = HomepageScorer(self._catalog, self.history_, self.model_,
                                      self.diversity, self.priors, self.pool_size,
                                      self.popularity_weight)  # fmt: skip

    def serve(self, request: PageRequest) -> Page:
        if not hasattr(self, "titles_"):
            self._setup(request.titles)
        n_titles = len(self.titles_)
        n_cols = min(request.n_cols, n_titles)
        n_rows = max(1, min(request.n_rows, n_titles // n_cols))
        home = self.scorer_.pages(request.user_id, n_rows, n_cols)
        codes = _ROW_CODE[home.row_kind] + np.where(home.row_kind == _GENRE, home.row_key, 0)
        title = home.title_id.astype(np.int32)
        artwork, pscore = self.choose_artwork(title, request)
        return Page(title, artwork, pscore, codes.astype(np.int16), ROW_NAMES)

    def update(self, day_events: pd.DataFrame) -> None:
        if not hasattr(self, "titles_"):
            return
        self.n_days_ += 1
        kept = day_events[day_events["event_type"].astype(str).isin(KEPT_EVENTS)]
        kept = kept.assign(event_id=np.arange(self._n_logged, self._n_logged + len(kept)),
                           row_id=kept["row_id"].astype(str))  # fmt: skip
        self._n_logged += len(kept)
        self._logs.append(kept)
        self.history_.update(kept)
        plays = kept[kept["event_type"].astype(str) == "play_start"]
        counts = np.bincount(plays["title_id"].to_numpy(), minlength=len(self.trend_))
        self.trend_ = self.trend_ * 0.5 ** (1.0 / self.trending_half_life_days) + counts
        if self.n_days_ % self.refit_every_days == 0:
            self._refit()
        self._rebuild_scorer()

    def _refit(self) -> None:
        events = pd.concat(self._logs, ignore_index=True)
        if events.empty:
            return
        self._logs = [events]
        model = self.recommender_factory()
        self.model_ = model.fit(events, n_users=self.history_.n_users,
                                n_titles=len(self.titles_), titles=self.titles_)  # fmt: skip
        neighbours = title_neighbours(title_similarity(model), self.n_neighbours)
        self._catalog = dataclasses.replace(self._catalog, neighbours=neighbours)
        self.n_refits_ += 1
