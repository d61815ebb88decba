"""Reading one MovieLens file: the per-file field specs, the fast parse and the error scan.

Each file the loaders in `persona_lib.datasets.movielens` read is described by a `_FileSpec`
(fields in order with their kind and range, separator, encodings, header). `read_file` parses it
vectorized with pandas' C reader; only when that fails does `_malformed` scan the file line by
line, so the ValueError names the file and the first five offending line numbers (1-based, counting
a header line). `catalog_index` and `category_codes` turn original MovieLens ids into contiguous
0-based ids and report repeated or unknown ids the same way.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# u.item's 19 flags in file order (u.genre); MovieLens' own spellings, "unknown" included.
GENRES_100K: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
# users.dat occupation codes 0..20, as listed in the 1M README.
OCCUPATIONS_1M: tuple[str, ...] = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip
MAX_ID = int(np.iinfo(np.int32).max)
_KINDS = {"int": "int64", "float": "float64", "str": str, "skip": str}

_Check = tuple[str, Callable[[str], bool], str]  # column, test of its text, problem if false


@dataclass(frozen=True)
class _FileSpec:
    """One input file: its fields in order (name, kind, range), separator and encodings."""

    sep: str
    fields: tuple[tuple[str, str, tuple[float, float] | None], ...]  # kind: int, float, str, skip
    encodings: tuple[str, ...] = ("latin-1",)
    header: tuple[str, ...] | None = None
    quoted: bool = False  # CSV quoting (movies.csv titles with commas)

    @property
    def skipped(self) -> list[str]:
        return [name for name, kind, _ in self.fields if kind == "skip"]


_ID = (0, MAX_ID)
_RATING_FIELDS = (
    ("user", "int", _ID),
    ("movie", "int", _ID),
    ("rating", "float", (0.5, 5.0)),
    ("unix_s", "int", (0, 2**40)),
)
_MOVIE_FIELDS = (("movie", "int", _ID), ("name", "str", None), ("genres", "str", None))
_ITEM_FIELDS = (
    ("movie", "int", _ID),
    ("name", "str", None),
    *((f"_unused{i}", "skip", None) for i in range(3)),  # release dates, IMDb address
    *((genre, "int", (0, 1)) for genre in GENRES_100K),
)
_USER_100K_FIELDS = (
    ("user", "int", _ID),
    ("age", "int", (0, 200)),
    ("gender", "str", None),
    ("occupation", "str", None),
    ("zip_code", "str", None),
)
_USER_1M_FIELDS = (
    ("user", "int", _ID),
    ("gender", "str", None),
    ("age", "int", (0, 200)),
    ("occupation", "int", (0, len(OCCUPATIONS_1M) - 1)),
    ("zip_code", "str", None),
)
_UTF8_OR_LATIN1 = ("utf-8", "latin-1")
FILE_SPECS: dict[str, _FileSpec] = {
    "u.data": _FileSpec("\t", _RATING_FIELDS),
    "u.item": _FileSpec("|", _ITEM_FIELDS),
    "u.user": _FileSpec("|", _USER_100K_FIELDS),
    "ratings.dat": _FileSpec("::", _RATING_FIELDS),
    "movies.dat": _FileSpec("::", _MOVIE_FIELDS, encodings=_UTF8_OR_LATIN1),
    "users.dat": _FileSpec("::", _USER_1M_FIELDS),
    "ratings.csv": _FileSpec(
        ",", _RATING_FIELDS, ("utf-8",), header=("userId", "movieId", "rating", "timestamp")
    ),
    "movies.csv": _FileSpec(
        ",", _MOVIE_FIELDS, ("utf-8",), header=("movieId", "title", "genres"), quoted=True
    ),
}


# --- reading one file ------------------------------------------------------------------------
def read_file(path: Path, spec: _FileSpec, checks: tuple[_Check, ...] = ()) -> pd.DataFrame:
    """Parse `path` with pandas' C reader; any malformed line raises `_malformed`'s ValueError."""
    if spec.header is not None:
        _check_header(path, spec)
    source: Path | io.BytesIO = path
    sep = spec.sep
    if len(sep) > 1:  # the C reader takes one character: swap "::" for an unused control byte
        source, sep = io.BytesIO(path.read_bytes().replace(sep.encode(), b"\x1f")), "\x1f"
    # Every field is read, even unused ones: with `usecols` the C reader ignores extra fields.
    dtypes = {name: _KINDS[kind] for name, kind, _ in spec.fields}
    for encoding in spec.encodings:
        if isinstance(source, io.BytesIO):
            source.seek(0)
        try:
            frame = pd.read_csv(
                source,
                sep=sep,
                header=0 if spec.header else None,
                names=[name for name, _, _ in spec.fields],
                dtype=dtypes,
                engine="c",
                encoding=encoding,
                keep_default_na=False,
                na_values=[],
                quoting=csv.QUOTE_MINIMAL if spec.quoted else csv.QUOTE_NONE,
            )
        except UnicodeDecodeError:
            continue
        except ValueError as error:  # pandas' ParserError, or a cell that is not a number
            raise _malformed(path, spec, checks, str(error)) from None
        break
    else:
        raise _malformed(path, spec, checks, f"not valid {' or '.join(spec.encodings)} text")
    # Extra fields on the first line turn into an index; a short line leaves NaN cells.
    if not isinstance(frame.index, pd.RangeIndex) or frame.isna().any().any():
        raise _malformed(path, spec, checks, "wrong number of fields")
    for name, _, bounds in spec.fields:
        if bounds is not None and not frame[name].between(*bounds).all():
            raise _malformed(path, spec, checks, f"{name} outside {bounds}")
    return frame.drop(columns=spec.skipped)


def _check_header(path: Path, spec: _FileSpec) -> None:
    encoding = "utf-8-sig" if spec.encodings[0] == "utf-8" else spec.encodings[0]  # a BOM
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        found = handle.readline().rstrip("\r\n")
    if next(csv.reader([found]), []) != list(spec.header):
        raise ValueError(
            f"{path}: malformed line 1: expected the header {spec.sep.join(spec.header)!r}, "
            f"found {found[:80]!r}"
        )


def _problem(text: str, spec: _FileSpec, checks: tuple[_Check, ...]) -> str | None:
    """Why one line of text does not parse, or None."""
    cells = next(csv.reader([text])) if spec.quoted else text.split(spec.sep)
    if len(cells) != len(spec.fields):
        return f"expected {len(spec.fields)} fields, found {len(cells)}"
    values = {}
    for cell, (name, kind, bounds) in zip(cells, spec.fields, strict=True):
        values[name] = cell
        if kind in ("int", "float"):
            try:
                number = int(cell) if kind == "int" else float(cell)
            except ValueError:
                return f"{name} {cell!r} is not {'an integer' if kind == 'int' else 'a number'}"
            if not math.isfinite(number):
                return f"{name} {cell!r} is not a finite number"
            if bounds is not None and not bounds[0] <= number <= bounds[1]:
                return f"{name} {cell!r} is outside [{bounds[0]:g}, {bounds[1]:g}]"
    for name, test, message in checks:
        if not test(values[name]):
            return f"{name} {values[name]!r} {message}"
    return None


def _malformed(path: Path, spec: _FileSpec, checks: tuple[_Check, ...], hint: str) -> ValueError:
    """Scan `path` line by line (only once the fast reader has failed) for the first five
    lines that do not parse; the error names them and the first line's problem."""
    bad: list[tuple[int, str]] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if spec.header is not None and number == 1:
                continue
            text = _decode(raw, spec.encodings)
            if text is not None and not text.strip():
                continue  # the fast reader skips blank lines too
            problem = "not valid text" if text is None else _problem(text, spec, checks)
            if problem is not None:
                bad.append((number, problem))
                if len(bad) == 5:
                    break
    if not bad:
        return ValueError(f"{path}: cannot parse: {hint}")
    if len(bad) == 1:
        return ValueError(f"{path}: malformed line {bad[0][0]}: {bad[0][1]}")
    lines = ", ".join(str(number) for number, _ in bad)
    more = " (the first five)" if len(bad) == 5 else ""
    return ValueError(f"{path}: malformed lines {lines}{more}; line {bad[0][0]}: {bad[0][1]}")


