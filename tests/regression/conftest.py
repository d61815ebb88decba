"""Puts ``benchmarks/`` and ``tests/`` on ``sys.path`` for the regression tests.

The regression tests import the benchmarks' own functions (``import telco_churn``), so that they
check what the benchmark computes, not a copy of it, and ``tolerances``. pytest runs with
``--import-mode=importlib``, which adds no directory itself; this conftest is imported before
the modules beside it are collected. Appended: neither folder shadows an installed package.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT / "benchmarks", ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
