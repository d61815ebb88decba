"""Public data sets, read in place and never downloaded: MovieLens, Open Bandit Dataset, Telco
customer churn, Cookie Cats. Each loader documents its source, its columns and what it checks.
"""

from persona_lib.datasets.cookie_cats import (
    CONTROL,
    COOKIE_CATS_FILE,
    RETENTION_COLUMNS,
    TREATMENT,
    load_cookie_cats,
)
from persona_lib.datasets.movielens import load_movielens
from persona_lib.datasets.obd import CAMPAIGNS, load_obd
from persona_lib.datasets.telco import (
    BLANK_FLAG,
    CATEGORICAL_COLUMNS,
    NUMERIC_COLUMNS,
    TARGET,
    TELCO_FILE,
    load_telco,
)

__all__ = [
    "BLANK_FLAG",
    "CAMPAIGNS",
    "CATEGORICAL_COLUMNS",
    "CONTROL",
    "COOKIE_CATS_FILE",
    "NUMERIC_COLUMNS",
    "RETENTION_COLUMNS",
    "TARGET",
    "TELCO_FILE",
    "TREATMENT",
    "load_cookie_cats",
    "load_movielens",
    "load_obd",
    "load_telco",
]
