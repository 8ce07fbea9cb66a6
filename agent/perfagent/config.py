"""Settings, read in this order (later wins): built-in defaults, a config file,
`PERFAGENT_*` environment variables, command-line flags.

The config file is `$PERFAGENT_CONFIG` when set, else `perfagent.toml` in the working
directory, else the `[tool.perfagent]` table of `pyproject.toml` there.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfagent.cpus import parse_cpu_list
from perfagent.errors import ConfigError

METRICS = ("time", "instructions")
MODES = ("default", "fast", "rigorous")


@dataclass(frozen=True)
class Settings:
    """Every setting the agent reads; the names are the config-file keys."""

    suite: str = "benchmarks/hazelbean"
    store: str = "metrics/baselines"
    threshold: float = 10.0
    output_dir: str = "metrics"
    metric: str = "time"
    mode: str = "default"
    # pyperf's knobs; None means the suite's default, else pyperf's.
    processes: int | None = None
    values: int | None = None
    warmups: int | None = None
    # Benchmark CPUs as a list such as "1-3,5"; None means the kernel's isolated CPUs.
    cpus: str | None = None
    # How many times `check` measures suspect benchmarks again before it fails.
    confirm_runs: int = 2
    # How many suite runs `baseline` pools into one baseline.
    baseline_runs: int = 1
    # Per-benchmark thresholds: fnmatch pattern on the benchmark name -> percent.
    thresholds: dict[str, float] = field(default_factory=dict)
    # Where the settings came from, for error messages: key -> source description.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def threshold_for(self, benchmark_name: str) -> float:
        """The threshold in percent for one benchmark (the most specific pattern wins)."""
        from fnmatch import fnmatchcase

        matches = [p for p in self.thresholds if fnmatchcase(benchmark_name, p)]
        if not matches:
            return self.threshold
        # A longer pattern is the more specific one; exact names are longest of all.
        return self.thresholds[max(matches, key=len)]


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "sources"}
ENV_PREFIX = "PERFAGENT_"
# Settings that make no sense from a single environment variable.
_FILE_ONLY = {"thresholds"}


def _source_label(key: str, source: str) -> str:
    return f"'{key}' in {source}"


def _coerce(key: str, raw: Any, source: str) -> Any:
    """Turn a raw value from a file, the environment or a flag into the field's type."""
    where = _source_label(key, source)
    if key == "thresholds":
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a table of pattern = percent, got {raw!r}")
        return {str(k): _coerce_percent(f"{where}[{k}]", v) for k, v in raw.items()}
    if key == "threshold":
        return _coerce_percent(where, raw)
    if key in {"processes", "values", "warmups", "confirm_runs", "baseline_runs"}:
        return _coerce_count(key, where, raw)
    if key in {"suite", "store", "output_dir", "cpus"}:
        text = str(raw).strip()
        if not text:
            raise ConfigError(f"{where}: must not be empty")
        if key == "cpus":
            parse_cpu_list(text, where)
        return text
    if key == "metric":
        return _coerce_choice(where, raw, METRICS)
    if key == "mode":
        return _coerce_choice(where, raw, MODES)
    raise ConfigError(f"{where}: unknown setting")  # pragma: no cover - guarded by callers


def _coerce_percent(where: str, raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: not a number: {raw!r} (a percentage, e.g. 10)") from None
    if not math.isfinite(value) or value <= 0 or value >= 1000:
        raise ConfigError(f"{where}: {raw!r} is out of range (a percentage above 0, e.g. 10)")
    return value


def _coerce_count(key: str, where: str, raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{where}: not a whole number: {raw!r}") from None
    minimum = 0 if key in {"warmups", "confirm_runs"} else 1
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {value}")
    return value


def _coerce_choice(where: str, raw: Any, choices: tuple[str, ...]) -> str:
    value = str(raw).strip().lower()
    if value not in choices:
        raise ConfigError(f"{where}: {raw!r} is not one of {', '.join(choices)}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None


def find_config_file(cwd: Path, environ: Mapping[str, str]) -> tuple[Path, dict[str, Any]] | None:
    """The config file in force and its perfagent table, or None when there is none."""
    explicit = environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"PERFAGENT_CONFIG={explicit}: no such file")
        return path, _read_toml(path)
    own = cwd / "perfagent.toml"
    if own.is_file():
        return own, _read_toml(own)
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("perfagent")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"{pyproject}: [tool.perfagent] must be a table")
            return pyproject, table
    return None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from defaults, the config file, the environment, then `overrides` (flags).

    `overrides` holds flag values; a value of None means the flag was not given.
    """
    cwd = cwd if cwd is not None else Path.cwd()
    environ = environ if environ is not None else os.environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    found = find_config_file(cwd, environ)
    if found is not None:
        path, table = found
        source = f"config file {path}"
        for key, raw in table.items():
            if key not in _FIELDS:
                known = ", ".join(sorted(_FIELDS))
                raise ConfigError(f"{source}: unknown setting '{key}' (known: {known})")
            values[key] = _coerce(key, raw, source)
            sources[key] = source

    for key in _FIELDS:
        if key in _FILE_ONLY:
            continue
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ and environ[env_name] != "":
            source = f"environment variable {env_name}"
            values[key] = _coerce(key, environ[env_name], source)
            sources[key] = source

    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting '{key}'")
        flag = "--" + key.replace("_", "-")
        values[key] = _coerce(key, raw, f"option {flag}")
        sources[key] = f"option {flag}"

    return Settings(**values, sources=sources)
