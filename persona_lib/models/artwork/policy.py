"""Artwork personalization as a serving policy of the simulator.

`ArtworkPolicy` keeps the base policy's page (rows and titles, by default those of
`PopularityGenrePolicy`) and replaces each tile's artwork with a `BanditPolicy` choice whose
pscore is logged, so the world's logs stay usable for off-policy evaluation. The bandit learns
once a day: the day's homepage impressions become rounds (the context each tile was served
with: the member's history as of the start of the day, the tile's title, device and session
hour) with reward ``quality_play`` (a play of at least ``min_watch_minutes``) or ``click``.
Optimizing clicks rewards clickbait wherever an artwork lifts clicks more than plays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.policies import Page, PageRequest, PopularityGenrePolicy
from persona_lib.models.artwork.bandits import BanditPolicy
from persona_lib.models.artwork.rounds import (
    REWARDS,
    ArtworkCatalog,
    ArtworkHistory,
    impression_rewards,
)


class ArtworkPolicy:
    """Serve the base policy's page with artwork chosen by a contextual bandit.

    Parameters
    ----------
    bandit : an unbound `BanditPolicy`; its actions are bound to the catalogue's artwork
        attributes on the first request.
    base : serving policy building the rows and titles (default ``PopularityGenrePolicy()``).
    reward : ``"quality_play"`` (default) or ``"click"``.
    min_watch_minutes : watch time that makes a play a quality play.

    Attributes
    ----------
    catalog_ : `ArtworkCatalog`; history_ : `ArtworkHistory` of the logs so far.
    rounds_seen_ : rounds the bandit has learned from.

    Examples
    --------
    >>> world = simulate(config, ArtworkPolicy(LinUCBPolicy(alpha=0.5)))  # doctest: +SKIP
    """

    def __init__(self, bandit: BanditPolicy, base=None, reward: str = "quality_play",
                 min_watch_minutes: float = 10.0):  # fmt: skip
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        self.bandit = bandit
        self.base = PopularityGenrePolicy() if base is None else base
        self.reward = reward
        self.min_watch_minutes = min_watch_minutes
        self.catalog_ = None
        self.rounds_seen_ = 0
        self._served: list[tuple[np.ndarray, np.ndarray]] = []  # (session_id, hour) per request

    def _setup(self, request: PageRequest) -> None:
        self.catalog_ = ArtworkCatalog.from_tables(request.titles, request.artworks)
        self.history_ = ArtworkHistory(self.catalog_)
        self.bandit.bind_actions(self.catalog_.action_features)

    def serve(self, request: PageRequest) -> Page:
        page = self.base.serve(request)
        if self.catalog_ is None:
            self._setup(request)
        self._served.append((np.asarray(request.session_id), np.asarray(request.hour)))
        title = page.title_id.astype(np.int64)
        n, rows, cols = title.shape
        flat = title.ravel()
        tiles = np.flatnonzero(flat >= 0)
        session = np.repeat(np.arange(n), rows * cols)[tiles]
        t = flat[tiles]
        context = self.history_.context(request.user_id[session], t, request.device[session],
                                        request.hour[session])  # fmt: skip
        action, pscore = self.bandit.choose(context, self.catalog_.candidates[t], request.rng)
        artwork = page.artwork_id.ravel().copy()
        prob = page.pscore.ravel().copy()
        artwork[tiles], prob[tiles] = action, pscore
        return Page(page.title_id, artwork.reshape(title.shape).astype(page.artwork_id.dtype),
                    prob.reshape(title.shape).astype(page.pscore.dtype), page.row_id,
                    page.row_names)  # fmt: skip

    def update(self, day_events: pd.DataFrame) -> None:
        self.base.update(day_events)
        if self.catalog_ is None or day_events.empty:
            return
        events = day_events
        if "event_id" not in events.columns:  # the simulator numbers events after the run
            events = events.assign(event_id=np.arange(len(events), dtype=np.int64))
        positions, click, quality = impression_rewards(events, self.min_watch_minutes)
        title = events["title_id"].to_numpy().astype(np.int64)[positions]
        art = events["artwork_id"].to_numpy().astype(np.int64)[positions]
        keep = (art >= 0) & (self.catalog_.n_artworks[title] >= 2)
        positions, title, art = positions[keep], title[keep], art[keep]
        reward = (click if self.reward == "click" else quality)[keep].astype(np.float64)
        context = self.history_.context(
            events["user_id"].to_numpy()[positions],
            title,
            events["device"].cat.codes.to_numpy()[positions],
            self._hours(events["session_id"].to_numpy()[positions]),
        )
        self.bandit.update(context, art, reward)
        self.rounds_seen_ += len(art)
        self.history_.update(events)  # after the rounds: a day's context never sees that day

    def _hours(self, session_id: np.ndarray) -> np.ndarray:
        """Starting hour of each session, as given in the day's requests."""
        ids = np.concatenate([s for s, _ in self._served]) if self._served else np.zeros(0, int)
        hours = np.concatenate([h for _, h in self._served]) if self._served else ids
        self._served = []
        ids, first = np.unique(ids, return_index=True)
        at = np.minimum(np.searchsorted(ids, session_id), max(len(ids) - 1, 0))
        known = (ids[at] == session_id) if len(ids) else np.zeros(len(session_id), bool)
        return np.where(known, hours[first][at] if len(ids) else 0, 0)


def personalized_service(random_state: int = 0, factors: int = 32, linucb_alpha: float = 0.1,
                         refit_every_days: int = 7) -> ArtworkPolicy:  # fmt: skip
    """A fresh fully personalized homepage: ALS rows (`PersonalizedPagePolicy`) + LinUCB artwork.

    The treatment of the simulated personalization experiment: rows and titles from an ALS
    model refitted every ``refit_every_days`` on the logs (log popularity blended in, as in
    notebook 02), artwork per member chosen by LinUCB learning from quality plays. Each call
    builds new, unfitted objects, so it can serve as a factory for several simulated runs.
    """
    from functools import partial

    from persona_lib.models.artwork.bandits import LinUCBPolicy
    from persona_lib.models.homepage.policy import PersonalizedPagePolicy
    from persona_lib.models.recommenders.factorization import ALSRecommender

    rows = PersonalizedPagePolicy(
        partial(ALSRecommender, factors=factors, random_state=random_state),
        refit_every_days=refit_every_days,
        popularity_weight=1.0,
        random_state=random_state,
    )
    return ArtworkPolicy(LinUCBPolicy(alpha=linucb_alpha, random_state=random_state), base=rows)
