"""The machine drift guard: did the machine change between the baseline and this check?

Every worker process measures the reference workload (`measure.reference`), which does
not depend on the code under test. Its ratio check/baseline is decided like any
benchmark's (`stats.decide`, run groups and all); the machine is said to have drifted
when that interval lies wholly above or below 1 and the change exceeds TOLERANCE: beyond
the reference's own noise, and large enough to matter against a threshold of 10%.
Its own noise is run-to-run noise: with a baseline of two or three runs, a t interval
on one or two degrees of freedom could not see even a tenfold change, so the store's
history of the reference (every stored run of this machine and suite, `judge/drift.py`)
gives the run-to-run variance whenever it rests on more runs than the comparison.
A check on a drifted machine does not call the code's change a regression: it exits 3
and says by how much the machine moved, unless the user accepts the drift.

The same test keeps a baseline honest: `baseline` refuses to store results whose
reference is well off the one already stored for this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perfagent.judge.stats import (
    DRIFT_HISTORY,
    DRIFT_MEASURED,
    Comparison,
    Decision,
    DriftPrior,
    decide,
)
from perfagent.measure.reference import NAME as REFERENCE
from perfagent.results import Samples

# Percent the reference may move before the machine counts as changed (at least).
TOLERANCE = 5.0


def tolerance_for(threshold: float) -> float:
    """The drift tolerance for a check at `threshold` percent: half of it, at least 5%.

    A machine that moved by less than half the threshold cannot by itself carry an
    unchanged benchmark over the threshold; a smaller tolerance would withhold verdicts
    on ordinary shared machines for drifts that cannot matter.
    """
    return max(TOLERANCE, threshold / 2.0)


@dataclass(frozen=True)
class Drift:
    """The reference workload's change between two sides."""

    ratio: float  # now / then
    low: float
    high: float
    tolerance: float  # percent
    # where the run-to-run noise it is judged against came from (stats.DRIFT_*)
    noise_source: str = DRIFT_MEASURED

    @property
    def moved(self) -> bool:
        limit = 1.0 + self.tolerance / 100.0
        return (self.low > 1.0 and self.ratio > limit) or (
            self.high < 1.0 and self.ratio < 1.0 / limit
        )

    @property
    def change_percent(self) -> float:
        return (self.ratio - 1.0) * 100.0

    def describe(self, then: str = "the baseline", now: str = "this check") -> str:
        direction = "slower" if self.ratio > 1.0 else "faster"
        return (
            f"the machine changed between {then} and {now}: its reference workload "
            f"({REFERENCE}, independent of the code) runs {abs(self.change_percent):.1f}% "
            f"{direction} (95% interval {self.low:.3f}-{self.high:.3f}x, tolerance "
            f"{self.tolerance:g}%{self._noise_text()})"
        )

    def _noise_text(self) -> str:
        if self.noise_source == DRIFT_HISTORY:
            return ", run-to-run noise from the store's history"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "low": self.low,
            "high": self.high,
            "tolerance_percent": self.tolerance,
            "moved": self.moved,
            "noise_source": self.noise_source,
        }


def reference_drift(
    then: Mapping[str, Samples],
    now: Mapping[str, Samples],
    tolerance: float = TOLERANCE,
    history: DriftPrior | None = None,
) -> Drift | None:
    """The reference's drift from `then` to `now`; None when either side lacks it.

    `history` is the reference's run-to-run variance in the store (`drift.from_history`),
    used when it rests on more runs than the two sides hold.
    """
    if REFERENCE not in then or REFERENCE not in now:
        return None
    decision: Decision = decide(
        REFERENCE,
        list(then[REFERENCE].groups.values()),
        list(now[REFERENCE].groups.values()),
        tolerance,
        drift_prior=history,
    )
    return Drift(
        ratio=decision.ratio,
        low=decision.low,
        high=decision.high,
        tolerance=tolerance,
        noise_source=decision.drift_source,
    )


def explains(drift: Drift, decision: Decision) -> bool:
    """Whether the machine's change could account for this benchmark's regression.

    Divided by the most the machine may have slowed (the top of the reference's
    interval), is the benchmark's lower bound still beyond its threshold? Then the code
    changed, whatever the machine did: a threefold slowdown is not excused by 6% drift.
    """
    return decision.low / max(drift.high, 1.0) <= 1.0 + decision.threshold / 100.0


def withholds(drift: Drift | None, comparison: Comparison) -> bool:
    """Whether a moved machine leaves the verdict unjudgeable (exit 3).

    A faster machine can hide a regression as well as a slower one can fake one, so a
    pass is withheld too; only regressions beyond what the drift explains stand.
    """
    if drift is None or not drift.moved:
        return False
    regressions = comparison.regressions
    return not regressions or any(explains(drift, d) for d in regressions)


def without_reference(samples: Mapping[str, Samples]) -> dict[str, Samples]:
    """The suite's own benchmarks: the reference is never judged as code."""
    return {name: s for name, s in samples.items() if name != REFERENCE}
