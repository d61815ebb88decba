"""Ranking and beyond-accuracy metrics: hand-computed cases, invariants, reference values."""

import math

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64, approx64, approx_closed_form

from persona_lib.evaluation import ranking
from persona_lib.evaluation.catalog import catalog_coverage, effective_catalog_size, novelty
from persona_lib.evaluation.ranking import (
    hit_rate_at_k,
    keep_top_k,
    map_at_k,
    map_full,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    rank_hits,
    recall_at_k,
)

ACCURACY = (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, map_full, hit_rate_at_k, mrr_at_k)


def frame(users, titles, values=None, name="score"):
    columns = {"user_id": users, "title_id": titles}
    return pd.DataFrame(columns | ({name: values} if values is not None else {}))


# one member, relevant {A, C, E}; ranked list A B C D (scores descending)
ONE_TRUTH = frame([1, 1, 1], ["A", "C", "E"])
ONE_PRED = frame([1, 1, 1, 1], ["D", "B", "C", "A"], [0.1, 0.8, 0.5, 0.9])


def test_precision_hand_computed():
    # top 2 = A, B: one hit of 2; top 4 = A B C D: two hits of 4
    assert precision_at_k(ONE_TRUTH, ONE_PRED, k=2) == 0.5
    assert precision_at_k(ONE_TRUTH, ONE_PRED, k=4) == 0.5
    # k beyond the list still divides by k: 2 hits / 10
    assert precision_at_k(ONE_TRUTH, ONE_PRED, k=10) == pytest.approx(0.2)


def test_recall_hand_computed():
    assert recall_at_k(ONE_TRUTH, ONE_PRED, k=1) == pytest.approx(1 / 3)
    assert recall_at_k(ONE_TRUTH, ONE_PRED, k=3) == pytest.approx(2 / 3)


def test_ndcg_hand_computed():
    # hits at ranks 1 and 3; ideal puts 3 relevant at ranks 1..3 (k = 3)
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ONE_TRUTH, ONE_PRED, k=3) == approx_closed_form(dcg / idcg)


def test_graded_ndcg_hand_computed():
    truth = frame([1, 1], ["A", "B"], [1.0, 3.0], name="rating")
    predictions = frame([1, 1], ["A", "B"], [0.9, 0.1])
    dcg = 1 / math.log2(2) + 3 / math.log2(3)
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    got = ndcg_at_k(truth, predictions, k=2, gain_col="rating")
    assert got == approx_closed_form(dcg / idcg)
    assert ndcg_at_k(truth, predictions, k=2) == pytest.approx(1.0)  # binary ignores order


def test_map_at_k_and_map_full_hand_computed():
    # hits at ranks 1 and 3: precision there 1/1 and 2/3
    assert map_at_k(ONE_TRUTH, ONE_PRED, k=3) == pytest.approx((1 + 2 / 3) / 3)
    assert map_full(ONE_TRUTH, ONE_PRED, k=3) == pytest.approx((1 + 2 / 3) / 3)
    # k = 2: one hit at rank 1; denominators min(2, 3) = 2 and 3
    assert map_at_k(ONE_TRUTH, ONE_PRED, k=2) == pytest.approx(1 / 2)
    assert map_full(ONE_TRUTH, ONE_PRED, k=2) == pytest.approx(1 / 3)


def test_hit_rate_and_mrr_hand_computed():
    truth = frame([1, 2, 3], ["A", "B", "C"])
    predictions = frame([1, 1, 2, 2, 3], ["X", "A", "B", "Y", "Z"], [0.9, 0.5, 0.9, 0.5, 1.0])
    # member 1: first hit at rank 2; member 2: rank 1; member 3: none
    assert hit_rate_at_k(truth, predictions, k=1) == pytest.approx(1 / 3)
    assert hit_rate_at_k(truth, predictions, k=2) == pytest.approx(2 / 3)
    assert mrr_at_k(truth, predictions, k=2) == pytest.approx((1 / 2 + 1) / 3)
    assert mrr_at_k(truth, predictions, k=1) == pytest.approx(1 / 3)


def test_tied_scores_keep_input_order():
    truth = frame([1], ["B"])
    first = frame([1, 1], ["A", "B"], [0.5, 0.5])
    assert precision_at_k(truth, first, k=1) == 0.0
    assert precision_at_k(truth, first.iloc[::-1], k=1) == 1.0
    assert keep_top_k(first.iloc[::-1], k=1)["title_id"].tolist() == ["B"]


