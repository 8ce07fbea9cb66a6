"""scripts/performance_gate.py, the gate's bootstrap: `prepare` (the benchmark
environment, agent/perfagent/gate/environment.py) and `run` (python -m perfagent gate).

The gate's decisions are tested in test_gate_run.py; here the bootstrap's own part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "scripts" / "performance_gate.py"


def test_run_is_perfagent_gate(tmp_path: Path) -> None:
    """`run ARGS` is `python -m perfagent gate ARGS` with this Python."""
    result = subprocess.run(
        [sys.executable, str(GATE), "run", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m perfagent gate [OPTIONS]" in result.stdout


def test_the_bootstrap_is_small() -> None:
    """Every decision lives in the agent; the script only bootstraps (issue 13)."""
    assert len(GATE.read_text().splitlines()) < 150


# --- prepare --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provisioned_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the runner's micromamba root: <root>/envs/hazelbean_env is a venv."""
    root = tmp_path_factory.mktemp("mamba-root")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root / "envs" / "hazelbean_env")],
        check=True,
    )
    return root


def test_prepare_layers_a_virtualenv_and_installs_the_checkout(
    provisioned_env: Path, tmp_path: Path
) -> None:
    # The checkout, already built: a wheel made by hand, so no build backend is needed.
    wheel = tmp_path / "tinypkg-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tinypkg/__init__.py", "VALUE = 42\n")
        archive.writestr(
            "tinypkg-1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1\n"
        )
        archive.writestr(
            "tinypkg-1.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr("tinypkg-1.dist-info/RECORD", "")
    github_path, github_env = tmp_path / "path", tmp_path / "env"
    overlay = tmp_path / "overlay"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_"))}
    env.update(
        MAMBA_ROOT_PREFIX=str(provisioned_env),
        GITHUB_PATH=str(github_path),
        GITHUB_ENV=str(github_env),
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    result = subprocess.run(
        [
            sys.executable,
            str(GATE),
            "prepare",
            "--overlay",
            str(overlay),
            "--install",
            f"--no-deps {wheel.name}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    base_bin = provisioned_env / "envs" / "hazelbean_env" / "bin"
    # GitHub prepends each line: the overlay ends up first, the environment next.
    assert github_path.read_text() == f"{base_bin}\n{overlay / 'bin'}\n"
    assert f"VIRTUAL_ENV={overlay}" in github_env.read_text()
    assert f"CONDA_PREFIX={provisioned_env / 'envs' / 'hazelbean_env'}" in github_env.read_text()
    check = [str(overlay / "bin" / "python"), "-c", "import tinypkg; print(tinypkg.VALUE)"]
    assert subprocess.run(check, capture_output=True, text=True).stdout.strip() == "42"
    base = provisioned_env / "envs" / "hazelbean_env" / "bin" / "python"
    untouched = subprocess.run([str(base), "-c", "import tinypkg"], capture_output=True)
    assert untouched.returncode != 0, "the provisioned environment must stay as it was"


# A stand-in for micromamba: `env list --json`, and `run -p PREFIX CMD...`, which
# "activates" the environment by setting a variable as an activate.d script would.
FAKE_MICROMAMBA = """#!/bin/sh
if [ "$1" = run ]; then
    prefix=$3
    shift 3
    PATH="$prefix/bin:$PATH" GDAL_DATA="$prefix/share/gdal" exec "$@"
fi
echo '%s'
"""


def test_prepare_asks_micromamba_where_the_environment_is_and_activates_it(
    provisioned_env: Path, tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prefix = provisioned_env / "envs" / "hazelbean_env"
    micromamba = bindir / "micromamba"
    listing = json.dumps({"envs": [str(provisioned_env / "envs" / "base"), str(prefix)]})
    micromamba.write_text(FAKE_MICROMAMBA % listing)
    micromamba.chmod(0o755)
    github_path, github_env = tmp_path / "path", tmp_path / "env"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_", "MAMBA_"))
    }
    env.pop("GDAL_DATA", None)
    env.update(
        PATH=f"{bindir}:{env['PATH']}", GITHUB_PATH=str(github_path), GITHUB_ENV=str(github_env)
    )
    result = subprocess.run(
        [sys.executable, str(GATE), "prepare"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert github_path.read_text() == f"{prefix / 'bin'}\n"
    exported = github_env.read_text().splitlines()
    assert f"GDAL_DATA={prefix / 'share' / 'gdal'}" in exported
    assert f"CONDA_PREFIX={prefix}" in exported
    assert not any(line.startswith("PATH=") for line in exported)


def test_prepare_names_what_to_do_when_the_environment_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_"))}
    env.update(MAMBA_ROOT_PREFIX=str(tmp_path), PATH="/usr/bin:/bin")
    result = subprocess.run(
        [sys.executable, str(GATE), "prepare"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    assert "conda environment 'hazelbean_env' not found" in result.stdout
    assert "conda_env" in result.stdout


def test_run_without_perfagent_installed_is_an_input_error(
    provisioned_env: Path, tmp_path: Path
) -> None:
    """Before `prepare` installed the checkout: exit 2 with a hint, never 1."""
    python = provisioned_env / "envs" / "hazelbean_env" / "bin" / "python"
    outputs = tmp_path / "output"
    outputs.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTHON"))}
    result = subprocess.run(
        [str(python), str(GATE), "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "GITHUB_OUTPUT": str(outputs)},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "::error title=Performance gate::cannot start perfagent" in result.stdout
    assert "verdict=error" in outputs.read_text()
