"""Worker processes: their environment, their CPU, their supervision and their end.

Both metrics start their workers here (runner.py for time, instructions.py under
valgrind), so both get the same placement and the same guarantees:

* Placement (issue 10): the agent's own process stays where it was started (the
  housekeeping CPUs on a provisioned runner); a worker is pinned to ONE benchmark CPU
  in the child, before it executes, and its libraries' thread pools are sized to the
  CPUs it has (one when pinned).
* A minimal environment, as pyperf gives its workers, so a CI job's changing
  variables stay out of the measurement; library paths and `PERFAGENT_*` pass.
* Each worker is the leader of its own process group. On a failure, a timeout,
  Ctrl-C or SIGTERM the agent kills the whole group (the worker and anything it
  started) and reaps it; PR_SET_PDEATHSIG kills a worker whose agent was killed
  outright. No worker outlives the agent.
* A worker reports "start N" / "done N" (N: the position in its order) on a pipe, so
  the agent names the benchmark it is at and times each one out on its own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

import perfagent
from perfagent.errors import BenchmarkRunError, UsageError
from perfagent.measure.worker import ERROR_PREFIX

# Environment variables a worker keeps: pyperf's own minimal set (pyperf/_utils.py
# create_environ), then what changes whether or how a benchmark runs (library paths).
BASE_ENVIRONMENT = ("PATH", "HOME", "TEMP", "TMPDIR", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE")
INHERITED_ENVIRONMENT = (
    "LD_LIBRARY_PATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "GDAL_DATA",
    "PROJ_LIB",
    "PROJ_DATA",
    "NUMBA_NUM_THREADS",
    "VALGRIND_LIB",
)
# Settings and test hooks read by workloads (PERFAGENT_TEST_REFERENCE_SLOWDOWN, ...).
INHERITED_PREFIXES = ("PERFAGENT_",)
# Thread pools a worker's libraries start: sized to the CPUs the worker has.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "GDAL_NUM_THREADS",
)
# How much of a failed worker's output an error shows above its last line.
OUTPUT_TAIL_LINES = 30

_PR_SET_PDEATHSIG = 1


def shuffled(names: Sequence[str], seed: int) -> list[str]:
    """`names` in the order a worker with this seed measures them (reproducible)."""
    order = list(names)
    random.Random(seed).shuffle(order)
    return order


def new_seed() -> int:
    """A fresh seed for one worker's order (recorded as perfagent_order_seed)."""
    return random.SystemRandom().randrange(2**32)


def worker_threads(cpu: int | None) -> int:
    """The CPUs a worker has: one when pinned, else all this process may use."""
    if cpu is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def package_root() -> Path:
    """The directory holding the `perfagent` package: on every worker's PYTHONPATH, so
    another interpreter (`ab --base-python`) runs this agent's worker half."""
    return Path(perfagent.__file__).resolve().parent.parent


