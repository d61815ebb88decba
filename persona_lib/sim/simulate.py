"""Simulate a Netflix-like streaming service with known ground truth.

The day loop: billing (signups, reactivations, renewals with churn), randomized notifications,
then sessions: the serving policy builds each session's homepage, members browse, search and play,
and the policy learns from the day's logged events. Everything is vectorized per day with keyed
random numbers (`keyed_random`), so the same world can be replayed under any policy.

Calibration sources (figures the defaults aim at; nothing is tuned to flatter a model):

- Gomez-Uribe & Hunt (2016), "The Netflix Recommender System", ACM TMIS 6(4): a homepage of tens
  of rows of up to tens of titles; "the typical member loses interest after perhaps 60 to 90
  seconds of choosing, having reviewed 10 to 20 titles"; about 80 % of hours streamed come from
  recommendations and 20 % from search.
- Netflix Technology Blog (2017), "Artwork Personalization at Netflix": members respond
  differently to artwork attributes (faces, tone, genre cues).
- Netflix US prices, January 2025: ads $7.99, standard $17.99, premium $24.99 (basic $11.99 for
  legacy members).
- Antenna (third-party panel) estimates of Netflix monthly churn: 2.4 % (2021), 3.3 % (2022);
  involuntary (payment failure) churn is commonly put at a fifth to a third of all churn.
- Viewing time per paid membership: about 90 billion hours in the second half of 2023 over
  roughly 250 million paid memberships (Netflix, "What We Watched" engagement report, and its
  shareholder letters), 50-60 hours a member-month; 42.5 billion hours in 2015 (its letter of
  January 2016) over 57-75 million members, 47-54. A membership is a household: several
  profiles, so more than one sitting on many days. Share of members watching on a given day:
  41 % of subscribers say they use Netflix daily and 38 % weekly (Cut Cable Today survey, 2016),
  about half on a given day; YouGov (2018): 43 % of all US adults watch Netflix on a given day.
  Sittings: "2-6 episodes of the same show in one sitting" is how 73 % of streamers define a
  binge (Harris Interactive for Netflix, 2013); series autoplay the next episode, films are
  mostly finished or left early, evenings run longer. The default world reaches the hours with
  more visits per member (about 1.3 a day) rather than longer sittings, and keeps its log at
  about 15 million events with 5,000 members instead of 20,000
  (`notebooks/presets/default.yaml`).
- Play rate per impression in the low single-digit percent, typical of homepage recommendation
  logs (e.g. the Open Bandit Dataset's click rates of 0.3-0.5 % per displayed item are a lower
  bound for a full-screen video homepage).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.policies import PopularityGenrePolicy, ServingPolicy
from persona_lib.sim.billing import Subscriptions
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.day import EVENT_COLUMNS, IMPRESSION_COLUMNS, simulate_day
from persona_lib.sim.merge import Placement, RunMerger
from persona_lib.sim.population import Population, make_population
from persona_lib.sim.sessions import DayContext
from persona_lib.sim.world import Truth, World

IMPRESSION = schema.EVENT_TYPES.index("impression")


def events_frame(columns: dict[str, np.ndarray], row_names: list[str]) -> pd.DataFrame:
    """Event columns (codes) as a frame with the schema's dtypes (row_id categories sorted)."""
    order = np.argsort(row_names, kind="stable")
    remap = np.empty(len(row_names), dtype=np.int8)
    remap[order] = np.arange(len(row_names))
    cats = {"device": schema.DEVICES, "event_type": schema.EVENT_TYPES}
    data = {}
    for name in EVENT_COLUMNS:
        values = columns[name]
        if name == "ts":
            values = values.view("datetime64[ms]")  # int64 ms since the epoch: no copy
        elif name in cats:  # codes are in range by construction
            values = pd.Categorical.from_codes(values, categories=list(cats[name]), validate=False)
        elif name == "row_id":
            values = pd.Categorical.from_codes(
                remap[values], validate=False, categories=[row_names[i] for i in order]
            )
        data[name] = values
    return pd.DataFrame(data, copy=False)  # no consolidation copy of tens of millions of rows


def _merge_columns(parts: list[dict], keys: list[np.ndarray], dtypes: dict, visit=None) -> dict:
    """Stable-merge per-day columns (each day sorted by ``keys``) into preallocated arrays.

    Each day's arrays are removed from its dict as soon as they are placed, so the peak memory
    is about one copy of the data instead of per-day parts plus concatenation plus sort.
    ``visit(i, positions)``, if given, sees day ``i``'s final positions before its move.
    """
    merger = RunMerger(keys)
    del keys
    out = {name: np.empty(merger.total, dtype=dtype) for name, dtype in dtypes.items()}
    for i, part in enumerate(parts):
        pos = merger.positions(i)
        if visit is not None:
            visit(i, pos)
        place = Placement(pos)
        for name in dtypes:
            place.put(out[name], part.pop(name))
        merger.release(i)
    return out


