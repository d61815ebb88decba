"""Cookie Cats loader: tiny hand-written CSVs, broken files, and the real A/B test file."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from persona_lib.datasets.cookie_cats import COLUMNS, COOKIE_CATS_FILE, VERSIONS, load_cookie_cats

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
COOKIE_CATS = SHARED_DATA / "cookie_cats" / COOKIE_CATS_FILE
COOKIE_CATS_SHA256 = "75790e24d93c35a5b90aeaa9029845d8b2fed26ae2062c9a26171e7ea4f7be0f"
HEADER = ",".join(COLUMNS)
THREE_PLAYERS = """userid,version,sum_gamerounds,retention_1,retention_7
116,gate_30,3,FALSE,FALSE
337,gate_30,38,TRUE,FALSE
377,gate_40,165,TRUE,TRUE
"""


def write_csv(tmp_path: Path, text: str, name: str = "cats.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_row(tmp_path: Path, row: str) -> Path:
    """THREE_PLAYERS with ``row`` as line 3 (between the first and second player)."""
    lines = THREE_PLAYERS.splitlines()
    return write_csv(tmp_path, "\n".join([*lines[:2], row, *lines[2:]]) + "\n")


# --- parsing -----------------------------------------------------------------------------------
def test_columns_and_dtypes_are_explicit(tmp_path):
    cats = load_cookie_cats(write_csv(tmp_path, THREE_PLAYERS))
    assert cats.columns.tolist() == list(COLUMNS)
    assert cats.dtypes.astype(str).tolist() == ["int64", "category", "int64", "bool", "bool"]
    assert cats.index.equals(pd.RangeIndex(3))


def test_values_are_parsed(tmp_path):
    cats = load_cookie_cats(write_csv(tmp_path, THREE_PLAYERS))
    assert cats["userid"].tolist() == [116, 337, 377]
    assert cats["version"].tolist() == ["gate_30", "gate_30", "gate_40"]
    assert cats["sum_gamerounds"].tolist() == [3, 38, 165]
    assert cats["retention_1"].tolist() == [False, True, True]
    assert cats["retention_7"].tolist() == [False, False, True]


def test_version_keeps_both_levels_even_when_one_is_absent(tmp_path):
    cats = load_cookie_cats(write_csv(tmp_path, HEADER + "\n1,gate_40,0,FALSE,FALSE\n"))
    assert cats["version"].cat.categories.tolist() == list(VERSIONS) == ["gate_30", "gate_40"]
    assert cats["version"].cat.codes.tolist() == [1]


def test_crlf_spaces_case_and_extra_columns_are_accepted(tmp_path):
    text = (
        "retention_7,note,userid,version,sum_gamerounds,retention_1\r\n"
        "True,x, 007 , gate_40 ,0 ,false\r\n"
        "FALSE,y,9223372036854775807,gate_30,12,TRUE\r\n"
    )
    cats = load_cookie_cats(write_csv(tmp_path, text))
    assert cats.columns.tolist() == list(COLUMNS)
    assert cats["userid"].tolist() == [7, 2**63 - 1]
    assert cats["version"].tolist() == ["gate_40", "gate_30"]
    assert cats["sum_gamerounds"].tolist() == [0, 12]
    assert cats["retention_1"].tolist() == [False, True]
    assert cats["retention_7"].tolist() == [True, False]


def test_a_header_only_file_gives_an_empty_frame_with_the_dtypes(tmp_path):
    cats = load_cookie_cats(write_csv(tmp_path, HEADER + "\n"))
    assert len(cats) == 0
    assert cats.dtypes.astype(str).tolist() == ["int64", "category", "int64", "bool", "bool"]


# --- errors ------------------------------------------------------------------------------------
def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv: no such file"):
        load_cookie_cats(tmp_path / "nowhere.csv")


def test_a_missing_column_is_named(tmp_path):
    text = "userid,version,sum_gamerounds\n1,gate_30,3\n"
    with pytest.raises(
        ValueError,
        match=r"cats\.csv: missing column\(s\) \['retention_1', 'retention_7'\]; expected",
    ):
        load_cookie_cats(write_csv(tmp_path, text))


def test_an_empty_file_is_not_a_readable_csv(tmp_path):
    with pytest.raises(ValueError, match=r"cats\.csv: not a readable CSV"):
        load_cookie_cats(write_csv(tmp_path, ""))


def test_a_row_with_too_many_fields_is_not_a_readable_csv(tmp_path):
    with pytest.raises(ValueError, match=r"cats\.csv: not a readable CSV: .*line 3"):
        load_cookie_cats(with_row(tmp_path, "5,gate_30,3,TRUE,FALSE,extra"))


def test_a_row_with_too_few_fields_names_the_empty_column(tmp_path):
    with pytest.raises(
        ValueError, match=r"column 'retention_1' is not one of \['TRUE', 'FALSE'\]: line 3 ''$"
    ):
        load_cookie_cats(with_row(tmp_path, "5,gate_30,3"))


def test_a_blank_line_is_located(tmp_path):
    with pytest.raises(ValueError, match=r"column 'userid' is not a whole number .*: line 3 ''$"):
        load_cookie_cats(with_row(tmp_path, ""))


def test_a_repeated_userid_names_every_repeat_but_not_the_first(tmp_path):
    text = THREE_PLAYERS + "116,gate_40,1,FALSE,FALSE\n0337,gate_40,1,FALSE,FALSE\n"
    with pytest.raises(
        ValueError,
        match=r"cats\.csv: column 'userid' is repeated: line 5 '116', line 6 '0337'$",
    ):
        load_cookie_cats(write_csv(tmp_path, text))


def test_only_the_first_five_offending_lines_are_listed(tmp_path):
    rows = [f"{i},gate_30,{'n/a' if i % 2 else '10'},TRUE,TRUE" for i in range(14)]
    with pytest.raises(
        ValueError,
        match=r"column 'sum_gamerounds' is not a whole number 0 \.\. 2\*\*63 - 1: "
        r"line 3 'n/a', line 5 'n/a', line 7 'n/a', line 9 'n/a', line 11 'n/a' "
        r"\(the first 5 of 7\)$",
    ):
        load_cookie_cats(write_csv(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))


WHOLE = r"is not a whole number 0 \.\. 2\*\*63 - 1"


@pytest.mark.parametrize(
    "row, message",
    [
        ("5,gate_50,3,TRUE,FALSE", r"column 'version' is not one of \['gate_30', 'gate_40'\]: "
                                   r"line 3 'gate_50'"),
        ("5,GATE_30,3,TRUE,FALSE", r"column 'version' is not one of .*: line 3 'GATE_30'"),
        ("5,,3,TRUE,FALSE", r"column 'version' is not one of .*: line 3 ''"),
        ("5,gate_30,-1,TRUE,FALSE", rf"column 'sum_gamerounds' {WHOLE}: line 3 '-1'"),
        ("5,gate_30,2.5,TRUE,FALSE", rf"column 'sum_gamerounds' {WHOLE}: line 3 '2\.5'"),
        ("5,gate_30,,TRUE,FALSE", rf"column 'sum_gamerounds' {WHOLE}: line 3 ''"),
        ("5,gate_30,3,yes,FALSE", r"column 'retention_1' is not one of \['TRUE', 'FALSE'\]: "
                                  r"line 3 'yes'"),
        ("5,gate_30,3,TRUE,1", r"column 'retention_7' is not one of .*: line 3 '1'"),
        ("5,gate_30,3,TRUE,NA", r"column 'retention_7' is not one of .*: line 3 'NA'"),
        ("x5,gate_30,3,TRUE,FALSE", rf"column 'userid' {WHOLE}: line 3 'x5'"),
        ("-5,gate_30,3,TRUE,FALSE", rf"column 'userid' {WHOLE}: line 3 '-5'"),
        ("1e3,gate_30,3,TRUE,FALSE", rf"column 'userid' {WHOLE}: line 3 '1e3'"),
        ("9223372036854775808,gate_30,3,TRUE,FALSE",
         rf"column 'userid' {WHOLE}: line 3 '9223372036854775808'"),
        ("12345678901234567890,gate_30,3,TRUE,FALSE",
         rf"column 'userid' {WHOLE}: line 3 '12345678901234567890'"),
        ("116,gate_40,3,TRUE,FALSE", r"column 'userid' is repeated: line 3 '116'"),
    ],
)  # fmt: skip
def test_a_bad_value_names_file_column_and_line(tmp_path, row, message):
    with pytest.raises(ValueError, match=r"cats\.csv: " + message):
        load_cookie_cats(with_row(tmp_path, row))


# --- the real file -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cats() -> pd.DataFrame:
    if not COOKIE_CATS.is_file():
        pytest.skip(f"{COOKIE_CATS} is absent")
    return load_cookie_cats(COOKIE_CATS)


@pytest.mark.real_data
def test_cookie_cats_file_is_the_published_one(cats):
    assert hashlib.sha256(COOKIE_CATS.read_bytes()).hexdigest() == COOKIE_CATS_SHA256


@pytest.mark.real_data
def test_cookie_cats_has_its_published_shape(cats):
    assert cats.shape == (90_189, 5)
    assert cats["userid"].is_unique
    assert cats["version"].value_counts().to_dict() == {"gate_40": 45_489, "gate_30": 44_700}
    assert (cats["sum_gamerounds"] >= 0).all()


@pytest.mark.real_data
def test_cookie_cats_retention_matches_the_reference_figures(cats):
    by_arm = cats.groupby("version", observed=True)
    retention_7 = (100 * by_arm["retention_7"].mean()).round(2).to_dict()
    assert retention_7 == {"gate_30": 19.02, "gate_40": 18.20}
    raw = pd.read_csv(COOKIE_CATS, dtype=str)
    for column in ("retention_1", "retention_7"):
        assert set(raw[column]) == {"TRUE", "FALSE"}
        assert int(cats[column].sum()) == int((raw[column] == "TRUE").sum())
    assert cats["sum_gamerounds"].sum() == pd.to_numeric(raw["sum_gamerounds"]).sum()
