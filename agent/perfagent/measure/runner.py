"""Running a suite: one pyperf Runner (a `measure.worker` subprocess) per benchmark.

Each benchmark runs in its own `python -m perfagent.measure.worker` process tree, so
the agent can show progress between benchmarks and say which one failed. The
per-benchmark pyperf files are merged into one `pyperf.BenchmarkSuite` that carries
the agent's metadata (docs/architecture.md) on every benchmark.

The metric decides how a benchmark is measured: `time` here (pyperf), `instructions`
in measure.instructions (valgrind). `_MEASURERS` is the one place that dispatches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from perfagent import __version__
from perfagent.config import Settings
from perfagent.cpus import format_cpu_list, parse_cpu_list
from perfagent.errors import BenchmarkRunError, ConfigError, UsageError
from perfagent.machine import system
from perfagent.measure.worker import (
    BENCHMARK_OPTION,
    ERROR_PREFIX,
    INHERITED_ENVIRONMENT,
    SUITE_OPTION,
    default_option,
)

if TYPE_CHECKING:
    import pyperf
    from rich.table import Table

    from perfagent.machine.fingerprint import Fingerprint
    from perfagent.measure.suite import BenchmarkSpec, Suite


# How much of a failed worker's stderr an error message quotes.
STDERR_TAIL_LINES = 12


@dataclass(frozen=True)
class MeasureRequest:
    """What a metric's measurer needs to measure one benchmark."""

    suite: Suite
    spec: BenchmarkSpec
    settings: Settings
    cpus: list[int] | None
    workdir: Path


