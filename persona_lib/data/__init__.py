"""Persona's data layer: the schema of every log table, validation with one-line errors, the
user's own logs, the serving-policy protocol, atomic file writes and keyed random numbers.

The bottom layer: it imports no other persona_lib package.
"""

from persona_lib.data.constants import AD_CATEGORIES, DAYS_PER_MONTH, PRICES, Z95
from persona_lib.data.io import write_json, write_parquet, write_text
from persona_lib.data.logs import load_events, load_table
from persona_lib.data.policies import (
    ROW_NAMES,
    Page,
    PageRequest,
    PopularityGenrePolicy,
    ServingPolicy,
    UniformArtworkMixin,
)
from persona_lib.data.schema import (
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
    NO_ARTWORK,
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
    "ARTWORK_ATTRIBUTES",
    "BILLING_STATUSES",
    "COUNTRIES",
    "Column",
    "DAYS_PER_MONTH",
    "DEVICES",
    "EVENT_TYPES",
    "GENRES",
    "KINDS",
    "LANGUAGES",
    "MATURITIES",
    "MAX_DWELL_MS",
    "MAX_WATCH_S",
    "NO_ARTWORK",
    "PLANS",
    "PRICES",
    "Page",
    "PageRequest",
    "PopularityGenrePolicy",
    "ROW_NAMES",
    "SchemaError",
    "ServingPolicy",
    "TABLES",
    "TS_UNIT",
    "TableSpec",
    "UniformArtworkMixin",
    "WINDOWED_TS",
    "canonical_dtype",
    "load_events",
    "load_table",
    "validate",
    "validate_world",
    "write_json",
    "write_parquet",
    "write_text",
    "Z95",
]
