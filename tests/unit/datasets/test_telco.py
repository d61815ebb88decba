"""Telco churn loader: tiny hand-written CSVs, broken files, and the real IBM sample."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_lib.datasets.telco import (
    BLANK_FLAG,
    CATEGORIES,
    COLUMNS,
    TELCO_FILE,
    load_telco,
)

TELCO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "telco" / TELCO_FILE
TELCO_SHA256 = "a0ea74c48c1063be89a73ce3fb868593604c0129f2bf581934f04983d728b3b5"

# One valid customer; tests override single fields.
BASE = {
    "customerID": "0001-AAAA", "gender": "Female", "SeniorCitizen": "0", "Partner": "Yes",
    "Dependents": "No", "tenure": "2", "PhoneService": "No",
    "MultipleLines": "No phone service", "InternetService": "DSL", "OnlineSecurity": "No",
    "OnlineBackup": "Yes", "DeviceProtection": "No", "TechSupport": "No", "StreamingTV": "No",
    "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
    "PaymentMethod": "Electronic check", "MonthlyCharges": "29.85", "TotalCharges": "59.7",
    "Churn": "No",
}  # fmt: skip


def customer(i: int, **override: str) -> dict[str, str]:
    return BASE | {"customerID": f"{i:04d}-AAAA"} | override


def write_csv(tmp_path: Path, rows: list[dict[str, str]], name: str = "telco.csv") -> Path:
    """A CSV with the file's header (or the first row's keys) and the rows' text as given."""
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(row[c] for c in columns) for row in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def three_customers(tmp_path: Path) -> Path:
    """A churner, a senior two-year customer, and a new customer with a blank TotalCharges."""
    return write_csv(
        tmp_path,
        [
            customer(1, Churn="Yes"),
            customer(2, SeniorCitizen="1", tenure="72", Contract="Two year",
                     MonthlyCharges="105.5", TotalCharges="7590.1", gender="Male"),
            customer(3, tenure="0", TotalCharges=" ", InternetService="No",
                     OnlineSecurity="No internet service"),
        ],
    )  # fmt: skip


