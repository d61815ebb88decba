"""Importers of public data sets into persona's schema: tiny hand-written sources with their
tables computed by hand, errors that name the file, atomic publishing, the ``persona import``
command, and the real sets of ../shared/data against their published counts."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_data import SHARED_DATA

from persona_lib.data import SchemaError, load_logs, validate_folder
from persona_lib.data.published import read_published
from persona_lib.datasets.importers import (
    IMPORT_MANIFEST,
    IMPORTERS,
    MOVIELENS_GENRES,
    import_cookie_cats,
    import_movielens,
    import_obd,
    import_telco,
    publish_tables,
)
from persona_lib.datasets.importers import publish as publish_module
from persona_lib.datasets.importers.cookie_cats import PUBLISHED_ARMS, cookie_cats_published
from persona_lib.datasets.obd import load_obd
from persona_lib.datasets.telco import COLUMNS as TELCO_COLUMNS
from persona_lib.datasets.telco import TELCO_FILE
from persona_lib.report.cli import main

TS = "datetime64[ms]"


def schema_columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    return frame[names].reset_index(drop=True)


# --- MovieLens 100K: four movies, two members, four ratings --------------------------------
GENRE_FLAGS = {1: (3, 4, 5), 2: (18,), 3: (0,), 4: (10, 13)}  # u.genre positions
ITEMS = {1: "Toy Story (1995)", 2: "Unforgiven (1992)", 3: "unknown", 4: "Chinatown (1974)"}
RATINGS = "1\t1\t5\t874965758\n2\t1\t3\t876893171\n1\t2\t4\t874965800\n2\t3\t1\t875071561\n"


def write_movielens(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for movie, name in ITEMS.items():
        flags = ["1" if i in GENRE_FLAGS[movie] else "0" for i in range(19)]
        lines.append("|".join([str(movie), name, "01-Jan-1995", "", "http://x", *flags]))
    (folder / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    (folder / "u.data").write_text(RATINGS)
    return folder


def test_movielens_ratings_become_plays_of_known_titles(tmp_path):
    src = write_movielens(tmp_path / "ml")
    result = import_movielens(src, tmp_path / "logs")
    assert result.rows == {"events": 4, "titles": 4, "users": 2}
    logs = load_logs(tmp_path / "logs")
    events = logs.events
    assert events["event_id"].tolist() == [0, 1, 2, 3]
    assert events["ts"].astype(str).tolist() == [
        "1997-09-22 22:02:38", "1997-09-22 22:03:20", "1997-09-24 03:26:01",
        "1997-10-15 05:26:11",
    ]  # fmt: skip
    assert events["user_id"].tolist() == [0, 0, 1, 1]
    assert events["title_id"].tolist() == [0, 1, 2, 0]
    assert events["session_id"].tolist() == [0, 0, 1, 2]  # one per member and UTC day
    assert events["rating"].tolist() == [5.0, 4.0, 1.0, 3.0]
    assert set(events["event_type"].astype(str)) == {"play_start"}
    assert events["watch_s"].isna().all() and (events["artwork_id"] == -1).all()
    assert set(events["device"].astype(str)) == {"web"}
    assert set(events["row_id"].astype(str)) == {"unknown"}
    titles = logs.titles
    assert titles["genres"].tolist() == ["Animation|Comedy|Family", "Drama", "Drama",
                                         "Crime|Thriller"]  # fmt: skip
    assert titles["release_year"].tolist() == [1995, 1992, 1997, 1974]  # unknown: first rating
    assert titles["synopsis"].tolist() == [
        "MovieLens genres: Animation, Children's, Comedy", "MovieLens genres: Western",
        "MovieLens genres: unknown", "MovieLens genres: Film-Noir, Mystery",
    ]  # fmt: skip
    assert titles["movie_id"].tolist() == [1, 2, 3, 4]
    users = logs.users
    assert users["signup_ts"].astype(str).tolist() == ["1997-09-22 22:02:38",
                                                       "1997-09-24 03:26:01"]  # fmt: skip
    assert users["plan"].astype(str).tolist() == ["basic", "basic"]
    assert users["price"].tolist() == [0.0, 0.0]
    assert users["occupation"].astype(str).tolist() == ["technician", "other"]
    assert logs.billing is None and logs.artworks is None and logs.propensities is None


# --- OBD: three rounds, one of them logged out of time order --------------------------------
OBD_HEADER = (
    ",timestamp,item_id,position,click,propensity_score,"
    "user_feature_0,user_feature_1,user_feature_2,user_feature_3,"
    "user-item_affinity_0,user-item_affinity_1,user-item_affinity_2"
)
OBD_ROWS = [
    "0,2019-11-24 00:00:34.762830+00:00,2,3,0,0.5,u0a,u1a,u2a,u3a,0.0,0.0,1.0",
    "1,2019-11-24 00:01:10.000000+00:00,0,1,1,0.25,u0b,u1a,u2a,u3a,2.0,0.0,0.0",
    "2,2019-11-24 00:00:53.965051+00:00,1,2,1,0.125,u0a,u1a,u2b,u3a,0.0,0.0,0.0",
]
OBD_ITEMS = (
    ",item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n"
    "0,1,0.5,h1,h2,h3\n1,0,-0.1,h1,h2,h4\n2,2,0.9,h5,h2,h3\n"
)


def write_obd(root: Path, rows: list[str] = OBD_ROWS, policy: str = "bts") -> Path:
    folder = root / policy / "men"
    folder.mkdir(parents=True)
    (folder / "men.csv").write_text("\n".join([OBD_HEADER, *rows]) + "\n")
    (folder / "item_context.csv").write_text(OBD_ITEMS)
    return root


def test_obd_rounds_become_impressions_clicks_and_propensities(tmp_path):
    src = write_obd(tmp_path / "obd")
    result = import_obd(src, tmp_path / "logs", policy="bts", campaign="men", format="csv")
    assert result.rows == {"events": 5, "titles": 3, "users": 3, "propensities": 3}
    logs = load_logs(tmp_path / "logs")
    events = logs.events
    # rounds in time order: round 0 (member 0), round 2 (member 1), round 1 (member 2)
    assert events["event_type"].astype(str).tolist() == [
        "impression", "impression", "click", "impression", "click",
    ]  # fmt: skip
    assert events["user_id"].tolist() == [0, 1, 1, 2, 2]
    assert events["session_id"].tolist() == [0, 1, 1, 2, 2]
    assert events["title_id"].tolist() == [2, 1, 1, 0, 0]
    assert events["col_position"].tolist() == [2, 1, 1, 0, 0]
    assert (events["row_position"] == 0).all()
    assert set(events["row_id"].astype(str)) == {"obd:men"}
    assert events["ts"].astype(str).tolist() == [
        "2019-11-24 00:00:34.762", "2019-11-24 00:00:53.965", "2019-11-24 00:00:53.965",
        "2019-11-24 00:01:10.000", "2019-11-24 00:01:10.000",
    ]  # fmt: skip
    assert logs.propensities["event_id"].tolist() == [0, 1, 3]
    assert logs.propensities["pscore"].tolist() == [0.5, 0.125, 0.25]
    users = logs.users
    assert users["user_feature_0"].tolist() == ["u0a", "u0a", "u0b"]
    assert users["user_feature_2"].tolist() == ["u2a", "u2b", "u2a"]
    assert users["signup_ts"].tolist() == events.loc[[0, 1, 3], "ts"].tolist()
    assert set(users["country"].astype(str)) == {"JP"}
    titles = logs.titles
    assert titles["title_id"].tolist() == [0, 1, 2]
    assert titles["item_feature_3"].tolist() == ["h4", "h3", "h3"]  # item 0 is file row 1
    assert set(titles["genres"]) == {"Drama"} and set(titles["release_year"]) == {2019}
    manifest = json.loads((tmp_path / "logs" / IMPORT_MANIFEST).read_text())
    assert manifest["parameters"] == {"format": "csv", "policy": "bts", "campaign": "men"}
    assert sorted(manifest["files"]) == ["bts/men/item_context.csv", "bts/men/men.csv"]


# --- Telco: three customers, their billing rows by hand -------------------------------------
TELCO_BASE = dict(
    gender="Female", SeniorCitizen="0", Partner="No", Dependents="No", PhoneService="Yes",
    MultipleLines="No", InternetService="DSL", OnlineSecurity="No", OnlineBackup="No",
    DeviceProtection="No", TechSupport="No", StreamingTV="No", StreamingMovies="No",
    Contract="Month-to-month", PaperlessBilling="No", PaymentMethod="Mailed check",
)  # fmt: skip
TELCO_CUSTOMERS = [
    # stayed 3 months, phone only -> ads
    dict(customerID="A", tenure="3", InternetService="No", OnlineSecurity="No internet service",
         OnlineBackup="No internet service", DeviceProtection="No internet service",
         TechSupport="No internet service", StreamingTV="No internet service",
         StreamingMovies="No internet service", MonthlyCharges="20.00", TotalCharges="60.00",
         Churn="No"),
    # paid 1 month then declined the renewal; both streaming services -> premium
    dict(customerID="B", tenure="1", StreamingTV="Yes", StreamingMovies="Yes",
         MonthlyCharges="50.50", TotalCharges="50.50", Churn="Yes"),
    # joined, not billed yet (blank TotalCharges); one streaming service -> standard
    dict(customerID="C", tenure="0", InternetService="Fiber optic", StreamingTV="Yes",
         Contract="Two year", MonthlyCharges="80.25", TotalCharges=" ", Churn="No"),
]  # fmt: skip


def write_telco(folder: Path, customers=TELCO_CUSTOMERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{**TELCO_BASE, **c} for c in customers])[list(TELCO_COLUMNS)]
    frame.to_csv(folder / TELCO_FILE, index=False)
    return folder


def test_telco_customers_become_members_with_a_monthly_billing_history(tmp_path):
    src = write_telco(tmp_path / "telco")
    result = import_telco(src, tmp_path / "logs", end="2020-03-01")
    assert result.rows == {"users": 3, "billing": 5}
    logs = load_logs(tmp_path / "logs")
    billing = logs.billing
    expected = pd.DataFrame(
        {
            "user_id": [0, 0, 0, 1, 1],
            "period_start": ["2019-12-01", "2020-01-01", "2020-02-01", "2020-01-01", "2020-02-01"],
            "plan": ["ads", "ads", "ads", "premium", "premium"],
            "price": [20.0, 20.0, 20.0, 50.5, 50.5],
            "status": ["new", "renewed", "renewed", "new", "churned"],
        }
    )
    got = billing.assign(
        period_start=billing["period_start"].dt.strftime("%Y-%m-%d"),
        plan=billing["plan"].astype(str),
        status=billing["status"].astype(str),
        price=billing["price"].astype(float),
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    users = logs.users
    assert users["signup_ts"].dt.strftime("%Y-%m-%d").tolist() == [
        "2019-12-01", "2020-01-01", "2020-03-01",
    ]  # fmt: skip
    assert users["plan"].astype(str).tolist() == ["ads", "premium", "standard"]
    assert users["price"].tolist() == pytest.approx([20.0, 50.5, 80.25])
    assert users["customerID"].tolist() == ["A", "B", "C"]
    assert users["TotalCharges"].tolist() == [60.0, 50.5, 0.0]
    assert users["TotalChargesBlank"].tolist() == [False, False, True]
    assert logs.events is None


def test_telco_end_must_be_a_month_start(tmp_path):
    src = write_telco(tmp_path / "telco")
    with pytest.raises(ValueError, match=r"end must be the first day of a month .* '2020-03-15'"):
        import_telco(src, tmp_path / "logs", end="2020-03-15")
    assert not (tmp_path / "logs").exists()


# --- Cookie Cats: three players, not in id order --------------------------------------------
CATS = """userid,version,sum_gamerounds,retention_1,retention_7
377,gate_40,165,TRUE,TRUE
116,gate_30,3,FALSE,FALSE
337,gate_30,38,TRUE,FALSE
"""


def write_cats(folder: Path, text: str = CATS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cookie_cats.csv").write_text(text)
    return folder


def test_cookie_cats_players_become_an_experiment_with_outcomes(tmp_path):
    src = write_cats(tmp_path / "cats")
    result = import_cookie_cats(src / "cookie_cats.csv", tmp_path / "logs", format="csv")
    assert result.rows == {"users": 3, "assignments": 3, "outcomes": 3}
    logs = load_logs(tmp_path / "logs")
    assert logs.users["userid"].tolist() == ["116", "337", "377"]  # extra columns: CSV text
    assert set(logs.users["preferred_device"].astype(str)) == {"mobile"}
    assignments = logs.assignments
    assert assignments["experiment"].tolist() == ["cookie_cats_gate"] * 3
    assert assignments["variant"].tolist() == ["gate_30", "gate_30", "gate_40"]
    assert set(assignments["assigned_ts"].astype(str)) == {"2018-01-01"}
    assert (logs.users["signup_ts"] == assignments["assigned_ts"]).all()
    outcomes = logs.outcomes
    assert outcomes["retention_1"].tolist() == [False, True, True]
    assert outcomes["retention_7"].tolist() == [False, False, True]
    assert outcomes["sum_gamerounds"].tolist() == [3, 38, 165]
    assert outcomes["retention_7"].dtype == bool
    assert logs.events is None and logs.billing is None
    assert read_published(tmp_path / "logs") == []  # 3 players: not the published experiment


def full_cats_text() -> str:
    """A file with the published experiment's players per version (made-up outcomes)."""
    version = np.repeat(list(PUBLISHED_ARMS), list(PUBLISHED_ARMS.values()))
    flag = np.where(np.arange(len(version)) % 5 == 0, "TRUE", "FALSE")
    return pd.DataFrame({
        "userid": np.arange(len(version))[::-1], "version": version, "sum_gamerounds": 1,
        "retention_1": flag, "retention_7": flag,
    }).to_csv(index=False)  # fmt: skip


