"""The history of a suite's baselines on one machine: series and change points.

Every `perfagent baseline` replaces the current baseline and archives the old one,
so the store holds, per hardware fingerprint and suite, a time series of baselines.
Per benchmark its baseline means form a series; e-divisive means
(`perfagent.judge.changepoints`) finds where the level of that series changed, which
catches a slowdown that crept in a few percent at a time, each step under the gate.

The same analysis feeds `perfagent history` (table, JSON, and the PNG plot of
`reports.plot`) and the notes of `perfagent check` (`recent_change_points`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent import results
from perfagent.errors import NoComparableBaseline, PerfAgentError, UsageError
from perfagent.judge.changepoints import ChangePoint, e_divisive

if TYPE_CHECKING:
    import pyperf

    from perfagent.store import BaselineStore, StoredBaseline

# `perfagent check` mentions change points whose new level starts among this many
# newest baselines: older ones have been reported before.
RECENT_BASELINES = 10
# A significant change smaller than this (percent) is not flagged: on a quiet machine
# (or with instruction counts) e-divisive finds 0.5% steps too, which nobody acts on.
MIN_CHANGE_PERCENT = 2.0
# The newest this many baselines are analysed at most: enough for years of main-branch
# baselines, and it bounds the permutation test's cost (quadratic in the length).
MAX_BASELINES = 200


@dataclass(frozen=True)
class Point:
    """One benchmark in one baseline: the mean and spread of its process means."""

    position: int  # index into SuiteHistory.baselines
    mean: float
    stdev: float
    processes: int


@dataclass(frozen=True)
class Shift:
    """A change point of one benchmark, with where it is in the store's history."""

    benchmark: str
    unit: str
    change: ChangePoint  # indices refer to the benchmark's own points
    baseline: StoredBaseline  # the first baseline at the new level
    position: int  # that baseline's index into SuiteHistory.baselines
    latest: float  # the newest baseline's mean
    flagged: bool  # large enough to act on (MIN_CHANGE_PERCENT)

    @property
    def shift_percent(self) -> float:
        """The step between the segment means on either side, in percent."""
        return self.change.shift * 100.0

    @property
    def drift_percent(self) -> float:
        """The newest baseline against the level before the change, in percent."""
        if not self.change.before:
            return math.inf
        return (self.latest / self.change.before - 1.0) * 100.0

    def describe(self) -> str:
        """One line for a report: what changed, from which baseline on, and how much."""
        return (
            f"{self.benchmark}: change point at baseline {_label(self.baseline)}: "
            f"{signed_percent(self.shift_percent)} step between the levels before and after "
            f"(p={self.change.p_value:.3f}), {signed_percent(self.drift_percent)} drift from the "
            "level before it to the newest baseline"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "position": self.position,
            "commit": self.baseline.commit,
            "date": self.baseline.date.isoformat() if self.baseline.date else None,
            "location": self.baseline.location,
            "p_value": self.change.p_value,
            "before": self.change.before,
            "after": self.change.after,
            "latest": self.latest,
            "shift_percent": self.shift_percent,
            "drift_percent": self.drift_percent,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class BenchmarkHistory:
    """One benchmark's baseline means in time order and the change points found."""

    name: str
    unit: str
    points: list[Point]
    shifts: list[Shift] = field(default_factory=list)

    @property
    def flagged(self) -> list[Shift]:
        return [s for s in self.shifts if s.flagged]

    @property
    def total_percent(self) -> float | None:
        """The newest baseline against the oldest, in percent."""
        if len(self.points) < 2 or not self.points[0].mean:
            return None
        return (self.points[-1].mean / self.points[0].mean - 1.0) * 100.0

    def to_dict(self, baselines: Sequence[StoredBaseline]) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "points": [
                {
                    "position": p.position,
                    "commit": baselines[p.position].commit,
                    "date": _iso(baselines[p.position].date),
                    "mean": p.mean,
                    "stdev": p.stdev,
                    "processes": p.processes,
                }
                for p in self.points
            ],
            "total_percent": self.total_percent,
            "change_points": [s.to_dict() for s in self.shifts],
        }


@dataclass(frozen=True)
class SuiteHistory:
    """The baselines of one fingerprint and suite, oldest first, and each benchmark's series."""

    fingerprint: str
    suite: str
    store: str
    metric: str
    baselines: list[StoredBaseline]
    benchmarks: list[BenchmarkHistory]
    skipped: list[str] = field(default_factory=list)  # why baselines were left out

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "suite": self.suite,
            "store": self.store,
            "metric": self.metric,
            "baselines": [b.to_dict() for b in self.baselines],
            "benchmarks": [b.to_dict(self.baselines) for b in self.benchmarks],
            "skipped": self.skipped,
        }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def signed_percent(percent: float) -> str:
    return f"{percent:+.1f}%"


def _label(baseline: StoredBaseline) -> str:
    parts = []
    if baseline.date:
        parts.append(baseline.date.strftime("%Y-%m-%d %H:%M"))
    if baseline.commit:
        parts.append(f"commit {baseline.commit[:12]}")
    return " ".join(parts) or Path(baseline.location).name


# --- reading ------------------------------------------------------------------------


def _time_order(entry: StoredBaseline) -> tuple[int, datetime]:
    # The current baseline is the newest by definition, whatever its clock said.
    return (0 if entry.archived else 1, entry.date or datetime.min.replace(tzinfo=UTC))


