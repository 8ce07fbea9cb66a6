"""`perfagent baseline`: measure the suite N times and store the pooled runs as the baseline."""

from __future__ import annotations

from typing import Annotated

import typer

from perfagent import options

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
    quiet: options.Quiet = False,
) -> None:
    """Measure the suite and store the result as this machine's baseline.

    The baseline is kept per hardware fingerprint and suite:
    STORE/<fingerprint>/<suite>/current.json, the previous one moving to archive/
    beside it. Nothing is written until every run has succeeded, and the write is
    atomic: a failed, interrupted or killed run leaves the previous baseline as it was.

    Examples:

        perfagent baseline --runs 3

        perfagent baseline --store /var/lib/perfagent/baselines --commit $GITHUB_SHA
    """
    from perfagent import results
    from perfagent.console import err, out
    from perfagent.machine.fingerprint import collect
    from perfagent.measure.runner import QuietProgress, detect_commit, run_suite, summary_table
    from perfagent.measure.suite import load_suite
    from perfagent.store import open_store

    settings = options.settings(
        suite=suite,
        baseline_runs=runs,
        store=store,
        metric=metric,
        mode=options.mode_from(fast, rigorous),
        processes=processes,
    )
    loaded = load_suite(settings.suite)
    fingerprint = collect()
    baseline_store = open_store(settings.store)
    # Fail on an unwritable store now, not after an hour of measuring.
    baseline_store.ensure_writable(fingerprint.id, loaded.name)
    commit = commit or detect_commit()

    total = settings.baseline_runs
    suite_runs = []
    for index in range(1, total + 1):
        if not quiet and total > 1:
            err.print(f"Baseline run {index} of {total}", markup=False, highlight=False)
        suite_runs.append(
            run_suite(
                loaded,
                list(loaded.benchmarks),
                settings,
                commit=commit,
                progress=QuietProgress() if quiet else None,
                fingerprint=fingerprint,
            )
        )
    pooled = results.merge(suite_runs)
    stored = baseline_store.write(fingerprint.id, loaded.name, pooled)

    title = f"baseline of suite {loaded.name} ({settings.metric}, {total} run(s))"
    out.print(summary_table(pooled, title))
    out.print(
        f"Baseline stored: {stored.location} (fingerprint {fingerprint.id}, suite "
        f"{loaded.name}, {stored.benchmarks} benchmarks, {total} run(s), "
        f"commit {(commit or 'unknown')[:12]})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