def test_cookie_cats_full_file_carries_the_published_figures(tmp_path):
    src = write_cats(tmp_path / "cats", full_cats_text())
    result = import_cookie_cats(src, tmp_path / "logs")
    assert result.rows == dict.fromkeys(["users", "assignments", "outcomes"], 90_189)
    assert validate_folder(tmp_path / "logs").names == ["users", "assignments", "outcomes"]
    figures = read_published(tmp_path / "logs", "05_experiments")
    assert {f.key: (f.value, f.decimals, f.unit) for f in figures} == {
        "retention_7_control_pct": (19.02, 2, "%"),
        "retention_7_arm_pct": (18.20, 2, "%"),
        "members_gate_30": (44_700, 0, "count"),
        "members_gate_40": (45_489, 0, "count"),
        "retention_7_diff_pp": (-0.82, 2, "pp"),
        "retention_7_ci_low_pp": (-1.33, 2, "pp"),
        "retention_7_ci_high_pp": (-0.31, 2, "pp"),
        "retention_7_p_value": (0.0016, 4, "p"),
        "srm_chi2": (6.90, 2, ""),
        "srm_p_value": (0.0086, 4, "p"),
    }
    assert all(f.reference and f.label for f in figures)
    published = json.loads((tmp_path / "logs" / "published.json").read_text())
    assert published["source"] == "cookie-cats"
    players = pd.DataFrame({"version": ["gate_30"] * 44_700 + ["gate_40"] * 45_488})
    assert cookie_cats_published(players) == []  # one player short of the published file


