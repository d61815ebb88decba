"""A folder's tables as one object that stands where a simulated world would: `Logs`.

`load_logs` reads and validates the tables at once, so every problem of the folder surfaces
before any analysis. `open_logs` returns the same `Logs` but reads each table on first use
(validated then, against the tables it references, with the same one-line `SchemaError`), so a
notebook holds in memory only the tables it touches: a section left out because the logs lack
a table reads nothing, and `persona run --data` has validated the whole folder beforehand.

`Logs.read_sample` reads the events of a random sample of members over the first days of the
log (the rules of `persona_lib.data.sampling`): from a day-partitioned store one partition at a
time, keeping only the sampled members' rows, so a sample of a log larger than memory fits in
memory; the rows are validated as they are read (the event ids' uniqueness within the rows
read). The same rows as `persona_lib.data.sampling.sample_log` of the whole events table.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from persona_lib.data.folder import (
    FOLDER_TABLES,
    FolderSummary,
    TableFile,
    TableSummary,
    check_partition_days,
    check_present,
    find_tables,
    load_one,
    read_folder,
    read_store,
    table_sha256,
    with_references,
)
from persona_lib.data.sampling import check_caps, draw_members, first_days_mask, sample_log
from persona_lib.data.schema_errors import SchemaError
from persona_lib.data.validation import VALIDATION_ORDER, validate

__all__ = ["Logs", "TruthUnavailable", "load_logs", "open_logs"]


class TruthUnavailable(LookupError):
    """Raised on reading the truth of logs: only a simulated world knows its true values."""


class Logs:
    """A folder's tables in the canonical dtypes; None for a table absent or not asked for.

    Every table may be None, ``events`` included (a folder without a clickstream, e.g. imported
    billing or experiment data): `require` names the tables an analysis cannot do without.
    A table is read when first used (`open_logs`) or up front (`load_logs`); ``summary``
    describes the tables (it reads every one). Logs stand where a simulated world would
    (``has_truth`` is False; ``truth`` raises `TruthUnavailable`).

    Attributes
    ----------
    events, titles, artworks, users, billing, notifications, propensities, assignments,
    outcomes, campaigns : DataFrame or None
        The tables (each with a RangeIndex).
    folder : Path or None
        Where the logs were read (as given), for engines that read files.
    """

    has_truth: ClassVar[bool] = False

    def __init__(self, folder: str | os.PathLike | None, present: Mapping[str, TableFile],
                 ignored: tuple[str, ...] = (), frames: Mapping[str, pd.DataFrame] | None = None,
                 wanted=None, summary: FolderSummary | None = None):  # fmt: skip
        self.folder = None if folder is None else Path(folder)
        self._present = dict(present)
        self._ignored = tuple(ignored)
        self._frames = dict(frames or {})
        names = self._present if wanted is None else wanted
        self._wanted = frozenset(t for t in names if t in self._present)
        self._summary = summary

    def __repr__(self) -> str:
        return f"Logs({str(self.folder)!r}, tables={sorted(self._wanted)})"

    def _load(self, table: str) -> pd.DataFrame:
        """Read and validate `table`, first the tables it references (kept for later use)."""
        if table not in self._frames:
            needed = with_references({table}, self._present)
            for name in (n for n in VALIDATION_ORDER if n in needed):
                if name not in self._frames:
                    self._frames[name] = load_one(self.folder, self._present[name], self._frames)
        return self._frames[table]

    def _table(self, table: str) -> pd.DataFrame | None:
        return self._load(table) if table in self._wanted else None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present (and asked for) by name, in `FOLDER_TABLES` order (reads them)."""
        return {n: self._load(n) for n in FOLDER_TABLES if n in self._wanted}

    @property
    def table_names(self) -> tuple[str, ...]:
        """The tables present (and asked for), in `FOLDER_TABLES` order, without reading any."""
        return tuple(n for n in FOLDER_TABLES if n in self._wanted)

    @property
    def summary(self) -> FolderSummary:
        """Per table read: file, layout, rows and SHA-256 (`FolderSummary`; reads every table)."""
        if self._summary is None:
            self.tables  # noqa: B018  (reads what is not read yet)
            rows = tuple(
                TableSummary(
                    t, w.name, w.layout, len(self._frames[t]), table_sha256(self.folder, w)
                )  # fmt: skip
                for t, w in self._present.items()
                if t in self._frames
            )
            self._summary = FolderSummary(rows, self._ignored)
        return self._summary

    def require(self, *tables: str, who: str = "this analysis") -> Logs:
        """Raise a `SchemaError` naming the folder and the absent tables of `tables`; else self.

        Nothing is read. Examples
        --------
        >>> billing_only = open_logs("telco_logs")  # doctest: +SKIP
        >>> billing_only.require("events", who="01_data_signals")  # doctest: +SKIP
        Traceback (most recent call last):
        ...
        SchemaError: telco_logs: 01_data_signals needs the tables events (<folder>/events.csv ...
        """
        absent = [t for t in tables if t not in self._wanted]
        if absent:
            listed = ", ".join(f"{t} (<folder>/{t}.csv or .parquet)" for t in absent)
            raise SchemaError(f"{self.folder}: {who} needs the tables {listed}; none found")
        return self

    @property
    def is_store(self) -> bool:
        """True when the events are a day-partitioned store with the small tables as Parquet
        beside it: the layout the DuckDB and Spark engines read in place. False without events."""
        events = self._present.get("events")
        if events is None or "events" not in self._wanted:
            return False
        small = [w for t, w in self._present.items() if t in ("users", "titles", "billing")]
        return events.layout == "store" and all(
            w.layout == "file" and w.name.endswith((".parquet", ".pq")) for w in small
        )

    @property
    def truth(self):
        raise TruthUnavailable(
            "these are logs, not a simulated world: they carry no true values (a section that "
            "needs them is tagged needs-truth and left out of runs on logs)"
        )

    def read_sample(
        self, max_members: int | None = None, max_days: int | None = None, random_state: int = 0
    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The events of a sample of members over the first days, and their propensities.

        The rows of `persona_lib.data.sampling.sample_log` (same caps, same seed) with a
        RangeIndex. A day-partitioned events store is read one partition at a time (first
        only ``user_id`` and ``ts`` to draw the members and find day 0, then each partition's
        rows of the drawn members); a propensities store likewise keeps only the rows of the
        sampled events. A single-file table is read whole, then sampled.

        Returns
        -------
        events, propensities : DataFrame or None
            None for a table the logs lack.
        """
        check_caps(max_members, max_days)
        if "events" not in self._wanted:
            return None, None
        where = self._present["events"]
        if where.layout == "file" or "events" in self._frames or max_members is None:
            events = sample_log(self._load("events"), max_members, max_days, random_state)
            events = (
                events.reset_index(drop=True) if events is not self._frames["events"] else events
            )
        else:
            events = self._read_members(where, max_members, max_days, random_state)
        propensities = self._sample_propensities(events)
        _give_back_freed_memory()
        return events, propensities

    def _read_members(self, where: TableFile, max_members: int, max_days: int | None,
                      random_state: int) -> pd.DataFrame:  # fmt: skip
        """`read_sample` of a store: the drawn members' rows, part by part, validated.

        Partitions come in day order and a session's first event sits in the partition of its
        start day (checked), so after the last kept day only rows of sessions already seen are
        kept: the rows read never exceed the sample by more than those sessions' spill-over.
        """
        root, source = self.folder / where.name, str(self.folder / where.name)
        members, first = [], None
        for part in where.parts:
            head = pq.read_table(root / part, columns=["user_id", "ts"]).to_pandas()
            members.append(np.unique(head["user_id"].to_numpy()))
            day = pd.to_datetime(head["ts"]).min()
            first = day if first is None or day < first else first
        chosen = draw_members(np.unique(np.concatenate(members)), max_members, random_state)
        day0 = np.datetime64(first.to_datetime64(), "D")
        cutoff = None if max_days is None else day0 + np.timedelta64(int(max_days), "D")
        needed = with_references({"events"}, self._present) - {"events"}
        for name in (n for n in VALIDATION_ORDER if n in needed):
            self._load(name)
        early: list[np.ndarray] = []  # sessions seen in the days before the cutoff

        def drawn_rows(part: str, raw: pd.DataFrame) -> np.ndarray:
            keep = np.ones(len(raw), bool) if chosen is None else np.isin(raw["user_id"], chosen)
            if cutoff is not None and np.datetime64(part[4:14], "D") >= cutoff:
                # after the cutoff, only sessions that started before it continue
                early[:] = [np.unique(np.concatenate(early))] if len(early) > 1 else early
                return keep & np.isin(raw["session_id"], early[0] if early else [])
            if keep.any():
                early.append(np.unique(raw["session_id"].to_numpy()[keep]))
            return keep

        raw = read_store(self.folder, where, drawn_rows)  # validated together: one dtype per column
        events = validate(raw, "events", source, references=self._frames)
        check_partition_days(events, source)
        events = events.reset_index(drop=True)
        if cutoff is not None:
            keep = first_days_mask(events["session_id"].to_numpy(), events["ts"].to_numpy(), day0,
                                   max_days)  # fmt: skip
            events = events[keep].reset_index(drop=True)
        return events

    def _sample_propensities(self, events: pd.DataFrame) -> pd.DataFrame | None:
        if "propensities" not in self._wanted:
            return None
        if events is self._frames.get("events"):
            return self._load("propensities")
        ids = events["event_id"].to_numpy()
        where = self._present["propensities"]
        if where.layout == "file" or "propensities" in self._frames:
            full = self._load("propensities")
            return full[np.isin(full["event_id"].to_numpy(), ids)].reset_index(drop=True)

        def sampled_rows(part: str, raw: pd.DataFrame) -> np.ndarray:
            return np.isin(pd.to_numeric(raw["event_id"], errors="coerce"), ids)

        raw = read_store(self.folder, where, sampled_rows)
        source = str(self.folder / where.name)
        return validate(raw, "propensities", source, references={"events": events}).reset_index(
            drop=True
        )


def _give_back_freed_memory() -> None:
    """Return the heap pages freed after reading a store part by part to the operating system.

    Reading each partition whole and keeping a few of its rows leaves freed blocks in pyarrow's
    pool and in glibc's heap that the process would otherwise keep while the analysis runs
    (about 100 MiB after sampling the default preset's 14 M events). glibc's ``malloc_trim``
    is called where it exists (Linux); elsewhere this only releases pyarrow's pool.
    """
    pa.default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)


def _table_property(table: str) -> property:
    return property(lambda self: self._table(table),
                    doc=f"The ``{table}`` table, read on first use; None when absent.")  # fmt: skip


for _table_name in FOLDER_TABLES:  # one read-only attribute per table: logs.events, logs.users, ...
    setattr(Logs, _table_name, _table_property(_table_name))


def load_logs(folder: str | os.PathLike, tables: list[str] | None = None) -> Logs:
    """Read and validate a folder of logs into the canonical dtypes, every table up front.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder (see `persona_lib.data.folder` for its layout).
    tables : list of str, optional
        The tables to return (default: every table present); ``events`` is always loaded when
        present, and each table is checked against the present tables it references (which are
        read for that, e.g. ``users`` for ``["campaigns"]``, but returned only when asked for).

    Returns
    -------
    Logs
        One attribute per table of `FOLDER_TABLES` (None when absent or not asked for;
        ``events`` too, when the folder has none) and ``summary``, the `FolderSummary` of the
        tables read. Every frame has a RangeIndex.

    Raises
    ------
    ValueError
        A name in `tables` that is not a table of `FOLDER_TABLES`.
    NotADirectoryError, SchemaError
        As `persona_lib.data.folder.validate_folder`.

    Examples
    --------
    >>> logs = load_logs("my_logs", tables=["events", "users"])  # doctest: +SKIP
    >>> logs.titles is None  # doctest: +SKIP
    True
    """
    unknown = [t for t in tables or () if t not in FOLDER_TABLES]
    if unknown:
        raise ValueError(f"unknown tables {unknown}; known: {', '.join(FOLDER_TABLES)}")
    done, summary, present = read_folder(folder, tables)
    keep = set(done) if tables is None else {"events", *tables}
    return Logs(folder, present, summary.ignored, frames=done, wanted=keep & set(done),
                summary=summary)  # fmt: skip


def open_logs(folder: str | os.PathLike) -> Logs:
    """The `Logs` of a folder, each table read and validated on first use.

    Finds the tables (`find_tables`: a misnamed or doubled table file fails here) and checks
    that there is at least one, with events beside a table that refers to them; a table's
    values are checked when it is first used, with the errors of `load_logs`.

    Examples
    --------
    >>> logs = open_logs("my_logs")  # doctest: +SKIP
    >>> logs.assignments is None  # nothing read unless the table is there  # doctest: +SKIP
    True
    """
    root = Path(folder)
    present, ignored = find_tables(root)
    check_present(root, present, ignored)
    return Logs(folder, present, ignored)
