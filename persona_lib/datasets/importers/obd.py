"""Open Bandit Dataset logs as a folder: impressions of items at positions, clicks, propensities.

See `import_obd` for the mapping onto persona's tables and what is lost or assumed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from persona_lib.data.published import PublishedFigure
from persona_lib.data.schema import NO_ARTWORK
from persona_lib.datasets.importers.publish import (
    FREE_PLAN,
    ImportResult,
    check_target,
    publish_tables,
)
from persona_lib.datasets.obd import USER_FEATURES, OpenBanditData, load_obd

__all__ = [
    "FULL_DATA_CTR_PCT",
    "OBD_COUNTRY",
    "OBD_DEVICE",
    "OBD_GENRE",
    "OBD_LANGUAGE",
    "import_obd",
    "obd_published",
    "obd_tables",
]

OBD_COUNTRY, OBD_LANGUAGE = "JP", "ja"  # ZOZOTOWN is a Japanese fashion e-commerce site
OBD_DEVICE = "web"  # not recorded in OBD: assumed
OBD_GENRE = "Drama"  # items have no genre; the schema needs one: the same placeholder for all
# Saito et al. 2021, Table 1: CTR (%) of the random and the Bernoulli TS policy on the FULL data
FULL_DATA_CTR_PCT = {"all": (0.35, 0.50), "men": (0.51, 0.67), "women": (0.48, 0.64)}
TABLE_1 = "Saito et al. 2021, Open Bandit Dataset and Pipeline, arXiv:2008.07146, Table 1"
# notebook 03's figures the published ones are put beside (its "Off-policy value of item
# policies" section): the DR estimate of the uniform-random item policy's CTR, and the CTR the
# logging policy logged in the imported folder, both in %
NOTEBOOK = "03_artwork_personalization"
UNIFORM_ESTIMATE_KEY = "item_uniform_dr_ctr_pct"
LOGGED_CTR_KEY = "item_logged_ctr_pct"


def _row_id(data: OpenBanditData) -> str:
    return f"obd:{data.campaign}"


def _user_features(data: OpenBanditData) -> pd.DataFrame:
    """The hashed ``user_feature_0..3`` of each round, decoded from the one-hot context."""
    names = np.asarray(data.context_names, dtype=object)
    out = {}
    for feature in USER_FEATURES:
        columns = np.flatnonzero([name.startswith(feature + "=") for name in names])
        levels = np.array([name.split("=", 1)[1] for name in names[columns]], dtype=object)
        out[feature] = levels[data.context[:, columns].argmax(axis=1)]
    return pd.DataFrame(out)


def _titles(data: OpenBanditData) -> pd.DataFrame:
    items = data.item_context.reset_index(drop=True)
    n = len(items)
    item = items["item_id"].to_numpy()
    year = pd.Timestamp(data.ts.min()).year  # the log's own year (a placeholder)
    titles = pd.DataFrame(
        {
            "title_id": item.astype(np.int32),
            "name": [f"ZOZOTOWN item {i}" for i in item],
            "kind": "movie",
            "genres": OBD_GENRE,
            "language": OBD_LANGUAGE,
            "release_year": np.full(n, year, np.int16),
            "runtime_min": np.ones(n, np.int16),
            "n_episodes": np.ones(n, np.int16),
            "maturity": "all",
            "synopsis": [f"OBD item {i} of the {data.campaign} campaign" for i in item],
        }
    )
    features = items.drop(columns="item_id")
    return pd.concat([titles, features], axis=1)


def _users(data: OpenBanditData, order: np.ndarray) -> pd.DataFrame:
    n = data.n_rounds
    users = pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int32),
            "signup_ts": data.ts[order],
            "country": OBD_COUNTRY,
            "language": OBD_LANGUAGE,
            "plan": FREE_PLAN,
            "price": np.zeros(n, np.float32),
            "preferred_device": OBD_DEVICE,
        }
    )
    return pd.concat([users, _user_features(data).iloc[order].reset_index(drop=True)], axis=1)


def _events(data: OpenBanditData, order: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Impressions (and clicks right after them) in time order; propensities of impressions."""
    clicked = data.reward[order] > 0
    rounds = np.arange(data.n_rounds)
    # one impression per round, then its click: the event's round and whether it is the click
    round_of = np.repeat(rounds, 1 + clicked)
    is_click = np.zeros(len(round_of), dtype=bool)
    is_click[np.cumsum(1 + clicked) - 1] = clicked
    n = len(round_of)
    events = pd.DataFrame(
        {
            "event_id": np.arange(n, dtype=np.int32),
            "ts": data.ts[order][round_of],
            "user_id": round_of.astype(np.int32),
            "session_id": round_of.astype(np.int32),
            "device": OBD_DEVICE,
            "event_type": np.where(is_click, "click", "impression"),
            "title_id": data.action[order][round_of].astype(np.int32),
            "artwork_id": np.full(n, NO_ARTWORK, np.int32),
            "row_id": _row_id(data),
            "row_position": np.zeros(n, np.int8),
            "col_position": data.position[order][round_of].astype(np.int8),
            "dwell_ms": np.zeros(n, np.uint16),
            "watch_s": np.full(n, np.nan, np.float32),
        }
    )
    impressions = np.flatnonzero(~is_click)
    propensities = pd.DataFrame(
        {
            "event_id": impressions.astype(np.int32),
            "pscore": data.pscore[order].astype(np.float32),
        }
    )
    return events, propensities


