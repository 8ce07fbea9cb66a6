"""`perfagent check`: run the suite, compare it with this machine's baseline, gate on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from perfagent import options
from perfagent.commands.run import Commit, Processes, Quiet

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.fingerprint import Fingerprint
    from perfagent.stats import Comparison
    from perfagent.store import BaselineStore
    from perfagent.suite import Suite

ResultsFile = Annotated[
    Path | None,
    typer.Option(
        "--results",
        help="Judge this pyperf JSON (e.g. from `perfagent run -o`) instead of running the "
        "suite. Suspects are then not measured again.",
        show_default=False,
        dir_okay=False,
    ),
]
ConfirmRuns = Annotated[
    int | None,
    typer.Option(
        "--confirm-runs",
        min=0,
        help="How many times benchmarks beyond the threshold are measured again before the "
        "check fails. [default 2]",
        show_default=False,
    ),
]


def command(
    suite: options.Suite = None,
    threshold: options.Threshold = None,
    store: options.Store = None,
    output_dir: options.OutputDir = None,
    results_file: ResultsFile = None,
    benchmark: options.Patterns = None,
    metric: options.Metric = None,
    fast: options.Fast = False,
    rigorous: options.Rigorous = False,
    processes: Processes = None,
    confirm_runs: ConfirmRuns = None,
    commit: Commit = None,
    quiet: Quiet = False,
) -> None:
    """Run the suite and fail (exit 1) when a benchmark is really slower than the baseline.

    The baseline is the one stored for this machine's hardware fingerprint and this
    suite; without one the check exits 3 (and names the nearest stored machine and
    how it differs) before measuring anything. A benchmark is a regression when its
    slowdown exceeds the threshold and the 95% interval of the ratio lies above 1;
    before failing, the suspect benchmarks alone are measured again (--confirm-runs)
    so that one noisy run does not block a pull request.

    Exit codes: 0 no regression, 1 regression, 2 bad input, 3 no comparable baseline.
    Artifacts go to --output-dir: reports/, exports/, analysis/, results/, summary.md
    (also appended to $GITHUB_STEP_SUMMARY).

    Examples:

        perfagent check

        perfagent check --threshold 5 --output-dir metrics

        perfagent check --results head.json
    """
    from perfagent import report, results, stats
    from perfagent.console import err, out
    from perfagent.store import open_store

    settings = options.settings(
        suite=suite,
        threshold=threshold,
        store=store,
        output_dir=output_dir,
        metric=metric,
        mode=options.mode_from(fast, rigorous),
        processes=processes,
        confirm_runs=confirm_runs,
    )
    baseline_store = open_store(settings.store)
    if results_file is not None:
        target = _target_from_results(results.load(results_file), settings)
    else:
        target = _target_from_machine(settings)

    # The baseline first: without one there is no point in measuring anything.
    baseline = find_baseline(baseline_store, target.fingerprint_id, target.hardware, target.suite)
    base_metric = results.metric(baseline)
    if base_metric != target.metric:
        from perfagent.errors import NoComparableBaseline

        raise NoComparableBaseline(
            f"the baseline for fingerprint {target.fingerprint_id} and suite '{target.suite}' "
            f"in {baseline_store.location} measures '{base_metric}', this check '{target.metric}'; "
            f"check with --metric {base_metric} or store a new baseline with "
            f"`perfagent baseline --metric {target.metric}`"
        )

    # Like the baseline, the output directory is checked before anything is measured.
    report.ensure_output_dir(settings.output_dir)
    notes: list[str] = []
    confirmations: dict[str, int] = {}
    base_samples = results.samples_by_name(baseline)
    if results_file is not None:
        head = target.results
        assert head is not None
        comparison = stats.compare(
            base_samples, results.samples_by_name(head), settings.threshold_for
        )
        if comparison.suspects:
            notes.append(
                f"results taken from {results_file}: benchmarks beyond the threshold were "
                "not measured again"
            )
    else:
        head, comparison = _measure_and_confirm(
            target, settings, base_samples, benchmark, commit, confirmations, quiet, err.print
        )

    _require_common(comparison, baseline_store.location, target.suite)
    # Beside the verdict: a step or creep among the newest baselines that no single gate caught.
    from perfagent.history import check_notes

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
        notes=notes,
    )
    artifacts = report.write_artifacts(outcome, settings.output_dir, head)
    for warning in artifacts.warnings:
        err.print(f"perfagent: warning: {warning}", markup=False, highlight=False)
    out.print(
        f"Artifacts: {artifacts.report.parent.parent} (report {artifacts.report.name}, "
        f"export {artifacts.export.name}, analysis {artifacts.analysis.name}, summary.md)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    report.print_outcome(outcome, out)
    raise typer.Exit(outcome.exit_code)


@dataclass
class _Target:
    """What is being checked: its fingerprint, suite, metric (and results when given)."""

    fingerprint_id: str
    hardware: dict[str, Any]
    suite: str
    metric: str
    fingerprint: Fingerprint | None = None
    results: pyperf.BenchmarkSuite | None = None


def _target_from_results(head: pyperf.BenchmarkSuite, settings: Settings) -> _Target:
    """A results file speaks for itself; plain pyperf output is taken as this machine's."""
    from perfagent import results

    fingerprint_id = results.fingerprint_id(head)
    hardware = results.hardware(head)
    fingerprint = None
    if fingerprint_id is None or hardware is None:
        from perfagent.fingerprint import collect

        fingerprint = collect()
        fingerprint_id = fingerprint_id or fingerprint.id
        hardware = hardware or fingerprint.hardware
    return _Target(
        fingerprint_id=fingerprint_id,
        hardware=hardware,
        suite=results.suite_name(head) or Path(settings.suite).resolve().name,
        metric=results.metric(head),
        fingerprint=fingerprint,
        results=head,
    )


