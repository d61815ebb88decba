"""Reports: charts, headline metrics, the notebook runner, offline HTML export and the CLI."""

from persona_lib.report.metrics import read_metrics, record_metrics

__all__ = ["read_metrics", "record_metrics"]
