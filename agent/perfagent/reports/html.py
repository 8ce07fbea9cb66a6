"""report.html: the verdict of a check, compare or ab as one self-contained page.

One file, no network: the CSS is inline, the plots are inline SVG (`reports.svg`),
and a few lines of inline JavaScript sort the verdict table; a Content-Security-Policy
forbids every outside fetch, so the page reads the same from a CI artifact, a mail
attachment or a laptop on a train. It shows the facts of the other artifacts:
the verdict table (regressions first), per judged benchmark a plot of both sides'
process means beside the ratio's interval and the threshold, the fingerprint and
any software difference, and the notes (drift, resolution, change points).

The shared page shell (`page`, `CSS`, commit links) also serves the history
dashboard (`reports.dashboard`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from perfagent import __version__
from perfagent.judge.resolution import POWER, Resolution
from perfagent.judge.stats import (
    CONFIDENCE,
    DRIFT_HISTORY,
    DRIFT_MEASURED,
    DRIFT_NONE,
    Decision,
    Verdict,
)
from perfagent.reports.svg import Canvas, Scale, escape, nice_ticks, padded_range, tick_label
from perfagent.reports.units import axis_scale, format_quantity

if TYPE_CHECKING:
    from perfagent.reports.outcome import Outcome, Side
    from perfagent.results import Samples

# Table order: what needs a maintainer's eyes first. Verdicts this module does not
# know (a newer judge) sort after the known ones that matter and before "same".
VERDICT_RANK = {"regression": 0, "slower": 1, "inconclusive": 2, "same": 4, "faster": 5}
_UNKNOWN_RANK = 3
MISSING_RANK, NEW_RANK = 6, 7

# Nothing may be fetched: styles and scripts are inline, images are data: URIs at most.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
)

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa;
  --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5;
  --good: #1a7f37; --good-bg: #dafbe1; --base: #0969da; --head: #bc4c00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1180px; padding: 0 20px 40px; }
h1 { font-size: 22px; margin: 0; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
a { color: var(--base); }
.banner { margin: 16px 0; padding: 14px 18px; border-radius: 6px; border: 1px solid var(--line); }
.banner.fail { background: var(--bad-bg); border-color: var(--bad); }
.banner.ok { background: var(--good-bg); border-color: var(--good); }
.banner.withheld { background: var(--warn-bg); border-color: var(--warn); }
.banner p { margin: 6px 0 0; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
dl.facts.columns-3 { grid-template-columns: repeat(3, max-content minmax(0, 1fr)); }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { word-break: break-all; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 10px; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 10px; }
tr.regression td { background: var(--bad-bg); }
.verdict { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px;
  font-weight: 600; border: 1px solid var(--line); background: var(--bg-alt); }
.verdict.regression { color: #fff; background: var(--bad); border-color: var(--bad); }
.verdict.slower, .verdict.inconclusive { color: var(--warn); background: var(--warn-bg); }
.verdict.faster { color: var(--good); background: var(--good-bg); }
.verdict.missing, .verdict.new { color: var(--muted); }
.blind, .machine-drift.moved { color: var(--bad); font-weight: 600; }
section.benchmark { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
  margin: 12px 0; }
section.benchmark.regression { border-color: var(--bad); border-width: 2px; }
section.benchmark p { margin: 4px 0; }
figure { margin: 6px 0; overflow-x: auto; }
ul.notes { margin: 4px 0; padding-left: 20px; }
ul.notes li { margin: 2px 0; }
.muted { color: var(--muted); }
svg { font: 11px system-ui, sans-serif; }
svg .grid { stroke: #eaeef2; }
svg .run-separator { stroke: #d1d9e0; stroke-dasharray: 2 3; }
 svg .axis { stroke: #8c959f; } svg .tick { fill: var(--muted); }
svg .axis-label, svg .label { fill: var(--fg); }
svg .base { fill: var(--base); } svg .head { fill: var(--head); }
svg .mean-base { stroke: var(--base); stroke-width: 2; }
svg .mean-head { stroke: var(--head); stroke-width: 2; }
svg .spread { stroke: #8c959f; stroke-width: 1.5; }
svg .threshold { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .threshold-label { fill: var(--bad); }
svg .unity { stroke: #57606a; stroke-width: 1; }
svg .interval { fill: #c8d9f5; stroke: var(--base); }
svg .interval.regression { fill: #ffcecb; stroke: var(--bad); }
svg .ratio { fill: var(--base); } svg .ratio.regression { fill: var(--bad); }
svg .history-line { stroke: var(--base); stroke-width: 1.5; }
svg .level { stroke: var(--good); stroke-width: 2.5; }
svg .change-point { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 5 3; }
svg .change-point.minor { stroke: #8c959f; }
svg .change-label { fill: var(--bad); } svg .change-label.minor { fill: var(--muted); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
"""

