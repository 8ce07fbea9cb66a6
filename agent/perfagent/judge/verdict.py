"""The verdict of `perfagent check` (and of the gate's check mode), as objects.

`check` finds this machine's baseline (exit 3 before measuring anything when there is
none), measures the suite with the confirmation policy of `judge.confirm` (or takes a
results file), decides per benchmark with `judge.stats`, and returns the `Outcome`
that the reports render and whose `exit_code` is the verdict. Nothing here prints
the verdict or writes artifacts: the command and the gate do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent import results
from perfagent.errors import UsageError
from perfagent.judge import stats
from perfagent.judge.confirm import measure_and_confirm
from perfagent.judge.drift import priors_for
from perfagent.judge.machine_drift import reference_drift, tolerance_for, without_reference
from perfagent.judge.resolution import for_comparison
from perfagent.measure.reference import NAME as REFERENCE
from perfagent.reports import report

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.judge.stats import Comparison
    from perfagent.machine.fingerprint import Fingerprint
    from perfagent.measure.progress import Progress


@dataclass
class Target:
    """What is being checked: its fingerprint, suite, metric (and results when given)."""

    fingerprint_id: str
    hardware: dict[str, Any]
    suite: str
    metric: str
    fingerprint: Fingerprint | None = None
    results: pyperf.BenchmarkSuite | None = None


@dataclass
class CheckResult:
    """A finished check: the outcome (verdict and reasons) and the head results judged."""

    outcome: report.Outcome
    head: pyperf.BenchmarkSuite
    store_location: str

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code


def target_from_results(head: pyperf.BenchmarkSuite, settings: Settings) -> Target:
    """A results file speaks for itself; plain pyperf output is taken as this machine's."""
    fingerprint_id = results.fingerprint_id(head)
    hardware = results.hardware(head)
    fingerprint = None
    if fingerprint_id is None or hardware is None:
        from perfagent.machine.fingerprint import collect

        fingerprint = collect()
        fingerprint_id = fingerprint_id or fingerprint.id
        hardware = hardware or fingerprint.hardware
    return Target(
        fingerprint_id=fingerprint_id,
        hardware=hardware,
        suite=results.suite_name(head) or Path(settings.suite).resolve().name,
        metric=results.metric(head),
        fingerprint=fingerprint,
        results=head,
    )


def target_from_machine(settings: Settings) -> Target:
    """This machine, measuring the suite of `settings`."""
    from perfagent.machine.fingerprint import collect
    from perfagent.measure.suite import load_suite

    suite_path = Path(settings.suite).resolve()
    if not suite_path.is_dir():
        load_suite(suite_path)  # raises the suite loader's own error (exit 2)
    fingerprint = collect()
    return Target(
        fingerprint_id=fingerprint.id,
        hardware=fingerprint.hardware,
        suite=suite_path.name,
        metric=settings.metric,
        fingerprint=fingerprint,
    )