# --- parsing -----------------------------------------------------------------------------------
def test_columns_and_dtypes_are_explicit(tmp_path):
    telco = load_telco(three_customers(tmp_path))
    assert telco.columns.tolist() == [*COLUMNS, BLANK_FLAG]
    dtypes = telco.dtypes.astype(str)
    assert dtypes["customerID"] == "str"
    assert (dtypes[list(CATEGORIES)] == "category").all()
    assert dtypes[["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]].tolist() == [
        "int8", "int16", "float64", "float64",
    ]  # fmt: skip
    assert dtypes[["Churn", BLANK_FLAG]].tolist() == ["bool", "bool"]


def test_values_are_parsed(tmp_path):
    telco = load_telco(three_customers(tmp_path))
    assert telco["customerID"].tolist() == ["0001-AAAA", "0002-AAAA", "0003-AAAA"]
    assert telco["Churn"].tolist() == [True, False, False]
    assert telco["SeniorCitizen"].tolist() == [0, 1, 0]
    assert telco["tenure"].tolist() == [2, 72, 0]
    assert telco["MonthlyCharges"].tolist() == [29.85, 105.5, 29.85]
    assert telco["Contract"].tolist() == ["Month-to-month", "Two year", "Month-to-month"]
    assert telco["gender"].tolist() == ["Female", "Male", "Female"]


def test_a_blank_total_charges_at_tenure_0_becomes_zero_and_is_flagged(tmp_path):
    telco = load_telco(three_customers(tmp_path))
    assert telco["TotalCharges"].tolist() == [59.7, 7590.1, 0.0]
    assert telco[BLANK_FLAG].tolist() == [False, False, True]
    assert not telco.isna().any().any()


def test_empty_and_whitespace_total_charges_are_both_blank(tmp_path):
    rows = [customer(1, tenure="0", TotalCharges=""), customer(2, tenure="0", TotalCharges="  ")]
    telco = load_telco(write_csv(tmp_path, rows))
    assert telco["TotalCharges"].tolist() == [0.0, 0.0]
    assert telco[BLANK_FLAG].tolist() == [True, True]


def test_categories_keep_every_level_even_when_absent(tmp_path):
    telco = load_telco(three_customers(tmp_path))
    for column, levels in CATEGORIES.items():
        assert telco[column].cat.categories.tolist() == list(levels), column
    assert telco["Contract"].cat.codes.tolist() == [0, 2, 0]


def test_extra_columns_are_dropped_and_columns_reordered(tmp_path):
    row = {"index": "0"} | {c: BASE[c] for c in reversed(COLUMNS)}
    telco = load_telco(write_csv(tmp_path, [row]))
    assert telco.columns.tolist() == [*COLUMNS, BLANK_FLAG]
    assert telco.loc[0, "TotalCharges"] == 59.7


def test_numbers_may_carry_spaces(tmp_path):
    telco = load_telco(write_csv(tmp_path, [customer(1, tenure=" 3", MonthlyCharges="20 ")]))
    assert (telco.loc[0, "tenure"], telco.loc[0, "MonthlyCharges"]) == (3, 20.0)


# --- errors ------------------------------------------------------------------------------------
def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv: no such file"):
        load_telco(tmp_path / "nowhere.csv")


def test_a_missing_column_is_named(tmp_path):
    row = {c: v for c, v in customer(1).items() if c not in ("Contract", "Churn")}
    with pytest.raises(
        ValueError, match=r"telco\.csv: missing column\(s\) \['Contract', 'Churn'\]; expected"
    ):
        load_telco(write_csv(tmp_path, [row]))


def test_an_empty_file_is_not_a_readable_csv(tmp_path):
    path = tmp_path / "telco.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"telco\.csv: not a readable CSV"):
        load_telco(path)


def test_a_row_with_too_many_fields_is_not_a_readable_csv(tmp_path):
    path = write_csv(tmp_path, [customer(1), customer(2, Churn="No,extra")])
    with pytest.raises(ValueError, match=r"telco\.csv: not a readable CSV: .*line 3"):
        load_telco(path)


def test_a_row_with_too_few_fields_names_the_empty_column(tmp_path):
    path = write_csv(tmp_path, [customer(1)])
    path.write_text(path.read_text() + "0002-AAAA,Male,0\n")
    with pytest.raises(ValueError, match=r"column 'tenure' is not a number: line 3 ''$"):
        load_telco(path)


def test_unparseable_total_charges_are_located(tmp_path):
    rows = [customer(1), customer(2, TotalCharges="abc"), customer(3, TotalCharges="1.2.3")]
    with pytest.raises(
        ValueError,
        match=r"telco\.csv: column 'TotalCharges' is not a number: "
        r"line 3 'abc', line 4 '1\.2\.3'$",
    ):
        load_telco(write_csv(tmp_path, rows))


def test_a_blank_total_charges_with_tenure_is_an_error(tmp_path):
    rows = [customer(1, tenure="0", TotalCharges=" "), customer(2, tenure="5", TotalCharges=" ")]
    with pytest.raises(
        ValueError,
        match=r"telco\.csv: column 'TotalCharges' is blank with tenure > 0: line 3 ' '$",
    ):
        load_telco(write_csv(tmp_path, rows))


def test_only_the_first_five_offending_lines_are_listed(tmp_path):
    rows = [customer(i, MonthlyCharges="n/a" if i % 2 else "10") for i in range(14)]
    with pytest.raises(
        ValueError,
        match=r"column 'MonthlyCharges' is not a number: line 3 'n/a', line 5 'n/a', "
        r"line 7 'n/a', line 9 'n/a', line 11 'n/a' \(the first 5 of 7\)$",
    ):
        load_telco(write_csv(tmp_path, rows))


@pytest.mark.parametrize(
    "column, text, message",
    [
        ("Churn", "Maybe", r"column 'Churn' is not one of \['No', 'Yes'\]: line 3 'Maybe'"),
        ("Churn", "yes", r"column 'Churn' is not one of \['No', 'Yes'\]: line 3 'yes'"),
        ("Churn", "", r"column 'Churn' is not one of \['No', 'Yes'\]: line 3 ''"),
        ("SeniorCitizen", "2", r"column 'SeniorCitizen' is not one of \['0', '1'\]: line 3 '2'"),
        ("Contract", "Three year", r"column 'Contract' is not one of \['Month-to-month', "),
        ("tenure", "1.5", r"column 'tenure' is not a whole number: line 3 '1\.5'"),
        ("tenure", " ", r"column 'tenure' is not a number: line 3 ' '"),
        ("tenure", "5000", r"column 'tenure' exceeds 1200 months: line 3 '5000'"),
        ("MonthlyCharges", "-1", r"column 'MonthlyCharges' is negative: line 3 '-1'"),
        ("MonthlyCharges", "inf", r"column 'MonthlyCharges' is not a number: line 3 'inf'"),
        ("TotalCharges", "nan", r"column 'TotalCharges' is not a number: line 3 'nan'"),
        ("customerID", "0001-AAAA", r"column 'customerID' is repeated: line 3 '0001-AAAA'"),
        ("customerID", " ", r"column 'customerID' is blank: line 3 ' '"),
    ],
)
def test_a_bad_value_names_file_column_and_line(tmp_path, column, text, message):
    rows = [customer(1), customer(2, **{column: text}), customer(3)]
    with pytest.raises(ValueError, match=r"telco\.csv: " + message):
        load_telco(write_csv(tmp_path, rows))


# --- the real IBM sample -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    if not TELCO.is_file():
        pytest.skip(f"{TELCO} is absent")
    return load_telco(TELCO)


@pytest.mark.real_data
def test_telco_file_is_the_published_one(telco):
    assert hashlib.sha256(TELCO.read_bytes()).hexdigest() == TELCO_SHA256


@pytest.mark.real_data
def test_telco_has_its_published_shape(telco):
    raw = pd.read_csv(TELCO, dtype=str)
    assert raw.shape == (7_043, 21)
    assert raw.columns.tolist() == list(COLUMNS)
    assert telco.shape == (7_043, 22)
    assert telco["customerID"].is_unique
    assert round(100 * telco["Churn"].mean(), 2) == 26.54
    assert int(telco["Churn"].sum()) == 1_869
    assert not telco.isna().any().any()


@pytest.mark.real_data
def test_telco_blank_total_charges_are_the_eleven_new_customers(telco):
    raw = pd.read_csv(TELCO, dtype=str, keep_default_na=False)
    assert (raw["TotalCharges"].str.strip() == "").sum() == 11
    blank = telco[BLANK_FLAG].to_numpy()
    assert blank.sum() == 11
    assert (telco.loc[blank, "tenure"] == 0).all()
    assert (telco.loc[blank, "TotalCharges"] == 0.0).all()
    assert (telco["tenure"] == 0).sum() == 11  # every tenure-0 customer is one of them
    np.testing.assert_allclose(
        telco.loc[~blank, "TotalCharges"].to_numpy(),
        pd.to_numeric(raw.loc[~blank, "TotalCharges"]).to_numpy(),
    )


@pytest.mark.real_data
def test_telco_uses_every_category_level_and_its_ranges(telco):
    for column, levels in CATEGORIES.items():
        assert set(telco[column].astype(str)) == set(levels), column
    assert set(telco["SeniorCitizen"]) == {0, 1}
    assert (telco["tenure"].min(), telco["tenure"].max()) == (0, 72)
    assert telco["Contract"].value_counts().to_dict() == {
        "Month-to-month": 3_875, "Two year": 1_695, "One year": 1_473,
    }  # fmt: skip
