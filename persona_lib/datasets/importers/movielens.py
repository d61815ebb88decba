"""MovieLens ratings as a folder of logs: plays of known titles by known members.

See `import_movielens` for the mapping onto persona's tables and what is lost or assumed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.data.schema import GENRES, NO_ARTWORK
from persona_lib.datasets.importers.publish import (
    DEFAULT_COUNTRY,
    DEFAULT_LANGUAGE,
    FREE_PLAN,
    IMPORT_KIND,
    IMPORT_MANIFEST,
    ImportResult,
    check_target,
    publish_tables,
)
from persona_lib.datasets.movielens import FILES, MovieLens, load_movielens

__all__ = [
    "ASSUMED_RUNTIME_MIN",
    "FALLBACK_GENRE",
    "MOVIELENS_GENRES",
    "UNKNOWN_ROW",
    "import_movielens",
    "imported_movielens_format",
    "movielens_tables",
]

# MovieLens genre -> persona genre. Any other MovieLens genre is dropped: "unknown", "War",
# "Western", "IMAX" and "(no genres listed)" (ml-latest); the text keeps them (synopsis).
MOVIELENS_GENRES: dict[str, str] = {
    "Action": "Action", "Adventure": "Adventure", "Animation": "Animation",
    "Children's": "Family", "Children": "Family", "Comedy": "Comedy", "Crime": "Crime",
    "Documentary": "Documentary", "Drama": "Drama", "Fantasy": "Fantasy",
    "Film-Noir": "Crime", "Horror": "Horror", "Musical": "Music", "Mystery": "Thriller",
    "Romance": "Romance", "Sci-Fi": "Sci-Fi", "Thriller": "Thriller",
}  # fmt: skip
FALLBACK_GENRE = "Drama"  # a title none of whose genres maps (the schema needs one genre)
ASSUMED_RUNTIME_MIN = 100  # MovieLens has no runtimes; nothing here reads one (no watch time)
UNKNOWN_ROW = "unknown"  # row_id of a play whose homepage row is unknown
_DEVICE = "web"  # MovieLens is a web site: every rating was made there
_YEARS = (1900, 2100)  # release_year's range in the schema


def _persona_genres(genres: pd.Series) -> list[str]:
    """Pipe-separated MovieLens genres -> pipe-separated persona genres, in `GENRES` order."""
    out = []
    for text in genres.fillna(""):
        mapped = {MOVIELENS_GENRES[g] for g in text.split("|") if g in MOVIELENS_GENRES}
        out.append("|".join(g for g in GENRES if g in mapped) or FALLBACK_GENRE)
    return out


def _release_years(ml: MovieLens) -> np.ndarray:
    """The year in the title; else the year of the title's first rating (of the set's first
    rating for an unrated title); clipped to the schema's 1900 .. 2100."""
    ts = ml.ratings["ts"]
    first = ts.groupby(ml.ratings["title_id"]).min().reindex(ml.titles["title_id"])
    fallback = first.fillna(ts.min()).dt.year.to_numpy()
    year = ml.titles["year"].to_numpy(dtype="float64", na_value=np.nan)
    year = np.where(np.isnan(year), fallback, year)
    return np.clip(year, *_YEARS).astype(np.int16)


def _titles(ml: MovieLens) -> pd.DataFrame:
    titles = ml.titles
    n = len(titles)
    return pd.DataFrame(
        {
            "title_id": titles["title_id"].to_numpy(),
            "name": titles["name"],
            "kind": "movie",
            "genres": _persona_genres(titles["genres"]),
            "language": DEFAULT_LANGUAGE,
            "release_year": _release_years(ml),
            "runtime_min": np.full(n, ASSUMED_RUNTIME_MIN, np.int16),
            "n_episodes": np.ones(n, np.int16),
            "maturity": "all",
            "synopsis": "MovieLens genres: " + titles["genres"].fillna("").str.replace("|", ", "),
            "movie_id": titles["movie_id"].to_numpy(),
        }
    )


