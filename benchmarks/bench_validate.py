"""Time `validate` on a synthetic events table; prints JSON.

Three inputs of the same rows: already in the canonical dtypes (the simulator's case),
Arrow-backed ``str`` columns (what ``read_csv(dtype=str)`` gives under pandas 3) and Python
``object`` strings. Usage: ``python benchmarks/bench_validate.py [rows]`` (default 5,000,000).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from persona_lib.data import DEVICES, EVENT_TYPES, TABLES, TS_UNIT, validate


def make_events(rows: int, random_state: int = 0) -> pd.DataFrame:
    """A synthetic events table in the canonical dtypes, sorted by ``ts``."""
    rng = np.random.default_rng(random_state)
    start = np.datetime64("2024-01-01", TS_UNIT)
    offsets = np.sort(rng.integers(0, 90 * 86_400_000, rows))
    event_type = rng.integers(0, len(EVENT_TYPES), rows)
    watch = rng.exponential(1_800, rows).astype("float32")
    watch[event_type != EVENT_TYPES.index("play_stop")] = np.nan
    return pd.DataFrame(
        {
            "event_id": np.arange(rows, dtype="int32"),
            "ts": start + offsets.astype(f"timedelta64[{TS_UNIT}]"),
            "user_id": rng.integers(0, 100_000, rows, dtype="int32"),
            "session_id": rng.integers(0, 2_000_000, rows, dtype="int32"),
            "device": pd.Categorical.from_codes(
                rng.integers(0, len(DEVICES), rows), dtype=pd.CategoricalDtype(DEVICES)
            ),
            "event_type": pd.Categorical.from_codes(
                event_type, dtype=pd.CategoricalDtype(EVENT_TYPES)
            ),
            "title_id": rng.integers(0, 5_000, rows, dtype="int32"),
            "artwork_id": rng.integers(-1, 20_000, rows, dtype="int32"),
            "row_id": pd.Categorical.from_codes(
                rng.integers(0, 3, rows), categories=["genre:Drama", "popular", "search"]
            ),
            "row_position": rng.integers(0, 40, rows, dtype="int8"),
            "col_position": rng.integers(0, 60, rows, dtype="int8"),
            "dwell_ms": rng.integers(0, 65_536, rows, dtype="uint16"),
            "watch_s": watch,
        }
    )


def as_strings(frame: pd.DataFrame, dtype: str) -> pd.DataFrame:
    """Every column as text, nulls kept: what a CSV reader with dtype=str produces."""
    out = {}
    for name in frame.columns:
        text = frame[name].astype("str")
        out[name] = text.astype(object) if dtype == "object" else text
    return pd.DataFrame(out)


def seconds(frame: pd.DataFrame, repeats: int = 1) -> float:
    """Best wall time of `repeats` validations."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        validate(frame, "events", "<bench>")
        best = min(best, time.perf_counter() - began)
    return round(best, 3)


def main(rows: int = 5_000_000) -> dict:
    canonical = make_events(rows)
    result = {"rows": rows, "columns": len(TABLES["events"].columns)}
    result["seconds_canonical"] = seconds(canonical, repeats=3)
    for dtype in ("str", "object"):  # one text copy alive at a time
        result[f"seconds_{dtype}_columns"] = seconds(as_strings(canonical, dtype))
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)))
