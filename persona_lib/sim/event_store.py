"""An event store on disk: events partitioned by day in Parquet, written while simulating.

Layout under ``root``::

    manifest.json                      format, config, code, n_events, days, row counts, row_ids
    events/day=YYYY-MM-DD/part-00000.parquet         logged events of that UTC date (by ``ts``)
    propensities/day=YYYY-MM-DD/part-00000.parquet   event_id, pscore of that date's impressions
    users.parquet titles.parquet artworks.parquet billing.parquet notifications.parquet
    truth/users.parquet truth/titles.parquet ...     ground truth, never mixed with the logs
    truth/impressions/day=YYYY-MM-DD/part-00000.parquet

Events are partitioned by the calendar date of their own ``ts`` (not of the session that logged
them), so a time filter prunes partitions. Categoricals are stored dictionary-encoded and missing
``watch_s`` as Parquet nulls, so SQL engines (DuckDB) aggregate them without NaN.

Event ids. `simulate` numbers events by their position in a stable merge of the days by ``ts``
(a day's run is sorted by ``(ts, session, seq)``; ties across days go to the earlier day). A
session starts within its day, so no event of day ``d`` is earlier than day ``d``'s midnight
(checked): once day ``d`` is simulated, every event dated ``d`` is known. `simulate_to_store`
therefore writes date ``d`` right after day ``d``: it stable-sorts by ``ts`` the events dated
``d`` (earlier days' spill-over first, in day order, then day ``d``'s), numbers them from a
running offset and keeps only the events past midnight for later dates. This is the global
stable merge cut at date boundaries, so the ids equal `simulate`'s exactly.

The whole store is built in a temporary directory beside ``root`` and renamed onto it at the end:
a failure leaves an existing store unchanged and no partial one.

Which code made it. The manifest's ``code`` records the SHA-256 of the simulator's source files
(`code_version.code_manifest`): the running code for `simulate_to_store`, ``world.code`` for
`write_world_to_store`. `ensure_store` reuses a store only when its format, config, event count
and code hash match the world's, so a store written from a world of older code is rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from persona_lib.data import schema
from persona_lib.data.io import atomic_directory, write_json, write_parquet
from persona_lib.data.policies import ServingPolicy
from persona_lib.sim import code_version
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.day import EVENT_COLUMNS, IMPRESSION_COLUMNS
from persona_lib.sim.simulate import DayLoop, events_frame
from persona_lib.sim.world import Truth, World, persona_version

STORE_FORMAT = 1
MANIFEST = "manifest.json"
PARTITIONED = ("events", "propensities", "truth/impressions")
SMALL_TABLES = ("titles", "artworks", "users", "billing", "notifications")
PART_FILE = "part-00000.parquet"
DAY_MS = 86_400_000
IMPRESSION = schema.EVENT_TYPES.index("impression")
TRUTH_IMPRESSION_COLUMNS = [c for c in IMPRESSION_COLUMNS if c != "pscore"]


# --- writing ---------------------------------------------------------------------------------
@contextmanager
def _atomic_directory(root: Path) -> Iterator[Path]:
    """`atomic_directory` for a store: refuses a non-empty folder that is not a store."""
    if root.exists() and any(root.iterdir()) and not (root / MANIFEST).is_file():
        raise FileExistsError(f"{root} exists, is not empty and is not an event store")
    with atomic_directory(root) as tmp:
        yield tmp


def _date_name(day_index: int) -> str:
    """``YYYY-MM-DD`` of a day counted from the epoch."""
    return str(np.datetime64(int(day_index), "D"))


def _write_arrow(frame: pd.DataFrame, path: Path) -> None:
    """One Parquet file without pandas metadata (NaN floats become nulls, zstd, no index)."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _write_date(root: Path, date: str, events: pd.DataFrame, imp: pd.DataFrame) -> None:
    """Write one date's events, propensities and impression truth (``imp`` has event_id)."""
    _write_arrow(events, root / "events" / f"day={date}" / PART_FILE)
    _write_arrow(imp[["event_id", "pscore"]], root / "propensities" / f"day={date}" / PART_FILE)
    truth = imp[["event_id", *TRUTH_IMPRESSION_COLUMNS]]
    _write_arrow(truth, root / "truth" / "impressions" / f"day={date}" / PART_FILE)


def _take(columns: dict, index: np.ndarray | slice) -> dict:
    return {k: v[index] for k, v in columns.items()}


