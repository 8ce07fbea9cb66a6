"""Settings, read in this order (later wins): built-in defaults, the runner's config,
a config file, `PERFAGENT_*` environment variables, command-line flags.

The runner's config is `/etc/perfagent/perfagent.toml` (`$PERFAGENT_RUNNER_CONFIG`
names another). The config file is the one given by `--config` or `$PERFAGENT_CONFIG`,
else `perfagent.toml` in the working directory, else the `[tool.perfagent]` table of
`pyproject.toml` there.

Trust: the working directory is a pull request's checkout, which must not switch its
own gate off. Its per-benchmark `[thresholds]` can only tighten the gate: a pattern
from it never loosens what the trusted side (the runner's config, an explicit config,
or the gate's threshold) says for that benchmark.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
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
    # Seconds one benchmark may take in one worker process (its import, setup and
    # values); None means the suite's TIMEOUT, else the runner's default (600 s).
    timeout: float | None = None
    # The repository's web address (https://github.com/org/repo): commits in report.html
    # and the history dashboard link to its /commit/<sha> pages. None: GitHub Actions'
    # GITHUB_SERVER_URL/GITHUB_REPOSITORY when set, else no links.
    repo_url: str | None = None
    # Per-benchmark thresholds: fnmatch pattern on the benchmark name -> percent.
    # These come from a trusted source (the runner's config, an explicit config).
    thresholds: dict[str, float] = field(default_factory=dict)
    # Per-benchmark thresholds of the working directory's config (a checkout): they
    # only ever tighten what `thresholds` and `threshold` say.
    checkout_thresholds: dict[str, float] = field(default_factory=dict)
    # A checkout's settings that tried to loosen a trusted one, as notes.
    refused: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # Where the settings came from, for error messages: key -> source description.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def threshold_for(self, benchmark_name: str) -> float:
        """The threshold in percent for one benchmark (the most specific pattern wins)."""
        trusted = _most_specific(self.thresholds, benchmark_name)
        gate = self.threshold if trusted is None else trusted
        checkout = _most_specific(self.checkout_thresholds, benchmark_name)
        return gate if checkout is None else min(gate, checkout)

    def thresholds_in_effect(self) -> list[tuple[str, float]]:
        """Every per-benchmark threshold that applies, besides the global one."""
        found = dict(self.thresholds)
        for pattern, value in self.checkout_thresholds.items():
            ceiling = found.get(pattern, self.threshold)
            if value < ceiling:
                found[pattern] = value
        return sorted(found.items())

    def loosening_refused(self) -> list[str]:
        """The checkout's thresholds that tried to loosen the gate, as notes."""
        notes = list(self.refused)
        for pattern, value in sorted(self.checkout_thresholds.items()):
            ceiling = self.thresholds.get(pattern, self.threshold)
            if value > ceiling:
                source = self.sources.get("checkout_thresholds", "the working directory's config")
                notes.append(
                    f"threshold {pattern!r} = {value:g}% in {source} ignored: a checkout's "
                    f"thresholds only tighten the gate ({ceiling:g}% applies)"
                )
        return notes


def _most_specific(patterns: Mapping[str, float], name: str) -> float | None:
    from fnmatch import fnmatchcase

    matches = [p for p in patterns if fnmatchcase(name, p)]
    if not matches:
        return None
    # A longer pattern is the more specific one; exact names are longest of all.
    return patterns[max(matches, key=len)]


_FIELDS = {
    f.name: f
    for f in dataclasses.fields(Settings)
    if f.name not in {"sources", "checkout_thresholds", "refused"}
}
ENV_PREFIX = "PERFAGENT_"
# Settings that make no sense from a single environment variable.
_FILE_ONLY = {"thresholds"}
# The runner's own config, written by provisioning (runner-config/): trusted.
RUNNER_CONFIG = Path("/etc/perfagent/perfagent.toml")
_STRING_KEYS = {"suite", "store", "output_dir", "cpus", "metric", "mode", "repo_url"}


def _source_label(key: str, source: str) -> str:
    return f"'{key}' in {source}"


def _coerce(key: str, raw: Any, source: str) -> Any:
    """Turn a raw value from a file, the environment or a flag into the field's type."""
    where = _source_label(key, source)
    if isinstance(raw, bool) or (key != "thresholds" and isinstance(raw, (dict, list))):
        raise ConfigError(f"{where}: expected {_expected(key)}, got {_toml_type(raw)} {raw!r}")
    if key in _STRING_KEYS and not isinstance(raw, str):
        raise ConfigError(f"{where}: expected {_expected(key)}, got {_toml_type(raw)} {raw!r}")
    if key == "thresholds":
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a table of pattern = percent, got {raw!r}")
        return {str(k): _coerce_percent(f"{where}[{k}]", v) for k, v in raw.items()}
    if key == "threshold":
        return _coerce_percent(where, raw)
    if key == "timeout":
        return _coerce_seconds(where, raw)
    if key in {"processes", "values", "warmups", "confirm_runs", "baseline_runs"}:
        return _coerce_count(key, where, raw)
    if key in {"suite", "store", "output_dir", "cpus"}:
        text = str(raw).strip()
        if not text:
            raise ConfigError(f"{where}: must not be empty")
        if key == "cpus":
            parse_cpu_list(text, where)
        return text
    if key == "repo_url":
        url = str(raw).strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s\"'<>]+", url):
            raise ConfigError(
                f"{where}: {raw!r} is not a web address such as https://github.com/org/repo"
            )
        return url
    if key == "metric":
        return _coerce_choice(where, raw, METRICS)
    if key == "mode":
        return _coerce_choice(where, raw, MODES)
    raise ConfigError(f"{where}: unknown setting")  # pragma: no cover - guarded by callers


