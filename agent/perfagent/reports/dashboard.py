"""`perfagent history --html DIR`: a static site of every benchmark's baselines over time.

    DIR/index.html                   every hardware class (fingerprint) and suite in the
                                     store, a row per benchmark with its trend
    DIR/benchmarks/<name>.html       one page per benchmark: per hardware class, its
                                     baselines over time, change points marked, and the
                                     table of baselines with their commits

Plain files with relative links and nothing fetched, so a fleet can publish the
directory as it is (a CI artifact, GitHub Pages). The analysis is the history
command's (`judge.history`): only like is compared with like, so every hardware class
gets its own series, never a mix. Commits link to the repository when its address
is known (`repository_url`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent import __version__
from perfagent.errors import NoComparableBaseline, UsageError
from perfagent.judge.changepoints import segment_means
from perfagent.judge.history import (
    MIN_CHANGE_PERCENT,
    BenchmarkHistory,
    SuiteHistory,
    build_history,
)
from perfagent.reports.html import NO_VALUE, commit_html, commit_url, facts, page, table
from perfagent.reports.svg import Canvas, Scale, escape, nice_ticks, padded_range
from perfagent.reports.units import axis_scale, format_quantity
from perfagent.store.atomic import atomic_write_text

if TYPE_CHECKING:
    from perfagent.store import BaselineStore, StoredBaseline

INDEX = "index.html"
PAGES = "benchmarks"
# The hardware facts that name a class for a reader (the id alone says nothing):
# fingerprint field -> its label in the summary line.
_HARDWARE_SUMMARY = (
    ("cpu_model_name", "CPU"),
    ("architecture", "architecture"),
    ("physical_cores", "physical cores"),
    ("logical_cpus", "logical CPUs"),
    ("memory_gib", "memory GiB"),
    ("isolated_cpus", "isolated CPUs"),
    ("governor", "governor"),
    ("boost", "boost"),
)


@dataclass(frozen=True)
class Site:
    """What `write_site` wrote."""

    index: Path
    pages: list[Path]
    histories: list[SuiteHistory]
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: where the site is and what it shows."""
        classes = len({h.fingerprint for h in self.histories})
        flagged = sum(len(b.flagged) for h in self.histories for b in h.benchmarks)
        return (
            f"Dashboard: {self.index} ({classes} hardware class{'es' if classes != 1 else ''}, "
            f"{len(self.pages)} benchmark page(s), {flagged} change point(s) flagged)"
        )


def publish(
    store: BaselineStore,
    directory: str | Path,
    *,
    fingerprints: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
    last: int | None = None,
    min_change_percent: float = MIN_CHANGE_PERCENT,
    repo_url: str | None = None,
) -> Site:
    """`collect` and `write_site` in one: the site of the store's baselines under `directory`."""
    histories, skipped = collect(
        store,
        fingerprints=fingerprints,
        patterns=patterns,
        last=last,
        min_change_percent=min_change_percent,
    )
    return write_site(
        histories, directory, store_location=store.location, repo_url=repo_url, skipped=skipped
    )


