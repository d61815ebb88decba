"""Export a simulated world's logs as a folder of files that `load_logs` reads, truth apart.

The folder holds exactly what a team would have: the logged tables of `world.LOG_TABLES` and the
serving policy's ``propensities``, any ``extra_tables`` of the schema's optional tables (e.g. the
``assignments`` of an experiment simulated on the world), plus ``export.json`` (format, layout,
file and row count per table; no config, seed or path). The ground truth is written only to
``truth_out`` when it is given, as Parquet with the world's config in its own ``export.json``,
and never inside the logs folder. Layouts:

- ``files``: ``<table>.parquet`` or ``<table>.csv`` per table.
- ``store``: ``events/day=YYYY-MM-DD/part-00000.parquet`` by the UTC date of ``ts``, the
  ``propensities`` likewise by the date of their event, the other tables ``<table>.parquet``
  (Parquet only: the layout `persona_lib.sim.event_store` writes and DuckDB or Spark scan).

Each folder is built in a temporary folder beside it (every file written atomically by
`persona_lib.data.io`) and renamed onto it at the end, so a failure leaves no partial export. An
existing folder is replaced only if it is empty or a previous export of the same kind.

Not part of the simulator's code hash (`code_version.NOT_HASHED`): it writes worlds, it never
decides what they hold. For the same reason `persona_lib.sim` imports it only on first use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from persona_lib.data.io import atomic_directory, atomic_path, write_json, write_parquet
from persona_lib.data.schema import OPTIONAL_TABLES
from persona_lib.data.validation import validate
from persona_lib.sim.world import LOG_TABLES, World, persona_version

__all__ = ["EXPORT_MANIFEST", "EXPORTED_TABLES", "export_logs"]

EXPORT_MANIFEST = "export.json"
EXPORTED_TABLES = (*LOG_TABLES, "propensities")
FORMATS = ("parquet", "csv")
LAYOUTS = ("files", "store")
PARTITIONED = ("events", "propensities")
PART_FILE = "part-00000.parquet"
LOGS_KIND, TRUTH_KIND = "persona-logs", "persona-truth"
EXPORT_VERSION = 1


def _is_export(folder: Path, kind: str) -> bool:
    try:
        manifest = json.loads((folder / EXPORT_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == kind


def _check_target(folder: Path, kind: str) -> None:
    """Refuse a folder that holds anything but a previous export of this kind."""
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not _is_export(folder, kind):
        raise FileExistsError(
            f"{folder}: not empty and not a previous persona export ({EXPORT_MANIFEST} of kind "
            f"{kind!r}); choose an empty or new folder"
        )


def _write_table(frame: pd.DataFrame, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        write_parquet(frame, path)
        return
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def _partition_days(world: World) -> dict[str, np.ndarray]:
    """UTC date of each event and of each propensity's event."""
    events = world.events
    event_day = events["ts"].to_numpy().astype("datetime64[D]")
    by_id = pd.Series(event_day, index=events["event_id"].to_numpy())
    prop_day = by_id.reindex(world.propensities["event_id"].to_numpy()).to_numpy()
    if pd.isna(prop_day).any():
        raise ValueError("world.propensities holds event ids that are not in world.events")
    return {"events": event_day, "propensities": prop_day.astype("datetime64[D]")}


def _write_store(frame: pd.DataFrame, folder: Path, day: np.ndarray) -> None:
    for date in np.unique(day):
        part = frame[day == date].reset_index(drop=True)
        write_parquet(part, folder / f"day={date}" / PART_FILE)


