"""cross_validate_churn: folds, out-of-fold predictions, fold summaries, duplicate warnings."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from tolerances import FLOAT64

from persona_lib.evaluation import ChurnCV, cross_validate_churn, expected_calibration_error
from persona_lib.models.retention import ChurnModel

FAST = {"n_estimators": 60}


def _frame(n: int, seed: int, kind: str = "mixed") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    plan = rng.choice(["ads", "standard", "premium"], size=n)
    score = -1.2 + (1.5 * x if kind != "categorical" else 0)
    score = score + (1.0 * (plan == "premium") if kind != "numeric" else 0)
    out = {"churn": rng.random(n) < expit(score)}
    if kind != "categorical":
        out |= {"x": x, "noise": rng.normal(size=n)}
    if kind != "numeric":
        out |= {"plan": pd.array(plan, dtype="str")}
    return pd.DataFrame(out, index=pd.RangeIndex(1000, 1000 + n))


def _quiet(*args, **kwargs) -> ChurnCV:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        return cross_validate_churn(*args, **kwargs)


@pytest.mark.parametrize("kind", ["numeric", "categorical", "mixed"])
def test_every_row_is_predicted_once_by_a_model_that_did_not_see_it(kind):
    frame = _frame(600, 0, kind)
    if kind == "categorical":  # three plans for 600 rows: identical rows are inevitable
        with pytest.warns(UserWarning, match="600 rows have an identical copy"):
            cv = cross_validate_churn(frame, "churn", n_splits=4, **FAST)
    else:
        cv = _quiet(frame, "churn", n_splits=4, **FAST)
    assert list(cv.folds["fold"]) == [0, 1, 2, 3]
    assert cv.predictions.index.equals(frame.index)
    assert cv.folds["n_test"].sum() == 600
    assert (cv.folds["n_train"] + cv.folds["n_test"] == 600).all()
    assert cv.predictions["p"].between(0, 1).all()
    np.testing.assert_array_equal(cv.predictions["target"], frame["churn"].astype(int))
    # refit fold 0's model on the other folds: it gives exactly the stored held-out predictions
    held = (cv.predictions["fold"] == 0).to_numpy()
    X = frame.drop(columns="churn")
    again = ChurnModel(random_state=0, **FAST).fit(X[~held], frame["churn"][~held])
    np.testing.assert_allclose(cv.predictions["p"][held], again.predict_proba(X[held])[:, 1],
                               **FLOAT64)  # fmt: skip
    assert cv.mean("roc_auc") > 0.6
    assert set(cv.summary["metric"]) == {"roc_auc", "pr_auc", "brier", "ece"}


def test_folds_are_stratified():
    frame = _frame(500, 1)
    cv = _quiet(frame, "churn", n_splits=5, model="logistic")
    positives = cv.folds["positives_test"]
    assert positives.max() - positives.min() <= 1 and positives.sum() == frame["churn"].sum()


def test_summary_is_the_mean_sd_and_t_interval_over_folds():
    cv = _quiet(_frame(500, 2), "churn", n_splits=5, model="logistic")
    values = cv.folds["brier"].to_numpy()
    row = cv.summary.set_index("metric").loc["brier"]
    mean, sd = values.mean(), values.std(ddof=1)
    half = 2.7764451051977987 * sd / np.sqrt(5)  # t quantile 0.975 with 4 degrees of freedom
    np.testing.assert_allclose([row["mean"], row["sd"], row["ci_low"], row["ci_high"]],
                               [mean, sd, mean - half, mean + half], **FLOAT64)  # fmt: skip
    for k, part in cv.predictions.groupby("fold"):
        brier = np.mean((part["p"] - part["target"]) ** 2)
        assert cv.folds.loc[k, "brier"] == pytest.approx(brier, rel=1e-12)
    payload = json.loads(json.dumps(cv.to_dict()))
    assert payload["n_folds"] == 5 and len(payload["per_fold"]["ece"]) == 5
    assert payload["summary"]["brier"]["mean"] == pytest.approx(mean)


def test_expected_calibration_error_by_hand():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.9])
    # two bins of three: |0.1 - 1/3| and |0.9 - 2/3|, each weighted 1/2
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(7 / 30)
    assert expected_calibration_error([0, 1], [0.0, 1.0], n_bins=2) == 0.0


def test_repeated_rows_warn_without_groups_and_not_with_them():
    base = _frame(300, 3)
    repeated = pd.concat([base, base], ignore_index=True)  # every customer twice
    with pytest.warns(UserWarning, match=r"rows have an identical copy") as caught:
        loose = cross_validate_churn(repeated, "churn", n_splits=3, model="logistic")
    fold = loose.predictions["fold"].to_numpy()
    straddling = 2 * int((fold[:300] != fold[300:]).sum())  # a pair in one fold is harmless
    assert 300 < straddling < 600
    first = int(np.flatnonzero(fold[:300] != fold[300:])[0])
    assert str(caught[0].message).startswith(
        f"{straddling} rows have an identical copy (same features, target aside) held out by "
        f"another fold, e.g. rows with index {first} and {first + 300}"
    )
    customer = np.tile(np.arange(300), 2)
    cv = _quiet(repeated, "churn", n_splits=3, model="logistic", groups=customer)
    assert cv.grouped
    assert (cv.predictions.groupby(customer)["fold"].nunique() == 1).all()
    # rows that differ only in the target are twins too
    flipped = base.iloc[:2].assign(churn=~base["churn"].iloc[:2])
    twins = pd.concat([base, flipped], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cross_validate_churn(twins, "churn", n_splits=3, model="logistic")
    fold = result.predictions["fold"].to_numpy()
    count = 2 * int((fold[:2] != fold[300:]).sum())
    messages = [str(w.message) for w in caught if "identical copy" in str(w.message)]
    assert count > 0  # with this seed at least one pair straddles
    assert len(messages) == 1 and messages[0].startswith(f"{count} rows have an identical copy")


def test_grouped_folds_keep_each_group_on_one_side():
    frame = _frame(480, 4)
    frame["member"] = np.repeat(np.arange(120), 4)  # a group column, dropped from the features
    cv = _quiet(frame, "churn", n_splits=4, groups="member", **FAST)
    assert (cv.predictions.groupby(frame["member"])["fold"].nunique() == 1).all()
    assert cv.folds["best_params"].map(len).eq(3).all()


def test_a_fixed_random_state_is_deterministic():
    frame = _frame(400, 5)
    a = _quiet(frame, "churn", n_splits=3, random_state=3, **FAST)
    b = _quiet(frame, "churn", n_splits=3, random_state=3, **FAST)
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    c = _quiet(frame, "churn", n_splits=3, random_state=4, **FAST)
    assert not np.array_equal(a.predictions["fold"], c.predictions["fold"])


def test_errors_name_the_column():
    frame = _frame(200, 6)
    with pytest.raises(ValueError, match="target column 'churned' is not in the frame"):
        cross_validate_churn(frame, "churned")
    yes_no = frame.assign(churn=np.where(frame["churn"], "Yes", "No"))
    with pytest.raises(ValueError, match=r"column 'churn' must hold both 0 and 1 .*'No', 'Yes'"):
        cross_validate_churn(yes_no, "churn")
    with pytest.raises(ValueError, match="target column 'churn' must hold both 0 and 1"):
        cross_validate_churn(frame.assign(churn=np.arange(200) % 3), "churn")
    with pytest.raises(ValueError, match="target column 'churn' must hold both 0 and 1"):
        cross_validate_churn(frame.assign(churn=False), "churn")
    gaps = frame.assign(churn=frame["churn"].astype("float64").where(np.arange(200) > 2))
    with pytest.raises(ValueError, match="target column 'churn' has 3 missing values"):
        cross_validate_churn(gaps, "churn")
    with pytest.raises(ValueError, match="groups column 'member' is not in the frame"):
        cross_validate_churn(frame, "churn", groups="member")
    with pytest.raises(ValueError, match="groups has 10 values but the frame has 200 rows"):
        cross_validate_churn(frame, "churn", groups=np.arange(10))
    with pytest.raises(ValueError, match="3 groups cannot fill 5 folds"):
        cross_validate_churn(frame, "churn", groups=np.arange(200) % 3)
    with pytest.raises(ValueError, match="n_splits must be at least 2, got 1"):
        cross_validate_churn(frame, "churn", n_splits=1)
    few = frame.assign(churn=np.arange(200) < 3)
    with pytest.raises(ValueError, match="5 folds need at least 5 rows of each class, .* has 3"):
        cross_validate_churn(few, "churn")
    with pytest.raises(ValueError, match="no feature column besides the target"):
        cross_validate_churn(frame[["churn"]], "churn")