# --- errors and atomicity --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("importer", "named", "words"),
    [
        (import_movielens, "nowhere", "no such folder"),
        (import_obd, "nowhere", "no such folder"),
        (import_telco, f"nowhere/{TELCO_FILE}", "no such file"),  # a folder: its file
        (import_cookie_cats, "nowhere/cookie_cats.csv", "no such file"),
    ],
)
def test_missing_sources_are_named(tmp_path, importer, named, words):
    with pytest.raises(FileNotFoundError, match=re.escape(f"{tmp_path / named}: {words}")):
        importer(tmp_path / named, tmp_path / "logs")
    assert not (tmp_path / "logs").exists()


def test_a_missing_obd_file_is_named(tmp_path):
    write_obd(tmp_path / "obd")
    absent = tmp_path / "obd" / "random" / "men" / "item_context.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(f"{absent} is absent")):
        import_obd(tmp_path / "obd", tmp_path / "logs", policy="random", campaign="men")
    assert not (tmp_path / "logs").exists()


def test_malformed_sources_name_the_file_column_and_line(tmp_path):
    customers = [*TELCO_CUSTOMERS[:2], {**TELCO_CUSTOMERS[2], "MonthlyCharges": "cheap"}]
    src = write_telco(tmp_path / "telco", customers)
    line = re.escape(f"{src / TELCO_FILE}: column 'MonthlyCharges' is not a number: line 4 'cheap'")
    with pytest.raises(ValueError, match=line):
        import_telco(src, tmp_path / "logs")
    cats = write_cats(tmp_path / "cats", CATS.replace("gate_40", "gate_50"))
    with pytest.raises(ValueError, match=r"cookie_cats\.csv: column 'version' is not one of"):
        import_cookie_cats(cats, tmp_path / "logs")
    obd = write_obd(tmp_path / "obd", [OBD_ROWS[0], "1,2019-11-24,0,1"])
    with pytest.raises(ValueError, match=re.escape(f"{obd / 'bts' / 'men' / 'men.csv'}: ")):
        import_obd(obd, tmp_path / "logs", policy="bts", campaign="men")
    bad = write_movielens(tmp_path / "ml")
    (bad / "u.data").write_text(RATINGS + "1\t4\tfive\t874965758\n")
    with pytest.raises(ValueError, match=re.escape(f"{bad / 'u.data'}: malformed line 5")):
        import_movielens(bad, tmp_path / "logs")
    assert not (tmp_path / "logs").exists()


