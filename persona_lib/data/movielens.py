"""Loaders for the GroupLens MovieLens rating sets, read in place from an unpacked folder.

Three on-disk formats are recognised by the files in the folder:

- ``"100k"``: MovieLens 100K. ``u.data`` (tab-separated user, item, rating, unix time),
  ``u.item`` (ISO-8859-1, pipe-separated, 19 genre flags), ``u.user`` (age, gender,
  occupation, zip code).
- ``"1m"``: MovieLens 1M (and 10M, which has no ``users.dat``). ``ratings.dat``,
  ``movies.dat`` (``|``-joined genres; latin-1 in 1M, UTF-8 in 10M) and ``users.dat``, all
  ``::``-separated.
- ``"csv"``: MovieLens latest, 20M, 25M and 32M. ``ratings.csv`` (``userId,movieId,rating,
  timestamp``) and ``movies.csv`` (``movieId,title,genres``); no demographics.

Every loader returns a `MovieLens`: persona's contiguous 0-based ``user_id`` / ``title_id``
(assigned in ascending order of the original ids) beside the original MovieLens ids
(``users.source_user_id``, ``titles.movie_id``, ``user_index``, ``title_index``), so results can
be compared with tools that use raw ids; `MovieLens.add_source_ids` puts them on any frame.
Range checks: ids 0 .. 2**31 - 1, ratings 0.5 .. 5, genre flags 0 / 1.
Files are only read; nothing is downloaded. Parsing is vectorized (pandas' C reader); a line
that does not parse is then located by a line-by-line scan, and the ValueError names the file
and the first five offending line numbers (1-based, counting a header line).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.data.schema import TS_UNIT

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
# (ratings, titles, users) file names per format; users is optional (10M and the CSV sets lack it).
FILES: dict[str, tuple[str, str, str | None]] = {
    "100k": ("u.data", "u.item", "u.user"),
    "1m": ("ratings.dat", "movies.dat", "users.dat"),
    "csv": ("ratings.csv", "movies.csv", None),
}
EXPECTED = (
    "expected MovieLens 100K (u.data, u.item, optional u.user), "
    "1M/10M (ratings.dat, movies.dat, optional users.dat) "
    "or latest/20M/25M (ratings.csv, movies.csv)"
)
MAX_ID = int(np.iinfo(np.int32).max)
_STR = pd.StringDtype(na_value=np.nan)
# "(1995)" at the end of a title; also "(1995) (V)" (100K's videos) and a range "(2016-2019)"
_YEAR = r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4}\s*)?\)(?:\s*\((?:V|TV)\))?\s*$"
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
_SPECS: dict[str, _FileSpec] = {
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
def _read(path: Path, spec: _FileSpec, checks: tuple[_Check, ...] = ()) -> pd.DataFrame:
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


def _index(path: Path, spec: _FileSpec, frame: pd.DataFrame, column: str) -> np.ndarray:
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


def _codes(
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


# --- the dataset -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MovieLens:
    """A MovieLens rating set in persona's ids, with the original MovieLens ids kept beside them.

    Attributes
    ----------
    ratings : DataFrame
        ``user_id`` int32, ``title_id`` int32, ``rating`` float32 (1-5; half stars in the
        CSV sets), ``ts`` datetime64[ms] (UTC, from the unix seconds); rows in file order.
    titles : DataFrame
        One row per movie of the catalog file (rated or not), by ``title_id``: ``title_id``
        int32, ``movie_id`` int32 (the original MovieLens id), ``name`` (the title as
        published, e.g. "Toy Story (1995)"), ``year`` Int16 (from the trailing "(1995)";
        <NA> when absent), ``genres`` (pipe-separated, MovieLens' own genre names).
    users : DataFrame
        By ``user_id``: ``user_id`` int32, ``source_user_id`` int32 (the original id), and
        where the format has them ``age`` int16 (100K: years; 1M: the lower bound of the
        age group, 1 = under 18), ``gender`` and ``occupation`` (category), ``zip_code``.
    user_index, title_index : ndarray of int32
        The original ids by persona id: ``user_index[user_id]``, ``title_index[title_id]``.
        Persona ids are assigned in ascending order of the original ids.
    file_format : str
        ``"100k"``, ``"1m"`` or ``"csv"``.
    """

    ratings: pd.DataFrame
    titles: pd.DataFrame
    users: pd.DataFrame
    user_index: np.ndarray
    title_index: np.ndarray
    file_format: str

    def __post_init__(self) -> None:
        if self.file_format not in FILES:
            raise ValueError(
                f"file_format must be one of {sorted(FILES)}, not {self.file_format!r}"
            )
        if len(self.users) != len(self.user_index) or len(self.titles) != len(self.title_index):
            raise ValueError("users / titles must have one row per entry of their index")
        for column, n in (("user_id", len(self.user_index)), ("title_id", len(self.title_index))):
            ids = self.ratings[column].to_numpy()
            if len(ids) and (ids.min() < 0 or ids.max() >= n):
                raise ValueError(f"ratings.{column} out of range [0, {n})")

    def to_interactions(self, min_rating: float | None = None) -> pd.DataFrame:
        """A (user_id, title_id, weight) frame for `persona_lib.models` recommenders.

        Parameters
        ----------
        min_rating : float, optional
            None: every rating, ``weight`` = the rating (explicit feedback). A number: only
            ratings >= `min_rating`, each with ``weight`` 1 (implicit positives, e.g. 4).

        Returns
        -------
        DataFrame
            ``user_id`` int32, ``title_id`` int32, ``weight`` float32, in ratings order with
            a fresh 0-based index.

        Examples
        --------
        >>> ml = load_movielens("../shared/data/movielens/ml-100k")  # doctest: +SKIP
        >>> positives = ml.to_interactions(min_rating=4)  # doctest: +SKIP
        """
        frame = self.ratings
        if min_rating is None:
            weight = frame["rating"].to_numpy(np.float32)
        else:
            frame = frame[frame["rating"].to_numpy() >= min_rating]
            weight = np.ones(len(frame), np.float32)
        return pd.DataFrame(
            {
                "user_id": frame["user_id"].to_numpy(),
                "title_id": frame["title_id"].to_numpy(),
                "weight": weight,
            }
        )

    def add_source_ids(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of `frame` with ``source_user_id`` / ``movie_id`` beside its ``user_id`` /
        ``title_id`` columns (either may be absent), e.g. to compare recommendations with a
        tool that uses raw MovieLens ids.
        """
        out = frame.copy()
        if "user_id" in out.columns:
            out["source_user_id"] = self.user_index[out["user_id"].to_numpy()]
        if "title_id" in out.columns:
            out["movie_id"] = self.title_index[out["title_id"].to_numpy()]
        return out

    def to_dict(self) -> dict:
        """JSON-safe headline counts: format, ratings, users, titles, first and last day."""
        ts = self.ratings["ts"]
        return {
            "file_format": self.file_format,
            "n_ratings": len(self.ratings),
            "n_users": len(self.user_index),
            "n_titles": len(self.title_index),
            "first_day": None if ts.empty else str(ts.min().date()),
            "last_day": None if ts.empty else str(ts.max().date()),
        }


# --- assembling ------------------------------------------------------------------------------
def _titles_frame(raw: pd.DataFrame, index: np.ndarray) -> pd.DataFrame:
    raw = raw.sort_values("movie", kind="stable").reset_index(drop=True)
    names = raw["name"].astype(_STR)
    year = pd.to_numeric(names.str.extract(_YEAR, expand=False), errors="coerce")
    return pd.DataFrame(
        {
            "title_id": np.arange(len(index), dtype=np.int32),
            "movie_id": index,
            "name": names,
            "year": year.astype("Int16"),
            "genres": raw["genres"].astype(_STR),
        }
    )


def _users_frame(raw: pd.DataFrame | None, index: np.ndarray) -> pd.DataFrame:
    users = pd.DataFrame(
        {"user_id": np.arange(len(index), dtype=np.int32), "source_user_id": index}
    )
    if raw is None:
        return users
    raw = raw.sort_values("user", kind="stable").reset_index(drop=True)
    return users.assign(
        age=raw["age"].astype(np.int16),
        gender=raw["gender"].astype("category"),
        occupation=raw["occupation"].astype("category"),
        zip_code=raw["zip_code"].astype(_STR),
    )


def _assemble(
    folder: Path, file_format: str, titles_raw: pd.DataFrame, users_raw: pd.DataFrame | None
) -> MovieLens:
    """Read the ratings file and map every id onto the catalog files' contiguous ids."""
    ratings_name, titles_name, users_name = FILES[file_format]
    title_index = _index(folder / titles_name, _SPECS[titles_name], titles_raw, "movie")
    user_index = None
    if users_raw is not None:
        user_index = _index(folder / users_name, _SPECS[users_name], users_raw, "user")
    path, spec = folder / ratings_name, _SPECS[ratings_name]
    raw = _read(path, spec)
    if user_index is None:
        user_index = np.unique(raw["user"].to_numpy()).astype(np.int32)
    catalog = users_name or "the ratings"
    ratings = pd.DataFrame(
        {
            "user_id": _codes(user_index, raw["user"].to_numpy(), path, spec, "user", catalog),
            "title_id": _codes(
                title_index, raw["movie"].to_numpy(), path, spec, "movie", titles_name
            ),
            "rating": raw["rating"].to_numpy(np.float32),
            "ts": (raw["unix_s"].to_numpy(np.int64) * 1000).astype(f"datetime64[{TS_UNIT}]"),
        }
    )
    return MovieLens(
        ratings=ratings,
        titles=_titles_frame(titles_raw, title_index),
        users=_users_frame(users_raw, user_index),
        user_index=user_index,
        title_index=title_index,
        file_format=file_format,
    )


def _require(folder: Path, file_format: str) -> Path:
    """The folder, once its required files for `file_format` are known to exist."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder; {EXPECTED}")
    ratings_name, titles_name, _ = FILES[file_format]
    missing = [name for name in (ratings_name, titles_name) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: missing {', '.join(missing)}; {EXPECTED}")
    return folder


# --- public loaders --------------------------------------------------------------------------
def load_movielens_100k(path: str | os.PathLike) -> MovieLens:
    """Load MovieLens 100K from its unpacked folder (``u.data``, ``u.item``, ``u.user``).

    ``u.item``'s 19 genre flags become a pipe-separated ``genres`` (`GENRES_100K` names);
    ``u.user`` is optional and adds ``age`` (years), ``gender``, ``occupation``, ``zip_code``.
    See `MovieLens` for the columns and `load_movielens` for the errors.

    Examples
    --------
    >>> ml = load_movielens_100k("../shared/data/movielens/ml-100k")  # doctest: +SKIP
    >>> ml.titles.loc[0, "name"]  # doctest: +SKIP
    'Toy Story (1995)'
    """
    folder = _require(Path(path), "100k")
    raw = _read(folder / "u.item", _SPECS["u.item"])
    flags = raw[list(GENRES_100K)].to_numpy(bool)
    raw["genres"] = ["|".join(np.array(GENRES_100K)[row]) for row in flags]
    users = _read(folder / "u.user", _SPECS["u.user"]) if (folder / "u.user").is_file() else None
    return _assemble(folder, "100k", raw, users)


def load_movielens_1m(path: str | os.PathLike) -> MovieLens:
    """Load MovieLens 1M (or 10M) from ``ratings.dat``, ``movies.dat`` and ``users.dat``.

    ``users.dat`` is optional (10M has none) and adds ``gender``, ``age`` (the group's lower
    bound: 1, 18, 25, 35, 45, 50, 56), ``occupation`` (the README's names for codes 0-20) and
    ``zip_code``. ``movies.dat`` is read as UTF-8, else latin-1 (1M's encoding).

    Examples
    --------
    >>> ml = load_movielens_1m("data/ml-1m")  # doctest: +SKIP
    """
    folder = _require(Path(path), "1m")
    titles = _read(folder / "movies.dat", _SPECS["movies.dat"])
    users = None
    if (folder / "users.dat").is_file():
        users = _read(folder / "users.dat", _SPECS["users.dat"])
        users["occupation"] = np.array(OCCUPATIONS_1M, object)[users["occupation"].to_numpy()]
    return _assemble(folder, "1m", titles, users)


def load_movielens_csv(path: str | os.PathLike) -> MovieLens:
    """Load a CSV MovieLens set (latest, 20M, 25M, 32M): ``ratings.csv`` and ``movies.csv``.

    There are no demographics: ``users`` holds only the ids of members who rated.

    Examples
    --------
    >>> ml = load_movielens_csv("data/ml-25m")  # doctest: +SKIP
    """
    folder = _require(Path(path), "csv")
    return _assemble(folder, "csv", _read(folder / "movies.csv", _SPECS["movies.csv"]), None)


LOADERS: dict[str, Callable[[str | os.PathLike], MovieLens]] = {
    "100k": load_movielens_100k,
    "1m": load_movielens_1m,
    "csv": load_movielens_csv,
}


def load_movielens(path: str | os.PathLike) -> MovieLens:
    """Load a MovieLens folder, its format (100K, 1M/10M or CSV) detected from its files.

    Parameters
    ----------
    path : str or os.PathLike
        The unpacked folder, e.g. ``../shared/data/movielens/ml-100k``; never modified.

    Returns
    -------
    MovieLens
        Ratings, titles and users in contiguous 0-based ids, with the original ids kept.

    Raises
    ------
    FileNotFoundError
        No such folder, or it lacks a file its format needs; the message lists the files
        each format expects.
    ValueError
        Files of more than one format, or a malformed line (the message names the file and
        the first five bad line numbers), or a rating of a movie / user missing from the
        catalog file.

    Examples
    --------
    >>> ml = load_movielens("../shared/data/movielens/ml-100k")  # doctest: +SKIP
    >>> ml.to_dict()["n_ratings"]  # doctest: +SKIP
    100000
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder; {EXPECTED}")
    found = [fmt for fmt, (ratings, _, _) in FILES.items() if (folder / ratings).is_file()]
    if not found:
        raise FileNotFoundError(f"{folder}: no MovieLens ratings file; {EXPECTED}")
    if len(found) > 1:
        raise ValueError(
            f"{folder}: files of several MovieLens formats ({', '.join(found)}); "
            "call load_movielens_100k, load_movielens_1m or load_movielens_csv"
        )
    return LOADERS[found[0]](folder)
