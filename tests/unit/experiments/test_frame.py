import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from persona_lib.experiments import (
    ArmsAnalysis,
    analyze_arms,
    cuped_difference,
    difference_in_means,
    ratio_metric,
)
from persona_lib.experiments.frame import TABLE_COLUMNS

Z = stats.norm.ppf(0.975)


def arms_frame(groups: dict[str, list[float]], column: str = "y") -> pd.DataFrame:
    """Rows of each arm in turn: arm label and one outcome column."""
    return pd.DataFrame(
        {"arm": [a for a, ys in groups.items() for _ in ys],
         column: [y for ys in groups.values() for y in ys]}
    )  # fmt: skip


def test_two_arm_binary_difference_and_wald_interval_by_hand():
    df = arms_frame({"A": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0], "B": [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]})
    result = analyze_arms(df, "arm", ["y"], control="A")
    assert isinstance(result, ArmsAnalysis)
    assert list(result.table.columns) == list(TABLE_COLUMNS)
    row = result.table.iloc[0]
    assert (row["arm"], row["control"], row["outcome"], row["method"]) == (
        "B",
        "A",
        "y",
        "z_pooled",
    )
    assert (row["n_control"], row["n_arm"]) == (10, 10)
    assert (row["mean_control"], row["mean_arm"]) == pytest.approx((0.3, 0.6))
    assert row["diff"] == pytest.approx(0.3)
    se = math.sqrt(0.3 * 0.7 / 10 + 0.6 * 0.4 / 10)  # unpooled: sqrt(0.045)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.3 - Z * se, 0.3 + Z * se))
    se0 = math.sqrt(0.45 * 0.55 * (1 / 10 + 1 / 10))  # pooled rate 9 / 20
    assert row["p_value"] == pytest.approx(math.erfc(0.3 / se0 / math.sqrt(2)))
    assert row["p_adjusted"] == pytest.approx(row["p_value"])  # a family of one
    assert row["relative_lift"] == pytest.approx(1.0)
    assert row["relative_ci_low"] < 1.0 < row["relative_ci_high"]
    assert not row["significant"]


def test_two_arm_numeric_welch_interval_by_hand():
    df = arms_frame({"control": [1.0, 2.0, 3.0, 4.0, 5.0], "treatment": [3.0, 5.0, 7.0, 9.0]})
    row = analyze_arms(df, "arm", "y", control="control").table.iloc[0]
    assert row["method"] == "welch"
    v_c, v_t = 2.5 / 5, (9 + 1 + 1 + 9) / 3 / 4  # s^2 / n per arm
    se = math.sqrt(v_c + v_t)
    df_welch = (v_c + v_t) ** 2 / (v_c**2 / 4 + v_t**2 / 3)
    q = stats.t.ppf(0.975, df_welch)
    assert row["diff"] == pytest.approx(3.0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.0 - q * se, 3.0 + q * se))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(3.0 / se, df_welch))
    assert row["relative_lift"] == pytest.approx(1.0)


def three_arm_frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    arm = np.repeat(["A", "B", "C"], 60)
    effect = {"A": 0.0, "B": 0.35, "C": 0.6}
    return pd.DataFrame(
        {
            "arm": arm,
            "hours": rng.normal(2.0, 1.0, arm.size) + np.vectorize(effect.get)(arm),
            "minutes": rng.normal(30.0, 10.0, arm.size) + 4.0 * (arm == "C"),
        }
    )


def test_three_arms_holm_by_hand_against_raw_p_values():
    df = three_arm_frame()
    table = analyze_arms(df, "arm", ["hours", "minutes"], control="A").table
    assert list(zip(table["outcome"], table["arm"], strict=True)) == [
        ("hours", "B"), ("hours", "C"), ("minutes", "B"), ("minutes", "C"),
    ]  # fmt: skip
    raw = table["p_value"].tolist()
    for i, (outcome, arm) in enumerate(zip(table["outcome"], table["arm"], strict=True)):
        direct = difference_in_means(
            df.loc[df["arm"] == "A", outcome], df.loc[df["arm"] == arm, outcome]
        )
        assert raw[i] == pytest.approx(direct.p_value)
    # Holm by hand: the k-th smallest p-value times (4 - k), running maximum, capped at 1
    order = sorted(range(4), key=lambda i: raw[i])
    expected, running = [0.0] * 4, 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (4 - k) * raw[i]))
        expected[i] = running
    np.testing.assert_allclose(table["p_adjusted"], expected, rtol=1e-12)
    assert table["significant"].tolist() == [p < 0.05 for p in expected]
    # this sample exercises the running maximum and the family changes verdicts
    assert expected[order[-1]] > raw[order[-1]]
    assert sum(p < 0.05 for p in raw) > sum(p < 0.05 for p in expected)