def _load(root: Path, policy: str, campaign: str, files: dict[str, Path]) -> OpenBanditData:
    """`load_obd`, with a file that pandas cannot parse named in the error."""
    try:
        return load_obd(root, policy, campaign, verify=(root / "SHA256SUMS").is_file())
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        failed = next((p for p in files.values() if not _parses(p)), root / policy / campaign)
        raise ValueError(f"{failed}: cannot read as CSV: {error}") from error


def _exact_decimals(value: float) -> int:
    """The fewest decimals (2 to 6) that print `value` exactly (6 when none does)."""
    return next((d for d in range(2, 7) if abs(round(value, d) - value) < 1e-12), 6)


def _sample_reference(random_logs: OpenBanditData) -> PublishedFigure:
    """The CTR the uniform-random policy logged in the sample's random logs of the campaign."""
    clicks, n = int(random_logs.reward.sum()), random_logs.n_rounds
    ci = binomtest(clicks, n).proportion_ci(0.95, method="exact")
    value = 100 * clicks / n
    decimals = _exact_decimals(value)
    campaign = random_logs.campaign
    return PublishedFigure(
        NOTEBOOK, UNIFORM_ESTIMATE_KEY,
        f"CTR of the uniform-random policy in this sample's random/{campaign} logs, on-policy: "
        f"{clicks:,} clicks in {n:,} rounds (exact 95 % CI {100 * ci.low:.2f} % to "
        f"{100 * ci.high:.2f} %)",
        round(value, decimals), decimals, "%",
        f"computed at import from random/{campaign}/{campaign}.csv of the same OBD root: the "
        "on-policy value that Saito et al. 2021 compare off-policy estimates with",
    )  # fmt: skip


def obd_published(policy: str, campaign: str, n_rounds: int,
                  random_logs: OpenBanditData | None = None) -> list[PublishedFigure]:  # fmt: skip
    """The figures ``published.json`` of an OBD import holds (see `import_obd`).

    Parameters
    ----------
    policy, campaign : str
        The imported log's.
    n_rounds : int
        Its number of rounds (said in the full-data figures' labels).
    random_logs : OpenBanditData, optional
        The random logs of the same campaign, for a ``bts`` import (their on-policy CTR).
    """
    random_pct, bts_pct = FULL_DATA_CTR_PCT[campaign]
    sample = f"full OBD data, not this {n_rounds:,}-round sample"
    uniform_full = PublishedFigure(
        NOTEBOOK, UNIFORM_ESTIMATE_KEY if policy == "bts" else LOGGED_CTR_KEY,
        f"CTR of the uniform-random policy, {campaign} campaign ({sample})", random_pct, 2, "%",
        TABLE_1,
    )  # fmt: skip
    if policy != "bts":
        return [uniform_full]
    bts_full = PublishedFigure(
        NOTEBOOK, LOGGED_CTR_KEY,
        f"CTR of the Bernoulli TS policy, {campaign} campaign ({sample})", bts_pct, 2, "%",
        TABLE_1,
    )  # fmt: skip
    reference = [] if random_logs is None else [_sample_reference(random_logs)]
    return [*reference, uniform_full, bts_full]


