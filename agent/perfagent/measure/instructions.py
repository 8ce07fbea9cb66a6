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
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent.config import Settings
from perfagent.errors import BenchmarkRunError, SuiteError, UsageError
from perfagent.measure.instructions_worker import EMPTY_CALLS
from perfagent.measure.worker import INHERITED_ENVIRONMENT

if TYPE_CHECKING:
    import pyperf

    from perfagent.measure.suite import SuiteDefaults

METRIC = "instructions"
UNIT = "integer"

DEFAULT_PROCESSES = 2
DEFAULT_VALUES = 3
# Warm-up calls run uninstrumented, so they are cheap; one settles first-call effects.
DEFAULT_WARMUPS = 1
HASH_SEED = "0"
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# What pyperf keeps of the environment for its workers (pyperf._utils.create_environ),
# and TMPDIR, where valgrind writes its own temporary files.
_PYPERF_ENVIRONMENT = ("PATH", "HOME", "TEMP", "PYTHONPATH", "TMPDIR")

SHIM_SOURCE = "_callgrind_shim.c"
DEBIAN_VALGRIND = "valgrind"
DEBIAN_COMPILER = "gcc"
_LABEL = re.compile(r"^desc: Trigger: Client Request: perfagent (empty|value) (\d+)\s*$")
_TOTALS = re.compile(r"^(?:totals|summary):\s*(\d+)")
_OUT_FILE = "callgrind.out"
_RESULT_FILE = "worker-result.json"
_STDERR_TAIL_LINES = 15
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
    """The raw counts one worker dumped: empty calls and benchmark calls, in order."""

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


def parse_dump(path: Path) -> tuple[str, int, int] | None:
    """(kind, index, instructions) of one callgrind dump; None for a dump not ours."""
    label: tuple[str, int] | None = None
    total: int | None = None
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if label is None and (match := _LABEL.match(line)):
                label = (match.group(1), int(match.group(2)))
            elif total is None and (match := _TOTALS.match(line)):
                total = int(match.group(1))
            if label is not None and total is not None:
                break
    if label is None or total is None:
        return None
    return label[0], label[1], total


def read_counts(out_dir: Path) -> WorkerCounts:
    """The counts in one worker's dump files."""
    found: dict[str, dict[int, int]] = {"empty": {}, "value": {}}
    for path in out_dir.glob(_OUT_FILE + "*"):
        parsed = parse_dump(path)
        if parsed is not None:
            kind, index, total = parsed
            found[kind][index] = total
    return WorkerCounts(
        empty=tuple(found["empty"][i] for i in sorted(found["empty"])),
        values=tuple(found["value"][i] for i in sorted(found["value"])),
    )


