"""Telco churn ROC AUC: a regression test of the benchmark's headline figure, not a check of
correctness.

It refits both models of ``benchmarks/telco_churn.py`` (logistic regression with C by inner CV,
LightGBM at fixed settings) with the benchmark's own functions on its folds (seed 0, 5 folds)
and compares each fold's ROC AUC, their mean and their standard deviation with the figures
the benchmark printed. ROC AUC does not depend on the Platt calibration (a strictly increasing
map), so the test fits the model the calibrated one wraps (`seed_roc_aucs`) and skips the
calibration fits; the benchmark checks that both give the same ROC AUC
(``seed_0_max_abs_diff_from_calibrated``, 0.0 in the run below).

Printed figures: ``OPENBLAS_NUM_THREADS=1 python benchmarks/telco_churn.py``, December 6, 2026
(``models.<model>.calibrated.roc_auc``), 5 decimals. Tolerance: half a unit of the fifth
decimal, so the test passes exactly when our value rounds to the printed one (plus 1e-12 for
the binary representation of the printed decimal). One pair of customers ranked the other way
round moves a fold's ROC AUC by 1 / (374 churners x 1,035 others) = 2.6e-6, so the test notices
about two such swaps in a fold.
"""

import numpy as np
import pytest
import telco_churn as bench

pytestmark = [pytest.mark.real_data, pytest.mark.regression]

PRINTED_ROC_AUC = {
    "logistic_regression": {"per_fold": [0.85544, 0.81873, 0.85278, 0.84423, 0.8553],
                            "mean": 0.8453, "std": 0.01554},
    "lightgbm": {"per_fold": [0.85482, 0.82395, 0.85245, 0.84112, 0.8539],
                 "mean": 0.84525, "std": 0.01313},
}  # fmt: skip
HALF_UNIT = 0.5e-5 + 1e-12  # half a unit of the printed fifth decimal


@pytest.fixture(scope="module")
def telco():
    if not bench.DEFAULT_DATA.is_file():
        pytest.skip(f"{bench.DEFAULT_DATA} is absent")
    telco = bench.load(bench.DEFAULT_DATA)
    return telco[list(bench.FEATURES)], telco[bench.TARGET].to_numpy(int)


@pytest.mark.parametrize("name", list(PRINTED_ROC_AUC))
def test_roc_auc_on_the_benchmark_folds_is_the_printed_one(telco, name):
    X, y = telco
    values = np.array(bench.seed_roc_aucs(name, bench.design_matrix(name, X), y, bench.SEED))
    printed = PRINTED_ROC_AUC[name]
    np.testing.assert_allclose(values, printed["per_fold"], rtol=0, atol=HALF_UNIT)
    assert values.mean() == pytest.approx(printed["mean"], rel=0, abs=HALF_UNIT)
    assert values.std(ddof=1) == pytest.approx(printed["std"], rel=0, abs=HALF_UNIT)
