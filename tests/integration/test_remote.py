"""`perfagent remote HOST -- check` against a provisioned runner: a Debian host booted
with systemd-nspawn in its own network namespace and provisioned with provision.yml.

A developer's working tree (a temporary git repository with a small suite) is
shipped to the host, checked there against the baseline in the runner's own store,
and the artifacts come back. An uncommitted change that makes the measured code far
slower (a large injected slowdown: this test measures time on a noisy machine) is
caught, which shows that the tree as it is on disk was measured, not HEAD.

The lab has two hosts, provisioned in one play: issue 7's fleet provisioning
(each its own runner name, one hardware-class label) is checked on the same lab,
so CI boots and provisions it once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ProvisioningLab

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # Two hosts in this module's lab (the fixture's own default is one).
    pytest.mark.parametrize("provisioning_lab", [2], indirect=True, ids=["2-host"]),
]

RUNNER_USER = "github-runner"
SUITE = "remotesuite"
FAST_CODE = "def total(n):\n    return sum(range(n))\n"
# Twenty times the work: far beyond any noise of this machine.
SLOW_CODE = "def total(n):\n    return sum(sum(range(n)) for _ in range(20))\n"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=dev", "-c", "user.email=dev@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def runner(provisioning_lab: ProvisioningLab) -> ProvisioningLab:
    """The lab's hosts, provisioned together by one run of provision.yml."""
    run = provisioning_lab.playbook("provision.yml")
    assert run.returncode == 0, run.output[-6000:]
    return provisioning_lab


def test_two_hosts_provisioned_in_one_play(runner: ProvisioningLab) -> None:
    run = next(r for r in runner.runs if r.playbook == "provision.yml")
    names = [host.name for host in runner.hosts]
    assert len(names) == 2
    # one play over the inventory group, both hosts in its recap, none failed
    assert run.output.count("PLAY [Provision performance runners]") == 1
    assert sorted(run.recap) == sorted(names)
    assert all(counts.get("failed", 0) == 0 for counts in run.recap.values())
    registered_names = []
    class_labels = set()
    for host in runner.hosts:
        # the runner writes .runner with a UTF-8 BOM (actions/runner IOUtil.SaveObject)
        text = host.ssh("cat /opt/actions-runner/.runner").stdout
        local = json.loads(text.removeprefix("\ufeff"))
        registered_names.append(local["agentName"])
        assert host.ssh("systemctl is-active actions-runner").stdout.strip() == "active"
        fingerprint = json.loads(host.ssh("perfagent fingerprint --json").stdout)["id"]
        registered = runner.api.runner_named(host.name)
        assert registered is not None
        assert registered.custom_labels == ["performance-testing", f"perf-hw-{fingerprint}"]
        class_labels.add(f"perf-hw-{fingerprint}")
    # each runner its own name; the same hardware, so the same class label, which a
    # workflow can pin a job to: runs-on: [self-hosted, performance-testing, perf-hw-<id>]
    assert registered_names == names and len(set(registered_names)) == 2
    assert len(class_labels) == 1


@pytest.fixture(scope="module")
def developer_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A developer's clone: a suite timing `work.total`, committed."""
    repo = tmp_path_factory.mktemp("developer") / "project"
    suite = repo / SUITE
    suite.mkdir(parents=True)
    (suite / "_suite.py").write_text("PROCESSES = 4\nVALUES = 3\nWARMUPS = 1\nMIN_TIME = 0.01\n")
    (suite / "bench_work.py").write_text(
        "from work import total\n\n\ndef bench_total():\n"
        '    """Sum a range: the operation the change touches."""\n    total(20_000)\n'
    )
    (suite / "work.py").write_text(FAST_CODE)
    (repo / ".gitignore").write_text("metrics/\n")
    _git(repo, "init", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "a suite")
    return repo


