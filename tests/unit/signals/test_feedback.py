"""confidence_weights and interaction_matrix."""

import numpy as np
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.signals import confidence_weights, interaction_matrix

KNOBS = dict(alpha=2.0, completion_bonus=1.0, rewatch_bonus=0.5, scroll_past_penalty=0.25)


def test_weights_match_the_formula(standard_events, titles):
    w = confidence_weights(standard_events, titles, **KNOBS).set_index(["user_id", "title_id"])
    assert w.index.tolist() == [(0, 0), (0, 1), (1, 1), (1, 2)]
    assert w["plays"].tolist() == [1, 1, 1, 1]
    assert w["completed"].tolist() == [True, True, False, True]
    assert w["rewatched"].tolist() == [False, False, False, True]
    assert w["scrolled_past"].tolist() == [False, True, False, False]  # scrolled T1 in s10
    r = np.array([
        np.log1p(5500 / 6000) + 1,
        np.log1p(1.0) + 1 - 0.25,
        np.log1p(1 / 3),
        np.log1p(5000 / 5400) + 1 + 0.5,
    ])  # fmt: skip
    np.testing.assert_allclose(w["weight"], 1 + 2.0 * r)


def _weight(ev, make_events, titles, watch, rewatch=False, plays=1):
    rows = []
    for k in range(plays):
        kw = dict(user=0, session=1, title=0)
        rows += [ev(10 * k, kind="play_start", **kw),
                 ev(10 * k + 1, kind="play_stop", watch=watch, **kw)]  # fmt: skip
        if rewatch:
            rows.append(ev(10 * k, kind="rewatch", **kw))
    return confidence_weights(make_events(rows), titles, **KNOBS)["weight"].iloc[0]


def test_weight_monotone_in_watch_fraction_completion_and_rewatch(titles, ev, make_events):
    def _w(*args, **kwargs):
        return _weight(ev, make_events, titles, *args, **kwargs)

    watched = [0, 600, 3000, 5399, 5400, 6000, 9000]
    weights = [_w(w) for w in watched]
    assert np.all(np.diff(weights) >= 0) and weights[-1] > weights[0]
    assert weights[4] - weights[3] > 0.9 * KNOBS["alpha"]  # the completion bonus
    for w in watched:
        assert _w(w, rewatch=True) > _w(w)
    assert _w(3000, plays=3) > _w(3000, plays=1)
    assert min(weights) >= 1


def test_negative_alpha_raises(standard_events, titles):
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        confidence_weights(standard_events, titles, alpha=-1)


def test_interaction_matrix_type_shape_values(standard_events, titles):
    w = confidence_weights(standard_events, titles)
    m = interaction_matrix(w, n_users=3, n_titles=5)
    assert type(m) is sp.csr_matrix and m.shape == (3, 5) and m.dtype == np.float32
    assert m.nnz == 4
    np.testing.assert_allclose(
        m[1, 2], w.loc[(w.user_id == 1) & (w.title_id == 2), "weight"], **FLOAT32
    )  # the matrix holds float32
    assert m[2].nnz == 0
    with pytest.raises(ValueError, match="title_id out of range"):
        interaction_matrix(w, n_users=3, n_titles=2)


def test_interaction_matrix_sums_duplicates(standard_events, titles):
    w = confidence_weights(standard_events, titles)
    doubled = interaction_matrix(w.iloc[[0, 0]], 2, 4, value="plays")
    assert doubled[0, 0] == 2 and doubled.nnz == 1
