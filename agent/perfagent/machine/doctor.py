"""Is this machine fit to benchmark? One check per source of timing noise.

The checks cover what `pyperf system show` looks at (governor, boost, CPU isolation
with rcu_nocbs/nohz_full, minimum frequency, IRQ affinity and irqbalance, ASLR, perf
sample rate, power supply) plus what hurts a shared runner: load and foreign
processes on the benchmark CPUs, the NMI watchdog, NUMA balancing, swap and
transparent huge pages. Each check reports
what it read (state), a verdict, and the fix: the variable of the Ansible role
`perf_tuning` that sets it.

Verdicts: `ok`; `warn` (adds noise, results still usable); `fail` (timings cannot
be trusted: the machine is unfit); `unavailable` (this machine does not expose the
setting, e.g. no cpufreq in a VM; stated, but not a reason to be unfit by itself).

Every reader takes the /sys and /proc roots from a `Probe`, so tests build fake trees.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent.cpus import format_cpu_list, kernel_cpu_list
from perfagent.machine import system
from perfagent.machine.system import PROC_ROOT, SYS_ROOT

if TYPE_CHECKING:
    from perfagent.machine.noise import NoiseProbe

OK = "ok"
WARN = "warn"
FAIL = "fail"
UNAVAILABLE = "unavailable"
VERDICTS = (OK, WARN, FAIL, UNAVAILABLE)

BENCHMARK_GOVERNOR = "performance"
# Busy share of the benchmark CPUs (other work) above which timings are not trusted.
BUSY_FAIL = 0.25
BUSY_WARN = 0.05
# CPU time stolen by the hypervisor above which a VM's timings are suspect.
STEAL_WARN = 0.05
SWAPPINESS_MAX = 10
PF_KTHREAD = 0x00200000  # task flag of kernel threads (include/linux/sched.h)

# The variables of the Ansible role perf_tuning that set what the checks look at.
ISOLATE_FIX = "perf_tuning_isolate_cpus: true, perf_tuning_benchmark_cpus"
HOUSEKEEPING_FIX = "perf_tuning_benchmark_cpus, perf_tuning_pin_system_services: true"
PLACEMENT_FIX = (
    "run the runner, job steps and the agent on the housekeeping CPUs "
    "(role github_runner's CPUAffinity); only benchmark workers go on isolated CPUs"
)
DETECT_VIRT = ("systemd-detect-virt",)


@dataclass(frozen=True)
class Check:
    """One check's result: what was read, what it means, and what sets it."""

    name: str
    state: str
    verdict: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Probe:
    """Where the checks read from, and which CPUs the benchmarks run on."""

    sys_root: Path = SYS_ROOT
    proc_root: Path = PROC_ROOT
    # The benchmark CPUs (settings.cpus or the isolated ones); None: all online CPUs.
    cpus: list[int] | None = None
    # How long the load check watches the CPUs; 0 reads /proc/stat once (tests).
    sample_seconds: float = 0.5
    # The doctor's own process, never "foreign". Its ancestors (the job's shell, the
    # runner) are foreign on a benchmark CPU like any other process: they compete too.
    own_pids: frozenset[int] = field(default_factory=frozenset)
    # Ancestors of the doctor, named as such when found on a benchmark CPU.
    ancestor_pids: frozenset[int] = field(default_factory=frozenset)
    # The systemd-detect-virt command line; () never runs it (fake trees in tests).
    detect_virt_command: tuple[str, ...] = ()
    # `doctor --measure`'s noise probe (machine.noise.NoiseProbe); None: not measured.
    noise: NoiseProbe | None = None
    # The threshold (percent) the time metric must be able to see.
    threshold: float = 10.0

    def benchmark_cpus(self) -> list[int]:
        if self.cpus:
            return list(self.cpus)
        online = system.online_cpus(self.sys_root)
        if online:
            return online
        return list(range(os.cpu_count() or 1))

    def all_cpus(self) -> list[int]:
        return system.online_cpus(self.sys_root) or list(range(os.cpu_count() or 1))

    def set_apart(self) -> bool:
        """True when the benchmark CPUs are a strict subset of the online CPUs."""
        return set(self.benchmark_cpus()) < set(self.all_cpus())


