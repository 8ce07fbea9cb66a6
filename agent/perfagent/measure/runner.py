"""Running a suite: P whole-suite worker processes, each measuring every benchmark.

A run is `processes` worker processes (worker.py) started one after another. Each
imports the suite once and measures every selected benchmark, in an order shuffled
per process (the seed is recorded), so the process count buys independent samples
rather than imports. The first process calibrates the loop counts unless they are
given (the baseline's, so that base and head run the same loops); the others reuse
them. The parent turns what each worker measured into one pyperf Run per benchmark
and process, and the whole into a `pyperf.BenchmarkSuite` carrying the agent's
metadata (docs/architecture.md): plain pyperf JSON that `pyperf stats` and
`compare_to` read.

Placement, environment, timeouts and the end of workers are processes.py's: this
parent stays on the CPUs it was started on, each worker is pinned to ONE benchmark
CPU (round-robin over them), and no worker outlives a failure, a timeout or a signal.

The metric decides how a run is measured: `time` here, `instructions` in
instructions.py (valgrind, same shape). `_MEASURERS` is the one place that dispatches.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent import __version__
from perfagent.config import Settings
from perfagent.cpus import format_cpu_list, parse_cpu_list
from perfagent.errors import BenchmarkRunError, ConfigError, UsageError
from perfagent.machine import system
from perfagent.measure.processes import (
    Running,
    WorkerEvents,
    failure_error,
    new_seed,
    shuffled,
    start_worker,
    stop_workers_on_sigterm,
    supervise,
    worker_environment,
    worker_threads,
)
from perfagent.measure.progress import (
    PlainProgress,
    Progress,
    QuietProgress,
    RichProgress,
    format_mean,
    measured_runs,
    progress_display,
    summarize,
    summary_table,
)
from perfagent.measure.reference import NAME as REFERENCE_NAME

if TYPE_CHECKING:
    import pyperf

    from perfagent.machine.fingerprint import Fingerprint
    from perfagent.measure.suite import BenchmarkSpec, Suite

__all__ = [
    "DEFAULT_TIMEOUT",
    "MeasureRequest",
    "MeasuredBenchmark",
    "PlainProgress",
    "Plan",
    "Progress",
    "QuietProgress",
    "RichProgress",
    "WorkerRequest",
    "WorkerResult",
    "benchmark_cpus",
    "build_suite",
    "detect_commit",
    "format_mean",
    "loops_from",
    "measured_runs",
    "new_seed",
    "plan_for",
    "run_suite",
    "run_worker",
    "shuffled",
    "summarize",
    "summary_table",
    "to_runs",
]

# Per benchmark and worker process, from its start: import, setup, calibration, values.
DEFAULT_TIMEOUT = 600.0

LOOPS_CALIBRATED = "calibrated"
LOOPS_GIVEN = "baseline"


# --- one worker process -----------------------------------------------------------


@dataclass(frozen=True)
class WorkerRequest:
    """One worker process: which benchmarks, in which order, with which interpreter."""

    suite_path: Path
    order: tuple[str, ...]
    loops: Mapping[str, int] = field(default_factory=dict)
    values: int = 5
    warmups: int = 1
    min_time: float = 0.1
    python: str = sys.executable
    cpu: int | None = None
    seed: int = 0
    timeout: float | None = DEFAULT_TIMEOUT
    # Where the timeout came from, for the message when it fires.
    timeout_source: str = "the built-in default"
    env: Mapping[str, str] = field(default_factory=dict)
    # Which process of the run this is (1-based), for messages and metadata.
    index: int = 1


@dataclass(frozen=True)
class MeasuredBenchmark:
    """What one worker measured of one benchmark (values per loop iteration, seconds)."""

    name: str
    loops: int
    calibration: tuple[tuple[int, float], ...]
    warmups: tuple[tuple[int, float], ...]
    values: tuple[float, ...]
    position: int
    date: str
    duration: float

    @property
    def timed_seconds(self) -> float:
        """Seconds spent inside timed calls (calibration and warm-ups included)."""
        pairs = [*self.calibration, *self.warmups]
        return sum(loops * value for loops, value in pairs) + sum(self.values) * self.loops


@dataclass(frozen=True)
class WorkerResult:
    request: WorkerRequest
    benchmarks: dict[str, MeasuredBenchmark]
    metadata: dict[str, Any]
    started: datetime.datetime
    duration: float
    threads: int


def run_worker(request: WorkerRequest, events: WorkerEvents | None = None) -> WorkerResult:
    """Run one worker process and return what it measured, benchmark by benchmark.

    Raises BenchmarkRunError ("benchmark X failed: ..."; `.details` holds the worker's
    output, its traceback) when a benchmark fails, the worker dies, or a benchmark
    outlasts `request.timeout`. On any way out but success the worker's process group
    is killed.
    """
    threads = worker_threads(request.cpu)
    env = worker_environment(os.environ, threads, request.env)
    with tempfile.TemporaryDirectory(prefix="perfagent-worker-") as tmp:
        work = Path(tmp)
        result_file = work / "result.json"
        job_file = work / "job.json"
        read_fd, write_fd = os.pipe()
        job = {
            "suite": str(request.suite_path),
            "order": list(request.order),
            "loops": {name: int(count) for name, count in request.loops.items()},
            "values": request.values,
            "warmups": request.warmups,
            "min_time": request.min_time,
            "result": str(result_file),
            "events_fd": write_fd,
        }
        job_file.write_text(json.dumps(job), encoding="utf-8")
        command = [request.python, "-m", "perfagent.measure.worker", str(job_file)]
        started = datetime.datetime.now()
        clock = time.monotonic()
        with (work / "output.log").open("w+b") as output:
            try:
                process = start_worker(command, env, request.cpu, output, pass_fds=(write_fd,))
            finally:
                os.close(write_fd)
            running = Running(
                process=process,
                events_fd=read_fd,
                order=request.order,
                timeout=request.timeout,
                timeout_source=request.timeout_source,
                index=request.index,
            )
            try:
                supervise([running], events)
            finally:
                os.close(read_fd)
            code = process.wait()
            output.seek(0)
            text = output.read().decode("utf-8", "replace")
        report = _read_json(result_file)
        duration = time.monotonic() - clock
    if code != 0 or report.get("complete") is not True:
        raise failure_error(running, code, report.get("error"), text)
    measured: dict[str, MeasuredBenchmark] = {}
    for item in report.get("benchmarks", []):
        name = str(item["name"])
        measured[name] = MeasuredBenchmark(
            name=name,
            loops=int(item["loops"]),
            calibration=tuple((int(n), float(v)) for n, v in item["calibration"]),
            warmups=tuple((int(n), float(v)) for n, v in item["warmups"]),
            values=tuple(float(v) for v in item["values"]),
            position=request.order.index(name),
            date=str(item["date"]),
            duration=float(item["duration"]),
        )
    missing = [name for name in request.order if name not in measured]
    if missing:
        # Only a complete report counts: a benchmark that exits early never passes.
        raise BenchmarkRunError(
            f"benchmark {missing[0]} failed: its worker process ended without measuring it"
        )
    metadata = report.get("metadata")
    return WorkerResult(
        request=request,
        benchmarks=measured,
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
        started=started,
        duration=duration,
        threads=threads,
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- from worker results to pyperf ------------------------------------------------


def to_runs(
    worker: WorkerResult,
    common: Mapping[str, str | int | float],
    loops_source: Mapping[str, str] | None = None,
) -> dict[str, pyperf.Run]:
    """One pyperf Run per benchmark this worker measured, with pyperf's and our metadata."""
    import pyperf

    request = worker.request
    runs: dict[str, pyperf.Run] = {}
    for name, measured in worker.benchmarks.items():
        metadata: dict[str, Any] = dict(worker.metadata)
        metadata.update(common)
        metadata.update(
            {
                "name": name,
                "unit": "second",
                "loops": measured.loops,
                "date": measured.date,
                "duration": round(measured.duration, 6),
                "perfagent_process": request.index,
                "perfagent_order_seed": request.seed,
                "perfagent_order_position": measured.position,
                "perfagent_threads": worker.threads,
                "perfagent_loops_source": (loops_source or {}).get(
                    name, LOOPS_CALIBRATED if measured.calibration else LOOPS_GIVEN
                ),
            }
        )
        if request.cpu is not None:
            metadata["perfagent_cpu"] = request.cpu
        if measured.calibration:
            # pyperf's name for the loop count a calibration found (its calibration runs).
            metadata["calibrate_loops"] = measured.loops
        warmups = [*measured.calibration, *measured.warmups]
        runs[name] = pyperf.Run(
            measured.values,
            warmups=warmups or None,
            metadata=metadata,
            collect_metadata=False,
        )
    return runs


