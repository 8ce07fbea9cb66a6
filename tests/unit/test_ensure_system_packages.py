"""scripts/ensure_system_packages.sh: which packages, on which distribution, installed how.

The script runs here against fakes on a PATH of their own: an os-release file per
distribution, an `id` that says who we are, and `sudo`/`apt-get` that record their
arguments (apt-get "installs" by making the probed Python importable).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts/ensure_system_packages.sh"
BASH = "/bin/bash"

OS_RELEASES = {
    "debian-12": 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    "ubuntu-22.04": 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n',
    "ubuntu-24.04": 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
    "fedora-40": 'ID=fedora\nVERSION_ID="40"\nPRETTY_NAME="Fedora Linux 40"\n',
}


def _executable(path: Path, text: str) -> None:
    path.write_text("#!/bin/bash\n" + text)
    path.chmod(0o755)


@pytest.fixture
def fake_system(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A PATH with bash and fakes; returns a runner of the script on it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    marker = tmp_path / "installed"
    # a python whose `import ensurepip` works once apt-get has run
    _executable(bin_dir / "python3", f"[[ -e {marker} ]]\n")
    _executable(bin_dir / "apt-get", f'echo "apt-get $*" >>{calls}\ntouch {marker}\n')
    for tool in ("bash", "env", "cat", "touch"):
        (bin_dir / tool).symlink_to(
            f"/usr/bin/{tool}" if Path(f"/usr/bin/{tool}").exists() else f"/bin/{tool}"
        )

    def run(*args: str, distro: str = "debian-12", uid: int = 0, sudo: bool = False,
            ci: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        os_release = tmp_path / f"os-release-{distro}"
        os_release.write_text(OS_RELEASES[distro])
        _executable(bin_dir / "id", f"echo {uid}\n")
        if sudo:
            # sudo(8) (sudo-project/sudo, docs/sudo.man.in): -n never prompts, then the command runs
            _executable(
                bin_dir / "sudo", f'echo "sudo $*" >>{calls}\n[[ $1 == -n ]] && shift\n"$@"\n'
            )
        env = {
            "PATH": str(bin_dir),
            "OS_RELEASE": str(os_release),
            "PYTHON": str(bin_dir / "python3"),
            **({"CI": "true"} if ci else {}),
        }
        return subprocess.run(
            [BASH, str(SCRIPT), *args], env=env, text=True, capture_output=True, check=False
        )

    run.calls = calls  # type: ignore[attr-defined]
    run.marker = marker  # type: ignore[attr-defined]
    return run


def _listed(distro: str, *sets: str) -> list[str]:
    env = {**os.environ, "OS_RELEASE": "/dev/null"}
    if distro:
        path = Path(f"/tmp/os-release-test-{os.getpid()}-{distro}")
        path.write_text(OS_RELEASES[distro])
        env["OS_RELEASE"] = str(path)
    result = subprocess.run(
        [BASH, str(SCRIPT), "--list", *sets], env=env, text=True, capture_output=True, check=True
    )
    return result.stdout.split()


def test_bench_needs_the_venv_module_a_compiler_and_gdal() -> None:
    packages = _listed("debian-12", "bench")
    for package in ("python3-venv", "python3-dev", "gcc", "g++", "libgdal-dev", "gdal-bin"):
        assert package in packages
    assert "proj-data" in packages
    assert "valgrind" not in packages  # only make test's


def test_test_needs_everything_bench_does_and_the_test_tools() -> None:
    bench, test = _listed("debian-12", "bench"), _listed("debian-12", "test")
    assert set(bench) <= set(test)
    for package in ("valgrind", "debootstrap", "systemd-container", "iproute2", "openssh-client",
                    "zstd", "shellcheck", "nodejs", "npm", "chromium"):  # fmt: skip
        assert package in test
    assert len(test) == len(set(test))  # each once, though sets include each other


def test_package_names_per_distribution() -> None:
    jammy = _listed("ubuntu-22.04", "test")
    assert "python3.11-venv" in jammy and "python3.11-dev" in jammy  # jammy's python3 is 3.10
    assert "chromium-browser" in jammy and "chromium" not in jammy
    noble = _listed("ubuntu-24.04", "test")
    assert "python3-venv" in noble and "chromium-browser" in noble


def test_nothing_missing_installs_nothing(fake_system) -> None:  # type: ignore[no-untyped-def]
    fake_system.marker.touch()
    result = fake_system("venv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert not fake_system.calls.exists()


def test_root_installs_directly_and_says_what(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("venv")
    assert result.returncode == 0, result.stderr
    assert "installing the system packages that 'make venv' needs, as root: python3-venv" in (
        result.stdout
    )
    calls = fake_system.calls.read_text().splitlines()
    assert calls == [
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends python3-venv",
    ]


def test_a_user_with_sudo_never_prompted_in_ci(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("venv", uid=1000, sudo=True)
    assert result.returncode == 0, result.stderr
    assert "through sudo -n" in result.stdout
    calls = fake_system.calls.read_text().splitlines()
    assert "sudo -n apt-get install -y -qq --no-install-recommends python3-venv" in calls


def test_a_user_with_sudo_outside_ci_may_be_asked_for_a_password(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("venv", uid=1000, sudo=True, ci=False)
    assert result.returncode == 0, result.stderr
    assert "sudo apt-get update -qq" in fake_system.calls.read_text().splitlines()


def test_without_root_or_sudo_it_names_the_one_command(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("venv", uid=1000)
    assert result.returncode == 1
    assert "apt-get install python3-venv" in result.stderr
    assert not fake_system.calls.exists()


def test_another_distribution_is_told_the_packages(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("bench", distro="fedora-40")
    assert result.returncode == 1
    assert "Fedora Linux 40" in result.stderr
    for package in ("python3-venv", "libgdal-dev", "gdal-bin"):
        assert package in result.stderr
    assert not fake_system.calls.exists()


def test_an_unknown_set_is_a_usage_error(fake_system) -> None:  # type: ignore[no-untyped-def]
    result = fake_system("benchmarks")
    assert result.returncode == 1
    assert "unknown set 'benchmarks'" in result.stderr
