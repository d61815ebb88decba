"""Importers of public data sets into persona's schema: each writes a folder of logs that
``persona validate`` and ``persona run --data`` read, and says in its docstring how the source
maps onto persona's tables and what is lost or assumed.

- `import_movielens`: ratings -> ``play_start`` events, movies -> titles, members -> users.
- `import_obd`: Open Bandit rounds -> impressions (and clicks) of items at positions, with
  their logging ``propensities``.
- `import_telco`: customers -> users with a monthly ``billing`` history reconstructed from
  tenure, charges and churn.
- `import_cookie_cats`: players -> users, their gate variant -> ``assignments``, retention and
  rounds played -> ``outcomes``.

`IMPORTERS` maps the names ``persona import`` takes to them. Each writes atomically (a
temporary folder, validated with `persona_lib.data.validate_folder`, then renamed) and refuses a
non-empty output folder unless ``force=True``.
"""

from persona_lib.datasets.importers.cookie_cats import (
    COOKIE_CATS_ASSIGNED,
    EXPERIMENT,
    cookie_cats_tables,
    import_cookie_cats,
)
from persona_lib.datasets.importers.movielens import (
    FALLBACK_GENRE,
    MOVIELENS_GENRES,
    import_movielens,
    movielens_tables,
)
from persona_lib.datasets.importers.obd import import_obd, obd_tables
from persona_lib.datasets.importers.publish import (
    FORMATS,
    IMPORT_MANIFEST,
    ImportResult,
    publish_tables,
)
from persona_lib.datasets.importers.telco import (
    TELCO_END,
    import_telco,
    telco_plans,
    telco_tables,
)

IMPORTERS = {
    "movielens": import_movielens,
    "obd": import_obd,
    "telco": import_telco,
    "cookie-cats": import_cookie_cats,
}

__all__ = [
    "COOKIE_CATS_ASSIGNED",
    "EXPERIMENT",
    "FALLBACK_GENRE",
    "FORMATS",
    "IMPORTERS",
    "IMPORT_MANIFEST",
    "ImportResult",
    "MOVIELENS_GENRES",
    "TELCO_END",
    "cookie_cats_tables",
    "import_cookie_cats",
    "import_movielens",
    "import_obd",
    "import_telco",
    "movielens_tables",
    "obd_tables",
    "publish_tables",
    "telco_plans",
    "telco_tables",
]
