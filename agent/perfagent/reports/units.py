"""Quantities in pyperf's units, scaled for reading: a value in a table, an axis of a plot."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# pyperf's unit "second" shown in the largest scale a value reaches.
_TIME_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))


def format_quantity(value: float, unit: str) -> str:
    """A value in pyperf's unit, scaled for reading: 1.23 ms, 4,567,890 instr."""
    if not math.isfinite(value):
        return str(value)
    if unit == "second":
        for scale, suffix in _TIME_SCALES:
            # 0.9995 rather than 1: 999.6 us shows as 1 ms, not as "1e+03 us".
            if abs(value) >= scale * 0.9995 or suffix == "ns":
                return f"{value / scale:.3g} {suffix}"
    if unit == "integer":
        return f"{value:,.0f}"
    if unit == "byte":
        return f"{value:,.0f} B"
    return f"{value:.4g}"


def axis_scale(unit: str, values: Sequence[float]) -> tuple[float, str]:
    """(factor, label) for an axis over `values`: one scale for all its ticks, chosen by
    the typical value so that an outlier does not turn the rest into 0.00."""
    if unit == "second":
        finite = [abs(v) for v in values if math.isfinite(v)]
        typical = statistics.median(finite) if finite else 1.0
        for factor, suffix in _TIME_SCALES:
            if typical >= factor:
                return factor, suffix
        return _TIME_SCALES[-1]
    if unit == "integer":
        return 1.0, "instructions"
    return 1.0, unit