def worker_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment, built as pyperf builds its workers' for the time metric.

    The few variables pyperf keeps, the ones the runner passes on to time workers
    (library paths, thread counts), and valgrind's own; then the hash seed and the
    thread pools fixed. A benchmark sees the same environment under both metrics, and
    a CI job's ever-changing variables (commit, run number) stay out of the worker.
    """
    kept = (*_PYPERF_ENVIRONMENT, *INHERITED_ENVIRONMENT, "VALGRIND_LIB")
    env = {name: base[name] for name in kept if name in base}
    env["PYTHONHASHSEED"] = HASH_SEED
    for name in THREAD_VARIABLES:
        env.setdefault(name, "1")
    return env


def valgrind_command(tools: Toolchain, out_dir: Path, job_file: Path) -> list[str]:
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
        sys.executable,
        "-m",
        "perfagent.measure.instructions_worker",
        str(job_file),
    ]


@dataclasses.dataclass(frozen=True)
class _WorkerOutcome:
    counts: WorkerCounts
    started: datetime.datetime
    duration: float


def _stderr_tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-_STDERR_TAIL_LINES:])


def _run_worker(
    tools: Toolchain,
    suite_path: Path,
    name: str,
    plan_: Plan,
    env: Mapping[str, str],
    cpus: Sequence[int] | None,
) -> _WorkerOutcome:
    with tempfile.TemporaryDirectory(prefix="perfagent-callgrind-") as work:
        work_dir = Path(work)
        job_file = work_dir / "job.json"
        result_file = work_dir / _RESULT_FILE
        job = {
            "shim": str(tools.shim),
            "suite": str(suite_path),
            "benchmark": name,
            "warmups": plan_.warmups,
            "values": plan_.values,
            "result": str(result_file),
        }
        job_file.write_text(json.dumps(job), encoding="utf-8")
        started = datetime.datetime.now()
        clock = time.monotonic()
        try:
            process = subprocess.Popen(
                valgrind_command(tools, work_dir, job_file),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise InstructionsUnavailable(f"cannot start {tools.valgrind}: {exc}") from None
        try:
            if cpus:
                # Counts do not depend on the CPU, but the benchmark CPUs are where
                # benchmark work belongs on a tuned machine; valgrind's threads inherit this.
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(process.pid, cpus)
            stdout, stderr = process.communicate()
        except BaseException:
            process.kill()
            process.wait()
            raise
        done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        duration = time.monotonic() - clock
        report = _read_worker_result(result_file)
        if report.get("error"):
            message = str(report["error"])
            if report.get("kind") == "suite":
                raise SuiteError(message)
            if report.get("kind") == "environment":
                raise InstructionsUnavailable(message)
            raise BenchmarkRunError(f"{message}\n{_stderr_tail(done.stderr)}".rstrip())
        if done.returncode != 0 or not report.get("ok"):
            raise BenchmarkRunError(
                f"benchmark {name}: the valgrind worker failed (exit {done.returncode})"
                + (f":\n{_stderr_tail(done.stderr)}" if done.stderr.strip() else "")
            )
        counts = read_counts(work_dir)
        if len(counts.values) != plan_.values or len(counts.empty) != EMPTY_CALLS:
            raise BenchmarkRunError(
                f"benchmark {name}: callgrind wrote {len(counts.values)} of {plan_.values} "
                f"counts and {len(counts.empty)} of {EMPTY_CALLS} empty-call counts"
            )
        return _WorkerOutcome(counts=counts, started=started, duration=duration)


def _read_worker_result(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _default_progress(message: str) -> None:
    from perfagent.console import err

    err.print(message, markup=False, highlight=False)


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


def describe_plan(plan_: Plan, jobs: int) -> str:
    """One line saying how a benchmark is counted, for progress output."""
    return (
        f"counting instructions under callgrind: {plan_.processes} processes x "
        f"{plan_.values} values, {plan_.warmups} uninstrumented warm-up call(s)"
        + (f", {jobs} processes at a time" if jobs > 1 else "")
    )


def measure_benchmark(
    suite_path: str | Path,
    name: str,
    settings: Settings,
    *,
    defaults: SuiteDefaults | None = None,
    metadata: Mapping[str, str | int | float] | None = None,
    cpus: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = _default_progress,
    worker_done: Callable[[int], None] | None = None,
    tools: Toolchain | None = None,
) -> pyperf.Benchmark:
    """Count the instructions of benchmark `name` of the suite at `suite_path`.

    Returns a pyperf Benchmark whose runs are the valgrind worker processes, each
    with `values` counts (instructions per call, the empty-call overhead subtracted),
    unit `integer`, and metadata `perfagent_metric=instructions` plus `metadata`
    (the runner's common keys). `cpus` are the CPUs the workers may use (None: any);
    `progress` receives lines to show, `worker_done(n)` the number of finished workers.

    Raises InstructionsUnavailable (exit 2) when valgrind or a C compiler is missing,
    SuiteError for a suite that does not load, BenchmarkRunError when the benchmark fails.
    """
    import pyperf

    tools = tools if tools is not None else toolchain()
    plan_ = plan(settings, defaults)
    suite_dir = Path(suite_path).resolve()
    env = worker_environment(os.environ)
    jobs = _parallel_jobs(plan_.processes, cpus)
    if progress is not None:
        progress(f"{name}: {describe_plan(plan_, jobs)}")

    finished = itertools.count(1)
    lock = threading.Lock()

    def one(_index: int) -> _WorkerOutcome:
        outcome = _run_worker(tools, suite_dir, name, plan_, env, cpus)
        with lock:
            count = next(finished)
            if progress is not None:
                progress(
                    f"{name}: process {count}/{plan_.processes}: "
                    f"{statistics.median(outcome.counts.net_values()):,.0f} instructions "
                    f"per call ({outcome.duration:.1f} s under valgrind)"
                )
            if worker_done is not None:
                worker_done(count)
        return outcome

    # Threads only wait on subprocesses here; the work is in the valgrind processes.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(one, range(plan_.processes)))

    common: dict[str, str | int | float] = dict(metadata or {})
    common.update(
        {
            "name": name,
            "unit": UNIT,
            "loops": 1,
            "perfagent_metric": METRIC,
            "perfagent_instructions_tool": f"callgrind ({tools.valgrind_version})",
            "perfagent_instructions_hashseed": HASH_SEED,
            "perfagent_instructions_aslr": "off" if tools.no_aslr else "on",
            "perfagent_instructions_warmups": plan_.warmups,
        }
    )
    runs = []
    for outcome in outcomes:
        run_metadata = dict(common)
        run_metadata.update(
            {
                "date": outcome.started.isoformat(sep=" ", timespec="seconds"),
                "duration": round(outcome.duration, 3),
                "perfagent_instructions_overhead": outcome.counts.overhead,
            }
        )
        runs.append(
            pyperf.Run(outcome.counts.net_values(), metadata=run_metadata, collect_metadata=False)
        )
    return pyperf.Benchmark(runs)
