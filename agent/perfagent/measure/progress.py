"""What a run shows while it measures: the Progress protocol and its displays, and the
summary of a result (mean and processes per benchmark) that `run`, `baseline` and
`baselines show` print."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pyperf
    from rich.table import Table


class Progress(Protocol):
    """Receives the events of a suite run (a rich display, plain lines, or nothing).

    A run is worker processes one after another (`process_started`, then
    `benchmark_started` for each benchmark of its order, then `worker_done`); at the
    end, `benchmark_done` once per benchmark with its pyperf result.
    """

    def process_started(self, index: int, total: int, cpu: int | None) -> None: ...

    def benchmark_started(self, index: int, total: int, name: str) -> None: ...

    def worker_done(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...

    def benchmark_done(
        self, index: int, total: int, name: str, bench: pyperf.Benchmark
    ) -> None: ...


class QuietProgress:
    """Shows nothing."""

    def process_started(self, index: int, total: int, cpu: int | None) -> None:
        pass

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        pass

    def worker_done(self, count: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        pass


class PlainProgress:
    """A line per worker process and per benchmark measured in it: for CI logs and pipes."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._started = time.monotonic()

    def process_started(self, index: int, total: int, cpu: int | None) -> None:
        where = f" on CPU {cpu}" if cpu is not None else ""
        self._write(f"worker process {index} of {total}{where} (elapsed {self._elapsed()})")

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        self._write(f"  [{index}/{total}] {name} ... (elapsed {self._elapsed()})")

    def worker_done(self, count: int) -> None:
        pass

    def note(self, text: str) -> None:
        self._write(f"  {text}")

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        self._write(
            f"[{index}/{total}] {name}: {format_mean(bench)} ({measured_runs(bench)} processes)"
        )

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self._started)
        return f"{seconds // 60}:{seconds % 60:02d}"


class RichProgress:
    """A live bar on a terminal: benchmarks measured of all, the process and benchmark, elapsed."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichBar

        from perfagent.console import err

        self._bar = RichBar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        )
        self._task = self._bar.add_task("measuring", total=None, current="")
        self._process = ""
        self._processes = 1
        # Benchmarks measured so far, over all processes: the bar's position.
        self._measured = 0

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def process_started(self, index: int, total: int, cpu: int | None) -> None:
        where = f" (CPU {cpu})" if cpu is not None else ""
        self._process = f"process {index}/{total}{where}"
        self._processes = total

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        if index > 1:
            self._measured += 1
        self._bar.update(
            self._task,
            total=total * self._processes,
            completed=self._measured,
            current=f"{self._process}: {name}",
        )

    def worker_done(self, count: int) -> None:
        self._measured += 1
        self._bar.update(self._task, completed=self._measured)

    def note(self, text: str) -> None:
        self._bar.console.print(f"  {text}", markup=False, highlight=False)

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        self._bar.console.print(f"  {name}: {format_mean(bench)}", highlight=False)
        self._bar.update(self._task, current="")


@contextmanager
def progress_display(progress: Progress | None) -> Iterator[Progress]:
    if progress is not None:
        yield progress
        return
    from perfagent.console import err, interactive

    if interactive() and err.is_terminal:
        with RichProgress() as bar:
            yield bar
    else:
        yield PlainProgress(lambda line: err.print(line, markup=False, highlight=False))


def format_mean(bench: pyperf.Benchmark) -> str:
    """`mean ± std dev` in the benchmark's unit, as pyperf formats values."""
    values = bench.get_values()
    if bench.get_unit() == "integer":
        # Instruction counts: pyperf would print raw floats such as 22777250.333333332.
        spread = f" ± {bench.stdev():,.0f}" if len(values) >= 2 else ""
        return f"{bench.mean():,.0f}{spread}"
    if len(values) >= 2:
        mean, stdev = bench.format_values((bench.mean(), bench.stdev()))
        return f"{mean} ± {stdev}"
    return str(bench.format_value(bench.mean()))


def measured_runs(bench: pyperf.Benchmark) -> int:
    """Worker processes that produced values (calibration runs do not count)."""
    return sum(1 for run in bench.get_runs() if run.values)


def summarize(result: pyperf.BenchmarkSuite) -> Sequence[tuple[str, str, int]]:
    """(name, mean ± std dev, worker processes) per benchmark, for tables."""
    return [(b.get_name(), format_mean(b), measured_runs(b)) for b in result]


def summary_table(result: pyperf.BenchmarkSuite, title: str | None = None) -> Table:
    """The table `run`, `baseline` and `baselines show` print: mean and processes per benchmark."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("benchmark")
    table.add_column("mean ± std dev", justify="right")
    table.add_column("processes", justify="right")
    for name, mean, processes in summarize(result):
        table.add_row(name, mean, str(processes))
    return table
