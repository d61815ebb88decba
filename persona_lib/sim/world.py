"""A simulated world: the logged tables, the ground truth kept apart, and their Parquet cache.

``save_world`` writes every table and every truth table as Parquet (atomically) plus a
``manifest.json`` (config, persona version, row counts and ``code``: the SHA-256 of the simulator
source that made the world, see `code_version`; no timestamps or machine paths), so the same
config, seed and code give byte-identical files. ``load_world`` reads Parquet only (never
pickles). ``load_or_simulate`` reuses a cached world only when its format, config and code hash
all match the running code; otherwise it simulates and saves the world again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.io import write_json, write_parquet
from persona_lib.sim import code_version
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.population import artwork_score, fit_score, tile_probabilities

LOG_TABLES = ("titles", "artworks", "users", "events", "billing", "notifications")
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def persona_version() -> str:
    try:
        from importlib.metadata import version

        return version("persona")
    except Exception:  # noqa: BLE001 - not installed (e.g. run from a source tree)
        return "0+unknown"


@dataclass
class Truth:
    """The simulator's ground truth; no model may read it, evaluation compares against it.

    ``tables`` holds: ``users`` (latent tastes ``taste_<Genre>``, ``attr_<attribute>``,
    engagement, ``best_send_hour``, ``notification_uplift``, ...), ``titles`` (quality,
    popularity), ``artworks`` (appeal, clickbait strength ``bait``), ``impressions`` (per
    impression event: ``pscore``,
    ``p_examine`` and the unconditional ``p_hover``/``p_click``/``p_play``, so mean(p_click) over
    any grouping estimates clicks per impression), ``churn_hazard`` (per renewal: voluntary
    hazard, payment-failure probability), ``notifications`` (``p_open`` per push).
    """

    config: SimulationConfig
    tables: dict[str, pd.DataFrame]
    titles: pd.DataFrame = field(repr=False)
    artworks: pd.DataFrame = field(repr=False)
    users: pd.DataFrame = field(repr=False)

    @cached_property
    def latent(self) -> SimpleNamespace:
        """Arrays indexed by id that the behaviour model reads."""
        u, t, a = self.tables["users"], self.tables["titles"], self.tables["artworks"]
        genres = np.zeros((len(self.titles), len(schema.GENRES)), dtype=np.float32)
        for i, names in enumerate(self.titles["genres"].str.split("|")):
            genres[i, [schema.GENRES.index(g) for g in names]] = 1.0
        return SimpleNamespace(
            genre_taste=u[[f"taste_{g}" for g in schema.GENRES]].to_numpy(np.float32),
            attr_taste=u[[f"attr_{x}" for x in schema.ARTWORK_ATTRIBUTES]].to_numpy(np.float32),
            title_genres=genres / genres.sum(1, keepdims=True),
            title_quality=t["quality"].to_numpy(np.float64),
            title_popularity=t["popularity"].to_numpy(np.float64),
            art_attrs=self.artworks[list(schema.ARTWORK_ATTRIBUTES)].to_numpy(np.float32),
            art_appeal=a["appeal"].to_numpy(np.float64),
            art_bait=a["bait"].to_numpy(np.float64) if "bait" in a else np.zeros(len(a)),
            user_language=self.users["language"].cat.codes.to_numpy(),
            title_language=self.titles["language"].cat.codes.to_numpy(),
        )

    def click_prob(
        self, user_ids, title_ids, artwork_ids, device="tv", seen=None, resume=None
    ) -> np.ndarray:
        """True probability that an examined tile is clicked (vectorized over equal-length ids).

        ``device`` is a name from ``schema.DEVICES`` or an array of names or codes; ``seen``
        marks titles the member has already completed, ``resume`` series the member is part way
        through.
        """
        u, t, a = (np.asarray(x, dtype=np.int64) for x in (user_ids, title_ids, artwork_ids))
        dev = np.asarray(device)
        if dev.dtype.kind not in "iu":
            dev = pd.Categorical(np.atleast_1d(dev), categories=list(schema.DEVICES)).codes
            if np.any(dev < 0):
                raise ValueError(f"device must be one of {schema.DEVICES}")
        seen_arr = None if seen is None else np.asarray(seen, dtype=float)
        resume_arr = None if resume is None else np.asarray(resume, dtype=float)
        return tile_probabilities(self.latent, self.config, u, t, a, dev, seen_arr, resume_arr)[0]

    def fit(self, user_ids, title_ids) -> np.ndarray:
        """True fit of titles to members (drives play-after-click and watch fraction)."""
        return fit_score(self.latent, np.asarray(user_ids), np.asarray(title_ids))

    def best_artwork(self, user_ids, title_ids) -> np.ndarray:
        """The artwork with the highest true appeal to each member among the title's artworks."""
        users, titles = np.asarray(user_ids, np.int64), np.asarray(title_ids, np.int64)
        count = np.bincount(self.artworks["title_id"].to_numpy(), minlength=len(self.titles))
        offset = np.concatenate([[0], np.cumsum(count)[:-1]])
        k = np.arange(count.max())
        cand = offset[titles][:, None] + np.minimum(k, count[titles][:, None] - 1)
        score = artwork_score(self.latent, np.repeat(users, k.size), cand.ravel())
        return cand[np.arange(users.size), score.reshape(cand.shape).argmax(1)].astype(np.int32)

    @property
    def best_send_hour(self) -> np.ndarray:
        return self.tables["users"]["best_send_hour"].to_numpy()

    @property
    def notification_uplift(self) -> np.ndarray:
        return self.tables["users"]["notification_uplift"].to_numpy()

    @property
    def genre_taste(self) -> np.ndarray:
        return self.latent.genre_taste

    @property
    def attr_taste(self) -> np.ndarray:
        return self.latent.attr_taste

    @property
    def title_quality(self) -> np.ndarray:
        return self.latent.title_quality