def collect(
    store: BaselineStore,
    *,
    fingerprints: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
    last: int | None = None,
    min_change_percent: float = MIN_CHANGE_PERCENT,
) -> tuple[list[SuiteHistory], list[str]]:
    """The history of every (fingerprint, suite) in the store, and what was left out.

    NoComparableBaseline (exit 3, as `history` without --html) when the store holds no
    readable baseline (of the given fingerprints); UsageError when a pattern matches no
    benchmark anywhere.
    """
    from perfagent.measure.suite import name_matches

    pairs = sorted({(e.fingerprint, e.suite) for e in store.entries(archived=True)})
    if fingerprints:
        pairs = [pair for pair in pairs if pair[0] in fingerprints]
    if not pairs:
        wanted = f" for fingerprint {', '.join(fingerprints)}" if fingerprints else ""
        raise NoComparableBaseline(
            f"baseline store {store.location} holds no baseline{wanted}: nothing to publish "
            "(store one with `perfagent baseline`)"
        )
    histories: list[SuiteHistory] = []
    skipped: list[str] = []
    for fingerprint, suite in pairs:
        try:
            history = build_history(
                store, fingerprint, suite, last=last, min_change_percent=min_change_percent
            )
        except NoComparableBaseline:
            skipped.append(f"{fingerprint}/{suite}: no readable baseline")
            continue
        skipped += [f"{fingerprint}/{suite}: {note}" for note in history.skipped]
        if patterns:
            kept = [b for b in history.benchmarks if any(name_matches(b.name, p) for p in patterns)]
            history = SuiteHistory(**{**history.__dict__, "benchmarks": kept})
        if history.benchmarks:
            histories.append(history)
    if not histories:
        shown = ", ".join(repr(p) for p in patterns or [])
        if patterns:
            raise UsageError(f"no benchmark in the baselines of {store.location} matches {shown}")
        raise NoComparableBaseline(
            f"baseline store {store.location}: no readable baseline ({'; '.join(skipped)})"
        )
    return histories, skipped


def page_name(suite: str, benchmark: str) -> str:
    """The file of a benchmark's page: readable, and unique even when two names differ
    only in characters a file name cannot hold (hence the hash)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{suite}--{benchmark}").strip("-.")[:80]
    digest = hashlib.sha256(f"{suite}\0{benchmark}".encode()).hexdigest()[:8]
    return f"{readable or 'benchmark'}-{digest}.html"


def write_site(
    histories: Sequence[SuiteHistory],
    directory: str | Path,
    *,
    store_location: str,
    repo_url: str | None = None,
    skipped: Sequence[str] = (),
    now: datetime | None = None,
) -> Site:
    """Write the index and one page per benchmark under `directory` (atomically, file by
    file); UsageError naming the directory when it cannot be written."""
    root = Path(directory)
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    by_benchmark: dict[tuple[str, str], list[tuple[SuiteHistory, BenchmarkHistory]]] = {}
    for history in histories:
        for benchmark in history.benchmarks:
            key = (history.suite, benchmark.name)
            by_benchmark.setdefault(key, []).append((history, benchmark))
    files: list[tuple[Path, str]] = [
        (root / INDEX, index_html(histories, store_location, when, skipped))
    ]
    for (suite, name), entries in by_benchmark.items():
        files.append(
            (
                root / PAGES / page_name(suite, name),
                benchmark_html(suite, name, entries, repo_url, when),
            )
        )
    try:
        for path, text in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"--html {root}: cannot write {path}: {exc.strerror or exc}") from None
    return Site(
        index=root / INDEX,
        pages=[path for path, _ in files[1:]],
        histories=list(histories),
        skipped=list(skipped),
    )


# --- the index ------------------------------------------------------------------------


def index_html(
    histories: Sequence[SuiteHistory], store_location: str, when: str, skipped: Sequence[str]
) -> str:
    """The site's front page: per hardware class and suite, a row per benchmark."""
    fingerprints = sorted({h.fingerprint for h in histories})
    benchmarks = sum(len(h.benchmarks) for h in histories)
    flagged = sum(len(b.flagged) for h in histories for b in h.benchmarks)
    overview = (
        f"{benchmarks} benchmark series on {len(fingerprints)} hardware class(es), "
        f"{flagged} change point(s) flagged"
    )
    parts = [
        '<header class="banner" id="overview"><h1>Benchmark history</h1>'
        f"<p>{escape(overview)}</p></header>",
        facts(
            [
                ("Store", f"<code>{escape(store_location)}</code>"),
                ("Written", escape(when)),
                (
                    "Method",
                    escape(
                        "one series per hardware fingerprint (only like is compared with "
                        "like); change points by e-divisive means (5% permutation test), "
                        f"flagged from a {MIN_CHANGE_PERCENT:g}% step"
                    ),
                ),
            ]
        ),
    ]
    for fingerprint in fingerprints:
        own = [h for h in histories if h.fingerprint == fingerprint]
        parts.append(
            f'<section class="hardware" id="fp-{escape(fingerprint)}">'
            f"<h2>Hardware class <code>{escape(fingerprint)}</code></h2>"
            f'<p class="muted">{escape(hardware_summary(own[-1].baselines))}</p>'
        )
        for history in own:
            parts.append(_suite_table(history))
        parts.append("</section>")
    if skipped:
        items = "".join(f"<li>{escape(note)}</li>" for note in skipped)
        parts.append(
            f'<section id="skipped"><h2>Left out</h2><ul class="notes">{items}</ul></section>'
        )
    parts.append(f"<footer>Written by perfagent {escape(__version__)}.</footer>")
    return page("Benchmark history", "\n".join(parts))


