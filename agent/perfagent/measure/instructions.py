"""The `instructions` metric: how many instructions one call of a benchmark executes.

On shared and virtual machines timings vary 5-20% between runs of the same code, so
a 10% gate on time is noise there. The count of instructions a call executes, taken
under valgrind, repeats to about 0.01% whatever else the machine is doing.

How a benchmark is counted
--------------------------
Each worker process is ``valgrind --tool=callgrind --instr-atstart=no
--collect-atstart=no python -m perfagent.measure.instructions_worker JOB``:

1. The interpreter starts, imports the suite module and runs the benchmark's setup
   and warm-up calls with callgrind's instrumentation off. Valgrind still translates
   the code, but skipping the counting makes start-up several times faster (hazelbean
   imports take about 3.4 s natively), and none of it is counted.
2. A client request turns instrumentation on. Then for each value: zero the counters,
   toggle collection on, call the benchmark, toggle collection off, and dump the
   counters to a numbered file labelled with the value's index.
3. The parent reads the dumps' totals. What lies between the two toggles besides the
   benchmark (the return from the first toggle, the call machinery, the entry to the
   second) is measured the same way around an empty function of the same shape, and
   subtracted; it is recorded as ``perfagent_instructions_overhead``.

Why client requests through a compiled shim, rather than ``--toggle-collect=<function>``
with a ctypes callback: the toggle points sit right around the call, so the constant
overhead is small (about 1,500 instructions) and independent of ctypes' callback
machinery; the per-value dumps give every value its own count without rerunning the
process; and ``--instr-atstart=no`` keeps imports uninstrumented, which a
function-name toggle alone cannot. Cachegrind is not used because valgrind 3.19's
cachegrind has no client requests to start and stop counting.

The shim (``_callgrind_shim.c``, package data) is five one-line functions wrapping
the macros of ``<valgrind/callgrind.h>``. It is compiled with the system C compiler on
first use into the cache directory, under a name keyed by a hash of its source, the
valgrind version and the machine, and loaded with ctypes. Without valgrind, its
headers or a C compiler, the metric stops with exit code 2 naming the Debian package.

What is fixed so counts repeat
------------------------------
``PYTHONHASHSEED=0`` (string hashing decides dict and set iteration order, so code
paths); address-space randomisation off for the worker (``setarch -R`` where it is
permitted: CPython's attribute caches index by object address, so layouts change
counts slightly); one thread for OpenBLAS, OpenMP, MKL and numexpr unless the caller
set them (valgrind runs threads one at a time, and pools that spin while waiting
would add counts that depend on scheduling); the environment pyperf gives its
workers, not the caller's whole one; a garbage collection before every value, so no
value pays for collecting the previous one's garbage; warm-up calls before counting,
so caches, lazy imports and the interpreter's specialisation have settled. Counts of
one benchmark then agree within a worker to the instruction, and between separate
runs to about 0.01% (what the heap looked like before counting still matters a
little, e.g. whether a module was loaded from bytecode or compiled).

Instruction counts are near-deterministic: two worker processes of three values each
are plenty (``processes``/``values`` settings override). The workers of one benchmark
run in parallel, up to the number of usable CPUs, since load does not change counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import importlib.resources
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent.config import Settings
from perfagent.errors import BenchmarkRunError, UsageError
from perfagent.measure.instructions_worker import EMPTY_CALLS
from perfagent.measure.processes import (
    Running,
    failure_error,
    kill_group,
    new_seed,
    shuffled,
    start_worker,
    supervise,
)
from perfagent.measure.processes import worker_environment as worker_environment_for_threads

if TYPE_CHECKING:
    import pyperf

    from perfagent.measure.progress import Progress
    from perfagent.measure.suite import BenchmarkSpec, Suite, SuiteDefaults

METRIC = "instructions"
UNIT = "integer"

DEFAULT_PROCESSES = 2
DEFAULT_VALUES = 3
# Warm-up calls run uninstrumented, so they are cheap; one settles first-call effects.
DEFAULT_WARMUPS = 1
HASH_SEED = "0"

SHIM_SOURCE = "_callgrind_shim.c"
DEBIAN_VALGRIND = "valgrind"
DEBIAN_COMPILER = "gcc"
# "perfagent value 3 1": the second value of the benchmark at position 3 of the order.
_LABEL = re.compile(r"^desc: Trigger: Client Request: perfagent (empty|value) (\d+) (\d+)\s*$")
_TOTALS = re.compile(r"^(?:totals|summary):\s*(\d+)")
_OUT_FILE = "callgrind.out"
_RESULT_FILE = "worker-result.json"
# How each "cannot run here" message ends.
_TIME_HINT = "or measure with --metric time"


class InstructionsUnavailable(UsageError):
    """The instructions metric cannot run here: valgrind, its headers or a C compiler missing."""


# ---------------------------------------------------------------------------
# The toolchain: valgrind and the compiled shim


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """What counting needs, found and ready: valgrind and the compiled shim."""

    valgrind: str
    valgrind_version: str
    shim: Path
    # The command that starts a program with address-space randomisation off (setarch
    # -R), or () where that is not permitted (some containers forbid personality()).
    no_aslr: tuple[str, ...] = ()


def find_valgrind() -> tuple[str, str]:
    """valgrind's path and version string ("valgrind-3.19.0"); raises when it is unusable."""
    path = shutil.which("valgrind")
    if path is None:
        raise InstructionsUnavailable(
            "the instructions metric needs valgrind, which is not installed on this machine: "
            f"install the Debian package '{DEBIAN_VALGRIND}' (apt-get install {DEBIAN_VALGRIND}), "
            + _TIME_HINT
        )
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstructionsUnavailable(f"{path} --version failed: {exc}") from None
    version = done.stdout.strip()
    if done.returncode != 0 or not version:
        raise InstructionsUnavailable(
            f"{path} --version failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return path, version


def _compiler() -> list[str]:
    """The C compiler command: $CC when set, else cc, gcc or clang."""
    configured = os.environ.get("CC", "").split()
    if configured and shutil.which(configured[0]):
        return configured
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    raise InstructionsUnavailable(
        "the instructions metric needs a C compiler to build its small bridge to valgrind "
        f"(cc, gcc or clang; none found): install the Debian package '{DEBIAN_COMPILER}' "
        f"(apt-get install {DEBIAN_COMPILER}), " + _TIME_HINT
    )


def cache_dir() -> Path:
    """Where the compiled shim is kept: $XDG_CACHE_HOME/perfagent, else ~/.cache/perfagent."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "perfagent"


def _shim_source() -> bytes:
    return importlib.resources.files("perfagent.measure").joinpath(SHIM_SOURCE).read_bytes()


def build_shim(valgrind_version: str, directory: Path | None = None) -> Path:
    """The shim library, compiled on first use and reused while its inputs are unchanged."""
    source = _shim_source()
    key = hashlib.sha256(
        b"\0".join((source, valgrind_version.encode(), platform.machine().encode()))
    ).hexdigest()[:16]
    candidates = [directory] if directory is not None else [cache_dir()]
    # A read-only home (some CI sandboxes) must not make the metric unusable.
    candidates.append(Path(tempfile.gettempdir()) / f"perfagent-{os.getuid()}")
    last_error: OSError | None = None
    for folder in candidates:
        library = folder / f"callgrind-shim-{key}.so"
        if library.is_file():
            return library
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _compile_shim(source, library)
        except OSError as exc:
            last_error = exc
            continue
        return library
    raise InstructionsUnavailable(
        f"cannot write the compiled valgrind bridge to {candidates[0]}: {last_error}"
    )


def _compile_shim(source: bytes, library: Path) -> None:
    compiler = _compiler()
    with tempfile.TemporaryDirectory(dir=library.parent, prefix=".shim-") as work:
        source_file = Path(work) / SHIM_SOURCE
        source_file.write_bytes(source)
        partial = Path(work) / library.name
        command = [*compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(source_file)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstructionsUnavailable(f"compiling the valgrind bridge failed: {exc}") from None
        if done.returncode != 0:
            message = done.stderr.strip()
            if "valgrind/" in message and ("No such file" in message or "not found" in message):
                raise InstructionsUnavailable(
                    "valgrind's client-request headers (valgrind/callgrind.h) are missing: "
                    f"install the Debian package '{DEBIAN_VALGRIND}', which ships them "
                    f"(apt-get install {DEBIAN_VALGRIND}), " + _TIME_HINT
                )
            raise InstructionsUnavailable(
                f"compiling the valgrind bridge failed ({' '.join(command)}): {message[-500:]}"
            )
        # Atomic, so a concurrent first use never loads a half-written library.
        os.replace(partial, library)


def no_aslr_prefix() -> tuple[str, ...]:
    """`setarch <machine> -R` when it works here, else (): see Toolchain.no_aslr."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return ()
    prefix = (setarch, platform.machine(), "-R")
    try:
        done = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return prefix if done.returncode == 0 else ()


def toolchain() -> Toolchain:
    """valgrind and the compiled shim, ready to count; raises InstructionsUnavailable."""
    path, version = find_valgrind()
    return Toolchain(
        valgrind=path,
        valgrind_version=version,
        shim=build_shim(version),
        no_aslr=no_aslr_prefix(),
    )


def unavailable_reason() -> str | None:
    """Why the instructions metric cannot run here, or None when it can (for `doctor`)."""
    try:
        toolchain()
    except InstructionsUnavailable as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------
# The plan: how many processes, values and warm-ups


@dataclasses.dataclass(frozen=True)
class Plan:
    processes: int
    values: int
    warmups: int


def plan(settings: Settings, defaults: SuiteDefaults | None = None) -> Plan:
    """Processes, values and warm-ups of one benchmark under this metric.

    A suite's PROCESSES and VALUES are sized for timing and ignored here: counts need
    far fewer. Its WARMUPS are kept, since they describe the benchmark (first-call
    effects), and warm-ups run uninstrumented anyway. `--fast` takes one value per
    process, `--rigorous` twice the processes; explicit settings win over both.
    """
    processes = DEFAULT_PROCESSES * (2 if settings.mode == "rigorous" else 1)
    values = 1 if settings.mode == "fast" else DEFAULT_VALUES
    warmups = DEFAULT_WARMUPS
    if defaults is not None and defaults.warmups is not None:
        warmups = defaults.warmups
    return Plan(
        processes=settings.processes if settings.processes is not None else processes,
        values=settings.values if settings.values is not None else values,
        warmups=settings.warmups if settings.warmups is not None else warmups,
    )


# ---------------------------------------------------------------------------
# The parent side: run valgrind workers, read their dumps, build a pyperf Benchmark


@dataclasses.dataclass(frozen=True)
class WorkerCounts:
    """The raw counts one worker dumped for one benchmark: empty calls and benchmark calls."""

    empty: tuple[int, ...]
    values: tuple[int, ...]

    @property
    def overhead(self) -> int:
        # The empty calls agree to the instruction in practice; the least is the
        # overhead that every counted call certainly contains.
        return min(self.empty)

    def net_values(self) -> list[int]:
        """The benchmark's own counts. pyperf needs values above 0: a call cheaper than
        the overhead's noise is recorded as 1."""
        return [max(value - self.overhead, 1) for value in self.values]


def parse_dump(path: Path) -> tuple[str, int, int, int] | None:
    """(kind, position, index, instructions) of one callgrind dump; None for one not ours."""
    label: tuple[str, int, int] | None = None
    total: int | None = None
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if label is None and (match := _LABEL.match(line)):
                label = (match.group(1), int(match.group(2)), int(match.group(3)))
            elif total is None and (match := _TOTALS.match(line)):
                total = int(match.group(1))
            if label is not None and total is not None:
                break
    if label is None or total is None:
        return None
    return label[0], label[1], label[2], total


def read_counts(out_dir: Path) -> dict[int, WorkerCounts]:
    """The counts in one worker's dump files, by the benchmark's position in its order."""
    found: dict[int, dict[str, dict[int, int]]] = {}
    for path in out_dir.glob(_OUT_FILE + "*"):
        parsed = parse_dump(path)
        if parsed is not None:
            kind, position, index, total = parsed
            found.setdefault(position, {"empty": {}, "value": {}})[kind][index] = total
    return {
        position: WorkerCounts(
            empty=tuple(kinds["empty"][i] for i in sorted(kinds["empty"])),
            values=tuple(kinds["value"][i] for i in sorted(kinds["value"])),
        )
        for position, kinds in found.items()
    }


def worker_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment: the time metric's (processes.py), one thread per pool
    (valgrind runs threads one at a time, and pools that spin while waiting would add
    counts that depend on scheduling), and the hash seed fixed."""
    return worker_environment_for_threads(base, 1, {"PYTHONHASHSEED": HASH_SEED})


def valgrind_command(
    tools: Toolchain, out_dir: Path, job_file: Path, python: str = sys.executable
) -> list[str]:
    """The command of one worker process."""
    return [
        *tools.no_aslr,
        tools.valgrind,
        "--tool=callgrind",
        "--instr-atstart=no",
        "--collect-atstart=no",
        # Totals only: per-line and per-instruction costs would only make the dumps big.
        "--dump-line=no",
        "--dump-instr=no",
        f"--callgrind-out-file={out_dir / _OUT_FILE}",
        "--quiet",
        "--",
        python,
        "-m",
        "perfagent.measure.instructions_worker",
        str(job_file),
    ]


@dataclasses.dataclass
class _Worker:
    """One valgrind worker of a run, from its start to its counts."""

    index: int
    seed: int
    order: tuple[str, ...]
    cpu: int | None
    work_dir: Path
    output: Any = None
    running: Running | None = None
    started: datetime.datetime = dataclasses.field(default_factory=datetime.datetime.now)
    clock: float = dataclasses.field(default_factory=time.monotonic)
    duration: float = 0.0


def _parallel_jobs(processes: int, cpus: Sequence[int] | None) -> int:
    """How many workers run at once: load does not change counts, so as many as CPUs."""
    if cpus:
        usable = len(cpus)
    else:
        try:
            usable = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            usable = os.cpu_count() or 1
    return max(1, min(processes, usable))


def describe_plan(plan_: Plan, jobs: int, benchmarks: int) -> str:
    """One line saying how a run is counted, for progress output."""
    return (
        f"counting instructions under callgrind: {plan_.processes} processes x "
        f"{benchmarks} benchmarks x {plan_.values} values, {plan_.warmups} uninstrumented "
        "warm-up call(s) each" + (f", {jobs} processes at a time" if jobs > 1 else "")
    )


def _start(
    worker: _Worker,
    tools: Toolchain,
    suite_dir: Path,
    plan_: Plan,
    timeout: tuple[float | None, str],
    python: str = sys.executable,
) -> None:
    read_fd, write_fd = os.pipe()
    job_file = worker.work_dir / "job.json"
    job = {
        "shim": str(tools.shim),
        "suite": str(suite_dir),
        "order": list(worker.order),
        "warmups": plan_.warmups,
        "values": plan_.values,
        "result": str(worker.work_dir / _RESULT_FILE),
        "events_fd": write_fd,
    }
    job_file.write_text(json.dumps(job), encoding="utf-8")
    worker.output = (worker.work_dir / "output.log").open("w+b")
    try:
        process = start_worker(
            valgrind_command(tools, worker.work_dir, job_file, python),
            worker_environment(os.environ),
            worker.cpu,
            worker.output,
            pass_fds=(write_fd,),
        )
    except UsageError as exc:
        os.close(read_fd)
        raise InstructionsUnavailable(f"cannot start {tools.valgrind}: {exc}") from None
    finally:
        os.close(write_fd)
    worker.running = Running(
        process=process,
        events_fd=read_fd,
        order=worker.order,
        timeout=timeout[0],
        timeout_source=timeout[1],
        index=worker.index,
    )


def _finish(worker: _Worker, plan_: Plan) -> dict[int, WorkerCounts]:
    """Reap a worker that closed its events, and read its counts; raise on a failure."""
    assert worker.running is not None
    os.close(worker.running.events_fd)
    code = worker.running.process.wait()
    worker.duration = time.monotonic() - worker.clock
    worker.output.seek(0)
    text = worker.output.read().decode("utf-8", "replace")
    worker.output.close()
    report = _read_worker_result(worker.work_dir / _RESULT_FILE)
    if report.get("kind") == "environment":
        raise InstructionsUnavailable(str(report.get("error")))
    if code != 0 or report.get("complete") is not True:
        raise failure_error(worker.running, code, report.get("error"), text)
    counts = read_counts(worker.work_dir)
    for position, name in enumerate(worker.order):
        found = counts.get(position, WorkerCounts(empty=(), values=()))
        if len(found.values) != plan_.values or len(found.empty) != EMPTY_CALLS:
            raise BenchmarkRunError(
                f"benchmark {name} failed: callgrind wrote {len(found.values)} of "
                f"{plan_.values} counts and {len(found.empty)} of {EMPTY_CALLS} "
                "empty-call counts"
            )
    return counts


def _read_worker_result(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def measure_suite(
    suite: Suite,
    specs: Sequence[BenchmarkSpec],
    settings: Settings,
    *,
    cpus: Sequence[int] | None,
    metadata: Mapping[str, str | int | float],
    progress: Progress,
    timeout: tuple[float | None, str] = (None, "none"),
    tools: Toolchain | None = None,
    python: str = sys.executable,
) -> pyperf.BenchmarkSuite:
    """Count the instructions of `specs`: the plan's valgrind workers, each counting
    every benchmark in an order shuffled per process, as many at a time as CPUs.

    Returns a pyperf suite with one Benchmark per spec and one Run per worker (values:
    instructions per call, the empty-call overhead subtracted; unit `integer`), with
    `metadata` (the runner's common keys) on every run.

    Raises InstructionsUnavailable (exit 2) when valgrind or a C compiler is missing,
    BenchmarkRunError naming the benchmark when one fails or times out.
    """
    import pyperf

    tools = tools if tools is not None else toolchain()
    plan_ = plan(settings, suite.defaults)
    names = [spec.name for spec in specs]
    jobs = _parallel_jobs(plan_.processes, cpus)
    progress.note(describe_plan(plan_, jobs, len(names)))
    counted: list[tuple[_Worker, dict[int, WorkerCounts]]] = []
    with tempfile.TemporaryDirectory(prefix="perfagent-callgrind-") as tmp:
        pending = []
        for index in range(1, plan_.processes + 1):
            seed = new_seed()
            work_dir = Path(tmp) / f"worker-{index}"
            work_dir.mkdir()
            cpu = cpus[(index - 1) % len(cpus)] if cpus else None
            order = tuple(shuffled(names, seed))
            pending.append(_Worker(index=index, seed=seed, order=order, cpu=cpu, work_dir=work_dir))
        while pending:
            wave, pending = pending[:jobs], pending[jobs:]
            try:
                for worker in wave:
                    progress.process_started(worker.index, plan_.processes, worker.cpu)
                    worker.clock = time.monotonic()
                    _start(worker, tools, suite.path, plan_, timeout, python)
                # Progress per benchmark would interleave between parallel workers.
                supervise([w.running for w in wave if w.running is not None])
            except BaseException:
                for worker in wave:
                    if worker.running is not None:
                        kill_group(worker.running.process)
                        with contextlib.suppress(OSError):
                            os.close(worker.running.events_fd)
                    if worker.output is not None:
                        worker.output.close()
                raise
            for worker in wave:
                counts = _finish(worker, plan_)
                counted.append((worker, counts))
                per_call = statistics.median(
                    statistics.median(c.net_values()) for c in counts.values()
                )
                progress.note(
                    f"process {worker.index}/{plan_.processes}: {len(counts)} benchmarks, "
                    f"median {per_call:,.0f} instructions per call "
                    f"({worker.duration:.1f} s under valgrind)"
                )
                progress.worker_done(worker.index)

    common: dict[str, str | int | float] = dict(metadata)
    common.update(
        {
            "unit": UNIT,
            "loops": 1,
            "perfagent_metric": METRIC,
            "perfagent_instructions_tool": f"callgrind ({tools.valgrind_version})",
            "perfagent_instructions_hashseed": HASH_SEED,
            "perfagent_instructions_aslr": "off" if tools.no_aslr else "on",
            "perfagent_instructions_warmups": plan_.warmups,
        }
    )
    benchmarks = []
    for name in names:
        runs = []
        for worker, counts in counted:
            position = worker.order.index(name)
            run_metadata = dict(common)
            run_metadata.update(
                {
                    "name": name,
                    "date": worker.started.isoformat(sep=" ", timespec="seconds"),
                    "duration": round(worker.duration, 3),
                    "perfagent_instructions_overhead": counts[position].overhead,
                    "perfagent_process": worker.index,
                    "perfagent_order_seed": worker.seed,
                    "perfagent_order_position": position,
                    "perfagent_threads": 1,
                }
            )
            if worker.cpu is not None:
                run_metadata["perfagent_cpu"] = worker.cpu
            runs.append(
                pyperf.Run(
                    counts[position].net_values(), metadata=run_metadata, collect_metadata=False
                )
            )
        benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks)
