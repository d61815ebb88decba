"""Open Bandit Dataset off-policy estimates against obp: a regression test of the benchmark's
headline figure, not a check of correctness.

``benchmarks/obd_ope.py``'s headline is that every estimator of
`persona_lib.evaluation.ope` gives obp 0.5.7's value on the same arrays. This test builds the
same six cases (each campaign's BTS logs evaluated for the uniform-random policy, and for a
random Dirichlet policy) with the benchmark's functions, runs obp's estimators on them in the
benchmark's obp env (`make_obp_python`: kept in the user's cache folder, built on the first
run) and compares. It fails, and never skips, when obp cannot be installed: the cross-check is
the figure under test.

Tolerance: both sides evaluate the same float64 formulas, perhaps summed in another order, so
FLOAT64 (tests/tolerances.py: rtol 1e-9, atol 1e-12); the benchmark's last run measured
differences below 3e-18 on estimates of about 0.005.
"""

import subprocess

import numpy as np
import obd_ope as bench
import pytest
from tolerances import FLOAT64

pytestmark = [pytest.mark.real_data, pytest.mark.regression]


@pytest.fixture(scope="module")
def cases():
    if not (bench.DEFAULT_DATA / "SHA256SUMS").is_file():
        pytest.skip(f"{bench.DEFAULT_DATA} is absent")
    return bench.crosscheck_cases(bench.DEFAULT_DATA)


def obp_python():
    """The obp env's python; fails the calling test (never skips it) when obp cannot be
    installed."""
    try:
        return bench.make_obp_python()
    except (subprocess.SubprocessError, OSError) as error:
        detail = getattr(error, "stderr", None) or ""
        pytest.fail(f"obp {bench.OBP_VERSION} could not be installed in "
                    f"{bench.obp_env_dir()}: {error} {detail}", pytrace=False)  # fmt: skip


def test_every_estimator_equals_obp_on_the_same_arrays(cases):
    theirs = bench.obp_values(cases, obp_python())
    ours = bench.our_values(cases)
    assert set(ours) == set(theirs) == set(bench.OBP_ESTIMATORS)
    assert len(cases) == 6
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], **FLOAT64, err_msg=name)


def test_the_cases_are_not_degenerate(cases):
    # a check that compares zeros with zeros would pass for any estimator
    ours = bench.our_values(cases)
    assert all(0 < v < 0.05 for values in ours.values() for v in values)
    assert len({round(v, 12) for values in ours.values() for v in values}) > len(ours)
