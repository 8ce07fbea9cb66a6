"""`perfagent baselines list|show|prune`: look into the baseline store and tidy it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from perfagent import options

if TYPE_CHECKING:
    from perfagent.store import StoredBaseline

app = typer.Typer(
    help="Inspect and prune the baseline store: one current baseline per hardware "
    "fingerprint and suite, plus an archive of the ones they replaced.",
    no_args_is_help=True,
)

All = Annotated[bool, typer.Option("--all", "-a", help="Also list archived baselines.")]
SuiteName = Annotated[
    str | None,
    typer.Option(
        "--suite",
        help="Suite name or directory. [env PERFAGENT_SUITE; default benchmarks/hazelbean]",
        show_default=False,
    ),
]


def _date(entry: StoredBaseline) -> str:
    return entry.date.strftime("%Y-%m-%d %H:%M") if entry.date else "-"


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


@app.command("list")
def list_command(
    store: options.Store = None,
    include_archived: All = False,
    as_json: options.Json = False,
) -> None:
    """List the stored baselines: fingerprint, suite, commit, date, benchmarks, metric."""
    from perfagent.console import out
    from perfagent.store import open_store

    settings = options.settings(store=store)
    baseline_store = open_store(settings.store)
    entries = baseline_store.entries(archived=include_archived)
    if as_json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        out.print(
            f"No baselines in {baseline_store.location} (`perfagent baseline` stores one).",
            markup=False,
        )
        return
    headers = ["FINGERPRINT", "SUITE", "COMMIT", "MEASURED (UTC)", "BENCHMARKS", "RUNS", "METRIC"]
    if include_archived:
        headers.append("STATE")
    rows = []
    for entry in entries:
        row = [
            entry.fingerprint,
            entry.suite,
            (entry.commit or "-")[:12],
            _date(entry),
            str(entry.benchmarks) if not entry.error else "unreadable",
            str(entry.runs) if not entry.error else "-",
            entry.metric or "-",
        ]
        if include_archived:
            row.append("archived" if entry.archived else "current")
        rows.append(row)
    out.print(f"Baselines in {baseline_store.location}:", markup=False, highlight=False)
    # Plain aligned columns, not a rich table: ids and dates must stay whole and
    # greppable in an 80-column CI log.
    for line in _columns([headers, *rows]):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    for entry in entries:
        if entry.error:
            out.print(f"warning: {entry.error}", markup=False, highlight=False)


@app.command("show")
def show_command(
    store: options.Store = None,
    fingerprint: options.FingerprintId = None,
    suite: SuiteName = None,
    as_json: options.Json = False,
) -> None:
    """Show one current baseline: where, when, which commit, and each benchmark's numbers."""
    from pathlib import Path

    from perfagent import results
    from perfagent.console import out
    from perfagent.errors import NoComparableBaseline
    from perfagent.measure.runner import summarize, summary_table
    from perfagent.store import describe, open_store

    settings = options.settings(store=store, suite=suite)
    suite_name = Path(settings.suite).name
    if fingerprint is None:
        from perfagent.machine.fingerprint import collect

        fingerprint = collect().id
    baseline_store = open_store(settings.store)
    baseline = baseline_store.read(fingerprint, suite_name)
    if baseline is None:
        raise NoComparableBaseline(
            f"no baseline for fingerprint {fingerprint} and suite '{suite_name}' in "
            f"{baseline_store.location} (`perfagent baselines list` shows what is stored)"
        )
    entry = describe(
        baseline,
        fingerprint=fingerprint,
        suite=suite_name,
        location=str(baseline.filename or baseline_store.location),
        archived=False,
    )
    rows = summarize(baseline)
    if as_json:
        data = entry.to_dict()
        data["hardware"] = entry.hardware
        data["software"] = results.software(baseline)
        data["benchmarks"] = [
            {"name": name, "mean": mean, "processes": count} for name, mean, count in rows
        ]
        print(json.dumps(data, indent=2))
        return
    out.print(f"Baseline: {entry.location}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"fingerprint {entry.fingerprint}, suite {entry.suite}, metric {entry.metric}, "
        f"commit {entry.commit or '-'}, measured {_date(entry)} UTC, {entry.runs} run(s)",
        markup=False,
        highlight=False,
    )
    software = results.software(baseline)
    if software:
        packages = software.get("packages", {})
        extra = ", ".join(f"{k} {v}" for k, v in packages.items()) if packages else ""
        out.print(
            f"software: {software.get('python', '?')}, kernel {software.get('kernel', '?')}"
            + (f", {extra}" if extra else ""),
            markup=False,
            highlight=False,
        )
    out.print(summary_table(baseline))


def _parse_date(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date such as 2025-01-31 or 2025-01-31T12:00", param_hint="--before"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@app.command("prune")
def prune_command(
    store: options.Store = None,
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep",
            min=0,
            help="Keep this many archived baselines per fingerprint and suite (the newest).",
            show_default=False,
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Delete archived baselines measured before this date (UTC), e.g. 2025-01-31.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be deleted.")
    ] = False,
) -> None:
    """Delete archived baselines; the current ones are never touched.

    Example: `perfagent baselines prune --keep 10` keeps the ten newest archived
    baselines of every fingerprint and suite.
    """
    from perfagent.console import out
    from perfagent.errors import UsageError
    from perfagent.store import open_store

    if keep is None and before is None:
        raise UsageError("baselines prune: give --keep N, --before DATE, or both")
    settings = options.settings(store=store)
    cutoff = _parse_date(before) if before is not None else None
    removed = open_store(settings.store).prune(keep=keep, before=cutoff, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    for entry in removed:
        out.print(f"{verb} {entry.location}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"{verb} {len(removed)} archived baseline(s).", markup=False)
