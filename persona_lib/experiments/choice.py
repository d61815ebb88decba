"""One experiment of an ``assignments`` table: which one, its control, and its members.

The schema's ``assignments`` table (``user_id, experiment, variant, assigned_ts``) may hold
several experiments. `choose_experiment` picks the one to analyse and its control variant (or
says which choices there are); `experiment_members` reduces it to one row per member (the first
exposure of a member exposed more than once), refusing members assigned to two variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CONTROL_RULES",
    "ExperimentChoice",
    "choose_experiment",
    "experiment_members",
    "ids_text",
    "require_columns",
]

ASSIGNMENT_COLUMNS = ("user_id", "experiment", "variant", "assigned_ts")
SHOWN = 10  # user ids quoted in an error message
CONTROL_RULES = ("given", "named control", "first alphabetically")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table} lacks the columns {missing}; it has {list(frame.columns)}")


def ids_text(ids) -> str:
    ids = [v.item() if isinstance(v, np.generic) else v for v in ids]
    more = f" (first {SHOWN} of {len(ids):,})" if len(ids) > SHOWN else ""
    return f"{ids[:SHOWN]}{more}"


def _pick_experiment(assignments: pd.DataFrame, experiment) -> pd.DataFrame:
    names = list(pd.unique(assignments["experiment"].dropna()))
    if experiment is None:
        if len(names) != 1:
            raise ValueError(f"assignments hold the experiments {names}; choose one (experiment=)")
        experiment = names[0]
    if experiment not in names:
        raise ValueError(f"experiment {experiment!r} is not in the assignments; they hold {names}")
    return assignments.loc[assignments["experiment"] == experiment, list(ASSIGNMENT_COLUMNS)]


def experiment_members(assignments: pd.DataFrame, experiment) -> pd.DataFrame:
    """One row per member of the experiment: user_id, variant, assigned_ts (the first one)."""
    require_columns(assignments, ASSIGNMENT_COLUMNS, "assignments")
    rows = _pick_experiment(assignments, experiment)
    for column in ("user_id", "variant", "assigned_ts"):
        empty = rows[column].isna().to_numpy()
        if empty.any():
            who = ids_text(rows["user_id"].to_numpy()[empty])
            raise ValueError(f"{empty.sum():,} assignments have no {column} (user_id {who})")
    variants = rows.groupby("user_id", sort=True)["variant"].nunique()
    twice = variants.index[variants > 1].tolist()
    if twice:
        raise ValueError(
            f"{len(twice):,} members are assigned to more than one variant of the experiment: "
            f"user_id {ids_text(twice)}; resolve them before the analysis"
        )
    rows = rows.assign(assigned_ts=pd.to_datetime(rows["assigned_ts"]))
    first = rows.sort_values(["assigned_ts", "user_id"], kind="stable")  # re-exposures: the first
    first = first.drop_duplicates("user_id", keep="first").sort_values("user_id", kind="stable")
    return first[["user_id", "variant", "assigned_ts"]].reset_index(drop=True)


@dataclass(frozen=True)
class ExperimentChoice:
    """Which experiment of an ``assignments`` table is analysed, and against which control.

    Attributes
    ----------
    experiment : the experiment's name.
    control : the control variant.
    variants : every variant of the experiment, sorted.
    control_rule : how the control was chosen: ``"given"``, ``"named control"`` or ``"first
        alphabetically"``.
    """

    experiment: object
    control: object
    variants: tuple
    control_rule: str

    def __post_init__(self) -> None:
        if self.control not in self.variants:
            raise ValueError(f"control {self.control!r} is not one of {list(self.variants)}")
        if self.control_rule not in CONTROL_RULES:
            raise ValueError(f"control_rule must be one of {CONTROL_RULES}")

    @property
    def treatments(self) -> tuple:
        """The variants other than the control, sorted."""
        return tuple(v for v in self.variants if v != self.control)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe: names as text."""
        return {
            "experiment": str(self.experiment),
            "control": str(self.control),
            "variants": [str(v) for v in self.variants],
            "control_rule": self.control_rule,
        }


def choose_experiment(
    assignments: pd.DataFrame, experiment: object = None, control: object = None
) -> ExperimentChoice:
    """The experiment to analyse and its control, or an error that lists the choices.

    Parameters
    ----------
    assignments : ``user_id, experiment, variant, assigned_ts`` (the schema's table).
    experiment : its name; None or ``""``: the only experiment of the table.
    control : the control variant; None or ``""``: the variant named ``control`` if there is
        one, else the first variant alphabetically.

    Returns
    -------
    ExperimentChoice

    Raises
    ------
    ValueError : several experiments and none named, an unknown experiment or control (the
        message lists the ones there are), an experiment with fewer than two variants.

    Examples
    --------
    >>> table = pd.DataFrame({"user_id": [1, 2], "experiment": "rows", "variant": ["B", "A"],
    ...                       "assigned_ts": pd.Timestamp("2025-01-01")})
    >>> choose_experiment(table).control, choose_experiment(table).control_rule
    ('A', 'first alphabetically')
    """
    require_columns(assignments, ASSIGNMENT_COLUMNS, "assignments")
    names = sorted(pd.unique(assignments["experiment"].dropna()), key=str)
    if experiment is None or experiment == "":
        if len(names) != 1:
            raise ValueError(
                f"the assignments hold {len(names)} experiments {names}; name the one to analyse"
            )
        experiment = names[0]
    if experiment not in names:
        raise ValueError(f"experiment {experiment!r} is not in the assignments; they hold {names}")
    rows = assignments.loc[assignments["experiment"] == experiment, "variant"].dropna()
    variants = tuple(sorted(pd.unique(rows), key=str))
    if len(variants) < 2:
        raise ValueError(f"experiment {experiment!r} has the variants {list(variants)}; "
                         "an analysis needs at least two")  # fmt: skip
    if control is not None and control != "":
        if control not in variants:
            raise ValueError(f"control {control!r} is not a variant of experiment {experiment!r}; "
                             f"its variants are {list(variants)}")  # fmt: skip
        return ExperimentChoice(experiment, control, variants, "given")
    if "control" in variants:
        return ExperimentChoice(experiment, "control", variants, "named control")
    return ExperimentChoice(experiment, variants[0], variants, "first alphabetically")
