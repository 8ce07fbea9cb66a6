"""The gate's settings come from the trusted side only.

On a pull request the working directory is the pull request's checkout: its
`perfagent.toml` or `[tool.perfagent]` could raise the threshold or point the store
elsewhere and so switch off its own gate. The gate therefore reads, in this order
(later wins): built-in defaults, one trusted config file, `PERFAGENT_*` variables (the
runner's service environment and the workflow's), then its own flags. The trusted file
is `--config`, else `$PERFAGENT_CONFIG`, else the runner's
`$PERFAGENT_RUNNER_CONFIG` or `/etc/perfagent/perfagent.toml` when it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perfagent.config import ENV_PREFIX, Settings, load_settings
from perfagent.errors import ConfigError

RUNNER_CONFIG = Path("/etc/perfagent/perfagent.toml")
RUNNER_CONFIG_VARIABLE = ENV_PREFIX + "RUNNER_CONFIG"


def trusted_config(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The one config file the gate reads, or None."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return explicit
    named = environ.get(ENV_PREFIX + "CONFIG")
    if named:
        return Path(named)  # load_settings reports a missing one
    runner = Path(environ.get(RUNNER_CONFIG_VARIABLE) or RUNNER_CONFIG)
    return runner if runner.is_file() else None


def gate_settings(
    flags: Mapping[str, Any], *, config: Path | None, environ: Mapping[str, str]
) -> Settings:
    """Settings from the trusted side: never a config file of the working directory."""
    env = dict(environ)
    found = trusted_config(config, environ)
    env.pop(ENV_PREFIX + "CONFIG", None)
    if found is not None:
        env[ENV_PREFIX + "CONFIG"] = str(found)
    cleaned = {k: (str(v) if isinstance(v, Path) else v) for k, v in flags.items()}
    return load_settings(cleaned, environ=env, checkout=False)