def _running_code() -> dict[str, Any]:
    return code_version.code_manifest()


@dataclass
class World:
    """Logged tables (schema dtypes), logged propensities and the separate `Truth`.

    ``code`` says which code made the world (`code_version.code_manifest`): the running code
    for a world simulated in this process, the manifest's record for a loaded one (``{}`` when
    the manifest predates the record).
    """

    config: SimulationConfig
    titles: pd.DataFrame
    artworks: pd.DataFrame
    users: pd.DataFrame
    events: pd.DataFrame
    billing: pd.DataFrame
    notifications: pd.DataFrame
    propensities: pd.DataFrame  # event_id, pscore of every impression (the policy's log)
    truth: Truth
    code: dict[str, Any] = field(default_factory=_running_code, repr=False, compare=False)
    has_truth: ClassVar[bool] = True  # logs (`persona_lib.data.Logs`) say False

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in LOG_TABLES}

    def require(self, *tables: str, who: str = "this analysis") -> World:
        """A simulated world holds every log table: self (the counterpart of `Logs.require`)."""
        return self


def save_world(world: World, directory: str | os.PathLike) -> Path:
    """Write every table, the propensities and every truth table as Parquet, then the manifest.

    The manifest records ``world.code``, the code that made the world.
    """
    root = Path(directory)
    counts = {}
    for name, frame in {**world.tables, "propensities": world.propensities}.items():
        write_parquet(frame, root / f"{name}.parquet")
        counts[name] = len(frame)
    truth_counts = {}
    for name, frame in world.truth.tables.items():
        write_parquet(frame, root / "truth" / f"{name}.parquet")
        truth_counts[name] = len(frame)
    write_json(
        {
            "format": FORMAT_VERSION,
            "config": world.config.to_dict(),
            "code": world.code,
            "persona_version": persona_version(),
            "rows": counts,
            "truth_rows": truth_counts,
        },
        root / MANIFEST,
    )
    return root


def load_world(directory: str | os.PathLike) -> World:
    """Read a world written by `save_world` (Parquet and JSON only)."""
    root = Path(directory)
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    config = SimulationConfig.from_dict(manifest["config"])
    logs = {n: pd.read_parquet(root / f"{n}.parquet") for n in (*LOG_TABLES, "propensities")}
    truth_tables = {
        n: pd.read_parquet(root / "truth" / f"{n}.parquet") for n in manifest["truth_rows"]
    }
    truth = Truth(config, truth_tables, logs["titles"], logs["artworks"], logs["users"])
    return World(config=config, truth=truth, code=manifest.get("code", {}), **logs)
