"""The time worker: one process that measures every benchmark of its order, in turn.

    python -m perfagent.measure.worker JOB.json      (started by runner.run_worker)

A run is several of these processes, one after another. Each imports the suite's
modules once, then for each benchmark of its (shuffled) order: runs the setup outside
the timing, calibrates the loop count when the job gives none, times the warm-ups and
values, and runs the teardown. The parent builds the pyperf objects from what this
writes, so this half imports only the standard library and `perfagent.measure.suite`:
it runs under any Python of 3.11 or later, pyperf installed there or not (`ab` runs it
with the base side's interpreter).

Protocol: the job file (JSON) says what to do; the worker reports "start N" / "done N"
lines (N: the position in the order) on the file descriptor `events_fd`, so the parent
can show progress and time each benchmark out, and writes its values to `result` at
the end. A failure prints the traceback on stderr, one `ERROR_PREFIX` line naming the
benchmark, and exits 1; only a result that says `complete` with every benchmark counts,
so a benchmark that calls sys.exit(0) never passes.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

# The machine-drift reference workload, measured like a benchmark when the job asks.
from perfagent.measure.reference import NAME as REFERENCE_NAME
from perfagent.measure.reference import reference_workload

# Marks the one line of a worker's stderr that says what went wrong (the runner shows it).
ERROR_PREFIX = "perfagent: error: "
# pyperf's bound on the loop count (pyperf/_worker.py MAX_LOOPS).
MAX_LOOPS = 2**32


class BenchmarkFailure(Exception):
    """A benchmark that cannot be measured: its import, setup, call or teardown failed."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"benchmark {name} failed: {reason}")
        self.name = name


def make_time_func(call: Callable[[], Any]) -> Callable[[int], float]:
    """`loops` calls of `call`, timed as a whole (the raw value of pyperf's time functions)."""

    def time_func(loops: int) -> float:
        timer = time.perf_counter
        # Local names and a bare range loop: the least overhead around each call.
        local_call = call
        loop_range = range(loops)
        start = timer()
        for _ in loop_range:
            local_call()
        return timer() - start

    return time_func


def calibrate(time_func: Callable[[int], float], min_time: float) -> list[tuple[int, float]]:
    """Double the loop count from 1 until one raw value lasts `min_time`, as pyperf does.

    Returns the calibration values as pyperf warm-ups: (loops, seconds per loop); the
    last one's loops is the calibrated count.
    """
    loops = 1
    values: list[tuple[int, float]] = []
    while True:
        raw = time_func(loops)
        values.append((loops, raw / loops))
        if raw >= min_time or loops * 2 > MAX_LOOPS:
            return values
        loops *= 2


def describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


class Reporter:
    """The events channel to the parent (a pipe), or nowhere when run by hand."""

    def __init__(self, fd: int | None) -> None:
        self._stream = os.fdopen(fd, "w", buffering=1) if fd is not None else None

    def send(self, kind: str, position: int) -> None:
        if self._stream is not None:
            self._stream.write(f"{kind} {position}\n")


def _prepare(job: dict[str, Any], name: str) -> tuple[Callable[[], Any], Callable[[], None]]:
    """The callable to time and what to run when done with it."""
    if name == REFERENCE_NAME:
        return reference_workload, lambda: None
    from perfagent.measure.suite import prepare_benchmark

    prepared = prepare_benchmark(str(job["suite"]), name)
    return prepared.timed_callable(), prepared.close


def measure_one(job: dict[str, Any], name: str) -> dict[str, Any]:
    """Set up, calibrate (when no loops are given), warm up, time and tear down one benchmark."""
    started = datetime.datetime.now()
    clock = time.monotonic()
    try:
        call, close = _prepare(job, name)
    except BaseException as exc:  # SystemExit at import or in setup is a failure too
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        from perfagent.errors import PerfAgentError

        reason = str(exc) if isinstance(exc, PerfAgentError) else describe(exc)
        raise BenchmarkFailure(name, reason) from None
    time_func = make_time_func(call)
    loops = int(job["loops"].get(name) or 0)
    calibration: list[tuple[int, float]] = []
    try:
        if loops < 1:
            calibration = calibrate(time_func, float(job["min_time"]))
            loops = calibration[-1][0]
        warmups = [(loops, time_func(loops) / loops) for _ in range(int(job["warmups"]))]
        values = [time_func(loops) / loops for _ in range(int(job["values"]))]
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        raise BenchmarkFailure(name, describe(exc)) from None
    finally:
        try:
            close()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            traceback.print_exc()
            raise BenchmarkFailure(name, f"teardown: {describe(exc)}") from None
    if any(value <= 0 for value in values):
        raise BenchmarkFailure(name, "the timer measured 0 s for a value (too few loops)")
    return {
        "name": name,
        "loops": loops,
        "calibration": calibration,
        "warmups": warmups,
        "values": values,
        "date": started.isoformat(sep=" ", timespec="seconds"),
        "duration": time.monotonic() - clock,
    }


def process_metadata() -> dict[str, Any]:
    """Facts about this worker process: pyperf's own when pyperf is importable here."""
    try:
        import pyperf

        # pyperf collects its metadata when a Run is made; the value is a placeholder.
        collected = dict(pyperf.Run([1.0]).get_metadata())
    except Exception:
        collected = {
            "python_implementation": platform.python_implementation().lower(),
            "python_version": platform.python_version(),
            "python_executable": sys.executable,
            "platform": platform.platform(True, False),
            "hostname": socket.gethostname(),
            "cpu_count": os.cpu_count() or 1,
        }
    for key in ("date", "duration", "name", "unit", "loops"):
        collected.pop(key, None)
    return collected


def _fail(message: str, result: Path, name: str | None) -> NoReturn:
    result.write_text(json.dumps({"error": message, "benchmark": name}), encoding="utf-8")
    print(ERROR_PREFIX + message, file=sys.stderr, flush=True)
    sys.exit(1)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        usage = "usage: python -m perfagent.measure.worker JOB.json (run by perfagent)"
        print(usage, file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = Path(job["result"])
    reporter = Reporter(job.get("events_fd"))
    measured: list[dict[str, Any]] = []
    for position, name in enumerate(job["order"]):
        reporter.send("start", position)
        try:
            measured.append(measure_one(job, name))
        except BenchmarkFailure as failure:
            _fail(str(failure), result, failure.name)
        reporter.send("done", position)
    document = {"complete": True, "metadata": process_metadata(), "benchmarks": measured}
    result.write_text(json.dumps(document), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
