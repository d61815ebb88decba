"""Position bias: how the chance of a click or play falls with the tile's place on the page.

Rates are per impression, with the funnel's attribution and cumulative stages
(`persona_lib.signals.funnel`): a tile *clicked* was clicked or played from, a tile *played*
was played from that impression. Plays from search have no position and are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.signals.engagement import ratio
from persona_lib.signals.funnel import reached_stages, tile_outcomes

OUTCOMES = {"hover": "hovers", "click": "clicks", "play": "plays"}
AXES = ("col_position", "row_position")


def _outcome_column(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
    return OUTCOMES[outcome]


def _rates(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Impressions, outcome count, rate and its binomial standard error per group."""
    out = frame.groupby(keys, observed=True).agg(
        impressions=(column, "size"), **{column: (column, "sum")}
    )
    out["rate"] = ratio(out[column], out["impressions"])
    out["rate_se"] = np.sqrt(out["rate"] * (1 - out["rate"]) / out["impressions"])
    return out.reset_index()


def position_bias_curve(
    events: pd.DataFrame, axis: str = "col_position", outcome: str = "play"
) -> pd.DataFrame:
    """Outcome rate per impression by position along one axis, and relative to position 0.

    ``rate = outcomes / impressions`` at the position; ``rate_se = sqrt(rate (1 - rate) / n)``;
    ``relative_rate = rate / rate at position 0`` (NaN when position 0 has no outcome or
    impression).

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    axis : {"col_position", "row_position"}
        The position to group by.
    outcome : {"hover", "click", "play"}
        The funnel stage counted.

    Returns
    -------
    DataFrame
        ``axis`` column, ``impressions``, the outcome count (``hovers``, ``clicks`` or
        ``plays``), ``rate``, ``rate_se``, ``relative_rate``; sorted by position.

    Examples
    --------
    >>> position_bias_curve(events, axis="row_position", outcome="click")  # doctest: +SKIP
    """
    if axis not in AXES:
        raise ValueError(f"axis must be one of {list(AXES)}, got {axis!r}")
    column = _outcome_column(outcome)
    tiles = tile_outcomes(events)
    frame = pd.DataFrame({axis: tiles[axis], column: reached_stages(tiles)[column]})
    out = _rates(frame, [axis], column)
    base = out.loc[out[axis] == 0, "rate"]
    out["relative_rate"] = ratio(out["rate"], np.full(len(out), base.iloc[0] if len(base) else 0))
    return out


def position_heatmap(
    events: pd.DataFrame, outcome: str = "play", max_rows: int = 10, max_cols: int = 10
) -> pd.DataFrame:
    """Outcome rate per impression on the page grid, capped to the first rows and columns.

    ``rate = outcomes / impressions`` in the cell; ``relative_rate = rate / rate at (0, 0)``.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    outcome : {"hover", "click", "play"}
        The funnel stage counted.
    max_rows, max_cols : int
        Keep cells with ``row_position < max_rows`` and ``col_position < max_cols``.

    Returns
    -------
    DataFrame
        Long form: ``row_position``, ``col_position``, ``impressions``, the outcome count,
        ``rate``, ``rate_se``, ``relative_rate``; one row per observed cell.
    """
    column = _outcome_column(outcome)
    tiles = tile_outcomes(events)
    keep = (tiles["row_position"] < max_rows) & (tiles["col_position"] < max_cols)
    frame = pd.DataFrame(
        {
            "row_position": tiles["row_position"],
            "col_position": tiles["col_position"],
            column: reached_stages(tiles)[column],
        }
    )[keep.to_numpy()]
    out = _rates(frame, ["row_position", "col_position"], column)
    corner = out.loc[(out["row_position"] == 0) & (out["col_position"] == 0), "rate"]
    base = corner.iloc[0] if len(corner) else 0
    out["relative_rate"] = ratio(out["rate"], np.full(len(out), base))
    return out
