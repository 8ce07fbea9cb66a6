"""Reading, validating, merging and writing pyperf results files.

A results file is pyperf JSON (`pyperf.BenchmarkSuite`), the agent's own or plain
pyperf output. The agent's facts ride in pyperf metadata (docs/architecture.md):
`perfagent_fingerprint`, `perfagent_hardware`, `perfagent_software`,
`perfagent_metric`, `perfagent_suite`, `perfagent_commit`, `perfagent_run_id`,
`perfagent_version`, `perfagent_suite_<key>`.

Every way a file can be unusable (missing, empty, truncated, corrupt, valid JSON but
not pyperf) is a `ResultsFileError` that names the file and says what is wrong.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from perfagent.errors import ResultsFileError
from perfagent.store.atomic import atomic_write_bytes

KEY_VERSION = "perfagent_version"
KEY_FINGERPRINT = "perfagent_fingerprint"
KEY_HARDWARE = "perfagent_hardware"
KEY_SOFTWARE = "perfagent_software"
KEY_METRIC = "perfagent_metric"
KEY_SUITE = "perfagent_suite"
KEY_COMMIT = "perfagent_commit"
KEY_RUN_ID = "perfagent_run_id"
SUITE_METADATA_PREFIX = "perfagent_suite_"

# The run-group key for runs without a perfagent_run_id: plain pyperf output, where
# every worker process of the file is taken to come from one invocation.
UNLABELLED_RUN = "(unlabelled)"

# pyperf's unit for each metric; a plain pyperf file's metric is read from its unit.
METRIC_UNITS = {"time": "second", "instructions": "integer"}

# The most a .json.gz may decompress to: full pyperformance results are a few MB.
MAX_DECOMPRESSED = 256 * 2**20
# Bounds of a measured value in any unit: below a femtosecond, or beyond 1e18 bytes,
# instructions or seconds, it is damage (or an attack), not a measurement.
MIN_VALUE = 1e-15
MAX_VALUE = 1e18


# --- loading ----------------------------------------------------------------------


def load(path: str | Path) -> pyperf.BenchmarkSuite:
    """Load and validate the pyperf JSON at `path` (`.json` or `.json.gz`)."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_DECOMPRESSED:
            raise ResultsFileError(
                f"{file}: larger than {MAX_DECOMPRESSED // 2**20} MiB (not a results file)"
            )
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ResultsFileError(f"{file}: no such results file") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{file}: is a directory, not a results file") from None
    except OSError as exc:
        raise ResultsFileError(f"{file}: cannot read it: {exc.strerror or exc}") from None
    if file.name.endswith(".gz"):
        raw = _gunzip(raw, file)
    return loads(raw, str(file))


def _gunzip(raw: bytes, file: Path) -> bytes:
    """Decompress, refusing more than MAX_DECOMPRESSED bytes (a gzip bomb) before
    holding them in memory."""
    # 16 + MAX_WBITS: a gzip header; concatenated gzip members are followed in a loop.
    out: list[bytes] = []
    size = 0
    data = raw
    try:
        while data:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while data:
                chunk = inflater.decompress(data, MAX_DECOMPRESSED + 1 - size)
                size += len(chunk)
                out.append(chunk)
                if size > MAX_DECOMPRESSED:
                    raise ResultsFileError(
                        f"{file}: decompresses to more than {MAX_DECOMPRESSED // 2**20} MiB "
                        "(not a results file, or a gzip bomb)"
                    )
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
            if not inflater.eof:
                raise ResultsFileError(f"{file}: corrupt gzip data (the stream ends early)")
            data = inflater.unused_data
    except zlib.error as exc:
        raise ResultsFileError(f"{file}: corrupt gzip data ({exc})") from None
    return b"".join(out)