def _target_from_machine(settings: Settings) -> _Target:
    from perfagent.fingerprint import collect
    from perfagent.suite import load_suite

    suite_path = Path(settings.suite).resolve()
    if not suite_path.is_dir():
        load_suite(suite_path)  # raises the suite loader's own error (exit 2)
    fingerprint = collect()
    return _Target(
        fingerprint_id=fingerprint.id,
        hardware=fingerprint.hardware,
        suite=suite_path.name,
        metric=settings.metric,
        fingerprint=fingerprint,
    )


def find_baseline(
    store: BaselineStore, fingerprint_id: str, hardware: dict[str, Any], suite: str
) -> pyperf.BenchmarkSuite:
    """The stored baseline for this fingerprint and suite, else NoComparableBaseline (exit 3)."""
    from perfagent.errors import NoComparableBaseline
    from perfagent.store import nearest_baseline

    baseline = store.read(fingerprint_id, suite)
    if baseline is not None:
        return baseline
    message = (
        f"no baseline for fingerprint {fingerprint_id} and suite '{suite}' in store "
        f"{store.location}"
    )
    nearest = nearest_baseline(store, suite, hardware)
    if nearest is None:
        message += f"; the store holds no baseline of suite '{suite}' on any machine"
    else:
        stored = nearest.baseline
        when = f", measured {stored.date:%Y-%m-%d}" if stored.date else ""
        diffs = "; ".join(
            f"{key}: {old} (stored) vs {new} (here)" for key, old, new in nearest.differences
        )
        message += (
            f"; nearest stored baseline: fingerprint {stored.fingerprint}{when}, "
            f"differs in {diffs or 'no hardware field (its fingerprint id is of another version)'}"
        )
    message += "; run `perfagent baseline` on this machine to create one"
    raise NoComparableBaseline(message)


def _measure_and_confirm(
    target: _Target,
    settings: Settings,
    base_samples: dict[str, Any],
    patterns: list[str] | None,
    commit: str | None,
    confirmations: dict[str, int],
    quiet: bool,
    say: Any,
) -> tuple[pyperf.BenchmarkSuite, Comparison]:
    """Run the suite, decide, and measure the suspects again up to `confirm_runs` times.

    Each confirmation run is a new suite run (its own run id) of the suspects alone;
    the decision is then made on all their runs together, so the head's between-run
    spread is estimated from its own runs too.
    """
    from perfagent import results, stats
    from perfagent.runner import QuietProgress, detect_commit, run_suite
    from perfagent.suite import load_suite

    loaded: Suite = load_suite(settings.suite)
    selected = loaded.select(patterns)
    if patterns:
        # Benchmarks left out on purpose are not "missing" from this check.
        chosen = {spec.name for spec in selected}
        base_samples = {name: s for name, s in base_samples.items() if name in chosen}
    commit = commit or detect_commit()
    progress = QuietProgress() if quiet else None
    head = run_suite(
        loaded, selected, settings, commit=commit, progress=progress, fingerprint=target.fingerprint
    )
    comparison = stats.compare(base_samples, results.samples_by_name(head), settings.threshold_for)
    # Instruction counts repeat to about 0.01%: measuring suspects again cannot change
    # their verdict, it would only cost more valgrind runs.
    confirm_runs = 0 if settings.metric == "instructions" else settings.confirm_runs
    for attempt in range(1, confirm_runs + 1):
        suspects = [d.name for d in comparison.suspects]
        if not suspects:
            break
        if not quiet:
            say(
                f"{len(suspects)} benchmark(s) beyond the threshold, measuring them again "
                f"({attempt} of {confirm_runs}): {', '.join(suspects)}",
                markup=False,
                highlight=False,
            )
        specs = [spec for spec in selected if spec.name in suspects]
        again = run_suite(
            loaded,
            specs,
            settings,
            commit=commit,
            progress=progress,
            fingerprint=target.fingerprint,
        )
        head = results.merge([head, again])
        for name in suspects:
            confirmations[name] = confirmations.get(name, 0) + 1
        pooled = results.samples_by_name(results.select(head, suspects))
        redecided = stats.compare(
            {n: base_samples[n] for n in suspects}, pooled, settings.threshold_for
        )
        comparison = comparison.replace(redecided.decisions)
    return head, comparison


def _require_common(comparison: Comparison, store_location: str, suite: str) -> None:
    if comparison.decisions:
        return
    from perfagent.errors import UsageError

    raise UsageError(
        f"none of the measured benchmarks is in the baseline of suite '{suite}' in "
        f"{store_location} (baseline: {', '.join(comparison.only_in_base) or 'none'}); "
        "store a new baseline with `perfagent baseline`"
    )


def _baseline_location(baseline: pyperf.BenchmarkSuite, store_location: str) -> str:
    return str(baseline.filename) if baseline.filename else store_location
