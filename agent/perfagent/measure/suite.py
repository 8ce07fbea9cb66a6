"""Suites: a directory of plain Python whose `bench_*.py` modules hold benchmark functions.

See docs/architecture.md for the format. The parent process loads the whole suite to
list and select benchmarks; a worker process loads only the module of the one
benchmark it measures (`prepare_benchmark`).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import inspect
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar, overload

from perfagent.errors import SuiteError

BENCH_MODULE_PREFIX = "bench_"
BENCH_FUNCTION_PREFIX = "bench_"
SUITE_SETTINGS_MODULE = "_suite"
_MARKER = "__perfagent_benchmark__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BenchmarkOptions:
    """What `@benchmark(...)` attaches to a function."""

    setup: Callable[[], Any] | None = None
    teardown: Callable[[Any], Any] | None = None


@overload
def benchmark(func: F) -> F: ...
@overload
def benchmark(
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[Any], Any] | None = None,
) -> Callable[[F], F]: ...


def benchmark(
    func: F | None = None,
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[Any], Any] | None = None,
) -> F | Callable[[F], F]:
    """Mark a function as a benchmark.

    `setup()` runs once per worker process, outside the timing; its return value is
    passed to the benchmark on every call, and to `teardown(value)` when the worker exits.
    """

    def mark(target: F) -> F:
        setattr(target, _MARKER, BenchmarkOptions(setup=setup, teardown=teardown))
        return target

    if func is not None:
        return mark(func)
    return mark


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark of a suite."""

    name: str
    module_file: Path
    function_name: str
    description: str
    function: Callable[..., Any]
    options: BenchmarkOptions