# Click a header to sort by it (again to reverse). Cells carry their sort key in
# data-value; numeric columns are marked data-type="number" on the header.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, column) {
    th.tabIndex = 0;
    function sort() {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var numeric = th.dataset.type === "number";
      var up = th.getAttribute("aria-sort") !== "ascending";
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
        var d = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return up ? d : -d;
      });
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
  });
  table.dataset.sortable = "ready";
});
"""

# A cell without a value (markup: an en dash).
NO_VALUE = "&ndash;"
# The sort key of a numeric cell that has no number (a benchmark on one side only).
_NO_NUMBER = "-1e300"

_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")
_URL = re.compile(r"https?://[^\s\"'<>]+")


# --- the page shell -------------------------------------------------------------------


def page(title: str, body: str, *, script: str = SORT_SCRIPT) -> str:
    """A whole HTML document: `body` is markup built with `escape`, `title` is text."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="perfagent {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n" + (f"<script>{script}</script>\n" if script else "") + "</body>\n</html>\n"
    )


def repository_url(explicit: str | None, environ: Mapping[str, str]) -> str | None:
    """The web address of the repository, for commit links: the setting or flag, else
    GitHub Actions' GITHUB_SERVER_URL/GITHUB_REPOSITORY; None when neither is known.

    Only http(s) addresses are used: a `javascript:` URL would run in the page.
    """
    candidate = (explicit or "").strip()
    if not candidate:
        server = environ.get("GITHUB_SERVER_URL", "").strip()
        repository = environ.get("GITHUB_REPOSITORY", "").strip()
        if server and repository:
            candidate = f"{server.rstrip('/')}/{repository.strip('/')}"
    candidate = candidate.rstrip("/").removesuffix(".git")
    return candidate if _URL.fullmatch(candidate) else None


def commit_url(commit: str | None, repo_url: str | None) -> str | None:
    """The repository's page of a commit, when both are known (and the commit is a hash)."""
    if commit and repo_url and _COMMIT.fullmatch(commit):
        return f"{repo_url}/commit/{commit}"
    return None


def commit_html(commit: str | None, repo_url: str | None, *, length: int = 12) -> str:
    """A commit as code, linked to the repository's page of it when the address is known."""
    if not commit:
        return '<span class="muted">unknown</span>'
    shown = f'<code title="{escape(commit)}">{escape(commit[:length])}</code>'
    url = commit_url(commit, repo_url)
    return f'<a href="{escape(url)}">{shown}</a>' if url else shown


def anchor(name: str, index: int) -> str:
    """A fragment id for a benchmark: readable, unique by its index, safe in a URL."""
    return f"b{index}-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "x")


def table(
    headers: Sequence[tuple[str, str]],
    rows: Iterable[tuple[str, Sequence[tuple[str, str, str]]]],
    *,
    sortable: bool = False,
    table_id: str | None = None,
    sorted_by: int | None = None,
) -> str:
    """A table: headers are (text, "num"|"text"); each row is (tr class, cells), each
    cell (markup, sort key, td class)."""
    head = []
    for index, (text, kind) in enumerate(headers):
        attrs = ' class="num" data-type="number"' if kind == "num" else ""
        if sortable and index == sorted_by:
            attrs += ' aria-sort="ascending"'
        head.append(f"<th{attrs}>{escape(text)}</th>")
    body = []
    for row_class, cells in rows:
        tds = "".join(
            f'<td class="{escape(cls)}" data-value="{escape(key)}">{markup}</td>'
            for markup, key, cls in cells
        )
        body.append(f'<tr class="{escape(row_class)}">{tds}</tr>')
    attrs = (f' id="{escape(table_id)}"' if table_id else "") + (
        ' class="sortable"' if sortable else ""
    )
    return (
        f"<table{attrs}><thead><tr>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def facts(items: Iterable[tuple[str, str]], *, columns: int = 1) -> str:
    """A definition list of (label text, value markup), in `columns` pairs side by side."""
    wide = f" columns-{columns}" if columns > 1 else ""
    return (
        f'<dl class="facts{wide}">'
        + "".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in items)
        + "</dl>"
    )


