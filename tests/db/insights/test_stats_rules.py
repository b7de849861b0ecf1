"""The dashboards' arithmetic that needs no database: months, rates, the vision."""

from __future__ import annotations

from datetime import date

import pytest

from db.insights.stats import Figures, Period, VisionProgress, add_months, months_between


def _vision(credentialed: int, months: int) -> VisionProgress:
    return VisionProgress(
        target_credentialed=2_400_000,
        target_year=2030,
        credentialed=credentialed,
        credentialed_last_12_months=120,
        months_remaining=months,
        today=date(2026, 11, 24),
    )


def test_the_rate_needed_rounds_up_and_stops_at_the_target() -> None:
    assert _vision(132_368, 50).monthly_rate_needed == 45_353  # 2,267,632 / 50 = 45,352.64
    assert _vision(132_368, 50).percent == 5.5153
    assert _vision(2_400_000, 50).monthly_rate_needed == 0
    assert _vision(2_500_000, 0).monthly_rate_needed == 0
    assert _vision(2_000_000, 0).monthly_rate_needed is None  # the target year is over
    assert _vision(0, 50).recent_monthly_rate == 10.0


def test_months() -> None:
    assert months_between(date(2026, 11, 24), date(2030, 12, 1)) == 50
    assert months_between(date(2026, 1, 31), date(2026, 1, 1)) == 1
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -11) == date(2025, 2, 1)


def test_pass_rate_and_periods() -> None:
    assert Figures(0, 0, 0).pass_rate is None
    assert Figures(9, 7, 0).pass_rate == 0.7778
    with pytest.raises(ValueError, match="ends before it starts"):
        Period(date(2026, 5, 1), date(2026, 4, 1))