@dataclass(frozen=True)
class SuiteDefaults:
    """A suite's own pyperf defaults from its `_suite.py` (None: pyperf's)."""

    processes: int | None = None
    values: int | None = None
    warmups: int | None = None
    min_time: float | None = None
    # Seconds one benchmark may take in one worker process (import, setup, values).
    timeout: float | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    benchmarks: tuple[BenchmarkSpec, ...]
    defaults: SuiteDefaults
    metadata_function: Callable[[], Any] | None = None

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.benchmarks]

    def select(self, patterns: Sequence[str] | None) -> list[BenchmarkSpec]:
        """The benchmarks matching any pattern (all when there is none).

        A pattern with a shell wildcard (`*?[`) matches whole names; one without
        matches any name containing it. A pattern that matches nothing is an error.
        """
        if not patterns:
            return list(self.benchmarks)
        chosen: list[BenchmarkSpec] = []
        for pattern in patterns:
            hits = [b for b in self.benchmarks if name_matches(b.name, pattern)]
            if not hits:
                raise SuiteError(
                    f"benchmark pattern {pattern!r} matches nothing in suite '{self.name}' "
                    f"({self.path}); its benchmarks: {', '.join(self.names)}"
                )
            chosen.extend(b for b in hits if b not in chosen)
        # Keep suite order so runs are comparable whatever the pattern order.
        return [b for b in self.benchmarks if b in chosen]

    def metadata(self) -> dict[str, str]:
        """What the suite's `metadata()` reports, as strings (empty when it has none)."""
        if self.metadata_function is None:
            return {}
        try:
            raw = self.metadata_function()
        except Exception as exc:
            raise SuiteError(
                f"{self.path / (SUITE_SETTINGS_MODULE + '.py')}: metadata() failed: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(raw, dict):
            raise SuiteError(
                f"{self.path / (SUITE_SETTINGS_MODULE + '.py')}: metadata() must return a dict"
            )
        return {str(k): str(v) for k, v in raw.items() if v is not None}


def name_matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatchcase(name, pattern)
    return pattern in name


def _strip(prefix: str, text: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


def benchmark_name(module_file: Path, function_name: str) -> str:
    module = _strip(BENCH_MODULE_PREFIX, module_file.stem)
    return f"{module}.{_strip(BENCH_FUNCTION_PREFIX, function_name)}"


def _describe_exception(exc: BaseException, path: Path) -> str:
    """The exception and the innermost frame inside the suite file, without a traceback."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            where = f" (line {tb.tb_lineno})"
        tb = tb.tb_next
    return f"{type(exc).__name__}: {exc}{where}"


def _import_file(suite_path: Path, module_file: Path) -> types.ModuleType:
    """Import one file of the suite under a private module name."""
    # Keyed by the file's path: two suites with the same directory name (say "suite" in
    # two temporary directories) must not share a cached module.
    digest = hashlib.sha256(str(module_file.resolve()).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in f"{suite_path.name}_{module_file.stem}")
    module_name = f"perfagent_suite_{stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, module_file)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd file types
        raise SuiteError(f"{module_file}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Sibling helper modules import by plain name, as in a script directory.
    if str(suite_path) not in sys.path:
        sys.path.insert(0, str(suite_path))
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        # Caught here, or the agent itself would exit, with the module's code: an
        # exit(0) at import must never read as a passing run.
        del sys.modules[module_name]
        raise SuiteError(
            f"{_what_failed(suite_path, module_file)} failed: {module_file.name} called "
            f"sys.exit({exc.code!r}) while being imported ({module_file})"
        ) from exc
    except Exception as exc:
        del sys.modules[module_name]
        # Chained, so that a worker's traceback shows the suite's own frames.
        raise SuiteError(
            f"{module_file}: failed to import: {_describe_exception(exc, module_file)}"
        ) from exc
    return module


def _what_failed(suite_path: Path, module_file: Path) -> str:
    """What failed, in a message: the suite for `_suite.py`, else the module's benchmarks."""
    if module_file.stem == SUITE_SETTINGS_MODULE:
        return f"benchmark suite '{suite_path.name}'"
    return f"benchmark {_strip(BENCH_MODULE_PREFIX, module_file.stem)}.*"


def _benchmarks_in(module: types.ModuleType, module_file: Path) -> Iterator[BenchmarkSpec]:
    for function_name, function in vars(module).items():
        if not inspect.isfunction(function) or function.__module__ != module.__name__:
            continue
        options = getattr(function, _MARKER, None)
        if options is None:
            if not function_name.startswith(BENCH_FUNCTION_PREFIX):
                continue
            if _required_parameters(function):
                raise SuiteError(
                    f"{module_file}: {function_name}() takes arguments; give it a setup with "
                    "@perfagent.benchmark(setup=...) or make it take none"
                )
            options = BenchmarkOptions()
        doc = inspect.getdoc(function) or ""
        yield BenchmarkSpec(
            name=benchmark_name(module_file, function_name),
            module_file=module_file,
            function_name=function_name,
            description=doc.splitlines()[0] if doc else "",
            function=function,
            options=options,
        )


def _required_parameters(function: Callable[..., Any]) -> list[str]:
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _check_suite_path(path: Path) -> list[Path]:
    if not path.is_dir():
        raise SuiteError(
            f"no suite directory at {path}: pass --suite DIR or set PERFAGENT_SUITE "
            "(a suite is a directory of bench_*.py files)"
        )
    files = sorted(path.glob(f"{BENCH_MODULE_PREFIX}*.py"))
    if not files:
        raise SuiteError(f"{path}: no {BENCH_MODULE_PREFIX}*.py files, so no benchmarks")
    return files


def _load_defaults(suite_path: Path) -> tuple[SuiteDefaults, Callable[[], Any] | None]:
    settings_file = suite_path / f"{SUITE_SETTINGS_MODULE}.py"
    if not settings_file.is_file():
        return SuiteDefaults(), None
    module = _import_file(suite_path, settings_file)
    values: dict[str, Any] = {}
    settings = (
        ("PROCESSES", int),
        ("VALUES", int),
        ("WARMUPS", int),
        ("MIN_TIME", float),
        ("TIMEOUT", float),
    )
    for attr, kind in settings:
        raw = getattr(module, attr, None)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise SuiteError(f"{settings_file}: {attr} must be a non-negative number, got {raw!r}")
        values[attr.lower()] = kind(raw)
    metadata_function = getattr(module, "metadata", None)
    if metadata_function is not None and not callable(metadata_function):
        raise SuiteError(f"{settings_file}: metadata must be a function returning a dict")
    return SuiteDefaults(**values), metadata_function


def load_suite(path: str | Path) -> Suite:
    """Load every benchmark of the suite at `path`."""
    suite_path = Path(path).resolve()
    files = _check_suite_path(suite_path)
    defaults, metadata_function = _load_defaults(suite_path)
    specs: list[BenchmarkSpec] = []
    seen: dict[str, Path] = {}
    for module_file in files:
        module = _import_file(suite_path, module_file)
        for spec in _benchmarks_in(module, module_file):
            if spec.name in seen:
                raise SuiteError(f"{module_file}: benchmark {spec.name} is defined twice")
            seen[spec.name] = module_file
            specs.append(spec)
    if not specs:
        raise SuiteError(f"{suite_path}: no benchmark functions (bench_* or @perfagent.benchmark)")
    return Suite(
        name=suite_path.name,
        path=suite_path,
        benchmarks=tuple(specs),
        defaults=defaults,
        metadata_function=metadata_function,
    )


def load_defaults(path: str | Path) -> SuiteDefaults:
    """A suite's pyperf defaults without importing its benchmark modules."""
    return _load_defaults(Path(path).resolve())[0]


class PreparedBenchmark:
    """One benchmark set up inside a worker process: `call()` is what gets measured."""

    def __init__(self, spec: BenchmarkSpec) -> None:
        self.spec = spec
        self._value: Any = None
        self._has_value = False
        self._closed = False

    def setup(self) -> None:
        if self._has_value or self.spec.options.setup is None:
            return
        try:
            self._value = self.spec.options.setup()
        except Exception as exc:
            raise SuiteError(
                f"{self.spec.module_file}: setup of {self.spec.name} failed: "
                f"{_describe_exception(exc, self.spec.module_file)}"
            ) from exc
        self._has_value = True
        atexit.register(self.close)

    def call(self) -> Any:
        if self.spec.options.setup is None:
            return self.spec.function()
        return self.spec.function(self._value)

    def timed_callable(self) -> Callable[[], Any]:
        """The zero-argument callable to time: `call()` without its per-call branch."""
        if self.spec.options.setup is None:
            return self.spec.function
        return functools.partial(self.spec.function, self._value)

    def close(self) -> None:
        if self._closed or not self._has_value:
            return
        self._closed = True
        if self.spec.options.teardown is not None:
            self.spec.options.teardown(self._value)


def prepare_benchmark(suite_path: str | Path, name: str) -> PreparedBenchmark:
    """Load only the module holding benchmark `name`, and run its setup."""
    suite_dir = Path(suite_path).resolve()
    module_part = name.split(".", 1)[0]
    candidates = [
        suite_dir / f"{BENCH_MODULE_PREFIX}{module_part}.py",
        suite_dir / f"{module_part}.py",
    ]
    module_file = next((c for c in candidates if c.is_file()), None)
    if module_file is None:
        raise SuiteError(f"{suite_dir}: no module for benchmark {name}")
    module = _import_file(suite_dir, module_file)
    for spec in _benchmarks_in(module, module_file):
        if spec.name == name:
            prepared = PreparedBenchmark(spec)
            prepared.setup()
            return prepared
    raise SuiteError(f"{module_file}: no benchmark named {name}")