def hardware_summary(baselines: Sequence[StoredBaseline]) -> str:
    """The newest recorded hardware facts of a class, in one line."""
    hardware: Mapping[str, Any] = next((b.hardware for b in reversed(baselines) if b.hardware), {})
    shown = [f"{label} {hardware[key]}" for key, label in _HARDWARE_SUMMARY if key in hardware]
    return "; ".join(shown) or "no hardware facts recorded"


def _suite_table(history: SuiteHistory) -> str:
    first, newest = history.baselines[0], history.baselines[-1]
    span = (
        f", {first.date:%Y-%m-%d} to {newest.date:%Y-%m-%d}" if first.date and newest.date else ""
    )
    headers = [
        ("Benchmark", "text"),
        ("Baselines", "num"),
        ("Oldest", "num"),
        ("Newest", "num"),
        ("Change", "num"),
        ("Change points", "num"),
        ("Trend", "text"),
    ]
    rows = []
    for benchmark in history.benchmarks:
        link = f"{PAGES}/{page_name(history.suite, benchmark.name)}#fp-{history.fingerprint}"
        total = benchmark.total_percent
        flagged = len(benchmark.flagged)
        rows.append(
            (
                "history-row" + (" changed" if flagged else ""),
                [
                    (
                        f'<a href="{escape(link)}">{escape(benchmark.name)}</a>',
                        benchmark.name,
                        "name",
                    ),
                    (str(len(benchmark.points)), str(len(benchmark.points)), "num"),
                    (
                        escape(format_quantity(benchmark.points[0].mean, benchmark.unit)),
                        repr(benchmark.points[0].mean),
                        "num",
                    ),
                    (
                        escape(format_quantity(benchmark.points[-1].mean, benchmark.unit)),
                        repr(benchmark.points[-1].mean),
                        "num",
                    ),
                    (
                        f"{total:+.1f}%" if total is not None else NO_VALUE,
                        repr(total if total is not None else 0.0),
                        "num",
                    ),
                    (str(flagged) if flagged else NO_VALUE, str(flagged), "num"),
                    (sparkline(benchmark), "", ""),
                ],
            )
        )
    return (
        f'<h3>Suite {escape(history.suite)}</h3><p class="muted">'
        f"{escape(f'{len(history.baselines)} baseline(s){span}, metric {history.metric}')}</p>"
        + table(headers, rows, sortable=True)
    )


def sparkline(benchmark: BenchmarkHistory) -> str:
    """A small line of the baseline means, change points as red ticks."""
    width, height = 140, 28
    canvas = Canvas(width, height)
    means = [p.mean for p in benchmark.points]
    low, high = padded_range(means, pad=0.1)
    ys = Scale(low, high, height - 3, 3)
    xs = Scale(0, max(1, len(means) - 1), 3, width - 3)
    for shift in benchmark.flagged:
        x = xs(shift.change.index - 0.5)
        canvas.line(x, 1, x, height - 1, class_="change-point")
    canvas.polyline([(xs(i), ys(m)) for i, m in enumerate(means)], class_="history-line")
    return canvas.render(f"trend of {benchmark.name}", class_="sparkline")