@pytest.fixture(scope="module")
def baseline_on_runner(runner: ProvisioningLab, developer_tree: Path) -> str:
    """The committed tree's baseline, stored in the runner's store as a job would."""
    host = runner.hosts[0]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"],
        cwd=developer_tree,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        ["ssh", *host.ssh_options, f"root@{host.address}",
         "rm -rf /tmp/main-checkout && mkdir -m 755 /tmp/main-checkout && "
         "tar -xf - -C /tmp/main-checkout"],
        input=archive,
        check=True,
        timeout=120,
    )  # fmt: skip
    head = _git(developer_tree, "rev-parse", "HEAD").strip()
    stored = host.ssh(
        f"cd /tmp/main-checkout && runuser -u {RUNNER_USER} -- env "
        "PERFAGENT_CONFIG=/etc/perfagent/perfagent.toml "
        # Three suite runs: the decision then knows this machine's run-to-run drift.
        # --force: the lab host shares this machine's loaded CPUs, and the refusal of a
        # baseline on a busy machine is tested in tests/e2e/test_baseline_fitness.py.
        f"perfagent baseline --suite {SUITE} --runs 3 --force --commit {head}",
        timeout=600,
    )
    assert "Baseline stored" in stored.stdout + stored.stderr
    return head


def _remote(runner: ProvisioningLab, tree: Path, fetch_to: Path, *agent: str) -> tuple[int, str]:
    host = runner.hosts[0]
    done = subprocess.run(
        [sys.executable, "-m", "perfagent", "remote", host.address,
         "--user", "root", "--identity", str(runner.lab.ssh_key),
         "--fetch-to", str(fetch_to), "--", *agent],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "CI": "true"},
    )  # fmt: skip
    print(done.stdout + done.stderr)  # shown with -s, and on a failure
    return done.returncode, done.stdout + done.stderr


def _analysis(fetch_to: Path) -> dict[str, object]:
    [analysis] = sorted((fetch_to / "analysis").glob("regression_check_*.json"))
    return json.loads(analysis.read_text())


def test_remote_check_of_the_committed_tree(
    runner: ProvisioningLab, developer_tree: Path, baseline_on_runner: str, tmp_path: Path
) -> None:
    fetched = tmp_path / "artifacts"
    # Unchanged code on the lab host, which shares this machine's noisy CPUs: measured
    # in CI, a 10% check of it once found +62.5%. This test is about the remote path, so
    # it judges at a threshold above the VM's swings (the time variant of the gate's
    # proof tests does the same) and judges the code even if the machine drifted.
    code, output = _remote(
        runner, developer_tree, fetched, "check", "--suite", SUITE,
        "--threshold", "100", "--accept-drift",
    )  # fmt: skip
    assert code == 0, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert any("Performance within acceptable limits" in line for line in lines), output
    # progress of the remote run came through, then the fetch
    assert f"Running on root@{runner.hosts[0].address}" in output
    # the suite and the machine reference benchmark: "[1/2] work.total" or "[2/2] ..."
    assert re.search(r"\[\d/\d\] work\.total", output), output
    # the artifacts of docs/design.md came back
    for pattern in ("reports/performance_report_*.txt", "exports/performance_export_*.csv",
                    "analysis/regression_check_*.json", "results/benchmarks_*.json"):  # fmt: skip
        assert list(fetched.glob(pattern)), f"{pattern} not fetched: {output}"
    assert (fetched / "summary.md").is_file()
    [results_file] = fetched.glob("results/benchmarks_*.json")
    raw = results_file.read_text()
    assert baseline_on_runner in raw  # the commit measured is HEAD, clean
    assert f"{baseline_on_runner}-dirty" not in raw
    # compared with the runner's own baseline, in the runner's store
    assert "/var/lib/perfagent/baselines" in json.dumps(_analysis(fetched))


def test_remote_check_measures_uncommitted_changes(
    runner: ProvisioningLab, developer_tree: Path, baseline_on_runner: str, tmp_path: Path
) -> None:
    work = developer_tree / SUITE / "work.py"
    work.write_text(SLOW_CODE)  # not committed
    try:
        fetched = tmp_path / "artifacts"
        code, output = _remote(runner, developer_tree, fetched, "check", "--suite", SUITE)
    finally:
        work.write_text(FAST_CODE)
    assert code == 1, output
    final = [
        line for line in output.splitlines() if "Performance regression > 10% detected" in line
    ]
    assert final and "work.total" in final[-1], output
    assert list(fetched.glob("reports/performance_report_*.txt"))
    [results_file] = fetched.glob("results/benchmarks_*.json")
    assert f"{baseline_on_runner}-dirty" in results_file.read_text()
    analysis = json.dumps(_analysis(fetched))
    assert "regression" in analysis


def test_remote_leaves_nothing_behind(runner: ProvisioningLab, baseline_on_runner: str) -> None:
    host = runner.hosts[0]
    left = host.ssh("ls -d /tmp/perfagent-remote.* 2>/dev/null || true").stdout.strip()
    assert left == ""
