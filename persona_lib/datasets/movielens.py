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
and the first five offending line numbers (1-based, counting a header line); the reading and
scanning live in `persona_lib.datasets.movielens_files`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.data.schema import TS_UNIT
from persona_lib.datasets.movielens_files import (
    FILE_SPECS,
    GENRES_100K,
    OCCUPATIONS_1M,
    catalog_index,
    category_codes,
    read_file,
)
from persona_lib.datasets.movielens_files import MAX_ID as MAX_ID  # re-exported (public name)

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
_STR = pd.StringDtype(na_value=np.nan)
# "(1995)" at the end of a title; also "(1995) (V)" (100K's videos) and a range "(2016-2019)"
_YEAR = r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4}\s*)?\)(?:\s*\((?:V|TV)\))?\s*$"


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
    title_index = catalog_index(folder / titles_name, FILE_SPECS[titles_name], titles_raw, "movie")
    user_index = None
    if users_raw is not None:
        user_index = catalog_index(folder / users_name, FILE_SPECS[users_name], users_raw, "user")
    path, spec = folder / ratings_name, FILE_SPECS[ratings_name]
    raw = read_file(path, spec)
    if user_index is None:
        user_index = np.unique(raw["user"].to_numpy()).astype(np.int32)
    catalog = users_name or "the ratings"
    ratings = pd.DataFrame(
        {
            "user_id": category_codes(
                user_index, raw["user"].to_numpy(), path, spec, "user", catalog
            ),
            "title_id": category_codes(
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
    raw = read_file(folder / "u.item", FILE_SPECS["u.item"])
    flags = raw[list(GENRES_100K)].to_numpy(bool)
    raw["genres"] = ["|".join(np.array(GENRES_100K)[row]) for row in flags]
    users = (
        read_file(folder / "u.user", FILE_SPECS["u.user"])
        if (folder / "u.user").is_file()
        else None
    )
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
    titles = read_file(folder / "movies.dat", FILE_SPECS["movies.dat"])
    users = None
    if (folder / "users.dat").is_file():
        users = read_file(folder / "users.dat", FILE_SPECS["users.dat"])
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
    return _assemble(
        folder, "csv", read_file(folder / "movies.csv", FILE_SPECS["movies.csv"]), None
    )


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