def _merge_pieces(pieces: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Stable merge by ``ts`` of sorted runs (in day order) and their aligned impressions."""
    ev = {k: np.concatenate([p[0][k] for p in pieces]) for k in EVENT_COLUMNS}
    imp = {k: np.concatenate([p[1][k] for p in pieces]) for k in IMPRESSION_COLUMNS}
    order = np.argsort(ev["ts"], kind="stable")
    is_imp = ev["event_type"] == IMPRESSION
    imp_rank = np.cumsum(is_imp) - 1  # row of each impression event in ``imp``
    imp = _take(imp, imp_rank[order[is_imp[order]]])
    return _take(ev, order), imp


class _DateWriter:
    """Writes each date's partitions once no later day can add events to it."""

    def __init__(self, root: Path, row_names: dict[str, int], first_date: int):
        self.root, self.row_names = root, row_names  # the live dict: codes only ever grow
        self.next_date = first_date  # epoch day of the first date not yet written
        self.pending: list[tuple[dict, dict]] = []  # unwritten events of finished days
        self.n_events, self.n_impressions, self.days = 0, 0, []

    def add(self, events: dict, impressions: dict, midnight_ms: int) -> None:
        """Queue a finished day's sorted events; none may precede its midnight."""
        if events["ts"].size and events["ts"][0] < midnight_ms:
            raise RuntimeError("a day's events start before its midnight; dates cannot stream")
        self.pending.append((events, impressions))

    def flush(self, cut_ms: int | None) -> None:
        """Write every date before ``cut_ms`` (all remaining dates when None)."""
        heads, tails = [], []
        for ev, imp in self.pending:
            i = ev["ts"].size if cut_ms is None else int(np.searchsorted(ev["ts"], cut_ms))
            n_imp = int(np.count_nonzero(ev["event_type"][:i] == IMPRESSION))
            heads.append((_take(ev, slice(0, i)), _take(imp, slice(0, n_imp))))
            if i < ev["ts"].size:  # copies, so the day's full arrays can be freed
                tail_ev = {k: v[i:].copy() for k, v in ev.items()}
                tails.append((tail_ev, {k: v[n_imp:].copy() for k, v in imp.items()}))
        self.pending = tails
        if not heads:
            return
        ev, imp = _merge_pieces(heads)
        del heads
        last = self.next_date - 1 if not ev["ts"].size else int(ev["ts"][-1] // DAY_MS)
        end = last + 1 if cut_ms is None else cut_ms // DAY_MS  # every date before the cut
        bounds = np.searchsorted(ev["ts"], np.arange(self.next_date, end + 1) * DAY_MS)
        imp_bounds = np.concatenate([[0], np.cumsum(ev["event_type"] == IMPRESSION)])[bounds]
        for j, date in enumerate(range(self.next_date, end)):
            a, b = int(bounds[j]), int(bounds[j + 1])
            self._write(date, _take(ev, slice(a, b)), _take(imp, slice(*imp_bounds[j : j + 2])))
        self.next_date = end

    def _write(self, date: int, ev: dict, imp: dict) -> None:
        frame = events_frame(ev, list(self.row_names))
        ids = np.arange(self.n_events, self.n_events + len(frame), dtype=np.int32)
        frame.insert(0, "event_id", ids)
        imp_frame = pd.DataFrame({"event_id": ids[ev["event_type"] == IMPRESSION], **imp})
        _write_date(self.root, _date_name(date), frame, imp_frame)
        self.n_events += len(frame)
        self.n_impressions += len(imp_frame)
        self.days.append(_date_name(date))


def _midnight_ms(config: SimulationConfig, day: int) -> int:
    return int((config.start + np.timedelta64(day, "D")).astype("datetime64[ms]").astype(np.int64))


def _write_manifest(root: Path, config: SimulationConfig, rows: dict, truth_rows: dict, extra):
    write_json(
        {
            "format": STORE_FORMAT,
            "config": config.to_dict(),
            "persona_version": persona_version(),
            "n_events": rows["events"],
            "rows": rows,
            "truth_rows": truth_rows,
            **extra,
        },
        root / MANIFEST,
    )


def _write_small(root: Path, tables: dict, truth_tables: dict) -> tuple[dict, dict]:
    """Write the one-file tables; return their row counts."""
    for name, frame in tables.items():
        write_parquet(frame, root / f"{name}.parquet")
    for name, frame in truth_tables.items():
        write_parquet(frame, root / "truth" / f"{name}.parquet")
    return {n: len(f) for n, f in tables.items()}, {n: len(f) for n, f in truth_tables.items()}


def simulate_to_store(
    config: SimulationConfig, root: str | os.PathLike, policy: ServingPolicy | None = None
) -> Path:
    """Simulate like `simulate` but write each date's events as soon as it is complete.

    Only the spill-over of sessions past midnight is carried between days, so memory does not
    grow with the number of events. Event ids, tables and truth equal ``simulate(config,
    policy)``'s (see the module docstring).

    Parameters
    ----------
    config : the world to simulate.
    root : the store directory; replaced atomically if it already holds a store.
    policy : any `ServingPolicy`; default `PopularityGenrePolicy` (as `simulate`).

    Returns
    -------
    The store's path.

    Examples
    --------
    >>> simulate_to_store(load_preset("smoke"), "data/store/smoke-0")  # doctest: +SKIP
    """
    root = Path(root)
    loop = DayLoop.start(config, policy)
    pop, ctx = loop.pop, loop.ctx
    with _atomic_directory(root) as tmp:
        writer = _DateWriter(tmp, ctx.row_names, _midnight_ms(config, 0) // DAY_MS)
        for day, result in loop.days():
            writer.add(result.events, result.impressions, _midnight_ms(config, day))
            del result
            writer.flush(_midnight_ms(config, day + 1))
        writer.flush(None)
        sub = loop.subs.tables()
        logs = {"titles": pop.titles, "artworks": pop.artworks, "users": pop.users}
        logs |= {"billing": sub["billing"], "notifications": sub["notifications"]}
        truth = loop.truth_tables(sub)
        rows, truth_rows = _write_small(tmp, logs, truth)
        rows |= {"events": writer.n_events, "propensities": writer.n_impressions}
        truth_rows["impressions"] = writer.n_impressions
        extra = {
            "code": code_version.code_manifest(),
            "days": writer.days,
            "row_ids": sorted(ctx.row_names),
        }
        _write_manifest(tmp, config, rows, truth_rows, extra)
    return root


def write_world_to_store(world: World, root: str | os.PathLike) -> Path:
    """Write an in-memory `World` in the store layout (events partitioned by their date).

    Examples
    --------
    >>> write_world_to_store(simulate(load_preset("smoke")), "data/store/smoke-0")  # doctest: +SKIP
    """
    root = Path(root)
    events = world.events
    ts = events["ts"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    date = ts // DAY_MS
    ids = events["event_id"].to_numpy()
    id_order = np.argsort(ids, kind="stable")
    imp = world.propensities.merge(world.truth.tables["impressions"], on="event_id", how="left")
    where = id_order[np.searchsorted(ids, imp["event_id"].to_numpy(), sorter=id_order)]
    imp_date = date[where]
    days = [int(d) for d in np.unique(date)]
    days = list(range(days[0], days[-1] + 1)) if days else []
    with _atomic_directory(root) as tmp:
        for d in days:
            day_imp = imp[imp_date == d].reset_index(drop=True)
            _write_date(tmp, _date_name(d), events[date == d].reset_index(drop=True), day_imp)
        logs = {name: getattr(world, name) for name in SMALL_TABLES}
        truth = {n: f for n, f in world.truth.tables.items() if n != "impressions"}
        rows, truth_rows = _write_small(tmp, logs, truth)
        rows |= {"events": len(events), "propensities": len(world.propensities)}
        truth_rows["impressions"] = len(world.truth.tables["impressions"])
        row_ids = [str(c) for c in events["row_id"].cat.categories]
        extra = {"code": world.code, "days": [_date_name(d) for d in days], "row_ids": row_ids}
        _write_manifest(tmp, world.config, rows, truth_rows, extra)
    return root


def logs_store_matches(root: str | os.PathLike, key: dict) -> bool:
    """True when ``root`` holds the store `write_logs_to_store` wrote for the same `key`."""
    manifest = Path(root) / MANIFEST
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text(encoding="utf-8")).get("logs") == key


def write_logs_to_store(
    tables: dict[str, pd.DataFrame], root: str | os.PathLike, key: dict
) -> Path:
    """Write validated logs (no truth) in the store layout, so SQL engines read them.

    ``events`` (and ``propensities``, when given) are partitioned by the UTC date of each event;
    the other tables of `SMALL_TABLES` present become one Parquet file each. `key` (the logs'
    file hashes) goes to the manifest, so `logs_store_matches` reuses the store only for the
    same logs. Written atomically.
    """
    root = Path(root)
    events = tables["events"]
    date = events["ts"].to_numpy().astype("datetime64[ms]").astype(np.int64) // DAY_MS
    pscore = tables.get("propensities")
    if pscore is not None:
        where = pd.Series(date, index=events["event_id"].to_numpy())
        pscore_date = where.reindex(pscore["event_id"].to_numpy()).to_numpy()
    with _atomic_directory(root) as tmp:
        for d in np.unique(date):
            name = _date_name(int(d))
            _write_arrow(
                events[date == d].reset_index(drop=True), tmp / "events" / f"day={name}" / PART_FILE
            )
            if pscore is not None:
                day = pscore[pscore_date == d].reset_index(drop=True)
                _write_arrow(day, tmp / "propensities" / f"day={name}" / PART_FILE)
        small = {n: tables[n] for n in SMALL_TABLES if tables.get(n) is not None}
        rows, _ = _write_small(tmp, small, {})
        rows["events"] = len(events)
        write_json({"format": STORE_FORMAT, "n_events": len(events), "rows": rows, "logs": key},
                   tmp / MANIFEST)  # fmt: skip
    return root


# --- reading ---------------------------------------------------------------------------------
def read_manifest(root: str | os.PathLike) -> dict:
    """The store's manifest (format, config, code, n_events, days, row counts)."""
    return json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))


def _read_partitioned(
    directory: Path, days: Iterable | None, columns: list[str] | None
) -> pd.DataFrame:
    """Read ``directory/day=*/`` files in date order as pandas; unknown ``days`` are skipped."""
    every = sorted(directory.glob(f"day=*/{PART_FILE}"))
    files = every
    if days is not None:
        wanted = {f"day={np.datetime64(pd.Timestamp(d).date(), 'D')}" for d in days}
        files = [f for f in every if f.parent.name in wanted]
    # the date is in each row's own timestamp; the partition key is only used to pick files
    dataset = ds.dataset([str(f) for f in files], schema=pq.read_schema(every[0]), format="parquet")
    return dataset.to_table(columns=columns).to_pandas()


def _fix_categories(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """Give categoricals their full category lists (files only know their own dictionary)."""
    for name, cats in categories.items():
        if name in frame:
            frame[name] = frame[name].cat.set_categories(cats)
    return frame


def read_events(
    root: str | os.PathLike, days: Iterable | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read logged events (all, or only some dates) with the schema's dtypes, in event_id order.

    Parameters
    ----------
    root : a store written by `simulate_to_store` or `write_world_to_store`.
    days : dates (``"2025-01-03"``, ``datetime.date``, ...) of the partitions to read; all if None.
    columns : event columns to read; all if None.

    Examples
    --------
    >>> read_events("data/store/smoke-0", days=["2025-01-01"], columns=["ts"])  # doctest: +SKIP
    """
    root = Path(root)
    manifest = read_manifest(root)
    frame = _read_partitioned(root / "events", days, columns)
    if "event_id" in frame and not frame["event_id"].is_monotonic_increasing:
        frame = frame.sort_values("event_id", kind="stable", ignore_index=True)
    cats = {"device": list(schema.DEVICES), "event_type": list(schema.EVENT_TYPES)}
    return _fix_categories(frame, cats | {"row_id": manifest["row_ids"]})


def read_table(root: str | os.PathLike, name: str, days: Iterable | None = None) -> pd.DataFrame:
    """Read one table: a log (``"billing"``), ``"propensities"`` or ``"truth/<name>"``."""
    root = Path(root)
    if name == "events":
        return read_events(root, days)
    if name in PARTITIONED:
        return _read_partitioned(root / name, days, None)
    return pd.read_parquet(root / f"{name}.parquet")


def read_world(root: str | os.PathLike) -> World:
    """Load a whole store into memory as a `World` (for worlds that fit in memory)."""
    root = Path(root)
    manifest = read_manifest(root)
    config = SimulationConfig.from_dict(manifest["config"])
    logs = {name: read_table(root, name) for name in (*SMALL_TABLES, "events", "propensities")}
    truth_tables = {n: read_table(root, f"truth/{n}") for n in manifest["truth_rows"]}
    truth = Truth(config, truth_tables, logs["titles"], logs["artworks"], logs["users"])
    return World(config=config, truth=truth, code=manifest.get("code", {}), **logs)


def store_matches(root: str | os.PathLike, world: World) -> bool:
    """Whether ``root`` holds a store of this world (same format, config, event count and code).

    A world of unknown code (``world.code == {}``, loaded from an old manifest) matches no store.
    """
    path = Path(root) / MANIFEST
    if not path.is_file():
        return False
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return (
        manifest.get("format") == STORE_FORMAT
        and manifest.get("config") == world.config.to_dict()
        and manifest.get("n_events") == len(world.events)
        and bool(world.code)
        and manifest.get("code") == world.code
    )


def ensure_store(world: World, root: str | os.PathLike) -> Path:
    """The store of ``world`` at ``root``: reused when it matches, else (re)written atomically.

    Worlds simulated with the default serving policy are identified by their config and the
    code that made them (``world.code``); a store whose manifest records another config, event
    count or code hash (or none: written before the hash was recorded) is replaced.
    """
    if store_matches(root, world):
        return Path(root)
    return write_world_to_store(world, root)
