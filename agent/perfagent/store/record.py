"""`perfagent baseline` as objects: measure the suite N times, pool the runs, store them.

Nothing is written until every run has succeeded, and the store's write is atomic, so
a failed, interrupted or killed run leaves the previous baseline as it was. The
command and the gate's baseline mode both call `record_baseline`; they print what it
returns, nobody parses printed text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfagent import results
from perfagent.errors import PerfAgentError

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.judge.resolution import Resolution
    from perfagent.measure.progress import Progress
    from perfagent.store.base import BaselineStore, StoredBaseline


@dataclass(frozen=True)
class RecordedBaseline:
    """A baseline just stored: where, for which machine and suite, from how many runs."""

    stored: StoredBaseline
    baseline: pyperf.BenchmarkSuite
    fingerprint: str
    suite: str
    runs: int
    commit: str | None
    store_location: str
    # What a check against this baseline can see, per benchmark (judge.resolution).
    resolutions: tuple[Resolution, ...] = ()
    # Why the machine was unfit, when the baseline was stored anyway (--force).
    forced_over: tuple[str, ...] = ()

    def describe(self) -> str:
        """The line `perfagent baseline` prints last."""
        return (
            f"Baseline stored: {self.stored.location} (fingerprint {self.fingerprint}, suite "
            f"{self.suite}, {self.stored.benchmarks} benchmarks, {self.runs} run(s), "
            f"commit {(self.commit or 'unknown')[:12]})"
        )


def record_baseline(
    settings: Settings,
    *,
    commit: str | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    force: bool = False,
) -> RecordedBaseline:
    """Measure `settings.baseline_runs` runs of the suite and store them as this
    machine's baseline in `settings.store`; StoreError before measuring when the store
    cannot be written.

    For the time metric the machine must be fit (`machine.fitness`: load and processes
    on the benchmark CPUs before measuring; the reference workload against the stored
    baseline's after): otherwise UnfitMachine (exit 5) says why and nothing is stored,
    unless `force`.
    """
    from perfagent.machine.fingerprint import collect
    from perfagent.measure.runner import benchmark_cpus, detect_commit, run_suite
    from perfagent.measure.suite import load_suite
    from perfagent.store import open_store

    loaded = load_suite(settings.suite)
    fingerprint = collect()
    baseline_store = open_store(settings.store)
    # Fail on an unwritable store now, not after an hour of measuring.
    baseline_store.ensure_writable(fingerprint.id, loaded.name)
    commit = commit or detect_commit()
    timed = settings.metric == "time"
    forced_over: list[str] = []
    if timed:
        from perfagent.machine.fitness import unfit_reasons

        forced_over += _refuse_unless(force, unfit_reasons(benchmark_cpus(settings)), say)

    total = settings.baseline_runs
    suite_runs = []
    for index in range(1, total + 1):
        if say is not None and total > 1:
            say(f"Baseline run {index} of {total}")
        suite_runs.append(
            run_suite(
                loaded,
                list(loaded.benchmarks),
                settings,
                commit=commit,
                progress=progress,
                fingerprint=fingerprint,
            )
        )
    pooled = results.merge(suite_runs)
    if timed:
        previous = _history(baseline_store, fingerprint.id, loaded.name)
        forced_over += _refuse_unless(force, _reference_reasons(previous, pooled, settings), say)
    stored = baseline_store.write(fingerprint.id, loaded.name, pooled)
    return RecordedBaseline(
        stored=stored,
        baseline=pooled,
        fingerprint=fingerprint.id,
        suite=loaded.name,
        runs=total,
        commit=commit,
        store_location=baseline_store.location,
        resolutions=_resolutions(pooled, settings),
        forced_over=tuple(forced_over),
    )


def _refuse_unless(force: bool, reasons: list[str], say: Callable[[str], None] | None) -> list[str]:
    """UnfitMachine naming `reasons`, unless forced (then a warning, and the reasons)."""
    if not reasons:
        return []
    if not force:
        from perfagent.errors import UnfitMachine

        raise UnfitMachine(
            "not storing a baseline: this machine is not fit to measure now: "
            + "; ".join(reasons)
            + ". Measure again on a quiet machine, or store it anyway with --force"
        )
    if say is not None:
        for reason in reasons:
            say(f"warning: storing the baseline anyway (--force): {reason}")
    return reasons


def _history(store: BaselineStore, fingerprint: str, suite: str) -> pyperf.BenchmarkSuite | None:
    """Every stored baseline of this machine and suite (current and archived), pooled:
    each of their runs is one more level of the reference workload on this machine."""
    found = []
    for entry in store.entries(archived=True):
        if entry.fingerprint != fingerprint or entry.suite != suite or entry.error is not None:
            continue
        try:
            stored = results.load(entry.location)
            if results.metric(stored) == "time":  # counts have no reference workload
                found.append(stored)
        except PerfAgentError:
            continue  # an unreadable archive entry is `baselines list`'s to report
    if not found:
        return None
    try:
        return results.merge(found)
    except PerfAgentError:
        return found[-1]


def _reference_reasons(
    previous: pyperf.BenchmarkSuite | None, pooled: pyperf.BenchmarkSuite, settings: Settings
) -> list[str]:
    """The reference workload well off the store's history of it: the machine changed."""
    if previous is None:
        return []
    from perfagent.judge.machine_drift import reference_drift, tolerance_for

    drift = reference_drift(
        results.samples_by_name(previous),
        results.samples_by_name(pooled),
        tolerance_for(settings.threshold),
    )
    if drift is None or not drift.moved:
        return []
    return [drift.describe("the stored baselines", "this one")]


def _resolutions(pooled: pyperf.BenchmarkSuite, settings: Settings) -> tuple[Resolution, ...]:
    """What a check (one run like this baseline's first) against it can see."""
    from perfagent.judge.machine_drift import without_reference
    from perfagent.judge.resolution import stored_baseline

    found = []
    for name, samples in without_reference(results.samples_by_name(pooled)).items():
        groups = [g for g in samples.groups.values() if g]
        if not groups or sum(map(len, groups)) < 3:
            continue
        found.append(
            stored_baseline(
                name, groups, [], settings.threshold_for(name), head_processes=len(groups[0])
            )
        )
    return tuple(found)