def test_benjamini_hochberg_by_hand():
    df = three_arm_frame()
    table = analyze_arms(df, "arm", ["hours", "minutes"], control="A", correction="bh").table
    raw = table["p_value"].to_numpy()
    order = np.argsort(raw)
    expected = np.empty(4)
    running = 1.0
    for rank in range(4, 0, -1):  # step-up from the largest p-value
        i = order[rank - 1]
        running = min(running, 4 * raw[i] / rank)
        expected[i] = running
    np.testing.assert_allclose(table["p_adjusted"], expected, rtol=1e-12)


def test_pooled_arms_compare_the_union_of_their_rows():
    df = three_arm_frame()
    table = analyze_arms(
        df, "arm", ["hours"], control="A", pooled={"any_treatment": ["B", "C"]}
    ).table
    assert table["arm"].tolist() == ["B", "C", "any_treatment"]
    pooled = table.iloc[2]
    direct = difference_in_means(
        df.loc[df["arm"] == "A", "hours"], df.loc[df["arm"] != "A", "hours"]
    )
    assert (pooled["n_control"], pooled["n_arm"]) == (60, 120)
    assert (pooled["diff"], pooled["ci_low"], pooled["p_value"]) == pytest.approx(
        (direct.estimate, direct.ci_low, direct.p_value)
    )
    # three comparisons in the family: the smallest raw p-value is multiplied by 3
    assert table["p_adjusted"].min() == pytest.approx(min(1.0, 3 * table["p_value"].min()))


def test_pooled_arms_are_checked():
    df = three_arm_frame()
    with pytest.raises(ValueError, match="pooled arm 'both' must list treatment arms"):
        analyze_arms(df, "arm", ["hours"], control="A", pooled={"both": ["B", "D"]})
    with pytest.raises(ValueError, match="pooled arm 'B' has the name of an arm"):
        analyze_arms(df, "arm", ["hours"], control="A", pooled={"B": ["B", "C"]})
    with pytest.raises(ValueError, match="pooled arm 'x' must list treatment arms"):
        analyze_arms(df, "arm", ["hours"], control="A", pooled={"x": ["A", "B"]})