def test_nan_scores_rank_last():
    predictions = frame([1, 1, 1], ["A", "B", "C"], [np.nan, 0.1, 0.2])
    assert keep_top_k(predictions, k=3)["title_id"].tolist() == ["C", "B", "A"]


def test_members_counted():
    truth = frame([1, 2], ["A", "A"])  # member 2 has no predictions
    predictions = frame([1, 3], ["A", "A"], [1.0, 1.0])  # member 3 has no truth
    # precision-like metrics average over members in both frames: member 1 only
    for metric in (precision_at_k, recall_at_k, map_at_k, map_full, hit_rate_at_k, mrr_at_k):
        assert metric(truth, predictions, k=1) == 1.0, metric.__name__
    # nDCG averages over every member in truth, as recommenders 1.2.1 does
    assert ndcg_at_k(truth, predictions, k=1) == 0.5


def test_no_overlap_gives_zero():
    truth = frame([1], ["A"])
    for predictions in (frame([1], ["B"], [1.0]), frame([2], ["A"], [1.0])):
        for metric in ACCURACY:
            assert metric(truth, predictions, k=3) == 0.0, metric.__name__


def random_case(random_state: int, n_users: int = 40, n_titles: int = 30):
    rng = np.random.default_rng(random_state)
    pairs = [(u, t) for u in range(n_users) for t in range(n_titles) if rng.random() < 0.4]
    predictions = pd.DataFrame(pairs, columns=["user_id", "title_id"])
    predictions["score"] = rng.integers(0, 4, len(predictions)).astype(float)  # many ties
    truth = pd.DataFrame(
        [(u, t) for u in range(n_users) for t in range(n_titles) if rng.random() < 0.15],
        columns=["user_id", "title_id"],
    )
    return truth, predictions.sample(frac=1.0, random_state=random_state)


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_bounds(random_state):
    truth, predictions = random_case(random_state)
    for k in (1, 5, 20):
        for metric in ACCURACY:
            assert 0.0 <= metric(truth, predictions, k=k) <= 1.0, metric.__name__
        assert map_full(truth, predictions, k) <= map_at_k(truth, predictions, k) + FLOAT64["atol"]


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_recall_and_hit_rate_non_decreasing_in_k(random_state):
    truth, predictions = random_case(random_state)
    for metric in (recall_at_k, hit_rate_at_k, mrr_at_k):
        values = [metric(truth, predictions, k=k) for k in range(1, 31)]
        assert np.all(np.diff(values) >= -FLOAT64["atol"]), metric.__name__


def test_perfect_ranking_scores_one():
    truth, _ = random_case(3)
    perfect = truth.assign(score=1.0)  # only relevant titles, each member's whole set
    big_k = int(truth.groupby("user_id").size().max())
    for metric in (recall_at_k, ndcg_at_k, map_at_k, map_full, hit_rate_at_k, mrr_at_k):
        assert metric(truth, perfect, k=big_k) == pytest.approx(1.0), metric.__name__
    for metric in (ndcg_at_k, map_at_k, hit_rate_at_k, mrr_at_k):
        assert metric(truth, perfect, k=1) == pytest.approx(1.0), metric.__name__
    assert precision_at_k(truth, perfect, k=1) == pytest.approx(1.0)


def test_row_order_without_ties_does_not_matter():
    truth, predictions = random_case(4)
    predictions = predictions.assign(score=np.arange(len(predictions), dtype=float))
    shuffled = predictions.sample(frac=1.0, random_state=9)
    for metric in ACCURACY:
        # members may be summed in another order
        assert metric(truth, predictions, 5) == approx64(metric(truth, shuffled, 5))


def all_metrics(truth, predictions, k=5):
    graded = ndcg_at_k(truth, predictions, k, gain_col="gain")
    return [metric(truth, predictions, k) for metric in ACCURACY] + [graded]


def test_id_types_and_sort_paths_agree(monkeypatch):
    truth, predictions = random_case(5)
    truth["gain"] = truth["title_id"] % 3 + 1.0
    expected = all_metrics(truth, predictions)
    # sparse integer ids and strings take the hashing path instead of using ids as codes
    sparse = {c: lambda f, c=c: f[c] * 10**12 for c in ("user_id", "title_id")}
    text = {c: lambda f, c=c: "id" + f[c].astype(str) for c in ("user_id", "title_id")}
    for recode in (sparse, text):
        got = all_metrics(truth.assign(**recode), predictions.assign(**recode))
        np.testing.assert_allclose(got, expected, **FLOAT64)  # other orders of summation
    # the lexsort fallback used when the int64 sort key would overflow
    monkeypatch.setattr(ranking, "_KEY_LIMIT", 1)
    np.testing.assert_allclose(all_metrics(truth, predictions), expected, **FLOAT64)