class Progress(Protocol):
    """Receives the events of a suite run (a rich display, plain lines, or nothing)."""

    def benchmark_started(self, index: int, total: int, name: str) -> None: ...

    def worker_done(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...

    def benchmark_done(
        self, index: int, total: int, name: str, bench: pyperf.Benchmark
    ) -> None: ...


Measurer = Callable[[MeasureRequest, Progress], "pyperf.Benchmark"]


def run_suite(
    suite: Suite,
    benchmarks: list[BenchmarkSpec],
    settings: Settings,
    *,
    commit: str | None = None,
    output: Path | None = None,
    progress: Progress | None = None,
    fingerprint: Fingerprint | None = None,
) -> pyperf.BenchmarkSuite:
    """Measure `benchmarks` of `suite` and return one pyperf suite with the agent's metadata.

    Writes the result to `output` (atomically) when given. `progress` defaults to a
    display fit for where stdout/stderr go; `fingerprint` defaults to this machine's.
    A benchmark whose worker fails raises BenchmarkRunError naming it.
    """
    import pyperf

    if not benchmarks:
        raise UsageError(f"no benchmarks selected in suite '{suite.name}' ({suite.path})")
    measure = measurer_for(settings.metric)
    cpus = benchmark_cpus(settings)
    if fingerprint is None:
        from perfagent.machine.fingerprint import collect

        fingerprint = collect()
    metadata = run_metadata(suite, settings, fingerprint, commit=commit)

    measured: list[pyperf.Benchmark] = []
    with (
        _progress_display(progress) as shown,
        tempfile.TemporaryDirectory(prefix="perfagent-run-") as tmp,
    ):
        total = len(benchmarks)
        for index, spec in enumerate(benchmarks, 1):
            shown.benchmark_started(index, total, spec.name)
            request = MeasureRequest(suite, spec, settings, cpus, Path(tmp))
            bench = measure(request, shown)
            bench.update_metadata(metadata)
            measured.append(bench)
            shown.benchmark_done(index, total, spec.name, bench)

    result = pyperf.BenchmarkSuite(measured)
    if output is not None:
        from perfagent import results

        results.write(result, output)  # atomic; ResultsFileError names the path
    return result


def measurer_for(metric: str) -> Measurer:
    """The function that measures one benchmark for `metric`."""
    try:
        return _MEASURERS[metric]
    except KeyError:
        raise UsageError(f"unknown metric {metric!r} (known: {', '.join(_MEASURERS)})") from None


def run_metadata(
    suite: Suite, settings: Settings, fingerprint: Fingerprint, *, commit: str | None
) -> dict[str, str]:
    """The agent's pyperf metadata for every benchmark of one suite run."""
    from perfagent import results

    metadata = {
        results.KEY_VERSION: __version__,
        results.KEY_FINGERPRINT: fingerprint.id,
        results.KEY_HARDWARE: _json_text(fingerprint.hardware),
        results.KEY_SOFTWARE: _json_text(fingerprint.software),
        results.KEY_METRIC: settings.metric,
        results.KEY_SUITE: suite.name,
        results.KEY_RUN_ID: new_run_id(),
    }
    if commit:
        metadata[results.KEY_COMMIT] = commit
    for key, value in suite.metadata().items():
        # pyperf metadata values are one non-empty line.
        text = " ".join(str(value).split())
        if text:
            metadata[results.SUITE_METADATA_PREFIX + key] = text
    return metadata


def new_run_id() -> str:
    """A fresh id for one suite run: its UTC start time and a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def benchmark_cpus(settings: Settings, sys_root: Path = system.SYS_ROOT) -> list[int] | None:
    """The CPUs benchmark workers are pinned to: the `cpus` setting, else the kernel's
    isolated CPUs, else None (no pinning: the scheduler places the workers)."""
    if settings.cpus:
        where = settings.sources.get("cpus", "setting 'cpus'")
        cpus = parse_cpu_list(settings.cpus, where)
        available = _usable_cpus(sys_root)
        missing = [c for c in cpus if available and c not in available]
        if missing:
            raise ConfigError(
                f"{where}: CPU {format_cpu_list(missing)} is not available on this "
                f"machine (online: {format_cpu_list(available)})"
            )
        return cpus
    isolated = system.isolated_cpus(sys_root)
    return isolated or None


def _usable_cpus(sys_root: Path) -> list[int]:
    online = system.online_cpus(sys_root)
    if online:
        return online
    count = os.cpu_count()
    return list(range(count)) if count else []


def pyperf_arguments(suite: Suite, settings: Settings, cpus: list[int] | None) -> list[str]:
    """measure.worker's options for one benchmark, from the settings and the suite's defaults.

    Counts come from the settings, else the suite's `_suite.py`, else pyperf; they are
    passed as the Runner's defaults so that --fast/--rigorous scale them as pyperf does.
    """
    args: list[str] = []
    chosen = {
        "processes": settings.processes or suite.defaults.processes,
        "values": settings.values or suite.defaults.values,
        "warmups": settings.warmups if settings.warmups is not None else suite.defaults.warmups,
        "min_time": suite.defaults.min_time,
    }
    for name, value in chosen.items():
        if value is not None:
            args.append(f"{default_option(name)}={value}")
    if settings.mode in {"fast", "rigorous"}:
        args.append(f"--{settings.mode}")
    if cpus:
        args.append(f"--affinity={format_cpu_list(cpus)}")
    inherited = [name for name in INHERITED_ENVIRONMENT if name in os.environ]
    if inherited:
        args.append("--inherit-environ=" + ",".join(inherited))
    return args


def measure_time(request: MeasureRequest, progress: Progress) -> pyperf.Benchmark:
    """Wall-clock time of one benchmark: pyperf's Runner in a measure.worker process."""
    import pyperf

    spec = request.spec
    output = request.workdir / f"{uuid.uuid4().hex}.json"  # pyperf refuses to overwrite
    command = [
        sys.executable,
        "-m",
        "perfagent.measure.worker",
        SUITE_OPTION,
        str(request.suite.path),
        BENCHMARK_OPTION,
        spec.name,
        *pyperf_arguments(request.suite, request.settings, request.cpus),
        f"--output={output}",
    ]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            errors="replace",
            bufsize=1,
        )
        summary = _follow_workers(process, progress)
        code = process.wait()
        if code != 0 or not output.is_file():
            stderr.seek(0)
            raise BenchmarkRunError(_failure_message(spec.name, code, stderr.read()))
    try:
        bench = pyperf.Benchmark.load(str(output))
    except Exception as exc:  # pyperf raises several types on a bad file
        raise BenchmarkRunError(
            f"benchmark {spec.name}: pyperf wrote no usable result: {exc}"
        ) from None
    for warning in pyperf_warnings(summary):
        progress.note(f"{spec.name}: pyperf warns: {warning}")
    return bench