def _pct(value: float) -> str:
    return f"{value:g}%"


def _signed(value: float) -> str:
    return f"{value:+.1f}%" if math.isfinite(value) else str(value)


def _key(value: float) -> str:
    return repr(value) if math.isfinite(value) else _NO_NUMBER


# --- the report ---------------------------------------------------------------------


def report_html(outcome: Outcome, headline: str, *, repo_url: str | None = None) -> str:
    """The whole report page; `headline` is the check's last line (final_line)."""
    comparison = outcome.comparison
    decisions = sorted(
        enumerate(comparison.decisions),
        key=lambda item: (_rank(item[1]), -item[1].ratio, item[1].name),
    )
    anchors = {index: anchor(d.name, index) for index, d in enumerate(comparison.decisions)}
    # Green for a pass, red for a failed gate, amber for a verdict withheld (exit 3).
    state = {0: "ok", 1: "fail"}.get(int(outcome.exit_code), "withheld")
    title = f"perfagent: {outcome.suite or 'results'}: {headline}"
    parts = [
        f'<header class="banner {state}" id="verdict"><h1>Performance verdict: '
        f"{escape(outcome.suite or 'results')}</h1><p>{escape(headline)}</p></header>",
        _facts_section(outcome, repo_url),
        '<section id="verdicts"><h2>Verdicts</h2>',
        f'<p class="muted">Regressions first; click a column to sort. {_METHOD}</p>',
        _verdict_table(outcome, decisions, anchors),
        "</section>",
        _notes_section(outcome),
        _software_section(outcome),
        _fingerprint_section(outcome),
        '<section id="benchmarks"><h2>Benchmarks</h2>',
        f'<p class="muted">{_CAPTION}</p>',
        *(_benchmark_section(outcome, decision, anchors[index]) for index, decision in decisions),
        "</section>",
        f"<footer>Written by perfagent {escape(__version__)} at "
        f"{escape(outcome.timestamp.strftime('%Y-%m-%d %H:%M:%S'))} UTC.</footer>",
    ]
    return page(title, "\n".join(p for p in parts if p))


def _rank(decision: Decision) -> int:
    return VERDICT_RANK.get(str(decision.verdict.value), _UNKNOWN_RANK)


_METHOD = escape(
    "Each worker process counts once (its mean). A regression needs the ratio "
    f"current/baseline beyond 1 + threshold and its whole {CONFIDENCE * 100:g}% interval above 1."
)


def _side_html(side: Side, repo_url: str | None) -> str:
    parts = [f"<code>{escape(side.location)}</code>"]
    if side.commit:
        parts.append("commit " + commit_html(side.commit, repo_url))
    if side.runs:
        parts.append(escape(f"{side.runs} run" + ("" if side.runs == 1 else "s")))
    return ", ".join(parts)


def _facts_section(outcome: Outcome, repo_url: str | None) -> str:
    items = [
        ("Date (UTC)", escape(outcome.timestamp.strftime("%Y-%m-%d %H:%M:%S"))),
        ("Suite", escape(outcome.suite or "unknown")),
        ("Metric", escape(outcome.metric)),
        ("Threshold", escape(_thresholds(outcome))),
        ("Baseline", _side_html(outcome.base, repo_url)),
        ("Current", _side_html(outcome.head, repo_url)),
        (
            "Fingerprint",
            f'<code id="fingerprint-id">{escape(outcome.fingerprint)}</code>'
            if outcome.fingerprint
            else '<span class="muted">none recorded</span>',
        ),
    ]
    if outcome.drift_history:
        items.append(("Drift prior", escape(f"from {outcome.drift_history}")))
    drift = outcome.machine_drift
    if drift is not None:
        state = "machine-drift moved" if drift.moved else "machine-drift"
        items.append(("Machine", f'<span class="{state}">{escape(drift.describe())}</span>'))
    return f'<section id="facts"><h2>The check</h2>{facts(items)}</section>'