def _finish_events(days: list, row_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All days' events merged by ``ts`` (stable: day order breaks ties) and their impressions."""
    imp_ts = [d.events["ts"][d.events["event_type"] == IMPRESSION] for d in days]

    def impression_ids(i: int, pos: np.ndarray | slice) -> None:  # event_id of impressions
        if isinstance(pos, slice):
            pos = np.arange(pos.start, pos.stop)
        days[i].impressions["event_id"] = pos[days[i].events["event_type"] == IMPRESSION]

    cols = _merge_columns(
        [d.events for d in days], [d.events["ts"] for d in days], EVENT_COLUMNS, impression_ids
    )
    events = events_frame(cols, row_names)
    del cols
    events.insert(0, "event_id", np.arange(len(events), dtype=np.int32))
    imp_dtypes = {"event_id": np.int32, **{name: np.float32 for name in IMPRESSION_COLUMNS}}
    impressions = _merge_columns([d.impressions for d in days], imp_ts, imp_dtypes)
    return events, pd.DataFrame(impressions, copy=False)


def _truth_tables(pop: Population) -> dict[str, pd.DataFrame]:
    users = pd.DataFrame({"user_id": pop.users["user_id"].to_numpy()})
    for name in (
        "segment",
        "engagement",
        "peak_hour",
        "hour_spread",
        "speed",
        "patience",
        "signup_day",
        "churn_propensity",
        "payment_risk",
        "best_send_hour",
        "notification_uplift",
    ):
        users[name] = getattr(pop, name)
    for j, g in enumerate(schema.GENRES):
        users[f"taste_{g}"] = pop.genre_taste[:, j]
    for j, a in enumerate(schema.ARTWORK_ATTRIBUTES):
        users[f"attr_{a}"] = pop.attr_taste[:, j]
    titles = pd.DataFrame(
        {
            "title_id": pop.titles["title_id"].to_numpy(),
            "quality": pop.title_quality,
            "popularity": pop.title_popularity,
        }
    )
    artworks = pd.DataFrame(
        {
            "artwork_id": pop.artworks["artwork_id"].to_numpy(),
            "appeal": pop.art_appeal,
            "bait": pop.art_bait,
        }
    )
    return {"users": users, "titles": titles, "artworks": artworks}


@dataclass
class DayLoop:
    """The day loop shared by `simulate` (all days in memory) and the event store (day by day).

    ``days()`` bills, notifies, simulates and feeds the policy each day in turn and yields
    ``(day, DayResult)``; afterwards ``subs`` holds the billing and notification tables and
    `truth_tables` the truth besides the impressions.
    """

    config: SimulationConfig
    policy: ServingPolicy
    pop: Population
    ctx: DayContext
    subs: Subscriptions

    @classmethod
    def start(cls, config: SimulationConfig, policy: ServingPolicy | None = None) -> DayLoop:
        policy = (
            PopularityGenrePolicy(random_state=config.random_state) if policy is None else policy
        )
        pop = make_population(config)
        return cls(
            config, policy, pop, DayContext.create(config, pop), Subscriptions.start(config, pop)
        )

    def days(self) -> Iterator[tuple[int, object]]:
        n_sessions = 0
        for day in range(self.config.n_days):
            self.subs.bill(day)
            boost = self.subs.notify(day)
            result = simulate_day(self.ctx, day, self.subs.active, boost, n_sessions, self.policy)
            n_sessions += result.n_sessions
            self.subs.record(result.session_users, result.outcome, day)
            self.policy.update(events_frame(result.events, list(self.ctx.row_names)))
            yield day, result

    def truth_tables(self, sub_tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Population truth plus the renewal hazards and push truth of ``subs.tables()``."""
        return {
            **_truth_tables(self.pop),
            "churn_hazard": sub_tables["churn_hazard"],
            "notifications": sub_tables["notification_truth"],
        }


def simulate(config: SimulationConfig, policy: ServingPolicy | None = None) -> World:
    """Simulate ``config.n_days`` days of the service under a serving policy.

    Parameters
    ----------
    config : the world's size, seed and behavioural knobs.
    policy : any `ServingPolicy`; default `PopularityGenrePolicy` (uniformly random artwork).

    Returns
    -------
    World with the six schema tables, the logged propensities and the separate `Truth`.

    Examples
    --------
    >>> world = simulate(SimulationConfig(n_users=200, n_titles=60, n_days=3))  # doctest: +SKIP
    """
    loop = DayLoop.start(config, policy)
    pop = loop.pop
    days = [result for _, result in loop.days()]
    events, impressions = _finish_events(days, list(loop.ctx.row_names))
    sub_tables = loop.subs.tables()
    truth_tables = loop.truth_tables(sub_tables)
    truth_tables["impressions"] = impressions.drop(columns="pscore")
    truth = Truth(config, truth_tables, pop.titles, pop.artworks, pop.users)
    return World(
        config=config,
        titles=pop.titles,
        artworks=pop.artworks,
        users=pop.users,
        events=events,
        billing=sub_tables["billing"],
        notifications=sub_tables["notifications"],
        propensities=impressions[["event_id", "pscore"]],
        truth=truth,
    )