def build_suite(
    workers: Sequence[WorkerResult],
    common: Mapping[str, str | int | float],
    names: Sequence[str] | None = None,
    loops_source: Mapping[str, str] | None = None,
) -> pyperf.BenchmarkSuite:
    """The pyperf suite of a run: one Benchmark per name (in `names` order), one Run per worker."""
    import pyperf

    per_worker = [to_runs(worker, common, loops_source) for worker in workers]
    order = (
        list(names)
        if names is not None
        else list(dict.fromkeys(name for runs in per_worker for name in runs))
    )
    benchmarks = []
    for name in order:
        runs = [runs[name] for runs in per_worker if name in runs]
        if runs:
            benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks)


def loops_from(result: pyperf.BenchmarkSuite) -> dict[str, int]:
    """The loop count of each benchmark of a run or baseline (its runs' `loops`)."""
    found: dict[str, int] = {}
    for bench in result:
        counts = {run.get_metadata().get("loops") for run in bench.get_runs() if run.values}
        counts.discard(None)
        if len(counts) == 1:
            value = counts.pop()
            if isinstance(value, int) and value >= 1:
                found[bench.get_name()] = value
    return found


# --- a whole run ------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How a run is measured: processes, values and warm-ups per process, loop timing."""

    processes: int
    values: int
    warmups: int
    min_time: float
    timeout: float | None
    timeout_source: str


