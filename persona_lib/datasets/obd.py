"""Loader for the Open Bandit Dataset (OBD) sample, read in place; nothing is downloaded.

Layout under ``root`` (as shipped with obp; Saito et al. 2021, arXiv:2008.07146)::

    <root>/<behavior_policy>/<campaign>/<campaign>.csv      logged rounds
    <root>/<behavior_policy>/<campaign>/item_context.csv    one row per item
    <root>/SHA256SUMS                                       optional integrity check

``behavior_policy`` is ``"random"`` (uniform) or ``"bts"`` (Bernoulli Thompson sampling);
``campaign`` is ``"all"`` (80 items), ``"men"`` (34) or ``"women"`` (46). A round is one item
shown in one of three slots (``position`` 1-3 in the file, 0-based here) with a ``click`` and
``propensity_score``, the logging policy's probability of showing that item in that slot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BEHAVIOR_POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
N_POSITIONS = 3  # left, centre, right slot of ZOZOTOWN's recommendation interface
USER_FEATURES = tuple(f"user_feature_{i}" for i in range(4))
_LOG_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score", *USER_FEATURES)
_AFFINITY_PREFIX = "user-item_affinity_"


@dataclass(frozen=True, eq=False)
class OpenBanditData:
    """One OBD log as arrays (n = number of logged rounds).

    Attributes
    ----------
    behavior_policy, campaign : str
    action : numpy.ndarray of int64, shape (n,)
        ``item_id`` shown, ``0 .. n_actions - 1``.
    position : numpy.ndarray of int64, shape (n,)
        0-based slot (the file's 1-3 minus one).
    reward : numpy.ndarray of float64, shape (n,)
        Click (0 / 1).
    pscore : numpy.ndarray of float64, shape (n,)
        Logging propensity of (item, slot).
    context : numpy.ndarray of float64, shape (n, n_context)
        One-hot user features (every level of ``user_feature_0..3``, sorted).
    context_names : tuple of str
        ``"user_feature_k=<hash>"`` per context column.
    user_item_affinity : numpy.ndarray of float64, shape (n, n_actions)
    ts : numpy.ndarray of datetime64[ms], shape (n,)
        Impression time, UTC.
    n_actions, n_positions : int
    item_context : pandas.DataFrame
        ``item_id`` and ``item_feature_0..3``, one row per item in ``item_id`` order.
    """

    behavior_policy: str
    campaign: str
    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    context: np.ndarray
    context_names: tuple[str, ...]
    user_item_affinity: np.ndarray
    ts: np.ndarray
    n_actions: int
    n_positions: int
    item_context: pd.DataFrame

    @property
    def n_rounds(self) -> int:
        return int(self.action.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per round: ``ts, action, position, reward, pscore`` and the user features."""
        frame = pd.DataFrame(
            {
                "ts": self.ts,
                "action": self.action,
                "position": self.position,
                "reward": self.reward,
                "pscore": self.pscore,
            }
        )
        return pd.concat(
            [frame, pd.DataFrame(self.context, columns=list(self.context_names))], axis=1
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(root: Path, files: list[Path]) -> None:
    """Check ``files`` against ``<root>/SHA256SUMS``; ValueError on a mismatch or no entry."""
    sums_path = root / "SHA256SUMS"
    if not sums_path.is_file():
        raise FileNotFoundError(f"{sums_path} is absent: cannot verify the OBD files")
    expected = {}
    for line in sums_path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            expected[Path(name.strip().lstrip("*")).as_posix().removeprefix("./")] = digest
    for path in files:
        key = path.relative_to(root).as_posix()
        if key not in expected:
            raise ValueError(f"{sums_path} has no entry for {key}")
        if _sha256(path) != expected[key]:
            raise ValueError(f"{path}: sha256 differs from {sums_path}")


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is absent")
    frame = pd.read_csv(path, index_col=0)
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return frame


def _check_range(path: Path, values: pd.Series, low: float, high: float, name: str) -> None:
    if values.isna().any():
        raise ValueError(f"{path}: {name} has missing values")
    bad = (values < low) | (values > high)
    if bad.any():
        raise ValueError(
            f"{path}: {name} must be in [{low}, {high}]; "
            f"got {values[bad].iloc[0]} at row {int(np.flatnonzero(bad.to_numpy())[0])}"
        )


def _read_items(path: Path) -> pd.DataFrame:
    items = _read_csv(path, ("item_id",))
    items = items.sort_values("item_id", ignore_index=True)
    if not np.array_equal(items["item_id"].to_numpy(), np.arange(len(items))):
        raise ValueError(f"{path}: item_id must be 0 .. n_items - 1, each once")
    return items


def load_obd(
    root: str | Path, behavior_policy: str = "random", campaign: str = "all", verify: bool = False
) -> OpenBanditData:
    """Load one OBD log (one behavior policy, one campaign) as arrays.

    Parameters
    ----------
    root : path
        The folder holding ``random/`` and ``bts/`` (e.g. ``../shared/data/obd``).
    behavior_policy : {"random", "bts"}
    campaign : {"all", "men", "women"}
    verify : bool
        Check both files against ``<root>/SHA256SUMS`` first.

    Returns
    -------
    OpenBanditData

    Raises
    ------
    FileNotFoundError
        A file is absent.
    ValueError
        Unknown policy or campaign, missing columns, values out of range, checksum mismatch.

    Examples
    --------
    >>> data = load_obd("../shared/data/obd", "random", "men")  # doctest: +SKIP
    >>> data.n_actions, data.n_rounds  # doctest: +SKIP
    (34, 10000)
    """
    if behavior_policy not in BEHAVIOR_POLICIES:
        raise ValueError(
            f"behavior_policy must be one of {BEHAVIOR_POLICIES}; got {behavior_policy!r}"
        )
    if campaign not in CAMPAIGNS:
        raise ValueError(f"campaign must be one of {CAMPAIGNS}; got {campaign!r}")
    root = Path(root)
    folder = root / behavior_policy / campaign
    log_path, items_path = folder / f"{campaign}.csv", folder / "item_context.csv"
    if verify:
        verify_checksums(root, [log_path, items_path])
    items = _read_items(items_path)
    log = _read_csv(log_path, _LOG_COLUMNS)
    n_actions = len(items)
    _check_range(log_path, log["item_id"], 0, n_actions - 1, "item_id")
    _check_range(log_path, log["position"], 1, N_POSITIONS, "position")
    _check_range(log_path, log["click"], 0, 1, "click")
    pscore = log["propensity_score"]
    _check_range(log_path, pscore, 0, 1, "propensity_score")
    if (pscore <= 0).any():
        raise ValueError(f"{log_path}: propensity_score must be > 0")
    affinity = [f"{_AFFINITY_PREFIX}{i}" for i in range(n_actions)]
    missing = [c for c in affinity if c not in log.columns]
    if missing:
        raise ValueError(f"{log_path}: missing columns {missing[:3]} ... ({len(missing)} in all)")
    users = log[list(USER_FEATURES)].astype(str)
    one_hot = pd.get_dummies(users, prefix_sep="=", dtype=float)
    ts = pd.to_datetime(log["timestamp"], utc=True).dt.tz_localize(None).astype("datetime64[ms]")
    return OpenBanditData(
        behavior_policy=behavior_policy,
        campaign=campaign,
        action=log["item_id"].to_numpy(dtype=np.int64),
        position=log["position"].to_numpy(dtype=np.int64) - 1,
        reward=log["click"].to_numpy(dtype=float),
        pscore=pscore.to_numpy(dtype=float),
        context=one_hot.to_numpy(),
        context_names=tuple(one_hot.columns),
        user_item_affinity=log[affinity].to_numpy(dtype=float),
        ts=ts.to_numpy(),
        n_actions=n_actions,
        n_positions=N_POSITIONS,
        item_context=items,
    )
