"""What a check leaves behind and prints: the artifacts of docs/design.md and the verdict table.

Under the output directory (default `metrics`)::

    reports/performance_report_<ts>.txt    human-readable, benchmark by benchmark
    exports/performance_export_<ts>.csv    one row per benchmark
    analysis/regression_check_<ts>.json    the same facts, machine-readable
    results/benchmarks_<ts>.json           the raw pyperf results of this run
    summary.md                             Markdown; also appended to $GITHUB_STEP_SUMMARY
    report.html                            self-contained page: table, plots, machine facts

`<ts>` is the UTC time of the check, `YYYYmmdd_HHMMSS`. Every file is written
atomically; the step summary is appended to, as GitHub expects.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf
from rich import box
from rich.console import Console
from rich.table import Table

from perfagent import __version__, results
from perfagent.errors import UsageError
from perfagent.judge.stats import (
    CONFIDENCE,
    DRIFT_HISTORY,
    DRIFT_MEASURED,
    DRIFT_NONE,
    Decision,
    Verdict,
)
from perfagent.reports import html
from perfagent.reports.outcome import Change

# Re-exported: the commands build `report.Outcome` and `report.Side`.
from perfagent.reports.outcome import Outcome as Outcome
from perfagent.reports.outcome import Side as Side
from perfagent.reports.units import format_quantity
from perfagent.store.atomic import atomic_write_text

OK_MESSAGE = "Performance within acceptable limits"
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
HTML_REPORT = "report.html"

_VERDICT_STYLE = {
    Verdict.REGRESSION: "bold red",
    Verdict.SLOWER: "yellow",
    Verdict.FASTER: "green",
    Verdict.SAME: "",
    Verdict.INCONCLUSIVE: "magenta",
}
# Table and last-line order: what needs attention first.
_VERDICT_ORDER = {
    Verdict.REGRESSION: 0,
    Verdict.SLOWER: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.FASTER: 3,
    Verdict.SAME: 4,
}
# The last line names this many regressions, the worst first, then "and N more".
LAST_LINE_NAMES = 5
# Above this many rows the table folds its `same` rows into a count (--all lists them).
COLLAPSE_ABOVE = 20
# The narrowest the benchmark column gets: a name cut in the middle stays recognisable.
MIN_NAME_WIDTH = 12


# --- facts ------------------------------------------------------------------------


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(_flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat


def software_changes(
    base: Mapping[str, Any] | None, head: Mapping[str, Any] | None
) -> list[Change]:
    """Software fields (OS, kernel, Python, packages.<name>) that differ: (field, base, head).

    They do not block a comparison, but a report must say so: a new numpy can explain
    a change that the code under test did not cause.
    """
    if not base or not head:
        return []
    from perfagent.machine.fingerprint import differences

    return differences(_flatten(base), _flatten(head))


def final_line(outcome: Outcome) -> str:
    """The last line a check prints: the verdict docs/design.md fixes.

    Bounded: the count and the worst few names, then "and N more", whatever the size
    of the suite; it names every threshold in effect.
    """
    decisions = outcome.comparison.decisions
    regressions = ordered(outcome.comparison.regressions)
    inconclusive = outcome.comparison.inconclusive
    total = _count(len(decisions), "benchmark")
    if outcome.machine_changed and outcome.machine_drift is not None:
        return (
            f"Not judged: {outcome.machine_drift.describe()}; the code's change is not "
            "called a regression (exit 3: measure again on a steady machine, or judge "
            "anyway with --accept-drift)"
        )
    if regressions:
        thresholds = sorted({d.threshold for d in regressions})
        shown = "/".join(_pct(t) for t in thresholds)
        names = _bounded([f"{d.name} ({_signed_pct(d.change_percent)})" for d in regressions])
        line = (
            f"Performance regression > {shown} detected in {len(regressions)} of {total}: {names}"
        )
        return f"{line}; {thresholds_text(outcome)}" if outcome.thresholds else line
    if outcome.failed_strict:
        names = _bounded([d.name for d in inconclusive])
        return (
            f"Performance not established (--strict): {len(inconclusive)} of {total} "
            f"inconclusive, too few worker processes: {names} ({thresholds_text(outcome)})"
        )
    unsure = f"; {len(inconclusive)} inconclusive: too few worker processes" if inconclusive else ""
    return f"{OK_MESSAGE} ({total}, {thresholds_text(outcome)}{unsure})"


def thresholds_text(outcome: Outcome) -> str:
    """The thresholds for the last line: `threshold 10%`, or every one in effect:
    `thresholds in effect: 10%; io.* 5%`."""
    if not outcome.thresholds:
        return f"threshold {_pct(outcome.threshold)}"
    parts = [_pct(outcome.threshold), *(f"{p} {_pct(v)}" for p, v in outcome.thresholds)]
    return "thresholds in effect: " + "; ".join(parts)


def _bounded(names: list[str]) -> str:
    shown = ", ".join(names[:LAST_LINE_NAMES])
    rest = len(names) - LAST_LINE_NAMES
    return f"{shown} and {rest} more" if rest > 0 else shown


def ordered(decisions: Iterable[Decision]) -> list[Decision]:
    """By verdict (regressions first), then by change, the largest slowdown first."""
    return sorted(decisions, key=lambda d: (_VERDICT_ORDER[d.verdict], -d.change_percent))


def geometric_mean(decisions: Iterable[Decision]) -> float | None:
    """The geometric mean of the ratios current/baseline (None without any)."""
    logs = [math.log(d.ratio) for d in decisions if d.ratio > 0 and math.isfinite(d.ratio)]
    return math.exp(sum(logs) / len(logs)) if logs else None


def drift_line(outcome: Outcome) -> str | None:
    """Where the between-run drift of the intervals came from, said once for the table."""
    decisions = outcome.comparison.decisions
    sources = {d.drift_source for d in decisions if d.verdict is not Verdict.INCONCLUSIVE}
    if not sources:
        return None
    if sources == {DRIFT_MEASURED}:
        return "drift between runs: estimated from this comparison's runs"
    parts = []
    if DRIFT_HISTORY in sources:
        where = f" ({outcome.drift_history})" if outcome.drift_history else ""
        parts.append(f"from the store's history{where}")
    if DRIFT_NONE in sources:
        parts.append(
            "not estimated (one run per side, and no stored baselines of the same "
            "fingerprint and suite): taken as 0, so the intervals are too narrow if whole "
            "runs drift"
        )
    if DRIFT_MEASURED in sources:
        parts.append("from this comparison's runs")
    return "drift between runs: " + "; ".join(parts)


def _pct(value: float) -> str:
    return f"{value:g}%"


def _signed_pct(value: float) -> str:
    return f"{value:+.1f}%"


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number} {noun if number == 1 else plural}"


def _absent(value: object) -> object:
    return "(absent)" if value is None else value


def _interval(d: Decision) -> str:
    # One process a side: the interval collapsed onto the ratio and says nothing.
    if d.verdict is Verdict.INCONCLUSIVE:
        return "n/a"
    return f"[{d.low:.3f}, {d.high:.3f}]"


def _side_text(mean: float, std: float, unit: str) -> str:
    return f"{format_quantity(mean, unit)} ± {format_quantity(std, unit)}"


def _confidence_label() -> str:
    return f"{CONFIDENCE * 100:g}%"


# --- the artifacts ----------------------------------------------------------------


def text_report(outcome: Outcome) -> str:
    """The human-readable report, benchmark by benchmark."""
    lines = [
        "perfagent performance check",
        "=" * 60,
        f"Date (UTC):      {outcome.timestamp.strftime('%Y-%m-%d %H:%M:%S')}",
        f"Suite:           {outcome.suite or 'unknown'}",
        f"Fingerprint:     {outcome.fingerprint or 'none recorded'}",
        f"Metric:          {outcome.metric}",
        f"Threshold:       {thresholds_text(outcome)}",
        f"Baseline:        {_side_line(outcome.base)}",
        f"Current:         {_side_line(outcome.head)}",
        "",
        "Method: the unit is the worker process (its mean); the ratio current/baseline",
        f"has a {_confidence_label()} interval that includes run-to-run drift where it is "
        "known. A regression",
        "needs the ratio beyond 1 + threshold and the whole interval above 1; a side with one",
        "worker process is inconclusive.",
        *([drift] if (drift := drift_line(outcome)) else []),
        "",
    ]
    for d in ordered(outcome.comparison.decisions):
        lines += [
            f"{d.name}: {d.verdict.value.upper()}",
            f"  baseline  {_side_text(d.base.mean, d.base.std, d.unit)} "
            f"({_count(d.base.n_processes, 'process')}, {_count(d.base.n_runs, 'run')})",
            f"  current   {_side_text(d.head.mean, d.head.std, d.unit)} "
            f"({_count(d.head.n_processes, 'process')}, {_count(d.head.n_runs, 'run')})",
            f"  ratio     {d.ratio:.3f} ({_signed_pct(d.change_percent)}), "
            f"{_confidence_label()} interval {_interval(d)}, threshold {_pct(d.threshold)}",
        ]
        confirmations = outcome.confirmation_runs.get(d.name, 0)
        if confirmations:
            lines.append(f"  measured again {confirmations} time(s) before deciding")
        if d.note:
            lines.append(f"  note: {d.note}")
        lines.append("")
    for name in outcome.comparison.only_in_base:
        lines += [f"{name}: MISSING (in the baseline, not measured now)", ""]
    for name in outcome.comparison.only_in_head:
        lines += [f"{name}: NEW (no baseline yet; not judged)", ""]
    lines += _software_lines(outcome.software_changes)
    lines += [f"Note: {note}" for note in outcome.notes]
    if lines[-1]:
        lines.append("")
    lines += [final_line(outcome), ""]
    return "\n".join(lines)


def _side_line(side: Side) -> str:
    parts = [side.location]
    if side.commit:
        parts.append(f"commit {side.commit[:12]}")
    if side.runs:
        parts.append(_count(side.runs, "run"))
    return ", ".join(parts)


def _software_lines(changes: list[Change]) -> list[str]:
    if not changes:
        return []
    lines = ["Software differs from the baseline's (not blocking, but it may explain a change):"]
    lines += [f"  {key}: {_absent(old)} -> {_absent(new)}" for key, old, new in changes]
    return [*lines, ""]


CSV_COLUMNS = (
    "benchmark",
    "verdict",
    "threshold_pct",
    "ratio",
    "change_pct",
    "ci_low",
    "ci_high",
    "baseline_mean",
    "baseline_std",
    "baseline_processes",
    "baseline_runs",
    "current_mean",
    "current_std",
    "current_processes",
    "current_runs",
    "unit",
    "confirmation_runs",
)


def csv_export(outcome: Outcome) -> str:
    """One row per benchmark: both sides' statistics, ratio, interval, verdict."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in outcome.comparison.decisions:
        writer.writerow(
            [
                d.name,
                d.verdict.value,
                f"{d.threshold:g}",
                f"{d.ratio:.6f}",
                f"{d.change_percent:.3f}",
                f"{d.low:.6f}",
                f"{d.high:.6f}",
                repr(d.base.mean),
                repr(d.base.std),
                d.base.n_processes,
                d.base.n_runs,
                repr(d.head.mean),
                repr(d.head.std),
                d.head.n_processes,
                d.head.n_runs,
                d.unit,
                outcome.confirmation_runs.get(d.name, 0),
            ]
        )
    empty = [""] * (len(CSV_COLUMNS) - 2)
    for name in outcome.comparison.only_in_base:
        writer.writerow([name, "missing", *empty])
    for name in outcome.comparison.only_in_head:
        writer.writerow([name, "new", *empty])
    return buffer.getvalue()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def analysis(outcome: Outcome, results_file: str | None = None) -> dict[str, Any]:
    """The machine-readable verdict: the same facts as the report."""
    return {
        "perfagent_version": __version__,
        "timestamp": outcome.timestamp.isoformat(),
        "suite": outcome.suite,
        "fingerprint": outcome.fingerprint,
        "metric": outcome.metric,
        "threshold_pct": outcome.threshold,
        "confidence": CONFIDENCE,
        "regression_detected": outcome.regressed,
        "strict": outcome.strict,
        "thresholds": [{"pattern": p, "threshold_pct": v} for p, v in outcome.thresholds],
        "geometric_mean_ratio": geometric_mean(outcome.comparison.decisions),
        "exit_code": int(outcome.exit_code),
        "message": final_line(outcome),
        "baseline": _side_dict(outcome.base),
        "current": {**_side_dict(outcome.head), "results_file": results_file},
        "benchmarks": [
            {
                "name": d.name,
                "verdict": d.verdict.value,
                "threshold_pct": d.threshold,
                "ratio": d.ratio,
                "change_pct": d.change_percent,
                "ci_low": None if d.verdict is Verdict.INCONCLUSIVE else d.low,
                "ci_high": None if d.verdict is Verdict.INCONCLUSIVE else d.high,
                "df": _finite(d.df),
                "between_run_variance_estimated": d.between_run_estimated,
                "drift_source": d.drift_source,
                "reason": d.note if d.verdict is Verdict.INCONCLUSIVE else None,
                "unit": d.unit,
                "baseline": _summary_dict(d.base),
                "current": _summary_dict(d.head),
                "confirmation_runs": outcome.confirmation_runs.get(d.name, 0),
                "note": d.note or None,
                "resolution": (
                    outcome.resolutions[d.name].to_dict() if d.name in outcome.resolutions else None
                ),
            }
            for d in outcome.comparison.decisions
        ],
        "machine_drift": (
            {
                **outcome.machine_drift.to_dict(),
                "accepted": outcome.drift_accepted,
                "verdict_withheld": outcome.machine_changed,
            }
            if outcome.machine_drift is not None
            else None
        ),
        "only_in_baseline": outcome.comparison.only_in_base,
        "only_in_current": outcome.comparison.only_in_head,
        "software_changes": [
            {"field": key, "baseline": old, "current": new}
            for key, old, new in outcome.software_changes
        ],
        "notes": outcome.notes,
    }


