"""perf_tuning's boot-time templates: the CPU frequency script (perf-runner-cpufreq.sh.j2) against
a copy of the cpufreq sysfs tree as each driver lays it out (the kernel's
Documentation/admin-guide/pm/cpufreq.rst, amd-pstate.rst, intel_pstate.rst): the
test lab's /sys is read-only, so this is where the writes are seen.

- amd-pstate in active (EPP) mode before kernel 6.11: per-policy
  energy_performance_preference and boost, no global cpufreq/boost;
- acpi-cpufreq (and amd-pstate from 6.11): the global cpufreq/boost;
- intel_pstate: intel_pstate/no_turbo, EPP per policy;

and the kernel arguments (isolation, amd_pstate=, max_cstate) and the
cpu_dma_latency holder.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import jinja2
import pytest

TEMPLATE = (
    Path(__file__).resolve().parents[2]
    / "ansible/roles/perf_tuning/templates/perf-runner-cpufreq.sh.j2"
)


def script(tmp_path: Path, **overrides: object) -> Path:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["quote"] = lambda value: shlex.quote(str(value))
    env.filters["bool"] = bool
    variables = {
        "ansible_managed": "test",
        "perf_tuning_governor": "performance",
        "perf_tuning_min_freq_to_max": True,
        "perf_tuning_disable_boost": True,
        "perf_tuning_energy_performance_preference": "performance",
        **overrides,
    }
    path = tmp_path / "perf-runner-cpufreq"
    path.write_text(env.from_string(TEMPLATE.read_text()).render(**variables))
    path.chmod(0o755)
    return path


def policy(root: Path, index: int, **files: str) -> Path:
    directory = root / f"devices/system/cpu/cpufreq/policy{index}"
    directory.mkdir(parents=True)
    defaults = {
        "scaling_available_governors": "performance powersave",
        "scaling_governor": "powersave",
        "cpuinfo_max_freq": "4500000",
        "scaling_max_freq": "3000000",
        "scaling_min_freq": "400000",
    }
    for name, value in {**defaults, **files}.items():
        (directory / name).write_text(value + "\n")
    return directory


def run(path: Path, sysfs: Path) -> str:
    done = subprocess.run(
        [str(path)], env={"PERF_RUNNER_SYSFS": str(sysfs), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def read(directory: Path, name: str) -> str:
    return (directory / name).read_text().strip()


def test_amd_pstate_active_mode_per_policy_epp_and_boost(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    policies = [
        policy(sysfs, i, energy_performance_preference="balance_performance", boost="1")
        for i in (0, 1)
    ]
    output = run(script(tmp_path), sysfs)
    for directory in policies:
        assert read(directory, "energy_performance_preference") == "performance"
        assert read(directory, "boost") == "0"
        assert read(directory, "scaling_governor") == "performance"
        # the minimum is raised to the policy's maximum, not cpuinfo_max_freq (turbo)
        assert read(directory, "scaling_min_freq") == read(directory, "scaling_max_freq")
        assert read(directory, "scaling_max_freq") == "3000000"
    assert "cpufreq/boost does not exist" not in output


def test_global_boost_and_intel_no_turbo(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    directory = policy(sysfs, 0)
    (sysfs / "devices/system/cpu/cpufreq/boost").write_text("1\n")
    (sysfs / "devices/system/cpu/intel_pstate").mkdir(parents=True)
    (sysfs / "devices/system/cpu/intel_pstate/no_turbo").write_text("0\n")
    run(script(tmp_path), sysfs)
    assert (sysfs / "devices/system/cpu/cpufreq/boost").read_text().strip() == "0"
    assert (sysfs / "devices/system/cpu/intel_pstate/no_turbo").read_text().strip() == "1"
    assert read(directory, "scaling_min_freq") == read(directory, "scaling_max_freq")


@pytest.mark.parametrize("boost_off", [True, False])
def test_boost_left_alone_when_not_asked(tmp_path: Path, boost_off: bool) -> None:
    sysfs = tmp_path / "sys"
    directory = policy(sysfs, 0, boost="1")
    run(script(tmp_path, perf_tuning_disable_boost=boost_off), sysfs)
    assert read(directory, "boost") == ("0" if boost_off else "1")
    if not boost_off:  # boost on: the maximum is the hardware's, and the minimum follows
        assert read(directory, "scaling_max_freq") == "4500000"
        assert read(directory, "scaling_min_freq") == "4500000"


def test_a_host_without_cpufreq_is_left_alone(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    (sysfs / "devices/system/cpu").mkdir(parents=True)
    assert run(script(tmp_path), sysfs) == ""


def render(name: str, **variables: object) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["bool"] = bool
    return env.from_string((TEMPLATE.parent / name).read_text()).render(**variables).strip()


KERNEL_ARGS = {
    "perf_tuning_isolate_cpus": True,
    "perf_tuning_benchmark_cpu_list": "1-7",
    "perf_tuning_housekeeping_cpu_list": "0",
    "perf_tuning_isolcpus_flags": "managed_irq,domain",
    "perf_tuning_amd_pstate_mode": "",
    "perf_tuning_cstates": "none",
    "perf_tuning_max_cstate": 1,
    "perf_tuning_extra_kernel_args": [],
}


def test_kernel_arguments_for_isolation_amd_pstate_and_cstates() -> None:
    assert render("kernel-args.j2", **KERNEL_ARGS).split() == [
        "isolcpus=managed_irq,domain,1-7", "nohz_full=1-7", "rcu_nocbs=1-7", "irqaffinity=0",
    ]  # fmt: skip
    both = render(
        "kernel-args.j2",
        **KERNEL_ARGS
        | {"perf_tuning_amd_pstate_mode": "passive", "perf_tuning_cstates": "kernel_args"},
    ).split()
    assert both[-3:] == ["amd_pstate=passive", "processor.max_cstate=1", "intel_idle.max_cstate=1"]
    # the dma_latency method adds no kernel argument: it is a service
    dma = render("kernel-args.j2", **KERNEL_ARGS | {"perf_tuning_cstates": "dma_latency"})
    assert "cstate" not in dma
    nothing = render("kernel-args.j2", **KERNEL_ARGS | {"perf_tuning_isolate_cpus": False})
    assert nothing == ""


def test_cpu_dma_latency_holder_runs_with_the_runner() -> None:
    unit = render(
        "perf-runner-cpu-dma-latency.service.j2",
        ansible_managed="test",
        perf_tuning_cstates_with_unit="actions-runner.service",
        perf_tuning_cpu_dma_latency_us=0,
    )
    assert "PartOf=actions-runner.service" in unit
    assert "WantedBy=actions-runner.service" in unit
    assert "/dev/cpu_dma_latency" in unit and "struct.pack('i', 0)" in unit
