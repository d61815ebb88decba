"""What the SQL engines share: the store's tables and the schema dtypes of their result frames.

Both `DuckDBSignals` and `SparkSignals` run the same SQL texts; an engine returns plain columns
(strings, wide integers, nanosecond or microsecond timestamps) and `typed` gives them the dtypes
of the pandas implementations in `persona_lib.signals`.
"""

from __future__ import annotations

import pandas as pd

from persona_lib.data.schema import DEVICES, LANGUAGES, PLANS
from persona_lib.signals.subscriptions import RENEWAL_STATUSES

SINGLE_TABLES = ("users", "titles", "billing", "notifications")
CATEGORIES = {
    "device": DEVICES, "plan": PLANS, "language": LANGUAGES, "title_language": LANGUAGES,
    "cause": RENEWAL_STATUSES,
}  # fmt: skip
FUNNEL_COUNTS = ["impressions", "hovers", "clicks", "plays", "completions", "search_plays"]
SESSION_COUNTS = ["events", "impressions", "hovers", "clicks", "scroll_pasts", "searches",
                  "plays", "rewatches"]  # fmt: skip


def typed(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """Schema dtypes: categories, millisecond timestamps and the given numeric dtypes."""
    for name in list(frame.columns):
        if name in CATEGORIES:
            frame[name] = pd.Categorical(frame[name], categories=list(CATEGORIES[name]))
        elif pd.api.types.is_datetime64_dtype(frame[name]):
            frame[name] = frame[name].astype("datetime64[ms]")
    return frame.astype({k: v for k, v in dtypes.items() if k in frame.columns})
