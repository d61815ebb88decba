"""The simulated world's configuration and its presets (``notebooks/presets/<name>.yaml``).

Defaults are calibrated to public figures (see ``persona_lib.sim.simulate``): US prices of
January 2025, a give-up after 60-90 s and 10-20 titles reviewed (Gomez-Uribe & Hunt 2016),
about 20 % of hours streamed from search, monthly churn of 2-4 % (Antenna estimates).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import persona_lib

PRESETS_ENV = "PERSONA_PRESETS_DIR"


@dataclass(frozen=True)
class SimulationConfig:
    """Size, calendar and behavioural knobs of the simulated streaming service.

    Examples
    --------
    >>> SimulationConfig(n_users=100, n_titles=50, n_days=7).n_days
    7
    """

    n_users: int = 1_000
    n_titles: int = 300
    n_days: int = 30
    start_date: str = "2025-01-01"
    random_state: int = 0
    # homepage: tens of rows of up to tens of titles; only the reachable part is materialized
    rows_per_page: int = 40
    titles_per_row: int = 40
    session_chunk: int = 16_384
    # members
    sessions_per_day: float = 1.1  # median homepage visits per member-day (lognormal engagement)
    engagement_sigma: float = 0.6
    # viewing: after a finished episode the next one autoplays; logit of staying for it, and the
    # lift of an evening sitting (see `persona_lib.sim.day.episodes_after`)
    binge_intercept: float = 0.75
    evening_binge: float = 0.8
    new_signup_share: float = 0.10  # members who sign up during the window
    max_tenure_years: float = 6.0
    # titles
    movie_share: float = 0.65
    zipf_exponent: float = 0.9
    # browsing (Gomez-Uribe & Hunt 2016: give up after 60-90 s, 10-20 titles reviewed)
    patience_s: float = 75.0
    review_min: int = 10
    review_max: int = 20
    dwell_s: float = 2.2  # median dwell on an examined tile
    click_intercept: float = -3.8
    artwork_weight: float = 1.0
    # "clickbait" artworks (a fifth of them) lift clicks by this much on the logit scale and lower
    # the play after a click by 2.5 times as much: the member opens the title, finds it is not
    # what the image promised and goes back. 0 (the default) keeps the artwork off plays.
    clickbait_weight: float = 0.0
    # search (about 20 % of hours streamed start from search)
    search_first_rate: float = 0.12
    search_after_abandon_rate: float = 0.22
    # subscriptions (monthly churn 2-4 %, about a third involuntary)
    churn_intercept: float = -3.5  # logit of the voluntary hazard at renewal for a typical member
    satisfaction_weight: float = 0.8
    payment_failure_rate: float = 0.009
    reactivation_rate: float = 0.002  # daily probability that a lapsed member comes back
    plan_change_rate: float = 0.01
    # notifications
    notification_share: float = 0.3  # share of inactive members sent a push each day
    inactive_days: int = 3

    def __post_init__(self) -> None:
        positive = ("n_users", "n_titles", "n_days", "rows_per_page", "titles_per_row",
                    "session_chunk", "sessions_per_day", "patience_s", "dwell_s",
                    "review_min", "max_tenure_years", "inactive_days")  # fmt: skip
        for name in ("artwork_weight", "clickbait_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"SimulationConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"SimulationConfig.{name} must be > 0, got {getattr(self, name)}")
        shares = ("new_signup_share", "movie_share", "search_first_rate",
                  "search_after_abandon_rate", "payment_failure_rate", "reactivation_rate",
                  "plan_change_rate", "notification_share")  # fmt: skip
        for name in shares:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"SimulationConfig.{name} must be in [0, 1], got {getattr(self, name)}"
                )
        if self.review_max < self.review_min:
            raise ValueError("SimulationConfig.review_max must be >= review_min")
        if self.rows_per_page > 127 or self.titles_per_row > 127:
            raise ValueError("rows_per_page and titles_per_row must fit in int8 (<= 127)")
        try:
            np.datetime64(self.start_date, "D")
        except ValueError as exc:
            raise ValueError(
                f"SimulationConfig.start_date is not a date: {self.start_date!r}"
            ) from exc

    @property
    def start(self) -> np.datetime64:
        """First day of the window as ``datetime64[D]``."""
        return np.datetime64(self.start_date, "D")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SimulationConfig:
        """Build from a dict; unknown keys raise a ``ValueError`` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SimulationConfig fields: {unknown}")
        return cls(**values)

    def replace(self, **changes: Any) -> SimulationConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def presets_dir() -> Path:
    """The presets folder: ``$PERSONA_PRESETS_DIR`` or ``<repo root>/notebooks/presets``."""
    env = os.environ.get(PRESETS_ENV)
    if env:
        return Path(env)
    return Path(persona_lib.__file__).resolve().parents[1] / "notebooks" / "presets"


def load_preset(name_or_path: str | os.PathLike) -> SimulationConfig:
    """Read a preset's ``simulation:`` mapping into a `SimulationConfig`.

    Parameters
    ----------
    name_or_path : a preset name (``"smoke"``, ``"default"``, ``"large"``) or a YAML file path.

    Examples
    --------
    >>> load_preset("smoke").n_days  # doctest: +SKIP
    30
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = presets_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        folder = path.parent
        available = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        raise FileNotFoundError(
            f"preset {str(name_or_path)!r} not found at {path}; available presets: {available}"
        )
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = document.get("simulation")
    if not isinstance(section, dict):
        raise ValueError(f"preset {path} has no 'simulation:' mapping")
    return SimulationConfig.from_dict(section)
