"""MovieLens loaders: tiny hand-written folders in each format, broken files, and ml-100k itself."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_lib.datasets.movielens import (
    MovieLens,
    load_movielens,
    load_movielens_1m,
    load_movielens_100k,
    load_movielens_csv,
)

ML_100K = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "movielens" / "ml-100k"
U_DATA_SHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
U_ITEM_SHA256 = "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701"

# 2000-01-01 00:00:00 UTC and one day later, as unix seconds
T0, T1 = 946684800, 946771200


def flags(*genres: int) -> str:
    """u.item's 19 genre flags with the given positions set."""
    return "|".join("1" if i in genres else "0" for i in range(19))


def write(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode(encoding))
    return folder


def folder_100k(tmp_path: Path, **override: str) -> Path:
    """Users 10, 3, 7 and movies 9, 2, 5 (+ unrated 12); one latin-1 title, one without a year."""
    files = {
        "u.data": f"10\t5\t4\t{T0}\n3\t2\t5\t{T1}\n7\t9\t1\t{T0}\n3\t5\t3\t{T0}\n",
        "u.item": (
            f"2|Misérables, Les (1995)|01-Jan-1995||http://x|{flags(8, 12)}\n"
            f"5|unknown||||{flags(0)}\n"
            f"9|Land Before Time III (1995) (V)|01-Jan-1995||http://y|{flags(3, 4)}\n"
            f"12|Toy Story (1995)|01-Jan-1995||http://z|{flags(3, 4, 5)}\n"
        ),
        "u.user": "3|23|M|writer|32067\n7|53|F|other|T8H1N\n10|24|M|technician|85711\n",
    } | override
    return write(tmp_path / "ml-100k", files, encoding="latin-1")


def folder_1m(tmp_path: Path, **override: str) -> Path:
    files = {
        "ratings.dat": f"2::20::5::{T0}\n1::10::3::{T1}\n2::10::4::{T0}\n",
        "movies.dat": (
            "10::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
            "20::Toy Story (1995)::Animation|Children's|Comedy\n"
        ),
        "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
    } | override
    return write(tmp_path / "ml-1m", files, encoding="latin-1")


def folder_csv(tmp_path: Path, **override: str) -> Path:
    files = {
        "ratings.csv": (
            f"userId,movieId,rating,timestamp\n5,300,3.5,{T0}\n5,7,0.5,{T1}\n1,300,5.0,{T0}\n"
        ),
        "movies.csv": (
            "movieId,title,genres\n"
            '7,"American President, The (1995)",Comedy|Drama|Romance\n'
            "300,Babylon 5,(no genres listed)\n"
            "1000,Amélie (Fabuleux destin d'Amélie Poulain) (2001),Comedy|Romance\n"
        ),
    } | override
    return write(tmp_path / "ml-latest-small", files)


# --- the three formats -----------------------------------------------------------------------
def test_100k_ids_are_contiguous_in_ascending_order_of_the_original_ids(tmp_path):
    ml = load_movielens_100k(folder_100k(tmp_path))
    np.testing.assert_array_equal(ml.user_index, [3, 7, 10])
    np.testing.assert_array_equal(ml.title_index, [2, 5, 9, 12])
    assert ml.ratings["user_id"].tolist() == [2, 0, 1, 0]  # file order is kept
    assert ml.ratings["title_id"].tolist() == [1, 0, 2, 1]
    assert ml.ratings["rating"].tolist() == [4.0, 5.0, 1.0, 3.0]
    assert ml.ratings["ts"].tolist() == [
        pd.Timestamp("2000-01-01"),
        pd.Timestamp("2000-01-02"),
        pd.Timestamp("2000-01-01"),
        pd.Timestamp("2000-01-01"),
    ]
    assert ml.ratings.dtypes.astype(str).tolist() == ["int32", "int32", "float32", "datetime64[ms]"]
    assert ml.file_format == "100k"


def test_100k_titles_decode_latin_1_and_spell_genres_as_movielens_does(tmp_path):
    titles = load_movielens_100k(folder_100k(tmp_path)).titles
    assert titles["title_id"].tolist() == [0, 1, 2, 3]
    assert titles["movie_id"].tolist() == [2, 5, 9, 12]
    assert titles["name"].tolist() == [
        "Misérables, Les (1995)",
        "unknown",
        "Land Before Time III (1995) (V)",
        "Toy Story (1995)",
    ]
    assert titles["year"].dtype == "Int16"
    assert titles["year"].tolist() == [1995, pd.NA, 1995, 1995]
    assert titles["genres"].tolist() == [
        "Drama|Musical",
        "unknown",
        "Animation|Children's",
        "Animation|Children's|Comedy",
    ]


