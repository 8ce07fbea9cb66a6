"""Provision real systemd hosts (Debian 12 booted with systemd-nspawn in network
namespaces of their own) over SSH with the playbooks, against a GitHub API double
and a release server double; then re-run, change labels, verify and deregister."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
from conftest import OPS_USER, REPO, TIMINGS, ProvisioningLab

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNNER_USER = "github-runner"
RUNNER_DIR = "/opt/actions-runner"
SERVICE = "actions-runner"
STORE = "/var/lib/perfagent/baselines"
ENV_PREFIX = "/opt/micromamba/envs/hazelbean_env"
ENV_MARKER = f"{ENV_PREFIX}/conda-meta/perf-runner-built-from.sha256"
SCOPE = "repos/perf-lab/hazelbean"
BOM = "\ufeff"


def _cpu_sets():
    path = REPO / "ansible/roles/perf_tuning/filter_plugins/cpu_sets.py"
    spec = importlib.util.spec_from_file_location("cpu_sets", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_partition(host) -> dict[str, str]:
    lscpu = host.ssh("lscpu --parse=CPU,CORE,SOCKET --online").stdout
    return _cpu_sets().cpu_partition(lscpu, 1, "")


def runner_double_calls(host) -> list[dict]:
    """What the runner double recorded: in /var/tmp, and for the service (whose
    /var/tmp is private) in the runner's _diag directory."""
    text = host.ssh(
        "cat /var/tmp/actions-runner-double/calls-*.jsonl"
        f" {RUNNER_DIR}/_diag/calls-*.jsonl 2>/dev/null || true"
    ).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def secrets_of(pl: ProvisioningLab) -> list[str]:
    """Every token the run has seen: the access token and each one-time token issued."""
    return [pl.access_token, *pl.api._tokens.keys(), *pl.api._jit_raw.values()]


def assert_no_secret_in(text: str, pl: ProvisioningLab, where: str) -> None:
    for secret in secrets_of(pl):
        assert secret not in text, f"a token appears in {where}"


def assert_no_secret_on_command_lines(pl: ProvisioningLab) -> None:
    script = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"
    for host in pl.hosts:
        assert_no_secret_in(host.ssh(script).stdout, pl, f"a command line on {host.name}")
    local = "\n".join(
        p.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        for p in Path("/proc").glob("[0-9]*/cmdline")
        if p.exists()
    )
    assert_no_secret_in(local, pl, "a command line on this machine")