# pyperf's own defaults (pyperf/_runner.py), for a suite that sets none.
PYPERF_PROCESSES = 20
PYPERF_VALUES = 3
PYPERF_WARMUPS = 1
PYPERF_MIN_TIME = 0.1


def plan_for(suite: Suite, settings: Settings) -> Plan:
    """Counts from the settings, else the suite's `_suite.py`, else pyperf's defaults.

    `--rigorous` doubles the processes and `--fast` halves them (at least 3) and takes
    two thirds of the values (at least 2), as pyperf scales its own.
    """
    defaults = suite.defaults
    processes = defaults.processes or PYPERF_PROCESSES
    values = defaults.values or PYPERF_VALUES
    if settings.mode == "rigorous":
        processes *= 2
    elif settings.mode == "fast":
        processes = min(processes, max(processes // 2, 3))
        values = max(min(values, 2), values * 2 // 3)
    warmups = defaults.warmups if defaults.warmups is not None else PYPERF_WARMUPS
    timeout, source = _timeout_setting(suite, settings)
    return Plan(
        processes=settings.processes or processes,
        values=settings.values or values,
        warmups=settings.warmups if settings.warmups is not None else warmups,
        min_time=defaults.min_time or PYPERF_MIN_TIME,
        timeout=timeout,
        timeout_source=source,
    )


def _timeout_setting(suite: Suite, settings: Settings) -> tuple[float | None, str]:
    configured = settings.timeout
    if configured is not None:
        where = settings.sources.get("timeout", "setting 'timeout'")
        return (configured or None), f"{where} = {configured:g} s"
    suite_timeout = getattr(suite.defaults, "timeout", None)
    if suite_timeout is not None:
        return (suite_timeout or None), f"TIMEOUT = {suite_timeout:g} in {suite.path}/_suite.py"
    return DEFAULT_TIMEOUT, f"the built-in default, {DEFAULT_TIMEOUT:g} s"


def reference_available() -> bool:
    """Whether the machine-drift reference workload (measure/reference.py) is there."""
    return importlib.util.find_spec("perfagent.measure.reference") is not None


@dataclass(frozen=True)
class MeasureRequest:
    """What a metric's measurer needs to measure a run."""

    suite: Suite
    specs: Sequence[BenchmarkSpec]
    settings: Settings
    cpus: list[int] | None
    metadata: Mapping[str, str | int | float]
    loops: Mapping[str, int]
    python: str


Measurer = Callable[[MeasureRequest, Progress], "pyperf.BenchmarkSuite"]


def run_suite(
    suite: Suite,
    benchmarks: list[BenchmarkSpec],
    settings: Settings,
    *,
    commit: str | None = None,
    output: Path | None = None,
    progress: Progress | None = None,
    fingerprint: Fingerprint | None = None,
    loops: Mapping[str, int] | None = None,
    python: str | None = None,
) -> pyperf.BenchmarkSuite:
    """Measure `benchmarks` of `suite` and return one pyperf suite with the agent's metadata.

    `loops` (e.g. `loops_from(baseline)`) fixes the loop counts of the benchmarks it
    names; the others are calibrated by the run's first process. `python` is the
    interpreter of the workers (default: this one). Writes the result to `output`
    (atomically) when given. A failing benchmark raises BenchmarkRunError naming it.
    """
    if not benchmarks:
        raise UsageError(f"no benchmarks selected in suite '{suite.name}' ({suite.path})")
    measure = measurer_for(settings.metric)
    cpus = benchmark_cpus(settings)
    if fingerprint is None:
        from perfagent.machine.fingerprint import collect

        fingerprint = collect()
    metadata = run_metadata(suite, settings, fingerprint, commit=commit)
    request = MeasureRequest(
        suite=suite,
        specs=benchmarks,
        settings=settings,
        cpus=cpus,
        metadata=metadata,
        loops=dict(loops or {}),
        python=python or sys.executable,
    )
    with progress_display(progress) as shown, stop_workers_on_sigterm():
        result = measure(request, shown)
        total = len(result)
        for index, bench in enumerate(result, 1):
            shown.benchmark_done(index, total, bench.get_name(), bench)
    if output is not None:
        from perfagent import results

        results.write(result, output)  # atomic; ResultsFileError names the path
    return result


def measure_time(request: MeasureRequest, progress: Progress) -> pyperf.BenchmarkSuite:
    """Wall-clock time: the plan's worker processes, one after another."""
    plan = plan_for(request.suite, request.settings)
    names = [spec.name for spec in request.specs]
    if reference_available():
        names.append(REFERENCE_NAME)
    loops = {name: n for name, n in request.loops.items() if name in names}
    sources = {name: (LOOPS_GIVEN if name in loops else LOOPS_CALIBRATED) for name in names}
    workers: list[WorkerResult] = []
    for index in range(1, plan.processes + 1):
        seed = new_seed()
        cpu = request.cpus[(index - 1) % len(request.cpus)] if request.cpus else None
        progress.process_started(index, plan.processes, cpu)
        worker = run_worker(
            WorkerRequest(
                suite_path=request.suite.path,
                order=tuple(shuffled(names, seed)),
                loops=loops,
                values=plan.values,
                warmups=plan.warmups,
                min_time=plan.min_time,
                python=request.python,
                cpu=cpu,
                seed=seed,
                timeout=plan.timeout,
                timeout_source=plan.timeout_source,
                index=index,
            ),
            progress,
        )
        workers.append(worker)
        # The first process calibrated what was not given; the others reuse its counts.
        loops = {name: m.loops for name, m in worker.benchmarks.items()} | loops
        progress.worker_done(index)
    return build_suite(workers, request.metadata, names, sources)


def measurer_for(metric: str) -> Measurer:
    """The function that measures a run for `metric`."""
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


def detect_commit(cwd: Path | None = None) -> str | None:
    """The commit being measured: $GITHUB_SHA in Actions, else HEAD of the git checkout at `cwd`."""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if sha:
        return sha
    from perfagent.gitcmd import head_commit

    return head_commit(cwd)


def measure_instructions(request: MeasureRequest, progress: Progress) -> pyperf.BenchmarkSuite:
    """Instructions per call, counted under valgrind (instructions.py), same run shape."""
    from perfagent.measure import instructions

    plan = plan_for(request.suite, request.settings)
    return instructions.measure_suite(
        request.suite,
        request.specs,
        request.settings,
        cpus=request.cpus,
        metadata=request.metadata,
        progress=progress,
        timeout=(plan.timeout, plan.timeout_source),
        python=request.python,
    )


_MEASURERS: dict[str, Measurer] = {"time": measure_time, "instructions": measure_instructions}