def _thresholds(outcome: Outcome) -> str:
    if not outcome.thresholds:
        return f"{_pct(outcome.threshold)} for every benchmark"
    own = "; ".join(f"{pattern} {_pct(value)}" for pattern, value in outcome.thresholds)
    return f"{_pct(outcome.threshold)}; {own}"


def _verdict_table(
    outcome: Outcome, decisions: Sequence[tuple[int, Decision]], anchors: Mapping[int, str]
) -> str:
    confidence = f"{CONFIDENCE * 100:g}%"
    headers = [
        ("Benchmark", "text"),
        ("Verdict", "num"),
        ("Change", "num"),
        (f"{confidence} interval", "num"),
        ("Threshold", "num"),
        ("Baseline", "num"),
        ("Current", "num"),
        ("Processes", "num"),
        ("Measured again", "num"),
    ]
    resolutions = outcome.resolutions
    if resolutions:
        headers.append(("Detects", "num"))
    rows: list[tuple[str, Sequence[tuple[str, str, str]]]] = []
    for index, d in decisions:
        verdict = str(d.verdict.value)
        confirmations = outcome.confirmation_runs.get(d.name, 0)
        rows.append(
            (
                f"verdict-row {verdict}",
                [
                    (
                        f'<a href="#{anchors[index]}">{escape(d.name)}</a>',
                        d.name,
                        "name",
                    ),
                    (_badge(verdict), str(_rank(d)), ""),
                    (escape(_signed(d.change_percent)), _key(d.change_percent), "num"),
                    (
                        f"{d.low:.3f} {NO_VALUE} {d.high:.3f}" if _has_interval(d) else "n/a",
                        _key(d.low) if _has_interval(d) else _NO_NUMBER,
                        "num",
                    ),
                    (escape(_pct(d.threshold)), _key(d.threshold), "num"),
                    (_mean_html(d.base.mean, d.base.std, d.unit), _key(d.base.mean), "num"),
                    (_mean_html(d.head.mean, d.head.std, d.unit), _key(d.head.mean), "num"),
                    (
                        escape(f"{d.base.n_processes} / {d.head.n_processes}"),
                        str(d.head.n_processes),
                        "num",
                    ),
                    (
                        str(confirmations) if confirmations else NO_VALUE,
                        str(confirmations),
                        "num",
                    ),
                    *([_detects_cell(resolutions.get(d.name))] if resolutions else []),
                ],
            )
        )
    for names, verdict, rank in (
        (outcome.comparison.only_in_base, "missing", MISSING_RANK),
        (outcome.comparison.only_in_head, "new", NEW_RANK),
    ):
        for name in names:
            blank = ("", _NO_NUMBER, "num")
            rows.append(
                (
                    f"verdict-row {verdict}",
                    [
                        (escape(name), name, "name"),
                        (_badge(verdict), str(rank), ""),
                        *[blank] * (len(headers) - 2),
                    ],
                )
            )
    return table(headers, rows, sortable=True, table_id="verdict-table", sorted_by=1)


def _detects_cell(resolution: Resolution | None) -> tuple[str, str, str]:
    """The smallest slowdown this check sees (90% power); flagged when above the threshold."""
    if resolution is None or not math.isfinite(resolution.detectable):
        return (NO_VALUE if resolution is None else "nothing", _NO_NUMBER, "num")
    shown = escape(f"{resolution.detectable:.1f}%")
    if not resolution.sees_threshold:
        shown = f'<span class="blind" title="above the threshold">{shown}</span>'
    return (shown, repr(resolution.detectable), "num")


def _has_interval(d: Decision) -> bool:
    """An inconclusive decision's interval is a point: drawn or printed, it would say
    "certain" where the truth is "unknown" (the text report prints n/a too)."""
    return d.verdict is not Verdict.INCONCLUSIVE