def loads(raw: bytes | str, source: str) -> pyperf.BenchmarkSuite:
    """Parse and validate pyperf JSON text; `source` names it in errors."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ResultsFileError(
                f"{source}: not a results file (binary data, not UTF-8 JSON)"
            ) from None
    else:
        text = raw
    if not text.strip():
        raise ResultsFileError(f"{source}: the file is empty (an interrupted run?)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # An error at the very end, or a string never closed, is a file cut short
        # (a killed writer, a full disk); anything else is damage inside it.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = (
            "truncated: the JSON ends early"
            if truncated
            else f"corrupt JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        )
        raise ResultsFileError(f"{source}: not a valid results file ({hint})") from None
    _check_shape(data, source)
    try:
        suite = pyperf.BenchmarkSuite._json_load(source, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsFileError(f"{source}: not a valid pyperf results file ({exc})") from None
    for bench in suite:
        if not any(run.values for run in bench.get_runs()):
            raise ResultsFileError(
                f"{source}: benchmark {bench.get_name()!r} has no measured values "
                "(only calibration runs)"
            )
        _check_values(bench, source)
    return suite


def _check_values(bench: pyperf.Benchmark, source: str) -> None:
    """Refuse values no measurement gives: they would make ratios of inf or nan."""
    for run in bench.get_runs():
        for value in run.values:
            if not math.isfinite(value):
                raise ResultsFileError(
                    f"{source}: benchmark {bench.get_name()!r} has a value {value!r} that is "
                    "not finite"
                )
            if not MIN_VALUE <= value <= MAX_VALUE:
                raise ResultsFileError(
                    f"{source}: benchmark {bench.get_name()!r} has a value {value!r} out of "
                    f"range (a measurement lies between {MIN_VALUE:g} and {MAX_VALUE:g})"
                )


def _check_shape(data: Any, source: str) -> None:
    """Reject valid JSON that is not pyperf's format, with a message a user can act on."""
    foreign = f"{source}: not a pyperf results file"
    if not isinstance(data, dict):
        raise ResultsFileError(f"{foreign} (the JSON is a {type(data).__name__}, not an object)")
    if "benchmarks" not in data or "version" not in data:
        if "machine_info" in data or "datetime" in data:
            raise ResultsFileError(
                f"{foreign} (it looks like pytest-benchmark output; the agent reads pyperf JSON)"
            )
        keys = ", ".join(sorted(map(str, data))[:6]) or "none"
        raise ResultsFileError(f"{foreign} (no 'version' and 'benchmarks'; its keys: {keys})")
    if not isinstance(data["benchmarks"], list) or not data["benchmarks"]:
        raise ResultsFileError(f"{foreign} (its 'benchmarks' list is empty or not a list)")
    for index, bench in enumerate(data["benchmarks"]):
        if not isinstance(bench, dict) or not isinstance(bench.get("runs"), list):
            raise ResultsFileError(f"{foreign} (benchmark #{index + 1} has no 'runs' list)")
        if not bench["runs"]:
            raise ResultsFileError(f"{foreign} (benchmark #{index + 1} has no runs)")


# --- writing ----------------------------------------------------------------------


def dump_bytes(suite: pyperf.BenchmarkSuite) -> bytes:
    """The pyperf JSON of `suite`, as pyperf itself writes it."""
    buffer = io.StringIO()
    suite.dump(buffer, compact=True)
    return buffer.getvalue().encode("utf-8")


def write(suite: pyperf.BenchmarkSuite, path: str | Path) -> None:
    """Write `suite` to `path` atomically (gzipped when it ends in .gz), creating the
    directory."""
    target = Path(path)
    data = dump_bytes(suite)
    if target.name.endswith(".gz"):
        data = gzip.compress(data)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise ResultsFileError(f"{target}: cannot write results: {exc.strerror or exc}") from None


# --- metadata ---------------------------------------------------------------------


def _distinct(suite: pyperf.BenchmarkSuite, key: str) -> list[Any]:
    """Every value of a metadata key over all runs of all benchmarks, first seen first."""
    seen: list[Any] = []
    for bench in suite:
        for run in bench.get_runs():
            value = run.get_metadata().get(key)
            if value is not None and value not in seen:
                seen.append(value)
    return seen


def _single(suite: pyperf.BenchmarkSuite, key: str, what: str) -> Any:
    """The one value of `key`; a file mixing several is an error."""
    values = _distinct(suite, key)
    if len(values) > 1:
        shown = ", ".join(map(str, values[:4]))
        raise ResultsFileError(
            f"{describe_source(suite)}: mixes results of several {what}: {shown}"
        )
    return values[0] if values else None


def _json_field(suite: pyperf.BenchmarkSuite, key: str) -> dict[str, Any] | None:
    text = _distinct(suite, key)
    if not text:
        return None
    # Several runs may carry different software (an upgrade between baseline runs);
    # the latest is the one reported.
    raw = text[-1]
    try:
        value = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        raise ResultsFileError(
            f"{describe_source(suite)}: metadata {key} is not valid JSON text"
        ) from None
    if not isinstance(value, dict):
        raise ResultsFileError(f"{describe_source(suite)}: metadata {key} is not a JSON object")
    return value


def describe_source(suite: pyperf.BenchmarkSuite) -> str:
    """The file a suite was loaded from, or a stand-in for one built in memory."""
    return str(suite.filename) if suite.filename else "results"


def fingerprint_id(suite: pyperf.BenchmarkSuite) -> str | None:
    """The hardware fingerprint id the results were taken on (None: plain pyperf)."""
    value = _single(suite, KEY_FINGERPRINT, "hardware fingerprints")
    return None if value is None else str(value)


def hardware(suite: pyperf.BenchmarkSuite) -> dict[str, Any] | None:
    """The canonical hardware fields behind the fingerprint."""
    return _json_field(suite, KEY_HARDWARE)


def software(suite: pyperf.BenchmarkSuite) -> dict[str, Any] | None:
    """The software (OS, kernel, Python, packages) recorded with the results."""
    return _json_field(suite, KEY_SOFTWARE)


# What a plain pyperf file measures, by its unit: `byte` is pyperf's --track-memory
# and --tracemalloc, never a time.
METRIC_BY_UNIT = {"second": "time", "integer": "instructions", "byte": "memory"}


