"""The benchmark environment of a gate job: the provisioned conda environment
(hazelbean_env) found without downloading anything, its activation exported, and a
throw-away virtualenv over it where the checkout is installed.

Standard library only, like the modules it imports: `scripts/performance_gate.py
prepare` imports it from the checkout before perfagent is installed (it installs it).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from perfagent.errors import ExitCode
from perfagent.gate.github import Actions

ROOTS = ("/opt/micromamba", "~/micromamba", "~/.local/share/mamba", "/opt/conda")
# What an activation sets that says nothing about the environment itself.
NOT_ACTIVATION = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "PS1"}


class GateError(Exception):
    """The bootstrap's own inputs or environment: reported once, exit 2."""


def _micromamba() -> str | None:
    for candidate in (os.environ.get("MAMBA_EXE"), shutil.which("micromamba")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_env_prefix(name: str, explicit: str | None) -> Path:
    """The prefix of the provisioned conda environment `name` (never downloads anything)."""
    if explicit:
        if not (Path(explicit) / "bin" / "python").exists():
            raise GateError(f"--env-prefix {explicit}: no bin/python there")
        return Path(explicit)
    tried = []
    for root in filter(None, [os.environ.get("MAMBA_ROOT_PREFIX", ""), *ROOTS]):
        prefix = Path(root).expanduser() / "envs" / name
        tried.append(str(prefix))
        if (prefix / "bin" / "python").exists():
            return prefix
    for tool in filter(None, (_micromamba(), shutil.which("conda"))):
        tried.append(f"{tool} env list")
        try:
            listing = subprocess.run(
                [tool, "env", "list", "--json"], capture_output=True, text=True
            )
            prefixes = json.loads(listing.stdout).get("envs", [])
        except (OSError, ValueError, AttributeError):
            continue
        for text in prefixes:
            if Path(text).name == name and (Path(text) / "bin" / "python").exists():
                return Path(text)
    raise GateError(
        f"conda environment {name!r} not found (looked in: {', '.join(tried) or 'nothing'}). "
        "The runner's provisioning (ansible role conda_env) creates it; on another machine pass "
        "--env-prefix, or set MAMBA_ROOT_PREFIX."
    )


def activation_variables(prefix: Path) -> dict[str, str]:
    """What activating the environment sets (activate.d: GDAL_DATA, PROJ_DATA...), asked of
    `micromamba run`; without micromamba, only CONDA_PREFIX."""
    variables = {"CONDA_PREFIX": str(prefix)}
    tool = _micromamba()
    if tool is None:
        return variables
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    try:
        done = subprocess.run(
            [tool, "run", "-p", str(prefix), "python", "-c", dump], capture_output=True, text=True
        )
        activated = json.loads(done.stdout)
    except (OSError, ValueError):
        return variables
    if done.returncode == 0 and isinstance(activated, dict):
        for name, value in activated.items():
            if name not in NOT_ACTIVATION and os.environ.get(name) != value:
                variables[name] = str(value)
    return variables


def prepare(
    gh: Actions,
    env: str = "hazelbean_env",
    env_prefix: str | None = None,
    overlay: str | None = None,
    install: str | None = None,
    gate: str | None = None,
) -> int:
    """Find the environment, export its activation, layer `overlay` over it, `install`
    the checkout there, then the trusted `gate` checkout (perf-runner) last, so that the
    gate that runs is never the pull request's; put it first on PATH for the later
    steps. The exit code."""
    prefix = find_env_prefix(env, env_prefix)
    print(f"Benchmark environment: {prefix}", flush=True)
    for name, value in sorted(activation_variables(prefix).items()):
        gh.export(name, value)
    # GITHUB_PATH prepends: the environment's bin first, the overlay's (if any) before it.
    gh.add_path(str(prefix / "bin"))
    bin_dir = prefix / "bin"
    if overlay:
        # The checkout goes into a virtualenv over the provisioned environment, so a job
        # never changes the environment other repositories' jobs measure with.
        target = Path(overlay)
        shutil.rmtree(target, ignore_errors=True)
        venv = [str(bin_dir / "python"), "-m", "venv", "--system-site-packages", str(target)]
        if subprocess.run(venv).returncode != 0:
            raise GateError(f"cannot create the virtualenv {target} over {prefix}")
        bin_dir = target / "bin"
        gh.export("VIRTUAL_ENV", str(target))
        gh.add_path(str(bin_dir))
    gh.set_output("python", str(bin_dir / "python"))
    installs = [shlex.split(install)] if install else []
    if gate:
        installs.append(["--no-deps", "--no-build-isolation", gate])
    for arguments in installs:
        argv = [str(bin_dir / "python"), "-m", "pip", "install", *arguments]
        print(f"$ {shlex.join(argv)}", flush=True)
        if subprocess.run(argv).returncode != 0:
            gh.annotate("error", f"installing failed: {shlex.join(argv)}")
            return ExitCode.USAGE
    return ExitCode.OK