def _decode(raw: bytes, encodings: tuple[str, ...]) -> str | None:
    for encoding in encodings:
        try:
            return raw.decode(encoding).rstrip("\r\n")
        except UnicodeDecodeError:
            continue
    return None


def catalog_index(path: Path, spec: _FileSpec, frame: pd.DataFrame, column: str) -> np.ndarray:
    """The sorted original ids of a catalog file (movies or users); a repeated id raises."""
    ids = frame[column].to_numpy()
    index = np.unique(ids).astype(np.int32)
    if len(index) < len(ids):
        raise _malformed(path, spec, ((column, _first_sighting(), "is repeated"),), "repeated ids")
    return index


def _first_sighting() -> Callable[[str], bool]:
    """A test that is true the first time it sees a value (lines are scanned in order)."""
    seen: set[int] = set()

    def test(value: str) -> bool:
        number = int(value)
        if number in seen:
            return False
        seen.add(number)
        return True

    return test


def category_codes(
    index: np.ndarray, ids: np.ndarray, path: Path, spec: _FileSpec, column: str, catalog: str
) -> np.ndarray:
    """Contiguous 0-based ids: positions of `ids` (>= 0) in the sorted `index`; unknown raise."""
    top = int(index[-1]) if len(index) else -1
    if top < 2**24:  # a dense lookup table (<= 64 MB) beats a binary search 5-fold
        lookup = np.full(top + 2, -1, np.int32)  # the last slot catches every id above `top`
        lookup[index] = np.arange(len(index), dtype=np.int32)
        codes = lookup[np.minimum(ids, top + 1)]
    else:
        codes = np.searchsorted(index, ids)
        codes[index[np.minimum(codes, len(index) - 1)] != ids] = -1
    if (codes < 0).any():
        known = set(index.tolist())
        check = (column, lambda value: int(value) in known, f"is not in {catalog}")
        raise _malformed(path, spec, (check,), f"{column} ids missing from {catalog}")
    return codes.astype(np.int32)
