"""reports/units.py: values and axes in pyperf's units, scaled for reading."""

from __future__ import annotations

import pytest
from perfagent.reports.units import axis_scale, format_quantity


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.5, "second", "1.5 s"),
        (0.00123, "second", "1.23 ms"),
        (4.56e-6, "second", "4.56 us"),
        (7e-10, "second", "0.7 ns"),
        # Rounding up to the next scale: 999.6 us reads as 1 ms, not "1e+03 us".
        (0.0009996, "second", "1 ms"),
        (0.0009994, "second", "999 us"),
        (1234567.0, "integer", "1,234,567"),
        (2048.0, "byte", "2,048 B"),
        (float("nan"), "second", "nan"),
    ],
)
def test_format_quantity(value: float, unit: str, expected: str) -> None:
    assert format_quantity(value, unit) == expected


def test_axis_scale_follows_the_typical_value() -> None:
    # One outlier of 2 s does not put milliseconds on a seconds axis.
    assert axis_scale("second", [0.002, 0.003, 0.0025, 2.0]) == (1e-3, "ms")
    assert axis_scale("second", [5e-8]) == (1e-9, "ns")
    assert axis_scale("integer", [1e6]) == (1.0, "instructions")
    assert axis_scale("second", []) == (1.0, "s")
