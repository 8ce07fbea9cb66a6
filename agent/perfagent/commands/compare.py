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
        help="Compare even when the files carry different hardware fingerprints.",
    ),
]
CompareOutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Also write the check's artifacts (report, export, analysis, summary.md) here.",
        show_default=False,
    ),
]


def command(
    base: Base,
    head: Head,
    threshold: options.Threshold = None,
    ignore_hardware: IgnoreHardware = False,
    output_dir: CompareOutputDir = None,
) -> None:
    """Compare two pyperf results files benchmark by benchmark, as `check` does.

    Any pyperf JSON works, the agent's own or plain pyperf output (e.g. from
    `python -m pyperf timeit -o`). When both files carry a hardware fingerprint and
    the fingerprints differ, compare exits 3 unless --ignore-hardware is given.

    Exit codes: 0 no regression, 1 regression beyond the threshold, 2 bad input,
    3 not comparable (other hardware or another metric).

    Example:

        perfagent compare main.json branch.json --threshold 5
    """
    from perfagent import results
    from perfagent.console import err, out
    from perfagent.errors import UsageError
    from perfagent.judge import stats
    from perfagent.reports import report

    settings = options.settings(threshold=threshold)
    base_results = results.load(base)
    head_results = results.load(head)
    check_comparable(base_results, head_results, ignore_hardware=ignore_hardware)

    comparison = stats.compare(
        results.samples_by_name(base_results),
        results.samples_by_name(head_results),
        settings.threshold_for,
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
        suite=results.suite_name(head_results) or results.suite_name(base_results),
        fingerprint=results.fingerprint_id(head_results),
        base=report.Side("baseline", str(base), results.commit(base_results), _runs(base_results)),
        head=report.Side("current", str(head), results.commit(head_results), _runs(head_results)),
        software_changes=report.software_changes(
            results.software(base_results), results.software(head_results)
        ),
    )
    if output_dir is not None:
        artifacts = report.write_artifacts(outcome, output_dir, None)
        for warning in artifacts.warnings:
            err.print(f"perfagent: warning: {warning}", markup=False, highlight=False)
    report.print_outcome(outcome, out)
    raise typer.Exit(outcome.exit_code)


def _runs(suite: pyperf.BenchmarkSuite) -> int:
    from perfagent import results

    return len(results.run_ids(suite))


def check_comparable(
    base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite, *, ignore_hardware: bool
) -> None:
    """Exit 3 (NoComparableBaseline) for other hardware (unless ignored) or another metric."""
    from perfagent import results
    from perfagent.errors import NoComparableBaseline

    base_name, head_name = results.describe_source(base), results.describe_source(head)
    base_metric, head_metric = results.metric(base), results.metric(head)
    if base_metric != head_metric:
        raise NoComparableBaseline(
            f"{base_name} measures '{base_metric}' and {head_name} '{head_metric}': "
            "a ratio between different metrics means nothing"
        )
    base_id, head_id = results.fingerprint_id(base), results.fingerprint_id(head)
    if ignore_hardware or base_id is None or head_id is None or base_id == head_id:
        return
    from perfagent.machine.fingerprint import differences

    diffs = differences(results.hardware(base) or {}, results.hardware(head) or {})
    shown = "; ".join(f"{key}: {old} vs {new}" for key, old, new in diffs) or "unknown fields"
    raise NoComparableBaseline(
        f"{base_name} (fingerprint {base_id}) and {head_name} (fingerprint {head_id}) were "
        f"measured on different hardware, differing in {shown}; pass --ignore-hardware to "
        "compare them anyway"
    )