def _parses(path: Path) -> bool:
    try:
        pd.read_csv(path, index_col=0)
    except (ValueError, UnicodeDecodeError):  # ParserError and EmptyDataError are ValueErrors
        return False
    return True


def obd_tables(data: OpenBanditData) -> dict[str, pd.DataFrame]:
    """persona's ``titles``, ``users``, ``events`` and ``propensities`` of one loaded OBD log.

    The mapping is `import_obd`'s; this is its in-memory half (no file is read or written).

    Examples
    --------
    >>> tables = obd_tables(load_obd("../shared/data/obd", "random", "men"))  # doctest: +SKIP
    >>> len(tables["propensities"])  # doctest: +SKIP
    10000
    """
    order = np.argsort(data.ts, kind="stable")
    events, propensities = _events(data, order)
    return {
        "titles": _titles(data),
        "users": _users(data, order),
        "events": events,
        "propensities": propensities,
    }


def import_obd(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    policy: str = "random",
    campaign: str = "all",
    format: str = "parquet",  # noqa: A002 - the word users type (`persona import --format`)
    force: bool = False,
) -> ImportResult:
    """Import one Open Bandit Dataset log (one logging policy, one campaign).

    OBD (Saito et al. 2021) logs ZOZOTOWN's recommendation widget: in each round the logging
    policy (``random``: uniform; ``bts``: Bernoulli Thompson sampling) showed one item in one of
    three slots, with its probability of doing so and whether it was clicked. Mapping:

    - ``events``: per round, in time order, an ``impression`` of the item (``title_id`` =
      OBD's ``item_id``) at ``row_position`` 0 and ``col_position`` = OBD's ``position`` - 1
      (the three slots: 0, 1, 2), ``row_id`` ``obd:<campaign>``; a clicked round adds a
      ``click`` of the same tile at the same ``ts`` right after it (the click is attributed
      to that impression). Timestamps are UTC, truncated to the millisecond. ``dwell_ms`` 0,
      no ``watch_s``, ``artwork_id`` -1; ``device`` `OBD_DEVICE` (web: not recorded,
      assumed).
    - ``propensities``: per impression, ``pscore`` = OBD's ``propensity_score``, the logging
      policy's probability of that item in that slot (``random``: 1 / number of items), as
      float32. This is what the off-policy estimators weigh the logged clicks by.
    - ``titles``: one per item of ``item_context.csv`` (80 / 34 / 46 for all / men / women),
      named "ZOZOTOWN item <id>", with OBD's ``item_feature_0..3`` kept as extra columns.
      Items are fashion products, so the schema's film fields are placeholders, the same for
      every item: ``kind`` movie, ``genres`` `OBD_GENRE` (Drama), ``runtime_min`` 1,
      ``n_episodes`` 1, ``maturity`` all, ``release_year`` the log's year, ``language`` ja.
    - ``users``: OBD has no user id, so each round is its own member (``user_id`` = the
      round's place in time order, ``session_id`` likewise) who joined at the round's time:
      no member has a history, and per-member analyses see one impression each. The hashed
      ``user_feature_0..3`` of the round are kept as extra columns. ``country`` JP,
      ``language`` ja; the shop is free, so ``plan`` is `FREE_PLAN` at ``price`` 0.
    - Lost: the 80 / 34 / 46 ``user-item_affinity_*`` columns of each round, and everything
      OBD does not log (plays, artworks, billing).

    This folder has no artworks (the decision OBD logs is which item fills a slot): notebook
    03's artwork sections are left out, and its section "Off-policy value of item policies"
    (`persona_lib.evaluation.ope.logged_items`) estimates the click rate of the uniform-random
    item policy from these impressions, clicks and propensities, as ``benchmarks/obd_ope.py``
    does.

    ``published.json`` (`persona_lib.data.published`) holds the figures to put beside notebook
    03's, all CTRs in %:

    - for a ``bts`` import whose root also holds ``random/<campaign>/<campaign>.csv``: the CTR
      the uniform-random policy logged itself in that sample (same week, same campaign), the
      on-policy value Saito et al. 2021 compare off-policy estimates with. It is not a figure
      published by anyone: it is computed here, from the random logs, which are read (and
      listed in the manifest) for it alone; its label gives its clicks, rounds and exact
      (Clopper-Pearson) 95 % interval, and its ``decimals`` print it exactly. It is compared
      with 03's DR estimate of that policy from the BTS logs (``item_uniform_dr_ctr_pct``;
      DR is also the estimator 03 headlines for artwork policies): they are not expected to
      agree to the printed precision (a 10,000-round estimate is not that precise), and 03's
      section puts every estimator's interval beside this value instead. Without the random
      logs this figure is left out.
    - Table 1 of Saito et al. 2021 (`FULL_DATA_CTR_PCT`): the random and the Bernoulli TS
      policy's CTR on the *full* data set, labelled as such: they are not this sample's
      figures, which differ by sampling. The random policy's is compared with 03's DR estimate
      on a ``bts`` import and with the logged CTR (``item_logged_ctr_pct``) on a ``random``
      one; the Bernoulli TS policy's with the logged CTR of a ``bts`` import (a ``random``
      import has no figure for it).

    Parameters
    ----------
    src : str or os.PathLike
        The OBD root holding ``random/`` and ``bts/`` (e.g. ``../shared/data/obd``); only read.
        When it holds ``SHA256SUMS``, every file read is checked against it first. A ``bts``
        import also reads the campaign's random logs when they are there (``published.json``).
    out : str or os.PathLike
        The folder of logs to write (new or empty; replaced as a whole with `force`).
    policy : {"random", "bts"}
        The logging policy.
    campaign : {"all", "men", "women"}
    format : {"parquet", "csv"}
    force : bool
        Replace an `out` folder that holds files.

    Returns
    -------
    ImportResult
        The sample's logs: 10,000 impressions and propensities, one member per round; the
        folder also holds ``published.json``.

    Raises
    ------
    FileNotFoundError
        A file of the log is absent (named).
    ValueError
        Unknown policy or campaign, missing columns, out-of-range values, a checksum mismatch
        (file named), or an unknown `format`.
    FileExistsError
        `out` holds files and `force` is False.

    Examples
    --------
    >>> import_obd("../shared/data/obd", "obd_bts_men", policy="bts", campaign="men").rows
    ... # doctest: +SKIP
    """
    check_target(Path(out), force)
    root = Path(src)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (the OBD root, holding random/ and bts/)")
    files = _files(root, policy, campaign)
    data = _load(root, policy, campaign, files)
    random_logs = None
    if policy == "bts" and (root / "random" / campaign / f"{campaign}.csv").is_file():
        random_files = _files(root, "random", campaign)
        random_logs = _load(root, "random", campaign, random_files)
        files |= random_files
    return publish_tables(
        obd_tables(data),
        out,
        source="obd",
        files=files,
        parameters={"policy": policy, "campaign": campaign},
        file_format=format,
        force=force,
        published=obd_published(policy, campaign, data.n_rounds, random_logs),
    )


def _files(root: Path, policy: str, campaign: str) -> dict[str, Path]:
    """A log's two files by their name relative to `root`, in read order."""
    folder = Path(policy) / campaign
    names = (str(folder / "item_context.csv"), str(folder / f"{campaign}.csv"))
    return {name: root / name for name in names}
