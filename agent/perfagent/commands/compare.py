"""`perfagent compare BASE.json HEAD.json`: the check's decision on two results files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from perfagent import options

if TYPE_CHECKING:
    import pyperf

Base = Annotated[
    Path,
    typer.Argument(help="The reference results (pyperf JSON).", show_default=False),
]
Head = Annotated[
    Path,
    typer.Argument(help="The results to judge against it (pyperf JSON).", show_default=False),
]
IgnoreHardware = Annotated[
    bool,
    typer.Option(
        "--ignore-hardware",
        help="Compare even when the files were measured on different hardware (their "
        "fingerprints, or pyperf's CPU model, CPU count, architecture and OS).",
    ),
]
CompareOutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Also write the check's artifacts (report, export, analysis, summary.md, "
        "report.html) here.",
        show_default=False,
    ),
]


def command(
    base: Base,
    head: Head,
    threshold: options.Threshold = None,
    ignore_hardware: IgnoreHardware = False,
    output_dir: CompareOutputDir = None,
    store: options.Store = None,
    config: options.Config = None,
    strict: options.Strict = False,
    show_all: options.ShowAll = False,
) -> None:
    """Compare two pyperf results files benchmark by benchmark, as `check` does.

    Any pyperf JSON works, the agent's own or plain pyperf output (e.g. from
    `python -m pyperf timeit -o`). Only like is compared with like: different units
    or metrics, or a benchmark that measures other code (timeit_stmt), exit 3.
    Hardware: fingerprints when both files carry one, else what pyperf's metadata
    tells (CPU model, CPU count, architecture, OS; never the hostname); different
    hardware exits 3 unless --ignore-hardware is given.

    A side with one worker process is `inconclusive` (exit 0, or 1 with --strict).
    With one run per side, the run-to-run drift comes from the store's earlier
    baselines of the same fingerprint and suite (--store), and the output says
    where it came from.

    Exit codes: 0 no regression, 1 regression beyond the threshold, 2 bad input,
    3 not comparable (other hardware, unit or metric).

    Example:

        perfagent compare main.json branch.json --threshold 5
    """
    from perfagent import results
    from perfagent.console import err, out
    from perfagent.errors import StoreError, UsageError
    from perfagent.judge import comparable, drift, stats
    from perfagent.reports import report

    settings = options.settings(threshold=threshold, store=store, config=config)
    base_results = results.load(base)
    head_results = results.load(head)
    checked = comparable.check(base_results, head_results, ignore_hardware=ignore_hardware)

    base_samples = results.samples_by_name(base_results)
    head_samples = results.samples_by_name(head_results)
    fingerprint = results.fingerprint_id(head_results)
    suite = results.suite_name(head_results) or results.suite_name(base_results)
    store_notes: list[str] = []
    try:
        priors, history = drift.store_priors(
            settings.store,
            fingerprint,
            suite,
            one_run=_runs(base_results) == _runs(head_results) == 1,
        )
    except StoreError as exc:
        # The store only adds a drift prior here: an unreachable or refused one is said,
        # and the comparison goes on without it.
        priors, history = {}, ""
        store_notes.append(f"the store's history was not used: {exc}")
    comparison = stats.compare(
        base_samples, head_samples, settings.threshold_for, drift_priors=priors
    )
    if not comparison.decisions:
        raise UsageError(
            f"{base} and {head} have no benchmark in common "
            f"({base}: {', '.join(base_results.get_benchmark_names())}; "
            f"{head}: {', '.join(head_results.get_benchmark_names())})"
        )
    outcome = report.Outcome(
        comparison=comparison,
        threshold=settings.threshold,
        metric=results.metric(head_results),
        suite=suite,
        fingerprint=fingerprint,
        base=report.Side("baseline", str(base), results.commit(base_results), _runs(base_results)),
        head=report.Side("current", str(head), results.commit(head_results), _runs(head_results)),
        software_changes=report.software_changes(
            results.software(base_results), results.software(head_results)
        ),
        notes=[*checked.notes, *store_notes, *settings.loosening_refused()],
        base_samples=base_samples,
        head_samples=head_samples,
        hardware=results.hardware(head_results),
        strict=strict,
        thresholds=settings.thresholds_in_effect(),
        show_all=show_all,
        drift_history=history,
    )
    if output_dir is not None:
        artifacts = report.write_artifacts(outcome, output_dir, None, repo_url=settings.repo_url)
        for warning in artifacts.warnings:
            err.print(f"perfagent: warning: {warning}", markup=False, highlight=False)
    report.print_outcome(outcome, out)
    raise typer.Exit(outcome.exit_code)


def _runs(suite: pyperf.BenchmarkSuite) -> int:
    from perfagent import results

    return len(results.run_ids(suite))