def worker_environment(
    base: Mapping[str, str], threads: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A worker's environment: the minimal one, thread pools sized to `threads`, `extra`."""
    kept = (*BASE_ENVIRONMENT, *INHERITED_ENVIRONMENT)
    env = {name: base[name] for name in kept if name in base}
    env.update({k: v for k, v in base.items() if k.startswith(INHERITED_PREFIXES)})
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    path = [str(package_root()), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    env.update(extra or {})
    return env


def _load_libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:  # pragma: no cover - no libc to load
        return None


# Loaded in the parent: the child between fork and exec only calls into it.
_LIBC = _load_libc()


def placement(cpu: int | None) -> Callable[[], None]:
    """What the child runs between fork and exec: pin it to `cpu`, tie it to the agent."""
    parent = os.getpid()

    def before_exec() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent:  # the agent died before prctl took effect
                os._exit(1)

    return before_exec


def start_worker(
    command: Sequence[str],
    env: Mapping[str, str],
    cpu: int | None,
    output: IO[bytes],
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start one worker in a process group of its own, pinned to `cpu`; output to `output`."""
    try:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=tuple(pass_fds),
            process_group=0,
            # Two system calls, no locks taken: safe between fork and exec.
            preexec_fn=placement(cpu),
        )
    except OSError as exc:
        raise UsageError(f"cannot start a worker process ({command[0]}): {exc}") from None


def kill_group(process: subprocess.Popen[Any]) -> None:
    """Kill a worker and everything it started (its process group), then reap it."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        process.kill()
    process.wait()


class WorkerEvents(Protocol):
    """What a supervisor reports while workers run (progress displays implement it)."""

    def benchmark_started(self, index: int, total: int, name: str) -> None: ...


@dataclass
class Running:
    """A started worker under supervision."""

    process: subprocess.Popen[bytes]
    events_fd: int
    order: tuple[str, ...]
    timeout: float | None
    timeout_source: str
    index: int
    position: int | None = None
    deadline: float | None = None
    _buffer: bytes = field(default=b"", repr=False)

    def name(self) -> str:
        """The benchmark the worker is at (its first one before it said anything)."""
        if self.position is None or not 0 <= self.position < len(self.order):
            return self.order[0] if self.order else "?"
        return self.order[self.position]

    def restart_clock(self) -> None:
        if self.timeout is not None:
            self.deadline = time.monotonic() + self.timeout


def supervise(running: Sequence[Running], events: WorkerEvents | None = None) -> None:
    """Follow the workers' events until every one has closed its pipe.

    A benchmark has `timeout` seconds from its start (the first one from the process
    start: the suite's imports belong to it). On a timeout, or any exception here
    (KeyboardInterrupt, SIGTERM as `Terminated`), every worker's group is killed.
    """
    open_workers = {worker.events_fd: worker for worker in running}
    for worker in running:
        worker.restart_clock()
    try:
        with selectors.DefaultSelector() as selector:
            for fd in open_workers:
                selector.register(fd, selectors.EVENT_READ)
            while open_workers:
                deadlines = [w.deadline for w in open_workers.values() if w.deadline is not None]
                wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = selector.select(wait)
                now = time.monotonic()
                late = [
                    w for w in open_workers.values() if w.deadline is not None and now >= w.deadline
                ]
                if late and not ready:
                    raise timeout_error(late[0])
                for key, _mask in ready:
                    worker = open_workers[int(key.fd)]
                    chunk = os.read(worker.events_fd, 4096)
                    if not chunk:
                        selector.unregister(worker.events_fd)
                        del open_workers[worker.events_fd]
                        continue
                    _read_events(worker, chunk, events)
    except BaseException:
        for worker in running:
            kill_group(worker.process)
        raise


def _read_events(worker: Running, chunk: bytes, events: WorkerEvents | None) -> None:
    worker._buffer += chunk
    *lines, worker._buffer = worker._buffer.split(b"\n")
    for line in lines:
        kind, _, position = line.decode("ascii", "replace").partition(" ")
        if kind == "start" and position.isdigit():
            worker.position = int(position)
            worker.restart_clock()
            if events is not None:
                events.benchmark_started(worker.position + 1, len(worker.order), worker.name())


def timeout_error(worker: Running) -> BenchmarkRunError:
    return BenchmarkRunError(
        f"benchmark {worker.name()} failed: timed out after {worker.timeout:g} s in worker "
        f"process {worker.index} (timeout per benchmark: {worker.timeout_source}; "
        "set another with --timeout SECONDS)"
    )


def failure_error(worker: Running, code: int, reported: object, output: str) -> BenchmarkRunError:
    """The error for a worker that did not finish: its own message, or how it ended.

    `details` is the worker's output (its traceback) without the message line, which
    the CLI prints above the message so that the message stays the last line.
    """
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    details = [line for line in lines if not line.startswith(ERROR_PREFIX)]
    tail = "\n".join(details[-OUTPUT_TAIL_LINES:])
    if isinstance(reported, str) and reported:
        return BenchmarkRunError(reported, details=tail)
    if code < 0:
        how = f"its worker process was killed by signal {-code}"
    elif code == 0:
        how = "its worker process exited (code 0) before finishing it"
    else:
        how = f"its worker process exited with code {code}"
    return BenchmarkRunError(f"benchmark {worker.name()} failed: {how}", details=tail)


class Terminated(BaseException):
    """SIGTERM while workers run: raised so that they are killed on the way out.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it;
    not a KeyboardInterrupt, which click would turn into its own Abort.
    """

    signal_number = int(signal.SIGTERM)


@contextmanager
def stop_workers_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into `Terminated` while workers run (in the main thread only)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"terminated by signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals belong to whoever runs it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
