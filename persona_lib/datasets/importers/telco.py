"""IBM Telco customer churn as a folder of logs: members and a monthly billing history.

See `import_telco` for the mapping and the reconstruction of the billing rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.data.published import PublishedFigure
from persona_lib.data.schema import TS_UNIT
from persona_lib.datasets.importers.publish import (
    DEFAULT_COUNTRY,
    DEFAULT_DEVICE,
    DEFAULT_LANGUAGE,
    ImportResult,
    check_target,
    publish_tables,
    source_file,
)
from persona_lib.datasets.telco import TARGET, TELCO_FILE, load_telco

__all__ = [
    "PUBLISHED_CHURNERS",
    "TELCO_END",
    "import_telco",
    "telco_plans",
    "telco_published",
    "telco_tables",
]

TELCO_END = "2018-01-01"  # the file has no dates: an assumed end of the data (a month's start)
NOTEBOOK = "04_churn_retention"  # the notebook whose metrics hold the published figure's value
PUBLISHED_CHURNERS = (1_869, 7_043)  # customers with Churn = Yes, and all, in the full file
_REFERENCE = (
    "shared/data/README.md: IBM Telco Customer Churn sample, 7,043 customers, churn 26.54 % "
    "(1,869 with Churn = Yes; the share quoted wherever the file is used)"
)


def telco_plans(customers: pd.DataFrame) -> np.ndarray:
    """persona's plan of each customer, from the streaming services bought.

    ``premium``: StreamingTV and StreamingMovies; ``standard``: one of them; ``basic``:
    internet without streaming; ``ads``: no internet service (phone only). In the IBM file the
    mean MonthlyCharges rise in that order, as persona's plan prices do (ads 21.08, basic
    60.90, standard 77.08, premium 93.24 USD).

    Examples
    --------
    >>> telco_plans(pd.DataFrame({"StreamingTV": ["Yes"], "StreamingMovies": ["No"],
    ...                           "InternetService": ["DSL"]}))
    array(['standard'], dtype='<U8')
    """
    tv = customers["StreamingTV"].astype(str).to_numpy() == "Yes"
    movies = customers["StreamingMovies"].astype(str).to_numpy() == "Yes"
    internet = customers["InternetService"].astype(str).to_numpy() != "No"
    return np.select([tv & movies, tv | movies, internet], ["premium", "standard", "basic"], "ads")


def _month_starts(end: pd.Timestamp, months_before: np.ndarray) -> np.ndarray:
    """``end`` minus each number of calendar months (``end`` is the first day of a month)."""
    month = np.datetime64(end.strftime("%Y-%m"), "M") - np.asarray(months_before, np.int64)
    return month.astype(f"datetime64[{TS_UNIT}]")


def _billing(customers: pd.DataFrame, plan: np.ndarray, end: pd.Timestamp) -> pd.DataFrame:
    tenure = customers["tenure"].to_numpy(np.int64)
    churned = customers[TARGET].to_numpy(bool)
    rows = tenure + churned  # paid months, then the churned renewal
    user = np.repeat(np.arange(len(customers)), rows)
    k = np.arange(rows.sum()) - np.repeat(np.cumsum(rows) - rows, rows)  # month of the spell
    start = np.repeat(rows, rows)  # months from the first row to the end
    status = np.where(k == 0, "new", "renewed").astype(object)
    status[k == np.repeat(tenure, rows)] = "churned"  # only churners have a row k = tenure
    return pd.DataFrame(
        {
            "user_id": user.astype(np.int32),
            "period_start": _month_starts(end, start - k),
            "plan": plan[user],
            "price": customers["MonthlyCharges"].to_numpy(np.float32)[user],
            "status": status,
        }
    )


def _users(customers: pd.DataFrame, plan: np.ndarray, end: pd.Timestamp) -> pd.DataFrame:
    months = customers["tenure"].to_numpy(np.int64) + customers[TARGET].to_numpy(bool)
    users = pd.DataFrame(
        {
            "user_id": np.arange(len(customers), dtype=np.int32),
            "signup_ts": _month_starts(end, months),
            "country": DEFAULT_COUNTRY,
            "language": DEFAULT_LANGUAGE,
            "plan": plan,
            "price": customers["MonthlyCharges"].to_numpy(np.float32),
            "preferred_device": DEFAULT_DEVICE,
        }
    )
    return pd.concat([users, customers.reset_index(drop=True)], axis=1)


def telco_tables(customers: pd.DataFrame, end: str = TELCO_END) -> dict[str, pd.DataFrame]:
    """persona's ``users`` and ``billing`` of the loaded Telco customers (`load_telco`'s frame).

    The mapping is `import_telco`'s; this is its in-memory half (no file is read or written).

    Examples
    --------
    >>> tables = telco_tables(load_telco("../shared/data/telco/" + TELCO_FILE))
    ... # doctest: +SKIP
    >>> len(tables["users"])  # doctest: +SKIP
    7043
    """
    stamp = pd.Timestamp(end)
    if stamp != stamp.normalize() or stamp.day != 1 or stamp.tzinfo is not None:
        raise ValueError(f"end must be the first day of a month at 00:00 (UTC), got {end!r}")
    plan = telco_plans(customers)
    return {
        "users": _users(customers, plan, stamp),
        "billing": _billing(customers, plan, stamp),
    }


def telco_published(customers: pd.DataFrame) -> list[PublishedFigure]:
    """The figure published from the full Telco file that a notebook computes: the churn share.

    26.54 % of the 7,043 customers have ``Churn`` Yes. After the import each of them has one
    ``churned`` billing row and nobody else has any, so notebook 04's ``members_churned_pct``
    (members with a churned or payment_failed row, over all members) is the same share. A file
    with other counts (a sample, an edited copy) gets none: ``[]``. The ROC AUCs published for
    this file (about 0.84-0.85, models on the customers' own columns) are not included: 04's
    churn models read viewing features and do not run on these logs.

    Examples
    --------
    >>> telco_published(load_telco("WA_Fn-UseC_-Telco-Customer-Churn.csv"))[0].value
    ... # doctest: +SKIP
    26.54
    """
    churners, members = PUBLISHED_CHURNERS
    if len(customers) != members or int(customers[TARGET].sum()) != churners:
        return []
    label = "customers who left (Churn = Yes), share of all 7,043"
    return [PublishedFigure(NOTEBOOK, "members_churned_pct", label, 26.54, 2, "%", _REFERENCE)]


def import_telco(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    end: str = TELCO_END,
    format: str = "parquet",  # noqa: A002 - the word users type (`persona import --format`)
    force: bool = False,
) -> ImportResult:
    """Import the IBM Telco customer churn file: members and a monthly billing history.

    Each customer (a row of the file, read by `persona_lib.datasets.load_telco`) becomes a
    member, ``user_id`` in file order. The file has no dates, only ``tenure`` (months with the
    company), ``MonthlyCharges`` and ``Churn`` ("left within the last month"), so the billing
    history is reconstructed against an assumed data end `end` (default `TELCO_END`,
    2018-01-01, exclusive); months are calendar months and every ``period_start`` is the
    first day of a month at 00:00 UTC:

    - a customer who stayed (Churn No) with tenure T paid the T months before `end`: rows at
      `end` - T, ..., `end` - 1 month, the first ``new``, the others ``renewed``;
    - a churner (Churn Yes) paid T months and declined the renewal in the last month: paid
      rows at `end` - T - 1, ..., `end` - 2 months, then a ``churned`` row at `end` - 1 month.
      As in persona's billing log, a churned row is the renewal that was not paid (it carries
      the price, not revenue);
    - tenure 0 (11 customers in the file, none churned, TotalCharges blank): no billing row.

    ``signup_ts`` is the first row's month (`end` - T - [churned] months; tenure 0: `end`), so
    a spell's length is the customer's tenure in months and churn is observed only in the
    last month, as in the file. Every row carries the customer's ``plan`` (`telco_plans`: by
    the streaming services bought) and ``price`` = ``MonthlyCharges`` (USD), the same every
    month: the file has one monthly charge, so price changes over the tenure are lost (the
    sum of the paid rows is 0.007 % below the file's TotalCharges). ``Contract``
    (month-to-month, one or two years) does not change the rows: every contract is billed
    monthly at MonthlyCharges. Assumed: ``country`` US, ``language`` en, ``preferred_device``
    web. Every column of the file is kept on ``users`` as an extra column under its own name
    (``customerID``, ``Contract``, ``Churn``, ...; ``TotalCharges`` 0.0 where blank, flagged
    by ``TotalChargesBlank``). No events, titles or notifications: analyses of billing,
    retention and lifetime value can run (04's churn and retention sections, 06's revenue and
    lifetime value); what reads viewing cannot. For the full file the folder also holds
    ``published.json`` with the churn share published for it, 26.54 % (`telco_published`),
    which 04 sets beside the share of members it finds with a ``churned`` row.

    Parameters
    ----------
    src : str or os.PathLike
        The CSV, or the folder holding ``WA_Fn-UseC_-Telco-Customer-Churn.csv``; only read.
    out : str or os.PathLike
        The folder of logs to write (new or empty; replaced as a whole with `force`).
    end : str
        The data end: the first day of a month (``YYYY-MM-01``).
    format : {"parquet", "csv"}
    force : bool
        Replace an `out` folder that holds files.

    Returns
    -------
    ImportResult
        The IBM file: 7,043 users; billing: one row per month of tenure plus one per churner.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A malformed file (file, column and lines named), `end` not a month's first day, or an
        unknown `format`.
    FileExistsError
        `out` holds files and `force` is False.

    Examples
    --------
    >>> import_telco("../shared/data/telco", "telco_logs").rows  # doctest: +SKIP
    """
    check_target(Path(out), force)
    path = source_file(src, TELCO_FILE)
    customers = load_telco(path)
    tables = telco_tables(customers, end)
    return publish_tables(
        tables,
        out,
        source="telco",
        files={path.name: path},
        parameters={"end": str(pd.Timestamp(end).date())},
        file_format=format,
        force=force,
        published=telco_published(customers),
    )
