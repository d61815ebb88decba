"""Persona's data layer: the schema of every log table, validation with one-line errors, the
user's own logs (one file, or a folder of them), the serving-policy protocol, atomic file writes
and keyed random numbers.

The bottom layer: it imports no other persona_lib package.
"""

from persona_lib.data.constants import AD_CATEGORIES, DAYS_PER_MONTH, PRICES, Z95
from persona_lib.data.folder import (
    FOLDER_TABLES,
    STORE_TABLES,
    FolderSummary,
    TableFile,
    TableSummary,
    find_tables,
    validate_folder,
)
from persona_lib.data.folder_logs import Logs, TruthUnavailable, load_logs, open_logs
from persona_lib.data.io import write_json, write_parquet, write_text
from persona_lib.data.logs import load_events, load_table, read_raw_table
from persona_lib.data.policies import (
    ROW_NAMES,
    Page,
    PageRequest,
    PopularityGenrePolicy,
    ServingPolicy,
    UniformArtworkMixin,
)
from persona_lib.data.sampling import sample_log
from persona_lib.data.schema import (
    ALL_TABLES,
    ARTWORK_ATTRIBUTES,
    BILLING_STATUSES,
    COUNTRIES,
    DEVICES,
    EVENT_TYPES,
    GENRES,
    KINDS,
    LANGUAGES,
    MATURITIES,
    MAX_DWELL_MS,
    MAX_WATCH_S,
    METRIC_TABLES,
    NO_ARTWORK,
    OPTIONAL_TABLES,
    PLANS,
    TABLES,
    TS_UNIT,
    WINDOWED_TS,
    Column,
    TableSpec,
    canonical_dtype,
)
from persona_lib.data.schema_errors import SchemaError
from persona_lib.data.validation import validate, validate_world

__all__ = [
    "AD_CATEGORIES",
    "ALL_TABLES",
    "ARTWORK_ATTRIBUTES",
    "BILLING_STATUSES",
    "COUNTRIES",
    "Column",
    "DAYS_PER_MONTH",
    "DEVICES",
    "EVENT_TYPES",
    "FOLDER_TABLES",
    "FolderSummary",
    "GENRES",
    "KINDS",
    "LANGUAGES",
    "Logs",
    "MATURITIES",
    "MAX_DWELL_MS",
    "MAX_WATCH_S",
    "METRIC_TABLES",
    "NO_ARTWORK",
    "OPTIONAL_TABLES",
    "PLANS",
    "PRICES",
    "Page",
    "PageRequest",
    "PopularityGenrePolicy",
    "ROW_NAMES",
    "SchemaError",
    "STORE_TABLES",
    "ServingPolicy",
    "TABLES",
    "TS_UNIT",
    "TableFile",
    "TableSpec",
    "TableSummary",
    "TruthUnavailable",
    "UniformArtworkMixin",
    "WINDOWED_TS",
    "canonical_dtype",
    "find_tables",
    "load_events",
    "load_logs",
    "open_logs",
    "sample_log",
    "load_table",
    "read_raw_table",
    "validate",
    "validate_folder",
    "validate_world",
    "write_json",
    "write_parquet",
    "write_text",
    "Z95",
]
