"""`perfagent doctor`: is this machine fit to benchmark?"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from perfagent import options
from perfagent.errors import ExitCode

Cpus = Annotated[
    str | None,
    typer.Option(
        "--cpus",
        help="The benchmark CPUs to check, e.g. 2-3. [env PERFAGENT_CPUS; "
        "default: the kernel's isolated CPUs, else all]",
        show_default=False,
    ),
]

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "unavailable": "dim"}

INSTRUCTIONS_ADVICE = (
    "This machine is not fit for wall-clock timing. Fix the failed checks (the role "
    "perf_tuning sets the variables shown), or measure with `--metric instructions`: "
    "instruction counts under valgrind do not depend on load or clock speed."
)


def command(as_json: options.Json = False, cpus: Cpus = None) -> None:
    """Check whether this machine is fit to benchmark: each check, its state, its fix.

    Looks at what `pyperf system show` looks at (CPU governor, Turbo Boost/AMD boost,
    isolated CPUs with rcu_nocbs and nohz_full, minimum frequency, IRQ affinity and
    irqbalance, ASLR, perf sample rate, power supply) and at load and other processes
    on the benchmark CPUs, the NMI watchdog, NUMA balancing, swap and transparent
    huge pages. The fix of each check is
    the variable of the Ansible role perf_tuning that sets it.

    A check is ok, warn (adds noise), fail (timings cannot be trusted) or unavailable
    (not exposed here, e.g. no cpufreq in a VM; not a failure by itself).

    Exit status: 0 fit (no check failed), 1 not fit, 2 bad settings.
    """
    from perfagent.machine.doctor import Probe, own_pids, run_checks
    from perfagent.measure.runner import benchmark_cpus

    settings = options.settings(cpus=cpus)
    report = run_checks(Probe(cpus=benchmark_cpus(settings), own_pids=own_pids()))
    # Only an unfit machine needs the fallback, so only then is the toolchain probed.
    instructions_problem = None if report.fit else _instructions_problem()
    if as_json:
        document = report.to_dict()
        document["recommended_metric"] = "time" if report.fit else "instructions"
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
