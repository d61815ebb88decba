import numpy as np
import pytest
from scipy import stats
from tolerances import FLOAT64

from persona_lib.experiments import benjamini_hochberg, holm


def test_holm_hand_example():
    # sorted 0.01, 0.02, 0.03, 0.04 -> 4*0.01, 3*0.02, 2*0.03, 1*0.04 -> running max
    p = [0.03, 0.01, 0.04, 0.02]
    np.testing.assert_allclose(holm(p), [0.06, 0.04, 0.06, 0.06])


def test_holm_caps_at_one_and_is_monotone():
    p = np.array([0.5, 0.2, 0.9, 0.001])
    adj = holm(p)
    assert adj.max() <= 1.0
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0)
    assert np.all(adj >= p)


def test_bh_hand_example():
    # sorted 0.01, 0.02, 0.03, 0.2 -> 4p/i = 0.04, 0.04, 0.04, 0.2
    p = [0.03, 0.01, 0.2, 0.02]
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.04, 0.2, 0.04])


def test_bh_step_up_takes_later_minimum():
    # 3 * 0.04 / 2 = 0.06 exceeds 3 * 0.045 / 3 = 0.045, so the second is pulled down
    np.testing.assert_allclose(benjamini_hochberg([0.01, 0.04, 0.045]), [0.03, 0.045, 0.045])


def test_bh_matches_scipy():
    p = np.random.default_rng(0).uniform(size=200) ** 3
    np.testing.assert_allclose(
        benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), **FLOAT64
    )


def test_bh_never_above_holm():
    p = np.random.default_rng(1).uniform(size=50) ** 2
    assert np.all(benjamini_hochberg(p) <= holm(p) + FLOAT64["atol"])


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="finite and in"):
        holm([0.1, np.nan])
    with pytest.raises(ValueError, match="must be 1-D"):
        benjamini_hochberg([[0.1, 0.2]])