def _users(ml: MovieLens) -> pd.DataFrame:
    ratings = ml.ratings
    first = ratings["ts"].groupby(ratings["user_id"]).min().reindex(ml.users["user_id"])
    n = len(ml.users)
    users = pd.DataFrame(
        {
            "user_id": ml.users["user_id"].to_numpy(),
            "signup_ts": first.fillna(ratings["ts"].min()).to_numpy(),
            "country": DEFAULT_COUNTRY,
            "language": DEFAULT_LANGUAGE,
            "plan": FREE_PLAN,
            "price": np.zeros(n, np.float32),
            "preferred_device": _DEVICE,
        }
    )
    extra = ml.users.drop(columns="user_id").reset_index(drop=True)
    return pd.concat([users, extra], axis=1)


def _events(ml: MovieLens) -> pd.DataFrame:
    ratings = ml.ratings.sort_values(["ts", "user_id", "title_id"], kind="stable")
    ts = ratings["ts"].to_numpy()
    user = ratings["user_id"].to_numpy()
    day = ts.astype("datetime64[D]").astype(np.int64)
    session, _ = pd.factorize(pd.MultiIndex.from_arrays([user, day]))  # in order of first play
    n = len(ratings)
    return pd.DataFrame(
        {
            "event_id": np.arange(n, dtype=np.int32),
            "ts": ts,
            "user_id": user,
            "session_id": session.astype(np.int32),
            "device": _DEVICE,
            "event_type": "play_start",
            "title_id": ratings["title_id"].to_numpy(),
            "artwork_id": np.full(n, NO_ARTWORK, np.int32),
            "row_id": UNKNOWN_ROW,
            "row_position": np.zeros(n, np.int8),
            "col_position": np.zeros(n, np.int8),
            "dwell_ms": np.zeros(n, np.uint16),
            "watch_s": np.full(n, np.nan, np.float32),
            "rating": ratings["rating"].to_numpy(np.float32),
        }
    )


def movielens_tables(ml: MovieLens) -> dict[str, pd.DataFrame]:
    """persona's ``titles``, ``users`` and ``events`` of a loaded MovieLens set.

    The mapping is `import_movielens`'s; this is its in-memory half (no file is read or
    written). Frames come out in the schema's columns plus the extra columns named there.

    Examples
    --------
    >>> tables = movielens_tables(load_movielens("../shared/data/movielens/ml-100k"))
    ... # doctest: +SKIP
    >>> len(tables["events"])  # doctest: +SKIP
    100000
    """
    return {"titles": _titles(ml), "users": _users(ml), "events": _events(ml)}


