"""`perfagent baseline`: measure the suite N times and store the pooled runs as the baseline."""

from __future__ import annotations

from typing import Annotated

import typer

from perfagent import options

Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Store the baseline even when the machine is not fit to measure (busy "
        "benchmark CPUs, processes on isolated ones, a reference workload far off the "
        "stored baseline's). Without it such a baseline is refused (exit 5) with the reason.",
    ),
]
Runs = Annotated[
    int | None,
    typer.Option(
        "--runs",
        min=1,
        help="Suite runs pooled into the baseline; several runs let the check tell "
        "run-to-run drift from a real change. [env PERFAGENT_BASELINE_RUNS; default 1]",
        show_default=False,
    ),
]


def command(
    suite: options.Suite = None,
    runs: Runs = None,
    store: options.Store = None,
    commit: options.Commit = None,
    metric: options.Metric = None,
    fast: options.Fast = False,
    rigorous: options.Rigorous = False,
    processes: options.Processes = None,
    timeout: options.Timeout = None,
    quiet: options.Quiet = False,
    force: Force = False,
) -> None:
    """Measure the suite and store the result as this machine's baseline.

    The baseline is kept per hardware fingerprint and suite:
    STORE/<fingerprint>/<suite>/current.json, the previous one moving to archive/
    beside it. Nothing is written until every run has succeeded, and the write is
    atomic: a failed, interrupted or killed run leaves the previous baseline as it was.

    With the time metric the machine must be fit: before measuring, the benchmark CPUs
    must not be busy with other work nor host foreign processes on isolated CPUs;
    after measuring, the reference workload (perfagent.reference, independent of the
    code) must be close to the stored baseline's. Otherwise nothing is stored, the
    reason is printed, and the exit code is 5, unless --force. It prints, per
    benchmark, the smallest slowdown a check against this baseline would detect.

    Examples:

        perfagent baseline --runs 3

        perfagent baseline --store /var/lib/perfagent/baselines --commit $GITHUB_SHA
    """
    from perfagent.console import err, out
    from perfagent.measure.progress import QuietProgress, summary_table
    from perfagent.store.record import record_baseline

    settings = options.settings(
        suite=suite,
        baseline_runs=runs,
        store=store,
        metric=metric,
        mode=options.mode_from(fast, rigorous),
        processes=processes,
        timeout=timeout,
    )
    recorded = record_baseline(
        settings,
        commit=commit,
        progress=QuietProgress() if quiet else None,
        say=None if quiet else lambda line: err.print(line, markup=False, highlight=False),
        force=force,
    )
    title = f"baseline of suite {recorded.suite} ({settings.metric}, {recorded.runs} run(s))"
    out.print(summary_table(recorded.baseline, title))
    from perfagent.judge.resolution import summary_lines

    for line in summary_lines(recorded.resolutions):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print(recorded.describe(), markup=False, highlight=False, soft_wrap=True)
