"""What the benchmark scripts share: a public dataset read in place, and numbers for the JSON.

Benchmarks are scripts, not a package: each puts this folder on ``sys.path`` and imports from
here, so every script that reads ``../shared/data`` stops with the same explanation when the file
is missing, and every JSON rounds its floats the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def require_dataset(path: Path, what: str, expected: str) -> Path:
    """``path`` when it is a file; otherwise exit with how to pass the dataset's location."""
    if not Path(path).is_file():
        sys.exit(
            f"{what} not found: {path}. Pass --data <{expected}> "
            "(read in place from ../shared/data, see its README; never copy it here)."
        )
    return Path(path)


def rounded(value, digits: int = 6):
    """A float (numpy or Python) rounded to ``digits``; a dict's or list's floats likewise."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return round(float(value), digits) if isinstance(value, float | np.floating) else value