def test_a_non_empty_out_is_refused_unless_forced(tmp_path):
    src = write_cats(tmp_path / "cats")
    out = tmp_path / "logs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=re.escape(f"{out}: not empty; choose a new or")):
        import_cookie_cats(src, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    import_cookie_cats(src, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.parquet", IMPORT_MANIFEST, "outcomes.parquet", "users.parquet",
    ]  # fmt: skip
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError, match="exists and is not a folder"):
        import_cookie_cats(src, tmp_path / "file", force=True)


def test_a_failure_while_publishing_leaves_no_folder_and_the_old_one_intact(tmp_path, monkeypatch):
    src = write_cats(tmp_path / "cats")

    def broken(folder):
        raise SchemaError(f"{folder}: broken on purpose")

    monkeypatch.setattr(publish_module, "validate_folder", broken)
    with pytest.raises(SchemaError, match="broken on purpose"):
        import_cookie_cats(src, tmp_path / "logs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cats"]  # no logs, no temporary folder
    old = tmp_path / "old"
    old.mkdir()
    (old / "users.csv").write_text("kept")
    with pytest.raises(SchemaError, match="broken on purpose"):
        import_cookie_cats(src, old, force=True)
    assert [p.name for p in old.iterdir()] == ["users.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cats", "old"]


