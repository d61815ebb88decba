"""Public data sets, read in place and never downloaded: MovieLens, Open Bandit Dataset, Telco
customer churn, Cookie Cats. Each loader documents its source, its columns and what it checks;
each importer (`persona_lib.datasets.importers`, ``persona import``) writes one as a folder of
logs in persona's schema and documents how it maps and what is lost or assumed.
"""

from persona_lib.datasets.cookie_cats import (
    CONTROL,
    COOKIE_CATS_FILE,
    RETENTION_COLUMNS,
    TREATMENT,
    load_cookie_cats,
)
from persona_lib.datasets.importers import (
    IMPORTERS,
    ImportResult,
    import_cookie_cats,
    import_movielens,
    import_obd,
    import_telco,
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
    "IMPORTERS",
    "ImportResult",
    "NUMERIC_COLUMNS",
    "RETENTION_COLUMNS",
    "TARGET",
    "TELCO_FILE",
    "TREATMENT",
    "import_cookie_cats",
    "import_movielens",
    "import_obd",
    "import_telco",
    "load_cookie_cats",
    "load_movielens",
    "load_obd",
    "load_telco",
]
