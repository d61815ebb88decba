"""A randomized personalization experiment inside the simulated service, beside its true effect.

`SplitPolicy` serves each member from the control or the treatment policy according to a
hashed assignment (`persona_lib.experiments.assignment.assign`), from ``start_day`` on; before
it everybody gets control, so the days before are a pre-period for CUPED. Both policies learn
from every member's logs, as a production model trained on all traffic would.

`run_simulated_experiment` simulates the same world (members, sessions, coins) three times:
the experiment itself, everybody under control and everybody under treatment. The last two
give each member's outcome under both arms (common random numbers), so the true average effect
of launching the treatment, ``mean_u (Y_u(treatment) - Y_u(control))``, is known member by
member and stands beside the experiment's estimate. The estimate and the truth differ by
sampling (only half the members are treated), by interference (both policies learn from each
other's arm) and by the policies' own random draws, which are not shared across runs.

Per-member outcomes over the experiment period come from
`persona_lib.evaluation.online.member_outcomes` (also importable from here): ``sessions``,
``play_sessions`` (sessions with a play), ``hours`` watched, ``renewals`` and ``lost``
renewals (churned or payment failed), ``revenue`` (USD of paid billing periods: new, renewed,
reactivated), the pre-period ``pre_hours`` (CUPED covariate) and a few more.

The experiment is also a table a team would log: `SimulatedExperiment.assignments` gives the
schema's ``assignments`` (every member, its arm, assigned at the start of ``start_day``), so
the experiment world can be analysed exactly as logs are
(`persona_lib.experiments.logged.compute_logged_outcomes`), and `true_logged_effects` gives the
launch effect of the same logged outcomes from the two counterfactual worlds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.data.policies import Page, PageRequest
from persona_lib.evaluation.online import linearized_interval, member_outcomes
from persona_lib.experiments.assignment import assign
from persona_lib.experiments.logged import compute_logged_outcomes
from persona_lib.experiments.stats import cuped_difference, difference_in_means, ratio_metric
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.simulate import simulate

ARMS = ("control", "treatment")
# metric -> (numerator column, denominator column or None for a per-member mean)
METRICS = {
    "play_rate": ("play_sessions", "sessions"),
    "hours_per_member": ("hours", None),
    "monthly_churn": ("lost", "renewals"),
    "revenue_per_member": ("revenue", None),
}


def _subset(request: PageRequest, rows: np.ndarray) -> PageRequest:
    return dataclasses.replace(
        request,
        session_id=request.session_id[rows],
        user_id=request.user_id[rows],
        device=request.device[rows],
        hour=request.hour[rows],
    )


class SplitPolicy:
    """Serve treated members from ``treatment`` and the others from ``control``.

    Parameters
    ----------
    control, treatment : serving policies (fresh instances).
    treated : bool array indexed by user_id: the assignment.
    start_day : first day of the experiment; before it every member is served by ``control``.

    The two pages of a batch are merged into one: rows are cropped to the smaller of the two
    shapes (the policies build pages of the same depth in practice) and row names are the
    union of both policies' names.
    """

    def __init__(self, control, treatment, treated: np.ndarray, start_day: int = 0):
        self.control = control
        self.treatment = treatment
        self.treated = np.asarray(treated, dtype=bool)
        self.start_day = int(start_day)
        self._primed = False

    def _prime(self, request: PageRequest) -> None:
        """Let both policies see the catalogue on the first day, so both learn from day 0."""
        first = _subset(request, np.arange(1))
        self.control.serve(first)
        self.treatment.serve(first)
        self._primed = True

    def serve(self, request: PageRequest) -> Page:
        if not self._primed and len(request.user_id):
            self._prime(request)
        arm = self.treated[request.user_id] & (request.day >= self.start_day)
        if not arm.any():
            return self.control.serve(request)
        if arm.all():
            return self.treatment.serve(request)
        pages = {
            False: self.control.serve(_subset(request, np.flatnonzero(~arm))),
            True: self.treatment.serve(_subset(request, np.flatnonzero(arm))),
        }
        return _merge(pages, arm)

    def update(self, day_events: pd.DataFrame) -> None:
        self.control.update(day_events)
        self.treatment.update(day_events)


def _merge(pages: dict[bool, Page], arm: np.ndarray) -> Page:
    """One page for the whole batch from the control (False) and treatment (True) pages."""
    rows = min(p.title_id.shape[1] for p in pages.values())
    cols = min(p.title_id.shape[2] for p in pages.values())
    names = tuple(dict.fromkeys(pages[False].row_names + pages[True].row_names))
    shape = (arm.size, rows, cols)
    title = np.empty(shape, np.int32)
    artwork = np.empty(shape, np.int32)
    pscore = np.empty(shape, np.float64)
    row_id = np.empty(shape[:2], np.int16)
    for flag, page in pages.items():
        where = np.flatnonzero(arm == flag)
        title[where] = page.title_id[:, :rows, :cols]
        artwork[where] = page.artwork_id[:, :rows, :cols]
        pscore[where] = page.pscore[:, :rows, :cols]
        remap = np.array([names.index(n) for n in page.row_names], dtype=np.int16)
        row_id[where] = remap[page.row_id[:, :rows]]
    return Page(title, artwork, pscore, row_id, names)


@dataclass
class SimulatedExperiment:
    """The three runs of `run_simulated_experiment` and each member's outcomes in them."""

    config: SimulationConfig
    start_day: int
    arm: np.ndarray  # arm name per user_id
    worlds: dict  # "experiment", "all_control", "all_treatment" -> World
    outcomes: dict  # same keys -> `member_outcomes` frame

    @property
    def treated(self) -> np.ndarray:
        return self.arm == ARMS[1]

    @property
    def assigned_ts(self) -> np.datetime64:
        """When the experiment starts: midnight of ``start_day``."""
        return np.datetime64(self.config.start, "ms") + np.timedelta64(self.start_day, "D")

    def assignments(self, experiment: str) -> pd.DataFrame:
        """The schema's ``assignments`` table of this experiment (`experiment_assignments`)."""
        return experiment_assignments(self.arm, self.assigned_ts, experiment)