def import_movielens(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    format: str = "parquet",  # noqa: A002 - the word users type (`persona import --format`)
    force: bool = False,
) -> ImportResult:
    """Import a MovieLens folder (100K, 1M/10M or the CSV sets such as ml-latest-small).

    Mapping onto persona's tables:

    - ``events``: one ``play_start`` per rating, at the rating's time (``ts``, UTC, whole
      seconds), of that title by that member. ``watch_s`` is empty and there is no
      ``play_stop``: MovieLens records no watch time, so completion and hours watched are
      unknown. ``session_id`` groups a member's ratings of one UTC calendar day (numbered in
      order of their first rating); ``device`` is ``web`` (ratings were made on the MovieLens
      web site); ``row_id`` is ``unknown`` with positions 0 and ``dwell_ms`` 0; ``artwork_id``
      is -1 (`NO_ARTWORK`). Event ids run in time order (ties: member, then title). The
      rating itself (1-5) is kept as the extra column ``rating``.
    - ``titles``: every movie of the catalog file, rated or not, ``kind`` movie. Genres map
      by `MOVIELENS_GENRES` (Children's -> Family, Film-Noir -> Crime, Musical -> Music,
      Mystery -> Thriller, the others to the same name); ``unknown``, ``War``, ``Western``,
      ``IMAX`` and ``(no genres listed)`` are dropped, and a title left with no genre gets
      `FALLBACK_GENRE` (Drama). ``release_year`` is the year in the title ("Toy Story
      (1995)"); without one, the year of the title's first rating; clipped to 1900-2100.
      ``synopsis`` is "MovieLens genres: " and the original genres, so the dropped ones are
      still readable. Assumed, as MovieLens does not record them: ``language`` en,
      ``runtime_min`` `ASSUMED_RUNTIME_MIN` (100), ``n_episodes`` 1, ``maturity`` all. The
      MovieLens id is kept as the extra column ``movie_id``.
    - ``users``: every member of ``u.user`` / ``users.dat`` (the CSV sets: every member who
      rated), ``signup_ts`` at their first rating. MovieLens is free, so ``plan`` is
      `FREE_PLAN` at ``price`` 0 and there is no billing; ``country`` US, ``language`` en
      (assumed), ``preferred_device`` web. The extra columns keep ``source_user_id`` and,
      where the format has them, ``age``, ``gender``, ``occupation``, ``zip_code``.
    - No impressions, clicks, artworks, billing or notifications: what needs them (the funnel,
      position effects, artwork choice, churn, revenue) cannot run on this folder; what reads
      plays (recommenders on a time cut, play counts per title, genre and member) can.

    Ids are persona's contiguous 0-based ids, in ascending order of the MovieLens ids.

    Parameters
    ----------
    src : str or os.PathLike
        The unpacked MovieLens folder, e.g. ``../shared/data/movielens/ml-100k``; only read.
    out : str or os.PathLike
        The folder of logs to write (new or empty; replaced as a whole with `force`).
    format : {"parquet", "csv"}
        File format of the tables.
    force : bool
        Replace an `out` folder that holds files.

    Returns
    -------
    ImportResult
        The published folder's summary (ml-100k: events 100,000, titles 1,682, users 943).

    Raises
    ------
    FileNotFoundError
        `src` is not a MovieLens folder (the message lists the files each format needs).
    ValueError
        A malformed line (file and line numbers named), or an unknown `format`.
    FileExistsError
        `out` holds files and `force` is False.

    Examples
    --------
    >>> import_movielens("../shared/data/movielens/ml-100k", "ml100k_logs").rows
    ... # doctest: +SKIP
    {'events': 100000, 'titles': 1682, 'users': 943}
    """
    check_target(Path(out), force)
    ml = load_movielens(src)
    names = [name for name in FILES[ml.file_format] if name and (Path(src) / name).is_file()]
    return publish_tables(
        movielens_tables(ml),
        out,
        source="movielens",
        files={name: Path(src) / name for name in names},
        parameters={"movielens_format": ml.file_format},
        file_format=format,
        force=force,
    )


def imported_movielens_format(folder: str | os.PathLike | None) -> str | None:
    """The MovieLens format of a folder `import_movielens` wrote, else None.

    Read from the folder's ``manifest.json``: ``"100k"`` (MovieLens 100K), ``"1m"`` (1M/10M)
    or ``"csv"`` (the CSV sets). A report uses it to say what holds only for a MovieLens set,
    e.g. that the figures published for MovieLens 100K come from another split than its own.
    An empty `folder` (the simulated world), a folder without that manifest, an unreadable
    manifest or another importer's folder give None: the answer never stops a report.

    Parameters
    ----------
    folder : str, os.PathLike or None
        A folder of logs (a notebook's ``DATA``).

    Returns
    -------
    str or None

    Examples
    --------
    >>> imported_movielens_format("")
    >>> imported_movielens_format("ml100k_logs")  # doctest: +SKIP
    '100k'
    """
    if not folder:
        return None
    try:
        manifest = json.loads((Path(folder) / IMPORT_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, unreadable or not JSON: not a MovieLens import
        return None
    if not isinstance(manifest, dict) or (manifest.get("kind"), manifest.get("source")) != (
        IMPORT_KIND,
        "movielens",
    ):
        return None
    parameters = manifest.get("parameters")
    found = parameters.get("movielens_format") if isinstance(parameters, dict) else None
    return found if isinstance(found, str) and found in FILES else None
