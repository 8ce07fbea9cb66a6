"""The doctor's checks on fake /proc and /sys trees: state, verdict, fix, fitness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from perfagent.machine import doctor
from perfagent.machine.doctor import FAIL, OK, UNAVAILABLE, VERDICTS, WARN, Check, Probe, run_checks
from perfagent.machine.noise import NoiseProbe


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


@dataclass
class Host:
    """A fake 4-CPU Linux host; the defaults are a well-tuned benchmark machine
    whose CPUs 2-3 are set apart for benchmarks."""

    cpus: int = 4
    isolated: str = "2-3"
    cmdline: str = "BOOT_IMAGE=/vmlinuz isolcpus=2-3 rcu_nocbs=2-3 nohz_full=2-3 quiet"
    nohz_full: str | None = "2-3"
    governor: str | None = "performance"
    driver: str = "acpi-cpufreq"
    min_freq: str = "3000000"
    max_freq: str = "3000000"
    boost: tuple[str, str] | None = ("cpufreq/boost", "0")
    default_irq_mask: str = "3"
    irq_masks: dict[int, str] = field(default_factory=lambda: {0: "1", 1: "3", 24: "2"})
    aslr: str = "2"
    perf_rate: str = "1"
    power: tuple[str, str] | None = ("Mains", "1")
    thp: str = "always [madvise] never"
    swap_kib: tuple[int, int] = (0, 0)  # total, free
    swappiness: str = "10"
    nmi_watchdog: str = "0"
    numa_balancing: str = "1"
    numa_nodes: str = "0"
    processes: list[tuple[int, str, str, int, int]] = field(default_factory=list)
    irqbalance_env: str | None = None
    cpuinfo_flags: str = "fpu sse2 avx2"
    dmi: tuple[str, str] | None = None  # sys_vendor, product_name
    epp: str | None = None  # energy_performance_preference of every CPU
    policy_boost: str | None = None  # cpuN/cpufreq/boost of every CPU

    def write(self, root: Path) -> Probe:
        sys_root, proc_root = root / "sys", root / "proc"
        cpu = sys_root / "devices/system/cpu"
        _write(cpu / "online", f"0-{self.cpus - 1}")
        _write(cpu / "isolated", self.isolated)
        if self.nohz_full is not None:
            _write(cpu / "nohz_full", self.nohz_full)
        for n in range(self.cpus):
            if self.governor:
                freq = cpu / f"cpu{n}/cpufreq"
                _write(freq / "scaling_governor", self.governor)
                _write(freq / "scaling_driver", self.driver)
                _write(freq / "scaling_min_freq", self.min_freq)
                _write(freq / "scaling_max_freq", self.max_freq)
        if self.boost:
            _write(cpu / self.boost[0], self.boost[1])
        for n in range(self.cpus):
            if self.epp is not None:
                _write(cpu / f"cpu{n}/cpufreq/energy_performance_preference", self.epp)
            if self.policy_boost is not None:
                _write(cpu / f"cpu{n}/cpufreq/boost", self.policy_boost)
        _write(proc_root / "cpuinfo", f"processor\t: 0\nflags\t\t: {self.cpuinfo_flags}\n")
        if self.dmi:
            _write(sys_root / "class/dmi/id/sys_vendor", self.dmi[0])
            _write(sys_root / "class/dmi/id/product_name", self.dmi[1])
        _write(proc_root / "cmdline", self.cmdline)
        _write(proc_root / "irq/default_smp_affinity", self.default_irq_mask)
        for irq, mask in self.irq_masks.items():
            _write(proc_root / f"irq/{irq}/smp_affinity", mask)
        _write(proc_root / "sys/kernel/randomize_va_space", self.aslr)
        _write(proc_root / "sys/kernel/perf_event_max_sample_rate", self.perf_rate)
        _write(proc_root / "sys/vm/swappiness", self.swappiness)
        _write(proc_root / "sys/kernel/nmi_watchdog", self.nmi_watchdog)
        _write(proc_root / "sys/kernel/numa_balancing", self.numa_balancing)
        _write(sys_root / "devices/system/node/online", self.numa_nodes)
        if self.power:
            _write(sys_root / "class/power_supply/AC/type", self.power[0])
            _write(sys_root / "class/power_supply/AC/online", self.power[1])
        _write(sys_root / "kernel/mm/transparent_hugepage/enabled", self.thp)
        total, free = self.swap_kib
        _write(
            proc_root / "meminfo",
            f"MemTotal: 16000000 kB\nSwapTotal: {total} kB\nSwapFree: {free} kB",
        )
        _write(proc_root / "loadavg", "0.05 0.10 0.10 1/200 4242")
        lines = ["cpu  40 0 40 4000 0 0 0 0"]
        lines += [f"cpu{n} 10 0 10 1000 0 0 0 0" for n in range(self.cpus)]
        _write(proc_root / "stat", "\n".join(lines))
        for pid, comm, state, flags, last_cpu in self.processes:
            _write(proc_root / f"{pid}/comm", comm)
            fields = [state, "1", str(pid), "0", "0", "-1", str(flags)] + ["0"] * 29
            fields.append(str(last_cpu))
            _write(proc_root / f"{pid}/stat", f"{pid} ({comm}) " + " ".join(fields + ["0"] * 3))
            if comm == "irqbalance" and self.irqbalance_env is not None:
                (proc_root / f"{pid}/environ").write_text(self.irqbalance_env)
        return Probe(
            sys_root=sys_root,
            proc_root=proc_root,
            cpus=[2, 3] if self.isolated else None,
            sample_seconds=0,
            own_pids=frozenset({1}),
        )


def checks_of(tmp_path: Path, host: Host) -> dict[str, Check]:
    report = run_checks(host.write(tmp_path))
    return {c.name: c for c in report.checks}


def test_a_tuned_machine_is_fit(tmp_path: Path) -> None:
    report = run_checks(Host().write(tmp_path))
    not_ok = [c for c in report.checks if c.verdict != OK]
    # Bare metal with readable tuning: the noise probe is optional (--measure).
    assert [(c.name, c.verdict) for c in not_ok] == [("Time metric resolution", UNAVAILABLE)]
    assert report.fit
    assert report.to_dict()["fit"] is True


def test_every_check_has_a_name_state_verdict_and_fix(tmp_path: Path) -> None:
    report = run_checks(Host().write(tmp_path))
    assert [c.name for c in report.checks] == [name for name, _ in doctor.CHECKS]
    for check in report.to_dict()["checks"]:
        assert set(check) == {"name", "state", "verdict", "fix"}
        assert check["verdict"] in VERDICTS
        assert check["state"]
        assert check["fix"]
        if check["name"] not in {"Power supply", "Virtualization", "Time metric resolution"}:
            assert check["fix"].startswith("perf_tuning_")


def test_the_fixes_name_the_perf_tuning_variables(tmp_path: Path) -> None:
    # The variables of ansible/roles/perf_tuning/defaults/main.yml.
    fixes = {c.name: c.fix for c in checks_of(tmp_path, Host()).values()}
    assert fixes["CPU governor"] == "perf_tuning_governor: performance"
    assert fixes["Turbo/boost"] == "perf_tuning_disable_boost: true"
    assert fixes["Minimum frequency"] == "perf_tuning_min_freq_to_max: true"
    assert fixes["Isolated CPUs"] == "perf_tuning_isolate_cpus: true, perf_tuning_benchmark_cpus"
    assert fixes["irqbalance"] == "perf_tuning_irqbalance: true"
    assert fixes["Huge pages (THP)"] == "perf_tuning_transparent_hugepages: never"
    assert fixes["Swap"] == "perf_tuning_sysctl: {vm.swappiness: 10}"
    assert fixes["perf sample rate"] == (
        "perf_tuning_sysctl: {kernel.perf_event_max_sample_rate: 1}"
    )
    assert fixes["NMI watchdog"] == "perf_tuning_sysctl: {kernel.nmi_watchdog: 0}"
    assert fixes["Load"].startswith("perf_tuning_benchmark_cpus")


def test_vm_without_cpufreq_is_unfit_for_time_without_noise_figures(tmp_path: Path) -> None:
    report = run_checks(Host(governor=None, boost=None, power=None).write(tmp_path))
    checks = {c.name: c for c in report.checks}
    for name in ("CPU governor", "Turbo/boost", "Minimum frequency", "Power supply"):
        assert checks[name].verdict == UNAVAILABLE
        assert checks[name].state.startswith("not available here")
    # Unreadable tuning is not a failure by itself, but nothing vouches for the clock:
    # a time verdict needs measured noise first.
    resolution = checks["Time metric resolution"]
    assert resolution.verdict == FAIL
    assert "CPU tuning unreadable" in resolution.state
    assert "perfagent doctor --measure" in resolution.state
    assert not report.fit


def test_powersave_governor_is_unfit(tmp_path: Path) -> None:
    report = run_checks(Host(governor="powersave").write(tmp_path))
    governor = next(c for c in report.checks if c.name == "CPU governor")
    assert governor.verdict == FAIL
    assert "powersave" in governor.state
    assert not report.fit


@pytest.mark.parametrize(
    "boost",
    [("cpufreq/boost", "1"), ("intel_pstate/no_turbo", "0"), ("cpufreq/policy2/boost", "1")],
)
def test_boost_on_is_unfit_on_amd_and_intel(tmp_path: Path, boost: tuple[str, str]) -> None:
    check = checks_of(tmp_path, Host(boost=boost))["Turbo/boost"]
    assert check.verdict == FAIL
    assert check.state.startswith("on")


def test_boost_off_through_intel_pstate(tmp_path: Path) -> None:
    check = checks_of(tmp_path, Host(boost=("intel_pstate/no_turbo", "1")))["Turbo/boost"]
    assert check.verdict == OK


def test_min_frequency_below_max_warns(tmp_path: Path) -> None:
    assert checks_of(tmp_path, Host(min_freq="800000"))["Minimum frequency"].verdict == WARN


def test_no_isolated_cpus_warns_and_isolation_checks_say_why(tmp_path: Path) -> None:
    host = Host(isolated="", cmdline="quiet", nohz_full=None)
    checks = checks_of(tmp_path, host)
    assert checks["Isolated CPUs"].verdict == WARN
    assert "no CPU isolated" in checks["Isolated CPUs"].state
    for name in ("rcu_nocbs", "nohz_full", "IRQ affinity"):
        assert checks[name].verdict == WARN
        assert "no CPUs set apart" in checks[name].state


def test_rcu_nocbs_missing_a_benchmark_cpu_warns(tmp_path: Path) -> None:
    host = Host(cmdline="isolcpus=2-3 rcu_nocbs=3 nohz_full=2-3")
    check = checks_of(tmp_path, host)["rcu_nocbs"]
    assert check.verdict == WARN
    assert "misses CPU 2" in check.state


def test_isolcpus_flags_are_understood(tmp_path: Path) -> None:
    host = Host(cmdline="isolcpus=nohz,domain,2-3 rcu_nocbs=2,3 nohz_full=2-3")
    assert checks_of(tmp_path, host)["rcu_nocbs"].verdict == OK


def test_nohz_full_with_intel_pstate_warns(tmp_path: Path) -> None:
    check = checks_of(tmp_path, Host(driver="intel_pstate"))["nohz_full"]
    assert check.verdict == WARN
    assert "intel_pstate" in check.state


def test_irq_on_a_benchmark_cpu_warns(tmp_path: Path) -> None:
    check = checks_of(tmp_path, Host(irq_masks={0: "1", 31: "c"}))["IRQ affinity"]
    assert check.verdict == WARN
    assert "IRQ 31" in check.state


def test_default_irq_affinity_on_benchmark_cpus_warns(tmp_path: Path) -> None:
    assert checks_of(tmp_path, Host(default_irq_mask="f"))["IRQ affinity"].verdict == WARN


def test_irqbalance_without_banned_cpus_warns(tmp_path: Path) -> None:
    host = Host(processes=[(700, "irqbalance", "S", 0, 0)], irqbalance_env="PATH=/usr/bin\0")
    assert checks_of(tmp_path, host)["irqbalance"].verdict == WARN


def test_irqbalance_with_benchmark_cpus_banned_is_ok(tmp_path: Path) -> None:
    host = Host(
        processes=[(700, "irqbalance", "S", 0, 0)],
        irqbalance_env="PATH=/usr/bin\0IRQBALANCE_BANNED_CPULIST=2-3\0",
    )
    check = checks_of(tmp_path, host)["irqbalance"]
    assert check.verdict == OK
    assert "2-3" in check.state


@pytest.mark.parametrize(
    ("host", "name", "verdict"),
    [
        (Host(aslr="0"), "ASLR", WARN),
        (Host(perf_rate="100000"), "perf sample rate", WARN),
        (Host(thp="[always] madvise never"), "Huge pages (THP)", WARN),
        (Host(thp="always madvise [never]"), "Huge pages (THP)", OK),
        (Host(swap_kib=(2_000_000, 1_000_000)), "Swap", WARN),
        (Host(swap_kib=(2_000_000, 2_000_000), swappiness="60"), "Swap", WARN),
        (Host(swap_kib=(2_000_000, 2_000_000), swappiness="1"), "Swap", OK),
        (Host(power=("Mains", "0")), "Power supply", FAIL),
        (Host(nmi_watchdog="1"), "NMI watchdog", WARN),
        # Balancing on a single node moves nothing; across two it moves pages mid-run.
        (Host(numa_balancing="1", numa_nodes="0-1"), "NUMA balancing", WARN),
        (Host(numa_balancing="0", numa_nodes="0-1"), "NUMA balancing", OK),
    ],
)
def test_kernel_knobs(tmp_path: Path, host: Host, name: str, verdict: str) -> None:
    assert checks_of(tmp_path, host)[name].verdict == verdict


PF_KTHREAD = 0x00200000


def test_foreign_processes_on_benchmark_cpus(tmp_path: Path) -> None:
    host = Host(
        processes=[
            (1, "systemd", "S", 0, 2),  # the probe's own process: never foreign
            (500, "make", "R", 0, 3),  # running on a benchmark CPU
            (501, "sshd", "S", 0, 0),  # sleeping on a housekeeping CPU
            (502, "cron", "S", 0, 2),  # placed on an isolated CPU at all
            (503, "kworker/2:1", "R", PF_KTHREAD, 2),  # kernel threads belong to the kernel
        ]
    )
    check = checks_of(tmp_path, host)["Other processes"]
    # Something other than a benchmark worker sits on an isolated CPU: no load balancing
    # there, so it shares the worker's CPU.
    assert check.verdict == FAIL
    assert "isolated benchmark CPU" in check.state
    assert "housekeeping CPUs" in check.fix
    assert "make[500]" in check.state
    assert "cron[502]" in check.state
    assert "sshd" not in check.state
    assert "kworker" not in check.state
    assert "systemd" not in check.state


def test_running_processes_on_shared_benchmark_cpus_warn(tmp_path: Path) -> None:
    host = Host(isolated="", cmdline="quiet", nohz_full=None, processes=[(500, "make", "R", 0, 3)])
    check = checks_of(tmp_path, host)["Other processes"]
    assert check.verdict == WARN
    assert "make[500]" in check.state


def test_the_agents_own_ancestors_are_flagged_too(tmp_path: Path) -> None:
    # The job's shell (600) and the runner's listener (601) on an isolated CPU: issue 10.
    host = Host(processes=[(600, "bash", "S", 0, 2), (601, "Runner.Listener", "S", 0, 3)])
    probe = replace(host.write(tmp_path), ancestor_pids=frozenset({600, 601}))
    check = {c.name: c for c in run_checks(probe).checks}["Other processes"]
    assert check.verdict == FAIL
    assert "bash[600] (an ancestor of this process)" in check.state
    assert "Runner.Listener[601] (an ancestor of this process)" in check.state


def test_own_pids_is_this_process_alone_and_ancestors_are_known() -> None:
    assert doctor.own_pids() == frozenset({os.getpid()})
    assert os.getppid() in doctor.ancestor_pids() or os.getppid() <= 1


@pytest.fixture
def busy_cpus(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[int, list[int]]]]:
    """Make the two /proc/stat readings of the load check those pushed onto the list."""
    readings: list[dict[int, list[int]]] = []
    monkeypatch.setattr(doctor, "_cpu_times", lambda _root: readings.pop(0))
    yield readings


@pytest.mark.parametrize(
    ("busy", "steal", "verdict"), [(0, 0, OK), (10, 0, WARN), (0, 10, WARN), (60, 0, FAIL)]
)
def test_load_on_benchmark_cpus(
    tmp_path: Path,
    busy_cpus: list[dict[int, list[int]]],
    busy: int,
    steal: int,
    verdict: str,
) -> None:
    # Per 100 jiffies of CPUs 2 and 3: `busy` user time, `steal` stolen, the rest idle.
    busy_cpus.append({n: [0] * 8 for n in range(4)})
    later = [busy, 0, 0, 100 - busy - steal, 0, 0, 0, steal]
    busy_cpus.append({0: [100, 0, 0, 0, 0, 0, 0, 0], 1: [0] * 8, 2: later, 3: later})
    check = checks_of(tmp_path, Host())["Load"]
    assert check.verdict == verdict
    assert f"{busy}% busy" in check.state


def test_a_check_that_crashes_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_probe: Probe) -> Check:
        raise PermissionError("/proc/irq/0/smp_affinity")

    monkeypatch.setattr(doctor, "CHECKS", (("IRQ affinity", broken),))
    report = run_checks(Host().write(tmp_path))
    assert report.checks == [
        Check(
            "IRQ affinity",
            "could not be read: PermissionError: /proc/irq/0/smp_affinity",
            UNAVAILABLE,
            "",
        )
    ]
    assert report.fit


def test_empty_trees_never_crash(tmp_path: Path) -> None:
    report = run_checks(Probe(sys_root=tmp_path / "sys", proc_root=tmp_path / "proc"))
    for check in report.checks:
        assert check.verdict in VERDICTS
        assert not check.state.startswith("could not be read"), check


def test_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_checks(Probe(sample_seconds=0, own_pids=doctor.own_pids()))
    assert {c.verdict for c in report.checks} <= set(VERDICTS)
    assert report.fit == all(c.verdict != FAIL for c in report.checks)


# --- boost on AMD and Intel (issue 10) ---------------------------------------------


def test_amd_pstate_epp_not_performance_is_boost_still_on(tmp_path: Path) -> None:
    # amd-pstate in active mode before 6.11: no boost switch, the firmware boosts unless
    # the preference is "performance".
    host = Host(driver="amd-pstate-epp", boost=None, epp="balance_performance", cpuinfo_flags="cpb")
    check = checks_of(tmp_path, host)["Turbo/boost"]
    assert check.verdict == FAIL
    assert check.state.startswith("boost could not be disabled")
    assert "balance_performance" in check.state
    assert "amd_pstate=passive" in check.fix


def test_amd_pstate_epp_performance_without_switch_still_boosts(tmp_path: Path) -> None:
    host = Host(driver="amd-pstate-epp", boost=None, epp="performance", cpuinfo_flags="fpu cpb")
    check = checks_of(tmp_path, host)["Turbo/boost"]
    assert check.verdict == FAIL
    assert "AMD Core Performance Boost" in check.state and "no boost switch" in check.state


def test_per_policy_boost_on_for_a_benchmark_cpu_fails(tmp_path: Path) -> None:
    host = Host(driver="amd-pstate", boost=None, policy_boost="1", cpuinfo_flags="cpb")
    check = checks_of(tmp_path, host)["Turbo/boost"]
    assert check.verdict == FAIL
    assert check.state.startswith("on (cpufreq boost of CPU 2-3")


def test_per_policy_boost_off_and_epp_performance_is_ok(tmp_path: Path) -> None:
    host = Host(
        driver="amd-pstate-epp",
        boost=None,
        policy_boost="0",
        epp="performance",
        cpuinfo_flags="cpb",
    )
    check = checks_of(tmp_path, host)["Turbo/boost"]
    assert check.verdict == OK
    assert "energy_performance_preference performance" in check.state


def test_hardware_without_boost_and_without_switch_is_unavailable(tmp_path: Path) -> None:
    check = checks_of(tmp_path, Host(boost=None, cpuinfo_flags="fpu sse2"))["Turbo/boost"]
    assert check.verdict == UNAVAILABLE


def test_intel_no_turbo_still_decides_on_intel(tmp_path: Path) -> None:
    host = Host(driver="intel_pstate", boost=("intel_pstate/no_turbo", "1"), epp="balance_power")
    check = checks_of(tmp_path, host)["Turbo/boost"]
    # EPP on intel_pstate moves the clock below the (turbo-less) maximum: the minimum
    # frequency check covers that; boost itself is off.
    assert check.verdict == OK


# --- virtualization and the time metric's resolution -------------------------------


def _detect_virt(tmp_path: Path, answer: str) -> tuple[str, ...]:
    """A stand-in for systemd-detect-virt: prints its answer as the real one does
    (systemd src/detect-virt/detect-virt.c prints the id, "none" and exit 1 if none)."""
    script = tmp_path / "systemd-detect-virt"
    code = 1 if answer == "none" else 0
    script.write_text(f"#!/bin/sh\necho {answer}\nexit {code}\n")
    script.chmod(0o755)
    return (str(script),)


def test_a_vm_says_so_with_its_evidence(tmp_path: Path) -> None:
    host = Host(
        governor=None,
        boost=None,
        cpuinfo_flags="fpu hypervisor",
        dmi=("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
    )
    probe = replace(host.write(tmp_path), detect_virt_command=_detect_virt(tmp_path, "kvm"))
    checks = {c.name: c for c in run_checks(probe).checks}
    virt = checks["Virtualization"]
    assert virt.verdict == WARN
    assert virt.state.startswith("a virtual machine (qemu)")
    for evidence in (
        "cpuinfo: hypervisor flag",
        "DMI sys_vendor: QEMU",
        "systemd-detect-virt: kvm",
    ):
        assert evidence in virt.state
    resolution = checks["Time metric resolution"]
    assert resolution.verdict == FAIL
    assert "a virtual machine" in resolution.state


def test_a_container_on_a_vm_names_both(tmp_path: Path) -> None:
    host = Host(cpuinfo_flags="fpu hypervisor")
    probe = replace(host.write(tmp_path), detect_virt_command=_detect_virt(tmp_path, "docker"))
    virt = {c.name: c for c in run_checks(probe).checks}["Virtualization"]
    assert virt.state.startswith("a virtual machine in a container (docker)")


def test_bare_metal_is_ok(tmp_path: Path) -> None:
    probe = replace(Host().write(tmp_path), detect_virt_command=_detect_virt(tmp_path, "none"))
    virt = {c.name: c for c in run_checks(probe).checks}["Virtualization"]
    assert virt.verdict == OK
    assert doctor.virtualization(probe).virtual is False


def _noise(tmp_path: Path, spread: float) -> NoiseProbe:
    import numpy as np
    from perfagent.machine import noise

    rng = np.random.default_rng(4)
    means = iter(list(1e-3 * np.exp(rng.normal(0.0, spread, 10))))
    return noise.measure(
        threshold=10.0,
        check_processes=4,
        baseline_runs=3,
        ab_pairs=10,
        run_one=lambda cpu: next(means),
    )


def test_a_measured_vm_is_fit_when_its_noise_lets_a_check_see_the_threshold(tmp_path: Path) -> None:
    host = Host(cpuinfo_flags="hypervisor")
    quiet = replace(host.write(tmp_path), noise=_noise(tmp_path, 0.005))
    checks = {c.name: c for c in run_checks(quiet).checks}
    resolution = checks["Time metric resolution"]
    assert resolution.verdict == OK
    assert "a check can detect" in resolution.state
    assert run_checks(quiet).fit

    noisy = replace(quiet, noise=_noise(tmp_path, 0.3))
    resolution = {c.name: c for c in run_checks(noisy).checks}["Time metric resolution"]
    assert resolution.verdict == FAIL
    assert not run_checks(noisy).fit
