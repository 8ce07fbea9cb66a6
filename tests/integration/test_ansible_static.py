"""Static checks of ansible/: every role variable documented, ansible-lint's
production profile clean, the CPU-set filters right. No target host needed."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prerequisites import missing

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
ROLES = ("perf_tuning", "conda_env", "github_runner", "perfagent")


def role_defaults(role: str) -> list[tuple[str, list[str]]]:
    """(variable, the comment lines right above it) for each top-level default."""
    found, comment = [], []
    for line in (ANSIBLE / "roles" / role / "defaults/main.yml").read_text().splitlines():
        if line.startswith("#"):
            comment.append(line)
        elif match := re.match(r"^([a-z0-9_]+):", line):
            found.append((match[1], comment))
            comment = []
        elif not line.strip():
            comment = []
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_role_variable_has_a_comment_and_a_readme_row(role: str) -> None:
    readme = (ANSIBLE / "roles" / role / "README.md").read_text()
    defaults = role_defaults(role)
    assert defaults, f"{role} has no defaults"
    for name, comment in defaults:
        assert name.startswith(role + "_"), f"{role}: {name} lacks the role prefix"
        assert comment, f"{role}: {name} has no comment in defaults/main.yml"
        assert re.search(rf"^\| `{name}` \|", readme, re.M), (
            f"{role}: {name} has no row in README.md"
        )


@pytest.mark.slow
def test_ansible_lint_production_profile() -> None:
    lint = Path(sys.executable).parent / "ansible-lint"
    if not lint.exists() and shutil.which("ansible-lint") is None:
        missing("ansible-lint is not installed (make venv)")
    command = str(lint) if lint.exists() else "ansible-lint"
    result = subprocess.run(
        [command, "--profile", "production", "--nocolor"],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]


def _cpu_sets():
    path = ANSIBLE / "roles/perf_tuning/filter_plugins/cpu_sets.py"
    spec = importlib.util.spec_from_file_location("cpu_sets", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TWO_SOCKETS_SMT = """# CPU,Core,Socket
0,0,0
1,1,0
2,2,0
3,3,0
4,4,1
5,5,1
6,6,1
7,7,1
8,0,0
9,1,0
10,2,0
11,3,0
12,4,1
13,5,1
14,6,1
15,7,1
"""


def test_partition_keeps_one_core_per_socket_with_its_siblings() -> None:
    parts = _cpu_sets().cpu_partition(TWO_SOCKETS_SMT)
    assert parts == {
        "online": "0-15",
        "housekeeping": "0,4,8,12",
        "benchmark": "1-3,5-7,9-11,13-15",
    }


def test_partition_of_a_small_machine_and_explicit_cpus() -> None:
    cpu_sets = _cpu_sets()
    assert cpu_sets.cpu_partition("0,0,0\n1,1,0\n")["benchmark"] == "1"
    assert cpu_sets.cpu_partition("0,0,0\n")["benchmark"] == ""
    explicit = cpu_sets.cpu_partition(TWO_SOCKETS_SMT, 1, "2-7")
    assert explicit["benchmark"] == "2-7" and explicit["housekeeping"] == "0-1,8-15"


def test_cpu_list_and_mask_formats() -> None:
    cpu_sets = _cpu_sets()
    assert cpu_sets.format_cpu_list([5, 0, 1, 2, 7]) == "0-2,5,7"
    assert cpu_sets.parse_cpu_list("0-2,5") == [0, 1, 2, 5]
    # the kernel's bitmap format in full: tests/unit/test_cpu_sets_filter.py
    assert cpu_sets.cpu_mask("0,4") == "11"