# --- a benchmark's page ---------------------------------------------------------------


def benchmark_html(
    suite: str,
    name: str,
    entries: Sequence[tuple[SuiteHistory, BenchmarkHistory]],
    repo_url: str | None,
    when: str,
) -> str:
    """One benchmark of one suite, a section (plot, change points, baselines) per class."""
    parts = [
        f'<p><a href="../{INDEX}">&larr; all benchmarks</a></p>',
        f'<header class="banner" id="overview"><h1>{escape(name)}</h1>'
        f"<p>{escape(f'suite {suite}, {len(entries)} hardware class(es)')}</p></header>",
    ]
    for history, benchmark in entries:
        parts.append(_class_section(history, benchmark, repo_url))
    parts.append(f"<footer>Written by perfagent {escape(__version__)} at {escape(when)}.</footer>")
    return page(f"{name}: baselines over time", "\n".join(parts))


def _class_section(history: SuiteHistory, benchmark: BenchmarkHistory, repo_url: str | None) -> str:
    baselines = history.baselines
    unit = benchmark.unit
    shifts = benchmark.shifts
    change_rows = [
        (
            "change-row" + ("" if shift.flagged else " minor"),
            [
                (escape(_when(shift.baseline)), _when(shift.baseline), ""),
                (commit_html(shift.baseline.commit, repo_url), shift.baseline.commit or "", ""),
                (escape(f"{shift.shift_percent:+.1f}%"), repr(shift.shift_percent), "num"),
                (escape(f"{shift.drift_percent:+.1f}%"), repr(shift.drift_percent), "num"),
                (escape(f"{shift.change.p_value:.3f}"), repr(shift.change.p_value), "num"),
                ("flagged" if shift.flagged else "below the flag", str(int(shift.flagged)), ""),
            ],
        )
        for shift in shifts
    ]
    changes = (
        table(
            [
                ("First baseline at the new level", "text"),
                ("Commit", "text"),
                ("Step", "num"),
                ("Drift to newest", "num"),
                ("p", "num"),
                ("", "text"),
            ],
            change_rows,
        )
        if change_rows
        else '<p class="muted">No change point found.</p>'
    )
    rows = [
        (
            "baseline-row",
            [
                (str(p.position), str(p.position), "num"),
                (escape(_when(baselines[p.position])), _when(baselines[p.position]), ""),
                (
                    commit_html(baselines[p.position].commit, repo_url),
                    baselines[p.position].commit or "",
                    "",
                ),
                (escape(format_quantity(p.mean, unit)), repr(p.mean), "num"),
                (escape(format_quantity(p.stdev, unit)), repr(p.stdev), "num"),
                (str(p.processes), str(p.processes), "num"),
            ],
        )
        for p in benchmark.points
    ]
    return (
        f'<section class="hardware-class" id="fp-{escape(history.fingerprint)}">'
        f"<h2>Hardware class <code>{escape(history.fingerprint)}</code></h2>"
        f'<p class="muted">{escape(hardware_summary(baselines))}</p>'
        f"<figure>{history_plot(history, benchmark, repo_url)}</figure>"
        f"<h3>Change points</h3>{changes}"
        "<h3>Baselines</h3>"
        + table(
            [
                ("#", "num"),
                ("Measured", "text"),
                ("Commit", "text"),
                ("Mean", "num"),
                ("Std dev of processes", "num"),
                ("Processes", "num"),
            ],
            rows,
            sortable=True,
        )
        + "</section>"
    )


def _when(baseline: StoredBaseline) -> str:
    return f"{baseline.date:%Y-%m-%d %H:%M}" if baseline.date else Path(baseline.location).name


