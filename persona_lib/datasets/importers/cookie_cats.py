"""The Cookie Cats A/B test as a folder of logs: members, their assignment and their outcomes.

See `import_cookie_cats` for the mapping and what is assumed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.data.published import PublishedFigure
from persona_lib.datasets.cookie_cats import COOKIE_CATS_FILE, load_cookie_cats
from persona_lib.datasets.importers.publish import (
    DEFAULT_COUNTRY,
    DEFAULT_LANGUAGE,
    FREE_PLAN,
    ImportResult,
    check_target,
    publish_tables,
    source_file,
)

__all__ = [
    "COOKIE_CATS_ASSIGNED",
    "EXPERIMENT",
    "PUBLISHED_ARMS",
    "cookie_cats_published",
    "cookie_cats_tables",
    "import_cookie_cats",
]

EXPERIMENT = "cookie_cats_gate"
COOKIE_CATS_ASSIGNED = "2018-01-01"  # the file has no dates: an assumed install day for all
_DEVICE = "mobile"  # Cookie Cats is a mobile game
_OUTCOMES = ("retention_1", "retention_7", "sum_gamerounds")
NOTEBOOK = "05_experiments"  # the notebook whose metrics hold the published figures' values
PUBLISHED_ARMS = {"gate_30": 44_700, "gate_40": 45_489}  # players per version of the full file
_REFERENCE = (
    "shared/data/README.md, reference figures for Cookie Cats (published or widely reproduced "
    "analyses of the full file)"
)
# (metric key of 05_experiments, label, value, printed decimals, unit): 05 takes gate_30 as the
# control (the first variant alphabetically) and records an outcome column's figures under
# generic keys (persona_lib.experiments.readout.outcome_figures) and members per variant
_FIGURES = (
    ("retention_7_control_pct", "7-day retention, gate_30 (control)", 19.02, 2, "%"),
    ("retention_7_arm_pct", "7-day retention, gate_40", 18.20, 2, "%"),
    ("members_gate_30", "players in gate_30", 44_700, 0, "count"),
    ("members_gate_40", "players in gate_40", 45_489, 0, "count"),
    ("retention_7_diff_pp", "7-day retention, gate_40 minus gate_30", -0.82, 2, "pp"),
    ("retention_7_ci_low_pp", "its 95 % interval, lower end", -1.33, 2, "pp"),
    ("retention_7_ci_high_pp", "its 95 % interval, upper end", -0.31, 2, "pp"),
    ("retention_7_p_value", "its two-sided p-value", 0.0016, 4, "p"),
    ("srm_chi2", "sample-ratio check against 50/50, chi-square", 6.90, 2, ""),
    ("srm_p_value", "sample-ratio check, p-value", 0.0086, 4, "p"),
)  # fmt: skip


def cookie_cats_tables(
    players: pd.DataFrame, assigned: str = COOKIE_CATS_ASSIGNED
) -> dict[str, pd.DataFrame]:
    """persona's ``users``, ``assignments`` and ``outcomes`` of the loaded players
    (`load_cookie_cats`'s frame).

    The mapping is `import_cookie_cats`'s; this is its in-memory half (no file is read or
    written).

    Examples
    --------
    >>> tables = cookie_cats_tables(load_cookie_cats("../shared/data/cookie_cats/cookie_cats.csv"))
    ... # doctest: +SKIP
    >>> tables["assignments"]["variant"].value_counts().to_dict()  # doctest: +SKIP
    {'gate_40': 45489, 'gate_30': 44700}
    """
    order = np.argsort(players["userid"].to_numpy(), kind="stable")
    players = players.iloc[order].reset_index(drop=True)
    n = len(players)
    user = np.arange(n, dtype=np.int32)
    ts = np.full(n, pd.Timestamp(assigned).to_datetime64(), dtype="datetime64[ms]")
    users = pd.DataFrame(
        {
            "user_id": user,
            "signup_ts": ts,
            "country": DEFAULT_COUNTRY,
            "language": DEFAULT_LANGUAGE,
            "plan": FREE_PLAN,
            "price": np.zeros(n, np.float32),
            "preferred_device": _DEVICE,
            "userid": players["userid"].to_numpy(),
        }
    )
    assignments = pd.DataFrame(
        {
            "user_id": user,
            "experiment": EXPERIMENT,
            "variant": players["version"].astype(str).to_numpy(),
            "assigned_ts": ts,
        }
    )
    outcomes = pd.concat([pd.DataFrame({"user_id": user}), players[list(_OUTCOMES)]], axis=1)
    return {"users": users, "assignments": assignments, "outcomes": outcomes}


def cookie_cats_published(players: pd.DataFrame) -> list[PublishedFigure]:
    """The figures published from the full Cookie Cats file, for notebook 05 to reproduce.

    They describe the whole experiment (`PUBLISHED_ARMS` players per version), so a file
    with other counts (a sample, an edited copy) gets none: ``[]``. Each figure's ``key`` is
    the 05_experiments metric holding the comparable value, ``decimals`` its printed
    precision in ../shared/data/README.md.

    Examples
    --------
    >>> cookie_cats_published(load_cookie_cats("cookie_cats.csv"))[0].value  # doctest: +SKIP
    19.02
    """
    counts = players["version"].astype(str).value_counts().to_dict()
    if counts != PUBLISHED_ARMS:
        return []
    return [
        PublishedFigure(NOTEBOOK, key, label, float(value), decimals, unit, _REFERENCE)
        for key, label, value, decimals, unit in _FIGURES
    ]


def import_cookie_cats(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    assigned: str = COOKIE_CATS_ASSIGNED,
    format: str = "parquet",  # noqa: A002 - the word users type (`persona import --format`)
    force: bool = False,
) -> ImportResult:
    """Import the Cookie Cats A/B test: players, their gate variant and their outcomes.

    Each player (read by `persona_lib.datasets.load_cookie_cats`) becomes a member, with
    ``user_id`` 0 .. n - 1 in ascending order of the game's ``userid`` (kept on ``users`` as
    the extra column ``userid``). Mapping:

    - ``assignments``: one row per player, ``experiment`` `EXPERIMENT` ("cookie_cats_gate"),
      ``variant`` the file's ``version`` (``gate_30``: the first gate at level 30, the
      control; ``gate_40``), ``assigned_ts`` = `assigned`. The file has no dates: every player
      is assumed assigned at install, and every install on that one day (default
      `COOKIE_CATS_ASSIGNED`, 2018-01-01 00:00 UTC). Timing analyses (peeking, daily
      sequential tests) therefore have nothing to read.
    - ``outcomes``: ``retention_1`` and ``retention_7`` (bool: the player came back 1 and 7
      days after installing) and ``sum_gamerounds`` (rounds played in the first 14 days), as
      in the file.
    - ``users``: ``signup_ts`` = the install day above; the game is free, so ``plan`` is
      `FREE_PLAN` at ``price`` 0 (no billing); ``preferred_device`` mobile; ``country`` US and
      ``language`` en assumed (not recorded).
    - No events, titles or billing: an analysis of the assignments against these outcomes
      can run (sample-ratio check, retention by variant); anything that reads viewing or
      billing cannot.
    - ``published.json``: for the full file (44,700 gate_30 and 45,489 gate_40 players), the
      figures published from it (`cookie_cats_published`: 7-day retention per version, their
      difference with its interval and p-value, the sample-ratio check), which notebook 05
      shows beside its own (``persona run --data``).

    Parameters
    ----------
    src : str or os.PathLike
        The CSV, or the folder holding ``cookie_cats.csv``; only read.
    out : str or os.PathLike
        The folder of logs to write (new or empty; replaced as a whole with `force`).
    assigned : str
        The assumed install (and assignment) time of every player, UTC.
    format : {"parquet", "csv"}
    force : bool
        Replace an `out` folder that holds files.

    Returns
    -------
    ImportResult
        The file's 90,189 players in users, assignments and outcomes.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A malformed file (file, column and lines named) or an unknown `format`.
    FileExistsError
        `out` holds files and `force` is False.

    Examples
    --------
    >>> import_cookie_cats("../shared/data/cookie_cats", "cats_logs").rows  # doctest: +SKIP
    {'users': 90189, 'assignments': 90189, 'outcomes': 90189}
    """
    check_target(Path(out), force)
    path = source_file(src, COOKIE_CATS_FILE)
    players = load_cookie_cats(path)
    tables = cookie_cats_tables(players, assigned)
    return publish_tables(
        tables,
        out,
        source="cookie-cats",
        files={path.name: path},
        parameters={"assigned": str(pd.Timestamp(assigned))},
        file_format=format,
        force=force,
        published=cookie_cats_published(players),
    )
