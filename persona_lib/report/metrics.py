"""Headline figures of a notebook, recorded as one flat JSON file.

Each notebook ends with one call, ``record_metrics("01_data_signals", {...}, OUT_DIR)``, which
writes ``<OUT_DIR>/01_data_signals.metrics.json``. The runner, the index page and the notebook
tests read that file back, so the format is deliberately simple: a flat object whose keys carry
their units (``ndcg_at_10``, ``play_rate_lift_pct``) and whose values are finite JSON scalars.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from persona_lib.data.io import write_json

__all__ = ["metrics_path", "read_metrics", "record_metrics"]

_SUFFIX = ".metrics.json"


def metrics_path(name: str, out_dir: str | os.PathLike = ".") -> Path:
    """Return the path ``<out_dir>/<name>.metrics.json`` after checking `name`.

    Parameters
    ----------
    name : str
        Notebook stem such as ``"01_data_signals"``; no path separators.
    out_dir : str or path-like
        Directory of the file.

    Returns
    -------
    Path

    Examples
    --------
    >>> metrics_path("01_data_signals", "reports").as_posix()
    'reports/01_data_signals.metrics.json'
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"metrics name must be a non-empty string, got {name!r}")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise ValueError(f"metrics name {name!r} must be a file stem, not a path")
    return Path(out_dir) / f"{name}{_SUFFIX}"


def _clean_value(key: str, value: Any) -> str | int | float | bool | None:
    """Return `value` as a plain JSON scalar, or raise naming `key`."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metric {key!r} is {value}; metrics must be finite numbers")
        return float(value)
    kind = type(value).__name__
    raise TypeError(
        f"metric {key!r} is a {kind}; metrics must be flat scalars "
        "(str, int, float, bool or None): record one key per number instead of nesting"
    )


def _clean_metrics(metrics: Any) -> dict[str, str | int | float | bool | None]:
    """Validate a mapping of metrics and return it with plain Python values."""
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
    clean = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"metric key {key!r} must be a non-empty str")
        clean[key] = _clean_value(key, value)
    return clean


def record_metrics(name: str, metrics: dict, out_dir: str | os.PathLike = ".") -> Path:
    """Write a notebook's headline figures to ``<out_dir>/<name>.metrics.json`` atomically.

    Parameters
    ----------
    name : str
        Notebook stem, e.g. ``"01_data_signals"``.
    metrics : dict
        Flat mapping of str keys (with units in the name, e.g. ``play_rate_pct``) to finite
        scalars: str, int, float, bool or None. numpy scalars are converted.
    out_dir : str or path-like, default "."
        Directory to write into; created if missing.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    TypeError
        If a key is not a str or a value is nested (dict, list, array) or of another type.
    ValueError
        If a value is NaN or infinite, or `name` is not a plain file stem.

    Examples
    --------
    >>> record_metrics("01_data_signals", {"play_rate_pct": 12.5}, "reports")  # doctest: +SKIP
    PosixPath('reports/01_data_signals.metrics.json')
    """
    path = metrics_path(name, out_dir)
    return write_json(_clean_metrics(metrics), path)


def read_metrics(path: str | os.PathLike) -> dict[str, Any]:
    """Read a metrics file written by `record_metrics`.

    Parameters
    ----------
    path : str or path-like
        A ``*.metrics.json`` file.

    Returns
    -------
    dict
        Flat mapping of metric name to value.

    Examples
    --------
    >>> read_metrics("reports/01_data_signals.metrics.json")  # doctest: +SKIP
    {'play_rate_pct': 12.5}
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of metrics, got {type(data).__name__}")
    return data
