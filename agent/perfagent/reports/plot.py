"""The history plot of `perfagent history --plot`: one panel per benchmark."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent.errors import UsageError
from perfagent.judge.changepoints import segment_means
from perfagent.judge.history import BenchmarkHistory, SuiteHistory, signed_percent
from perfagent.reports.units import axis_scale
from perfagent.store.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from perfagent.store import StoredBaseline


def plot_png(history: SuiteHistory) -> bytes:
    """A PNG with one panel per benchmark: its baseline means over time (with the
    spread of their process means), the level of each segment, and the change points."""
    # Imported here: matplotlib takes about half a second to import, which every
    # other command would pay at start-up.
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib: pip install 'perfagent[fleet]' (or matplotlib)"
        ) from None

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    count = max(1, len(history.benchmarks))
    figure, axes = pyplot.subplots(
        count, 1, figsize=(10, 2.8 * count + 0.6), squeeze=False, sharex=True
    )
    labels = [_tick_label(b) for b in history.baselines]
    for axis, benchmark in zip(axes[:, 0], history.benchmarks, strict=False):
        _plot_benchmark(axis, benchmark)
    axis = axes[-1, 0]
    if len(labels) <= 16:
        axis.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
    else:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("baseline (oldest = 0)")
    figure.suptitle(
        f"Baselines of suite '{history.suite}' on fingerprint {history.fingerprint} "
        f"({history.metric})",
        fontsize=11,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    pyplot.close(figure)
    return buffer.getvalue()


def _tick_label(baseline: StoredBaseline) -> str:
    parts = []
    if baseline.date:
        parts.append(baseline.date.strftime("%m-%d %H:%M"))
    if baseline.commit:
        parts.append(baseline.commit[:7])
    return " ".join(parts) or Path(baseline.location).stem[:12]


def _plot_benchmark(axis: Any, benchmark: BenchmarkHistory) -> None:
    factor, suffix = axis_scale(benchmark.unit, [p.mean for p in benchmark.points])
    xs = [p.position for p in benchmark.points]
    ys = [p.mean / factor for p in benchmark.points]
    errors = [p.stdev / factor for p in benchmark.points]
    axis.errorbar(
        xs, ys, yerr=errors, fmt="o-", color="tab:blue", ecolor="0.6", capsize=3, lw=1,
        ms=4, label="baseline mean ± std dev of its processes",
    )  # fmt: skip
    indices = [s.change.index for s in benchmark.shifts]
    for start, end, level in segment_means(ys, indices) if indices else []:
        axis.hlines(
            level, xs[start] - 0.3, xs[end - 1] + 0.3, colors="tab:green", lw=2,
            label="level between change points" if start == 0 else None,
        )  # fmt: skip
    for shift in benchmark.shifts:
        colour = "tab:red" if shift.flagged else "0.5"
        axis.axvline(shift.position - 0.5, color=colour, ls="--", lw=1.2)
        axis.annotate(
            f"change point {signed_percent(shift.shift_percent)}\n"
            f"drift {signed_percent(shift.drift_percent)}",
            xy=(shift.position - 0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color=colour,
        )
    axis.set_title(benchmark.name, fontsize=10, loc="left")
    if benchmark.shifts:
        axis.legend(loc="upper left", fontsize=7, framealpha=0.8)
    axis.set_ylabel(suffix)
    axis.grid(True, alpha=0.3)


def write_plot(history: SuiteHistory, path: Path) -> None:
    """Write the history plot to `path` (atomically); UsageError naming it on failure."""
    data = plot_png(history)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise UsageError(f"--plot {path}: cannot write it: {exc.strerror or exc}") from None