def _coerce_seconds(where: str, raw: Any) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{where}: not a number of seconds: {raw!r} (e.g. 600)") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: {raw!r} is out of range (seconds above 0, e.g. 600)")
    return value


def _expected(key: str) -> str:
    if key in {"threshold"}:
        return "a percentage (a number such as 10)"
    if key == "timeout":
        return "a number of seconds (such as 600)"
    if key in _STRING_KEYS:
        return "a string"
    if key == "thresholds":
        return "a table of pattern = percent"
    return "a whole number"


def _toml_type(raw: Any) -> str:
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, dict):
        return "a table"
    if isinstance(raw, list):
        return "a list"
    return type(raw).__name__


def _coerce_percent(where: str, raw: Any) -> float:
    if isinstance(raw, (bool, dict, list)):
        raise ConfigError(
            f"{where}: expected a percentage (a number such as 10), got {_toml_type(raw)} {raw!r}"
        )
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: not a number: {raw!r} (a percentage, e.g. 10)") from None
    if not math.isfinite(value) or value <= 0 or value >= 1000:
        raise ConfigError(f"{where}: {raw!r} is out of range (a percentage above 0, e.g. 10)")
    return value


def _coerce_count(key: str, where: str, raw: Any) -> int:
    if isinstance(raw, float):
        raise ConfigError(f"{where}: not a whole number: {raw!r}")
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
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None


def find_config_file(
    cwd: Path,
    environ: Mapping[str, str],
    *,
    checkout: bool = True,
    explicit: str | None = None,
) -> tuple[Path, dict[str, Any], bool] | None:
    """The config file in force, its perfagent table, and whether it is trusted; None
    when there is none.

    Trusted: given explicitly, by `explicit` (the --config flag) or $PERFAGENT_CONFIG.
    Else the working directory's perfagent.toml or pyproject.toml, untrusted.
    checkout=False: never a file of the working directory (the gate's pull request
    checkout, which must not change its own gate).
    """
    named = explicit or environ.get(ENV_PREFIX + "CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            what = "--config" if explicit else "PERFAGENT_CONFIG"
            raise ConfigError(f"{what}={named}: no such file")
        return path, _read_toml(path), True
    if not checkout:
        return None
    own = cwd / "perfagent.toml"
    if own.is_file():
        return own, _read_toml(own), False
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(
                f"config file {pyproject}: [tool] must be a table, got {_toml_type(tool)}"
            )
        table = tool.get("perfagent")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"config file {pyproject}: [tool.perfagent] must be a table")
            return pyproject, table, False
    return None


def runner_config(environ: Mapping[str, str]) -> tuple[Path, dict[str, Any]] | None:
    """The runner's own config (trusted), when the machine has one."""
    path = Path(environ.get(ENV_PREFIX + "RUNNER_CONFIG") or RUNNER_CONFIG)
    if not path.is_file():
        return None
    return path, _read_toml(path)


def _apply_table(
    table: Mapping[str, Any],
    source: str,
    values: dict[str, Any],
    sources: dict[str, str],
    *,
    trusted: bool,
) -> None:
    for key, raw in table.items():
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ConfigError(f"{source}: unknown setting '{key}' (known: {known})")
        value = _coerce(key, raw, source)
        if key == "thresholds" and not trusted:
            values["checkout_thresholds"] = value
            sources["checkout_thresholds"] = source
            continue
        if key == "threshold" and not trusted and "threshold" in values and value > values[key]:
            # The runner's (trusted) gate threshold: a checkout may only tighten it.
            refused = values.setdefault("refused", ())
            values["refused"] = (
                *refused,
                f"threshold = {value:g}% in {source} ignored: a checkout only tightens "
                f"the {values[key]:g}% of {sources[key]}",
            )
            continue
        values[key] = value
        sources[key] = source


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    checkout: bool = True,
) -> Settings:
    """Settings from defaults, the config file, the environment, then `overrides` (flags).

    `overrides` holds flag values; a value of None means the flag was not given. Its
    key `config` is the --config flag: a config file given explicitly (trusted).
    checkout=False reads no config file of the working directory (see find_config_file).
    """
    cwd = cwd if cwd is not None else Path.cwd()
    environ = environ if environ is not None else os.environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    flags = dict(overrides or {})
    explicit = flags.pop("config", None)

    runner = runner_config(environ)
    if runner is not None:
        path, table = runner
        _apply_table(table, f"runner config {path}", values, sources, trusted=True)
    found = find_config_file(
        cwd, environ, checkout=checkout, explicit=str(explicit) if explicit else None
    )
    if found is not None:
        path, table, trusted = found
        _apply_table(table, f"config file {path}", values, sources, trusted=trusted)

    for key in _FIELDS:
        if key in _FILE_ONLY:
            continue
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ and environ[env_name] != "":
            source = f"environment variable {env_name}"
            values[key] = _coerce(key, environ[env_name], source)
            sources[key] = source

    for key, raw in flags.items():
        if raw is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting '{key}'")
        flag = "--" + key.replace("_", "-")
        values[key] = _coerce(key, raw, f"option {flag}")
        sources[key] = f"option {flag}"

    return Settings(**values, sources=sources)
