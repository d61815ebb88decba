"""Persona's figures beside the figures published from the same public data.

`published_beside` reads the ``published.json`` an importer wrote into a data folder
(`persona_lib.data.published`) and puts each published figure of a notebook beside the value
the notebook computed, with whether the two agree at the published figure's printed precision.
On the simulated world, or on a folder without that file, it shows nothing.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping

import pandas as pd

from persona_lib.data.published import read_published
from persona_lib.report.numbers import fmt
from persona_lib.report.tables import show

__all__ = ["Beside", "published_beside", "published_sentence"]


class Beside:
    """The table and its sentence, displayed as one HTML block (empty when there is nothing)."""

    def __init__(self, table: pd.DataFrame | None, sentence: str):
        self.table, self.sentence = table, sentence

    def _repr_html_(self) -> str:
        if self.table is None:
            return ""
        return show(self.table).to_html() + f"<p>{html.escape(self.sentence)}</p>"

    def __bool__(self) -> bool:
        return self.table is not None


def _ours(metrics: Mapping, key: str) -> float | None:
    value = metrics.get(key)
    return None if value is None or not math.isfinite(float(value)) else float(value)


def published_sentence(rows: pd.DataFrame) -> str:
    """One sentence from `published_beside`'s table: how many figures agree, and which do not."""
    n, agree = len(rows), int(rows["agrees"].sum())
    missing = rows[rows["this run"] == "not available"]["figure"].tolist()
    off = rows[~rows["agrees"] & (rows["this run"] != "not available")]
    text = f"{agree} of {n} published figures are reproduced to their printed precision"
    if len(off):
        text += "; not: " + "; ".join(
            f"{r['figure']} ({r['this run']} against {r['published']})" for _, r in off.iterrows()
        )
    if missing:
        text += "; not computed here: " + ", ".join(missing)
    return text + "."


def published_beside(data: str | os.PathLike | None, notebook: str,
                     metrics: Mapping[str, float]) -> Beside:  # fmt: skip
    """Each published figure of `notebook` beside this run's, for a notebook's last cells.

    Parameters
    ----------
    data : path or None
        The notebook's ``DATA`` (empty or None: nothing to compare).
    notebook : str
        The notebook's name (``"05_experiments"``).
    metrics : mapping
        The figures the notebook recorded.

    Returns
    -------
    Beside
        Falsy and displayed as nothing when there is no published figure for `notebook`.

    Examples
    --------
    >>> bool(published_beside("", "05_experiments", {}))
    False
    """
    figures = read_published(data, notebook)
    if not figures:
        return Beside(None, "")
    rows = []
    for f in figures:
        ours = _ours(metrics, f.key)
        rows.append({
            "figure": f.label,
            "published": fmt(f.value, f.unit, decimals=f.decimals),
            "this run": "not available" if ours is None
            else fmt(ours, f.unit, decimals=f.decimals + 2 if f.decimals else 0),
            "agrees": ours is not None and f.agrees(ours),
            "reference": f.reference,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    return Beside(table, published_sentence(table))
