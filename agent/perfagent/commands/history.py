"""`perfagent history`: each benchmark's baselines over time, change points, a plot,
and (--html) a static site of the whole store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from perfagent import options

if TYPE_CHECKING:
    from perfagent.config import Settings
    from perfagent.judge.history import SuiteHistory

Plot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Also draw the history as a PNG: one panel per benchmark, change points marked.",
        metavar="FILE.png",
        show_default=False,
        dir_okay=False,
    ),
]
Last = Annotated[
    int | None,
    typer.Option(
        "--last",
        min=2,
        help="Only the newest N baselines. [default: all, up to 200]",
        metavar="N",
        show_default=False,
    ),
]
Html = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Write a static site of every hardware class and suite in the store instead: "
        "DIR/index.html and a page per benchmark with its baselines over time and change "
        "points, to publish as a CI artifact or on GitHub Pages. --fingerprint and -b narrow it.",
        metavar="DIR",
        show_default=False,
        file_okay=False,
    ),
]
RepoUrl = Annotated[
    str | None,
    typer.Option(
        "--repo-url",
        help="The repository's web address, to link commits in the --html pages. "
        "[env PERFAGENT_REPO_URL; default from GITHUB_SERVER_URL/GITHUB_REPOSITORY]",
        metavar="URL",
        show_default=False,
    ),
]
MinChange = Annotated[
    float | None,
    typer.Option(
        "--min-change",
        min=0.0,
        help="Flag only change points whose step is at least this many percent. [default 2]",
        metavar="PCT",
        show_default=False,
    ),
]


def command(
    suite: options.Suite = None,
    store: options.Store = None,
    benchmark: options.Patterns = None,
    fingerprint: options.FingerprintId = None,
    plot: Plot = None,
    last: Last = None,
    min_change: MinChange = None,
    as_json: options.Json = False,
    html: Html = None,
    repo_url: RepoUrl = None,
) -> None:
    """Show each benchmark's baselines over time and the change points in them.

    Every `perfagent baseline` archives the baseline it replaces; per benchmark,
    the means of those baselines form a series. Change points are found with
    e-divisive means (a permutation test at the 5% level, so a noisy series does
    not raise false alarms): a step change, or a slowdown that crept in a few
    percent at a time with every single check passing, shows up as a change point
    with its step and the drift since. The check report mentions change points
    found among the newest 10 baselines.

    Examples:

        perfagent history

        perfagent history -b tiling --plot history.png

        perfagent history --fingerprint 3f2a9c01b7de --last 30 --json

        perfagent history --html site --repo-url https://github.com/org/repo
    """
    from perfagent.judge.history import MIN_CHANGE_PERCENT, build_history
    from perfagent.reports.plot import write_plot
    from perfagent.store import open_store

    settings = options.settings(suite=suite, store=store, repo_url=repo_url)
    min_change_percent = min_change if min_change is not None else MIN_CHANGE_PERCENT
    if html is not None:
        if plot is not None or as_json:
            raise typer.BadParameter("--html writes the whole store's site; drop --plot/--json")
        _publish(settings, html, fingerprint, benchmark, last, min_change_percent)
        return
    suite_name = Path(settings.suite).resolve().name
    if fingerprint is None:
        from perfagent.machine.fingerprint import collect

        fingerprint = collect().id
    history = build_history(
        open_store(settings.store),
        fingerprint,
        suite_name,
        patterns=benchmark,
        last=last,
        min_change_percent=min_change_percent,
    )
    if plot is not None:
        write_plot(history, plot)
    if as_json:
        data = history.to_dict()
        data["plot"] = str(plot) if plot else None
        print(json.dumps(data, indent=2))
        return
    _print(history, plot)


def _publish(
    settings: Settings,
    directory: Path,
    fingerprint: str | None,
    patterns: list[str] | None,
    last: int | None,
    min_change_percent: float,
) -> None:
    """The --html site: every (fingerprint, suite) of the store, one page per benchmark."""
    import os

    from perfagent.console import out
    from perfagent.reports import dashboard
    from perfagent.reports.html import repository_url
    from perfagent.store import open_store

    site = dashboard.publish(
        open_store(settings.store),
        directory,
        fingerprints=[fingerprint] if fingerprint else None,
        patterns=patterns,
        last=last,
        min_change_percent=min_change_percent,
        repo_url=repository_url(settings.repo_url, os.environ),
    )
    for note in site.skipped:
        out.print(f"skipped {note}", markup=False, highlight=False, soft_wrap=True)
    out.print(site.describe(), markup=False, highlight=False, soft_wrap=True)


def _print(history: SuiteHistory, plot: Path | None) -> None:
    from rich.table import Table

    from perfagent.console import out
    from perfagent.reports.units import format_quantity

    baselines = history.baselines
    first, newest = baselines[0], baselines[-1]
    span = (
        f", {first.date:%Y-%m-%d} to {newest.date:%Y-%m-%d}" if first.date and newest.date else ""
    )
    out.print(
        f"{len(baselines)} baseline(s) of suite '{history.suite}' on fingerprint "
        f"{history.fingerprint} in {history.store}{span} ({history.metric})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title_justify="left")
    table.add_column("Benchmark", overflow="fold")
    table.add_column("Baselines", justify="right")
    table.add_column("Oldest", justify="right", no_wrap=True)
    table.add_column("Newest", justify="right", no_wrap=True)
    table.add_column("Change", justify="right", no_wrap=True)
    table.add_column("Change points", justify="right")
    for benchmark in history.benchmarks:
        total = benchmark.total_percent
        table.add_row(
            benchmark.name,
            str(len(benchmark.points)),
            format_quantity(benchmark.points[0].mean, benchmark.unit),
            format_quantity(benchmark.points[-1].mean, benchmark.unit),
            f"{total:+.1f}%" if total is not None else "-",
            str(len(benchmark.flagged)) if benchmark.flagged else "-",
        )
    out.print(table)
    for note in history.skipped:
        out.print(f"skipped {note}", markup=False, highlight=False, soft_wrap=True)
    flagged = [s for b in history.benchmarks for s in b.flagged]
    for shift in flagged:
        out.print(shift.describe(), markup=False, highlight=False, soft_wrap=True)
    if plot is not None:
        out.print(f"Plot: {plot}", markup=False, highlight=False)
    if not flagged:
        out.print("No change point found.", markup=False)
