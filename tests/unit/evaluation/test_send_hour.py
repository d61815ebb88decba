import math

import numpy as np
import pytest

from persona_lib.evaluation.send_hour import logged_open_rate


def test_hand_computed_rate_and_interval():
    out = logged_open_rate([20, 21, 3, 22], [True, False, True, True], [20, 20, 20, 12])
    assert out["pushes"] == 2 and out["open_rate"] == 0.5
    assert math.isclose(out["se"], math.sqrt(0.25 / 2))
    assert math.isclose(out["ci_high"] - out["ci_low"], 2 * 1.959963984540054 * out["se"])


def test_distance_is_circular():
    # 23:00 and 0:00 are one hour apart, 1:00 and 23:00 two
    out = logged_open_rate([23, 1], [True, False], [0, 23], within=1)
    assert out["pushes"] == 1 and out["open_rate"] == 1.0


def test_within_half_an_hour_is_the_same_hour():
    out = logged_open_rate([5, 6, 4], [True, True, False], [5, 5, 5], within=0.5)
    assert out["pushes"] == 1


def test_no_match_gives_nan_not_an_error():
    out = logged_open_rate([1.0], [True], [12.0])
    assert out["pushes"] == 0 and np.isnan(out["open_rate"]) and np.isnan(out["ci_low"])


def test_invalid_inputs():
    with pytest.raises(ValueError, match="one length"):
        logged_open_rate([1, 2], [True], [1, 2])
    with pytest.raises(ValueError, match="within must be"):
        logged_open_rate([1], [True], [1], within=-1)
