"""`persona run -p ENGINE spark` in local mode: notebook 01 on Spark reports pandas' figures.

The data-signals notebook computes its funnel, session and hours tables with the engine named by
``ENGINE``; run on the smoke preset with Spark (``local[2]``) and with pandas, every recorded
figure must agree (counts exactly, rates to 1e-9). Skipped unless pyspark and Java are present.
"""

from __future__ import annotations

import json
import math

import pytest

from persona_lib.report.cli import main
from persona_lib.signals.sql.spark_engine import spark_unavailable

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(spark_unavailable() is not None, reason=str(spark_unavailable())),
]


def test_data_signals_on_spark_equal_pandas(tmp_path):
    data = tmp_path / "data"
    metrics = {}
    for engine in ("spark", "pandas"):
        out = tmp_path / engine
        argv = ["run", "--preset", "smoke", "--only", "01", "--out", str(out), "--no-progress"]
        argv += ["-p", "ENGINE", engine, "-p", "DATA_DIR", str(data)]
        assert main(argv) == 0, engine
        metrics[engine] = json.loads((out / "01_data_signals.metrics.json").read_text())
    spark, pandas = metrics["spark"], metrics["pandas"]
    assert spark.pop("engine") == "spark" and pandas.pop("engine") == "pandas"
    assert spark.keys() == pandas.keys()
    for key, value in pandas.items():
        if isinstance(value, float):
            assert math.isclose(spark[key], value, rel_tol=1e-9, abs_tol=1e-12), key
        else:
            assert spark[key] == value, key
    assert (data / "stores" / "smoke-0" / "events").is_dir()  # Spark read the event store
