"""A folder of a team's own logs: find its tables, validate them together, load them.

Layout: one file per table, named ``<table>.csv``, ``.csv.gz``, ``.parquet`` or ``.pq``::

    events.csv.gz        required; or the day-partitioned store below
    titles.parquet       optional, as is every other table of `FOLDER_TABLES`
    users.csv
    events/day=YYYY-MM-DD/*.parquet        events partitioned by the UTC date of their ``ts``
    propensities/day=YYYY-MM-DD/*.parquet  (the layout `persona_lib.sim.event_store` writes)

Only ``events`` and ``propensities`` may be such a store. Names starting with ``.`` or ``_``
(``_SUCCESS``, ``.crc``), ``manifest.json``, ``export.json`` and ``truth/`` are skipped; any
other file is listed as ignored in the `FolderSummary`. Two files for one table, a folder
named after another table or a table file with an unsupported suffix are errors.

Tables are validated in dependency order (`persona_lib.data.validation.VALIDATION_ORDER`), each
against the tables present before it: events' ``user_id`` must be in users when users are
there, ``title_id`` in titles, propensities' ``event_id`` in events, and so on. Every problem
raises a one-line `SchemaError` that starts with the file (as the folder was given, never made
absolute) and names the table, the column and the rows; a store's rows are labelled
``('day=YYYY-MM-DD/<file>', <row in that file>)``. Files are only read.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from persona_lib.data.logs import CSV_SUFFIXES, PARQUET_SUFFIXES, load_table, read_raw_table
from persona_lib.data.schema import ALL_TABLES
from persona_lib.data.schema_errors import SchemaError, Where, values_text
from persona_lib.data.validation import VALIDATION_ORDER, validate

FOLDER_TABLES = (
    "events", "titles", "artworks", "users", "billing", "notifications",
    "propensities", "assignments", "outcomes", "campaigns",
)  # fmt: skip
STORE_TABLES = ("events", "propensities")  # tables that may be a day-partitioned folder
SKIPPED = ("manifest.json", "export.json", "truth")  # metadata of exports and event stores
SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES
_DAY = re.compile(r"day=(\d{4}-\d{2}-\d{2})")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableFile:
    """Where one table lives in a folder.

    ``name`` is relative to the folder (POSIX, a store ends with ``/``); ``parts`` are a store's
    partition files relative to the store, sorted (empty for a single file).
    """

    table: str
    name: str
    layout: str  # "file" or "store"
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSummary:
    """One validated table: its file relative to the folder, layout, row count and SHA-256.

    ``sha256`` is of the file's bytes; for a store, of the lines ``<part> NUL <sha256 of its
    bytes>`` in sorted part order, so a renamed, added or changed partition changes it.
    """

    table: str
    file: str
    layout: str
    rows: int
    sha256: str

    def to_dict(self) -> dict[str, str | int]:
        """``file``, ``layout``, ``rows`` and ``sha256`` (JSON-safe)."""
        return {k: v for k, v in asdict(self).items() if k != "table"}


@dataclass(frozen=True)
class FolderSummary:
    """What `validate_folder` found: one `TableSummary` per table present, in `FOLDER_TABLES`
    order, and the folder's files that are no table (``ignored``). No absolute paths."""

    tables: tuple[TableSummary, ...]
    ignored: tuple[str, ...] = ()

    def __getitem__(self, table: str) -> TableSummary:
        for summary in self.tables:
            if summary.table == table:
                return summary
        raise KeyError(table)

    def __contains__(self, table: object) -> bool:
        return any(summary.table == table for summary in self.tables)

    @property
    def names(self) -> list[str]:
        """The tables present."""
        return [summary.table for summary in self.tables]

    def to_dict(self) -> dict[str, object]:
        """``{"tables": {name: {file, layout, rows, sha256}}, "ignored": [...]}``."""
        tables = {summary.table: summary.to_dict() for summary in self.tables}
        return {"tables": tables, "ignored": list(self.ignored)}


class TruthUnavailable(LookupError):
    """Raised on reading the truth of logs: only a simulated world knows its true values."""