def metric(suite: pyperf.BenchmarkSuite) -> str:
    """`time` or `instructions` (the agent's metadata), else read from pyperf's unit:
    `time`, `instructions`, `memory`, or the unit itself for any other."""
    value = _single(suite, KEY_METRIC, "metrics")
    if value is not None:
        return str(value)
    units = sorted({str(bench.get_unit()) for bench in suite})
    if len(units) == 1:
        return METRIC_BY_UNIT.get(units[0], units[0])
    # Mixed units in one file: its time benchmarks are what a gate can judge.
    return "time"


def suite_name(suite: pyperf.BenchmarkSuite) -> str | None:
    value = _single(suite, KEY_SUITE, "suites")
    return None if value is None else str(value)


def commit(suite: pyperf.BenchmarkSuite) -> str | None:
    """The commit measured; with several (a pooled file), the last one."""
    values = _distinct(suite, KEY_COMMIT)
    return str(values[-1]) if values else None


def agent_version(suite: pyperf.BenchmarkSuite) -> str | None:
    values = _distinct(suite, KEY_VERSION)
    return str(values[-1]) if values else None


def suite_metadata(suite: pyperf.BenchmarkSuite) -> dict[str, str]:
    """What the suite's `metadata()` reported (`perfagent_suite_<key>`), by key."""
    found: dict[str, str] = {}
    for bench in suite:
        for key, value in bench.get_metadata().items():
            if key.startswith(SUITE_METADATA_PREFIX):
                found[key[len(SUITE_METADATA_PREFIX) :]] = str(value)
    return found


def run_ids(suite: pyperf.BenchmarkSuite) -> list[str]:
    """The suite runs the results pool, first seen first."""
    ids = [str(v) for v in _distinct(suite, KEY_RUN_ID)]
    return ids or [UNLABELLED_RUN]


def measured_at(suite: pyperf.BenchmarkSuite) -> str | None:
    """When the last measurement was taken (pyperf's ISO date), if recorded."""
    dates = suite.get_dates()
    if not dates:
        return None
    end: Any = dates[1]
    return str(end.isoformat())


# --- samples ----------------------------------------------------------------------


@dataclass(frozen=True)
class Samples:
    """One benchmark's process means, grouped by suite run.

    Each pyperf run is one worker process; its mean over its values (warmups
    excluded) is one independent observation. Runs without values (calibration) are
    left out.
    """

    name: str
    unit: str
    groups: dict[str, list[float]] = field(default_factory=dict)

    @property
    def process_means(self) -> list[float]:
        return [value for group in self.groups.values() for value in group]

    @property
    def n_processes(self) -> int:
        return sum(len(group) for group in self.groups.values())

    @property
    def n_runs(self) -> int:
        return len(self.groups)


def samples(bench: pyperf.Benchmark) -> Samples:
    """The process means of one benchmark, grouped by `perfagent_run_id`."""
    groups: dict[str, list[float]] = {}
    for run in bench.get_runs():
        values = run.values
        if not values:
            continue
        run_id = str(run.get_metadata().get(KEY_RUN_ID, UNLABELLED_RUN))
        groups.setdefault(run_id, []).append(sum(values) / len(values))
    return Samples(name=str(bench.get_name()), unit=str(bench.get_unit()), groups=groups)


def samples_by_name(suite: pyperf.BenchmarkSuite) -> dict[str, Samples]:
    """`samples` of every benchmark of a suite, in file order."""
    return {str(bench.get_name()): samples(bench) for bench in suite}


# --- combining --------------------------------------------------------------------


def merge(suites: Sequence[pyperf.BenchmarkSuite]) -> pyperf.BenchmarkSuite:
    """Pool several suite runs into one suite: every benchmark keeps all its runs.

    Runs are immutable in pyperf and are shared, not copied; the inputs are not
    modified. Benchmarks keep the order in which they are first seen.
    """
    if not suites:
        raise ValueError("merge() needs at least one suite")
    runs: dict[str, list[pyperf.Run]] = {}
    for suite in suites:
        for bench in suite:
            runs.setdefault(str(bench.get_name()), []).extend(bench.get_runs())
    benchmarks = []
    for name, bench_runs in runs.items():
        try:
            benchmarks.append(pyperf.Benchmark(bench_runs))
        except ValueError as exc:
            sources = ", ".join(describe_source(s) for s in suites)
            raise ResultsFileError(
                f"cannot pool the results of benchmark {name!r} ({sources}): {exc}"
            ) from None
    return pyperf.BenchmarkSuite(benchmarks)


def select(suite: pyperf.BenchmarkSuite, names: Iterable[str]) -> pyperf.BenchmarkSuite:
    """A new suite holding only the named benchmarks (in the suite's order)."""
    wanted = set(names)
    chosen = [bench for bench in suite if bench.get_name() in wanted]
    if not chosen:
        raise ResultsFileError(
            f"{describe_source(suite)}: none of the benchmarks {sorted(wanted)} is in it"
        )
    return pyperf.BenchmarkSuite(chosen, filename=suite.filename)
