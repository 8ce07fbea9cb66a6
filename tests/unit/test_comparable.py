"""judge/comparable.py: units, hardware and meaning checks before any ratio is taken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyperf
import pytest
from perfagent import results
from perfagent.errors import NoComparableBaseline
from perfagent.judge import comparable
from real_data import own_file, pyperf_file, pyperformance_file


def plain(metadata: dict[str, Any], unit: str = "second", name: str = "b") -> pyperf.BenchmarkSuite:
    runs = [{"values": [1.0 + i / 100, 1.0]} for i in range(3)]
    data = {
        "version": "1.0",
        "metadata": {"unit": unit, **metadata},
        "benchmarks": [{"metadata": {"name": name}, "runs": runs}],
    }
    return results.loads(json.dumps(data), f"{name}.json")


def test_derived_hardware_of_real_pyperf_files() -> None:
    telco = results.load(pyperf_file("telco.json"))
    assert comparable.derived_hardware(telco) == {
        "cpu_model_name": "Intel(R) Core(TM) i7-3520M CPU @ 2.90GHz",
        "logical_cpus": 4,
        "os": "Linux",
        "architecture": "x86_64",
    }


def test_derived_hardware_of_macos_has_no_model() -> None:
    mac = results.load(own_file("cross_macos_arm64.json"))
    assert comparable.derived_hardware(mac) == {
        "logical_cpus": 8,
        "os": "macOS",
        "architecture": "arm64",
    }


@pytest.mark.parametrize(
    ("platform", "arch"),
    [
        ("Linux-5.8.12-200.fc32.x86_64-x86_64-with-fedora-32-Thirty_Two", "x86_64"),
        ("Linux-6.1.0-18-arm64-aarch64-with-glibc2.36", "arm64"),
        ("Windows-10-10.0.19041-SP0", None),
    ],
)
def test_architecture_from_platform(platform: str, arch: str | None) -> None:
    derived = comparable.derived_hardware(plain({"platform": platform}))
    assert derived.get("architecture") == arch


def test_hostname_alone_never_differs() -> None:
    a = plain({"cpu_count": 4, "hostname": "a", "platform": "Linux-6.1-x86_64-with-glibc"})
    b = plain({"cpu_count": 4, "hostname": "b", "platform": "Linux-6.1-x86_64-with-glibc"})
    assert comparable.check_hardware(a, b, ignore_hardware=False) == []


def test_no_hardware_at_all_is_said() -> None:
    notes = comparable.check_hardware(plain({}), plain({}), ignore_hardware=False)
    assert notes and "without a hardware check" in notes[0]


def test_partial_fields_are_said_and_compared() -> None:
    a = plain({"cpu_count": 8, "cpu_model_name": "X"})
    b = plain({"cpu_count": 8})
    notes = comparable.check_hardware(a, b, ignore_hardware=False)
    assert notes == ["hardware compared on the fields both files record: logical_cpus"]
    with pytest.raises(NoComparableBaseline, match="logical_cpus: 8 vs 4"):
        comparable.check_hardware(a, plain({"cpu_count": 4}), ignore_hardware=False)


def test_ignore_hardware_turns_the_error_into_a_note() -> None:
    a, b = plain({"cpu_count": 8}), plain({"cpu_count": 4})
    notes = comparable.check_hardware(a, b, ignore_hardware=True)
    assert notes == ["different hardware compared (--ignore-hardware): logical_cpus: 8 vs 4"]


def test_units_differ_per_benchmark() -> None:
    mem = results.load(pyperformance_file("mem1.json"))
    seconds = results.load(pyperformance_file("py3_performance03.json"))
    says = r"call_simple in 'byte' \(metric 'memory'\) .* in 'second' \(metric 'time'\)"
    with pytest.raises(NoComparableBaseline, match=says):
        comparable.check_units(mem, seconds)
    comparable.check_units(mem, mem)


def test_defining_metadata_differs() -> None:
    a = plain({"timeit_stmt": "'x'"})
    b = plain({"timeit_stmt": "'y'"})
    with pytest.raises(NoComparableBaseline, match="timeit_stmt"):
        comparable.check_meaning(a, b)


def test_warned_metadata_is_named_once() -> None:
    a = plain({"performance_version": "1.0", "loops": 8})
    b = plain({"performance_version": "1.1", "loops": 16})
    notes = comparable.check_meaning(a, b)
    assert [n.split(":")[0] for n in notes] == ["performance_version", "loops"]


def test_aa_pair_is_comparable(tmp_path: Path) -> None:
    base, head = results.load(own_file("aa_base.json")), results.load(own_file("aa_head.json"))
    assert comparable.check(base, head, ignore_hardware=False).notes == []


def test_loops_differing_in_many_benchmarks_is_one_note() -> None:
    def two(loops: int) -> pyperf.BenchmarkSuite:
        runs = [{"values": [1.0 + i / 100, 1.0]} for i in range(3)]
        benches = [
            {"metadata": {"name": n, "loops": loops * (k + 1)}, "runs": runs}
            for k, n in enumerate(("a", "b", "c"))
        ]
        data = {"version": "1.0", "metadata": {"unit": "second"}, "benchmarks": benches}
        return results.loads(json.dumps(data), f"l{loops}.json")

    notes = comparable.check_meaning(two(8), two(16))
    assert notes == [
        "loops differs in 3 benchmarks, e.g. a: 8 vs 16 (pyperf reports per-iteration "
        "values, so they stay comparable)"
    ]


def test_pyperformance_command_paths_do_not_block() -> None:
    a = plain({"command": "/venv/cpython3.13-aaaa/bin/python -m bench"})
    b = plain({"command": "/venv/cpython3.13-bbbb/bin/python -m bench"})
    assert comparable.check_meaning(a, b) == []