def experiment_assignments(arm, assigned_ts, experiment: str) -> pd.DataFrame:
    """The ``assignments`` table of an experiment that assigned every member at once.

    Parameters
    ----------
    arm : (n_users,) arm name of each ``user_id`` 0..n-1.
    assigned_ts : when every member was assigned.
    experiment : the experiment's name.

    Returns
    -------
    DataFrame ``user_id`` (int32), ``experiment``, ``variant``, ``assigned_ts``
    (datetime64[ms]), one row per member.

    Examples
    --------
    >>> table = experiment_assignments(np.array(["control", "treatment"]), "2025-01-15", "rows")
    >>> table["variant"].tolist()
    ['control', 'treatment']
    """
    arm = np.asarray(arm).astype(str)
    return pd.DataFrame({
        "user_id": np.arange(arm.size, dtype=np.int32),
        "experiment": experiment,
        "variant": arm,
        "assigned_ts": np.full(arm.size, np.datetime64(pd.Timestamp(assigned_ts), "ms")),
    })  # fmt: skip


def run_simulated_experiment(
    config: SimulationConfig,
    control_factory: Callable[[], object],
    treatment_factory: Callable[[], object],
    salt: str = "personalization-v1",
    treatment_share: float = 0.5,
    start_day: int = 0,
) -> SimulatedExperiment:
    """Simulate the experiment and the two counterfactual worlds (see the module docstring).

    ``control_factory`` and ``treatment_factory`` return fresh serving policies; the
    assignment hashes user ids with ``salt`` (``treatment_share`` of members treated).
    """
    if not 0 < treatment_share < 1:
        raise ValueError(f"treatment_share must be in (0, 1), got {treatment_share}")
    if not 0 <= start_day < config.n_days:
        raise ValueError(f"start_day must be in [0, n_days), got {start_day}")
    users = np.arange(config.n_users)
    arm = assign(users, salt, weights=(1 - treatment_share, treatment_share), arms=ARMS)
    masks = {"experiment": arm == ARMS[1], "all_control": np.zeros(users.size, bool),
             "all_treatment": np.ones(users.size, bool)}  # fmt: skip
    worlds = {
        name: simulate(config, SplitPolicy(control_factory(), treatment_factory(), mask, start_day))
        for name, mask in masks.items()
    }
    outcomes = {name: member_outcomes(world, start_day) for name, world in worlds.items()}
    return SimulatedExperiment(config, start_day, arm, worlds, outcomes)


def _true_effect(run: SimulatedExperiment, num: str, den: str | None) -> tuple[float, float, float]:
    """Launch effect from the two counterfactual runs: paired over every member, with a CI."""
    return _paired_effect(run.outcomes["all_treatment"], run.outcomes["all_control"], num, den)


def _paired_effect(t: pd.DataFrame, c: pd.DataFrame, num: str, den: str | None) -> tuple:
    """``R_t - R_c`` of the same members' outcomes under treatment and control, with a CI."""
    if den is None:
        lin = (t[num] - c[num]).to_numpy()  # a mean's terms: the paired differences themselves
        value = lin.mean()
    else:
        rt, rc = t[num].sum() / t[den].sum(), c[num].sum() / c[den].sum()
        lin = (t[num] - rt * t[den]) / t[den].mean() - (c[num] - rc * c[den]) / c[den].mean()
        value = rt - rc
    low, high = linearized_interval(value, lin)
    return float(value), float(low), float(high)


