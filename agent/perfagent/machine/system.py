"""Reading the Linux facts that both the fingerprint and the doctor need.

Every function takes the root of `/sys` (or `/proc`) as a parameter so tests can
build fake trees. Nothing here writes: tuning is the Ansible role's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from perfagent.cpus import kernel_cpu_list

SYS_ROOT = Path("/sys")
PROC_ROOT = Path("/proc")

# The part of /sys the CPU facts live under.
CPU_DIR = Path("devices/system/cpu")


def read_line(path: Path) -> str | None:
    """The first line of a small kernel file, stripped; None when it cannot be read."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return None


def read_text(path: Path) -> str | None:
    """A whole small kernel file; None when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def parse_cpu_mask(mask: str) -> list[int]:
    """CPUs of a hexadecimal affinity mask as in /proc/irq/N/smp_affinity ("00000003")."""
    try:
        value = int(mask.replace(",", "").strip() or "0", 16)
    except ValueError:
        return []
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def cpu_dir(sys_root: Path) -> Path:
    return sys_root / CPU_DIR


def online_cpus(sys_root: Path = SYS_ROOT) -> list[int]:
    """The online CPUs from /sys; [] when the kernel does not say."""
    text = read_line(cpu_dir(sys_root) / "online")
    return kernel_cpu_list(text) if text else []


def isolated_cpus(sys_root: Path = SYS_ROOT) -> list[int]:
    """CPUs isolated from the scheduler (isolcpus=); [] when none or unknown."""
    text = read_line(cpu_dir(sys_root) / "isolated")
    return kernel_cpu_list(text) if text else []


def nohz_full_cpus(sys_root: Path = SYS_ROOT) -> list[int]:
    """CPUs running without the scheduler tick (nohz_full=); [] when none or unknown."""
    text = read_line(cpu_dir(sys_root) / "nohz_full")
    # The kernel writes "(null)" when nohz_full= was not given.
    return kernel_cpu_list(text) if text and text != "(null)" else []


def governors(sys_root: Path = SYS_ROOT, cpus: Iterable[int] | None = None) -> dict[int, str]:
    """CPU number -> scaling governor; empty when cpufreq is not available (a VM)."""
    base = cpu_dir(sys_root)
    wanted = list(cpus) if cpus is not None else _cpu_numbers(base)
    found: dict[int, str] = {}
    for cpu in wanted:
        governor = read_line(base / f"cpu{cpu}" / "cpufreq" / "scaling_governor")
        if governor:
            found[cpu] = governor
    return found


def scaling_driver(sys_root: Path = SYS_ROOT) -> str | None:
    """The cpufreq driver (intel_pstate, amd-pstate, acpi-cpufreq, ...), None without cpufreq."""
    base = cpu_dir(sys_root)
    for cpu in _cpu_numbers(base)[:1] or [0]:
        driver = read_line(base / f"cpu{cpu}" / "cpufreq" / "scaling_driver")
        if driver:
            return driver
    return None


@dataclass(frozen=True)
class BoostState:
    """Whether the CPU may clock above its base frequency, and which file said so."""

    enabled: bool | None
    source: str | None

    @property
    def label(self) -> str:
        if self.enabled is None:
            return "unavailable"
        return "on" if self.enabled else "off"


def boost_state(sys_root: Path = SYS_ROOT) -> BoostState:
    """Turbo Boost / Core Performance Boost, on Intel and AMD alike.

    intel_pstate has its own inverted switch (`no_turbo`); acpi-cpufreq and
    amd-pstate use the generic `cpufreq/boost`, newer kernels also per policy.
    """
    base = cpu_dir(sys_root)
    no_turbo = read_line(base / "intel_pstate" / "no_turbo")
    if no_turbo in {"0", "1"}:
        return BoostState(no_turbo == "0", str(CPU_DIR / "intel_pstate" / "no_turbo"))
    boost = read_line(base / "cpufreq" / "boost")
    if boost in {"0", "1"}:
        return BoostState(boost == "1", str(CPU_DIR / "cpufreq" / "boost"))
    policies = sorted((base / "cpufreq").glob("policy*/boost"))
    values = {read_line(p) for p in policies} - {None}
    if values and values <= {"0", "1"}:
        return BoostState("1" in values, str(CPU_DIR / "cpufreq" / "policy*" / "boost"))
    return BoostState(None, None)


def kernel_cmdline(proc_root: Path = PROC_ROOT) -> str:
    return read_line(proc_root / "cmdline") or ""


def cmdline_cpus(cmdline: str, parameter: str) -> list[int] | None:
    """CPUs named by a kernel parameter such as `rcu_nocbs=2-3`; None when absent."""
    for word in cmdline.split():
        key, sep, value = word.partition("=")
        if sep and key == parameter:
            # isolcpus= may carry flags first (isolcpus=nohz,domain,2-3): keep the CPU parts.
            return kernel_cpu_list(",".join(p for p in value.split(",") if p[:1].isdigit()))
    return None


def _cpu_numbers(base: Path) -> list[int]:
    numbers = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    for entry in entries:
        suffix = entry.name[3:]
        if entry.name.startswith("cpu") and suffix.isdigit():
            numbers.append(int(suffix))
    return sorted(numbers)
