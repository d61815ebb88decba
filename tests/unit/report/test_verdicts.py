"""Verdict sentences: hand-computed numbers, every flip of a comparison, missing and bad inputs."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from persona_lib.report.numbers import fmt, fmt_interval, number, significant_decimals
from persona_lib.report.rankings import rank_sentence
from persona_lib.report.verdicts import (
    Verdict,
    compare,
    estimate_sentence,
    share_above_chance,
    share_of_ceiling,
)

NAN = float("nan")
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "signed", "expected"),
    [
        (2.6, "pp", True, "+2.60 pp"),
        (-0.5, "pp", True, "-0.50 pp"),
        (12.345, "%", False, "12.3 %"),
        (1280, "USD", True, "+1,280 USD"),
        (12.5, "USD", False, "12.50 USD"),
        (21_634_000, "USD", False, "21.6 M USD"),
        (-21_634_000, "USD", True, "-21.6 M USD"),
        (1.23e9, "USD", False, "1.2 B USD"),
        (999_960, "USD", False, "1.0 M USD"),
        (14_000_000, "count", False, "14,000,000"),
        (1234.56, "hours", False, "1,234.6 hours"),
        (1.346, "x", False, "1.35×"),
        (0.61712, "auc", False, "0.617"),
        (0.0001, "p", False, "< 0.001"),
        (0.0342, "p", False, "0.034"),
        (0.0000123, "", False, "0.0000123"),
        (123_456.7, "", False, "123,457"),
        (3.5, "clicks / 1k", False, "3.50 clicks / 1k"),
        (-0.0004, "pp", True, "0.00 pp"),
        (math.inf, "pp", False, "∞ pp"),
    ],
)
def test_fmt_prints_each_unit_with_its_fixed_decimals(value, unit, signed, expected):
    assert fmt(value, unit, signed=signed) == expected


@pytest.mark.parametrize("missing", [None, NAN, np.float32("nan"), pd.NA])
def test_fmt_says_not_available_for_missing_values(missing):
    assert fmt(missing, "pp") == "not available"


@pytest.mark.parametrize("unit", ["", "pp", "%", "USD", "count", "x", "auc", "hours"])
def test_fmt_never_uses_scientific_notation(unit):
    for exponent in range(-15, 16):
        for value in (1.234 * 10.0**exponent, -9.87 * 10.0**exponent):
            text = fmt(value, unit, signed=True)
            assert not SCIENTIFIC.search(text), text
            assert "nan" not in text.lower()


def test_number_and_significant_decimals():
    assert number(1234567.891, 2) == "1,234,567.89"
    assert number(-0.001, 1, signed=True) == "0.0"
    assert [significant_decimals(m) for m in (0.0123, 4.56, 12_345, 0.0)] == [4, 2, 0, 0]
    assert significant_decimals(1e-30) == 12  # capped, still no exponent


def test_fmt_interval_shares_scale_and_decimals():
    assert fmt_interval(1.3, 3.9, "pp") == "95 % CI 1.30 to 3.90 pp"
    assert fmt_interval(-0.5, 1.3, "pp", signed=True) == "95 % CI -0.50 to +1.30 pp"
    assert fmt_interval(-900_000, 2_100_000, "USD", signed=True, level=90) == (
        "90 % CI -0.9 to +2.1 M USD"
    )
    # plain numbers: two significant digits of the width keep the ends apart
    assert fmt_interval(1.10, 1.37) == "95 % CI 1.10 to 1.37"
    assert fmt_interval(NAN, 1.0, "pp") == "95 % CI not available"


def test_reversed_interval_raises():
    with pytest.raises(ValueError, match="the interval is reversed: ci_low 3.9 is above ci_high"):
        fmt_interval(3.9, 1.3, "pp")
    with pytest.raises(ValueError, match="reversed"):
        compare("A", "B", 2.6, 3.9, 1.3, "pp", metric="play rate")
    with pytest.raises(ValueError, match="reversed"):
        estimate_sentence("x", 2.6, 3.9, 1.3, "pp")


# --- compare: every flip -------------------------------------------------------------------------


def test_a_beats_b_when_the_interval_lies_above_zero():
    verdict = compare("A", "B", 2.6, 1.3, 3.9, "pp", metric="play rate")
    assert verdict == Verdict(
        "A beats B on play rate by +2.60 pp (95 % CI +1.30 to +3.90 pp).", "A", True
    )


def test_b_beats_a_when_the_interval_lies_below_zero():
    verdict = compare("A", "B", -2.6, -3.9, -1.3, "pp", metric="play rate")
    # stated as the winner's lead: B minus A, interval flipped
    assert verdict.text == "B beats A on play rate by +2.60 pp (95 % CI +1.30 to +3.90 pp)."
    assert (verdict.winner, verdict.significant) == ("B", True)


def test_no_detectable_difference_when_the_interval_holds_zero():
    verdict = compare("A", "B", 0.4, -0.5, 1.3, "pp", metric="play rate")
    assert verdict.text == (
        "No detectable difference between A and B on play rate "
        "(A minus B +0.40 pp, 95 % CI -0.50 to +1.30 pp)."
    )
    assert (verdict.winner, verdict.significant) == (None, False)
    assert "beats" not in verdict.text


@pytest.mark.parametrize(
    ("diff", "low", "high", "higher_is_better", "winner"),
    [
        (1.0, 0.5, 1.5, True, "A"),
        (-1.0, -1.5, -0.5, True, "B"),
        (1.0, 0.5, 1.5, False, "B"),  # churn: A higher means A worse
        (-1.0, -1.5, -0.5, False, "A"),
        (0.1, -0.5, 0.7, True, None),
        (0.1, -0.5, 0.7, False, None),
        (0.5, 0.0, 1.0, True, None),  # touching zero does not exclude it
        (0.0, 0.0, 0.0, True, None),  # zero width at zero
        (0.5, 0.5, 0.5, True, "A"),  # zero width away from zero
    ],
)
def test_the_winner_flips_with_the_interval_and_the_direction(
    diff, low, high, higher_is_better, winner
):
    verdict = compare(
        "A", "B", diff, low, high, "pp", metric="m", higher_is_better=higher_is_better
    )
    assert verdict.winner == winner
    assert verdict.significant == (winner is not None)
    if winner:
        assert verdict.text.startswith(f"{winner} beats {'B' if winner == 'A' else 'A'} on m")


def test_lower_is_better_states_the_lead_as_lower_by():
    verdict = compare("A", "B", -0.8, -1.2, -0.4, "pp", metric="churn", higher_is_better=False)
    assert verdict.text == "A beats B on churn, lower by 0.80 pp (95 % CI 0.40 to 1.20 pp)."


def test_compare_in_dollars_uses_one_scale():
    verdict = compare("A", "B", 1.23e6, 0.4e6, 2.1e6, "USD", metric="revenue per year")
    assert verdict.text == (
        "A beats B on revenue per year by +1.2 M USD (95 % CI +0.4 to +2.1 M USD)."
    )


@pytest.mark.parametrize("args", [(NAN, 1.0, 2.0), (1.0, NAN, 2.0), (1.0, 1.0, None)])
def test_compare_with_missing_numbers_says_not_available(args):
    verdict = compare("A", "B", *args, "pp", metric="play rate")
    assert verdict.text == (
        "A against B on play rate: not available (the difference or its interval is missing)."
    )
    assert verdict.winner is None and "nan" not in verdict.text.lower()


def test_compare_needs_two_names():
    with pytest.raises(ValueError, match="two different names"):
        compare("A", "A", 1.0, 0.5, 1.5, metric="m")


def test_verdict_has_a_winner_exactly_when_significant():
    with pytest.raises(ValueError, match="winner exactly when"):
        Verdict("x", "A", False)
    with pytest.raises(ValueError, match="winner exactly when"):
        Verdict("x", None, True)
    verdict = Verdict("text", "A", True)
    assert str(verdict) == "text"
    assert verdict.to_dict() == {"text": "text", "winner": "A", "significant": True}


# --- estimates and the truth ---------------------------------------------------------------------


def test_estimate_that_excludes_zero():
    assert estimate_sentence("Push effect", 0.44, 0.08, 0.80, "pp") == (
        "Push effect: +0.44 pp (95 % CI +0.08 to +0.80 pp); the interval excludes zero."
    )


def test_estimate_that_cannot_be_told_from_zero():
    assert estimate_sentence("Push effect", 0.44, -0.10, 0.98, "pp") == (
        "Push effect: +0.44 pp (95 % CI -0.10 to +0.98 pp); it cannot be told from zero."
    )


def test_truth_inside_and_outside_the_interval():
    inside = estimate_sentence("Lift", 0.44, 0.08, 0.80, "pp", truth=0.35)
    assert inside.endswith("the simulator's true value, +0.35 pp, lies inside the interval.")
    # se = 0.1 -> interval 1 +/- 1.96 se; z = (1.0 - 0.77) / 0.1 = 2.3
    half = 1.959963984540054 * 0.1
    outside = estimate_sentence("Lift", 1.0, 1.0 - half, 1.0 + half, "pp", truth=0.77)
    assert outside.endswith(
        "the simulator's true value, +0.77 pp, lies outside the interval (z = 2.3)."
    )
    below = estimate_sentence("Lift", 1.0, 1.0 - half, 1.0 + half, "pp", truth=1.23)
    assert below.endswith("lies outside the interval (z = -2.3).")
    # a zero-width interval: outside, without a z
    point = estimate_sentence("Lift", 1.0, 1.0, 1.0, "pp", truth=0.5)
    assert point.endswith("lies outside the interval.")


def test_estimate_of_a_level_without_a_zero_check():
    text = estimate_sentence("Churn", 2.31, 2.1, 2.5, "%", truth=2.4, null=None, signed=False)
    assert text == (
        "Churn: 2.3 % (95 % CI 2.1 to 2.5 %); the simulator's true value, 2.4 %, lies inside "
        "the interval."
    )
    assert estimate_sentence("Churn", 2.31, 2.1, 2.5, "%", null=2.0, signed=False) == (
        "Churn: 2.3 % (95 % CI 2.1 to 2.5 %); the interval excludes 2.0 %."
    )


def test_estimate_with_missing_numbers():
    assert estimate_sentence("Lift", NAN, 0.1, 0.2, "pp") == "Lift: not available (no estimate)."
    assert estimate_sentence("Lift", 0.44, None, None, "pp", truth=0.35) == (
        "Lift: +0.44 pp (interval not available); the simulator's true value is +0.35 pp."
    )
    assert estimate_sentence("Lift", 0.44, 0.08, 0.80, "pp", truth=NAN) == (
        "Lift: +0.44 pp (95 % CI +0.08 to +0.80 pp); the interval excludes zero."
    )


# --- share of the ceiling ------------------------------------------------------------------------


def test_share_of_ceiling_is_measured_from_chance():
    assert share_above_chance(0.617, 0.698) == pytest.approx(0.117 / 0.198)
    text = share_of_ceiling(0.617, 0.698)
    assert text == (
        "ROC AUC: (0.617 - 0.500) / (0.698 - 0.500) = 59 % of the way from chance to the "
        "simulator's ceiling."
    )
    assert "88 %" not in text  # 0.617 / 0.698, the misleading raw ratio


def test_share_of_ceiling_below_chance_beyond_the_ceiling_and_missing():
    below = share_of_ceiling(0.45, 0.698)
    assert below.endswith(
        "= -25 % of the way from chance to the simulator's ceiling (below chance)."
    )
    assert share_of_ceiling(0.72, 0.698).endswith("(beyond the ceiling).")
    assert share_of_ceiling(None, 0.698) == (
        "ROC AUC, share of the way from chance to the simulator's ceiling: not available."
    )
    with pytest.raises(ValueError, match=r"the ceiling \(0.48\) must be above chance \(0.5\)"):
        share_of_ceiling(0.6, 0.48)


# --- rankings ------------------------------------------------------------------------------------

NDCG = {"EASE": 0.412, "ALS": 0.398, "kNN": 0.395, "popularity": 0.301}


def test_rank_names_the_leader_when_its_gap_excludes_zero():
    verdict = rank_sentence(
        NDCG, metric="nDCG@10", gaps={"ALS": (0.004, 0.024), "kNN": (0.01, 0.03)}
    )
    assert verdict.text == (
        "EASE ranks first on nDCG@10 with 0.412, ahead of the runner-up ALS (0.398) by +0.014 "
        "(95 % CI +0.004 to +0.024)."
    )
    assert (verdict.winner, verdict.significant) == ("EASE", True)


def test_rank_says_the_top_two_cannot_be_told_apart():
    verdict = rank_sentence(NDCG, metric="nDCG@10", gaps={"ALS": (-0.003, 0.031)})
    assert verdict.text == (
        "The top 2 on nDCG@10 cannot be told apart: EASE 0.412 and ALS 0.398 "
        "(EASE minus ALS +0.014, 95 % CI -0.003 to +0.031)."
    )
    assert verdict.winner is None


def test_rank_says_the_top_three_cannot_be_told_apart():
    gaps = {"ALS": (-0.003, 0.031), "kNN": (-0.001, 0.035), "popularity": (0.08, 0.14)}
    verdict = rank_sentence(NDCG, metric="nDCG@10", gaps=gaps)
    assert verdict.text == (
        "The top 3 on nDCG@10 cannot be told apart: EASE 0.412, ALS 0.398 and kNN 0.395; none "
        "of their paired 95 % CIs against EASE excludes zero."
    )


def test_rank_names_entries_tied_with_the_leader_out_of_order():
    gaps = {"ALS": (-0.003, 0.031), "kNN": (0.001, 0.035), "popularity": (-0.01, 0.2)}
    text = rank_sentence(NDCG, metric="nDCG@10", gaps=gaps).text
    assert text.startswith("EASE, ALS and popularity cannot be told apart on nDCG@10:")


def test_rank_without_gaps_names_no_winner():
    verdict = rank_sentence(NDCG, metric="nDCG@10")
    assert verdict.text == (
        "Ordered by nDCG@10 (higher is better): EASE 0.412, ALS 0.398, kNN 0.395 and popularity "
        "0.301; without paired intervals no winner is named."
    )
    assert verdict.winner is None


def test_rank_lower_is_better_with_percent_values_and_a_missing_entry():
    churn = {"a": 3.1, "b": 3.5, "c": None}
    verdict = rank_sentence(
        churn, "%", metric="churn", higher_is_better=False, gaps={"b": (-0.6, -0.2)}
    )
    # a difference of two percentages is in percentage points
    assert verdict.text == (
        "a ranks first on churn with 3.1 %, ahead of the runner-up b (3.5 %), lower by 0.40 pp "
        "(95 % CI 0.20 to 0.60 pp); not available: c."
    )
    assert verdict.winner == "a"
    tied = rank_sentence(
        churn, "%", metric="churn", higher_is_better=False, gaps={"b": (-0.6, 0.1)}
    )
    assert tied.winner is None and tied.text.startswith("The top 2 on churn cannot be told apart")


@pytest.mark.parametrize(
    ("gaps", "message"),
    [
        ({"EASE": (0.1, 0.2), "ALS": (0.1, 0.2)}, "got one for 'EASE'"),
        ({"kNN": (0.1, 0.2)}, "must hold the runner-up 'ALS'"),
        ({"ALS": (-0.03, -0.01)}, "says it beats the leader 'EASE'"),
        ({"ALS": (0.03, 0.01)}, "reversed"),
    ],
)
def test_rank_rejects_inconsistent_gaps(gaps, message):
    with pytest.raises(ValueError, match=message):
        rank_sentence(NDCG, metric="nDCG@10", gaps=gaps)


def test_rank_edge_cases():
    with pytest.raises(ValueError, match="at least one value"):
        rank_sentence({}, metric="m")
    assert rank_sentence({"a": NAN}, metric="m").text == "m: not available for any entry."
    assert rank_sentence({"a": 1.0, "b": NAN}, metric="m").text == (
        "Only a 1.00 has a value of m; not available: b."
    )
    nan_gap = rank_sentence({"a": 2.0, "b": 1.0}, metric="m", gaps={"b": (NAN, NAN)})
    assert nan_gap.winner is None and "interval not available" in nan_gap.text


def test_no_sentence_prints_nan_or_scientific_notation():
    texts = [
        compare("A", "B", 1e-9, 5e-10, 2e-9, metric="m").text,
        compare("A", "B", 3e12, 1e12, 5e12, "USD", metric="m").text,
        estimate_sentence("x", 1e15, 9e14, 1.1e15, truth=NAN),
        rank_sentence({"a": 1e-8, "b": NAN}, metric="m").text,
    ]
    for text in texts:
        assert not SCIENTIFIC.search(text), text
        assert "nan" not in text.lower(), text


def test_sentences_print_labels_and_the_winner_stays_the_key():
    won = compare("page_ease", "page_als", 0.5, 0.2, 0.8, "pp", metric="play rate")
    assert won.winner == "page_ease"
    assert won.text.startswith("EASE page beats ALS page on play rate")
    assert "page_" not in compare("page_ease", "page_als", 0.5, -0.2, 0.8, "pp", metric="x").text
    ranked = rank_sentence(
        {"two_stage_ranker": 0.383, "trending_7d": 0.379}, metric="nDCG@10",
        gaps={"trending_7d": (0.0014, 0.0060)},
    )  # fmt: skip
    assert ranked.winner == "two_stage_ranker"
    assert ranked.text.startswith("two-stage ranker ranks first")
    assert "trending (7 days)" in ranked.text and "_" not in ranked.text
    tied = rank_sentence(
        {"page_als": 9.7, "page_popularity": 9.4, "page_ease": 8.2}, "%", metric="lift",
        gaps={"page_popularity": (-0.3, 0.8), "page_ease": (-0.1, 3.0)},
    )  # fmt: skip
    assert tied.winner is None and "_" not in tied.text