def test_100k_users_keep_demographics_and_the_original_id(tmp_path):
    users = load_movielens_100k(folder_100k(tmp_path)).users
    assert users.columns.tolist() == [
        "user_id",
        "source_user_id",
        "age",
        "gender",
        "occupation",
        "zip_code",
    ]
    assert users["source_user_id"].tolist() == [3, 7, 10]
    assert users["age"].tolist() == [23, 53, 24]
    assert users["gender"].tolist() == ["M", "F", "M"]
    assert users["occupation"].tolist() == ["writer", "other", "technician"]
    assert users["zip_code"].tolist() == ["32067", "T8H1N", "85711"]


def test_100k_without_u_user_has_only_ids(tmp_path):
    folder = folder_100k(tmp_path)
    (folder / "u.user").unlink()
    users = load_movielens_100k(folder).users
    assert users.columns.tolist() == ["user_id", "source_user_id"]
    assert users["source_user_id"].tolist() == [3, 7, 10]


def test_1m_reads_double_colon_files_in_latin_1_and_names_occupations(tmp_path):
    ml = load_movielens_1m(folder_1m(tmp_path))
    assert ml.ratings["user_id"].tolist() == [1, 0, 1]
    assert ml.ratings["title_id"].tolist() == [1, 0, 0]
    assert ml.ratings["rating"].tolist() == [5.0, 3.0, 4.0]
    assert ml.ratings["ts"].iloc[1] == pd.Timestamp("2000-01-02")
    assert ml.titles["name"].tolist() == ["Cité des enfants perdus, La (1995)", "Toy Story (1995)"]
    assert ml.titles["genres"].tolist() == ["Adventure|Sci-Fi", "Animation|Children's|Comedy"]
    assert ml.titles["year"].tolist() == [1995, 1995]
    assert ml.users["gender"].tolist() == ["F", "M"]
    assert ml.users["age"].tolist() == [1, 56]  # the age group's lower bound
    assert ml.users["occupation"].tolist() == ["K-12 student", "self-employed"]
    assert ml.users["zip_code"].tolist() == ["48067", "70072"]
    assert ml.file_format == "1m"


def test_1m_reads_utf_8_movies_and_no_users_file_as_10m_ships(tmp_path):
    folder = folder_1m(tmp_path)
    (folder / "users.dat").unlink()
    (folder / "movies.dat").write_text("10::Amélie (2001)::Comedy\n20::Heat (1995)::Action\n")
    ml = load_movielens_1m(folder)
    assert ml.titles["name"].tolist() == ["Amélie (2001)", "Heat (1995)"]
    assert ml.users.columns.tolist() == ["user_id", "source_user_id"]


def test_csv_reads_quoted_titles_half_stars_and_titles_without_a_year(tmp_path):
    ml = load_movielens_csv(folder_csv(tmp_path))
    np.testing.assert_array_equal(ml.user_index, [1, 5])
    np.testing.assert_array_equal(ml.title_index, [7, 300, 1000])  # 1000 is never rated
    assert ml.ratings["user_id"].tolist() == [1, 1, 0]
    assert ml.ratings["title_id"].tolist() == [1, 0, 1]
    assert ml.ratings["rating"].tolist() == [3.5, 0.5, 5.0]
    titles = ml.titles
    assert titles["name"].tolist()[:2] == ["American President, The (1995)", "Babylon 5"]
    assert titles["year"].tolist() == [1995, pd.NA, 2001]
    assert titles["genres"].tolist()[1] == "(no genres listed)"
    assert ml.users.columns.tolist() == ["user_id", "source_user_id"]
    assert ml.file_format == "csv"


