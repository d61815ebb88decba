"""What a homepage needs from the logs: played titles, unfinished titles, recent anchors, trends.

`MemberHistory` keeps one row per played (member, title) pair, updated from each day's events,
and exposes per member the titles played, the titles started but not finished ("continue
watching") and the most recent titles watched for at least half a runtime (anchors of "because
you watched" rows). `trending_scores` is exponentially decayed recent play counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.data import schema

MS_PER_DAY = 86_400_000
PLAY_TYPES = ("play_start", "play_stop")


def genre_matrix(titles: pd.DataFrame) -> np.ndarray:
    """(T, len(schema.GENRES)) bool membership from the pipe-separated ``genres`` column."""
    ordered = titles.sort_values("title_id")
    out = np.zeros((len(ordered), len(schema.GENRES)), dtype=bool)
    for t, names in enumerate(ordered["genres"].fillna("").astype(str).str.split("|")):
        out[t, [schema.GENRES.index(g) for g in names if g in schema.GENRES]] = True
    return out


def dense_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows].toarray()`` for a few rows, without building the sliced sparse matrix.

    Entries are summed into zeros of the matrix's dtype in storage order, as ``toarray`` does,
    so duplicate entries give the same values too.
    """
    rows = np.arange(matrix.shape[0])[np.asarray(rows, dtype=np.int64)]  # negative ids wrap
    start, stop = matrix.indptr[rows], matrix.indptr[rows + 1]
    counts = stop - start
    at = np.arange(counts.sum()) + np.repeat(start - np.cumsum(counts) + counts, counts)
    out = np.zeros((rows.size, matrix.shape[1]), dtype=matrix.dtype)
    np.add.at(out, (np.repeat(np.arange(rows.size), counts), matrix.indices[at]), matrix.data[at])
    return out


def new_releases(titles: pd.DataFrame, years: int = 2) -> np.ndarray:
    """(T,) bool: released in the catalog's last ``years`` years."""
    year = titles.sort_values("title_id")["release_year"].to_numpy()
    return year > year.max() - years


def _plays(events: pd.DataFrame) -> pd.DataFrame:
    """Per (user_id, title_id) of an events log: last play time (ms), seconds watched, plays."""
    et = events["event_type"].astype(str).to_numpy()
    rows = events.loc[np.isin(et, PLAY_TYPES), ["user_id", "title_id", "ts", "watch_s"]]
    frame = pd.DataFrame({
        "user_id": rows["user_id"].to_numpy(np.int64),
        "title_id": rows["title_id"].to_numpy(np.int64),
        "last_ms": rows["ts"].to_numpy().astype("datetime64[ms]").astype(np.int64),
        "watch_s": np.nan_to_num(rows["watch_s"].to_numpy(np.float64)),
        "plays": (et[np.isin(et, PLAY_TYPES)] == "play_start").astype(np.int64),
    })  # fmt: skip
    return frame


def _aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["user_id", "title_id"], sort=True, as_index=False).agg(
        last_ms=("last_ms", "max"), watch_s=("watch_s", "sum"), plays=("plays", "sum")
    )


def trending_scores(events: pd.DataFrame, n_titles: int, half_life_days: float = 3.0,
                    now=None) -> np.ndarray:  # fmt: skip
    """Recent popularity: ``sum over plays of 0.5 ** (age_days / half_life_days)`` per title.

    ``now`` (a timestamp) defaults to the log's last event.
    """
    plays = events[events["event_type"].astype(str) == "play_start"]
    if plays.empty:
        return np.zeros(n_titles)
    ts = plays["ts"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    end = ts.max() if now is None else pd.Timestamp(now).value // 1_000_000
    weight = 0.5 ** ((end - ts) / MS_PER_DAY / half_life_days)
    return np.bincount(plays["title_id"].to_numpy(), weights=weight, minlength=n_titles)


class MemberHistory:
    """Per-member played titles, unfinished titles and recent anchors, grown day by day.

    A title is *finished* once the seconds watched reach ``threshold`` of its runtime (of all
    its episodes for a series); an *anchor* is a title watched for at least half a runtime.

    Parameters
    ----------
    titles : the catalog (``title_id``, ``kind``, ``runtime_min``, ``n_episodes``).
    n_continue, n_anchors : how many unfinished titles and anchors to keep per member.
    threshold : share of the runtime that counts as finished.
    """

    def __init__(self, titles: pd.DataFrame, n_continue: int = 10, n_anchors: int = 2,
                 threshold: float = 0.9):  # fmt: skip
        ordered = titles.sort_values("title_id")
        runtime = ordered["runtime_min"].to_numpy(np.float64) * 60.0
        self.runtime_s = runtime
        self.total_s = runtime * np.maximum(ordered["n_episodes"].to_numpy(np.float64), 1.0)
        self.n_titles = len(ordered)
        self.n_continue, self.n_anchors, self.threshold = n_continue, n_anchors, threshold
        self.pairs = _aggregate(
            _plays(pd.DataFrame(columns=["user_id", "title_id", "ts", "watch_s", "event_type"]))
        )
        self.n_users = 1  # row 0 exists so lookups of unseen members need no special case
        self._rebuild()

    def update(self, events: pd.DataFrame, n_users: int | None = None) -> MemberHistory:
        """Add an events log (e.g. one day's); returns self."""
        new = _plays(events)
        if len(new):
            self.pairs = _aggregate(pd.concat([self.pairs, new], ignore_index=True))
        seen = int(self.pairs["user_id"].max()) + 1 if len(self.pairs) else 0
        self.n_users = max(self.n_users, seen, n_users or 0)
        self._rebuild()
        return self

    def _latest(self, mask: np.ndarray, width: int) -> np.ndarray:
        """(n_users, width) title ids of ``pairs[mask]``, most recent first, -1 pads."""
        rows = self.pairs[mask].sort_values(["user_id", "last_ms", "title_id"],
                                            ascending=[True, False, True])  # fmt: skip
        users = rows["user_id"].to_numpy()
        rank = rows.groupby("user_id").cumcount().to_numpy()
        keep = rank < width
        out = np.full((self.n_users, width), -1, dtype=np.int64)
        out[users[keep], rank[keep]] = rows["title_id"].to_numpy()[keep]
        return out

    def _rebuild(self) -> None:
        user = self.pairs["user_id"].to_numpy()
        title = self.pairs["title_id"].to_numpy()
        watch = self.pairs["watch_s"].to_numpy()
        self.played_ = sp.csr_matrix((np.ones(len(user), bool), (user, title)),
                                     shape=(self.n_users, self.n_titles))  # fmt: skip
        unfinished = watch < self.threshold * self.total_s[title]
        self.continue_ = self._latest(unfinished, self.n_continue)
        self.anchors_ = self._latest(watch >= 0.5 * self.runtime_s[title], self.n_anchors)
        self.popularity_ = np.bincount(title, weights=self.pairs["plays"].to_numpy(),
                                       minlength=self.n_titles)  # fmt: skip

    def rows(self, user_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense played (n, T) bool, continue (n, L) and anchors (n, A) of some members.

        Members never seen get empty rows.
        """
        users = np.asarray(user_ids, dtype=np.int64)
        known = users < self.n_users
        safe = np.where(known, users, 0)
        played = dense_rows(self.played_, safe) & known[:, None]
        unknown = ~known[:, None]
        return (
            played,
            np.where(unknown, -1, self.continue_[safe]),
            np.where(unknown, -1, self.anchors_[safe]),
        )