def srm_frame(n_a: int, n_b: int) -> pd.DataFrame:
    y = np.tile([0.0, 1.0, 2.0], (n_a + n_b) // 3 + 1)[: n_a + n_b]
    return pd.DataFrame({"arm": ["A"] * n_a + ["B"] * n_b, "y": y})


def test_srm_fires_on_a_60_40_split_and_not_on_5000_5010():
    broken = analyze_arms(srm_frame(6000, 4000), "arm", ["y"], control="A")
    assert broken.counts == {"A": 6000, "B": 4000}
    assert broken.srm.statistic == pytest.approx(2 * 1000**2 / 5000)  # 400
    assert broken.srm.mismatch
    fine = analyze_arms(srm_frame(5000, 5010), "arm", ["y"], control="A")
    assert fine.srm.statistic == pytest.approx(2 * 5**2 / 5005)
    assert fine.srm.p_value > 0.9 and not fine.srm.mismatch
    designed = analyze_arms(
        srm_frame(6000, 4000), "arm", ["y"], control="A", expected_weights={"A": 3, "B": 2}
    )
    assert designed.srm.statistic == pytest.approx(0.0, abs=1e-12)
    assert not designed.srm.mismatch


def test_srm_counts_every_arm_of_three():
    df = srm_frame(100, 100).assign(arm=["A"] * 100 + ["B"] * 50 + ["C"] * 50)
    result = analyze_arms(df, "arm", ["y"], control="A")
    assert result.counts == {"A": 100, "B": 50, "C": 50}
    expected = 200 / 3
    assert result.srm.statistic == pytest.approx(
        ((100 - expected) ** 2 + 2 * (50 - expected) ** 2) / expected
    )


def test_cuped_narrows_the_interval_when_the_covariate_correlates():
    rng = np.random.default_rng(3)
    n = 400
    pre = rng.gamma(2.0, 1.5, n)
    arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    hours = 0.9 * pre + rng.normal(0, 0.5, n) + 0.2 * (arm == "treatment")
    df = pd.DataFrame({"arm": arm, "hours": hours, "pre_hours": pre})
    plain = analyze_arms(df, "arm", ["hours"], control="control").table.iloc[0]
    adjusted = analyze_arms(
        df, "arm", ["hours"], control="control", covariates={"hours": "pre_hours"}
    ).table.iloc[0]
    assert adjusted["method"] == "cuped_welch"
    assert adjusted["ci_high"] - adjusted["ci_low"] < 0.5 * (plain["ci_high"] - plain["ci_low"])
    direct = cuped_difference(hours, pre, arm == "treatment")
    assert (adjusted["diff"], adjusted["ci_low"]) == pytest.approx((direct.estimate, direct.ci_low))


def test_cuped_theta_is_fitted_on_the_two_arms_compared():
    df = three_arm_frame()
    df["pre"] = df["hours"] * np.where(df["arm"] == "C", 0.2, 1.0) + np.sin(np.arange(len(df)))
    table = analyze_arms(df, "arm", ["hours"], control="A", covariates={"hours": "pre"}).table
    for arm, row in zip(table["arm"], table.itertuples(), strict=True):
        two = df[df["arm"].isin(["A", arm])]
        direct = cuped_difference(two["hours"], two["pre"], two["arm"] == arm)
        assert (row.diff, row.ci_low, row.p_value) == pytest.approx(
            (direct.estimate, direct.ci_low, direct.p_value)
        )


def test_ratio_metric_uses_the_delta_method():
    df = pd.DataFrame(
        {"arm": ["A", "B"] * 5, "plays": [1, 2, 0, 3, 2, 2, 1, 4, 0, 1],
         "sessions": [2, 2, 1, 3, 2, 3, 3, 4, 1, 2]}
    )  # fmt: skip
    row = analyze_arms(df, "arm", control="A", ratios={"play_rate": ("plays", "sessions")}).table
    a, b = df[df["arm"] == "A"], df[df["arm"] == "B"]
    direct = ratio_metric(a["plays"], a["sessions"], b["plays"], b["sessions"])
    assert row["method"].item() == "delta_method"
    assert row["mean_control"].item() == pytest.approx(4 / 9)
    assert (row["diff"].item(), row["ci_high"].item()) == pytest.approx(
        (direct.estimate, direct.ci_high)
    )


def test_binary_detection_and_kinds_override():
    df = pd.DataFrame(
        {"arm": ["A", "B"] * 4, "flag": [True, True, False, True, False, False, False, True],
         "ones": [0, 1, 1, 1, 0, 1, 0, 0], "count": [0, 1, 2, 1, 0, 3, 0, 0]}
    )  # fmt: skip
    table = analyze_arms(df, "arm", ["flag", "ones", "count"], control="A").table
    assert table["method"].tolist() == ["z_pooled", "z_pooled", "welch"]
    table = analyze_arms(df, "arm", ["ones"], control="A", kinds={"ones": "numeric"}).table
    assert table["method"].tolist() == ["welch"]
    with pytest.raises(
        ValueError, match=r"outcome 'count' is declared binary but 2 rows \(index \[2, 5\]\)"
    ):
        analyze_arms(df, "arm", ["count"], control="A", kinds={"count": "binary"})


def test_integer_arm_labels_and_json():
    df = pd.DataFrame({"arm": [0, 1, 2] * 4, "y": [0.0, 1, 2, 0, 2, 1, 0, 1, 3, 0, 2, 2]})
    result = analyze_arms(df, "arm", ["y"], control=0)
    assert result.table["arm"].tolist() == [1, 2]
    out = json.loads(json.dumps(result.to_dict()))
    assert out["counts"] == {"0": 4, "1": 4, "2": 4}
    row = out["table"][0]
    assert row["relative_lift"] is None  # the control mean is 0
    assert row["diff"] == pytest.approx(1.5)  # (1 + 2 + 1 + 2) / 4 - 0
    assert out["srm"]["mismatch"] is False


# --- error messages ----------------------------------------------------------------------------


def small_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"arm": ["A", "B", "C"] * 4, "y": np.arange(12.0), "pre": np.arange(12.0) % 5,
         "device": ["tv", "web", "tv", "tv", "web", "tv", "tv", "tv", "web", "tv", "tv", "web"]},
        index=np.arange(100, 112),
    )  # fmt: skip