@dataclass(frozen=True)
class Logs:
    """A folder's tables, validated in the canonical dtypes; None for a table not loaded.

    ``events`` is always there; ``summary`` describes the tables read. Logs stand where a
    simulated world would (``has_truth`` is False; ``truth`` raises `TruthUnavailable`).
    """

    has_truth: ClassVar[bool] = False

    events: pd.DataFrame
    summary: FolderSummary
    folder: Path | None = None  # where the logs were read (as given), for engines that read files
    titles: pd.DataFrame | None = None
    artworks: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    billing: pd.DataFrame | None = None
    notifications: pd.DataFrame | None = None
    propensities: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The loaded tables by name, in `FOLDER_TABLES` order."""
        return {n: getattr(self, n) for n in FOLDER_TABLES if getattr(self, n) is not None}

    def require(self, *tables: str, who: str = "this analysis") -> Logs:
        """Raise a `SchemaError` naming the folder and the absent tables of `tables`; else self."""
        absent = [t for t in tables if getattr(self, t) is None]
        if absent:
            listed = ", ".join(f"{t} (<folder>/{t}.csv or .parquet)" for t in absent)
            raise SchemaError(f"{self.folder}: {who} needs the tables {listed}; none found")
        return self

    @property
    def is_store(self) -> bool:
        """True when the events are a day-partitioned store with the small tables as Parquet
        beside it: the layout the DuckDB and Spark engines read in place."""
        small = [s for s in self.summary.tables if s.table in ("users", "titles", "billing")]
        return self.summary["events"].layout == "store" and all(
            s.layout == "file" and s.file.endswith((".parquet", ".pq")) for s in small
        )

    @property
    def truth(self):
        raise TruthUnavailable(
            "these are logs, not a simulated world: they carry no true values (a section that "
            "needs them is tagged needs-truth and left out of runs on logs)"
        )


# --- finding the tables ----------------------------------------------------------------------


def _skipped(name: str) -> bool:
    return name.startswith((".", "_")) or name in SKIPPED


def _store_parts(directory: Path, table: str) -> tuple[str, ...]:
    """The ``day=YYYY-MM-DD/*.parquet`` files of a store, relative to it, sorted."""
    parts = []
    for day in sorted(directory.iterdir()):
        if _skipped(day.name):
            continue
        if not (day.is_dir() and _DAY.fullmatch(day.name) and _is_date(day.name[4:])):
            raise SchemaError(f"{day}: not a day=YYYY-MM-DD partition of the {table} store")
        for part in sorted(day.iterdir()):
            if _skipped(part.name):
                continue
            if not (part.is_file() and part.name.lower().endswith(".parquet")):
                raise SchemaError(f"{part}: a {table} partition holds only *.parquet files")
            parts.append(f"{day.name}/{part.name}")
    if not parts:
        raise SchemaError(f"{directory}: no day=YYYY-MM-DD/*.parquet files in the {table} store")
    return tuple(parts)


def _is_date(text: str) -> bool:
    try:
        np.datetime64(text, "D")
    except ValueError:
        return False
    return True


def _table_of(entry: Path) -> str | None:
    """The table a folder entry holds, None for other files; an error for a misnamed table."""
    name = entry.name.lower()
    if entry.is_dir():
        if name in STORE_TABLES:
            return name
        if name in FOLDER_TABLES:
            raise SchemaError(
                f"{entry}: a folder; table '{name}' must be one file "
                f"{name}.csv, .csv.gz, .parquet or .pq (only {', '.join(STORE_TABLES)} may be "
                "day-partitioned folders)"
            )
        return None
    for table in FOLDER_TABLES:
        if name in {table + suffix for suffix in SUFFIXES}:
            return table
    stem = name.split(".")[0]
    if stem in FOLDER_TABLES:
        raise SchemaError(
            f"{entry}: unsupported file type for table '{stem}'; expected "
            + ", ".join(stem + suffix for suffix in SUFFIXES)
        )
    return None


def find_tables(folder: str | os.PathLike) -> tuple[dict[str, TableFile], tuple[str, ...]]:
    """Find the table files of a folder (see the module docstring for the layout).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder; only its top level and the stores' ``day=`` folders are listed.

    Returns
    -------
    tables : dict of str to TableFile
        The tables present, in `FOLDER_TABLES` order.
    ignored : tuple of str
        Names of the other files and folders (folders end with ``/``), sorted.

    Raises
    ------
    NotADirectoryError
        `folder` is not a folder.
    SchemaError
        Two files for one table (both named), a misnamed table file or a malformed store.

    Examples
    --------
    >>> tables, ignored = find_tables("my_logs")  # doctest: +SKIP
    >>> tables["events"].layout  # doctest: +SKIP
    'store'
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: no such folder")
    found: dict[str, TableFile] = {}
    ignored = []
    for entry in sorted(root.iterdir()):
        if _skipped(entry.name):
            continue
        table = _table_of(entry)
        if table is None:
            ignored.append(entry.name + ("/" if entry.is_dir() else ""))
            continue
        if entry.is_dir():
            where = TableFile(table, f"{entry.name}/", "store", _store_parts(entry, table))
        else:
            where = TableFile(table, entry.name, "file")
        if table in found:
            raise SchemaError(
                f"{root}: two files for table '{table}': {found[table].name} and {where.name}; "
                "keep one"
            )
        found[table] = where
    return {t: found[t] for t in FOLDER_TABLES if t in found}, tuple(ignored)


# --- reading and checking --------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(root: Path, where: TableFile) -> str:
    if where.layout == "file":
        return _file_sha256(root / where.name)
    digest = hashlib.sha256()
    for part in where.parts:
        digest.update(f"{part}\0{_file_sha256(root / where.name / part)}\n".encode())
    return digest.hexdigest()


def _read_store(root: Path, where: TableFile) -> pd.DataFrame:
    """The partitions in order, each row labelled ``(part, row in part)``."""
    frames = [read_raw_table(root / where.name / p).reset_index(drop=True) for p in where.parts]
    return pd.concat(frames, keys=list(where.parts), names=["file", "row"])


def _check_partition_days(events: pd.DataFrame, source: str) -> None:
    """Each store event sits in the partition of its own UTC date (engines prune by it)."""
    index = events.index
    days = np.asarray([part[4:14] for part in index.levels[0]], dtype="datetime64[D]")
    day = days[index.codes[0]]
    ts = events["ts"].to_numpy()
    outside = ts.astype("datetime64[D]") != day
    if outside.any():
        Where(source, "events", events.index).fail(
            "ts",
            f"timestamp {values_text(ts[outside])} outside its day= partition",
            outside,
            hint="partition events by the UTC date of ts",
        )


def _load_one(root: Path, where: TableFile, done: dict[str, pd.DataFrame]) -> pd.DataFrame:
    source = str(root / where.name)
    if where.layout == "file":
        frame = load_table(root / where.name, where.table, references=done)
    else:
        frame = validate(_read_store(root, where), where.table, source, references=done)
        if where.table == "events":
            _check_partition_days(frame, source)
    if where.table == "events" and frame.empty:
        raise SchemaError(f"{source}: table 'events': no rows; the folder needs at least one event")
    return frame.reset_index(drop=True)


def _with_references(names: set[str], present: dict[str, TableFile]) -> set[str]:
    """`names` and every present table they reference, transitively."""
    todo, closed = list(names), set(names)
    while todo:
        for col in ALL_TABLES[todo.pop()].columns:
            ref = (col.references or "").partition(".")[0]
            if ref in present and ref not in closed:
                closed.add(ref)
                todo.append(ref)
    return closed


def _read_folder(
    folder: str | os.PathLike, tables: list[str] | None
) -> tuple[dict[str, pd.DataFrame], FolderSummary]:
    root = Path(folder)
    present, ignored = find_tables(root)
    if "events" not in present:
        seen = [w.name for w in present.values()] + list(ignored)
        raise SchemaError(
            f"{root}: no events table; expected events.csv, events.csv.gz, events.parquet, "
            f"events.pq or events/day=YYYY-MM-DD/*.parquet; found: {', '.join(seen) or 'nothing'}"
        )
    wanted = set(present) if tables is None else {"events", *tables} & set(present)
    wanted = _with_references(wanted, present)
    done: dict[str, pd.DataFrame] = {}
    for name in (n for n in VALIDATION_ORDER if n in wanted):
        done[name] = _load_one(root, present[name], done)
    summaries = tuple(
        TableSummary(t, w.name, w.layout, len(done[t]), _sha256(root, w))
        for t, w in present.items()
        if t in done
    )
    return done, FolderSummary(summaries, ignored)


def validate_folder(folder: str | os.PathLike) -> FolderSummary:
    """Validate every table of a folder of logs, together; return what was found.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder (see the module docstring for its layout). Nothing in it is written.

    Returns
    -------
    FolderSummary
        Per table: file relative to the folder, layout (``"file"`` or ``"store"``), rows and
        SHA-256; ``to_dict()`` is JSON-safe and holds no absolute path.

    Raises
    ------
    NotADirectoryError
        `folder` is not a folder.
    SchemaError
        One line naming the file, table, column and rows: no events table (listing what was
        found), an empty events table, two files for one table, a value that does not parse,
        a duplicate key (e.g. ``event_id``), a reference to a missing member or title, ...

    Examples
    --------
    >>> validate_folder("my_logs").to_dict()["tables"]["events"]["rows"]  # doctest: +SKIP
    230560
    """
    return _read_folder(folder, None)[1]


def load_logs(folder: str | os.PathLike, tables: list[str] | None = None) -> Logs:
    """Read and validate a folder of logs into the canonical dtypes.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder (see the module docstring for its layout).
    tables : list of str, optional
        The tables to return (default: every table present); ``events`` is always loaded, and
        each table is checked against the present tables it references (which are read for
        that, e.g. ``users`` for ``["campaigns"]``, but returned only when asked for).

    Returns
    -------
    Logs
        One attribute per table of `FOLDER_TABLES` (None when absent or not asked for) and
        ``summary``, the `FolderSummary` of the tables read. Every frame has a RangeIndex.

    Raises
    ------
    ValueError
        A name in `tables` that is not a table of `FOLDER_TABLES`.
    NotADirectoryError, SchemaError
        As `validate_folder`.

    Examples
    --------
    >>> logs = load_logs("my_logs", tables=["events", "users"])  # doctest: +SKIP
    >>> logs.titles is None  # doctest: +SKIP
    True
    """
    unknown = [t for t in tables or () if t not in FOLDER_TABLES]
    if unknown:
        raise ValueError(f"unknown tables {unknown}; known: {', '.join(FOLDER_TABLES)}")
    done, summary = _read_folder(folder, tables)
    keep = set(done) if tables is None else {"events", *tables}
    frames = {t: frame for t, frame in done.items() if t in keep}
    return Logs(summary=summary, folder=Path(folder), **frames)
