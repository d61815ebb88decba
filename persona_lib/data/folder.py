"""A folder of a team's own logs: find its tables, validate them together, load them.

Layout: one file per table, named ``<table>.csv``, ``.csv.gz``, ``.parquet`` or ``.pq``::

    events.csv.gz        or the day-partitioned store below
    titles.parquet       every table of `FOLDER_TABLES` is optional, events included
    users.csv
    events/day=YYYY-MM-DD/*.parquet        events partitioned by the UTC date of their ``ts``
    propensities/day=YYYY-MM-DD/*.parquet  (the layout `persona_lib.sim.event_store` writes)

Only ``events`` and ``propensities`` may be such a store. Names starting with ``.`` or ``_``
(``_SUCCESS``, ``.crc``), ``manifest.json``, ``export.json`` and ``truth/`` are skipped; any
other file is listed as ignored in the `FolderSummary`. Two files for one table, a folder
named after another table or a table file with an unsupported suffix are errors.

A folder needs at least one table. ``events`` may be absent (a billing history, an experiment's
assignments and outcomes: data without a clickstream); `Logs.events` is then None and an
analysis that needs it calls ``logs.require("events", who=...)``. Only a table that refers to
events rows (``propensities``, keyed by ``event_id``) needs the events beside it. An events
table that is there must not be empty.

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

import numpy as np
import pandas as pd

from persona_lib.data.logs import CSV_SUFFIXES, PARQUET_SUFFIXES, load_table, read_raw_table
from persona_lib.data.schema import ALL_TABLES
from persona_lib.data.schema_errors import SchemaError, Where, values_text
from persona_lib.data.validation import VALIDATION_ORDER, check_keys, validate

FOLDER_TABLES = (
    "events", "titles", "artworks", "users", "billing", "notifications",
    "propensities", "assignments", "outcomes", "campaigns",
)  # fmt: skip
STORE_TABLES = ("events", "propensities")  # tables that may be a day-partitioned folder
# metadata of exports, imports and event stores (published.json: the published figures of an
# imported public data set, `persona_lib.data.published`)
SKIPPED = ("manifest.json", "export.json", "published.json", "truth")
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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def table_sha256(root: Path, where: TableFile) -> str:
    if where.layout == "file":
        return file_sha256(root / where.name)
    digest = hashlib.sha256()
    for part in where.parts:
        digest.update(f"{part}\0{file_sha256(root / where.name / part)}\n".encode())
    return digest.hexdigest()


def read_store(root: Path, where: TableFile, keep=None) -> pd.DataFrame:
    """A store's partitions in order, each row labelled ``(part, row in part)``, not validated.

    With ``keep(part, raw) -> bool array``, only the rows it marks are kept, one partition in
    memory at a time (`persona_lib.data.folder_logs.Logs.read_sample`).
    """
    frames = {}
    for part in where.parts:
        raw = read_raw_table(root / where.name / part).reset_index(drop=True)
        frames[part] = raw if keep is None else raw[keep(part, raw)]
    return pd.concat(frames, names=["file", "row"])


def check_partition_days(events: pd.DataFrame, source: str) -> None:
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


def load_one(root: Path, where: TableFile, done: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table of a folder, validated against the tables in `done` it references."""
    source = str(root / where.name)
    if where.layout == "file":
        frame = load_table(root / where.name, where.table, references=done)
    else:
        frame = validate(read_store(root, where), where.table, source, references=done)
        if where.table == "events":
            check_partition_days(frame, source)
    if where.table == "events" and frame.empty:
        raise SchemaError(f"{source}: table 'events': no rows; the folder needs at least one event")
    return frame.reset_index(drop=True)


def with_references(names: set[str], present: dict[str, TableFile]) -> set[str]:
    """`names` and every present table they reference, transitively."""
    todo, closed = list(names), set(names)
    while todo:
        for col in ALL_TABLES[todo.pop()].columns:
            ref = (col.references or "").partition(".")[0]
            if ref in present and ref not in closed:
                closed.add(ref)
                todo.append(ref)
    return closed


def check_present(root: Path, present: dict[str, TableFile], ignored: tuple[str, ...]) -> None:
    """At least one table; events whenever a present table refers to events rows."""
    found = ", ".join([w.name for w in present.values()] + list(ignored)) or "nothing"
    if not present:
        raise SchemaError(
            f"{root}: no table; expected at least one of {', '.join(FOLDER_TABLES)} as "
            f"<table>.csv, .csv.gz, .parquet or .pq (events and propensities also as "
            f"<table>/day=YYYY-MM-DD/*.parquet); found: {found}"
        )
    if "events" in present:
        return
    dependent = [
        f"{w.name} (column {c.name} refers to {c.references})"
        for t, w in present.items()
        for c in ALL_TABLES[t].columns
        if (c.references or "").startswith("events.")
    ]
    if dependent:
        raise SchemaError(
            f"{root}: no events table; expected events.csv, events.csv.gz, events.parquet, "
            f"events.pq or events/day=YYYY-MM-DD/*.parquet beside {', '.join(dependent)}; "
            f"found: {found}"
        )