def test_missing_columns_are_named():
    df = small_frame()
    with pytest.raises(ValueError, match=r"column 'hours' \(outcome\) not in the frame"):
        analyze_arms(df, "arm", ["y", "hours"], control="A")
    with pytest.raises(ValueError, match=r"column 'variant' \(arm\) not in the frame"):
        analyze_arms(df, "variant", ["y"], control="A")
    with pytest.raises(ValueError, match=r"column 'pre_y' \(covariate of 'y'\) not in the frame"):
        analyze_arms(df, "arm", ["y"], control="A", covariates={"y": "pre_y"})
    with pytest.raises(ValueError, match=r"'sessions' \(denominator of ratio 'rate'\)"):
        analyze_arms(df, "arm", control="A", ratios={"rate": ("y", "sessions")})


def test_control_not_present():
    with pytest.raises(
        ValueError,
        match=r"control 'ctrl' is not a value of column 'arm'; its values are \['A', 'B', 'C'\]",
    ):
        analyze_arms(small_frame(), "arm", ["y"], control="ctrl")


def test_arm_with_fewer_than_two_rows():
    df = small_frame()
    df.loc[104, "arm"] = "D"
    message = r"arm 'D' has 1 row \(index \[104\]\) in column 'arm'; every arm needs at least 2"
    with pytest.raises(ValueError, match=message):
        analyze_arms(df, "arm", ["y"], control="A")
    with pytest.raises(ValueError, match=r"arm 'E' has 0 rows in column 'arm'"):
        analyze_arms(small_frame(), "arm", ["y"], control="A",
                     expected_weights={"A": 1, "B": 1, "C": 1, "E": 1})  # fmt: skip


def test_non_numeric_outcome():
    message = (
        r"column 'device' is not numeric \(dtype .*\); "
        r"12 rows \(index, first \[100, 101, 102, 103, 104\]\) hold non-numbers"
    )
    with pytest.raises(ValueError, match=message):
        analyze_arms(small_frame(), "arm", ["device"], control="A")


def test_nan_outcomes_name_how_many_rows_and_which():
    df = small_frame()
    df.loc[[103, 107], "y"] = np.nan
    with pytest.raises(
        ValueError, match=r"column 'y' has 2 rows \(index \[103, 107\]\) that are NaN or infinite"
    ):
        analyze_arms(df, "arm", ["y"], control="A")
    df.loc[[100, 101, 102, 104, 105], "y"] = np.nan
    with pytest.raises(
        ValueError, match=r"column 'y' has 7 rows \(index, first \[100, 101, 102, 103, 104\]\)"
    ):
        analyze_arms(df, "arm", ["y"], control="A")
    df = small_frame()
    df.loc[110, "pre"] = np.inf
    with pytest.raises(ValueError, match=r"column 'pre' has 1 row \(index \[110\]\)"):
        analyze_arms(df, "arm", ["y"], control="A", covariates={"y": "pre"})


def test_missing_arm_labels_and_bad_arguments():
    df = small_frame()
    df.loc[[101, 111], "arm"] = None
    with pytest.raises(
        ValueError, match=r"column 'arm' has 2 rows \(index \[101, 111\]\) without an arm label"
    ):
        analyze_arms(df, "arm", ["y"], control="A")
    df = small_frame()
    with pytest.raises(ValueError, match="correction must be one of"):
        analyze_arms(df, "arm", ["y"], control="A", correction="bonferroni")
    with pytest.raises(ValueError, match=r"expected_weights has no weight for the arms \['C'\]"):
        analyze_arms(df, "arm", ["y"], control="A", expected_weights={"A": 1, "B": 1})
    with pytest.raises(ValueError, match=r"covariates names \['z'\]"):
        analyze_arms(df, "arm", ["y"], control="A", covariates={"z": "pre"})
    with pytest.raises(ValueError, match="holds only the control"):
        analyze_arms(df[df["arm"] == "A"], "arm", ["y"], control="A")


def test_a_failing_comparison_says_which_one():
    df = pd.DataFrame(
        {"arm": ["A", "B"] * 3, "plays": [1, 1, 2, 0, 1, 1], "sessions": [1, 0, 2, 0, 1, 0]}
    )
    with pytest.raises(
        ValueError, match="outcome 'rate', arm 'B' against 'A': the denominator's mean"
    ):
        analyze_arms(df, "arm", control="A", ratios={"rate": ("plays", "sessions")})
