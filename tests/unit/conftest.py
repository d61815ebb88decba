"""Makes ``tests/tolerances.py`` importable as ``tolerances`` in every unit test module.

pytest runs with ``--import-mode=importlib``, which puts no test directory on ``sys.path``;
pytest imports a directory's conftest.py before collecting the modules beneath it, so the
path is in place before any ``from tolerances import FLOAT32``. Appended, not prepended: the
test directories never shadow an installed package.
"""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.append(TESTS)