@dataclass(frozen=True)
class Report:
    """All checks and the overall verdict."""

    checks: list[Check]

    @property
    def fit(self) -> bool:
        return not any(c.verdict == FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"fit": self.fit, "checks": [c.to_dict() for c in self.checks]}


CheckFunction = Callable[[Probe], Check]


def run_checks(probe: Probe | None = None) -> Report:
    """Run every check; a check that cannot read its facts says so instead of failing."""
    probe = probe or Probe(
        own_pids=own_pids(), ancestor_pids=ancestor_pids(), detect_virt_command=DETECT_VIRT
    )
    results: list[Check] = []
    for name, check in CHECKS:
        try:
            results.append(check(probe))
        except Exception as exc:  # a check must never take the doctor down
            results.append(
                Check(name, f"could not be read: {type(exc).__name__}: {exc}", UNAVAILABLE, "")
            )
    return Report(results)


def _cpus_text(cpus: list[int]) -> str:
    return format_cpu_list(cpus) if cpus else "none"


# --- CPU frequency ---------------------------------------------------------------

_NO_CPUFREQ = "not available here: no cpufreq (a VM or container: the host sets the clock)"


def check_governor(probe: Probe) -> Check:
    name, fix = "CPU governor", f"perf_tuning_governor: {BENCHMARK_GOVERNOR}"
    cpus = probe.benchmark_cpus()
    found = system.governors(probe.sys_root, cpus)
    if not found:
        return Check(name, _NO_CPUFREQ, UNAVAILABLE, fix)
    by_governor: dict[str, list[int]] = {}
    for cpu, governor in found.items():
        by_governor.setdefault(governor, []).append(cpu)
    state = "; ".join(f"CPU {_cpus_text(c)}: {g}" for g, c in sorted(by_governor.items()))
    verdict = OK if set(by_governor) == {BENCHMARK_GOVERNOR} else FAIL
    return Check(name, state, verdict, fix)


# cpuinfo flags of CPUs that clock above their base frequency on their own.
_BOOST_FLAGS = {"cpb": "AMD Core Performance Boost", "ida": "Intel Turbo Boost"}
EPP_PERFORMANCE = "performance"
EPP_FIX = "perf_tuning_disable_boost: true (sets energy_performance_preference=performance)"
PASSIVE_FIX = "perf_tuning_amd_pstate_mode: passive (kernel argument amd_pstate=passive)"