def test_ids_too_large_for_a_lookup_table_are_mapped_by_binary_search(tmp_path):
    big = 2**24 + 5
    ratings = f"userId,movieId,rating,timestamp\n{big},{big},4,{T0}\n1,7,3,{T0}\n"
    movies = f"movieId,title,genres\n{big},Big (1988),Comedy\n7,Seven (1995),Thriller\n"
    ml = load_movielens(folder_csv(tmp_path, **{"ratings.csv": ratings, "movies.csv": movies}))
    assert ml.ratings[["user_id", "title_id"]].to_numpy().tolist() == [[1, 1], [0, 0]]
    np.testing.assert_array_equal(ml.title_index, [7, big])
    ratings += f"1,{big + 1},3,{T0}\n"
    with pytest.raises(ValueError, match=rf"malformed line 4: movie '{big + 1}' is not in movies"):
        load_movielens(folder_csv(tmp_path, **{"ratings.csv": ratings, "movies.csv": movies}))


@pytest.mark.parametrize(
    "make, explicit",
    [
        (folder_100k, load_movielens_100k),
        (folder_1m, load_movielens_1m),
        (folder_csv, load_movielens_csv),
    ],
)
def test_load_movielens_detects_the_format(tmp_path, make, explicit):
    folder = make(tmp_path)
    detected, direct = load_movielens(str(folder)), explicit(folder)
    assert detected.file_format == direct.file_format
    pd.testing.assert_frame_equal(detected.ratings, direct.ratings)
    pd.testing.assert_frame_equal(detected.titles, direct.titles)
    pd.testing.assert_frame_equal(detected.users, direct.users)


# --- what a recommender gets -----------------------------------------------------------------
def test_to_interactions_weighs_by_rating_or_keeps_positives_with_weight_one(tmp_path):
    ml = load_movielens_100k(folder_100k(tmp_path))
    every = ml.to_interactions()
    assert every.columns.tolist() == ["user_id", "title_id", "weight"]
    assert every.dtypes.astype(str).tolist() == ["int32", "int32", "float32"]
    assert every["weight"].tolist() == [4.0, 5.0, 1.0, 3.0]
    positives = ml.to_interactions(min_rating=4)
    assert positives.to_dict("list") == {"user_id": [2, 0], "title_id": [1, 0], "weight": [1, 1]}
    assert positives.index.tolist() == [0, 1]


def test_add_source_ids_maps_back_to_movielens_ids(tmp_path):
    ml = load_movielens_100k(folder_100k(tmp_path))
    recs = pd.DataFrame({"user_id": [0, 2], "title_id": [3, 0], "score": [0.9, 0.1]})
    out = ml.add_source_ids(recs)
    assert out["source_user_id"].tolist() == [3, 10]
    assert out["movie_id"].tolist() == [12, 2]
    assert "source_user_id" not in recs.columns  # a copy


def test_to_dict_is_json_safe(tmp_path):
    summary = load_movielens_csv(folder_csv(tmp_path)).to_dict()
    assert summary == {
        "file_format": "csv",
        "n_ratings": 3,
        "n_users": 2,
        "n_titles": 3,
        "first_day": "2000-01-01",
        "last_day": "2000-01-02",
    }


def test_movielens_rejects_ratings_outside_its_index(tmp_path):
    ml = load_movielens_csv(folder_csv(tmp_path))
    with pytest.raises(ValueError, match=r"ratings.title_id out of range \[0, 1\)"):
        MovieLens(
            ml.ratings, ml.titles.iloc[:1], ml.users, ml.user_index, ml.title_index[:1], "csv"
        )


