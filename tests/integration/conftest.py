"""Fixtures of the provisioning tests: a lab of booted Debian hosts, the GitHub API
and release doubles listening on the lab network, and a runner for the playbooks.

Prerequisites (root, debootstrap, systemd-nspawn, ip, ssh, zstd): a test that
needs them FAILS in CI (CI=true) when one is missing and is skipped elsewhere.
Environment knobs:
    PERF_RUNNER_CACHE_DIR   where the Debian root and the wheelhouse are cached
                            (default /var/cache/perf-runner)
    PERF_LAB_KEEP=1         keep the machines' root directories after the run
    PERF_LAB_HOSTS=N        boot N hosts instead of 1 (the fixture is parameterised by count)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from doubles.github_api_double import GitHubApiDouble
from doubles.release_server_double import ReleaseServerDouble
from perf_lab import artifacts, debian_root, nesting
from perf_lab.lab import Lab, LabHost
from prerequisites import missing

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
TOOLS = ("debootstrap", "systemd-nspawn", "ip", "ssh", "ssh-keygen", "zstd", "tar")
TIMINGS: dict[str, float] = {}
# Ansible logs in as this non-root user and becomes root through sudo, as an ops
# team does (never as root), so the become paths (acl, temporary files) are tested.
OPS_USER = "ops"


def _missing_prerequisites() -> list[str]:
    missing = [f"{tool} (not on PATH)" for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (network namespaces and systemd-nspawn need it)")
    if shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) is None:
        missing.append("ansible-playbook in this Python's environment (make venv)")
    return missing


def require_lab_prerequisites() -> None:
    # Inside the fresh-machine test's container no lab can boot: skip, even in CI.
    nested = nesting.nested_lab_reason()
    if nested:
        pytest.skip(nested)
    absent = _missing_prerequisites()
    if not absent:
        return
    missing("provisioning test prerequisites missing: " + ", ".join(absent))


@dataclass
class PlaybookRun:
    playbook: str
    returncode: int
    output: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def changed(self) -> dict[str, int]:
        return {host: counts.get("changed", -1) for host, counts in self.recap.items()}


def _parse_recap(output: str) -> dict[str, dict[str, int]]:
    recap: dict[str, dict[str, int]] = {}
    section = output.split("PLAY RECAP", 1)[-1]
    for line in section.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(ok=.*)$", line.strip())
        if match:
            recap[match[1]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match[2])}
    return recap


@dataclass
class ProvisioningLab:
    """A booted lab with the doubles, and how to run playbooks against it."""

    lab: Lab
    hosts: list[LabHost]
    api: GitHubApiDouble
    releases: ReleaseServerDouble
    access_token: str
    inventory: Path
    inventory_vars: dict[str, object]
    logs: Path
    runs: list[PlaybookRun] = field(default_factory=list)

    def playbook(self, name: str, *extra: str) -> PlaybookRun:
        env = {
            **os.environ,
            "PERF_RUNNER_GITHUB_TOKEN": self.access_token,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            # per-task durations at the end of each log
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        }
        started = time.monotonic()
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "ansible-playbook"),
                "-v",
                "-i",
                str(self.inventory),
                f"playbooks/{name}",
                *extra,
            ],
            cwd=ANSIBLE_DIR,
            env=env,
            text=True,
            capture_output=True,
            timeout=1200,
        )
        run = PlaybookRun(
            playbook=name,
            returncode=result.returncode,
            output=result.stdout + result.stderr,
            seconds=time.monotonic() - started,
            recap=_parse_recap(result.stdout),
        )
        log = self.logs / f"{len(self.runs) + 1:02d}-{name}.log"
        log.write_text(run.output)
        self.runs.append(run)
        return run


def lab_inventory(lab: Lab, api_url: str, release_url: str, extra: dict[str, object]) -> dict:
    """The inventory of a lab: per-host names and addresses derive from the lab."""
    ssh_args = " ".join(
        f"-o {o}"
        for o in (
            "IdentitiesOnly=yes",
            "StrictHostKeyChecking=accept-new",
            f"UserKnownHostsFile={lab.workdir / 'known_hosts'}",
        )
    )
    return {
        "performance_runners": {
            "hosts": {host.name: {"ansible_host": host.address} for host in lab.hosts},
            "vars": {
                "ansible_user": OPS_USER,
                "ansible_become": True,
                "ansible_ssh_private_key_file": str(lab.ssh_key),
                "ansible_ssh_common_args": ssh_args,
                **extra,
            },
        }
    }


# How many hosts a lab boots; PERF_LAB_HOSTS=3 tries a bigger fleet by hand.
LAB_HOST_COUNTS = [int(os.environ.get("PERF_LAB_HOSTS", "1"))]


@pytest.fixture(scope="module", params=LAB_HOST_COUNTS, ids=lambda count: f"{count}-host")
def provisioning_lab(request: pytest.FixtureRequest) -> Iterator[ProvisioningLab]:
    """N booted hosts (N = the fixture's parameter) and the doubles, torn down
    (machines stopped, namespaces, veths and bridge removed) even on failure."""
    require_lab_prerequisites()
    count: int = request.param
    started = time.monotonic()
    tarball = debian_root.ensure_cached()
    wheels = artifacts.wheelhouse()
    TIMINGS["prepare (root cache, wheelhouse)"] = time.monotonic() - started

    workdir = Path(tempfile.mkdtemp(prefix="perf-lab-", dir=os.environ.get("PERF_LAB_WORKDIR")))
    lab = Lab(workdir)
    api: GitHubApiDouble | None = None
    releases: ReleaseServerDouble | None = None
    try:
        started = time.monotonic()
        lab.start(count, tarball)
        for host in lab.hosts:
            host.add_sudo_user(OPS_USER, lab.ssh_key.with_suffix(".pub").read_text())
        TIMINGS[f"boot {count} host(s)"] = time.monotonic() - started

        serve_dir = workdir / "releases"
        runner_path, runner_sha = artifacts.runner_release(serve_dir)
        mamba_path, mamba_sha = artifacts.micromamba(serve_dir)
        access_token = "github_pat_" + secrets.token_urlsafe(30)
        api = GitHubApiDouble(access_token)
        api_url = api.serve(lab.gateway)
        releases = ReleaseServerDouble(serve_dir)
        release_url = releases.serve(lab.gateway)

        inventory_vars: dict[str, object] = {
            # no mirror inside the lab: the root has the packages already
            "perf_tuning_apt_update_cache": False,
            "conda_env_apt_update_cache": False,
            "github_runner_apt_update_cache": False,
            "perfagent_apt_update_cache": False,
            # the doubles
            "conda_env_micromamba_url": f"{release_url}/{mamba_path}",
            # pinned, as the role's defaults pin the real release's
            "conda_env_micromamba_checksum": f"sha256:{mamba_sha}",
            "github_runner_download_url": f"{release_url}/{runner_path}",
            # the role picks the sha256 for the host's architecture from this table
            "github_runner_version": artifacts.RUNNER_VERSION,
            "github_runner_checksums": {artifacts.RUNNER_VERSION: {"x64": runner_sha}},
            "github_runner_api_url": f"{api_url}/api/v3",
            "github_runner_server_url": api_url,
            "github_runner_owner": "perf-lab",
            "github_runner_repo": "hazelbean",
            # the agent as the tree was when the run began: others may edit it meanwhile
            "perfagent_source_dir": str(artifacts.source_snapshot(workdir / "source")),
            # A VM without cpufreq: doctor fails the time metric there by design (no
            # ground for a wall-clock verdict); verify.yml reports it, as it reports
            # the checks of the moment, instead of failing on it.
            "perfagent_verify_transient_checks": [
                "Load",
                "Other processes",
                "Time metric resolution",
            ],
            # no PyPI inside the lab
            "perfagent_wheelhouse_src": str(wheels),
            "perfagent_pip_extra_args": "--no-index --find-links /opt/perfagent/wheelhouse",
        }
        inventory = workdir / "inventory.yml"
        inventory.write_text(
            json.dumps(lab_inventory(lab, api_url, release_url, inventory_vars), indent=2)
        )
        logs = workdir / "logs"
        logs.mkdir()
        yield ProvisioningLab(
            lab=lab,
            hosts=lab.hosts,
            api=api,
            releases=releases,
            access_token=access_token,
            inventory=inventory,
            inventory_vars=inventory_vars | {"micromamba_sha256": mamba_sha},
            logs=logs,
        )
    finally:
        for double in (api, releases):
            if double is not None:
                double.stop()
        problems = lab.close()
        assert not problems, f"lab cleanup left: {problems}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if TIMINGS:
        terminalreporter.section("provisioning lab timings")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{what:40s} {seconds:7.1f} s")
