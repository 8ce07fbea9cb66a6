"""A Debian 12 root as bare as a cloud image, and a machine booted from it.

What a cloud image ships and a new user would find: debootstrap's minbase plus systemd
(it boots), python3, git, make and ca-certificates. No venv module, no compiler, no
GDAL: ``make bench`` and ``make test`` must install those themselves. The root uses
this machine's apt sources and network (and its extra CA certificates, without which
nothing here reaches PyPI through the TLS-inspecting egress), never its Python, its
packages or its pip cache.

The root is cached as a tarball keyed by the suite, the sources, the CA certificates
and the package list, beside perf_lab.debian_root's (``PERF_RUNNER_CACHE_DIR``).
The machine boots with ``systemd-nspawn --boot`` on this machine's network (no
namespace of its own); commands run in it through ``nsenter`` into its init's
namespaces, with a login shell's environment, not this process's.

    python -m perf_lab.fresh_root          # build the cache now, print its path
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from perf_lab import debian_root

SUITE = debian_root.SUITE
MIRROR = debian_root.MIRROR
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")

# A cloud image's share of what the project needs; everything else is make's to install.
PACKAGES = sorted({"systemd", "systemd-sysv", "dbus", "python3", "git", "make", "ca-certificates"})

# Bump when the customisation below changes, so caches made by older code are rebuilt.
FORMAT = 1

# A root login's environment on Debian, plus CI=true as in this project's CI.
LOGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Variables that point tools at the system CA bundle (it holds the egress CA here);
# passed on when set, since the same paths exist inside.
CA_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "GIT_SSL_CAINFO",
    "CURL_CA_BUNDLE",
)


def _extra_certificates() -> list[Path]:
    return sorted(EXTRA_CA_DIR.glob("*.crt")) if EXTRA_CA_DIR.is_dir() else []


def cache_key() -> str:
    digest = hashlib.sha256()
    for part in (SUITE, MIRROR, str(FORMAT), *PACKAGES):
        digest.update(part.encode() + b"\n")
    for path in (APT_SOURCES, *_extra_certificates()):
        if path.exists():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def cached_tarball() -> Path:
    return debian_root.cache_dir() / f"debian-{SUITE}-fresh-{cache_key()}.tar.zst"


def _customise(root: Path) -> None:
    """Boot quietly as a container, with this machine's apt sources and CA certificates."""
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostname").write_text("fresh-machine\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n127.0.1.1 fresh-machine\n")
    if APT_SOURCES.exists():
        # the same mirror, with updates and security as on a cloud image
        shutil.copyfile(APT_SOURCES, root / "etc/apt/sources.list.d/debian.sources")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
    certificates = _extra_certificates()
    if certificates:
        target = root / "usr/local/share/ca-certificates"
        target.mkdir(parents=True, exist_ok=True)
        for certificate in certificates:
            shutil.copyfile(certificate, target / certificate.name)
        subprocess.run(
            ["chroot", str(root), "update-ca-certificates", "--fresh"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    debian_root.quiet_container(root)
    # A cloud image's package lists come from its build; these are debootstrap's.
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)


def build(target: Path) -> None:
    """debootstrap minbase with the cloud-image packages, customised to boot as one."""
    debian_root.build(target, PACKAGES, _customise)


def ensure_cached() -> Path:
    """The cached fresh-machine root tarball, built first when it is missing."""
    return debian_root.ensure_cached(cached_tarball(), build)


@dataclass
class StepResult:
    command: str
    returncode: int
    seconds: float
    log: Path

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class FreshMachine:
    """A booted copy of the fresh root; ``close()`` stops it and removes the copy."""

    workdir: Path
    name: str = field(default_factory=lambda: f"fresh-{os.getpid()}")
    process: subprocess.Popen[bytes] | None = None
    leader: int = 0

    @property
    def root(self) -> Path:
        return self.workdir / "root"

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    def start(self, tarball: Path, timeout: float = 120) -> None:
        debian_root.unpack(tarball, self.root)
        with self.console_log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--boot",
                    f"--directory={self.root}",
                    f"--machine={self.name}",
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} stopped while booting (exit {self.process.returncode}); "
                    f"console: {self.console_log.read_text(errors='replace')[-2000:]}"
                )
            self.leader = self.leader or self._find_leader()
            if self.leader:
                state = self.run_quiet("systemctl is-system-running --wait", timeout=60)
                if state.stdout.strip() in {"running", "degraded"}:
                    return
            time.sleep(1)
        raise RuntimeError(f"{self.name} did not finish booting within {timeout:.0f} s")

    def _find_leader(self) -> int:
        """The container's init: the descendant of nspawn whose root is the machine's."""
        assert self.process is not None
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                if pid != self.process.pid and Path(f"/proc/{pid}/comm").read_text().strip() in {
                    "systemd",
                    "init",
                }:
                    return pid
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            pending.extend(int(child) for child in children)
        return 0

    def _nsenter(self, command: str, cwd: str, env: dict[str, str] | None = None) -> list[str]:
        environment = [
            f"PATH={LOGIN_PATH}",
            "HOME=/root",
            "USER=root",
            "LOGNAME=root",
            "SHELL=/bin/bash",
            "LANG=C.UTF-8",
            "TERM=dumb",
            "CI=true",
            *(f"{name}={os.environ[name]}" for name in CA_VARIABLES if name in os.environ),
            *(f"{name}={value}" for name, value in (env or {}).items()),
        ]
        return [
            "nsenter",
            f"--target={self.leader}",
            "--mount",
            "--uts",
            "--ipc",
            "--pid",
            "--root",
            "--wd",
            "env",
            "-i",
            *environment,
            "bash",
            "-c",
            f"cd {cwd} && {command}",
        ]

    def run_quiet(self, command: str, cwd: str = "/", timeout: float = 120):  # type: ignore[no-untyped-def]
        return subprocess.run(
            self._nsenter(command, cwd), capture_output=True, text=True, timeout=timeout
        )

    def step(
        self, command: str, log: Path, cwd: str = "/root", env: dict[str, str] | None = None
    ) -> StepResult:
        """Run *command* as root in the machine, its output to *log* (and echoed with -s)."""
        started = time.monotonic()
        with log.open("w") as out:
            process = subprocess.Popen(
                self._nsenter(command, cwd, env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                out.flush()
                # flushed: .ci/run sends this to a file that someone may be following
                sys.stdout.write(f"[fresh] {line}")
                sys.stdout.flush()
            returncode = process.wait()
        return StepResult(command, returncode, time.monotonic() - started, log)

    def close(self) -> list[str]:
        problems: list[str] = []
        if self.process is not None and self.process.poll() is None:
            # SIGTERM asks the container's systemd to power off cleanly.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
                problems.append(f"{self.name}: killed after 60 s")
        if os.environ.get("PERF_LAB_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)
        return problems


if __name__ == "__main__":
    print(ensure_cached())
    sys.exit(0)