def test_tables_that_do_not_fit_the_schema_are_never_published(tmp_path):
    users = pd.DataFrame({"user_id": [0], "signup_ts": ["2020-01-01"], "country": ["XX"],
                          "language": ["en"], "plan": ["basic"], "price": [0.0],
                          "preferred_device": ["web"]})  # fmt: skip
    with pytest.raises(SchemaError, match=r"^demo import: table 'users', column 'country'"):
        publish_tables({"users": users}, tmp_path / "logs", source="demo", files={},
                       parameters={})  # fmt: skip
    with pytest.raises(ValueError, match="format must be one of parquet, csv"):
        publish_tables({}, tmp_path / "logs", source="demo", files={}, parameters={},
                       file_format="json")  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_csv_and_parquet_folders_hold_the_same_schema_tables(tmp_path):
    src = write_telco(tmp_path / "telco")
    for fmt in ("csv", "parquet"):
        import_telco(src, tmp_path / fmt, format=fmt)
    a, b = load_logs(tmp_path / "csv"), load_logs(tmp_path / "parquet")
    for name in ("users", "billing"):
        names = list(getattr(b, name).columns[:7]) if name == "users" else None
        left, right = getattr(a, name), getattr(b, name)
        names = names or list(right.columns)
        pd.testing.assert_frame_equal(schema_columns(left, names), schema_columns(right, names))


