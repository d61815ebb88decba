"""Reports: charts, number formats, verdict sentences, tables for reading, headline metrics, the
notebook runner, offline HTML export and the CLI."""

from persona_lib.report.metrics import read_metrics, record_metrics
from persona_lib.report.numbers import NOT_AVAILABLE, fmt, fmt_interval
from persona_lib.report.rankings import rank_sentence
from persona_lib.report.summary import headline
from persona_lib.report.tables import format_table, label, show
from persona_lib.report.verdicts import (
    Verdict,
    compare,
    estimate_sentence,
    share_above_chance,
    share_of_ceiling,
)

__all__ = [
    "NOT_AVAILABLE",
    "Verdict",
    "compare",
    "estimate_sentence",
    "fmt",
    "fmt_interval",
    "format_table",
    "headline",
    "label",
    "rank_sentence",
    "read_metrics",
    "record_metrics",
    "share_above_chance",
    "share_of_ceiling",
    "show",
]
