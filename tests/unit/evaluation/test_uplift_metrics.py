"""Uplift curves and areas by hand, targeting value, and the push experiment's truth helpers."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import FLOAT32

from persona_lib.evaluation.uplift import (
    auuc,
    hour_accuracy,
    qini_coefficient,
    qini_curve,
    targeting_value,
    true_notification_effect,
    true_open_probability,
    true_qini_coefficient,
    true_targeting_value,
    uplift_curve,
)
from persona_lib.signals.notifications import notification_experiment

Y = np.array([1, 0, 1, 0])
W = np.array([1, 0, 0, 1])
S = np.array([0.9, 0.8, 0.3, 0.1])


def test_curves_by_hand():
    k, u = uplift_curve(Y, W, S)
    np.testing.assert_array_equal(k, [0, 1, 2, 3, 4])
    # k=1: no control yet -> 0; k=2: (1/1 - 0/1) 2; k=3: (1 - 1/2) 3; k=4: (1/2 - 1/2) 4
    np.testing.assert_allclose(u, [0, 0, 2, 1.5, 0])
    # Qini: Y_t - Y_c N_t / N_c: 1 (no controls), 1 - 0, 1 - 1/2, 1 - 1 * 2/2
    np.testing.assert_allclose(qini_curve(Y, W, S)[1], [0, 1, 1, 0.5, 0])


def test_ties_are_one_block():
    k, u = uplift_curve(Y, W, [0.9, 0.9, 0.3, 0.3])
    np.testing.assert_array_equal(k, [0, 2, 4])
    np.testing.assert_allclose(u, [0, 2, 0])
    k, q = qini_curve(Y, W, [0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(k, [0, 4])
    np.testing.assert_allclose(q, [0, 0])
    # the order of tied rows does not matter
    perm = [1, 0, 3, 2]
    np.testing.assert_allclose(
        qini_curve(Y[perm], W[perm], [0.9, 0.9, 0.3, 0.3])[1],
        qini_curve(Y, W, [0.9, 0.9, 0.3, 0.3])[1],
    )


def test_areas_by_hand():
    # trapezoids on x = k / 4: (0 + 0 + 0 + 2 + 2 + 1.5 + 1.5 + 0) / 2 * 0.25; random line ends at 0
    assert auuc(Y, W, S, normalize=False) == pytest.approx(0.875)
    assert qini_coefficient(Y, W, S, normalize=False) == pytest.approx((1 + 2 + 1.5 + 0.5) / 8)
    assert qini_coefficient(Y, W, np.zeros(4)) == 0
    with pytest.raises(ValueError, match="lengths differ"):
        qini_curve(Y, W, S[:3])


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    n = 40_000
    tau = rng.uniform(-0.2, 0.4, size=n)
    w = rng.random(n) < 0.4
    y = (rng.random(n) < 0.3 + w * tau).astype(float)
    return y, w, tau


def test_perfect_score_beats_random(planted):
    y, w, tau = planted
    rng = np.random.default_rng(1)
    for metric in (auuc, qini_coefficient):
        assert metric(y, w, tau) > 0.1
        assert abs(metric(y, w, rng.random(y.size))) < 0.03
        assert metric(y, w, -tau) < -0.1
        assert metric(y, w, np.exp(3 * tau)) == pytest.approx(metric(y, w, tau))  # ranks only
    best = np.where(w, 1 + 2 * y, 2 - 2 * y)
    assert auuc(y, w, best) == pytest.approx(1) and qini_coefficient(y, w, best) == pytest.approx(1)


def test_targeting_value(planted):
    y, w, tau = planted
    est = targeting_value(y, w, tau, fractions=(0.3, 1.0))
    assert list(est["n_targeted"]) == [12_000, 40_000]
    top = np.argsort(-tau, kind="stable")[:12_000]
    diff = y[top][w[top]].mean() - y[top][~w[top]].mean()
    assert est.loc[0, "incremental_model"] == pytest.approx(12_000 * diff)
    assert est.loc[1, "incremental_model"] == pytest.approx(est.loc[1, "incremental_all"])
    assert est.loc[0, "incremental_model"] > est.loc[0, "incremental_random"]
    truth = true_targeting_value(tau, tau, fractions=(0.3,))
    assert truth.loc[0, "model"] == pytest.approx(truth.loc[0, "oracle"])
    assert truth.loc[0, "captured"] == pytest.approx(1)
    assert (
        abs(est.loc[0, "incremental_model"] - truth.loc[0, "model"])
        < 3 * est.loc[0, "incremental_model_se"]
    )
    with pytest.raises(ValueError, match=r"fractions must be in \(0, 1\]"):
        targeting_value(y, w, tau, fractions=(0,))


def test_true_qini_coefficient():
    tau = np.array([0.3, -0.1, 0.2, 0.0])
    assert true_qini_coefficient(tau, tau) == pytest.approx(1)
    assert true_qini_coefficient(tau, np.zeros(4)) == pytest.approx(0)
    assert true_qini_coefficient(tau, -tau) < 0
    # gains 0, .3, .5, .5, .4 over x = k/4; random line ends at .4
    assert true_qini_coefficient(tau, [4, 1, 3, 2]) == pytest.approx(1)


def test_hour_accuracy_is_circular():
    got = hour_accuracy([0, 23, 5, 12], [0, 1, 3, 0])
    assert got == {"exact": 0.25, "within_1": 0.25, "within_2": 0.75, "mean_gap_hours": 4.0}


@pytest.fixture(scope="module")
def smoke_experiment(smoke_world):
    w = smoke_world
    return notification_experiment(w.events, w.notifications, w.billing, w.users, w.config)


def test_open_probability_matches_the_logged_truth(smoke_world):
    notes = smoke_world.truth.tables["notifications"]
    best = smoke_world.truth.best_send_hour[notes["user_id"].to_numpy()]
    np.testing.assert_allclose(
        true_open_probability(notes["hour"], best), notes["p_open"], **FLOAT32
    )  # p_open is logged in float32


def test_true_effect_follows_uplift_and_hour(smoke_world, smoke_experiment):
    exp = smoke_experiment
    uplift = smoke_world.truth.notification_uplift[exp["user_id"].to_numpy()]
    effect = true_notification_effect(smoke_world, exp)
    assert np.corrcoef(effect, uplift)[0, 1] > 0.7
    assert np.all(np.sign(effect) == np.sign(uplift))
    best = smoke_world.truth.best_send_hour[exp["user_id"].to_numpy()]
    at_best = true_notification_effect(smoke_world, exp, hour=best)
    at_worst = true_notification_effect(smoke_world, exp, hour=(best + 12) % 24)
    assert np.all(np.abs(at_best) >= np.abs(effect)) and np.all(np.abs(effect) >= np.abs(at_worst))
    logged = true_notification_effect(smoke_world, exp, hour="logged")
    np.testing.assert_array_equal(logged[~exp["treated"]], effect[~exp["treated"]])
    # the design's average effect sits inside the difference-in-means' 95 % interval
    est = targeting_value(exp["session"], exp["treated"], np.zeros(len(exp)), fractions=(1.0,))
    assert (
        abs(est.loc[0, "incremental_model"] - effect.sum()) < 2 * est.loc[0, "incremental_model_se"]
    )