def _follow_workers(process: subprocess.Popen[str], progress: Progress) -> str:
    """Count pyperf's one dot per finished worker process; return what it printed after."""
    assert process.stdout is not None
    done = 0
    while char := process.stdout.read(1):
        if char == ".":
            done += 1
            progress.worker_done(done)
        elif char == "\n":
            break
    return process.stdout.read()


def pyperf_warnings(summary: str) -> list[str]:
    """pyperf's own checks of a result ("the standard deviation is 23% of the mean")."""
    return [line[2:].strip() for line in summary.splitlines() if line.startswith("* ")]


def _failure_message(name: str, code: int, stderr: str) -> str:
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    reasons = [line[len(ERROR_PREFIX) :] for line in lines if line.startswith(ERROR_PREFIX)]
    # The first reason is the worker's own; later ones are the manager's echo of it.
    headline = reasons[0] if reasons else f"its pyperf process exited with code {code}"
    tail = [line for line in lines if not line.startswith(ERROR_PREFIX)][-STDERR_TAIL_LINES:]
    message = f"benchmark {name} failed: {headline}"
    if tail:
        message += "\n  " + "\n  ".join(tail)
    return message


def detect_commit(cwd: Path | None = None) -> str | None:
    """The commit being measured: $GITHUB_SHA in Actions, else HEAD of the git checkout at `cwd`."""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if sha:
        return sha
    from perfagent.gitcmd import head_commit

    return head_commit(cwd)


def measure_instructions(request: MeasureRequest, progress: Progress) -> pyperf.Benchmark:
    """Instructions per call of one benchmark, counted under valgrind (measure.instructions)."""
    from perfagent.measure import instructions

    return instructions.measure_benchmark(
        request.suite.path,
        request.spec.name,
        request.settings,
        defaults=request.suite.defaults,
        cpus=request.cpus,
        progress=progress.note,
        worker_done=progress.worker_done,
    )


_MEASURERS: dict[str, Measurer] = {"time": measure_time, "instructions": measure_instructions}


# --- progress ---------------------------------------------------------------------


class QuietProgress:
    """Shows nothing."""

    def note(self, text: str) -> None:
        pass

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        pass

    def worker_done(self, count: int) -> None:
        pass

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        pass


class PlainProgress:
    """One line when a benchmark starts and one when it ends: for CI logs and pipes."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._started = time.monotonic()
        self._bench_started = self._started

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        self._bench_started = time.monotonic()
        self._write(f"[{index}/{total}] {name} ... (elapsed {self._elapsed(self._started)})")

    def worker_done(self, count: int) -> None:
        pass

    def note(self, text: str) -> None:
        self._write(f"  {text}")

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        self._write(
            f"[{index}/{total}] {name}: {format_mean(bench)} "
            f"({measured_runs(bench)} processes, {self._elapsed(self._bench_started)})"
        )

    @staticmethod
    def _elapsed(since: float) -> str:
        seconds = int(time.monotonic() - since)
        return f"{seconds // 60}:{seconds % 60:02d}"


class RichProgress:
    """A live bar on a terminal: benchmark i of n, its name, worker processes, elapsed."""

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
        self._task = self._bar.add_task("benchmarks", total=None, current="")
        self._name = ""

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        self._name = name
        self._bar.update(self._task, total=total, completed=index - 1, current=name)

    def worker_done(self, count: int) -> None:
        self._bar.update(self._task, current=f"{self._name} (worker {count} done)")

    def note(self, text: str) -> None:
        self._bar.console.print(f"  {text}", markup=False, highlight=False)

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        self._bar.console.print(f"  {name}: {format_mean(bench)}", highlight=False)
        self._bar.update(self._task, completed=index, current="")


@contextmanager
def _progress_display(progress: Progress | None) -> Iterator[Progress]:
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