# --- the command -----------------------------------------------------------------------------
def test_persona_import_writes_a_folder_persona_validate_accepts(tmp_path, capsys):
    src = write_telco(tmp_path / "telco")
    out = tmp_path / "logs"
    assert main(["import", "telco", str(src), "--out", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out == f"telco {src}: users 3, billing 5 -> {out}\n"
    assert main(["validate", str(out)]) == 0
    assert "users 3, billing 5" in capsys.readouterr().out
    obd = write_obd(tmp_path / "obd")
    args = ["import", "obd", str(obd), "--out", str(tmp_path / "o"), "--policy", "bts",
            "--campaign", "men"]  # fmt: skip
    assert main(args) == 0
    assert "propensities 3" in capsys.readouterr().out
    assert set(IMPORTERS) == {"movielens", "obd", "telco", "cookie-cats"}


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["telco", "{tmp}/nowhere.csv"], 2, "{tmp}/nowhere.csv: no such file"),
        (["cookie-cats", "{tmp}/bad.csv"], 1, "{tmp}/bad.csv: column 'retention_7'"),
        (["telco", "{tmp}/x.csv", "--policy", "bts"], 2, "--policy and --campaign are for obd"),
        (["cookie-cats", "{tmp}/good.csv"], 2, "{tmp}/full: not empty"),
    ],
)  # fmt: skip
def test_persona_import_errors_are_one_line_and_leave_no_folder(
    tmp_path, capsys, args, status, message
):
    (tmp_path / "bad.csv").write_text(CATS.replace("TRUE\n", "YES\n", 1))
    (tmp_path / "good.csv").write_text(CATS)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    out = "full" if "good" in args[1] else "logs"
    argv = ["import", *(a.format(tmp=tmp_path) for a in args), "--out", str(tmp_path / out)]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.startswith("persona import: ") and err.count("\n") == 1
    assert message.format(tmp=tmp_path) in err
    assert not (tmp_path / "logs").exists()