def _extra_tables(world: World, extra: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    """The extra tables validated through the schema, their references checked on the world."""
    if not extra:
        return {}
    allowed = [name for name in OPTIONAL_TABLES if name not in EXPORTED_TABLES]
    wrong = [name for name in extra if name not in allowed]
    if wrong:
        raise ValueError(
            f"extra_tables must be optional tables the world does not write ({', '.join(allowed)}),"
            f" got {wrong}"
        )
    references = {**world.tables, "propensities": world.propensities}
    return {
        name: validate(frame, name, f"extra_tables[{name!r}]", references=references)
        for name, frame in extra.items()
    }


def _write_logs(
    world: World, root: Path, file_format: str, layout: str, extra: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    tables = {**world.tables, "propensities": world.propensities, **extra}
    days = _partition_days(world) if layout == "store" else {}
    listed = {}
    for name, frame in tables.items():
        if name in days:
            _write_store(frame, root / name, days[name])
            file = f"{name}/"
        else:
            file = f"{name}.{file_format}"
            _write_table(frame, root / file, file_format)
        listed[name] = {"file": file, "rows": len(frame)}
    manifest = {
        "kind": LOGS_KIND,
        "version": EXPORT_VERSION,
        "format": file_format,
        "layout": layout,
        "tables": listed,
        "persona_version": persona_version(),
    }
    write_json(manifest, root / EXPORT_MANIFEST)
    return manifest


def _write_truth(world: World, root: Path) -> dict[str, Any]:
    rows = {}
    for name, frame in world.truth.tables.items():
        write_parquet(frame, root / f"{name}.parquet")
        rows[name] = len(frame)
    manifest = {
        "kind": TRUTH_KIND,
        "version": EXPORT_VERSION,
        "config": world.config.to_dict(),
        "rows": rows,
        "persona_version": persona_version(),
    }
    write_json(manifest, root / EXPORT_MANIFEST)
    return manifest


def _check_arguments(file_format: str, layout: str, out: Path, truth: Path | None) -> None:
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "store" and file_format != "parquet":
        raise ValueError("layout 'store' writes Parquet partitions; use format 'parquet'")
    if truth is not None:
        a, b = out.resolve(), truth.resolve()
        if a == b or a.is_relative_to(b) or b.is_relative_to(a):
            raise ValueError(
                f"truth folder {truth} overlaps the logs folder {out}; keep the truth apart"
            )


def export_logs(
    world: World,
    out: str | os.PathLike,
    *,
    format: str = "parquet",  # noqa: A002 - the word users type (`persona export --format`)
    layout: str = "files",
    truth_out: str | os.PathLike | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Write a world's logged tables into `out` in the layout `load_logs` reads, without truth.

    Parameters
    ----------
    world : World
        A simulated world (`simulate`, `load_or_simulate`).
    out : str or os.PathLike
        The logs folder: new, empty or a previous export (replaced as a whole, atomically).
    format : {"parquet", "csv"}
        File format of the tables (``"store"`` takes Parquet only).
    layout : {"files", "store"}
        One file per table, or events and propensities partitioned by day (module docstring).
    truth_out : str or os.PathLike, optional
        A separate folder (not inside `out`, nor `out` inside it) for the truth tables as
        Parquet and the world's config; no truth is written when None.
    extra_tables : dict of str to DataFrame, optional
        Optional tables of the schema the world does not hold (``assignments``, ``outcomes``,
        ``campaigns``), e.g. the assignments of an experiment simulated on this world. Each is
        validated (`persona_lib.data.validate`, references against the world's tables) and
        written in its canonical dtypes like the others.

    Returns
    -------
    dict
        ``export.json`` of the logs (``kind``, ``format``, ``layout``, ``tables``: per table its
        ``file`` relative to `out` and ``rows``) plus ``truth``: the truth folder's
        ``export.json`` or None. JSON-safe, no paths beyond the relative file names.

    Raises
    ------
    ValueError
        An unknown format or layout, CSV with the store layout, overlapping folders, an extra
        table that is not an optional table of the schema or one the world already writes.
    SchemaError
        An extra table that does not fit its schema (column, rows and problem named).
    FileExistsError
        `out` or `truth_out` holds files and is not a previous export of its kind.

    Examples
    --------
    >>> world = load_or_simulate("smoke", random_state=0)  # doctest: +SKIP
    >>> export_logs(world, "my_logs", format="csv")["tables"]["events"]  # doctest: +SKIP
    {'file': 'events.csv', 'rows': 230560}
    """
    out = Path(out)
    truth = None if truth_out is None else Path(truth_out)
    _check_arguments(format, layout, out, truth)
    extra = _extra_tables(world, extra_tables)
    _check_target(out, LOGS_KIND)
    if truth is not None:
        _check_target(truth, TRUTH_KIND)
    with atomic_directory(out) as tmp:
        manifest = _write_logs(world, tmp, format, layout, extra)
    truth_manifest = None
    if truth is not None:
        with atomic_directory(truth) as tmp:
            truth_manifest = _write_truth(world, tmp)
    return {**manifest, "truth": truth_manifest}
