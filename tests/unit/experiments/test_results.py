import json
import math

import pytest

from persona_lib.experiments import TestResult


def make(**overrides):
    args = dict(
        metric="play_rate", estimate=0.02, ci_low=0.01, ci_high=0.03, p_value=0.001,
        control_mean=0.10, treatment_mean=0.12, n_control=1000, n_treatment=1000, alpha=0.05,
        method="z_pooled",
    )  # fmt: skip
    args.update(overrides)
    return TestResult(**args)


def test_relative_lift_and_significance():
    r = make()
    assert r.relative_lift == pytest.approx(0.2)
    assert r.significant
    assert not make(p_value=0.05).significant  # strictly below alpha


def test_to_dict_is_json_safe():
    d = make(control_mean=0.0).to_dict()
    assert d["relative_lift"] is None and d["relative_ci_low"] is None
    assert d["n_control"] == 1000 and d["significant"] is True
    json.dumps(d, allow_nan=False)


def test_relative_lift_nan_when_control_zero():
    assert math.isnan(make(control_mean=0.0).relative_lift)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alpha": 1.5}, "alpha must be in"),
        ({"p_value": -0.1}, "p_value must be in"),
        ({"ci_low": 0.5}, "is above ci_high"),
        ({"n_control": -1}, "non-negative"),
    ],
)
def test_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        make(**overrides)


def test_frozen():
    with pytest.raises(AttributeError):
        make().estimate = 1.0