def brute_force_ndcg(truth, predictions, k, gain_col):
    """nDCG@k one member at a time, straight from the definition (ties keep row order)."""
    values = []
    for user, relevant in truth.groupby("user_id"):
        gains = dict(zip(relevant["title_id"], relevant[gain_col], strict=True))
        mine = predictions[predictions["user_id"] == user]
        ranked = mine.sort_values("score", ascending=False, kind="stable")["title_id"][:k]
        dcg = sum(gains.get(t, 0.0) / math.log2(r + 2) for r, t in enumerate(ranked))
        best = sorted(gains.values(), reverse=True)[:k]
        values.append(dcg / sum(g / math.log2(r + 2) for r, g in enumerate(best)))
    return float(np.mean(values))


@pytest.mark.parametrize("distinct_gains", [3, 500])  # few gains: counted; many: sorted
def test_graded_ndcg_matches_brute_force(distinct_gains):
    truth, predictions = random_case(6)
    rng = np.random.default_rng(distinct_gains)
    truth["gain"] = rng.integers(1, distinct_gains + 1, len(truth)) / distinct_gains
    for k in (1, 3, 10):
        expected = brute_force_ndcg(truth, predictions, k, "gain")
        assert ndcg_at_k(truth, predictions, k, gain_col="gain") == pytest.approx(expected)


# Values from recommenders 1.2.1 (python_evaluation.precision_at_k, recall_at_k, ndcg_at_k,
# map_at_k, map; relevancy_method="top_k"; ndcg_raw is ndcg_at_k(score_type="raw")), run under
# pandas 2.3.3 on REF_TRUTH / REF_PRED renamed to userID, itemID, rating / prediction. The
# example has tied scores, a truth-only member (4) and a prediction-only member (5).
REF_TRUTH = frame([1, 1, 1, 2, 2, 3, 4], [10, 11, 12, 10, 13, 14, 10], [5, 3, 4, 4, 2, 5, 1.0])
REF_TRUTH = REF_TRUTH.rename(columns={"score": "rating"})
REF_PRED = frame(
    [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 5],
    [10, 13, 11, 14, 12, 11, 13, 10, 10, 11, 10],
    [0.9, 0.9, 0.5, 0.5, 0.1, 0.8, 0.8, 0.3, 0.7, 0.6, 1.0],
)
RECOMMENDERS_1_2_1 = {
    1: (0.3333333333333333, 0.1111111111111111, 0.25, 0.3333333333333333, 0.1111111111111111, 0.25),
    2: (0.3333333333333333, 0.27777777777777773, 0.24999999999999997, 0.25, 0.19444444444444442,
        0.22609435578540527),
    3: (0.4444444444444444, 0.5555555555555555, 0.34933612316285134, 0.3796296296296296,
        0.3796296296296296, 0.3350575202201397),
    5: (0.3333333333333333, 0.6666666666666666, 0.39472157129718954, 0.44629629629629625,
        0.44629629629629625, 0.3779281821525534),
}  # fmt: skip


@pytest.mark.parametrize("k", sorted(RECOMMENDERS_1_2_1))
def test_matches_recommenders_reference_values(k):
    ours = (
        precision_at_k(REF_TRUTH, REF_PRED, k),
        recall_at_k(REF_TRUTH, REF_PRED, k),
        ndcg_at_k(REF_TRUTH, REF_PRED, k),
        map_at_k(REF_TRUTH, REF_PRED, k),
        map_full(REF_TRUTH, REF_PRED, k),
        ndcg_at_k(REF_TRUTH, REF_PRED, k, gain_col="rating"),
    )
    np.testing.assert_allclose(ours, RECOMMENDERS_1_2_1[k], **FLOAT64)  # another library's code


def test_rank_hits_layout():
    ranked = rank_hits(ONE_TRUTH, ONE_PRED, k=3)
    assert ranked.rank.tolist() == [1, 2, 3]
    assert ranked.hit.tolist() == [True, False, True]
    assert ranked.nth_hit.tolist() == [1, 1, 2]
    assert ranked.n_counted == 1


