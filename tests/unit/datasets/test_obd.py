"""Open Bandit Dataset loader: tiny hand-written folders, broken files, and the real sample."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from persona_lib.datasets.obd import OpenBanditData, load_obd

OBD = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "obd"
N_ITEMS = {"all": 80, "men": 34, "women": 46}

HEADER = (
    ",timestamp,item_id,position,click,propensity_score,"
    "user_feature_0,user_feature_1,user_feature_2,user_feature_3,"
    "user-item_affinity_0,user-item_affinity_1,user-item_affinity_2"
)
ROWS = [
    "0,2019-11-24 00:00:34.762830+00:00,2,3,0,0.5,u0a,u1a,u2a,u3a,0.0,0.0,1.0",
    "1,2019-11-24 00:00:53.965051+00:00,0,1,1,0.25,u0b,u1a,u2a,u3a,2.0,0.0,0.0",
    "2,2019-11-24 00:01:10.000000+00:00,1,2,0,0.125,u0a,u1a,u2b,u3a,0.0,0.0,0.0",
]
ITEMS = (
    ",item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n"
    "0,1,0.5,h1,h2,h3\n1,0,-0.1,h1,h2,h4\n2,2,0.9,h5,h2,h3\n"
)


def write_obd(root: Path, rows: list[str] | None = None, items: str = ITEMS) -> Path:
    """A ``bts/men`` folder with three items and the given rows, plus a matching SHA256SUMS."""
    folder = root / "bts" / "men"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "men.csv").write_text("\n".join([HEADER, *(ROWS if rows is None else rows)]) + "\n")
    (folder / "item_context.csv").write_text(items)
    sums = [
        f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  ./bts/men/{name}"
        for name in ("men.csv", "item_context.csv")
    ]
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return root


def test_tiny_log_is_parsed(tmp_path):
    data = load_obd(write_obd(tmp_path), "bts", "men", verify=True)
    assert isinstance(data, OpenBanditData)
    assert (data.n_rounds, data.n_actions, data.n_positions) == (3, 3, 3)
    np.testing.assert_array_equal(data.action, [2, 0, 1])
    np.testing.assert_array_equal(data.position, [2, 0, 1])  # file's 1-3, 0-based here
    np.testing.assert_array_equal(data.reward, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(data.pscore, [0.5, 0.25, 0.125])
    np.testing.assert_array_equal(data.user_item_affinity[:, 0], [0.0, 2.0, 0.0])
    # levels: u0a, u0b | u1a | u2a, u2b | u3a
    assert data.context_names == (
        "user_feature_0=u0a", "user_feature_0=u0b", "user_feature_1=u1a",
        "user_feature_2=u2a", "user_feature_2=u2b", "user_feature_3=u3a",
    )  # fmt: skip
    np.testing.assert_array_equal(data.context[1], [0, 1, 1, 1, 0, 1])
    assert data.context.sum(axis=1).tolist() == [4.0, 4.0, 4.0]
    assert str(data.ts[0]) == "2019-11-24T00:00:34.762"
    assert data.item_context["item_id"].tolist() == [0, 1, 2]  # sorted by item_id
    assert data.item_context.loc[0, "item_feature_0"] == -0.1


def test_to_frame(tmp_path):
    frame = load_obd(write_obd(tmp_path), "bts", "men").to_frame()
    assert list(frame.columns[:5]) == ["ts", "action", "position", "reward", "pscore"]
    assert frame.shape == (3, 11)
    assert frame["position"].tolist() == [2, 0, 1]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("3,2019-11-24 00:02:00+00:00,1,4,0,0.5,a,b,c,d,0,0,0", r"position must be in \[1, 3\]"),
        ("3,2019-11-24 00:02:00+00:00,3,1,0,0.5,a,b,c,d,0,0,0", r"item_id must be in \[0, 2\]"),
        ("3,2019-11-24 00:02:00+00:00,1,1,2,0.5,a,b,c,d,0,0,0", r"click must be in \[0, 1\]"),
        ("3,2019-11-24 00:02:00+00:00,1,1,0,0.0,a,b,c,d,0,0,0", "propensity_score must be > 0"),
        ("3,2019-11-24 00:02:00+00:00,1,1,0,,a,b,c,d,0,0,0", "propensity_score has missing"),
    ],
)
def test_bad_values_are_named(tmp_path, row, message):
    write_obd(tmp_path, rows=[*ROWS, row])
    with pytest.raises(ValueError, match=rf"men\.csv: {message}"):
        load_obd(tmp_path, "bts", "men")


def test_missing_columns_files_and_bad_names(tmp_path):
    write_obd(tmp_path)
    (tmp_path / "bts/men/men.csv").write_text(
        HEADER.rsplit(",", 1)[0] + "\n" + "\n".join(r.rsplit(",", 1)[0] for r in ROWS) + "\n"
    )
    with pytest.raises(ValueError, match=r"missing columns \['user-item_affinity_2'\]"):
        load_obd(tmp_path, "bts", "men")
    with pytest.raises(FileNotFoundError, match=r"random/men/item_context\.csv is absent"):
        load_obd(tmp_path, "random", "men")
    with pytest.raises(ValueError, match="behavior_policy must be one of"):
        load_obd(tmp_path, "ts", "men")
    with pytest.raises(ValueError, match="campaign must be one of"):
        load_obd(tmp_path, "bts", "kids")


def test_item_ids_must_be_contiguous(tmp_path):
    write_obd(tmp_path, items=ITEMS.replace("2,2,0.9", "2,5,0.9"))
    with pytest.raises(ValueError, match=r"item_id must be 0 \.\. n_items - 1"):
        load_obd(tmp_path, "bts", "men")


def test_checksum_mismatch(tmp_path):
    write_obd(tmp_path)
    (tmp_path / "bts/men/men.csv").write_text(HEADER + "\n" + ROWS[0] + "\n")
    load_obd(tmp_path, "bts", "men")  # verify is off by default
    with pytest.raises(ValueError, match="sha256 differs"):
        load_obd(tmp_path, "bts", "men", verify=True)
    (tmp_path / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="SHA256SUMS is absent"):
        load_obd(tmp_path, "bts", "men", verify=True)


# --- the real sample -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def obd_root() -> Path:
    if not (OBD / "SHA256SUMS").is_file():
        pytest.skip(f"{OBD} is absent")
    return OBD


@pytest.mark.real_data
@pytest.mark.parametrize("policy", ["random", "bts"])
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_real_logs_have_their_published_shape(obd_root, policy, campaign):
    data = load_obd(obd_root, policy, campaign, verify=True)
    n_items = N_ITEMS[campaign]
    assert (data.n_rounds, data.n_actions, data.n_positions) == (10_000, n_items, 3)
    assert len(data.item_context) == n_items
    assert set(np.unique(data.position)) == {0, 1, 2}
    assert set(np.unique(data.reward)) == {0.0, 1.0}
    assert data.user_item_affinity.shape == (10_000, n_items)
    assert np.all(data.context.sum(axis=1) == 4.0)  # one level of each of four user features
    assert np.all((data.pscore > 0) & (data.pscore <= 1))
    if policy == "random":
        np.testing.assert_allclose(data.pscore, 1 / n_items, rtol=1e-12)
    else:
        assert data.pscore.std() > 0
    assert str(data.ts.min())[:10] >= "2019-11-24" and str(data.ts.max())[:10] <= "2019-11-30"
