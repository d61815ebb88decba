"""Train / test splits: stratified (recommenders-compatible), temporal, leave-last-n."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_lib.evaluation.splits import leave_last_n, stratified_split, temporal_split

SHARED_DATA = Path(__file__).parents[3].parent / "shared" / "data"
ML_100K = SHARED_DATA / "movielens" / "ml-100k" / "u.data"


def interactions(n_users: int = 30, random_state: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(random_state)
    sizes = rng.integers(1, 15, n_users)
    n = int(sizes.sum())
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users), sizes),
            "title_id": rng.integers(0, 50, n),
            "ts": rng.integers(0, 100, n),  # ties included
        },
        index=np.arange(n) * 10,  # a non-default index must survive
    ).sample(frac=1.0, random_state=random_state)


def assert_partition(frame, train, test):
    assert len(train) + len(test) == len(frame)
    assert not set(train.index) & set(test.index)
    order = {label: i for i, label in enumerate(frame.index)}
    for part in (train, test):
        assert list(part.index) == sorted(part.index, key=order.get)  # input order kept
        pd.testing.assert_frame_equal(part, frame.loc[part.index])


@pytest.mark.parametrize("by", ["user_id", "title_id"])
def test_stratified_split_sizes_per_group(by):
    frame = interactions()
    before = frame.copy()
    train, test = stratified_split(frame, ratio=0.7, by=by, random_state=3)
    assert_partition(frame, train, test)
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    sizes = frame.groupby(by).size()
    expected = np.round(0.7 * sizes)  # half to even, as recommenders does
    got = train.groupby(by).size().reindex(sizes.index, fill_value=0)
    assert (got == expected).all()


def test_stratified_split_is_seeded():
    frame = interactions()
    first = stratified_split(frame, random_state=1)[1].index
    assert first.equals(stratified_split(frame, random_state=1)[1].index)
    assert not first.equals(stratified_split(frame, random_state=2)[1].index)


def test_stratified_split_hand_computed():
    # RandomState(0).rand(4) = .549, .715, .603, .545 -> member 1's order is rows 3, 0, 2, 1;
    # round(0.5 * 4) = 2 to train; member 2's single row: round(0.5) = 0 (half to even) to train
    frame = pd.DataFrame({"user_id": [1, 1, 1, 1, 2], "title_id": range(5)})
    train, test = stratified_split(frame, ratio=0.5, by="user_id", random_state=0)
    assert train.index.tolist() == [0, 3]
    assert test.index.tolist() == [1, 2, 4]


def test_stratified_split_errors():
    frame = interactions()
    with pytest.raises(ValueError, match="by must be one of"):
        stratified_split(frame, by="ts")
    with pytest.raises(ValueError, match="ratio must be strictly between 0 and 1, got 1.0"):
        stratified_split(frame, ratio=1.0)
    with pytest.raises(ValueError, match="user_id has missing values"):
        stratified_split(pd.DataFrame({"user_id": [1.0, np.nan]}))


@pytest.mark.real_data
@pytest.mark.skipif(not ML_100K.exists(), reason="needs ../shared/data (MovieLens 100K)")
def test_stratified_split_movielens_100k_protocol():
    # recommenders' python_stratified_split(filter_by="item", ratio=0.75, seed=42) gives
    # 75,066 / 24,934 rows on ml-100k; filter_by="user" gives 74,992 / 25,008
    data = pd.read_csv(ML_100K, sep="\t", names=["user_id", "title_id", "rating", "ts"])
    train, test = stratified_split(data, ratio=0.75, by="title_id", random_state=42)
    assert (len(train), len(test)) == (75_066, 24_934)
    train, test = stratified_split(data, ratio=0.75, by="user_id", random_state=42)
    assert (len(train), len(test)) == (74_992, 25_008)


def test_temporal_split():
    frame = interactions()
    train, test = temporal_split(frame, test_fraction=0.2)
    assert_partition(frame, train, test)
    assert train["ts"].max() < test["ts"].min()
    assert len(test) >= 0.2 * len(frame)
    assert (frame["ts"] >= test["ts"].min()).sum() == len(test)


def test_temporal_split_ties_go_to_test():
    frame = pd.DataFrame({"ts": pd.to_datetime([f"2024-01-0{d}" for d in (1, 2, 3, 3, 4)])})
    train, test = temporal_split(frame, test_fraction=0.4)  # cut at row 3 of 5: 2024-01-03
    assert train.index.tolist() == [0, 1]
    assert test.index.tolist() == [2, 3, 4]


def test_temporal_split_errors():
    with pytest.raises(ValueError, match="test_fraction must be strictly between 0 and 1"):
        temporal_split(interactions(), test_fraction=0)
    with pytest.raises(ValueError, match=r"frame is missing column\(s\) \['when'\]"):
        temporal_split(interactions(), 0.5, ts_col="when")


@pytest.mark.parametrize("n", [1, 3])
def test_leave_last_n(n):
    frame = interactions()
    train, test = leave_last_n(frame, n=n)
    assert_partition(frame, train, test)
    sizes = frame.groupby("user_id").size()
    held = test.groupby("user_id").size().reindex(sizes.index, fill_value=0)
    assert (held == np.where(sizes > n, n, 0)).all()
    first_test = test.groupby("user_id")["ts"].min().rename("first_test")
    both = train.join(first_test, on="user_id", how="inner")
    assert (both["ts"] <= both["first_test"]).all()


def test_leave_last_n_hand_computed():
    frame = pd.DataFrame(
        {"user_id": [1, 1, 1, 2, 3, 3], "title_id": range(6), "ts": [5, 9, 9, 1, 2, 1]}
    )
    train, test = leave_last_n(frame, n=1)
    # member 1: tie at 9 goes to the later row; member 2 has one row and stays in train
    assert test["title_id"].tolist() == [2, 4]
    assert train["title_id"].tolist() == [0, 1, 3, 5]
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        leave_last_n(frame, n=0)


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.7, 0.9])
def test_temporal_split_exact_share_without_ties(fraction):
    frame = pd.DataFrame({"ts": np.arange(10)})
    train, test = temporal_split(frame, test_fraction=fraction)
    assert len(test) == round(10 * fraction)


def test_temporal_split_keeps_tied_timestamps_together():
    frame = pd.DataFrame({"ts": pd.to_datetime([5, 1, 2, 3, 3, 4, 6, 7], unit="D"),
                          "x": range(8)})  # fmt: skip
    train, test = temporal_split(frame, test_fraction=0.25)
    assert train["ts"].max() < test["ts"].min()
    assert len(train) + len(test) == 8 and len(test) == 2
    train, test = temporal_split(frame, test_fraction=0.5)  # the two rows at day 3 stay together
    assert sorted(test["x"]) == [0, 5, 6, 7]
    with pytest.raises(ValueError, match="test_fraction must be strictly between"):
        temporal_split(frame, test_fraction=1.0)