def test_input_errors():
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        precision_at_k(ONE_TRUTH, ONE_PRED, k=0)
    with pytest.raises(ValueError, match="k must be a positive integer, got 2.5"):
        recall_at_k(ONE_TRUTH, ONE_PRED, k=2.5)
    with pytest.raises(ValueError, match=r"predictions is missing column\(s\) \['score'\]"):
        ndcg_at_k(ONE_TRUTH, ONE_PRED.drop(columns="score"), k=2)
    with pytest.raises(ValueError, match=r"truth is missing column\(s\) \['rating'\]"):
        ndcg_at_k(ONE_TRUTH, ONE_PRED, k=2, gain_col="rating")
    with pytest.raises(ValueError, match=r"truth has repeated \(user_id, title_id\) pairs"):
        map_at_k(pd.concat([ONE_TRUTH, ONE_TRUTH]), ONE_PRED, k=2)


def test_catalog_coverage():
    predictions = frame([1, 1, 2, 2], ["A", "B", "A", "C"], [0.9, 0.1, 0.9, 0.5])
    catalog = ["A", "B", "C", "D"]
    assert catalog_coverage(predictions, catalog) == 0.75
    assert catalog_coverage(predictions, catalog, k=1) == 0.25  # only A is anyone's top 1
    assert catalog_coverage(predictions, ["A", "A"]) == 1.0  # repeats ignored, Z outside
    with pytest.raises(ValueError, match="catalog is empty"):
        catalog_coverage(predictions, [])


def test_novelty():
    history = frame([1, 2, 3, 4], ["A", "A", "A", "B"])  # p(A) = 3/4, p(B) = 1/4
    predictions = frame([9, 9, 9], ["A", "B", "Z"], [0.9, 0.5, 0.1])
    # Z has no history and is left out: mean of -log2(3/4) and -log2(1/4) = 2
    assert novelty(predictions, history) == pytest.approx((-math.log2(0.75) + 2) / 2)
    assert novelty(predictions, history, k=1) == pytest.approx(-math.log2(0.75))
    assert novelty(frame([1], ["A"], [1.0]), frame([1], ["A"])) == 0.0
    assert math.isnan(novelty(frame([1], ["Z"], [1.0]), history))


def test_effective_catalog_size():
    assert effective_catalog_size(frame([1, 2, 3], ["A", "A", "A"])) == 1.0
    equal = frame(list(range(12)), list("ABCD") * 3)
    assert effective_catalog_size(equal) == pytest.approx(4.0)
    # shares 0.5, 0.3, 0.2: 2 * (0.5 + 0.6 + 0.6) - 1 = 2.4
    hours = frame([1, 2, 3], ["A", "B", "C"], [5.0, 3.0, 2.0], name="hours")
    assert effective_catalog_size(hours, weight_col="hours") == pytest.approx(2.4)
    with pytest.raises(ValueError, match="plays need a positive total"):
        effective_catalog_size(hours.assign(hours=0.0), weight_col="hours")


@pytest.mark.parametrize("ids", [[30, 10, 20], ["c", "a", "b"]])
def test_ndcg_per_member_holds_the_values_ndcg_at_k_averages(ids):
    # member ids[0]: relevant {1}, ranked 2 1 -> 1/log2(3); ids[1]: relevant {5}, ranked 5 -> 1;
    # ids[2]: relevant {9}, no predictions -> 0
    truth = frame([ids[0], ids[1], ids[2]], [1, 5, 9])
    pred = frame([ids[0], ids[0], ids[1]], [2, 1, 5], [0.9, 0.5, 0.7])
    per_member = ranking.ndcg_per_member(truth, pred, k=2)
    assert per_member.index.tolist() == sorted(ids)
    expected = {ids[0]: 1 / math.log2(3), ids[1]: 1.0, ids[2]: 0.0}
    assert per_member.to_dict() == approx_closed_form(expected)
    assert per_member.mean() == approx64(ndcg_at_k(truth, pred, k=2))


def test_ndcg_per_member_of_a_list_without_hits_is_zero_for_every_member():
    per_member = ranking.ndcg_per_member(frame([1, 2], [1, 2]), frame([1, 2], [3, 4], [1.0, 1.0]))
    assert per_member.tolist() == [0.0, 0.0]
