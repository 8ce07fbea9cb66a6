"""`perfagent check`: run the suite, compare it with this machine's baseline, gate on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfagent import options

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


AcceptDrift = Annotated[
    bool,
    typer.Option(
        "--accept-drift",
        help="Judge the code even when the machine itself changed since the baseline (its "
        "reference workload moved beyond its noise): the drift is reported, the verdict is "
        "not withheld. Without it such a check exits 3.",
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
    processes: options.Processes = None,
    timeout: options.Timeout = None,
    confirm_runs: options.ConfirmRuns = None,
    commit: options.Commit = None,
    quiet: options.Quiet = False,
    accept_drift: AcceptDrift = False,
    strict: options.Strict = False,
) -> None:
    """Run the suite and fail (exit 1) when a benchmark is really slower than the baseline.

    The baseline is the one stored for this machine's hardware fingerprint and this
    suite; without one the check exits 3 (and names the nearest stored machine and
    how it differs) before measuring anything. A benchmark is a regression when its
    slowdown exceeds the threshold and the 95% interval of the ratio lies above 1;
    before failing, the suspect benchmarks alone are measured again (--confirm-runs)
    so that one noisy run does not block a pull request.

    Every worker also measures a reference workload that does not depend on the code
    (perfagent.reference); when it moved between the baseline and this check beyond
    its noise, the machine changed, and the check says by how much and exits 3 rather
    than call the code's change a regression (unless --accept-drift, or the regression
    goes beyond what the drift explains). It also prints, per benchmark, the smallest
    slowdown it can detect with 90% power, and warns where that exceeds the threshold.

    A benchmark with too few worker processes on a side to judge is `inconclusive`:
    never a regression, unless --strict.

    Exit codes: 0 no regression, 1 regression (or an inconclusive one with --strict),
    2 bad input, 3 no comparable baseline or the machine changed.
    Artifacts go to --output-dir: reports/, exports/, analysis/, results/, summary.md
    (also appended to $GITHUB_STEP_SUMMARY) and report.html (table, plots, machine facts).

    Examples:

        perfagent check

        perfagent check --threshold 5 --output-dir metrics

        perfagent check --results head.json
    """
    from perfagent.judge.verdict import check
    from perfagent.measure.progress import QuietProgress
    from perfagent.reports.publish import publish_check

    settings = options.settings(
        suite=suite,
        threshold=threshold,
        store=store,
        output_dir=output_dir,
        metric=metric,
        mode=options.mode_from(fast, rigorous),
        processes=processes,
        timeout=timeout,
        confirm_runs=confirm_runs,
    )
    checked = check(
        settings,
        results_file=results_file,
        patterns=benchmark,
        commit=commit,
        progress=QuietProgress() if quiet else None,
        say=None if quiet else _say,
        accept_drift=accept_drift,
        strict=strict,
    )
    publish_check(checked.outcome, checked.head, settings.output_dir, settings.repo_url)
    raise typer.Exit(checked.exit_code)


def _say(message: str) -> None:
    from perfagent.console import err

    err.print(message, markup=False, highlight=False)