def read_folder(
    folder: str | os.PathLike, tables: list[str] | None
) -> tuple[dict[str, pd.DataFrame], FolderSummary, dict[str, TableFile]]:
    """Find, read and validate `tables` of a folder (None: all) with the tables they reference.

    Returns the validated frames read (references included), their `FolderSummary` and every
    table present (`find_tables`). The reader behind `validate_folder` and `load_logs`.
    """
    root = Path(folder)
    present, ignored = find_tables(root)
    check_present(root, present, ignored)
    wanted = set(present) if tables is None else {"events", *tables} & set(present)
    wanted = with_references(wanted, present)
    done: dict[str, pd.DataFrame] = {}
    for name in (n for n in VALIDATION_ORDER if n in wanted):
        done[name] = load_one(root, present[name], done)
    summaries = tuple(
        TableSummary(t, w.name, w.layout, len(done[t]), table_sha256(root, w))
        for t, w in present.items()
        if t in done
    )
    return done, FolderSummary(summaries, ignored), present


def validate_folder(folder: str | os.PathLike) -> FolderSummary:
    """Validate every table of a folder of logs, together; return what was found.

    A day-partitioned store is validated one partition at a time (its keys and referenced
    columns across partitions), so a folder larger than memory can be validated; the checks and
    messages are those of `load_logs`.

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
        One line naming the file, table, column and rows: no table at all, or propensities
        without the events they refer to (listing what was found), an empty events table, two
        files for one table, a value that does not parse, a duplicate key (e.g.
        ``event_id``), a reference to a missing member or title, ...

    Examples
    --------
    >>> validate_folder("my_logs").to_dict()["tables"]["events"]["rows"]  # doctest: +SKIP
    230560
    """
    root = Path(folder)
    present, ignored = find_tables(root)
    check_present(root, present, ignored)
    done: dict[str, pd.DataFrame] = {}  # what later tables check their references against
    rows: dict[str, int] = {}
    for name in (n for n in VALIDATION_ORDER if n in present):
        where = present[name]
        if where.layout == "store":
            rows[name], done[name] = _validate_store(root, where, done)
        else:
            done[name] = load_one(root, where, done)
            rows[name] = len(done[name])
    summaries = tuple(
        TableSummary(t, w.name, w.layout, rows[t], table_sha256(root, w))
        for t, w in present.items()
    )
    return FolderSummary(summaries, ignored)


def _referenced_columns(table: str) -> list[str]:
    """The columns of `table` that a column of another table refers to (``events.event_id``)."""
    return sorted({
        col.references.partition(".")[2]
        for spec in ALL_TABLES.values()
        for col in spec.columns
        if (col.references or "").partition(".")[0] == table
    })  # fmt: skip


def _validate_store(root: Path, where: TableFile, done: dict[str, pd.DataFrame]):
    """Validate a day-partitioned table one partition at a time; its keys across partitions.

    Returns the row count and the columns other tables refer to (labelled by partition and row),
    so that memory holds one partition and the key columns, never the whole table.
    """
    table, source = where.table, str(root / where.name)
    spec = ALL_TABLES[table]
    keep = list(dict.fromkeys([*spec.key, *_referenced_columns(table)]))
    kept, sizes = [], []
    for part in where.parts:
        raw = read_raw_table(root / where.name / part).reset_index(drop=True)
        frame = validate(pd.concat({part: raw}, names=["file", "row"]), table, source,
                         references=done)  # fmt: skip
        if table == "events":
            check_partition_days(frame, source)
        sizes.append(len(frame))
        kept.append(frame[keep].reset_index(drop=True))
    if table == "events" and sum(sizes) == 0:
        raise SchemaError(f"{source}: table 'events': no rows; the folder needs at least one event")
    keys = pd.concat(kept, ignore_index=True)
    check_keys(keys, table, source, labels=lambda: pd.MultiIndex.from_arrays(
        [np.repeat(np.asarray(where.parts, dtype=object), sizes),
         np.concatenate([np.arange(n) for n in sizes])], names=["file", "row"],
    ))  # fmt: skip
    return sum(sizes), keys
