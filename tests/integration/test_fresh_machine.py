"""A new user's first hour: on a bare Debian 12 machine (a minbase root booted with
systemd-nspawn, as close to a cloud image as the lab can make it), clone the
repository and type the README's two commands as root. ``make bench`` runs twice (it
sets the baseline, then checks against it) and ``make test`` once; all must pass,
with every system package installed by make itself.

It takes half an hour (hazelbean's GDAL build, two suite runs, the tests), so a plain
``make test`` does not run it: ``.ci/run`` runs it after ``make test``, and it runs
when named on pytest's command line (or with PERF_RUNNER_FRESH_MACHINE=1):

    .venv/bin/python -m pytest tests/integration/test_fresh_machine.py -x -s

Inside the machine, the ``make test`` it runs skips this test and the lab's (no
nspawn in nspawn): see perf_lab/nesting.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from perf_lab import fresh_root, nesting
from prerequisites import missing

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("debootstrap", "systemd-nspawn", "nsenter", "zstd", "tar", "git")
REPO_IN_MACHINE = "/root/perf-runner"
# The README's set-up screen: the commands a new user types.
README_COMMANDS = ("make bench", "make test")
TIMINGS: dict[str, float] = {}
# The machine shares this one's CPUs and /proc/stat, where .ci/run's make test (and on a
# development VM, other work) keeps them busy: the load the agent reads is not the fresh
# machine's own, and a baseline would be refused as taken on a loaded machine (exit 5).
# This test is about the set-up, so it tells the agent the CPUs are quiet, through the
# hook the e2e tests use (machine/fitness.py). For the same reason the check runs at a
# threshold above that shared load's swings: measured here, the check after a baseline
# taken at a different load found +25% to +68% "regressions" at 10%, and the agent
# reported this machine can see only 40-300% slowdowns. How well the verdict detects
# real slowdowns is measured by make bench-gate and the e2e verdict tests, not here.
BENCH_ENV = {"PERFAGENT_TEST_BUSY": "0", "PERFAGENT_THRESHOLD": "300"}


def _requested(config: pytest.Config) -> bool:
    named = any("test_fresh_machine" in arg for arg in config.invocation_params.args)
    return named or os.environ.get("PERF_RUNNER_FRESH_MACHINE") == "1"


@pytest.fixture(scope="module")
def machine(request: pytest.FixtureRequest) -> Iterator[fresh_root.FreshMachine]:
    reason = nesting.nested_lab_reason()
    if reason:
        pytest.skip(reason)
    if not _requested(request.config):
        pytest.skip(
            "takes about half an hour: .ci/run runs it after make test; run it with "
            "pytest tests/integration/test_fresh_machine.py"
        )
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        absent.append("root")
    if absent:
        missing("fresh-machine test prerequisites missing: " + ", ".join(absent))

    started = time.monotonic()
    tarball = fresh_root.ensure_cached()
    TIMINGS["bare root (debootstrap minbase, or its cache)"] = time.monotonic() - started
    workdir = Path(
        tempfile.mkdtemp(prefix="perf-fresh-", dir=os.environ.get("PERF_LAB_WORKDIR", "/var/tmp"))
    )
    machine = fresh_root.FreshMachine(workdir)
    try:
        started = time.monotonic()
        machine.start(tarball)
        TIMINGS["boot"] = time.monotonic() - started
        # The committed tree, as a clone would get it: a bundle of HEAD.
        bundle = machine.root / "root/perf-runner.bundle"
        branch = subprocess.run(
            ["git", "-C", str(REPO), "symbolic-ref", "--short", "-q", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.split()  # a clone checks out the branch (none when HEAD is detached)
        subprocess.run(
            ["git", "-C", str(REPO), "bundle", "create", str(bundle), "HEAD", *branch],
            check=True,
            capture_output=True,
        )
        yield machine
    finally:
        problems = machine.close()
        if os.environ.get("PERF_LAB_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
        assert not problems, problems


def _report(what: str, result: fresh_root.StepResult) -> None:
    TIMINGS[what] = result.seconds
    assert result.returncode == 0, (
        f"`{result.command}` exited {result.returncode} in the fresh machine; "
        f"log {result.log}:\n{result.tail()}"
    )


def test_bare_machine_lacks_what_make_installs(machine: fresh_root.FreshMachine) -> None:
    """The machine is as bare as promised: no venv module, compiler or GDAL."""
    probe = machine.run_quiet(
        "python3 -c 'import ensurepip' 2>/dev/null && echo ensurepip;"
        " for c in gcc g++ gdal-config valgrind chromium; do command -v $c; done; true"
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"the bare root already has: {probe.stdout}"
    assert machine.run_quiet("systemd-detect-virt --container").stdout.strip() == "systemd-nspawn"


def test_readme_commands_are_the_two_run_here() -> None:
    """What this test types is what the README's set-up screen shows."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]
    assert tuple(commands) == README_COMMANDS


def test_make_bench_twice_then_make_test(machine: fresh_root.FreshMachine) -> None:
    logs = machine.workdir
    clone = machine.step(f"git clone perf-runner.bundle {REPO_IN_MACHINE}", logs / "clone.log")
    _report("git clone", clone)

    baseline = machine.step("make bench", logs / "bench-1.log", REPO_IN_MACHINE, BENCH_ENV)
    _report("make bench (set-up and baseline)", baseline)
    text = baseline.log.read_text()
    assert "installing the system packages" in text  # make installed them, nobody else
    assert "baseline established" in text.lower()

    check = machine.step("make bench", logs / "bench-2.log", REPO_IN_MACHINE, BENCH_ENV)
    _report("make bench (check)", check)
    # exit 0: within limits (at BENCH_ENV's threshold), or not judged because the shared
    # machine drifted between the two runs (judge/machine_drift.py)
    text = check.log.read_text()
    assert "Performance within acceptable limits" in text or "Not judged" in text

    tests = machine.step("make test", logs / "test.log", cwd=REPO_IN_MACHINE)
    _report("make test", tests)
    summary = tests.tail(5)
    assert re.search(r"\d+ passed", summary), summary


def pytest_terminal_summary_lines() -> list[str]:
    return [f"{what:48s} {seconds:7.1f} s" for what, seconds in TIMINGS.items()]


@pytest.fixture(scope="module", autouse=True)
def _print_timings() -> Iterator[None]:
    yield
    if TIMINGS:
        print("\nfresh-machine wall times:")
        for line in pytest_terminal_summary_lines():
            print("  " + line)
        print(f"  {'total':48s} {sum(TIMINGS.values()):7.1f} s")


@pytest.mark.parametrize(
    ("manager", "nested"), [("systemd-nspawn", True), ("docker", False), ("", None)]
)
def test_only_nspawn_counts_as_nested(
    manager: str, nested: bool | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab skips inside nspawn (no nspawn in nspawn) but runs in Docker, as CI here."""
    container_file = tmp_path / "container"
    container_file.write_text(manager + "\n")
    monkeypatch.setattr(nesting, "CONTAINER_FILE", container_file)
    if nested is None:  # no file content: systemd-detect-virt decides, as on this machine
        assert nesting.inside_nspawn() == (nesting.container_manager() == "systemd-nspawn")
        return
    assert nesting.inside_nspawn() is nested
    assert (nesting.nested_lab_reason() is not None) is nested
