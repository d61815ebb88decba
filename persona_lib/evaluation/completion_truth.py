"""The simulator's exact probability that a play is completed: the ceiling for any model.

Mirrors `persona_lib.data.simulate_day.play_outcomes`: a play's watch fraction is
``Beta(3 m, 3 (1 - m))`` with mean ``m = expit(0.2 + 0.9 fit)`` (``fit``: the true fit of the
title to the member) and the play is completed when the fraction reaches 0.9, so
``P(completed) = I_{0.1}(3 (1 - m), 3 m) = beta.sf(0.9, 3 m, 3 (1 - m))``. Reads
``world.truth``; only evaluation may.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import beta

WATCH_CONCENTRATION = 3.0  # a + b of the watch-fraction Beta
COMPLETION_FRACTION = 0.9


def true_completion_prob(world, plays: pd.DataFrame) -> np.ndarray:
    """Exact completion probability of each play (rows with ``user_id``, ``title_id``).

    Examples
    --------
    >>> plays = completion_examples(world.events, world.titles)  # doctest: +SKIP
    >>> p = true_completion_prob(world, plays)  # doctest: +SKIP
    """
    fit = world.truth.fit(plays["user_id"].to_numpy(), plays["title_id"].to_numpy())
    mean = expit(0.2 + 0.9 * np.asarray(fit, dtype="float64"))
    a, b = WATCH_CONCENTRATION * mean, WATCH_CONCENTRATION * (1 - mean)
    return beta.sf(COMPLETION_FRACTION, a, b)