def _side_dict(side: Side) -> dict[str, Any]:
    return {"location": side.location, "commit": side.commit, "runs": side.runs}


def _summary_dict(summary: Any) -> dict[str, Any]:
    return {
        "mean": summary.mean,
        "std": summary.std,
        "processes": summary.n_processes,
        "runs": summary.n_runs,
    }


def summary_markdown(outcome: Outcome, html_link: str | None = None) -> str:
    """A Markdown table for pull-request summaries; `html_link` says where report.html is."""
    icon = ":x:" if outcome.exit_code else ":white_check_mark:"
    lines = [
        f"### {icon} Performance check: {outcome.suite or 'results'}",
        "",
        f"Metric `{outcome.metric}`, {thresholds_text(outcome)}, fingerprint "
        f"`{outcome.fingerprint or 'none'}`, baseline commit "
        f"`{(outcome.base.commit or 'unknown')[:12]}`.",
        "",
        f"| Benchmark | Baseline | Current | Change | {_confidence_label()} interval | Verdict |",
        "|---|---:|---:|---:|---|---|",
    ]
    for d in ordered(outcome.comparison.decisions):
        verdict = f"**{d.verdict.value}**" if d.regressed else d.verdict.value
        if d.verdict is Verdict.INCONCLUSIVE:
            verdict = f"{verdict}: {d.note}"
        lines.append(
            f"| `{d.name}` | {_side_text(d.base.mean, d.base.std, d.unit)} | "
            f"{_side_text(d.head.mean, d.head.std, d.unit)} | {_signed_pct(d.change_percent)} "
            f"| {_interval(d)} | {verdict} |"
        )
    for name in outcome.comparison.only_in_base:
        lines.append(f"| `{name}` | | | | | missing |")
    for name in outcome.comparison.only_in_head:
        lines.append(f"| `{name}` | | | | | new |")
    lines.append("")
    if outcome.software_changes:
        lines.append("> Software differs from the baseline's (not blocking):")
        lines += [
            f"> `{key}`: {_absent(old)} → {_absent(new)}  "
            for key, old, new in outcome.software_changes
        ]
        lines.append("")
    mean = geometric_mean(outcome.comparison.decisions)
    if mean is not None:
        lines += [f"Geometric mean of ratios: {mean:.3f} ({_signed_pct((mean - 1) * 100)})", ""]
    drift = drift_line(outcome)
    lines += [f"> {note}" for note in [*([drift] if drift else []), *outcome.notes]]
    if html_link:
        lines += ["", html_link, ""]
    lines += [f"**{final_line(outcome)}**", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Artifacts:
    report: Path
    export: Path
    analysis: Path
    results: Path | None
    summary: Path
    html: Path | None = None
    step_summary: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        found = [self.report, self.export, self.analysis, self.results, self.summary, self.html]
        return [p for p in found if p is not None]


def write_artifacts(
    outcome: Outcome,
    output_dir: str | Path,
    head: pyperf.BenchmarkSuite | None,
    environ: Mapping[str, str] | None = None,
    *,
    repo_url: str | None = None,
) -> Artifacts:
    """Write every artifact of a check under `output_dir`; returns their paths.

    `repo_url` (the repo_url setting) links commits in report.html; without it the
    GitHub Actions environment names the repository, if it does.

    A directory that cannot be written is a UsageError naming it (exit 2).
    """
    environ = os.environ if environ is None else environ
    root = Path(output_dir)
    stamp = _free_stamp(root, outcome.stamp)
    paths = Artifacts(
        report=root / "reports" / f"performance_report_{stamp}.txt",
        export=root / "exports" / f"performance_export_{stamp}.csv",
        analysis=root / "analysis" / f"regression_check_{stamp}.json",
        results=root / "results" / f"benchmarks_{stamp}.json" if head is not None else None,
        summary=root / "summary.md",
        html=root / HTML_REPORT,
    )
    results_file = str(paths.results) if paths.results else None
    repo_url = html.repository_url(repo_url, environ)
    summary = summary_markdown(outcome, html_link=html_link(environ))
    writes: list[tuple[Path, str]] = [
        (paths.report, text_report(outcome)),
        (paths.export, csv_export(outcome)),
        (paths.analysis, json.dumps(analysis(outcome, results_file), indent=2) + "\n"),
        (paths.summary, summary),
        (root / HTML_REPORT, html.report_html(outcome, final_line(outcome), repo_url=repo_url)),
    ]
    try:
        for path, text in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(
            f"output directory {root}: cannot write {path}: {exc.strerror or exc} "
            "(set --output-dir to a writable directory)"
        ) from None
    if head is not None and paths.results is not None:
        results.write(head, paths.results)
    step_summary, warning = append_step_summary(summary, environ)
    return Artifacts(
        **{**paths.__dict__, "step_summary": step_summary, "warnings": [warning] if warning else []}
    )


def html_link(environ: Mapping[str, str]) -> str:
    """Where summary.md's reader finds report.html: in a GitHub Actions run, among the
    run's artifacts (the workflows upload the output directory); else beside summary.md."""
    server = environ.get("GITHUB_SERVER_URL", "").strip().rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "").strip().strip("/")
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    if server and repository and run_id.isdigit():
        run = f"{server}/{repository}/actions/runs/{run_id}"
        return (
            f"Plots and machine facts: `{HTML_REPORT}` in [this run's artifacts]({run}#artifacts)."
        )
    return f"Plots and machine facts: [{HTML_REPORT}]({HTML_REPORT})."


