"""Position bias: how the chance of a click or play falls with the tile's place on the page.

Rates are per impression, with the funnel's attribution and cumulative stages
(`persona_lib.signals.funnel`): a tile *clicked* was clicked or played from, a tile *played*
was played from that impression. Plays from search have no position and are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.signals.attribution import resolve_tiles
from persona_lib.signals.engagement import ratio

OUTCOMES = {"hover": "hovers", "click": "clicks", "play": "plays"}
AXES = ("col_position", "row_position")


def _outcome_column(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
    return OUTCOMES[outcome]


def _reached(tiles: pd.DataFrame, column: str) -> np.ndarray:
    """0/1 per impression: reached the stage (cumulative, as in `reached_stages`)."""
    hit = tiles["played"].to_numpy()
    if column != "plays":
        hit = hit | tiles["clicked"].to_numpy()
    if column == "hovers":
        hit = hit | tiles["hovered"].to_numpy()
    return hit


def _rates(positions: dict[str, np.ndarray], hit: np.ndarray, column: str) -> pd.DataFrame:
    """Impressions, outcome count, rate and its binomial standard error per observed cell."""
    code = np.zeros(len(hit), dtype="int64")
    lows, sizes = [], []
    for values in positions.values():
        values = values.astype("int64")
        low = int(values.min()) if len(values) else 0
        size = int(values.max()) - low + 1 if len(values) else 1
        code = code * size + (values - low)
        lows.append(low)
        sizes.append(size)
    n_cells = int(np.prod(sizes))
    impressions = np.bincount(code, minlength=n_cells)
    outcomes = np.bincount(code, weights=hit, minlength=n_cells).astype("int64")
    cells = np.flatnonzero(impressions)
    digits = np.unravel_index(cells, sizes)
    out = pd.DataFrame(
        {
            name: (d + low).astype(values.dtype)
            for (name, values), d, low in zip(positions.items(), digits, lows, strict=True)
        }  # fmt: skip
    )
    out["impressions"] = impressions[cells]
    out[column] = outcomes[cells]
    out["rate"] = ratio(out[column], out["impressions"])
    out["rate_se"] = np.sqrt(out["rate"] * (1 - out["rate"]) / out["impressions"])
    return out


def position_bias_curve(
    events: pd.DataFrame,
    axis: str = "col_position",
    outcome: str = "play",
    *,
    tiles: pd.DataFrame | None = None,
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
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, to reuse the attribution.

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
    tiles = resolve_tiles(events, tiles)
    out = _rates({axis: tiles[axis].to_numpy()}, _reached(tiles, column), column)
    base = out.loc[out[axis] == 0, "rate"]
    out["relative_rate"] = ratio(out["rate"], np.full(len(out), base.iloc[0] if len(base) else 0))
    return out


def position_heatmap(
    events: pd.DataFrame,
    outcome: str = "play",
    max_rows: int = 10,
    max_cols: int = 10,
    *,
    tiles: pd.DataFrame | None = None,
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
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, to reuse the attribution.

    Returns
    -------
    DataFrame
        Long form: ``row_position``, ``col_position``, ``impressions``, the outcome count,
        ``rate``, ``rate_se``, ``relative_rate``; one row per observed cell.
    """
    column = _outcome_column(outcome)
    tiles = resolve_tiles(events, tiles)
    rows, cols = tiles["row_position"].to_numpy(), tiles["col_position"].to_numpy()
    keep = (rows < max_rows) & (cols < max_cols)
    cells = {"row_position": rows[keep], "col_position": cols[keep]}
    out = _rates(cells, _reached(tiles, column)[keep], column)
    corner = out.loc[(out["row_position"] == 0) & (out["col_position"] == 0), "rate"]
    base = corner.iloc[0] if len(corner) else 0
    out["relative_rate"] = ratio(out["rate"], np.full(len(out), base))
    return out