# --- the real sets ---------------------------------------------------------------------------
def real(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.real_data
def test_real_movielens_100k(tmp_path):
    result = import_movielens(real(SHARED_DATA / "movielens" / "ml-100k"), tmp_path / "ml")
    assert result.rows == {"events": 100_000, "titles": 1_682, "users": 943}
    logs = load_logs(tmp_path / "ml")
    ts = logs.events["ts"]
    assert (str(ts.min().date()), str(ts.max().date())) == ("1997-09-20", "1998-04-22")
    assert logs.events["rating"].mean() == pytest.approx(3.52986, abs=1e-5)
    original = logs.titles["synopsis"].str.removeprefix("MovieLens genres: ").str.split(", ")
    fallback = original.map(lambda gs: not any(g in MOVIELENS_GENRES for g in gs))
    assert fallback.sum() == 20 and (logs.titles.loc[fallback, "genres"] == "Drama").all()


@pytest.mark.real_data
@pytest.mark.parametrize("policy", ["random", "bts"])
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_real_obd(tmp_path, policy, campaign):
    root = real(SHARED_DATA / "obd")
    result = import_obd(root, tmp_path / "obd", policy=policy, campaign=campaign)
    data = load_obd(root, policy, campaign)
    clicks = int(data.reward.sum())
    n_items = {"all": 80, "men": 34, "women": 46}[campaign]
    assert result.rows == {"events": 10_000 + clicks, "titles": n_items, "users": 10_000,
                           "propensities": 10_000}  # fmt: skip
    logs = load_logs(tmp_path / "obd")
    impressions = logs.events[logs.events["event_type"] == "impression"]
    ctr = (logs.events["event_type"] == "click").sum() / len(impressions)
    assert ctr == pytest.approx(data.reward.mean(), abs=1e-12)
    pscore = logs.propensities["pscore"].to_numpy()
    np.testing.assert_allclose(np.sort(pscore), np.sort(data.pscore), rtol=1e-6)
    if policy == "random":
        np.testing.assert_allclose(pscore, 1 / n_items, rtol=1e-6)


@pytest.mark.real_data
def test_real_telco(tmp_path):
    result = import_telco(real(SHARED_DATA / "telco"), tmp_path / "telco")
    logs = load_logs(tmp_path / "telco")
    users, billing = logs.users, logs.billing
    assert len(users) == 7_043
    churned = billing.loc[billing["status"] == "churned", "user_id"]
    assert churned.is_unique and round(100 * len(churned) / len(users), 2) == 26.54
    assert result.rows["billing"] == int(users["tenure"].sum()) + len(churned) == 229_859
    paid = billing.loc[billing["status"] != "churned", "price"].astype(float).sum()
    assert paid == pytest.approx(users["TotalCharges"].sum(), rel=1e-4)
    assert (billing.groupby("user_id")["period_start"].max() == pd.Timestamp("2017-12-01")).all()


@pytest.mark.real_data
def test_real_cookie_cats(tmp_path):
    src = real(SHARED_DATA / "cookie_cats")
    out = tmp_path / "cats"
    assert main(["import", "cookie-cats", str(src), "--out", str(out)]) == 0
    logs = load_logs(out)
    assert validate_folder(out).names == ["users", "assignments", "outcomes"]
    both = logs.assignments.merge(logs.outcomes, on="user_id")
    assert len(both) == 90_189
    assert both["variant"].value_counts().to_dict() == {"gate_40": 45_489, "gate_30": 44_700}
    retention_7 = (100 * both.groupby("variant")["retention_7"].mean()).round(2).to_dict()
    assert retention_7 == {"gate_30": 19.02, "gate_40": 18.20}
    published = {f.key: f for f in read_published(out, "05_experiments")}
    assert published["retention_7_control_pct"].agrees(100 * both.loc[
        both["variant"] == "gate_30", "retention_7"].mean())  # fmt: skip
    assert published["members_gate_40"].agrees(45_489) and len(published) == 10


# --- MovieLens: a report recognises a MovieLens import by its manifest -----------------------
def test_imported_movielens_format_reads_the_manifest_and_never_raises(tmp_path):
    from persona_lib.datasets.importers.movielens import imported_movielens_format

    import_movielens(write_movielens(tmp_path / "ml"), tmp_path / "logs")
    assert imported_movielens_format(tmp_path / "logs") == "100k"
    assert imported_movielens_format(str(tmp_path / "logs")) == "100k"
    import_cookie_cats(write_cats(tmp_path / "cats") / "cookie_cats.csv", tmp_path / "cats_logs")
    assert imported_movielens_format(tmp_path / "cats_logs") is None  # another importer's
    assert imported_movielens_format("") is None and imported_movielens_format(None) is None
    assert imported_movielens_format(tmp_path / "nowhere") is None
    (tmp_path / "bad").mkdir()
    for text in ("{not json", "[1, 2]", '{"kind": "persona-import", "source": "movielens"}',
                 '{"kind": "persona-import", "source": "movielens", '
                 '"parameters": {"movielens_format": ["100k"]}}'):  # fmt: skip
        (tmp_path / "bad" / IMPORT_MANIFEST).write_text(text)
        assert imported_movielens_format(tmp_path / "bad") is None, text


# --- OBD: published.json, the figures notebook 03 puts beside its item-policy estimates -------
def obd_figures(folder: Path) -> list[tuple]:
    from persona_lib.data.published import read_published as read_figures

    return [(f.notebook, f.key, f.value, f.decimals, f.unit) for f in read_figures(folder)]


def test_obd_bts_import_publishes_the_random_logs_ctr_beside_the_full_data_ctrs(tmp_path):
    from persona_lib.data.published import read_published as read_figures

    src = write_obd(tmp_path / "obd")
    clicked = [",".join([*row.split(",")[:4], "1", "0.3333333", *row.split(",")[6:]])
               for row in OBD_ROWS]  # fmt: skip
    write_obd(src, clicked, policy="random")
    import_obd(src, tmp_path / "logs", policy="bts", campaign="men")
    nb = "03_artwork_personalization"
    assert obd_figures(tmp_path / "logs") == [
        (nb, "item_uniform_dr_ctr_pct", 100.0, 2, "%"),  # 3 clicks in 3 random rounds
        (nb, "item_uniform_dr_ctr_pct", 0.51, 2, "%"),  # Saito et al. 2021, Table 1, men
        (nb, "item_logged_ctr_pct", 0.67, 2, "%"),
    ]
    reference, random_full, bts_full = read_figures(tmp_path / "logs")
    # exact interval of 3 clicks in 3 rounds: [(0.025)^(1/3), 1] = [29.24 %, 100 %]
    assert "3 clicks in 3 rounds (exact 95 % CI 29.24 % to 100.00 %)" in reference.label
    assert "random/men/men.csv" in reference.reference
    for figure in (random_full, bts_full):
        assert "full OBD data, not this 3-round sample" in figure.label
        assert "Table 1" in figure.reference
    manifest = json.loads((tmp_path / "logs" / IMPORT_MANIFEST).read_text())
    assert sorted(manifest["files"]) == [
        "bts/men/item_context.csv", "bts/men/men.csv",
        "random/men/item_context.csv", "random/men/men.csv",
    ]  # fmt: skip


def test_obd_import_without_the_random_logs_publishes_the_full_data_ctrs_only(tmp_path):
    nb = "03_artwork_personalization"
    src = write_obd(tmp_path / "obd")
    import_obd(src, tmp_path / "bts", policy="bts", campaign="men")
    assert obd_figures(tmp_path / "bts") == [
        (nb, "item_uniform_dr_ctr_pct", 0.51, 2, "%"), (nb, "item_logged_ctr_pct", 0.67, 2, "%"),
    ]  # fmt: skip
    write_obd(src, OBD_ROWS, policy="random")
    import_obd(src, tmp_path / "random", policy="random", campaign="men")
    # the random logs' own CTR is what the full-data random figure is compared with
    assert obd_figures(tmp_path / "random") == [(nb, "item_logged_ctr_pct", 0.51, 2, "%")]


@pytest.mark.real_data
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_real_obd_bts_import_publishes_the_random_logs_ctr(tmp_path, campaign):
    from persona_lib.data.published import read_published as read_figures
    from persona_lib.datasets.importers.obd import FULL_DATA_CTR_PCT

    root = real(SHARED_DATA / "obd")
    import_obd(root, tmp_path / "obd", policy="bts", campaign=campaign)
    reference, random_full, bts_full = read_figures(tmp_path / "obd")
    random_logs = load_obd(root, "random", campaign)
    clicks = int(random_logs.reward.sum())
    assert reference.value == 100 * clicks / 10_000 and reference.decimals == 2  # exact
    assert f"{clicks} clicks in 10,000 rounds" in reference.label
    assert (random_full.value, bts_full.value) == FULL_DATA_CTR_PCT[campaign]