def true_logged_effects(
    run: SimulatedExperiment,
    assignments: pd.DataFrame,
    metrics: Mapping[str, tuple[str, str | None]],
    *,
    window: object = None,
) -> pd.DataFrame:
    """The true launch effect of logged outcomes, from the two counterfactual worlds.

    `compute_logged_outcomes` with ``assignments`` (``window`` as there) on the world where
    everybody is treated and on the one where nobody is gives each member both outcomes; the
    effect of a metric ``sum(num) / sum(den)`` (a mean when ``den`` is None) is the paired
    difference over every member, ``R_t - R_c``, with the delta-method interval of
    `persona_lib.evaluation.online.linearized_interval`.

    Parameters
    ----------
    run : the three runs of `run_simulated_experiment`.
    assignments : its ``assignments`` table (`SimulatedExperiment.assignments`).
    metrics : metric -> (numerator column, denominator column or None) of the logged outcomes.
    window : as in `compute_logged_outcomes` (None: all of the log after the assignment).

    Returns
    -------
    DataFrame indexed by metric: ``truth``, ``truth_ci_low``, ``truth_ci_high``.
    """
    outcomes = {
        name: compute_logged_outcomes(
            run.worlds[name].events, assignments, window=window, billing=run.worlds[name].billing
        )
        for name in ("all_treatment", "all_control")
    }
    rows = {m: _paired_effect(outcomes["all_treatment"], outcomes["all_control"], num, den)
            for m, (num, den) in metrics.items()}  # fmt: skip
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["truth", "truth_ci_low", "truth_ci_high"]
    ).rename_axis("metric")


def analyze_experiment(run: SimulatedExperiment, alpha: float = 0.05) -> pd.DataFrame:
    """The experiment's estimate of every metric beside the true launch effect.

    Means are Welch differences of per-member values, ratios (play rate, churn) delta-method
    differences of ratios of per-member sums, and ``hours_per_member_cuped`` the CUPED
    estimate with pre-period hours as covariate. Returns one row per metric: the `TestResult`
    fields, then ``truth``, ``truth_ci_low``, ``truth_ci_high`` and ``covers_truth``.
    """
    out = run.outcomes["experiment"]
    w = run.treated
    rows = []
    for metric, (num, den) in METRICS.items():
        if den is None:
            res = difference_in_means(out[num][~w], out[num][w], alpha=alpha, metric=metric)
        else:
            res = ratio_metric(out[num][~w], out[den][~w], out[num][w], out[den][w],
                               alpha=alpha, metric=metric)  # fmt: skip
        rows.append((res, *_true_effect(run, num, den)))
    cuped = cuped_difference(out["hours"], out["pre_hours"], w, alpha=alpha,
                             metric="hours_per_member_cuped")  # fmt: skip
    rows.append((cuped, *_true_effect(run, "hours", None)))
    frame = pd.DataFrame([{**r.to_dict(), "truth": t, "truth_ci_low": lo, "truth_ci_high": hi}
                          for r, t, lo, hi in rows])  # fmt: skip
    frame["covers_truth"] = (frame["ci_low"] <= frame["truth"]) & (
        frame["truth"] <= frame["ci_high"]
    )
    return frame


def cumulative_daily(world, column: str = "hours", start_day: int = 0) -> np.ndarray:
    """(members, days) each member's ``hours`` watched or ``sessions`` up to the end of each day.

    Days count from ``start_day``; the input of a peeking study (a look per day). A play that
    ends after the window's last midnight counts on the last day, as in `member_outcomes`.
    """
    if column not in ("hours", "sessions"):
        raise ValueError(f"column must be 'hours' or 'sessions', got {column!r}")
    n, days = world.config.n_users, world.config.n_days - start_day
    events = world.events
    day = (events["ts"].to_numpy().astype("datetime64[D]") - world.config.start).astype(np.int64)
    day = np.minimum(day - start_day, days - 1)  # plays running past the last midnight: last day
    etype = events["event_type"].astype(str).to_numpy()
    if column == "hours":
        keep = (etype == "play_stop") & (day >= 0) & (day < days)
        weights = np.nan_to_num(events["watch_s"].to_numpy(np.float64))[keep] / 3600.0
    else:
        first = np.zeros(len(events), bool)
        first[np.unique(events["session_id"].to_numpy(), return_index=True)[1]] = True
        keep = first & (day >= 0) & (day < days)
        weights = None
    cell = events["user_id"].to_numpy()[keep] * days + day[keep]
    daily = np.bincount(cell, weights=weights, minlength=n * days).reshape(n, days)
    return np.cumsum(daily, axis=1)