_WIDTH, _HEIGHT = 1000, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 980, 20, 240


def history_plot(history: SuiteHistory, benchmark: BenchmarkHistory, repo_url: str | None) -> str:
    """Baseline means over time (± the std dev of their processes), the level of each
    segment between change points, and the change points (red when flagged)."""
    canvas = Canvas(_WIDTH, _HEIGHT)
    points = benchmark.points
    factor, label = axis_scale(benchmark.unit, [p.mean for p in points])
    extent = [v for p in points for v in (p.mean - p.stdev, p.mean + p.stdev)]
    low, high = padded_range([v / factor for v in extent])
    ys = Scale(low, high, _BOTTOM, _TOP)
    last = max(1, len(history.baselines) - 1)
    xs = Scale(-0.5, last + 0.5, _LEFT, _RIGHT)
    canvas.y_axis(ys, _LEFT, nice_ticks(low, high), label, _RIGHT)
    canvas.line(_LEFT, _BOTTOM, _RIGHT, _BOTTOM, class_="axis")
    # At most about 12 labels on the time axis, always the first and the newest.
    step = max(1, round(len(points) / 12))
    for index, p in enumerate(points):
        if index % step and index != len(points) - 1:
            continue
        baseline = history.baselines[p.position]
        x = xs(p.position)
        text = (f"{baseline.date:%m-%d}" if baseline.date else f"#{p.position}") + (
            f" {baseline.commit[:7]}" if baseline.commit else ""
        )
        canvas.text(
            x, _BOTTOM + 14, text, class_="tick", text_anchor="end",
            transform=f"rotate(-30 {x:.1f} {_BOTTOM + 14})",
        )  # fmt: skip
    indices = [s.change.index for s in benchmark.shifts]
    for start, end, level in segment_means([p.mean for p in points], indices) if indices else []:
        y = ys(level / factor)
        canvas.add(
            "line",
            {"x1": xs(points[start].position - 0.3), "y1": y,
             "x2": xs(points[end - 1].position + 0.3), "y2": y, "class": "level"},
            title=f"level {format_quantity(level, benchmark.unit)}",
        )  # fmt: skip
    for shift in benchmark.shifts:
        minor = "" if shift.flagged else " minor"
        x = xs(shift.position - 0.5)
        canvas.add(
            "line", {"x1": x, "y1": _TOP, "x2": x, "y2": _BOTTOM, "class": f"change-point{minor}"},
            title=shift.describe(),
        )  # fmt: skip
        canvas.text(x + 4, _TOP + 10, f"{shift.shift_percent:+.1f}%", class_=f"change-label{minor}")
    canvas.polyline([(xs(p.position), ys(p.mean / factor)) for p in points], class_="history-line")
    for p in points:
        baseline = history.baselines[p.position]
        x, y = xs(p.position), ys(p.mean / factor)
        if p.stdev:
            canvas.line(
                x, ys((p.mean - p.stdev) / factor), x, ys((p.mean + p.stdev) / factor),
                class_="spread",
            )  # fmt: skip
        tip = (
            f"{_when(baseline)}"
            + (f", commit {baseline.commit[:12]}" if baseline.commit else "")
            + f": {format_quantity(p.mean, benchmark.unit)} ± "
            f"{format_quantity(p.stdev, benchmark.unit)} ({p.processes} processes)"
        )
        # Drawn apart so that the point can sit inside a link to its commit.
        marker = Canvas(0, 0)
        marker.circle(x, y, 4, title=tip, class_="point base")
        url = commit_url(baseline.commit, repo_url)
        dot = "".join(marker.parts)
        canvas.raw(f'<a href="{escape(url)}">{dot}</a>' if url else dot)
    return canvas.render(
        f"{benchmark.name} on {history.fingerprint}: baseline means over time with change points",
        class_="plot history",
        data_benchmark=benchmark.name,
        data_fingerprint=history.fingerprint,
    )
