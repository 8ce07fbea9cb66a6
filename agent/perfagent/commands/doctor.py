"""`perfagent doctor`: is this machine fit to benchmark?"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from perfagent import options
from perfagent.errors import ExitCode

if TYPE_CHECKING:
    from perfagent.config import Settings
    from perfagent.machine.noise import NoiseProbe

Cpus = Annotated[
    str | None,
    typer.Option(
        "--cpus",
        help="The benchmark CPUs to check, e.g. 2-3. [env PERFAGENT_CPUS; "
        "default: the kernel's isolated CPUs, else all]",
        show_default=False,
    ),
]

Measure = Annotated[
    bool,
    typer.Option(
        "--measure",
        help="Also run a short noise probe (a few seconds: the reference workload in 10 "
        "processes on the benchmark CPUs) and say which slowdown a time check, and ab, "
        "could detect here. A VM or a machine whose tuning cannot be read is only fit for "
        "the time metric with these figures.",
    ),
]

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "unavailable": "dim"}

INSTRUCTIONS_ADVICE = (
    "This machine is not fit for wall-clock timing. Fix the failed checks (the role "
    "perf_tuning sets the variables shown), or measure with `--metric instructions`: "
    "instruction counts under valgrind do not depend on load or clock speed."
)


def command(
    as_json: options.Json = False,
    cpus: Cpus = None,
    measure: Measure = False,
    threshold: options.Threshold = None,
    processes: options.Processes = None,
) -> None:
    """Check whether this machine is fit to benchmark: each check, its state, its fix.

    Looks at what `pyperf system show` looks at (CPU governor, Turbo Boost/AMD boost,
    isolated CPUs with rcu_nocbs and nohz_full, minimum frequency, IRQ affinity and
    irqbalance, ASLR, perf sample rate, power supply) and at load and other processes
    on the benchmark CPUs, the NMI watchdog, NUMA balancing, swap and transparent
    huge pages. The fix of each check is
    the variable of the Ansible role perf_tuning that sets it.

    It also says whether this is a virtual machine (cpuinfo hypervisor flag, DMI,
    systemd-detect-virt) and flags every process on a benchmark CPU, this command's own
    parents included (a runner or job shell there competes like any other process).

    A check is ok, warn (adds noise), fail (timings cannot be trusted) or unavailable
    (not exposed here, e.g. no cpufreq in a VM; not a failure by itself). A VM, or a
    machine whose tuning cannot be read, is not fit for the time metric until
    `--measure` shows the threshold is within what it can detect.

    Examples:

        perfagent doctor

        perfagent doctor --measure --threshold 10

    Exit status: 0 fit (no check failed), 1 not fit, 2 bad settings.
    """
    from perfagent.machine.doctor import DETECT_VIRT, Probe, ancestor_pids, own_pids, run_checks
    from perfagent.measure.runner import benchmark_cpus

    settings = options.settings(cpus=cpus, threshold=threshold, processes=processes)
    bench_cpus = benchmark_cpus(settings)
    noise = _measure_noise(settings, bench_cpus) if measure else None
    report = run_checks(
        Probe(
            cpus=bench_cpus,
            own_pids=own_pids(),
            ancestor_pids=ancestor_pids(),
            detect_virt_command=DETECT_VIRT,
            noise=noise,
            threshold=settings.threshold,
        )
    )
    # Only an unfit machine needs the fallback, so only then is the toolchain probed.
    instructions_problem = None if report.fit else _instructions_problem()
    if as_json:
        document = report.to_dict()
        document["recommended_metric"] = "time" if report.fit else "instructions"
        if noise is not None:
            document["noise_probe"] = noise.to_dict()
        if not report.fit:
            document["instructions_metric"] = {
                "usable": instructions_problem is None,
                "reason": instructions_problem,
            }
        print(json.dumps(document, indent=2))
    else:
        _print_report(report, instructions_problem)
    if not report.fit:
        raise typer.Exit(ExitCode.DOCTOR_UNFIT)


def _measure_noise(settings: Settings, cpus: list[int] | None) -> NoiseProbe:
    """The noise probe, sized like the checks this machine would run."""
    from perfagent.console import err
    from perfagent.judge.paired import DEFAULT_PAIRS
    from perfagent.machine import noise

    err.print("Measuring noise (a few seconds)...", markup=False, highlight=False)
    return noise.measure(
        threshold=settings.threshold,
        check_processes=settings.processes or noise.CHECK_PROCESSES,
        baseline_runs=settings.baseline_runs,
        ab_pairs=DEFAULT_PAIRS,
        cpus=cpus,
    )


def _instructions_problem() -> str | None:
    """Why `--metric instructions` cannot run here (None: it can)."""
    from perfagent.measure.instructions import unavailable_reason

    return unavailable_reason()


def _print_report(report: object, instructions_problem: str | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from perfagent.console import out
    from perfagent.machine.doctor import UNAVAILABLE, Report

    assert isinstance(report, Report)
    table = Table(title="Benchmark machine checks", title_justify="left", show_lines=True)
    table.add_column("check", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("state, and the perf_tuning variable that fixes it", overflow="fold")
    for check in report.checks:
        style = _STYLE.get(check.verdict, "")
        state = escape(check.state)
        if check.fix:
            state += f"\n[cyan]fix: {escape(check.fix)}[/cyan]"
        table.add_row(
            escape(check.name),
            f"[{style}]{check.verdict}[/{style}]" if style else check.verdict,
            state,
        )
    out.print(table)
    unavailable = [c.name for c in report.checks if c.verdict == UNAVAILABLE]
    if unavailable:
        out.print(
            "Not available on this machine (not counted against it): " + ", ".join(unavailable),
            markup=False,
        )
    if report.fit:
        out.print("[green]Fit to benchmark.[/green]")
    else:
        failed = [c.name for c in report.checks if c.verdict == "fail"]
        out.print(f"[bold red]Not fit to benchmark[/bold red]: {escape(', '.join(failed))}")
        out.print(INSTRUCTIONS_ADVICE, markup=False)
        if instructions_problem:
            out.print(f"(not usable here yet: {instructions_problem})", markup=False)
