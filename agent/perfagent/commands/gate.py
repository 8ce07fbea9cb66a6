"""`perfagent gate`: the performance gate of a workflow, runnable anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfagent.gate.doctor import DoctorPolicy
from perfagent.gate.mode import MODE_CHOICES, PullRequestMode
from perfagent.gate.run import DEFAULT_LOCK, NoBaselinePolicy

ModeOption = Annotated[
    str,
    typer.Option(
        "--mode",
        envvar="PERF_GATE_MODE",
        help=f"{' | '.join(MODE_CHOICES)}. auto: baseline on a push to the default branch, "
        "check (or --pull-request-mode) on a pull request, check otherwise.",
    ),
]
PullRequestModeOption = Annotated[
    PullRequestMode,
    typer.Option(
        "--pull-request-mode",
        envvar="PERF_GATE_PULL_REQUEST_MODE",
        help="What auto does for a pull request: check against the stored baseline, or "
        "relative: base and head measured side by side (perfagent ab).",
    ),
]
DefaultBranch = Annotated[
    str,
    typer.Option(
        "--default-branch",
        envvar="PERF_GATE_DEFAULT_BRANCH",
        help="The branch whose pushes establish the baseline.",
    ),
]
Suite = Annotated[
    str | None,
    typer.Option(
        "--suite",
        envvar="PERF_GATE_SUITE",
        help="Suite directory. [env PERFAGENT_SUITE; default benchmarks/hazelbean]",
        show_default=False,
    ),
]
Threshold = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        envvar="PERF_GATE_THRESHOLD",
        help="Regression threshold in percent. [env PERFAGENT_THRESHOLD; default 10]",
        show_default=False,
    ),
]
Metric = Annotated[
    str | None,
    typer.Option(
        "--metric",
        envvar="PERF_GATE_METRIC",
        help="time or instructions. [env PERFAGENT_METRIC; default time]",
        show_default=False,
    ),
]
BaselineRuns = Annotated[
    int,
    typer.Option(
        "--baseline-runs",
        min=1,
        envvar="PERF_GATE_BASELINE_RUNS",
        help="Suite runs pooled into a baseline.",
    ),
]
ConfirmRuns = Annotated[
    int | None,
    typer.Option(
        "--confirm-runs",
        min=0,
        envvar="PERF_GATE_CONFIRM_RUNS",
        help="Re-measurements of suspect benchmarks before a check fails. [default 2]",
        show_default=False,
    ),
]
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="PERF_GATE_STORE",
        help="Baseline store, used as given. [default: PERFAGENT_STORE (or the trusted "
        "config's store) scoped to OWNER/REPO of GITHUB_REPOSITORY]",
        show_default=False,
    ),
]
PerRepository = Annotated[
    bool,
    typer.Option(
        "--per-repository-store/--no-per-repository-store",
        help="Keep each repository's baselines apart in a shared store.",
    ),
]
OutputDir = Annotated[
    str,
    typer.Option("--output-dir", envvar="PERF_GATE_OUTPUT_DIR", help="Where the artifacts go."),
]
Doctor = Annotated[
    DoctorPolicy,
    typer.Option(
        "--doctor",
        envvar="PERF_GATE_DOCTOR",
        help="enforce: an unfit machine fails the job (exit 5); warn; skip.",
    ),
]
NoBaseline = Annotated[
    NoBaselinePolicy,
    typer.Option(
        "--no-baseline",
        envvar="PERF_GATE_NO_BASELINE",
        help="No baseline for this hardware and suite: warn (exit 0), fail (exit 3), or "
        "establish it now.",
    ),
]
StrictBaseline = Annotated[
    bool,
    typer.Option(
        "--strict-baseline",
        envvar="PERF_GATE_STRICT_BASELINE",
        help="The same as --no-baseline fail.",
    ),
]
Advisory = Annotated[
    bool,
    typer.Option(
        "--advisory",
        envvar="PERF_GATE_ADVISORY",
        help="Say in annotations that the job does not block merging "
        "(the workflow sets continue-on-error).",
    ),
]
LockFile = Annotated[
    str,
    typer.Option(
        "--lock-file",
        envvar="PERF_GATE_LOCK",
        help="Machine-wide lock: one benchmarking job at a time ('' for none).",
    ),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="PERF_GATE_CONFIG",
        help="The trusted config file. [default $PERFAGENT_CONFIG, else "
        "/etc/perfagent/perfagent.toml; never the checkout's perfagent.toml]",
        show_default=False,
        dir_okay=False,
    ),
]


def command(
    mode: ModeOption = "auto",
    pull_request_mode: PullRequestModeOption = PullRequestMode.CHECK,
    default_branch: DefaultBranch = "main",
    suite: Suite = None,
    threshold: Threshold = None,
    metric: Metric = None,
    baseline_runs: BaselineRuns = 3,
    confirm_runs: ConfirmRuns = None,
    store: Store = None,
    per_repository_store: PerRepository = True,
    output_dir: OutputDir = "metrics",
    doctor: Doctor = DoctorPolicy.ENFORCE,
    no_baseline: NoBaseline = NoBaselinePolicy.WARN,
    strict_baseline: StrictBaseline = False,
    advisory: Advisory = False,
    lock_file: LockFile = DEFAULT_LOCK,
    config: Config = None,
) -> None:
    """The performance gate of a GitHub Actions job: doctor, then baseline or check.

    A push to the default branch measures and stores this machine's baseline; a pull
    request is checked against it (or, with --pull-request-mode relative, measured
    side by side with its base by `perfagent ab`); anything else is checked. The
    verdict becomes annotations, step outputs (mode, verdict, exit-code, report,
    fingerprint, baseline) and the step summary. Settings come from the trusted side
    only: flags, PERF_GATE_* and PERFAGENT_* variables, --config or the runner's
    /etc/perfagent/perfagent.toml, never the pull request's checkout.

    Exit codes: 0 pass, baseline stored, or no baseline yet (a warning; 3 with
    --no-baseline fail); 1 a regression; 2 bad input or settings; 4 an internal error;
    5 the machine is not fit to benchmark. Only a regression is ever 1.

    Examples:

        perfagent gate

        perfagent gate --mode baseline --baseline-runs 5

        perfagent gate --metric instructions --doctor warn
    """
    from perfagent.gate.agent import LocalAgent
    from perfagent.gate.run import GateOptions, run_gate

    gate_options = GateOptions(
        mode=mode,
        pull_request_mode=pull_request_mode,
        default_branch=default_branch,
        suite=suite,
        threshold=threshold,
        metric=metric,
        baseline_runs=baseline_runs,
        confirm_runs=confirm_runs,
        store=store,
        per_repository_store=per_repository_store,
        output_dir=output_dir,
        doctor=doctor,
        no_baseline=NoBaselinePolicy.FAIL if strict_baseline else no_baseline,
        advisory=advisory,
        lock_file=lock_file,
        config=config,
    )
    raise typer.Exit(run_gate(gate_options, LocalAgent()))