def test_dry_run_on_a_fresh_host(provisioning_lab: ProvisioningLab) -> None:
    """--check --diff on a host nothing was installed on yet plans without failing."""
    pl = provisioning_lab
    run = pl.playbook("provision.yml", "--check", "--diff")
    TIMINGS["provision.yml --check --diff, fresh"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert all(counts.get("failed", 0) == 0 for counts in run.recap.values())
    assert all(counts.get("changed", 0) > 0 for counts in run.recap.values())
    for host in pl.hosts:  # nothing was changed
        assert host.ssh(f"test -e {RUNNER_DIR}", check=False).returncode != 0
        assert host.ssh(f"id {RUNNER_USER}", check=False).returncode != 0
    assert_no_secret_in(run.output, pl, "Ansible's output")


def test_converge(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    run = pl.playbook("provision.yml")
    TIMINGS["provision.yml, converge"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert all(counts.get("failed", 0) == 0 for counts in run.recap.values())
    assert_no_secret_in(run.output, pl, "Ansible's output")
    assert_no_secret_on_command_lines(pl)

    for host in pl.hosts:
        cpus = expected_partition(host)
        fingerprint = json.loads(host.ssh("perfagent fingerprint --json").stdout)
        hw_label = f"perf-hw-{fingerprint['id']}"

        # perf_tuning: files, units and drop-ins (the kernel itself is read-only here)
        grub = host.ssh("cat /etc/default/grub.d/60-perf-runner.cfg").stdout
        bench, housekeeping = cpus["benchmark"], cpus["housekeeping"]
        for arg in (
            f"isolcpus=managed_irq,domain,{bench}",
            f"nohz_full={bench}",
            f"rcu_nocbs={bench}",
            f"irqaffinity={housekeeping}",
        ):
            assert arg in grub
        assert (
            f"IRQBALANCE_BANNED_CPULIST={bench}" in host.ssh("cat /etc/default/irqbalance").stdout
        )
        manager = host.ssh("cat /etc/systemd/system.conf.d/60-perf-runner-housekeeping.conf").stdout
        expanded = " ".join(str(c) for c in _cpu_sets().parse_cpu_list(housekeeping))
        assert f"CPUAffinity={expanded}" in manager
        assert (
            host.ssh("systemctl is-enabled perf-runner-cpufreq.service").stdout.strip() == "enabled"
        )
        assert "scaling_min_freq" in host.ssh("cat /usr/local/sbin/perf-runner-cpufreq").stdout
        sysctl = host.ssh("cat /etc/sysctl.d/60-perf-runner.conf").stdout
        for line in (
            "kernel.perf_event_max_sample_rate = 1",
            "kernel.nmi_watchdog = 0",
            "vm.swappiness = 10",
        ):
            assert line in sysctl
        tmpfiles = host.ssh("cat /etc/tmpfiles.d/perf-runner.conf").stdout
        assert "transparent_hugepage/enabled - - - - never" in tmpfiles
        assert "workqueue/cpumask" in tmpfiles
        timer = host.ssh(
            "cat /etc/systemd/system/apt-daily-upgrade.timer.d/60-perf-runner-window.conf"
        ).stdout
        assert "OnCalendar=Sun *-*-* 03:00:00" in timer and "Persistent=false" in timer
        assert "not settable in a container" in run.output  # skipped with a message, not failed

        # conda_env: micromamba checked and installed, env created from the file once
        assert host.ssh("micromamba --version").stdout.strip()
        env_spec = host.ssh(f"cat {ENV_PREFIX}/conda-meta/double.json").stdout
        local_spec = (REPO / "runner-config/environment.yml").read_bytes()
        assert json.loads(env_spec)["spec_sha256"] == hashlib.sha256(local_spec).hexdigest()
        marker = host.ssh(f"cat {ENV_MARKER}").stdout.strip()
        assert marker == hashlib.sha256(local_spec).hexdigest()
        # root runs the env's python (the agent): root owns it
        assert host.ssh(f"stat -c %U {ENV_PREFIX}").stdout.strip() == "root"
        # Ansible logged in as the non-root ops user and became root through sudo
        inventory = json.loads(pl.inventory.read_text())["performance_runners"]["vars"]
        assert inventory["ansible_user"] == OPS_USER != "root"
        assert host.ssh(f"test -d /home/{OPS_USER}/.ansible/tmp", check=False).returncode == 0
        assert host.ssh("dpkg-query -W -f '${Status}' acl").stdout.endswith("installed")

        # perfagent: installed into the env, config and store
        assert (
            host.ssh("readlink /usr/local/bin/perfagent").stdout.strip()
            == f"{ENV_PREFIX}/bin/perfagent"
        )
        config = host.ssh("cat /etc/perfagent/perfagent.toml").stdout
        assert f'store = "{STORE}"' in config and f'cpus = "{bench}"' in config
        assert host.ssh(f"stat -c %U {STORE}").stdout.strip() == RUNNER_USER
        # what --metric instructions needs: valgrind, and a compiler that builds and
        # links a library against valgrind's client-request headers (as its bridge)
        assert host.ssh("valgrind --version").stdout.startswith("valgrind-")
        assert host.ssh("gcc --version").stdout.startswith("gcc ")
        host.ssh(
            "printf '#include <valgrind/callgrind.h>\\nvoid f(void) { CALLGRIND_ZERO_STATS; }\\n'"
            " | cc -x c -shared -fPIC -o /tmp/perf-lab-bridge.so - && rm /tmp/perf-lab-bridge.so"
        )

        # github_runner: user without sudo, unit, drop-in, service
        passwd = host.ssh(f"getent passwd {RUNNER_USER}").stdout
        assert passwd.split(":")[5] == f"/home/{RUNNER_USER}"
        assert "sudo" not in host.ssh(f"id -nG {RUNNER_USER}").stdout.split()
        assert "not allowed to run sudo" in host.ssh(f"sudo -l -U {RUNNER_USER}").stdout
        assert host.ssh(f"test -e /etc/sudoers.d/{RUNNER_USER}", check=False).returncode != 0
        unit = host.ssh(f"cat /etc/systemd/system/{SERVICE}.service").stdout
        assert f"User={RUNNER_USER}" in unit and f"ExecStart={RUNNER_DIR}/run.sh" in unit
        for hardening in (
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "ProtectHome=tmpfs",
            "KillMode=control-group",
            f"ReadWritePaths={RUNNER_DIR} /home/{RUNNER_USER} {STORE}",
        ):
            assert hardening in unit
        # the runner, its jobs and the agent's parent on the housekeeping CPUs; the
        # benchmark CPUs reach the agent as PERFAGENT_CPUS, for its workers only
        dropin = host.ssh(f"cat /etc/systemd/system/{SERVICE}.service.d/50-perf-runner.conf").stdout
        assert f"CPUAffinity={housekeeping.replace(',', ' ')}" in dropin
        assert f"Environment=PERFAGENT_CPUS={bench}" in dropin
        assert f"Environment=PERFAGENT_STORE={STORE}" in dropin
        assert host.ssh(f"systemctl is-active {SERVICE}").stdout.strip() == "active"
        assert host.ssh(f"systemctl is-enabled {SERVICE}").stdout.strip() == "enabled"
        pid = host.ssh(f"systemctl show -p MainPID --value {SERVICE}").stdout.strip()
        status = host.ssh(f"cat /proc/{pid}/status").stdout
        assert f"Cpus_allowed_list:\t{housekeeping}\n" in status
        # the runner's files start with a UTF-8 BOM, as the real runner writes them
        for name in (".runner", ".credentials", ".credentials_rsaparams", ".runner_migrated"):
            head = host.ssh(f"head -c 3 {RUNNER_DIR}/{name} | od -An -tx1").stdout.split()
            assert head == ["ef", "bb", "bf"], f"{name} on {host.name} lacks the BOM"
        runner_local = json.loads(host.ssh(f"cat {RUNNER_DIR}/.runner").stdout.removeprefix(BOM))
        assert runner_local["agentName"] == host.name

        # the runner double saw config.sh get the token through the environment
        calls = runner_double_calls(host)
        configure = [c for c in calls if c["command"] == "configure"]
        assert len(configure) == 1
        assert configure[0]["token_source"] == "env"
        assert configure[0]["token_on_a_cmdline"] is False
        assert configure[0]["user"] == RUNNER_USER
        assert "<redacted>" not in configure[0]["argv"]  # no --token on the command line
        assert {"unattended", "replace"} <= set(configure[0]["flags"])
        assert configure[0]["options"]["labels"] == f"performance-testing,{hw_label}"
        assert configure[0]["options"]["name"] == host.name
        assert configure[0]["options"]["url"].endswith("/perf-lab/hazelbean")
        started = [c for c in calls if c["command"] == "run"]
        assert started and started[-1]["cpus_allowed"] == _cpu_sets().parse_cpu_list(housekeeping)
        assert started[-1]["perfagent_env"]["PERFAGENT_STORE"] == STORE
        assert started[-1]["perfagent_env"]["PERFAGENT_CPUS"] == bench
        assert started[-1]["user"] == RUNNER_USER
        # root ran installdependencies.sh from its own copy of the release, not
        # from the runner user's directory; nothing root ran lives there
        deps = [c for c in calls if c["command"] == "installdependencies"]
        assert deps and deps[-1]["user"] == "root"
        assert deps[-1]["exe"].startswith("/var/cache/actions-runner/")
        assert not [c for c in calls if c["user"] == "root" and c["exe"].startswith(RUNNER_DIR)]

        # the API double: registration token asked with the access token, and the
        # runner registered with that registration token and the right labels
        token_calls = [
            c
            for c in pl.api.calls_to("registration_token")
            if c.path == f"/{SCOPE}/actions/runners/registration-token"
        ]
        assert token_calls and all(c.authorized for c in token_calls)
        registrations = [
            c for c in pl.api.calls_to("double_register") if c.body["name"] == host.name
        ]
        assert len(registrations) == 1 and registrations[0].status == 201
        assert registrations[0].token_digest in pl.api.issued_token_digests("registration")
        assert registrations[0].token_digest == configure[0]["token_sha256"]
        runner = pl.api.runner_named(host.name)
        assert runner is not None and runner.custom_labels == ["performance-testing", hw_label]
    # the release server double served the checksummed downloads
    fetched = {path for path, status in pl.releases.fetched if status == 200}
    assert any(p.endswith(".tar.gz") for p in fetched) and any(
        p.endswith("micromamba-linux-64") for p in fetched
    )
    assert not [c for c in pl.api.calls if not c.authorized], "a call to the API double was refused"


def test_rerun_changes_nothing(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    token_calls_before = len(pl.api.calls_to("registration_token"))
    run = pl.playbook("provision.yml")
    TIMINGS["provision.yml, re-run"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert run.changed() == {host.name: 0 for host in pl.hosts}, _changed_tasks(run.output)
    assert len(pl.api.calls_to("registration_token")) == token_calls_before
    for host in pl.hosts:  # the env was created once: the environment file did not change
        creates = host.ssh("grep -h '\"create\"' /var/tmp/micromamba-double/calls-*.jsonl").stdout
        assert len(creates.splitlines()) == 1
    assert_no_secret_in(run.output, pl, "Ansible's output")


def test_dry_run_on_a_provisioned_host(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    run = pl.playbook("provision.yml", "--check", "--diff")
    TIMINGS["provision.yml --check --diff, provisioned"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert run.changed() == {host.name: 0 for host in pl.hosts}, _changed_tasks(run.output)
    assert_no_secret_in(run.output, pl, "Ansible's output")


def test_verify_passes(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    run = pl.playbook("verify.yml")
    TIMINGS["verify.yml"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert run.changed() == {host.name: 0 for host in pl.hosts}
    assert "Live kernel state not checked in a container" in run.output
    assert "valgrind runs: valgrind-" in run.output
    assert_no_secret_in(run.output, pl, "Ansible's output")


# What root runs later: the env's python and the agent in it (version check, doctor,
# fingerprint), micromamba, the token helper, the root-owned copy of the runner
# release (installdependencies.sh), the units and their drop-ins, the agent's config.
ROOT_RUNS = (
    "/opt/micromamba",
    "/usr/local/bin/micromamba",
    "/usr/local/bin/perfagent",
    "/opt/perfagent",
    "/etc/perfagent",
    "/usr/local/libexec/perf-runner",
    "/var/cache/actions-runner",
    f"/etc/systemd/system/{SERVICE}.service",
    f"/etc/systemd/system/{SERVICE}.service.d",
    "/usr/local/sbin/perf-runner-cpufreq",
)


def test_runner_user_cannot_write_anything_root_runs(provisioning_lab: ProvisioningLab) -> None:
    """Walk everything root later executes as the runner user: nothing is writable,
    so no job can plant code for the next provision run."""
    pl = provisioning_lab
    for host in pl.hosts:
        walk = host.ssh(
            f"cd / && runuser -u {RUNNER_USER} -- find {' '.join(ROOT_RUNS)} -writable"
            " 2>/dev/null || true"
        ).stdout.split()
        assert walk == [], f"{RUNNER_USER} can write {walk[:20]} on {host.name}"
        # the walk did see the files: the env's python and the agent are among them
        seen = host.ssh(
            f"cd / && runuser -u {RUNNER_USER} -- find {ENV_PREFIX} -path '*/bin/*' -name perfagent"
        ).stdout.split()
        assert f"{ENV_PREFIX}/bin/perfagent" in seen
        # the runner directory is the runner user's (config.sh writes it), and root
        # runs nothing from it: what root ran of the release ran from its own copy
        root_ran = [c for c in runner_double_calls(host) if c["user"] == "root"]
        assert root_ran and all(not c["exe"].startswith(RUNNER_DIR) for c in root_ran)
        # the unit runs the runner as that user, never as root
        assert host.ssh(f"systemctl show -p User --value {SERVICE}").stdout.strip() == RUNNER_USER


def test_failed_env_build_is_retried(provisioning_lab: ProvisioningLab) -> None:
    """A build that fails half-way is built again on the next run, until one succeeds."""
    pl = provisioning_lab
    for host in pl.hosts:  # the environment file changes: a build is due, and it fails
        host.ssh(f"rm {ENV_MARKER} && touch /var/tmp/micromamba-double/fail-next-create")
    failed = pl.playbook("provision.yml")
    assert failed.returncode != 0
    assert "Download error" in failed.output
    for host in pl.hosts:
        assert host.ssh(f"test -e {ENV_MARKER}", check=False).returncode != 0
    retried = pl.playbook("provision.yml")
    TIMINGS["provision.yml, env rebuilt"] = retried.seconds
    assert retried.returncode == 0, retried.output[-6000:]
    local_spec = (REPO / "runner-config/environment.yml").read_bytes()
    for host in pl.hosts:
        marker = host.ssh(f"cat {ENV_MARKER}").stdout.strip()
        assert marker == hashlib.sha256(local_spec).hexdigest()
        creates = host.ssh("grep -h '\"create\"' /var/tmp/micromamba-double/calls-*.jsonl").stdout
        records = [json.loads(line) for line in creates.splitlines()]
        # the failed build (its start, its failure), then the one that succeeded
        assert [r.get("failed", False) for r in records][-3:] == [False, True, False]
        # the agent came back into the rebuilt env
        assert host.ssh("perfagent --version", check=False).returncode == 0


def test_changed_labels_are_updated(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    labels = '{"github_runner_labels": ["performance-testing", "hazelbean-gate"]}'
    run = pl.playbook("provision.yml", "-e", labels)
    assert run.returncode == 0, run.output[-6000:]
    for host in pl.hosts:
        runner = pl.api.runner_named(host.name)
        assert runner is not None
        assert runner.custom_labels[:2] == ["performance-testing", "hazelbean-gate"]
        assert runner.custom_labels[2].startswith("perf-hw-")
    assert len(pl.api.calls_to("set_labels")) == len(pl.hosts)
    assert len(pl.api.calls_to("double_register")) == len(pl.hosts), (
        "labels changed by re-registering"
    )
    assert run.changed() == {host.name: 1 for host in pl.hosts}, _changed_tasks(run.output)


def test_deregister_removes_everything(provisioning_lab: ProvisioningLab) -> None:
    pl = provisioning_lab
    run = pl.playbook("deregister.yml")
    TIMINGS["deregister.yml"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert_no_secret_in(run.output, pl, "Ansible's output")
    assert pl.api.runners == {}, "runners left on GitHub"
    remove_token_calls = pl.api.calls_to("remove_token")
    assert len(remove_token_calls) == len(pl.hosts) and all(
        c.authorized for c in remove_token_calls
    )
    removals = pl.api.calls_to("double_remove")
    assert len(removals) == len(pl.hosts)
    assert {c.token_digest for c in removals} <= pl.api.issued_token_digests("remove")
    for host in pl.hosts:
        remove = [c for c in runner_double_calls(host) if c["command"] == "remove"]
        assert (
            remove
            and remove[-1]["token_source"] == "env"
            and remove[-1]["token_on_a_cmdline"] is False
        )
        for path in (
            f"/etc/systemd/system/{SERVICE}.service",
            f"/etc/systemd/system/{SERVICE}.service.d",
            RUNNER_DIR,
            "/var/cache/actions-runner",
            f"/home/{RUNNER_USER}",
        ):
            assert host.ssh(f"test -e {path}", check=False).returncode != 0, (
                f"{path} left on {host.name}"
            )
        assert host.ssh(f"id {RUNNER_USER}", check=False).returncode != 0
        state = host.ssh(f"systemctl show -p LoadState --value {SERVICE}").stdout.strip()
        assert state == "not-found"
        # the baseline store and the tuning stay (documented in ansible/README.md)
        assert host.ssh(f"test -d {STORE}", check=False).returncode == 0
    assert_no_secret_on_command_lines(pl)


def test_just_in_time_registration(provisioning_lab: ProvisioningLab) -> None:
    """github_runner_registration: jit registers through generate-jitconfig; the
    configuration reaches the listener through a root-only environment file."""
    pl = provisioning_lab
    run = pl.playbook("provision.yml", "-e", "github_runner_registration=jit")
    TIMINGS["provision.yml, JIT registration"] = run.seconds
    assert run.returncode == 0, run.output[-6000:]
    assert_no_secret_in(run.output, pl, "Ansible's output")
    assert_no_secret_on_command_lines(pl)
    calls = pl.api.calls_to("generate_jitconfig")
    assert len(calls) == len(pl.hosts) and all(c.authorized and c.status == 201 for c in calls)
    for host in pl.hosts:
        body = next(c.body for c in calls if c.body["name"] == host.name)
        assert body["runner_group_id"] == 1 and body["labels"][0] == "performance-testing"
        runner = pl.api.runner_named(host.name)
        assert runner is not None and runner.ephemeral
        env_file = f"/etc/{SERVICE}/jit.env"
        assert host.ssh(f"stat -c '%U %a' {env_file}").stdout.strip() == "root 600"
        denied = host.ssh(f"cd / && runuser -u {RUNNER_USER} -- cat {env_file}", check=False)
        assert denied.returncode != 0
        assert host.ssh(f"systemctl is-active {SERVICE}").stdout.strip() == "active"
        started = [c for c in runner_double_calls(host) if c["command"] == "run"]
        assert started[-1]["jitconfig_source"] == "env"
        head = host.ssh(f"head -c 3 {RUNNER_DIR}/.runner | od -An -tx1").stdout.split()
        assert head == ["ef", "bb", "bf"]
    # the runner goes again, as after its one job
    run = pl.playbook("deregister.yml")
    assert run.returncode == 0, run.output[-6000:]
    assert pl.api.runners == {}


def _changed_tasks(output: str) -> str:
    """The 'changed:' lines with their task headers, for a failing idempotence check."""
    lines, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:"):
            lines += [task, line[:300]]
    return "\n".join(lines)
