"""The worker half of the `instructions` metric: the process valgrind runs.

    valgrind --tool=callgrind ... python -m perfagent.measure.instructions_worker JOB.json

It loads the compiled client-request shim and, for each benchmark of its (shuffled)
order, prepares it and counts its calls as `measure.instructions` (the parent half,
which starts this process and reads the dumps) explains, reporting "start N" /
"done N" on its events pipe like the time worker. It imports nothing of the agent
beyond the suite loader, the errors and the time worker's helpers, so what runs under
valgrind stays small.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from perfagent.errors import PerfAgentError
from perfagent.measure.worker import ERROR_PREFIX, Reporter, describe

# Empty calls counted per worker to measure the constant overhead around a call.
EMPTY_CALLS = 3
# Uninstrumented calls of the counting code before counting starts, so that the
# interpreter has specialised it (CPython 3.11 specialises after a few executions).
COUNTING_WARMUPS = 16
# The dump label of each counted call: "perfagent empty 4 0", "perfagent value 4 2"
# (the benchmark's position in the order, then the call's index).
LABEL_PREFIX = "perfagent"


def _empty() -> None:
    """Stands in for a benchmark without setup when the call overhead is counted."""


def _empty_with_value(_value: Any) -> None:
    """Stands in for a benchmark given its setup's value."""


def empty_like(call: Callable[[], Any]) -> Callable[[], Any]:
    """An empty callable reached the way `call` is: same shape, no work."""
    if isinstance(call, functools.partial) and len(call.args) == 1 and not call.keywords:
        return functools.partial(_empty_with_value, call.args[0])
    return _empty


# Two functions with identical bodies, one per call site: CPython specialises a call
# site for the function it sees, and alternating the benchmark and the empty call at
# one site would count de-specialisation in one of them and not in the other.
def _count_benchmark(toggle: Callable[[], None], call: Callable[[], Any]) -> None:
    toggle()
    call()
    toggle()


def _count_empty(toggle: Callable[[], None], call: Callable[[], Any]) -> None:
    toggle()
    call()
    toggle()


def _load_shim(path: str) -> ctypes.CDLL:
    library = ctypes.CDLL(path)
    for function in (
        "perfagent_start_instrumentation",
        "perfagent_stop_instrumentation",
        "perfagent_zero_stats",
        "perfagent_toggle_collect",
    ):
        getattr(library, function).argtypes = []
        getattr(library, function).restype = None
    library.perfagent_dump_stats.argtypes = [ctypes.c_char_p]
    library.perfagent_dump_stats.restype = None
    library.perfagent_running_on_valgrind.argtypes = []
    library.perfagent_running_on_valgrind.restype = ctypes.c_int
    return library


class _WorkerFailure(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _count_one(shim: ctypes.CDLL, job: Mapping[str, Any], position: int, name: str) -> None:
    """Set up one benchmark uninstrumented, count its empty and real calls, tear it down."""
    from perfagent.measure.suite import prepare_benchmark

    try:
        prepared = prepare_benchmark(str(job["suite"]), name)
    except PerfAgentError as exc:
        traceback.print_exc()
        raise _WorkerFailure("suite", f"benchmark {name} failed: {exc}") from None
    except BaseException as exc:  # SystemExit in an import or a setup fails it too
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        raise _WorkerFailure("benchmark", f"benchmark {name} failed: {describe(exc)}") from None
    call = prepared.timed_callable()
    empty = empty_like(call)
    toggle = shim.perfagent_toggle_collect
    zero = shim.perfagent_zero_stats
    dump = shim.perfagent_dump_stats
    try:
        # Uninstrumented: the benchmark's warm-ups, then enough rounds of the counting
        # code itself for the interpreter to settle on its specialised form. Toggles
        # come in pairs, so collection stays off.
        for _ in range(int(job["warmups"])):
            _count_benchmark(toggle, call)
        for _ in range(COUNTING_WARMUPS):
            _count_empty(toggle, empty)
        shim.perfagent_start_instrumentation()
        for index in range(EMPTY_CALLS):
            gc.collect()
            zero()
            _count_empty(toggle, empty)
            dump(f"{LABEL_PREFIX} empty {position} {index}".encode())
        for index in range(int(job["values"])):
            gc.collect()
            zero()
            _count_benchmark(toggle, call)
            dump(f"{LABEL_PREFIX} value {position} {index}".encode())
        # The next benchmark's import and setup run uninstrumented again.
        shim.perfagent_stop_instrumentation()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        raise _WorkerFailure("benchmark", f"benchmark {name} failed: {describe(exc)}") from None
    finally:
        prepared.close()


def _count(job: Mapping[str, Any]) -> None:
    shim = _load_shim(str(job["shim"]))
    if not shim.perfagent_running_on_valgrind():
        raise _WorkerFailure(
            "environment",
            f"the worker is not running under valgrind: {sys.executable} is probably a "
            "wrapper script (pyenv shim, ...) that valgrind does not follow; run perfagent "
            "with the Python interpreter itself, e.g. from a virtual environment",
        )
    events = Reporter(job.get("events_fd"))
    for position, name in enumerate(job["order"]):
        events.send("start", position)
        _count_one(shim, job, position, str(name))
        events.send("done", position)


def worker_main(argv: Sequence[str]) -> int:
    """Entry point of a worker process (`python -m perfagent.measure.instructions_worker JOB`)."""
    if len(argv) != 1:
        print(
            "usage: python -m perfagent.measure.instructions_worker JOB.json (run by perfagent)",
            file=sys.stderr,
        )
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result_file = Path(job["result"])
    try:
        _count(job)
    except _WorkerFailure as failure:
        result_file.write_text(json.dumps({"error": str(failure), "kind": failure.kind}))
        print(ERROR_PREFIX + str(failure), file=sys.stderr, flush=True)
        return 1
    result_file.write_text(json.dumps({"complete": True}))
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
