"""Publishing an imported data set: a folder of logs in persona's schema, written atomically.

Every importer builds its tables in memory, then `publish_tables` writes them the way
``persona export`` does: validated together first (`persona_lib.data.validate_world`, which also
gives every column its canonical dtype), one file per table in a temporary folder beside `out`,
the folder checked as a whole by `persona_lib.data.validate_folder`, and only then renamed onto
`out` (`persona_lib.data.io.atomic_directory`). A failure at any step leaves no `out` folder (or
the old one untouched). An existing `out` that holds anything is refused unless ``force``.

The folder also holds ``manifest.json`` (skipped by the folder reader): the source, the files
read with their SHA-256, the importer's parameters and each table's file and row count. No
absolute path is written. With ``published=``, it also holds ``published.json``: figures
published from the set, for reports to show beside their own (`persona_lib.data.published`).

Defaults shared by the importers, for the columns persona's schema requires and a public set
does not record (each importer's docstring says which it uses):

- `FREE_PLAN` at price 0: the member of a free service (MovieLens, a shop, a free game) still
  needs a plan; there is no billing table then.
- `DEFAULT_COUNTRY`, `DEFAULT_LANGUAGE`, `DEFAULT_DEVICE` when the source has no such field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from persona_lib.data.folder import FolderSummary, file_sha256, validate_folder
from persona_lib.data.io import atomic_directory, write_json
from persona_lib.data.published import PublishedFigure, write_published
from persona_lib.data.validation import validate_world

__all__ = [
    "DEFAULT_COUNTRY",
    "DEFAULT_DEVICE",
    "DEFAULT_LANGUAGE",
    "FORMATS",
    "FREE_PLAN",
    "IMPORT_KIND",
    "IMPORT_MANIFEST",
    "ImportResult",
    "check_target",
    "publish_tables",
    "source_file",
]

FORMATS = ("parquet", "csv")
IMPORT_MANIFEST = "manifest.json"  # a name `persona_lib.data.folder` skips
IMPORT_KIND = "persona-import"
IMPORT_VERSION = 1
FREE_PLAN = "basic"  # with price 0.0: a member who pays nothing
DEFAULT_COUNTRY, DEFAULT_LANGUAGE, DEFAULT_DEVICE = "US", "en", "web"


@dataclass(frozen=True)
class ImportResult:
    """What an importer wrote.

    Attributes
    ----------
    source : str
        ``"movielens"``, ``"obd"``, ``"telco"`` or ``"cookie-cats"``.
    out : Path
        The folder, as given.
    summary : FolderSummary
        `persona_lib.data.validate_folder`'s summary of the published folder (file, layout,
        rows and SHA-256 per table).
    parameters : dict
        The importer's choices (format, policy, dates ...), JSON-safe.
    """

    source: str
    out: Path
    summary: FolderSummary
    parameters: dict

    @property
    def rows(self) -> dict[str, int]:
        """Rows per table, in the folder's table order."""
        return {t.table: t.rows for t in self.summary.tables}

    def to_dict(self) -> dict[str, object]:
        """``source``, ``out``, ``parameters`` and the summary's ``tables`` (JSON-safe)."""
        return {
            "source": self.source,
            "out": str(self.out),
            "parameters": dict(self.parameters),
            **self.summary.to_dict(),
        }


def source_file(src: str | os.PathLike, name: str) -> Path:
    """The source file: `src` itself, or the file `name` inside it when `src` is a folder."""
    src = Path(src)
    return src / name if src.is_dir() else src


def check_target(out: Path, force: bool) -> None:
    """Refuse an `out` that is a file, or a folder holding anything unless `force`."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise FileExistsError(
            f"{out}: not empty; choose a new or empty folder, or replace it with --force"
        )


def _write(frame: pd.DataFrame, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    else:
        frame.to_csv(path, index=False)


def publish_tables(
    tables: dict[str, pd.DataFrame],
    out: str | os.PathLike,
    *,
    source: str,
    files: dict[str, Path],
    parameters: dict,
    file_format: str = "parquet",
    force: bool = False,
    published: list[PublishedFigure] | tuple[PublishedFigure, ...] | None = None,
) -> ImportResult:
    """Validate `tables`, write them as a folder of logs and rename it onto `out`.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Tables of `persona_lib.data.ALL_TABLES` by name; extra columns are kept as they are.
    out : str or os.PathLike
        The folder to create (or, with `force`, to replace as a whole).
    source : str
        The data set's name, for the manifest and the result.
    files : dict of str to Path
        The source files read, by the name the manifest lists (relative to the source).
    parameters : dict
        The importer's JSON-safe choices, recorded in the manifest.
    file_format : {"parquet", "csv"}
        File format of every table.
    force : bool
        Replace an `out` folder that holds files.
    published : sequence of PublishedFigure, optional
        Figures published from this data set; written as ``published.json``
        (`persona_lib.data.published.write_published`) inside the temporary folder, so they
        appear with the tables or not at all. None or empty writes no file.

    Returns
    -------
    ImportResult

    Raises
    ------
    ValueError
        An unknown `file_format`.
    FileExistsError
        `out` is a file, or a folder holding files without `force`.
    SchemaError
        A table that does not fit the schema (an importer's bug: the message names the table,
        column and rows); nothing is published.

    Examples
    --------
    >>> publish_tables({"users": users}, "my_logs", source="demo", files={},
    ...                parameters={})  # doctest: +SKIP
    """
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    out = Path(out)
    check_target(out, force)
    valid = validate_world(tables, source=f"{source} import")
    with atomic_directory(out) as tmp:
        for name, frame in valid.items():
            _write(frame, tmp / f"{name}.{file_format}", file_format)
        summary = validate_folder(tmp)
        manifest = {
            "kind": IMPORT_KIND,
            "version": IMPORT_VERSION,
            "source": source,
            "files": {name: file_sha256(path) for name, path in files.items()},
            "parameters": {"format": file_format, **parameters},
            "tables": {t.table: {"file": t.file, "rows": t.rows} for t in summary.tables},
        }
        write_json(manifest, tmp / IMPORT_MANIFEST)
        if published:
            write_published(list(published), tmp, source)
    return ImportResult(source, out, summary, {"format": file_format, **parameters})
