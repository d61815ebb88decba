import numpy as np
import pandas as pd
import pytest
from tolerances import CLOSED_FORM

from persona_lib.signals import monthly_churn, renewal_loss_probability


def billing(rows):
    frame = pd.DataFrame(rows, columns=["user_id", "period_start", "status"])
    frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ms]")
    frame["status"] = pd.Categorical(
        frame["status"], categories=["new", "renewed", "churned", "payment_failed", "reactivated"]
    )
    return frame


def test_monthly_churn_counts_only_renewal_decisions():
    table = monthly_churn(
        billing(
            [
                (0, "2025-01-03", "renewed"),
                (1, "2025-01-09", "churned"),
                (2, "2025-01-10", "new"),
                (3, "2025-01-20", "payment_failed"),
                (4, "2025-01-21", "renewed"),
                (0, "2025-02-03", "renewed"),
                (4, "2025-02-21", "reactivated"),
            ]
        )
    ).set_index("month")
    assert table.loc["2025-01", "renewals"] == 4
    assert table.loc["2025-01", "churn_rate"] == pytest.approx(0.5)
    assert table.loc["2025-01", "involuntary_share"] == pytest.approx(0.5)
    assert table.loc["2025-02", "churn_rate"] == 0
    assert pd.isna(table.loc["2025-02", "involuntary_share"])
    assert table.loc["all", "renewals"] == 5
    assert table.loc["all", "churn_rate"] == pytest.approx(0.4)


def test_renewal_loss_probability_by_hand_and_as_the_complement_of_keeping():
    h = np.array([0.0, 0.1, 0.0, 1.0, 0.3])
    f = np.array([0.0, 0.5, 0.2, 0.4, 1.0])
    p = renewal_loss_probability(h, f)
    np.testing.assert_allclose(p, [0.0, 0.55, 0.2, 1.0, 1.0], **CLOSED_FORM)
    np.testing.assert_allclose(p, 1 - (1 - h) * (1 - f), **CLOSED_FORM)
    assert ((p >= np.maximum(h, f)) & (p <= 1)).all()
    # the simulator's float32 tables are computed in float64
    h32, f32 = h.astype(np.float32), f.astype(np.float32)
    p32 = renewal_loss_probability(h32, pd.Series(f32))
    assert p32.dtype == np.float64
    np.testing.assert_array_equal(
        p32, renewal_loss_probability(h32.astype(float), f32.astype(float))
    )