# --- errors ----------------------------------------------------------------------------------
def test_a_missing_folder_names_it_and_the_files_of_every_format(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=r"nowhere: no such folder; expected .*u\.data, "
        r"u\.item.*ratings\.dat, movies\.dat.*ratings\.csv, movies\.csv",
    ):
        load_movielens(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_movielens_csv(tmp_path / "nowhere")


def test_a_folder_without_ratings_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no MovieLens ratings file; expected"):
        load_movielens(write(tmp_path / "empty", {"README": "hello"}))


def test_a_missing_catalog_file_is_named(tmp_path):
    folder = folder_1m(tmp_path)
    (folder / "movies.dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"ml-1m: missing movies\.dat; expected"):
        load_movielens(folder)


def test_a_folder_with_two_formats_is_ambiguous(tmp_path):
    folder = folder_100k(tmp_path)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    with pytest.raises(ValueError, match=r"several MovieLens formats \(100k, csv\)"):
        load_movielens(folder)


@pytest.mark.parametrize(
    "u_data, message",
    [
        (f"3\t2\t3\t{T0}\n3\t2\t3\t{T0}\t9\n", "malformed line 2: expected 4 fields, found 5"),
        (f"3\t2\t3\t{T0}\t9\n3\t2\t3\t{T0}\n", "malformed line 1: expected 4 fields"),
        (f"3\t2\t3\t{T0}\n3\t2\t3\n", "malformed line 2: expected 4 fields, found 3"),
        (f"3\t2\t3\t{T0}\n3\t2\tfive\t{T0}\n", "malformed line 2: rating 'five' is not a number"),
        (f"3\t2\t3\t{T0}\n3\tx\t3\t{T0}\n", "malformed line 2: movie 'x' is not an integer"),
        (
            f"3\t2\t3\t{T0}\n\n3\t2\t7\t{T0}\n",
            r"malformed line 3: rating '7' is outside \[0.5, 5\]$",
        ),
        (f"3\t2\tnan\t{T0}\n", "malformed line 1: rating 'nan' is not a finite number"),
        (f"3\t2\t3\t{T0}\n3 2 3 {T0}\n", "malformed line 2: expected 4 fields, found 1"),
    ],
)
def test_a_malformed_line_is_named_with_its_file_and_number(tmp_path, u_data, message):
    folder = folder_100k(tmp_path, **{"u.data": u_data})
    with pytest.raises(ValueError, match=r"ml-100k/u\.data: " + message):
        load_movielens(folder)


def test_only_the_first_five_malformed_lines_are_listed(tmp_path):
    lines = [f"1\t2\t{'x' if i % 2 else 3}\t{T0}" for i in range(20)]
    folder = folder_100k(tmp_path, **{"u.data": "\n".join(lines) + "\n"})
    with pytest.raises(
        ValueError,
        match=r"u\.data: malformed lines 2, 4, 6, 8, 10 \(the first "
        r"five\); line 2: rating 'x' is not a number$",
    ):
        load_movielens(folder)


def test_ratings_of_movies_missing_from_the_catalog_are_located(tmp_path):
    u_data = f"3\t2\t4\t{T0}\n3\t99\t4\t{T0}\n7\t5\t4\t{T0}\n10\t98\t4\t{T0}\n"
    with pytest.raises(
        ValueError,
        match=r"u\.data: malformed lines 2, 4; line 2: movie '99' is "
        r"not in u\.item",
    ):
        load_movielens(folder_100k(tmp_path, **{"u.data": u_data}))


def test_ratings_of_users_missing_from_users_dat_are_located(tmp_path):
    ratings = f"1::10::3::{T0}\n4::10::3::{T0}\n"
    with pytest.raises(
        ValueError,
        match=r"ratings\.dat: malformed line 2: user '4' is "
        r"not in users\.dat",
    ):
        load_movielens(folder_1m(tmp_path, **{"ratings.dat": ratings}))


def test_a_repeated_movie_id_is_located(tmp_path):
    movies = "movieId,title,genres\n7,A (1995),Drama\n300,B (1996),Drama\n7,C (1997),Drama\n"
    with pytest.raises(
        ValueError,
        match=r"movies\.csv: malformed line 4: movie '7' is "
        r"repeated",
    ):
        load_movielens(folder_csv(tmp_path, **{"movies.csv": movies}))


def test_a_genre_flag_other_than_0_or_1_is_located(tmp_path):
    u_item = f"2|A (1995)|||x|{flags(1)}\n5|B (1995)|||x|{flags(1).replace('1', '2')}\n"
    u_item += f"9|C (1995)|||x|{flags(2)}\n"
    with pytest.raises(
        ValueError,
        match=r"u\.item: malformed line 2: Action '2' is "
        r"outside \[0, 1\]",
    ):
        load_movielens(folder_100k(tmp_path, **{"u.item": u_item}))


def test_an_extra_field_in_u_item_is_located(tmp_path):
    u_item = f"2|A (1995)|||x|{flags(1)}\n5|B (1995)|||x|{flags(1)}|0\n9|C (1995)|||x|{flags(2)}\n"
    with pytest.raises(
        ValueError, match=r"u\.item: malformed line 2: expected 24 fields, found 25"
    ):
        load_movielens(folder_100k(tmp_path, **{"u.item": u_item}))


def test_a_single_colon_separator_in_1m_is_located(tmp_path):
    ratings = f"2::20::5::{T0}\n1:10:3:{T1}\n"
    with pytest.raises(
        ValueError,
        match=r"ratings\.dat: malformed line 2: expected 4 "
        r"fields, found 1",
    ):
        load_movielens(folder_1m(tmp_path, **{"ratings.dat": ratings}))


def test_csv_line_numbers_count_the_header(tmp_path):
    ratings = f"userId,movieId,rating,timestamp\n5,300,3.5,{T0}\n5,7,good,{T1}\n"
    with pytest.raises(ValueError, match=r"ratings\.csv: malformed line 3: rating 'good'"):
        load_movielens(folder_csv(tmp_path, **{"ratings.csv": ratings}))


def test_csv_with_another_header_is_rejected(tmp_path):
    ratings = f"user,item,rating,ts\n5,300,3.5,{T0}\n"
    with pytest.raises(
        ValueError,
        match=r"ratings\.csv: malformed line 1: expected the header "
        r"'userId,movieId,rating,timestamp', found 'user,item,rating,ts'",
    ):
        load_movielens(folder_csv(tmp_path, **{"ratings.csv": ratings}))


def test_csv_that_is_not_utf_8_is_located(tmp_path):
    folder = folder_csv(tmp_path)
    good = (folder / "movies.csv").read_text(encoding="utf-8")
    (folder / "movies.csv").write_bytes(good.replace("Amélie", "X").encode() + b"9,Caf\xe9,Drama\n")
    with pytest.raises(ValueError, match=r"movies\.csv: malformed line 5: not valid text"):
        load_movielens(folder)


# --- the real ml-100k ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ml_100k() -> MovieLens:
    if not (ML_100K / "u.data").is_file():
        pytest.skip(f"{ML_100K} is absent")
    return load_movielens(ML_100K)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.real_data
def test_ml_100k_files_are_the_published_ones(ml_100k):
    assert sha256(ML_100K / "u.data") == U_DATA_SHA256
    assert sha256(ML_100K / "u.item") == U_ITEM_SHA256


@pytest.mark.real_data
def test_ml_100k_has_its_published_shape(ml_100k):
    ratings = ml_100k.ratings
    assert ml_100k.file_format == "100k"
    assert (len(ratings), len(ml_100k.users), len(ml_100k.titles)) == (100_000, 943, 1_682)
    assert ratings.groupby("user_id").size().min() >= 20
    assert not ratings.duplicated(["user_id", "title_id"]).any()
    assert ratings["ts"].min().date() == pd.Timestamp("1997-09-20").date()
    assert ratings["ts"].max().date() == pd.Timestamp("1998-04-22").date()
    assert set(ratings["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert len(ml_100k.to_interactions(min_rating=4)) == 55_375  # ratings of 4 and 5


@pytest.mark.real_data
def test_ml_100k_ids_are_contiguous_and_map_back(ml_100k):
    # 100K's original ids are already 1..n, so persona's ids are exactly one less
    np.testing.assert_array_equal(ml_100k.user_index, np.arange(1, 944))
    np.testing.assert_array_equal(ml_100k.title_index, np.arange(1, 1683))
    assert ml_100k.ratings["user_id"].nunique() == 943
    assert ml_100k.ratings["title_id"].nunique() == 1_682
    raw = pd.read_csv(ML_100K / "u.data", sep="\t", header=None, nrows=5)
    head = ml_100k.add_source_ids(ml_100k.ratings.head())
    assert head["source_user_id"].tolist() == raw[0].tolist()
    assert head["movie_id"].tolist() == raw[1].tolist()


@pytest.mark.real_data
def test_ml_100k_titles_and_users_are_decoded(ml_100k):
    titles = ml_100k.titles.set_index("movie_id")
    assert titles.loc[1, "name"] == "Toy Story (1995)"
    assert titles.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert titles.loc[543, "name"] == "Misérables, Les (1995)"
    assert titles["year"].isna().sum() == 1  # movie 267, "unknown"
    assert titles["year"].min() == 1922 and titles["year"].max() == 1998
    users = ml_100k.users
    assert users.loc[0, ["age", "gender", "occupation"]].tolist() == [24, "M", "technician"]
    assert set(users["gender"]) == {"M", "F"}
    assert users["occupation"].nunique() == 21