def _badge(verdict: str) -> str:
    return f'<span class="verdict {escape(verdict)}">{escape(verdict)}</span>'


def _mean_html(mean: float, std: float, unit: str) -> str:
    return escape(f"{format_quantity(mean, unit)} ± {format_quantity(std, unit)}")


def _notes_section(outcome: Outcome) -> str:
    notes = list(outcome.notes)
    notes += [f"{d.name}: {d.note}" for d in outcome.comparison.decisions if d.note]
    notes += [
        warning
        for resolution in outcome.resolutions.values()
        if (warning := resolution.warning()) is not None
    ]
    if not notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    return f'<section id="notes"><h2>Notes</h2><ul class="notes">{items}</ul></section>'


def _software_section(outcome: Outcome) -> str:
    if not outcome.software_changes:
        return (
            '<section id="software"><h2>Software</h2><p class="muted">No software '
            "difference from the baseline's recorded.</p></section>"
        )
    rows = [
        (
            "",
            [
                (f"<code>{escape(key)}</code>", str(key), ""),
                (escape(_absent(old)), str(old), ""),
                (escape(_absent(new)), str(new), ""),
            ],
        )
        for key, old, new in outcome.software_changes
    ]
    return (
        '<section id="software"><h2>Software differences</h2><p class="muted">Not blocking, '
        "but a new library or kernel can explain a change the code did not cause.</p>"
        + table([("Field", "text"), ("Baseline", "text"), ("Current", "text")], rows)
        + "</section>"
    )


def _absent(value: object) -> str:
    return "(absent)" if value is None else str(value)


def _fingerprint_section(outcome: Outcome) -> str:
    hardware = outcome.hardware
    if not hardware:
        return ""
    items = [(str(key), escape(value)) for key, value in hardware.items()]
    return (
        '<section id="fingerprint"><h2>Hardware fingerprint</h2>'
        f'<p class="muted">Fingerprint <code>{escape(outcome.fingerprint or "none")}</code>: '
        "only results with the same fingerprint are compared.</p>"
        + facts(items, columns=3)
        + "</section>"
    )


def _benchmark_section(outcome: Outcome, d: Decision, anchor_id: str) -> str:
    verdict = str(d.verdict.value)
    base = outcome.base_samples.get(d.name)
    head = outcome.head_samples.get(d.name)
    confidence = f"{CONFIDENCE * 100:g}%"
    interval = f"[{d.low:.3f}, {d.high:.3f}]" if _has_interval(d) else "n/a (inconclusive)"
    numbers = (
        f"ratio {d.ratio:.3f} ({_signed(d.change_percent)}), {confidence} interval "
        f"{interval}, threshold {_pct(d.threshold)}"
    )
    sides = (
        f"baseline {format_quantity(d.base.mean, d.unit)} ± {format_quantity(d.base.std, d.unit)} "
        f"({_counts(d.base)}); current {format_quantity(d.head.mean, d.unit)} ± "
        f"{format_quantity(d.head.std, d.unit)} ({_counts(d.head)})"
    )
    notes = []
    confirmations = outcome.confirmation_runs.get(d.name, 0)
    if confirmations:
        notes.append(f"measured again {confirmations} time(s) before deciding")
    if d.note:
        notes.append(d.note)
    if not (d.note and d.drift_source == DRIFT_NONE):  # the judge's note says it already
        notes.append(_drift_text(outcome, d))
    resolution = outcome.resolutions.get(d.name)
    if resolution is not None:
        notes.append(_resolution_text(resolution))
    note_list = (
        '<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"
        if notes
        else ""
    )
    return (
        f'<section class="benchmark {escape(verdict)}" id="{escape(anchor_id)}" '
        f'data-benchmark="{escape(d.name)}">'
        f"<h3>{escape(d.name)} {_badge(verdict)}</h3>"
        f'<p>{escape(numbers)}</p><p class="muted">{escape(sides)}</p>'
        f"<figure>{comparison_plot(d, base, head)}</figure>{note_list}</section>"
    )


