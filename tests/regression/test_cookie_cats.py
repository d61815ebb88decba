"""Cookie Cats A/B test: a regression test of the benchmark's headline figure, not a check of
correctness.

Every figure that ``../shared/data/README.md`` gives for the Cookie Cats test, computed by
``benchmarks/cookie_cats.py``'s own functions, must round to the figure as printed there:
retention_7 19.02 % (gate_30, n = 44,700) vs 18.20 % (gate_40, n = 45,489), difference
-0.82 pp, 95 % CI about (-1.33, -0.31), two-sided p about 0.0016, sample-ratio chi-square 6.90
with p 0.0086. Tolerance: half a unit of each figure's last printed digit (0.005 pp, 0.00005
for the p-values, 0.005 for the chi-square), as the benchmark's ``REFERENCE`` states; the
counts match exactly. The bootstrap of game rounds is not a README figure and is not run.
"""

import cookie_cats as bench
import pytest

pytestmark = [pytest.mark.real_data, pytest.mark.regression]

README_FIGURES = {
    "n_gate_30": (44_700, 0),
    "n_gate_40": (45_489, 0),
    "retention_7_gate_30_pct": (19.02, 0.005),
    "retention_7_gate_40_pct": (18.20, 0.005),
    "retention_7_difference_pp": (-0.82, 0.005),
    "retention_7_ci95_low_pp": (-1.33, 0.005),
    "retention_7_ci95_high_pp": (-0.31, 0.005),
    "retention_7_p_value": (0.0016, 0.00005),
    "srm_chi_square": (6.90, 0.005),
    "srm_p_value": (0.0086, 0.00005),
}


@pytest.fixture(scope="module")
def figures():
    if not bench.DEFAULT_DATA.is_file():
        pytest.skip(f"{bench.DEFAULT_DATA} is absent")
    return bench.reference_figures(bench.load(bench.DEFAULT_DATA))


def test_the_benchmark_checks_the_readme_figures():
    assert bench.REFERENCE == README_FIGURES


@pytest.mark.parametrize("name", list(README_FIGURES))
def test_each_readme_figure_is_reproduced_to_its_printed_precision(figures, name):
    printed, tolerance = README_FIGURES[name]
    if tolerance == 0:
        assert figures[name] == printed
    else:  # 1e-12: the printed decimal has no exact binary value
        assert figures[name] == pytest.approx(printed, rel=0, abs=tolerance + 1e-12)