def hardware_boost(probe: Probe) -> str | None:
    """The boost feature the CPU advertises in /proc/cpuinfo, None when it has none."""
    for line in (system.read_text(probe.proc_root / "cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            for flag, label in _BOOST_FLAGS.items():
                if flag in flags:
                    return f"{label} (cpuinfo flag {flag})"
            return None
    return None


def _policy_values(probe: Probe, filename: str) -> dict[int, str]:
    """A cpufreq file of each benchmark CPU's own directory (cpuN/cpufreq/FILE)."""
    base = system.cpu_dir(probe.sys_root)
    found: dict[int, str] = {}
    for cpu in probe.benchmark_cpus():
        value = system.read_line(base / f"cpu{cpu}" / "cpufreq" / filename)
        if value:
            found[cpu] = value
    return found


def check_boost(probe: Probe) -> Check:
    name, fix = "Turbo/boost", "perf_tuning_disable_boost: true"
    boost = system.boost_state(probe.sys_root)
    driver = system.scaling_driver(probe.sys_root)
    # Per-policy switches (kernel 6.11+ amd-pstate, and others) may differ from the global one.
    per_policy = _policy_values(probe, "boost")
    boosting = sorted(cpu for cpu, value in per_policy.items() if value == "1")
    if boost.enabled or boosting:
        where = boost.source if boost.enabled else f"cpufreq boost of CPU {_cpus_text(boosting)}"
        # Boost makes the clock follow temperature and the load of the other cores.
        return Check(name, f"on ({where}, {driver or 'unknown driver'})", FAIL, fix)
    epp = _policy_values(probe, "energy_performance_preference")
    if driver and driver.startswith("amd-pstate") and epp:
        # amd-pstate in active (EPP) mode: the firmware picks the clock, boost included,
        # unless the preference is "performance".
        off = {cpu: v for cpu, v in epp.items() if v != EPP_PERFORMANCE}
        if off:
            shown = ", ".join(f"CPU {cpu}: {v}" for cpu, v in sorted(off.items()))
            return Check(
                name,
                f"boost could not be disabled: {driver} energy_performance_preference "
                f"{shown} (not {EPP_PERFORMANCE})",
                FAIL,
                f"{EPP_FIX}; or {PASSIVE_FIX}",
            )
    if boost.enabled is None and not per_policy:
        feature = hardware_boost(probe)
        if driver and feature:
            # The CPU boosts and cpufreq offers no switch (amd-pstate active before 6.11).
            return Check(
                name,
                f"boost could not be disabled: {feature}, and {driver} has no boost switch",
                FAIL,
                PASSIVE_FIX,
            )
        return Check(name, "not available here: no boost switch in cpufreq", UNAVAILABLE, fix)
    source = boost.source or "cpufreq/policy*/boost"
    state = f"off ({source}, {driver or 'unknown driver'})"
    if epp:
        state += f"; energy_performance_preference {', '.join(sorted(set(epp.values())))}"
    return Check(name, state, OK, fix)


def check_min_frequency(probe: Probe) -> Check:
    name, fix = "Minimum frequency", "perf_tuning_min_freq_to_max: true"
    base = system.cpu_dir(probe.sys_root)
    low: list[int] = []
    seen = 0
    for cpu in probe.benchmark_cpus():
        freq = base / f"cpu{cpu}" / "cpufreq"
        minimum = system.read_line(freq / "scaling_min_freq")
        maximum = system.read_line(freq / "scaling_max_freq")
        if not minimum or not maximum:
            continue
        seen += 1
        if int(minimum) < int(maximum):
            low.append(cpu)
    if not seen:
        return Check(name, _NO_CPUFREQ, UNAVAILABLE, fix)
    if low:
        return Check(name, f"CPU {_cpus_text(low)}: minimum below maximum", WARN, fix)
    return Check(name, "minimum = maximum on the benchmark CPUs", OK, fix)


# --- isolation -------------------------------------------------------------------


def check_isolated(probe: Probe) -> Check:
    name, fix = "Isolated CPUs", ISOLATE_FIX
    isolated = system.isolated_cpus(probe.sys_root)
    online = probe.all_cpus()
    if isolated:
        state = f"isolated {_cpus_text(isolated)} of {_cpus_text(online)}"
        outside = sorted(set(probe.benchmark_cpus()) - set(isolated))
        if outside:
            return Check(
                name, f"{state}; benchmark CPU {_cpus_text(outside)} not isolated", WARN, fix
            )
        return Check(name, state, OK, fix)
    if len(online) <= 1:
        return Check(name, "one CPU: nothing to isolate", UNAVAILABLE, fix)
    return Check(name, f"no CPU isolated (isolcpus=) of {_cpus_text(online)}", WARN, fix)


def _coverage_check(name: str, what: str, cpus: list[int] | None, probe: Probe) -> Check:
    fix = ISOLATE_FIX
    if not probe.set_apart():
        return Check(name, f"{what} not useful: no CPUs set apart for benchmarks", WARN, fix)
    wanted = probe.benchmark_cpus()
    if not cpus:
        return Check(name, f"{what} not set", WARN, fix)
    missing = sorted(set(wanted) - set(cpus))
    if missing:
        return Check(
            name, f"{what}={_cpus_text(cpus)}; misses CPU {_cpus_text(missing)}", WARN, fix
        )
    return Check(name, f"{what}={_cpus_text(cpus)}", OK, fix)


def check_rcu_nocbs(probe: Probe) -> Check:
    cmdline = system.kernel_cmdline(probe.proc_root)
    cpus = system.cmdline_cpus(cmdline, "rcu_nocbs")
    return _coverage_check("rcu_nocbs", "rcu_nocbs", cpus, probe)


def check_nohz_full(probe: Probe) -> Check:
    cpus = system.nohz_full_cpus(probe.sys_root) or system.cmdline_cpus(
        system.kernel_cmdline(probe.proc_root), "nohz_full"
    )
    result = _coverage_check("nohz_full", "nohz_full", cpus, probe)
    if cpus and system.scaling_driver(probe.sys_root) == "intel_pstate":
        # intel_pstate samples the load on the tick: without a tick it misjudges frequency.
        return Check(
            result.name,
            f"{result.state}; intel_pstate is incompatible with nohz_full",
            WARN,
            result.fix,
        )
    return result


# --- interrupts ------------------------------------------------------------------


def check_irq_affinity(probe: Probe) -> Check:
    name, fix = "IRQ affinity", f"{ISOLATE_FIX} (irqaffinity=); perf_tuning_irqbalance: true"
    irq_dir = probe.proc_root / "irq"
    if not irq_dir.is_dir():
        return Check(name, "not available here: no /proc/irq", UNAVAILABLE, fix)
    if not probe.set_apart():
        return Check(name, "IRQs may run on every CPU: no CPUs set apart for benchmarks", WARN, fix)
    wanted = set(probe.benchmark_cpus())
    default = system.parse_cpu_mask(system.read_line(irq_dir / "default_smp_affinity") or "")
    on_bench: list[int] = []
    for entry in irq_dir.iterdir():
        if not entry.name.isdigit():
            continue
        mask = system.read_line(entry / "smp_affinity")
        if mask and wanted & set(system.parse_cpu_mask(mask)):
            on_bench.append(int(entry.name))
    parts = [f"default affinity CPU {_cpus_text(default)}"]
    if on_bench:
        shown = ", ".join(str(i) for i in sorted(on_bench)[:8])
        more = "" if len(on_bench) <= 8 else f" and {len(on_bench) - 8} more"
        parts.append(f"IRQ {shown}{more} may run on benchmark CPUs")
        return Check(name, "; ".join(parts), WARN, fix)
    if wanted & set(default):
        parts.append("new IRQs may land on benchmark CPUs")
        return Check(name, "; ".join(parts), WARN, fix)
    parts.append("no IRQ on benchmark CPUs")
    return Check(name, "; ".join(parts), OK, fix)


def check_irqbalance(probe: Probe) -> Check:
    name, fix = "irqbalance", "perf_tuning_irqbalance: true"
    pids = [p for p, comm in _processes(probe.proc_root) if comm == "irqbalance"]
    if not pids:
        return Check(name, "not running", OK, fix)
    environ = system.read_text(probe.proc_root / str(pids[0]) / "environ") or ""
    banned: list[int] = []
    for item in environ.split("\0"):
        key, _, value = item.partition("=")
        if key == "IRQBALANCE_BANNED_CPULIST":
            banned = kernel_cpu_list(value)
        elif key == "IRQBALANCE_BANNED_CPUS" and not banned:
            banned = system.parse_cpu_mask(value)
    if not probe.set_apart():
        return Check(name, "running; it moves IRQs onto every CPU", WARN, fix)
    missing = sorted(set(probe.benchmark_cpus()) - set(banned))
    if missing:
        return Check(
            name, f"running; may move IRQs onto benchmark CPU {_cpus_text(missing)}", WARN, fix
        )
    return Check(name, f"running with benchmark CPUs {_cpus_text(banned)} banned", OK, fix)


# --- kernel knobs ----------------------------------------------------------------


def check_aslr(probe: Probe) -> Check:
    name, fix = "ASLR", "perf_tuning_sysctl: {kernel.randomize_va_space: 2}"
    value = system.read_line(probe.proc_root / "sys" / "kernel" / "randomize_va_space")
    labels = {"0": "disabled", "1": "conservative", "2": "full randomization"}
    if value not in labels:
        return Check(name, "not available here: no randomize_va_space", UNAVAILABLE, fix)
    # As pyperf advises: full randomization, so that each worker process samples
    # another memory layout and the mean over processes does not hang on one.
    return Check(name, f"{value} ({labels[value]})", OK if value == "2" else WARN, fix)


def check_perf_sample_rate(probe: Probe) -> Check:
    name, fix = "perf sample rate", "perf_tuning_sysctl: {kernel.perf_event_max_sample_rate: 1}"
    value = system.read_line(probe.proc_root / "sys" / "kernel" / "perf_event_max_sample_rate")
    if not value or not value.isdigit():
        return Check(name, "not available here: no perf_event_max_sample_rate", UNAVAILABLE, fix)
    # The kernel's profiler interrupts at this rate when perf is in use.
    return Check(name, f"{value} per second", OK if int(value) <= 1 else WARN, fix)


def check_nmi_watchdog(probe: Probe) -> Check:
    name, fix = "NMI watchdog", "perf_tuning_sysctl: {kernel.nmi_watchdog: 0}"
    value = system.read_line(probe.proc_root / "sys" / "kernel" / "nmi_watchdog")
    if value not in {"0", "1"}:
        return Check(name, "not available here: no nmi_watchdog", UNAVAILABLE, fix)
    # When on, it interrupts every CPU periodically, benchmark CPUs included.
    return Check(name, "on" if value == "1" else "off", WARN if value == "1" else OK, fix)


def check_numa_balancing(probe: Probe) -> Check:
    name, fix = "NUMA balancing", "perf_tuning_sysctl: {kernel.numa_balancing: 0}"
    value = system.read_line(probe.proc_root / "sys" / "kernel" / "numa_balancing")
    if value is None or not value.isdigit():
        return Check(name, "not available here: no numa_balancing", UNAVAILABLE, fix)
    nodes = kernel_cpu_list(
        system.read_line(probe.sys_root / "devices" / "system" / "node" / "online") or "0"
    )
    # With one node there is nowhere to migrate to; with several, pages move mid-run.
    on = value != "0"
    verdict = WARN if on and len(nodes) > 1 else OK
    return Check(name, f"{'on' if on else 'off'} ({len(nodes) or 1} NUMA node(s))", verdict, fix)


def check_thp(probe: Probe) -> Check:
    name, fix = "Huge pages (THP)", "perf_tuning_transparent_hugepages: never"
    text = system.read_line(probe.sys_root / "kernel" / "mm" / "transparent_hugepage" / "enabled")
    if not text:
        return Check(name, "not available here: no transparent_hugepage", UNAVAILABLE, fix)
    chosen = next((w[1:-1] for w in text.split() if w.startswith("[")), text)
    # "always" lets khugepaged compact memory in the background, mid-benchmark.
    return Check(name, chosen, WARN if chosen == "always" else OK, fix)


def check_swap(probe: Probe) -> Check:
    name, fix = "Swap", f"perf_tuning_sysctl: {{vm.swappiness: {SWAPPINESS_MAX}}}"
    meminfo = _meminfo(probe.proc_root)
    total = meminfo.get("SwapTotal")
    if total is None:
        return Check(name, "not available here: no /proc/meminfo", UNAVAILABLE, fix)
    swappiness = system.read_line(probe.proc_root / "sys" / "vm" / "swappiness") or "?"
    if total == 0:
        return Check(name, f"no swap (swappiness {swappiness})", OK, fix)
    used = total - meminfo.get("SwapFree", total)
    state = f"{total // 1024} MiB, {used // 1024} MiB used, swappiness {swappiness}"
    if used > 0 or not swappiness.isdigit() or int(swappiness) > SWAPPINESS_MAX:
        return Check(name, state, WARN, fix)
    return Check(name, state, OK, fix)


def check_power(probe: Probe) -> Check:
    name, fix = "Power supply", "plug in the power cable"
    supplies = probe.sys_root / "class" / "power_supply"
    mains = []
    if supplies.is_dir():
        for supply in supplies.iterdir():
            if system.read_line(supply / "type") == "Mains":
                mains.append(system.read_line(supply / "online"))
    if not mains:
        return Check(name, "not available here: no mains power supply reported", UNAVAILABLE, fix)
    if "1" in mains:
        return Check(name, "on mains power", OK, fix)
    # On battery, firmware lowers clocks to save power.
    return Check(name, "on battery", FAIL, fix)


# --- virtualization and measured noise ------------------------------------------

# DMI vendor and product words of hypervisors and clouds -> the name systemd-detect-virt uses.
_DMI_HYPERVISORS = (
    ("qemu", "qemu"),
    ("kvm", "kvm"),
    ("vmware", "vmware"),
    ("virtualbox", "oracle"),
    ("innotek", "oracle"),
    ("xen", "xen"),
    ("virtual machine", "microsoft"),  # Hyper-V: "Microsoft Corporation" / "Virtual Machine"
    ("amazon ec2", "amazon"),
    ("google compute engine", "google"),
    ("bochs", "bochs"),
    ("parallels", "parallels"),
    ("openstack", "kvm"),
    ("bhyve", "bhyve"),
)
# What systemd-detect-virt prints for a container (it names the container first).
_CONTAINERS = frozenset(
    {"docker", "podman", "lxc", "lxc-libvirt", "systemd-nspawn", "openvz", "rkt", "wsl", "proot"}
)
VIRTUAL_FIX = "a dedicated bare-metal runner; or `perfagent ab`, or --metric instructions"


@dataclass(frozen=True)
class Virtualization:
    """Whether this machine is a hypervisor's guest (or a container), and the evidence."""

    hypervisor: str | None  # kvm, vmware, ... ("unknown" from the cpuinfo flag alone)
    container: str | None  # docker, lxc, ... (systemd-detect-virt)
    evidence: tuple[str, ...]

    @property
    def virtual(self) -> bool:
        return self.hypervisor is not None


def _detect_virt(command: tuple[str, ...]) -> str | None:
    """systemd-detect-virt's answer ("kvm", "docker", "none"); None when it cannot run."""
    if not command:
        return None
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if lines else None


def virtualization(probe: Probe) -> Virtualization:
    """The cpuinfo hypervisor flag, DMI vendor and product, and systemd-detect-virt."""
    evidence: list[str] = []
    hypervisor: str | None = None
    for line in (system.read_text(probe.proc_root / "cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            if "hypervisor" in value.split():
                evidence.append("cpuinfo: hypervisor flag")
                hypervisor = "unknown"
            break
    dmi = probe.sys_root / "class" / "dmi" / "id"
    for field_name in ("sys_vendor", "product_name"):
        dmi_value = system.read_line(dmi / field_name)
        if not dmi_value:
            continue
        for word, kind in _DMI_HYPERVISORS:
            if word in dmi_value.lower():
                evidence.append(f"DMI {field_name}: {dmi_value}")
                if hypervisor in (None, "unknown"):
                    hypervisor = kind
                break
    container: str | None = None
    answer = _detect_virt(probe.detect_virt_command)
    if answer and answer != "none":
        evidence.append(f"systemd-detect-virt: {answer}")
        if answer in _CONTAINERS:
            container = answer
        elif hypervisor in (None, "unknown"):
            hypervisor = answer
    return Virtualization(hypervisor, container, tuple(evidence))


def check_virtualization(probe: Probe) -> Check:
    name = "Virtualization"
    found = virtualization(probe)
    if not found.virtual and found.container is None:
        return Check(
            name, "bare metal: no hypervisor flag, DMI or systemd-detect-virt sign", OK, VIRTUAL_FIX
        )
    parts = []
    if found.virtual:
        kind = "" if found.hypervisor == "unknown" else f" ({found.hypervisor})"
        parts.append(f"a virtual machine{kind}")
    if found.container:
        parts.append(f"in a container ({found.container})")
    # A hypervisor's other guests share the host's cores, caches and memory bandwidth,
    # out of sight of every other check here: only measured noise tells what a time
    # check can see (the time-metric check below).
    state = f"{' '.join(parts)}: {'; '.join(found.evidence)}"
    return Check(name, state, WARN if found.virtual else OK, VIRTUAL_FIX)


def tuning_unreadable(probe: Probe) -> bool:
    """No cpufreq for the benchmark CPUs: governor, boost and clock cannot be read."""
    return not system.governors(probe.sys_root, probe.benchmark_cpus())


def check_time_resolution(probe: Probe) -> Check:
    """Can a time check on this machine see the threshold? Measured by `--measure`."""
    name, fix = "Time metric resolution", "`perfagent doctor --measure`; " + VIRTUAL_FIX
    noise = probe.noise
    reasons = []
    if virtualization(probe).virtual:
        reasons.append("a virtual machine")
    if tuning_unreadable(probe):
        reasons.append("CPU tuning unreadable (no cpufreq)")
    if noise is None:
        if reasons:
            # Unknown tuning and a hypervisor's neighbours: without measured noise there
            # is no ground for trusting a wall-clock verdict.
            return Check(
                name,
                f"not measured on {' and '.join(reasons)}: run `perfagent doctor --measure` "
                "for the change a time check can detect here",
                FAIL,
                fix,
            )
        return Check(
            name, "not measured (`perfagent doctor --measure` measures it)", UNAVAILABLE, fix
        )
    check, ab = noise.check, noise.ab
    state = (
        f"{len(noise.process_means)} probe processes spread {noise.spread * 100:.1f}%: a check "
        f"can detect {_percent(check.detectable)}, ab {_percent(ab.detectable)} "
        f"(threshold {probe.threshold:g}%; a short probe misses run-to-run drift: lower bounds)"
    )
    if check.sees_threshold:
        return Check(name, state, OK, fix)
    if ab.sees_threshold:
        return Check(name, state + "; use `perfagent ab`", WARN, fix)
    return Check(name, state, FAIL if reasons else WARN, fix)


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value == value and value != float("inf") else "no change"


# --- load ------------------------------------------------------------------------


def _cpu_times(proc_root: Path) -> dict[int, list[int]]:
    times: dict[int, list[int]] = {}
    for line in (system.read_text(proc_root / "stat") or "").splitlines():
        head, *rest = line.split()
        if head.startswith("cpu") and head[3:].isdigit():
            times[int(head[3:])] = [int(x) for x in rest[:8]]
    return times


def cpu_usage(probe: Probe) -> tuple[float, float] | None:
    """(busy share, steal share) of the benchmark CPUs over the sample; None if unknown."""
    first = _cpu_times(probe.proc_root)
    if not first:
        return None
    if probe.sample_seconds > 0:
        time.sleep(probe.sample_seconds)
    second = _cpu_times(probe.proc_root)
    total = busy = steal = 0
    for cpu in probe.benchmark_cpus():
        if cpu not in first or cpu not in second:
            continue
        delta = [b - a for a, b in zip(first[cpu], second[cpu], strict=False)]
        # user nice system idle iowait irq softirq steal
        idle = delta[3] + (delta[4] if len(delta) > 4 else 0)
        stolen = delta[7] if len(delta) > 7 else 0
        total += sum(delta)
        busy += sum(delta) - idle
        steal += stolen
    if total <= 0:
        return (0.0, 0.0)
    return (busy / total, steal / total)


def check_load(probe: Probe) -> Check:
    name, fix = (
        "Load",
        HOUSEKEEPING_FIX,
    )
    loadavg = (system.read_line(probe.proc_root / "loadavg") or "").split()
    usage = cpu_usage(probe)
    if usage is None:
        return Check(name, "not available here: no /proc/stat", UNAVAILABLE, fix)
    busy, steal = usage
    cpus = _cpus_text(probe.benchmark_cpus())
    parts = [f"CPU {cpus} {busy:.0%} busy over {probe.sample_seconds:g} s"]
    if steal > 0:
        parts.append(f"{steal:.0%} stolen by the hypervisor")
    if loadavg:
        parts.append(f"load average {loadavg[0]} on {len(probe.all_cpus())} CPUs")
    state = "; ".join(parts)
    if busy > BUSY_FAIL:
        return Check(name, state, FAIL, fix)
    if busy > BUSY_WARN or steal > STEAL_WARN:
        return Check(name, state, WARN, fix)
    return Check(name, state, OK, fix)


def _processes(proc_root: Path) -> list[tuple[int, str]]:
    found = []
    try:
        entries = list(proc_root.iterdir())
    except OSError:
        return []
    for entry in entries:
        if entry.name.isdigit():
            comm = system.read_line(entry / "comm")
            if comm is not None:
                found.append((int(entry.name), comm))
    return found


def foreign_processes(probe: Probe) -> list[tuple[int, str]]:
    """User processes running (or, on isolated CPUs, placed) on the benchmark CPUs."""
    wanted = set(probe.benchmark_cpus())
    isolated = set(system.isolated_cpus(probe.sys_root))
    found = []
    for pid, comm in _processes(probe.proc_root):
        if pid in probe.own_pids:
            continue
        stat = system.read_line(probe.proc_root / str(pid) / "stat")
        if not stat or ")" not in stat:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if len(fields) < 37:
            continue
        state, flags, last_cpu = fields[0], int(fields[6]), int(fields[36])
        if flags & PF_KTHREAD or last_cpu not in wanted:
            continue
        # On isolated CPUs no user process belongs there at all; elsewhere only the
        # running ones compete with a benchmark.
        if state == "R" or last_cpu in isolated:
            found.append((pid, comm))
    return sorted(found)


def check_foreign_processes(probe: Probe) -> Check:
    name, fix = (
        "Other processes",
        HOUSEKEEPING_FIX,
    )
    found = foreign_processes(probe)
    if not found:
        return Check(name, "none running", OK, fix)
    isolated = set(system.isolated_cpus(probe.sys_root))

    def label(pid: int, comm: str) -> str:
        return f"{comm}[{pid}]" + (
            " (an ancestor of this process)" if pid in probe.ancestor_pids else ""
        )

    shown = ", ".join(label(pid, comm) for pid, comm in found[:6])
    more = "" if len(found) <= 6 else f" and {len(found) - 6} more"
    placed = [pid for pid, _ in found if _last_cpu(probe, pid) in isolated]
    if placed:
        # Nothing but a benchmark worker belongs on an isolated CPU: with isolcpus there
        # is no load balancing, so whatever sits there shares the worker's CPU.
        return Check(name, f"{shown}{more}; on an isolated benchmark CPU", FAIL, PLACEMENT_FIX)
    return Check(name, f"{shown}{more}", WARN, fix)


def _last_cpu(probe: Probe, pid: int) -> int | None:
    stat = system.read_line(probe.proc_root / str(pid) / "stat")
    if not stat or ")" not in stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[36]) if len(fields) > 36 else None


def _meminfo(proc_root: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in (system.read_text(proc_root / "meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0])
    return values


def own_pids() -> frozenset[int]:
    """This process: the only one that is not competition (it is the one measuring)."""
    return frozenset({os.getpid()})


def ancestor_pids(proc_root: Path = PROC_ROOT) -> frozenset[int]:
    """This process's ancestors (the shell, the job step, the CI runner), to name them.

    They are not exempt: a runner's listener or a job's shell on a benchmark CPU takes
    time from the worker there like any other process.
    """
    pids: set[int] = set()
    pid = os.getppid()
    for _ in range(64):
        if pid <= 1 or pid in pids:
            break
        pids.add(pid)
        stat = system.read_line(proc_root / str(pid) / "stat")
        if not stat or ")" not in stat:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return frozenset(pids)


CHECKS: tuple[tuple[str, CheckFunction], ...] = (
    ("CPU governor", check_governor),
    ("Turbo/boost", check_boost),
    ("Minimum frequency", check_min_frequency),
    ("Isolated CPUs", check_isolated),
    ("rcu_nocbs", check_rcu_nocbs),
    ("nohz_full", check_nohz_full),
    ("IRQ affinity", check_irq_affinity),
    ("irqbalance", check_irqbalance),
    ("ASLR", check_aslr),
    ("perf sample rate", check_perf_sample_rate),
    ("Power supply", check_power),
    ("Load", check_load),
    ("Other processes", check_foreign_processes),
    ("NMI watchdog", check_nmi_watchdog),
    ("NUMA balancing", check_numa_balancing),
    ("Swap", check_swap),
    ("Huge pages (THP)", check_thp),
    ("Virtualization", check_virtualization),
    ("Time metric resolution", check_time_resolution),
)