def _drift_text(outcome: Outcome, d: Decision) -> str:
    """Where this decision's run-to-run drift came from: it decides how wide the interval is."""
    if d.drift_source == DRIFT_MEASURED:
        return "run-to-run drift: measured in this comparison (its runs, or its pairs in ab)"
    if d.drift_source == DRIFT_HISTORY:
        where = f" ({outcome.drift_history})" if outcome.drift_history else ""
        return f"run-to-run drift: from the store's earlier baselines{where}"
    return (
        "run-to-run drift: not estimated (one run per side), taken as 0: the interval is "
        "too narrow if whole runs drift"
    )


def _resolution_text(resolution: Resolution) -> str:
    seen = (
        f"detects a slowdown of {resolution.detectable:.1f}% or more with {POWER * 100:g}% power"
        if math.isfinite(resolution.detectable)
        else "cannot detect any slowdown"
    )
    verdict = (
        "" if resolution.sees_threshold else f", not the {_pct(resolution.threshold)} threshold"
    )
    return f"resolution ({resolution.design}): {seen}{verdict}"


_CAPTION = escape(
    "Left: one dot per worker process (the mean of its values), in columns by suite run; "
    "solid lines: each side's mean; dashed: the baseline mean plus the threshold. "
    f"Right: the ratio current/baseline with its {CONFIDENCE * 100:g}% interval."
)


def _counts(summary: Any) -> str:
    processes = f"{summary.n_processes} process" + ("" if summary.n_processes == 1 else "es")
    return f"{processes}, {summary.n_runs} run" + ("" if summary.n_runs == 1 else "s")


# --- the plot -----------------------------------------------------------------------

_WIDTH, _HEIGHT = 760, 250
_TOP, _BOTTOM = 18, 205  # plot area, in pixels from the top
_MEANS_LEFT, _MEANS_RIGHT = 70, 470
_RATIO_LEFT, _RATIO_RIGHT = 560, 740


def comparison_plot(d: Decision, base: Samples | None, head: Samples | None) -> str:
    """Left: every process mean of both sides by suite run, each side's mean, and the
    level the threshold allows; right: the ratio current/baseline with its interval,
    1 (no change) and 1 + threshold. Without samples each side shows mean ± std."""
    verdict = str(d.verdict.value)
    canvas = Canvas(_WIDTH, _HEIGHT)
    limit = d.base.mean * (1.0 + d.threshold / 100.0)
    base_groups = _groups(base, d.base.mean)
    head_groups = _groups(head, d.head.mean)
    everything = [v for g in base_groups + head_groups for v in g]
    spread = [d.base.mean - d.base.std, d.base.mean + d.base.std]
    spread += [d.head.mean - d.head.std, d.head.mean + d.head.std]
    factor, label = axis_scale(d.unit, everything)
    low, high = padded_range([v / factor for v in [*everything, *spread, limit]])
    scale = Scale(low, high, _BOTTOM, _TOP)
    ticks = nice_ticks(low, high)
    canvas.y_axis(scale, _MEANS_LEFT, ticks, label, _MEANS_RIGHT)
    middle = (_MEANS_LEFT + _MEANS_RIGHT) / 2
    for side, groups, summary, left, right in (
        ("base", base_groups, d.base, _MEANS_LEFT + 10, middle - 10),
        ("head", head_groups, d.head, middle + 10, _MEANS_RIGHT - 10),
    ):
        _side(canvas, side, groups, summary, left, right, scale, factor, d.unit, base is None)
        name = "baseline" if side == "base" else "current"
        canvas.text(
            (left + right) / 2, _BOTTOM + 18, f"{name}: {_counts(summary)}", class_="label",
            text_anchor="middle",
        )  # fmt: skip
    y = scale(limit / factor)
    canvas.line(_MEANS_LEFT, y, _MEANS_RIGHT, y, class_="threshold")
    canvas.text(
        _MEANS_RIGHT - 2, y - 4, f"baseline + {_pct(d.threshold)}", class_="threshold-label",
        text_anchor="end",
    )  # fmt: skip
    canvas.line(_MEANS_LEFT, _BOTTOM, _MEANS_RIGHT, _BOTTOM, class_="axis")
    _ratio_panel(canvas, d, verdict)
    title = (
        f"{d.name}: process means of baseline and current, and the ratio with its "
        f"{CONFIDENCE * 100:g}% interval and the {_pct(d.threshold)} threshold"
    )
    return canvas.render(title, class_=f"plot comparison {verdict}", data_benchmark=d.name)