def ensure_output_dir(output_dir: str | Path) -> None:
    """UsageError now, naming the directory, if the artifacts could not be written later."""
    root = Path(output_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(root / f".perfagent-write-test-{os.getpid()}", "")
        (root / f".perfagent-write-test-{os.getpid()}").unlink()
    except OSError as exc:
        raise UsageError(
            f"output directory {root}: cannot write to it: {exc.strerror or exc} "
            "(set --output-dir to a writable directory)"
        ) from None


def _free_stamp(root: Path, stamp: str) -> str:
    """The timestamp, suffixed when a check in the same second already used it."""
    candidate, counter = stamp, 1
    while (root / "reports" / f"performance_report_{candidate}.txt").exists():
        candidate = f"{stamp}_{counter}"
        counter += 1
    return candidate


def append_step_summary(markdown: str, environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """Append to $GITHUB_STEP_SUMMARY when it is set (GitHub renders it on the run page).

    Returns the path (None when unset) and a warning ("" when fine): a summary that
    cannot be written must not turn a check's verdict into an error exit.
    """
    target = environ.get(STEP_SUMMARY_ENV, "").strip()
    if not target:
        return None, ""
    path = Path(target)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    except OSError as exc:
        return (
            None,
            f"{STEP_SUMMARY_ENV}={target}: cannot append the summary: {exc.strerror or exc}",
        )
    return path, ""


# --- the console ------------------------------------------------------------------


def verdict_table(
    decisions: Iterable[Decision], title: str | None = None, width: int | None = None
) -> Table:
    """The verdict table printed by check and compare, in the order given.

    Means only (the spreads are in the report and the export). When the full table
    (borders, interval column) is wider than `width`, it drops the borders and the
    interval column, then cuts long names in the middle: a name keeps its start and
    its end, and never shrinks below MIN_NAME_WIDTH characters.
    """
    rows = [
        (
            d,
            format_quantity(d.base.mean, d.unit),
            format_quantity(d.head.mean, d.unit),
            _signed_pct(d.change_percent),
            "n/a" if d.verdict is Verdict.INCONCLUSIVE else f"{d.low:.3f}-{d.high:.3f}",
        )
        for d in decisions
    ]
    headers = ("Benchmark", "Baseline", "Current", "Change", f"{_confidence_label()} interval",
               "Verdict")  # fmt: skip

    def widest(index: int) -> int:
        cells: list[str] = [str(r[index]) for r in rows] if index else [r[0].name for r in rows]
        return max([len(headers[index]), *(len(c) for c in cells)])

    verdicts = max([len(headers[5]), *(len(r[0].verdict.value) for r in rows)])
    others = [widest(i) for i in (1, 2, 3, 4)] + [verdicts]
    # HEAVY_HEAD: one border per column plus one, and a space each side of every cell.
    full = widest(0) + sum(others) + 3 * len(headers) + 1
    compact = width is not None and full > width
    if compact:
        others = [others[0], others[1], others[2], others[4]]
        # No edges, no cell padding at the table's edges, one space between columns.
        used = sum(others) + 3 * len(others)
        name_width = max(MIN_NAME_WIDTH, (width or 0) - used)
        table = Table(
            title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
            title_justify="left",
        )  # fmt: skip
    else:
        name_width = widest(0)
        table = Table(title=title, show_lines=False, title_justify="left")
    table.add_column("Benchmark", no_wrap=True, overflow="ellipsis", min_width=MIN_NAME_WIDTH)
    table.add_column("Baseline", justify="right", no_wrap=True)
    table.add_column("Current", justify="right", no_wrap=True)
    table.add_column("Change", justify="right", no_wrap=True)
    if not compact:
        table.add_column(headers[4], justify="center", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    for d, base_text, head_text, change, interval in rows:
        style = _VERDICT_STYLE[d.verdict]
        cells = [middle_cut(d.name, name_width), base_text, head_text, change]
        if not compact:
            cells.append(interval)
        cells.append(f"[{style}]{d.verdict.value}[/]" if style else d.verdict.value)
        table.add_row(*cells)
    return table


def middle_cut(name: str, width: int) -> str:
    """`name` in at most `width` characters, its middle replaced by an ellipsis."""
    if len(name) <= width:
        return name
    keep = max(width - 1, 2)
    head = (keep + 1) // 2
    return f"{name[:head]}…{name[len(name) - (keep - head) :]}"


def table_rows(outcome: Outcome) -> tuple[list[Decision], int]:
    """The decisions the console table shows, and how many `same` ones it folded away."""
    decisions = ordered(outcome.comparison.decisions)
    if outcome.show_all or len(decisions) <= COLLAPSE_ABOVE:
        return decisions, 0
    shown = [d for d in decisions if d.verdict is not Verdict.SAME]
    return shown, len(decisions) - len(shown)


def print_outcome(outcome: Outcome, console: Console) -> None:
    """The verdict table, notes, and the final line (always last)."""
    shown, folded = table_rows(outcome)
    if shown:
        console.print(verdict_table(shown, width=console.width))
    if folded:
        console.print(
            f"{_count(folded, 'benchmark')} the same (--all lists them)",
            markup=False,
            highlight=False,
        )
    mean = geometric_mean(outcome.comparison.decisions)
    if mean is not None and len(outcome.comparison.decisions) > 1:
        console.print(
            f"Geometric mean of ratios: {mean:.3f} ({_signed_pct((mean - 1) * 100)})",
            markup=False,
            highlight=False,
        )
    for d in ordered(outcome.comparison.inconclusive):
        console.print(
            f"{d.name}: inconclusive: {d.note} (--strict fails on it)",
            markup=False,
            highlight=False,
        )
    drift = drift_line(outcome)
    if drift:
        console.print(drift, markup=False, highlight=False)
    for name in outcome.comparison.only_in_base:
        console.print(f"{name}: in the baseline but not measured now", markup=False)
    for name in outcome.comparison.only_in_head:
        console.print(f"{name}: new, no baseline yet (not judged)", markup=False)
    for key, old, new in outcome.software_changes:
        console.print(
            f"note: software differs from the baseline's: {key}: {_absent(old)} -> {_absent(new)}",
            markup=False,
            highlight=False,
        )
    for line in resolution_lines(outcome):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if outcome.machine_drift is not None and outcome.machine_drift.moved:
        kept = "judged anyway (--accept-drift)" if outcome.drift_accepted else "verdict withheld"
        if not outcome.machine_changed and not outcome.drift_accepted:
            kept = "the regressions go beyond what it explains"
        console.print(
            f"machine drift: {outcome.machine_drift.describe()}; {kept}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for note in outcome.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(final_line(outcome), markup=False, highlight=False, soft_wrap=True)


# How many "cannot see the threshold" warnings are printed before "and N more".
RESOLUTION_WARNINGS = 5


def resolution_lines(outcome: Outcome) -> list[str]:
    """What the check can see (judge.resolution): a range, and a warning per blind spot."""
    from perfagent.judge.resolution import summary_lines

    return summary_lines(list(outcome.resolutions.values()), RESOLUTION_WARNINGS)
