"""The hardware fingerprint: read from fake /proc and /sys trees, stable, and sensitive
to every hardware field but to nothing else."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from perfagent.machine import fingerprint
from perfagent.machine.fingerprint import HARDWARE_FIELDS, collect, differences, package_versions

SOFTWARE = {"os": "test OS", "kernel": "6.1.0", "python": "CPython 3.11.0", "packages": {}}


@dataclass
class Machine:
    """A fake Linux machine, written out as /proc and /sys trees."""

    vendor: str = "GenuineIntel"
    model_name: str = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
    family: str = "6"
    model: str = "85"
    stepping: str = "7"
    cores: int = 4
    threads_per_core: int = 2
    caches: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "index0": ("1 Data", "32K"),
            "index1": ("1 Instruction", "32K"),
            "index2": ("2 Unified", "1024K"),
            "index3": ("3 Unified", "28160K"),
        }
    )
    mem_kib: int = 16 * 1024 * 1024 - 200_000
    numa_nodes: str = "0"
    smt_active: str | None = "1"
    smt_control: str = "on"
    isolated: str = "2-3"
    governor: str | None = "performance"
    boost_file: tuple[str, str] | None = ("cpufreq/boost", "0")
    # Facts that must never reach the fingerprint.
    mhz: str = "2500.000"
    bogomips: str = "5000.00"
    loadavg: str = "0.10 0.20 0.30 1/100 1234"
    hostname: str = "bench-01"
    btime: str = "1700000000"

    @property
    def logical(self) -> int:
        return self.cores * self.threads_per_core

    def write(self, root: Path) -> tuple[Path, Path]:
        sys_root, proc_root = root / "sys", root / "proc"
        cpu = sys_root / "devices/system/cpu"
        blocks = []
        for n in range(self.logical):
            core = n % self.cores
            blocks.append(
                "\n".join(
                    [
                        f"processor\t: {n}",
                        f"vendor_id\t: {self.vendor}",
                        f"cpu family\t: {self.family}",
                        f"model\t\t: {self.model}",
                        f"model name\t: {self.model_name}",
                        f"stepping\t: {self.stepping}",
                        f"cpu MHz\t\t: {self.mhz}",
                        "physical id\t: 0",
                        f"core id\t\t: {core}",
                        f"bogomips\t: {self.bogomips}",
                    ]
                )
            )
            topology = cpu / f"cpu{n}" / "topology"
            _write(topology / "physical_package_id", "0")
            _write(topology / "core_id", str(core))
            for index, (kind, size) in self.caches.items():
                level, cache_type = kind.split()
                _write(cpu / f"cpu{n}/cache/{index}/level", level)
                _write(cpu / f"cpu{n}/cache/{index}/type", cache_type)
                _write(cpu / f"cpu{n}/cache/{index}/size", size)
            if self.governor:
                _write(cpu / f"cpu{n}/cpufreq/scaling_governor", self.governor)
                _write(cpu / f"cpu{n}/cpufreq/scaling_cur_freq", self.mhz)
        _write(proc_root / "cpuinfo", "\n\n".join(blocks) + "\n")
        _write(
            proc_root / "meminfo",
            f"MemTotal:       {self.mem_kib} kB\nMemFree:        1234 kB\n",
        )
        _write(proc_root / "loadavg", self.loadavg)
        _write(proc_root / "stat", f"cpu 1 2 3 4\nbtime {self.btime}\n")
        _write(proc_root / "sys/kernel/hostname", self.hostname)
        _write(cpu / "online", f"0-{self.logical - 1}")
        _write(cpu / "isolated", self.isolated)
        _write(cpu / "smt/control", self.smt_control)
        if self.smt_active is not None:
            _write(cpu / "smt/active", self.smt_active)
        if self.boost_file:
            _write(cpu / self.boost_file[0], self.boost_file[1])
        _write(sys_root / "devices/system/node/online", self.numa_nodes)
        return sys_root, proc_root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + ("" if text.endswith("\n") else "\n"))


def fingerprint_of(tmp_path: Path, machine: Machine, name: str = "m") -> fingerprint.Fingerprint:
    sys_root, proc_root = machine.write(tmp_path / name)
    return collect(sys_root, proc_root, machine="x86_64", software=SOFTWARE)


def test_reads_every_field_from_proc_and_sys(tmp_path: Path) -> None:
    fp = fingerprint_of(tmp_path, Machine())
    assert fp.hardware == {
        "architecture": "x86_64",
        "cpu_vendor": "GenuineIntel",
        "cpu_model_name": "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
        "cpu_family": "6",
        "cpu_model": "85",
        "cpu_stepping": "7",
        "physical_cores": 4,
        "logical_cpus": 8,
        "cache_l1d_kib": 32,
        "cache_l1i_kib": 32,
        "cache_l2_kib": 1024,
        "cache_l3_kib": 28160,
        "memory_gib": 16,
        "numa_nodes": 1,
        "smt": "on",
        "isolated_cpus": "2-3",
        "governor": "performance",
        "boost": "off",
    }
    assert list(fp.hardware) == list(HARDWARE_FIELDS)
    assert re.fullmatch(r"[0-9a-f]{12}", fp.id)
    assert fp.to_dict() == {"id": fp.id, "hardware": fp.hardware, "software": SOFTWARE}


def test_same_machine_same_id(tmp_path: Path) -> None:
    assert (
        fingerprint_of(tmp_path, Machine(), "a").id == fingerprint_of(tmp_path, Machine(), "b").id
    )


HARDWARE_CHANGES = {
    "cpu_vendor": {"vendor": "AuthenticAMD"},
    "cpu_model_name": {"model_name": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"},
    "cpu_family": {"family": "25"},
    "cpu_model": {"model": "106"},
    "cpu_stepping": {"stepping": "6"},
    "physical_cores": {"cores": 8},
    "logical_cpus": {"threads_per_core": 1, "smt_active": "1"},
    "cache_l1d_kib": {
        "caches": {
            "index0": ("1 Data", "48K"),
            "index1": ("1 Instruction", "32K"),
            "index2": ("2 Unified", "1024K"),
            "index3": ("3 Unified", "28160K"),
        }
    },
    "cache_l3_kib": {
        "caches": {
            "index0": ("1 Data", "32K"),
            "index1": ("1 Instruction", "32K"),
            "index2": ("2 Unified", "1024K"),
            "index3": ("3 Unified", "36M"),
        }
    },
    "memory_gib": {"mem_kib": 32 * 1024 * 1024},
    "numa_nodes": {"numa_nodes": "0-1"},
    "smt": {"smt_active": "0", "smt_control": "off"},
    "isolated_cpus": {"isolated": "1-3"},
    "governor": {"governor": "powersave"},
    "boost": {"boost_file": ("cpufreq/boost", "1")},
}


@pytest.mark.parametrize("changed", sorted(HARDWARE_CHANGES))
def test_any_hardware_change_changes_the_id(tmp_path: Path, changed: str) -> None:
    base = fingerprint_of(tmp_path, Machine(), "base")
    other = fingerprint_of(tmp_path, Machine(**HARDWARE_CHANGES[changed]), "other")
    assert other.id != base.id
    assert changed in [name for name, _a, _b in differences(base.hardware, other.hardware)]


def test_architecture_change_changes_the_id(tmp_path: Path) -> None:
    sys_root, proc_root = Machine().write(tmp_path)
    x86 = collect(sys_root, proc_root, machine="x86_64", software=SOFTWARE)
    arm = collect(sys_root, proc_root, machine="aarch64", software=SOFTWARE)
    assert x86.id != arm.id


def test_every_field_is_covered_by_a_change_test() -> None:
    assert set(HARDWARE_CHANGES) | {"architecture", "cache_l1i_kib", "cache_l2_kib"} == set(
        HARDWARE_FIELDS
    )


@pytest.mark.parametrize(
    "noise",
    [
        {"mhz": "3400.123"},
        {"bogomips": "4999.99"},
        {"loadavg": "7.50 6.00 5.00 9/300 999"},
        {"hostname": "another-host"},
        {"btime": "1800000000"},
        # The kernel's reservations move MemTotal by megabytes between boots.
        {"mem_kib": 16 * 1024 * 1024 - 150_000},
    ],
)
def test_volatile_facts_do_not_change_the_id(tmp_path: Path, noise: dict[str, str]) -> None:
    base = fingerprint_of(tmp_path, Machine(), "base")
    other = fingerprint_of(tmp_path, Machine(**noise), "other")
    assert other.id == base.id


def test_no_hostname_boot_time_frequency_bogomips_or_load_in_the_fields(tmp_path: Path) -> None:
    fp = fingerprint_of(tmp_path, Machine())
    text = fingerprint.canonical(fp.hardware)
    for forbidden in ("host", "boot", "mhz", "freq", "bogomips", "load", "bench-01"):
        assert forbidden not in text.lower()


def test_software_is_beside_the_id_not_in_it(tmp_path: Path) -> None:
    sys_root, proc_root = Machine().write(tmp_path)
    a = collect(sys_root, proc_root, machine="x86_64", software={"packages": {"numpy": "1.26"}})
    b = collect(sys_root, proc_root, machine="x86_64", software={"packages": {"numpy": "2.0"}})
    assert a.id == b.id
    assert a.software != b.software


def test_vm_without_cpufreq_or_boost_says_unavailable(tmp_path: Path) -> None:
    fp = fingerprint_of(
        tmp_path, Machine(governor=None, boost_file=None, isolated="", smt_active=None)
    )
    assert fp.hardware["governor"] == "unavailable"
    assert fp.hardware["boost"] == "unavailable"
    assert fp.hardware["isolated_cpus"] == "none"
    # Without smt/active, SMT is judged from threads per core.
    assert fp.hardware["smt"] == "on"


@pytest.mark.parametrize(
    ("boost_file", "expected"),
    [
        (("intel_pstate/no_turbo", "1"), "off"),
        (("intel_pstate/no_turbo", "0"), "on"),
        (("cpufreq/boost", "1"), "on"),  # acpi-cpufreq and AMD
        (("cpufreq/policy0/boost", "1"), "on"),  # per-policy (newer amd-pstate)
    ],
)
def test_boost_on_intel_and_amd(tmp_path: Path, boost_file: tuple[str, str], expected: str) -> None:
    assert fingerprint_of(tmp_path, Machine(boost_file=boost_file)).hardware["boost"] == expected


def test_mixed_governors_are_all_listed(tmp_path: Path) -> None:
    sys_root, proc_root = Machine().write(tmp_path)
    _write(sys_root / "devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave")
    fp = collect(sys_root, proc_root, machine="x86_64", software=SOFTWARE)
    assert fp.hardware["governor"] == "performance,powersave"


def test_arm_cpuinfo(tmp_path: Path) -> None:
    proc_root, sys_root = tmp_path / "proc", tmp_path / "sys"
    block = (
        "processor\t: {n}\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"
        "CPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n"
    )
    _write(proc_root / "cpuinfo", "\n".join(block.format(n=n) for n in range(4)))
    _write(proc_root / "meminfo", "MemTotal: 8000000 kB")
    fp = collect(sys_root, proc_root, machine="aarch64", software=SOFTWARE)
    assert fp.hardware["cpu_vendor"] == "0x41"
    assert fp.hardware["cpu_model"] == "0xd0c"
    assert fp.hardware["cpu_stepping"] == "0x3/1"
    assert fp.hardware["logical_cpus"] == 4
    assert fp.hardware["memory_gib"] == 8
    assert fp.hardware["cpu_model_name"] == "unavailable"


def test_differences_in_field_order() -> None:
    a = {"architecture": "x86_64", "boost": "off", "cpu_vendor": "GenuineIntel", "extra": 1}
    b = {"architecture": "x86_64", "boost": "on", "cpu_vendor": "AuthenticAMD"}
    assert differences(a, b) == [
        ("cpu_vendor", "GenuineIntel", "AuthenticAMD"),
        ("boost", "off", "on"),
        ("extra", 1, None),
    ]
    assert differences(a, dict(a)) == []


def test_package_versions_from_dist_info_names(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "numpy-2.1.0.dist-info").mkdir(parents=True)
    (first / "perfagent.egg-info").mkdir()  # a source checkout: no version in the name
    (second / "numpy-1.26.4.dist-info").mkdir(parents=True)
    (second / "GDAL-3.6.2.dist-info").mkdir()
    (second / "perfagent-0.1.0.dist-info").mkdir()
    found = package_versions(
        ["perfagent", "numpy", "GDAL", "hazelbean"], [str(first), str(second), "/nonexistent"]
    )
    assert found == {"perfagent": "0.1.0", "numpy": "2.1.0", "gdal": "3.6.2"}


def test_real_machine_fingerprint_is_identical_across_processes() -> None:
    code = (
        "import json; from perfagent.machine.fingerprint import collect; "
        "print(json.dumps(collect().to_dict()))"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, check=True, text=True
            ).stdout
        )
        for _ in range(2)
    ]
    assert runs[0]["id"] == runs[1]["id"]
    assert runs[0]["hardware"] == runs[1]["hardware"]
    assert set(runs[0]["hardware"]) == set(HARDWARE_FIELDS)
    assert {"os", "kernel", "python", "packages"} <= set(runs[0]["software"])
    assert runs[0]["software"]["packages"].get("pyperf")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc reader is Linux's")
def test_linux_collection_does_not_load_py_cpuinfo() -> None:
    code = (
        "import sys; from perfagent.machine.fingerprint import collect; collect(); "
        "print('cpuinfo' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert out.stdout.split() == ["False", "False"]