def _groups(samples: Samples | None, mean: float) -> list[list[float]]:
    if samples is None:
        return [[mean]]
    groups = [list(g) for g in samples.groups.values() if g]
    return groups or [[mean]]


def _side(
    canvas: Canvas,
    side: str,
    groups: Sequence[Sequence[float]],
    summary: Any,
    left: float,
    right: float,
    scale: Scale,
    factor: float,
    unit: str,
    summary_only: bool,
) -> None:
    """One side's points, run by run in columns, and its mean across them."""
    width = (right - left) / len(groups)
    for run, group in enumerate(groups):
        start = left + run * width
        if run:
            canvas.line(start, _TOP, start, _BOTTOM, class_="run-separator")
        for index, value in enumerate(group):
            # Spread a run's points evenly across its column: overlap would hide them.
            x = start + width * (index + 1) / (len(group) + 1)
            canvas.circle(
                x, scale(value / factor), 3.5 if len(group) < 30 else 2.0,
                title=f"run {run + 1}, process {index + 1}: {format_quantity(value, unit)}",
                class_=f"point {side}",
            )  # fmt: skip
    if summary_only:
        x = (left + right) / 2
        canvas.line(
            x, scale((summary.mean - summary.std) / factor), x,
            scale((summary.mean + summary.std) / factor), class_="spread",
        )  # fmt: skip
    y = scale(summary.mean / factor)
    canvas.add(
        "line",
        {"x1": left, "y1": y, "x2": right, "y2": y, "class": f"mean mean-{side}"},
        title=f"mean {format_quantity(summary.mean, unit)}",
    )


def _ratio_panel(canvas: Canvas, d: Decision, verdict: str) -> None:
    limit = 1.0 + d.threshold / 100.0
    low, high = padded_range([d.low, d.high, d.ratio, 1.0, limit], pad=0.15)
    scale = Scale(low, high, _BOTTOM, _TOP)
    ticks = nice_ticks(low, high)
    for tick in ticks:
        y = scale(tick)
        canvas.line(_RATIO_LEFT, y, _RATIO_RIGHT, y, class_="grid")
        canvas.text(
            _RATIO_LEFT - 4, y + 3.5, tick_label(tick, ticks), class_="tick", text_anchor="end"
        )
    # Each label sits above its line; "no change" goes below its own when the two lines
    # are too close for both (a wide interval squeezes 1 and 1 + threshold together).
    crowded = scale(1.0) - scale(limit) < 14
    for value, css, text in ((1.0, "unity", "no change"), (limit, "threshold", "threshold")):
        y = scale(value)
        canvas.line(_RATIO_LEFT, y, _RATIO_RIGHT, y, class_=css)
        canvas.text(
            _RATIO_RIGHT, y + 12 if crowded and css == "unity" else y - 4, text,
            class_="threshold-label" if css == "threshold" else "tick", text_anchor="end",
        )  # fmt: skip
    centre = (_RATIO_LEFT + _RATIO_RIGHT) / 2 - 20
    top, bottom = scale(d.high), scale(d.low)
    marked = " regression" if verdict == "regression" else ""
    if _has_interval(d):
        canvas.rect(
            centre - 14, top, 28, bottom - top,
            title=f"{CONFIDENCE * 100:g}% interval {d.low:.3f} to {d.high:.3f}",
            class_=f"interval{marked}",
        )  # fmt: skip
    canvas.circle(centre, scale(d.ratio), 5, title=f"ratio {d.ratio:.3f}", class_=f"ratio{marked}")
    canvas.line(_RATIO_LEFT, _BOTTOM, _RATIO_RIGHT, _BOTTOM, class_="axis")
    canvas.text(
        (_RATIO_LEFT + _RATIO_RIGHT) / 2, _BOTTOM + 18, "ratio current / baseline",
        class_="label", text_anchor="middle",
    )  # fmt: skip
