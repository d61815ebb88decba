"""One table of invalid inputs run against every off-policy estimator (obp's test_all_estimators).

Each case breaks one argument of a valid tiny log (4 rounds, 2 actions; with 2 slots for the
position cases) and must raise ValueError, or TypeError for a non-numeric dtype, with a message
naming that argument; both verbs, ``estimate_policy_value`` and ``estimate_interval``, are checked.
`USES` is the capability table: a case about an argument an estimator does not read (``q_hat``
for IPW, ``pscore`` for DM...) is not generated, instead of passing for another argument.
Ragged lists and text (even numeric text such as "1.0") are refused naming the argument too.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pytest

import persona_lib.evaluation.ope as ope
from persona_lib.evaluation.ope import OffPolicyEstimator, ReplayMethod, standard_estimators

ESTIMATORS = {**standard_estimators(), "rm": ReplayMethod()}
LOGGED = frozenset({"reward", "action", "pscore"})
USES = {  # the inputs each estimator reads besides action_dist and position (its `needs`)
    "rm": frozenset({"reward", "action"}),
    "ipw": LOGGED,
    "ipw_clipped": LOGGED,
    "snipw": LOGGED,
    "dm": frozenset({"q_hat"}),
    "dr": LOGGED | {"q_hat"},
    "sndr": LOGGED | {"q_hat"},
    "switch_dr": LOGGED | {"q_hat"},
}
ALWAYS = frozenset({"action_dist", "position"})
# hyperparameter of each estimator that has one, and whether 0 is a valid value
HYPERPARAMETERS = {
    "ipw": ("lambda_", False),
    "ipw_clipped": ("lambda_", False),
    "dr": ("lambda_", False),
    "switch_dr": ("tau", True),
}

FLAT = {  # the evaluated policy is deterministic: the replay method accepts only that
    "reward": np.array([1.0, 0.0, 0.0, 1.0]),
    "action": np.array([0, 1, 0, 1]),
    "pscore": np.array([0.5, 0.5, 0.8, 0.25]),
    "action_dist": np.eye(2)[[0, 1, 1, 1]],
    "q_hat": np.array([[0.6, 0.2], [0.4, 0.4], [0.1, 0.5], [0.3, 0.7]]),
}
SLOTS = FLAT | {  # the same rounds shown in slot 0 or 1: (n, n_actions, n_positions)
    "action_dist": np.stack([np.eye(2)[[0, 1, 1, 1]], np.eye(2)[[1, 1, 0, 1]]], axis=2),
    "q_hat": np.stack([FLAT["q_hat"], FLAT["q_hat"] / 2], axis=2),
    "position": np.array([0, 1, 1, 0]),
}
BASES = {"flat": FLAT, "slots": SLOTS}


class Case(NamedTuple):
    """``change`` applied to ``BASES[base]`` must raise ``error`` naming ``argument``."""

    id: str
    argument: str
    change: dict
    base: str = "flat"
    error: type[Exception] = ValueError


def with_round(name: str, index: int, value, base: dict = FLAT) -> dict:
    """``{name: base[name]}`` as floats, with round ``index`` set to ``value``."""
    values = base[name].astype(float)
    values[index] = value
    return {name: values}


def as_strings(name: str, base: dict = FLAT) -> dict:
    """``base[name]`` as numeric text: '1.0', '0.5'..."""
    return {name: base[name].astype(str)}


def as_words(name: str, base: dict = FLAT) -> dict:
    """``base[name]`` as non-numeric text of the same shape."""
    return {name: np.full(base[name].shape, "yes")}


def ragged(name: str, base: dict = FLAT) -> dict:
    """One round of ``name`` wrapped in an extra list, as a hand-written list could be."""
    values = base[name].tolist()
    values[1] = [values[1]] if base[name].ndim == 1 else values[1][:-1]
    return {name: values}


CASES = [
    # reward
    Case("missing", "reward", {"reward": None}),
    Case("length", "reward", {"reward": np.ones(3)}),
    Case("2d", "reward", {"reward": FLAT["reward"].reshape(2, 2)}),
    Case("nan", "reward", with_round("reward", 1, np.nan)),
    Case("inf", "reward", with_round("reward", 1, np.inf)),
    Case("strings", "reward", as_strings("reward"), error=TypeError),
    Case("words", "reward", as_words("reward"), error=TypeError),
    Case("ragged", "reward", ragged("reward")),
    # action
    Case("missing", "action", {"action": None}),
    Case("length", "action", {"action": np.array([0, 1, 0])}),
    Case("2d", "action", {"action": FLAT["action"].reshape(2, 2)}),
    Case("out-of-range", "action", {"action": np.array([0, 2, 0, 1])}),
    Case("negative", "action", {"action": np.array([0, -1, 0, 1])}),
    Case("non-integer", "action", with_round("action", 1, 0.5)),
    Case("nan", "action", with_round("action", 1, np.nan)),
    Case("strings", "action", as_strings("action"), error=TypeError),
    Case("words", "action", as_words("action"), error=TypeError),
    Case("ragged", "action", ragged("action")),
    # pscore
    Case("missing", "pscore", {"pscore": None}),
    Case("length", "pscore", {"pscore": np.full(5, 0.5)}),
    Case("2d", "pscore", {"pscore": FLAT["pscore"].reshape(4, 1)}),
    Case("zero", "pscore", with_round("pscore", 1, 0.0)),
    Case("negative", "pscore", with_round("pscore", 1, -0.5)),
    Case("above-one", "pscore", with_round("pscore", 1, 1.5)),
    Case("nan", "pscore", with_round("pscore", 1, np.nan)),
    Case("inf", "pscore", with_round("pscore", 1, np.inf)),
    Case("strings", "pscore", as_strings("pscore"), error=TypeError),
    Case("words", "pscore", as_words("pscore"), error=TypeError),
    Case("ragged", "pscore", ragged("pscore")),
    # action_dist
    Case("missing", "action_dist", {"action_dist": None}),
    Case("length", "action_dist", {"action_dist": FLAT["action_dist"][:3]}),
    Case("not-summing-to-1", "action_dist", with_round("action_dist", 1, [0.2, 0.2])),
    Case("negative", "action_dist", with_round("action_dist", 1, [-0.5, 1.5])),
    Case("nan", "action_dist", with_round("action_dist", 1, [np.nan, 1.0])),
    Case("1d", "action_dist", {"action_dist": np.full(4, 1.0)}),
    Case("4d", "action_dist", {"action_dist": FLAT["action_dist"][:, :, None, None]}),
    Case("no-actions", "action_dist", {"action_dist": np.zeros((4, 0))}),
    Case(
        "strings",
        "action_dist",
        as_strings("action_dist"),
        error=TypeError,
    ),
    Case("words", "action_dist", as_words("action_dist"), error=TypeError),
    Case("ragged", "action_dist", ragged("action_dist")),
    # q_hat: estimated rewards of every action (model-based estimators)
    Case("missing", "q_hat", {"q_hat": None}),
    Case("wrong-actions", "q_hat", {"q_hat": np.zeros((4, 3))}),
    Case("wrong-rounds", "q_hat", {"q_hat": np.zeros((3, 2))}),
    Case("extra-axis", "q_hat", {"q_hat": FLAT["q_hat"][:, :, None]}),
    Case("nan", "q_hat", with_round("q_hat", 1, [np.nan, 0.4])),
    Case("inf", "q_hat", with_round("q_hat", 1, [np.inf, 0.4])),
    Case("strings", "q_hat", as_strings("q_hat"), error=TypeError),
    Case("words", "q_hat", as_words("q_hat"), error=TypeError),
    Case("ragged", "q_hat", ragged("q_hat")),
    # position: the logged slot, against action_dist's position axis
    Case("missing", "position", {"position": None}, base="slots"),
    Case("without-position-axis", "position", {"position": np.zeros(4, int)}),
    Case("length", "position", {"position": np.array([0, 1, 1])}, base="slots"),
    Case("2d", "position", {"position": SLOTS["position"].reshape(2, 2)}, base="slots"),
    Case("out-of-range", "position", {"position": np.array([0, 2, 1, 0])}, base="slots"),
    Case("negative", "position", {"position": np.array([0, -1, 1, 0])}, base="slots"),
    Case("non-integer", "position", with_round("position", 1, 0.5, SLOTS), base="slots"),
    Case("nan", "position", with_round("position", 1, np.nan, SLOTS), base="slots"),
    Case("strings", "position", as_strings("position", SLOTS), base="slots", error=TypeError),
    Case("words", "position", as_words("position", SLOTS), base="slots", error=TypeError),
    Case(
        "ragged",
        "position",
        ragged("position", SLOTS),
        base="slots",
    ),
    # empty logs: every argument with 0 rounds (action_dist is checked first)
    Case("empty", "action_dist", {name: values[:0] for name, values in FLAT.items()}),
]


def estimator_cases():
    """Every (estimator, case) whose argument the estimator reads; the others are not generated,
    so the capability table decides the matrix (and `USES` is itself checked against `needs`)."""
    for key in ESTIMATORS:
        for case in CASES:
            if case.argument in USES[key] | ALWAYS:
                yield pytest.param(key, case, id=f"{key}-{case.argument}-{case.id}")


def inputs_for(key: str, base: dict, change: dict) -> dict:
    """The arguments estimator ``key`` reads, from ``base`` with ``change`` applied."""
    reads = USES[key] | ALWAYS
    return {name: value for name, value in (base | change).items() if name in reads}


def verbs(estimator: OffPolicyEstimator):
    yield estimator.estimate_policy_value
    yield lambda **inputs: estimator.estimate_interval(**inputs, n_bootstrap=20)


@pytest.mark.parametrize(("key", "case"), list(estimator_cases()))
def test_invalid_input_is_refused_by_name(key, case):
    inputs = inputs_for(key, BASES[case.base], case.change)
    for verb in verbs(ESTIMATORS[key]):
        with pytest.raises(case.error, match=rf"\b{case.argument}\b"):
            verb(**inputs)


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("key", sorted(ESTIMATORS))
def test_the_valid_log_is_accepted(key, base):
    """The cases above fail because of their change, not because of the log they change."""
    inputs = inputs_for(key, BASES[base], {})
    value, interval = (verb(**inputs) for verb in verbs(ESTIMATORS[key]))
    assert np.isfinite(value) and interval.low <= interval.high


BAD_HYPERPARAMETERS = [
    pytest.param(-1.0, ValueError, id="negative"),
    pytest.param(-np.inf, ValueError, id="minus-inf"),
    pytest.param(np.nan, ValueError, id="nan"),
    pytest.param("1", TypeError, id="string"),
    pytest.param(True, TypeError, id="bool"),
    pytest.param(None, TypeError, id="none"),
]


@pytest.mark.parametrize(("value", "error"), BAD_HYPERPARAMETERS)
@pytest.mark.parametrize("key", sorted(HYPERPARAMETERS))
def test_invalid_hyperparameter_is_refused_by_name(key, value, error):
    name, _ = HYPERPARAMETERS[key]
    with pytest.raises(error, match=rf"\b{name}\b"):
        dataclasses.replace(ESTIMATORS[key], **{name: value})


@pytest.mark.parametrize("key", sorted(HYPERPARAMETERS))
def test_zero_threshold(key):
    name, zero_allowed = HYPERPARAMETERS[key]
    if zero_allowed:  # switch-DR with tau = 0 is DM wherever the weight is positive
        assert getattr(dataclasses.replace(ESTIMATORS[key], **{name: 0.0}), name) == 0.0
    else:
        with pytest.raises(ValueError, match=rf"{name} must be > 0"):
            dataclasses.replace(ESTIMATORS[key], **{name: 0.0})


def test_every_estimator_is_in_the_tables():
    exported = {
        cls
        for cls in (getattr(ope, name) for name in ope.__all__)
        if isinstance(cls, type) and issubclass(cls, OffPolicyEstimator)
    }
    exported.discard(OffPolicyEstimator)
    assert exported == {type(estimator) for estimator in ESTIMATORS.values()}
    assert set(USES) == set(ESTIMATORS)


@pytest.mark.parametrize("key", sorted(ESTIMATORS))
def test_capability_tables_match_the_estimators(key):
    estimator = ESTIMATORS[key]
    assert USES[key] == set(estimator.needs)
    fields = [field.name for field in dataclasses.fields(estimator)]
    assert fields == ([HYPERPARAMETERS[key][0]] if key in HYPERPARAMETERS else [])