def load_baselines(
    store: BaselineStore, fingerprint: str, suite: str, *, last: int | None = None
) -> tuple[list[tuple[StoredBaseline, pyperf.BenchmarkSuite]], list[str]]:
    """The readable baselines of one fingerprint and suite, oldest first, and what was
    skipped (unreadable files, another metric than the newest baseline's)."""
    entries = [
        e for e in store.entries(archived=True) if e.fingerprint == fingerprint and e.suite == suite
    ]
    entries.sort(key=_time_order)
    entries = entries[-(last or MAX_BASELINES) :]
    skipped = [f"{e.location}: {e.error}" for e in entries if e.error]
    loaded: list[tuple[StoredBaseline, pyperf.BenchmarkSuite]] = []
    for entry in entries:
        if entry.error:
            continue
        try:
            loaded.append((entry, results.load(entry.location)))
        except PerfAgentError as exc:
            skipped.append(f"{entry.location}: {exc}")
    if loaded:
        # A series mixing seconds and instruction counts means nothing.
        metric = loaded[-1][0].metric
        kept = [(e, s) for e, s in loaded if e.metric == metric]
        skipped += [
            f"{e.location}: metric '{e.metric}', not the newest baseline's '{metric}'"
            for e, _ in loaded
            if e.metric != metric
        ]
        loaded = kept
    return loaded, skipped


def build_history(
    store: BaselineStore,
    fingerprint: str,
    suite: str,
    *,
    patterns: Sequence[str] | None = None,
    last: int | None = None,
    min_change_percent: float = MIN_CHANGE_PERCENT,
) -> SuiteHistory:
    """Each benchmark's baseline means over time, and its change points.

    Raises NoComparableBaseline when the store has no baseline for this fingerprint
    and suite, UsageError when a pattern matches no benchmark of the history.
    """
    from perfagent.measure.suite import name_matches

    loaded, skipped = load_baselines(store, fingerprint, suite, last=last)
    if not loaded:
        raise NoComparableBaseline(
            f"no baseline for fingerprint {fingerprint} and suite '{suite}' in store "
            f"{store.location} (`perfagent baselines list --all` shows what is stored)"
        )
    baselines = [entry for entry, _ in loaded]
    series: dict[str, tuple[str, list[Point]]] = {}
    for position, (_, baseline) in enumerate(loaded):
        for name, samples in results.samples_by_name(baseline).items():
            means = samples.process_means
            if not means:
                continue
            _, points = series.setdefault(name, (samples.unit, []))
            points.append(
                Point(
                    position=position,
                    mean=statistics.fmean(means),
                    stdev=statistics.stdev(means) if len(means) > 1 else 0.0,
                    processes=len(means),
                )
            )
    names = list(series)
    for pattern in patterns or []:
        if not any(name_matches(n, pattern) for n in names):
            raise UsageError(
                f"benchmark pattern {pattern!r} matches nothing in the baselines of suite "
                f"'{suite}' (benchmarks: {', '.join(names)})"
            )
    if patterns:
        names = [n for n in names if any(name_matches(n, p) for p in patterns)]
    benchmarks = [_analyse(name, *series[name], baselines, min_change_percent) for name in names]
    return SuiteHistory(
        fingerprint=fingerprint,
        suite=suite,
        store=store.location,
        metric=baselines[-1].metric or "time",
        baselines=baselines,
        benchmarks=benchmarks,
        skipped=skipped,
    )


def _analyse(
    name: str,
    unit: str,
    points: list[Point],
    baselines: Sequence[StoredBaseline],
    min_change_percent: float,
) -> BenchmarkHistory:
    changes = e_divisive([p.mean for p in points])
    latest = points[-1].mean
    shifts = [
        Shift(
            benchmark=name,
            unit=unit,
            change=change,
            baseline=baselines[points[change.index].position],
            position=points[change.index].position,
            latest=latest,
            flagged=abs(change.shift) * 100.0 >= min_change_percent,
        )
        for change in changes
    ]
    return BenchmarkHistory(name=name, unit=unit, points=points, shifts=shifts)


def recent_change_points(
    store: BaselineStore,
    fingerprint_id: str,
    suite: str,
    last_n: int = RECENT_BASELINES,
) -> list[Shift]:
    """Flagged change points whose new level starts among the newest `last_n` baselines.

    For the check report: the analysis runs over the whole archive (a level needs
    the baselines before it), only recent changes are returned. No baseline means
    no change point (the check reports the missing baseline itself).
    """
    try:
        history = build_history(store, fingerprint_id, suite)
    except NoComparableBaseline:
        return []
    first_recent = len(history.baselines) - last_n
    return [
        shift
        for benchmark in history.benchmarks
        for shift in benchmark.flagged
        if shift.position >= first_recent
    ]


def check_notes(
    store: BaselineStore, fingerprint_id: str, suite: str, last_n: int = RECENT_BASELINES
) -> list[str]:
    """The lines `perfagent check` adds to its report about recent change points.

    The trend is advice beside the gate's verdict: a store that cannot be read for
    it becomes a note, never a failed check.
    """
    try:
        shifts = recent_change_points(store, fingerprint_id, suite, last_n)
    except PerfAgentError as exc:
        return [f"baseline history not analysed: {exc}"]
    return [
        f"{shift.describe()}; see `perfagent history -b {shift.benchmark} --plot history.png`"
        for shift in shifts
    ]
