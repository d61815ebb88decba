"""Published figures that travel with an imported public data set: ``published.json``.

A public data set comes with figures others published from it (Cookie Cats' 7-day retention
per arm, the Open Bandit Dataset's on-policy CTRs, ...). An importer writes them beside the
tables, so that a report on the folder can put each one beside the figure persona computed
from the same data. ``published.json`` (skipped by the folder reader) holds::

    {"source": "cookie-cats", "figures": [
        {"notebook": "05_experiments", "key": "<the notebook's metric key>",
         "label": "7-day retention, gate_30", "value": 19.02, "decimals": 2, "unit": "%",
         "reference": "where the figure was published"}, ...]}

``decimals`` is the printed precision of the published value: persona's figure *agrees* with it
when it rounds to it, ``|ours - published| <= 0.5 * 10**-decimals`` (plus float64 rounding).
The file is JSON only: nothing in it is executed or unpickled.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from persona_lib.data.io import write_json

__all__ = ["PUBLISHED_FILE", "PublishedFigure", "read_published", "write_published"]

PUBLISHED_FILE = "published.json"


@dataclass(frozen=True)
class PublishedFigure:
    """One published figure and the notebook metric it is compared with.

    Attributes
    ----------
    notebook : str
        The notebook whose metrics hold the comparable figure (``"05_experiments"``).
    key : str
        That metric's key, in the same unit and scale as `value`.
    label : str
        What the figure is, in words.
    value : float
        The published value, as printed.
    decimals : int
        Its printed precision (digits after the decimal point).
    unit : str
        A unit of `persona_lib.report.numbers.fmt` (``"%"``, ``"pp"``, ``"p"``, ``""`` ...).
    reference : str
        Where it was published.
    """

    notebook: str
    key: str
    label: str
    value: float
    decimals: int
    unit: str = ""
    reference: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"published figure {self.key!r}: value must be finite")
        if int(self.decimals) != self.decimals or self.decimals < 0:
            raise ValueError(f"published figure {self.key!r}: decimals must be >= 0")

    def agrees(self, ours: float) -> bool:
        """True when `ours` rounds to the published value at its printed precision."""
        half = 0.5 * 10.0**-self.decimals
        return abs(ours - self.value) <= half * (1 + 1e-9) + 1e-12


def write_published(figures, folder: str | os.PathLike, source: str) -> Path:
    """Write `figures` (`PublishedFigure`) as ``<folder>/published.json``; return its path."""
    path = Path(folder) / PUBLISHED_FILE
    write_json({"source": source, "figures": [asdict(f) for f in figures]}, path)
    return path


def read_published(folder: str | os.PathLike | None, notebook: str | None = None):
    """The `PublishedFigure` list of a folder (those of `notebook` if given); [] without one.

    Raises
    ------
    ValueError
        A ``published.json`` that is not the format above (the message names the file).
    """
    if not folder:
        return []
    path = Path(folder) / PUBLISHED_FILE
    if not path.is_file():
        return []
    try:
        figures = [PublishedFigure(**f) for f in json.loads(path.read_text("utf-8"))["figures"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a published-figures file: {error}") from error
    return [f for f in figures if notebook is None or f.notebook == notebook]
