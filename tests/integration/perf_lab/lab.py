"""Boot N Debian hosts with ``systemd-nspawn --boot``, each in a network namespace
of its own, joined to this machine by veth pairs on one bridge.

    bridge prl<id>   198.18.X.1/24  (the doubles listen here)
      veth  -> netns perf-lab-<id>-1, host0 198.18.X.11  (perf-runner-1)
      veth  -> netns perf-lab-<id>-2, host0 198.18.X.12  (perf-runner-2)
      ...

198.18.0.0/15 is reserved for network benchmark tests (RFC 2544): nothing real
lives there. Names and addresses derive from the run id and the host's index, so
several hosts (and several runs) never collide. ``Lab.close()`` stops every
machine and removes every namespace, veth and the bridge, whatever happened before.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from perf_lab import debian_root

NETWORK_PREFIX = "198.18"


def run(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, text=True, capture_output=True, **kwargs)


@dataclass
class LabHost:
    index: int
    name: str
    address: str
    netns: str
    veth: str
    root: Path
    console_log: Path
    ssh_options: list[str]
    process: subprocess.Popen[bytes] | None = None

    def add_sudo_user(self, name: str, public_key: str) -> None:
        """An ops login as the roles' README documents it: a non-root user that
        reaches root through sudo (no password), by key."""
        self.ssh(
            f"id {name} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {name}"
            f" && install -d -m 700 -o {name} -g {name} /home/{name}/.ssh"
            f" && printf '%s\\n' '{public_key.strip()}' > /home/{name}/.ssh/authorized_keys"
            f" && chown {name}:{name} /home/{name}/.ssh/authorized_keys"
            f" && chmod 600 /home/{name}/.ssh/authorized_keys"
            f" && printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' {name} > /etc/sudoers.d/{name}"
            f" && chmod 440 /etc/sudoers.d/{name}"
        )

    def ssh(
        self, command: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a shell command on the host as root."""
        result = subprocess.run(
            ["ssh", *self.ssh_options, f"root@{self.address}", command],
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.name}: `{command}` exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@dataclass
class Lab:
    workdir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    hosts: list[LabHost] = field(default_factory=list)
    subnet: int = 0
    bridge: str = ""
    _netns_made: list[str] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        """This machine's address on the lab network: where the doubles listen."""
        return f"{NETWORK_PREFIX}.{self.subnet}.1"

    @property
    def ssh_key(self) -> Path:
        return self.workdir / "id_ed25519"

    def ssh_options(self) -> list[str]:
        return [
            "-i",
            str(self.ssh_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={self.workdir / 'known_hosts'}",
            "-o",
            "ConnectTimeout=5",
        ]

    # -- set up --------------------------------------------------------------
    def start(self, count: int, tarball: Path) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        run(
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            f"perf-lab-{self.run_id}",
            "-f",
            str(self.ssh_key),
        )
        self._make_bridge()
        for index in range(1, count + 1):
            self.hosts.append(self._make_host(index, tarball))
        for host in self.hosts:
            self._boot(host)
        for host in self.hosts:
            self._wait_for_ssh(host)

    def _free_subnet(self) -> int:
        used = run("ip", "-o", "-4", "addr", "show").stdout
        for _ in range(100):
            candidate = secrets.randbelow(250) + 2
            if f" {NETWORK_PREFIX}.{candidate}." not in used:
                return candidate
        raise RuntimeError(f"no free /24 in {NETWORK_PREFIX}.0.0/16 for the lab network")

    def _make_bridge(self) -> None:
        self.subnet = self._free_subnet()
        self.bridge = f"prl{self.run_id}"
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")

    def _make_host(self, index: int, tarball: Path) -> LabHost:
        name = f"perf-runner-{index}"
        host = LabHost(
            index=index,
            name=name,
            address=f"{NETWORK_PREFIX}.{self.subnet}.{10 + index}",
            netns=f"perf-lab-{self.run_id}-{index}",
            veth=f"prl{self.run_id}h{index}",
            root=self.workdir / "machines" / name,
            console_log=self.workdir / f"{name}.console.log",
            ssh_options=self.ssh_options(),
        )
        # network namespace with a veth to the bridge
        run("ip", "netns", "add", host.netns)
        self._netns_made.append(host.netns)
        run(
            "ip",
            "link",
            "add",
            host.veth,
            "type",
            "veth",
            "peer",
            "name",
            "host0",
            "netns",
            host.netns,
        )
        run("ip", "link", "set", host.veth, "master", self.bridge, "up")
        run("ip", "-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "host0")
        run("ip", "-n", host.netns, "link", "set", "host0", "up")
        run("ip", "-n", host.netns, "link", "set", "lo", "up")
        # its root filesystem
        debian_root.unpack(tarball, host.root)
        (host.root / "etc/hostname").write_text(name + "\n")
        (host.root / "etc/hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {name}\n")
        ssh_dir = host.root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        authorized = ssh_dir / "authorized_keys"
        authorized.write_text(self.ssh_key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        return host

    def _boot(self, host: LabHost) -> None:
        with host.console_log.open("wb") as log:
            host.process = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--boot",
                    f"--directory={host.root}",
                    f"--machine={host.name}-{self.run_id}",
                    f"--network-namespace-path=/run/netns/{host.netns}",
                    # this machine may not run systemd as PID 1: no machined, no scope unit
                    "--register=no",
                    "--keep-unit",
                    "--console=passive",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_for_ssh(self, host: LabHost, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if host.process is not None and host.process.poll() is not None:
                raise RuntimeError(
                    f"{host.name} stopped while booting (exit {host.process.returncode}); "
                    f"console: {host.console_log.read_text(errors='replace')[-2000:]}"
                )
            probe = host.ssh("systemctl is-system-running --wait", check=False, timeout=60)
            booted = probe.returncode == 0 or probe.stdout.strip() in {"running", "degraded"}
            if booted and self._user_logins_permitted(host):
                return
            time.sleep(1)
        raise RuntimeError(
            f"{host.name} ({host.address}) did not answer on SSH within {timeout:.0f} s"
        )

    def _user_logins_permitted(self, host: LabHost) -> bool:
        """Whether pam_nologin lets the non-root ops user in: /run/nologin is gone.

        Booted, root can log in while /run/nologin still keeps everyone else out, and
        systemd-user-sessions.service, which removes it, once failed at boot on one of
        two hosts booting at once (CI): Ansible, connecting as the ops user, then found
        the host unreachable. Such a failure is started again, its journal kept.
        """
        check = "test ! -e /run/nologin"
        if host.ssh(check, check=False).returncode == 0:
            return True
        if host.ssh("systemctl -q is-failed systemd-user-sessions.service", check=False).returncode:
            return False  # not failed: still starting
        journal = host.ssh(
            "journalctl -b -u systemd-user-sessions.service --no-pager", check=False
        ).stdout
        log = self.workdir / "logs" / f"{host.name}.user-sessions.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(journal)
        host.ssh("systemctl start systemd-user-sessions.service", check=False)
        return host.ssh(check, check=False).returncode == 0

    # -- tear down -----------------------------------------------------------
    def close(self) -> list[str]:
        """Stop every machine, remove every namespace, veth and the bridge.
        Returns what could not be cleaned (empty when all went)."""
        problems: list[str] = []
        for host in self.hosts:
            if host.process is not None and host.process.poll() is None:
                # SIGTERM asks the container's systemd to power off cleanly.
                host.process.send_signal(signal.SIGTERM)
                try:
                    host.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(host.process.pid, signal.SIGKILL)
                    host.process.wait(timeout=30)
                    problems.append(f"{host.name}: killed after 60 s")
        for host in self.hosts:
            run("ip", "link", "del", host.veth, check=False)
        for netns in self._netns_made:
            result = run("ip", "netns", "del", netns, check=False)
            if result.returncode != 0 and "No such file" not in result.stderr:
                problems.append(f"netns {netns}: {result.stderr.strip()}")
        if self.bridge:
            run("ip", "link", "del", self.bridge, check=False)
        leftovers = run("ip", "-o", "link", "show").stdout
        if self.bridge and f"prl{self.run_id}" in leftovers:
            problems.append(f"links prl{self.run_id}* still present")
        if os.environ.get("PERF_LAB_KEEP") != "1":
            shutil.rmtree(self.workdir / "machines", ignore_errors=True)
        return problems
