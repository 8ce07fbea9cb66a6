"""What a check, compare or ab found, as one object that every report renders.

Its own module so that the renderers (reports.report for text, CSV, JSON and
Markdown; reports.html for report.html) share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from perfagent.errors import ExitCode
from perfagent.judge.machine_drift import Drift
from perfagent.judge.resolution import Resolution
from perfagent.judge.stats import Comparison
from perfagent.results import Samples

STAMP = "%Y%m%d_%H%M%S"

# A software field that differs: (field, baseline's value, current value).
Change = tuple[str, object, object]


@dataclass(frozen=True)
class Side:
    """Where one side of a comparison came from."""

    label: str  # "baseline" / "current"
    location: str  # a file or a store path
    commit: str | None = None
    runs: int = 0


@dataclass(frozen=True)
class Outcome:
    """Everything a check (or compare) found, ready to be reported."""

    comparison: Comparison
    threshold: float  # the global threshold in percent (per-benchmark ones are on decisions)
    metric: str
    suite: str | None
    fingerprint: str | None
    base: Side
    head: Side
    software_changes: list[Change] = field(default_factory=list)
    confirmation_runs: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    # For report.html: the process means behind each decision (by benchmark name),
    # plotted run by run, and the hardware facts of the fingerprint.
    base_samples: Mapping[str, Samples] = field(default_factory=dict)
    head_samples: Mapping[str, Samples] = field(default_factory=dict)
    hardware: Mapping[str, Any] | None = None
    # What each benchmark's check can see (judge.resolution), by benchmark name, and
    # the reference workload's change between the sides (None: not measured).
    resolutions: Mapping[str, Resolution] = field(default_factory=dict)
    machine_drift: Drift | None = None
    # --accept-drift: judge the code even when the machine moved (the drift is reported).
    drift_accepted: bool = False
    # --strict: an inconclusive benchmark fails like a regression.
    strict: bool = False
    # Per-benchmark thresholds in effect besides the global one: (pattern, percent).
    thresholds: list[tuple[str, float]] = field(default_factory=list)
    # --all: every row of the console table, `same` ones included.
    show_all: bool = False
    # The stored baselines a drift prior came from, e.g. "4 stored baselines of <fp>/<suite>".
    drift_history: str = ""

    @property
    def regressed(self) -> bool:
        return bool(self.comparison.regressions)

    @property
    def failed_strict(self) -> bool:
        return self.strict and bool(self.comparison.inconclusive)

    @property
    def machine_changed(self) -> bool:
        """The machine moved beyond the reference's noise and the verdict is withheld."""
        from perfagent.judge.machine_drift import withholds

        return not self.drift_accepted and withholds(self.machine_drift, self.comparison)

    @property
    def exit_code(self) -> int:
        if self.machine_changed:
            # Nothing comparable: the machine, not (only) the code, changed.
            return ExitCode.NO_BASELINE
        if self.regressed or self.failed_strict:
            return ExitCode.REGRESSION
        return ExitCode.OK

    @property
    def stamp(self) -> str:
        return self.timestamp.strftime(STAMP)