def check(
    settings: Settings,
    *,
    results_file: Path | None = None,
    patterns: list[str] | None = None,
    commit: str | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    accept_drift: bool = False,
    strict: bool = False,
) -> CheckResult:
    """Judge this machine's suite (or `results_file`) against its stored baseline.

    Raises NoComparableBaseline (exit 3) without a baseline of this fingerprint, suite
    and metric, UsageError (exit 2) on bad input; `say` receives progress messages
    (the confirmation runs), None to stay quiet. When the reference workload moved
    between the baseline and now, the outcome's exit code is 3 (the machine changed)
    unless `accept_drift`. With `strict`, an inconclusive benchmark fails like a
    regression.
    """
    from perfagent.judge.history import check_notes
    from perfagent.measure.runner import detect_commit, loops_from
    from perfagent.measure.suite import load_suite
    from perfagent.store import open_store
    from perfagent.store.lookup import find_baseline, require_metric

    baseline_store = open_store(settings.store)
    if results_file is not None:
        target = target_from_results(results.load(results_file), settings)
    else:
        target = target_from_machine(settings)

    # The baseline first: without one there is no point in measuring anything.
    baseline = find_baseline(baseline_store, target.fingerprint_id, target.hardware, target.suite)
    require_metric(
        baseline,
        target.metric,
        fingerprint_id=target.fingerprint_id,
        suite=target.suite,
        location=baseline_store.location,
    )

    # Like the baseline, the output directory is checked before anything is measured.
    report.ensure_output_dir(settings.output_dir)
    notes: list[str] = []
    confirmations: dict[str, int] = {}
    # A one-run baseline says nothing of run-to-run drift: the store's history does. The
    # machine drift guard always asks it, since a few runs cannot bound the reference.
    history, history_label = priors_for(baseline_store, target.fingerprint_id, target.suite)
    one_run = len(results.run_ids(baseline)) == 1
    priors, drift_history = (history, history_label) if one_run else ({}, "")
    all_base = results.samples_by_name(baseline)
    # The reference workload measures the machine, never the code: not judged as code.
    base_samples = without_reference(all_base)
    if results_file is not None:
        head = target.results
        assert head is not None
        comparison = stats.compare(
            base_samples,
            without_reference(results.samples_by_name(head)),
            settings.threshold_for,
            drift_priors=priors,
        )
        if comparison.suspects:
            notes.append(
                f"results taken from {results_file}: benchmarks beyond the threshold were "
                "not measured again"
            )
    else:
        loaded = load_suite(settings.suite)
        selected = loaded.select(patterns)
        if patterns:
            # Benchmarks left out on purpose are not "missing" from this check.
            chosen = {spec.name for spec in selected}
            base_samples = {name: s for name, s in base_samples.items() if name in chosen}
        head, comparison = measure_and_confirm(
            loaded,
            selected,
            settings,
            base_samples,
            commit=commit or detect_commit(),
            fingerprint=target.fingerprint,
            progress=progress,
            confirmations=confirmations,
            say=say,
            drift_priors=priors,
            loops=loops_from(baseline),
        )

    require_common(comparison, baseline_store.location, target.suite)
    all_head = results.samples_by_name(head)
    drift = reference_drift(
        all_base, all_head, tolerance_for(settings.threshold), history.get(REFERENCE)
    )
    resolutions = for_comparison(comparison, base_samples, all_head)
    # Beside the verdict: a step or creep among the newest baselines that no single gate caught.
    notes += check_notes(baseline_store, target.fingerprint_id, target.suite)
    outcome = report.Outcome(
        comparison=comparison,
        threshold=settings.threshold,
        metric=target.metric,
        suite=target.suite,
        fingerprint=target.fingerprint_id,
        base=report.Side(
            "baseline",
            _baseline_location(baseline, baseline_store.location),
            results.commit(baseline),
            len(results.run_ids(baseline)),
        ),
        head=report.Side(
            "current",
            str(results_file) if results_file else "this run",
            results.commit(head),
            len(results.run_ids(head)),
        ),
        software_changes=report.software_changes(
            results.software(baseline), results.software(head)
        ),
        confirmation_runs=confirmations,
        notes=[*notes, *settings.loosening_refused()],
        base_samples=base_samples,
        head_samples=results.samples_by_name(head),
        hardware=target.hardware,
        # Every threshold in effect is named on the last line and in the summary.
        thresholds=settings.thresholds_in_effect(),
        drift_history=drift_history,
        resolutions=resolutions,
        machine_drift=drift,
        drift_accepted=accept_drift,
        strict=strict,
    )
    return CheckResult(outcome=outcome, head=head, store_location=baseline_store.location)


def require_common(comparison: Comparison, store_location: str, suite: str) -> None:
    """UsageError (exit 2) when no measured benchmark is in the baseline."""
    if comparison.decisions:
        return
    raise UsageError(
        f"none of the measured benchmarks is in the baseline of suite '{suite}' in "
        f"{store_location} (baseline: {', '.join(comparison.only_in_base) or 'none'}); "
        "store a new baseline with `perfagent baseline`"
    )


def _baseline_location(baseline: pyperf.BenchmarkSuite, store_location: str) -> str:
    return str(baseline.filename) if baseline.filename else store_location
