"""Build (or take from a cache) a bootable Debian root filesystem as a tarball.

The root is a debootstrap of Debian 12 with every package the roles need already
installed, because a test host has no route to a package mirror: the roles run
there with their apt cache updates switched off and find their packages present.

The cache is a tarball keyed by the suite, mirror and package list, kept outside
the repository (``PERF_RUNNER_CACHE_DIR``, default ``/var/cache/perf-runner``) so
that every test run and CI run on the same machine reuses it.

    python -m perf_lab.debian_root          # build the cache now, print its path
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SUITE = "bookworm"
MIRROR = os.environ.get("PERF_RUNNER_DEBIAN_MIRROR", "http://deb.debian.org/debian")

# What the roles expect to find on a bare Debian host, plus what a test host needs
# to be reached (ssh) and to boot (systemd, dbus).
PACKAGES = sorted(
    {
        # boot and reach the host
        "systemd",
        "systemd-sysv",
        "dbus",
        "openssh-server",
        "iproute2",
        "procps",
        "util-linux",
        # Ansible's needs on a target: python, apt bindings, ACLs for become
        "python3",
        "python3-apt",
        "python3-venv",
        "python3-packaging",
        "acl",
        "sudo",
        # perf_tuning
        "irqbalance",
        "unattended-upgrades",
        # conda_env, github_runner: archives and TLS
        "ca-certificates",
        "tar",
        "gzip",
        "bzip2",
        "xz-utils",
        # the agent and the jobs; valgrind, gcc and libc6-dev are perfagent's
        # perfagent_instructions_packages (libc6-dev: debootstrap skips Recommends)
        "valgrind",
        "gcc",
        "libc6-dev",
        "git",
    }
)

# Bump when the customisation below changes, so caches made by older code are rebuilt.
FORMAT = 2


def cache_dir() -> Path:
    return Path(os.environ.get("PERF_RUNNER_CACHE_DIR", "/var/cache/perf-runner"))


def cache_key() -> str:
    text = "\n".join([SUITE, MIRROR, str(FORMAT), *PACKAGES])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_tarball() -> Path:
    return cache_dir() / f"debian-{SUITE}-root-{cache_key()}.tar.zst"


def _customise(root: Path) -> None:
    """Make the root boot quietly as a container and accept root logins by key."""
    # A fresh machine id on each boot of each copy.
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostname").write_text("perf-runner-test\n")
    sshd_dropin = root / "etc/ssh/sshd_config.d/50-perf-lab.conf"
    sshd_dropin.write_text(
        "# perf-runner test lab: root by key only, no DNS lookups on connect\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "UseDNS no\n"
    )
    # Host keys are made per copy at first boot (ssh-keygen -A below runs once).
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    unit = root / "etc/systemd/system/perf-lab-hostkeys.service"
    unit.write_text(
        "[Unit]\n"
        "Description=perf-runner test lab: SSH host keys for this copy\n"
        "Before=ssh.service\n"
        "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        "ExecStart=/usr/bin/ssh-keygen -A\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "perf-lab-hostkeys.service"
    if not link.exists():
        link.symlink_to("/etc/systemd/system/perf-lab-hostkeys.service")
    quiet_container(root)


def quiet_container(root: Path) -> None:
    """Mask the units that only fail or wait in a container without a console or
    network, and leave no downloaded packages behind (the lab's and the fresh root)."""
    for name in (
        "getty.target",
        "console-getty.service",
        "systemd-networkd-wait-online.service",
        "apt-daily.timer",
        "apt-daily-upgrade.timer",
    ):
        mask = root / "etc/systemd/system" / name
        if not mask.exists():
            mask.symlink_to("/dev/null")
    # Timers are masked so no download runs while a test host is up; the perf_tuning
    # role's timer drop-ins are still written and checked as files.
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def build(
    target: Path,
    packages: list[str] = PACKAGES,
    customise: Callable[[Path], None] | None = None,
) -> None:
    """debootstrap minbase with *packages* into a temporary directory, customise it, pack
    it into *target*. The lab's root and the fresh-machine root both come from here."""
    for tool in ("debootstrap", "zstd", "tar"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (apt-get install {tool})")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix="build-") as tmp:
        root = Path(tmp) / "root"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                SUITE,
                str(root),
                MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (customise or _customise)(root)
        partial = target.with_suffix(".partial")
        subprocess.run(
            [
                "tar",
                "--zstd",
                "--numeric-owner",
                "--xattrs",
                "-C",
                str(root),
                "-cf",
                str(partial),
                ".",
            ],
            check=True,
        )
        partial.rename(target)


def ensure_cached(tarball: Path | None = None, build_root: Callable[[Path], None] = build) -> Path:
    """The cached root tarball (the lab's unless another is named), built first when it
    is missing."""
    tarball = tarball or cached_tarball()
    if not tarball.exists():
        build_root(tarball)
        # Roots built for an older package list are of no further use, unless a test run
        # of another checkout is still using one: only roots unused for a day go. The
        # name's last part is the cache key: its siblings share everything before it.
        day_ago = time.time() - 86400
        family = tarball.name.rsplit("-", 1)[0]
        for stale in tarball.parent.glob(f"{family}-*.tar.zst"):
            if stale != tarball and stale.stat().st_atime < day_ago:
                stale.unlink(missing_ok=True)
    return tarball


def unpack(tarball: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tar", "--zstd", "--numeric-owner", "--xattrs", "-C", str(root), "-xf", str(tarball)],
        check=True,
    )


if __name__ == "__main__":
    print(ensure_cached())
    sys.exit(0)
