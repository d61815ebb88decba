"""The Telco importer's published figure: the churn share, for the full file only."""

import json

import pandas as pd
import pytest
from shared_data import SHARED_DATA

from persona_lib.data import load_logs
from persona_lib.data.published import PUBLISHED_FILE, read_published
from persona_lib.datasets.importers.telco import (
    PUBLISHED_CHURNERS,
    import_telco,
    telco_published,
)
from persona_lib.datasets.telco import COLUMNS, TELCO_FILE

TELCO = SHARED_DATA / "telco" / TELCO_FILE


def churn_column(churners: int, members: int) -> pd.DataFrame:
    return pd.DataFrame({"Churn": [True] * churners + [False] * (members - churners)})


def test_the_full_file_gets_the_churn_share_for_notebook_04():
    (figure,) = telco_published(churn_column(*PUBLISHED_CHURNERS))
    assert (figure.notebook, figure.key) == ("04_churn_retention", "members_churned_pct")
    assert (figure.value, figure.decimals, figure.unit) == (26.54, 2, "%")
    assert figure.agrees(100 * 1_869 / 7_043)  # 26.537 % rounds to it
    assert not figure.agrees(100 * 1_870 / 7_043)  # 26.551 % does not


@pytest.mark.parametrize("churners, members", [(1_869, 7_042), (1_868, 7_043), (1, 3)])
def test_a_sample_or_an_edited_copy_gets_no_published_figure(churners, members):
    assert telco_published(churn_column(churners, members)) == []


def test_an_import_of_a_small_file_writes_no_published_file(tmp_path):
    row = {
        "customerID": "A", "gender": "Female", "SeniorCitizen": "0", "Partner": "No",
        "Dependents": "No", "tenure": "2", "PhoneService": "Yes", "MultipleLines": "No",
        "InternetService": "DSL", "OnlineSecurity": "No", "OnlineBackup": "No",
        "DeviceProtection": "No", "TechSupport": "No", "StreamingTV": "No",
        "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "No",
        "PaymentMethod": "Mailed check", "MonthlyCharges": "20.00", "TotalCharges": "40.00",
        "Churn": "Yes",
    }  # fmt: skip
    pd.DataFrame([row])[list(COLUMNS)].to_csv(tmp_path / TELCO_FILE, index=False)
    import_telco(tmp_path, tmp_path / "logs")
    assert not (tmp_path / "logs" / PUBLISHED_FILE).exists()
    assert read_published(tmp_path / "logs") == []


@pytest.mark.real_data
def test_the_imported_full_file_carries_a_share_its_tables_reproduce(tmp_path):
    if not TELCO.is_file():
        pytest.skip(f"{TELCO} is absent")
    import_telco(TELCO, tmp_path / "logs")
    saved = json.loads((tmp_path / "logs" / PUBLISHED_FILE).read_text(encoding="utf-8"))
    assert saved["source"] == "telco"
    (figure,) = read_published(tmp_path / "logs", "04_churn_retention")
    logs = load_logs(tmp_path / "logs")
    left = logs.billing.loc[logs.billing["status"].astype(str) == "churned", "user_id"].nunique()
    assert (left, len(logs.users)) == PUBLISHED_CHURNERS
    assert figure.agrees(100 * left / len(logs.users))
