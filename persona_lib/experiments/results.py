"""The outcome of one A/B comparison: a frozen `TestResult` shared by every test in this package."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["TestResult"]


def _json_float(value: float) -> float | None:
    """A float JSON can carry: NaN and infinities become ``None``."""
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class TestResult:
    """Treatment minus control on one metric, with its interval and p-value.

    ``estimate = treatment_mean - control_mean`` (absolute) and ``relative_lift = estimate /
    control_mean``. ``relative_ci_low`` / ``relative_ci_high`` bound the relative lift when the
    test can compute them (delta method), else they are NaN.

    Examples
    --------
    >>> r = TestResult("ctr", 0.02, 0.01, 0.03, 0.001, 0.10, 0.12, 1000, 1000, 0.05, "z")
    >>> r.significant, round(r.relative_lift, 3)
    (True, 0.2)
    """

    __test__ = False  # the class name starts with "Test": keep pytest from collecting it

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    control_mean: float
    treatment_mean: float
    n_control: int
    n_treatment: int
    alpha: float
    method: str
    relative_ci_low: float = math.nan
    relative_ci_high: float = math.nan

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if not (math.isnan(self.p_value) or 0.0 <= self.p_value <= 1.0):
            raise ValueError(f"p_value must be in [0, 1], got {self.p_value}")
        if self.ci_low > self.ci_high:
            raise ValueError(f"ci_low {self.ci_low} is above ci_high {self.ci_high}")
        if self.n_control < 0 or self.n_treatment < 0:
            raise ValueError("sample sizes must be non-negative")

    @property
    def relative_lift(self) -> float:
        """``estimate / control_mean`` (NaN when the control mean is 0)."""
        return self.estimate / self.control_mean if self.control_mean != 0 else math.nan

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def to_dict(self) -> dict[str, object]:
        """All fields plus ``relative_lift`` and ``significant``; floats are JSON-safe."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                out[f.name] = value
            elif f.name.startswith("n_"):
                out[f.name] = int(value)
            else:
                out[f.name] = _json_float(value)
        out["relative_lift"] = _json_float(self.relative_lift)
        out["significant"] = self.significant
        return out
