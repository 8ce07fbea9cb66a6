"""Can two results files be compared at all? Units, hardware, and what the numbers mean.

A ratio is only meaningful between numbers of the same unit, measured on the same
hardware, of the same code path. Anything else exits 3 (`NoComparableBaseline`)
naming what differs, field by field; differences that leave the numbers comparable
but may explain a change (a pyperformance version, loop counts) are notes.

Hardware: files measured by the agent carry a fingerprint. Plain pyperf files carry
pyperf's own metadata (`cpu_model_name`, `cpu_count`, `platform`), from which a
comparable description is derived: CPU model, logical CPUs, architecture, OS. The
hostname is never part of it (a renamed machine is the same machine; two laptops of
one name are not). When one side records fewer fields, the sides are compared on the
fields both record, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyperf

from perfagent import results
from perfagent.errors import NoComparableBaseline

# The agent's hardware fields that pyperf's metadata can also tell.
DERIVABLE_FIELDS = ("architecture", "cpu_model_name", "logical_cpus", "os")

# platform.platform()'s machine part, as pyperf records it, to one spelling.
_ARCHITECTURES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "x86",
    "i686": "x86",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
_OS_NAMES = {"linux": "Linux", "macos": "macOS", "darwin": "macOS", "windows": "Windows"}

# Benchmark metadata that defines what was measured: different values, different code.
# (Not pyperformance's `command`: it holds the virtual environment's path, which differs
# between any two interpreters of an A/B comparison.)
DEFINING_FIELDS = ("timeit_stmt", "timeit_setup", "timeit_teardown")
# Metadata that leaves the numbers comparable but is worth saying when it differs.
WARNED_FIELDS = ("performance_version", "loops", "inner_loops")


@dataclass(frozen=True)
class Comparability:
    """What the checks found that does not block the comparison."""

    notes: list[str] = field(default_factory=list)


def derived_hardware(suite: pyperf.BenchmarkSuite) -> dict[str, Any]:
    """The hardware fields pyperf's own metadata tells (empty when it tells none)."""
    derived: dict[str, Any] = {}
    model = _one(suite, "cpu_model_name")
    if model is not None:
        derived["cpu_model_name"] = str(model)
    count = _one(suite, "cpu_count")
    if count is not None:
        derived["logical_cpus"] = int(count)
    platform = _one(suite, "platform")
    if platform is not None:
        parts = str(platform).split("-")
        os_name = _OS_NAMES.get(parts[0].lower())
        if os_name:
            derived["os"] = os_name
        # The machine name is a whole dash-separated part ("...-x86_64-with-glibc2.31",
        # "macOS-14.4.1-arm64-arm-64bit"); the kernel release may contain it too.
        for part in parts[1:]:
            if part.lower() in _ARCHITECTURES:
                derived["architecture"] = _ARCHITECTURES[part.lower()]
                break
    return derived


def _one(suite: pyperf.BenchmarkSuite, key: str) -> Any:
    for bench in suite:
        value = bench.get_metadata().get(key)
        if value is not None:
            return value
    return None


def hardware_view(suite: pyperf.BenchmarkSuite) -> tuple[dict[str, Any], str]:
    """The hardware fields to compare and where they come from ("fingerprint"/"pyperf")."""
    recorded = results.hardware(suite)
    if results.fingerprint_id(suite) is not None and recorded:
        return dict(recorded), "fingerprint"
    return derived_hardware(suite), "pyperf"


def check_units(base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite) -> None:
    """Exit 3 when a benchmark (or, with none in common, the whole files) differ in unit."""
    base_name, head_name = results.describe_source(base), results.describe_source(head)
    base_units = {str(b.get_name()): str(b.get_unit()) for b in base}
    head_units = {str(b.get_name()): str(b.get_unit()) for b in head}
    for name, unit in head_units.items():
        other = base_units.get(name)
        if other is not None and other != unit:
            raise NoComparableBaseline(
                f"{base_name} measures {name} in {_unit(other)} and {head_name} in "
                f"{_unit(unit)}: a ratio between different units means nothing"
            )
    if not set(base_units) & set(head_units):
        left, right = set(base_units.values()), set(head_units.values())
        if not left & right:
            raise NoComparableBaseline(
                f"{base_name} is in {_units(left)} and {head_name} in {_units(right)}: "
                "a ratio between different units means nothing"
            )


def _units(units: set[str]) -> str:
    return ", ".join(_unit(u) for u in sorted(units))


def _unit(unit: str) -> str:
    """A unit as the messages show it, with what it measures: 'second' (metric 'time')."""
    what = results.METRIC_BY_UNIT.get(unit)
    return f"'{unit}' (metric '{what}')" if what else f"'{unit}'"


def check_metric(base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite) -> None:
    base_metric, head_metric = results.metric(base), results.metric(head)
    if base_metric != head_metric:
        raise NoComparableBaseline(
            f"{results.describe_source(base)} measures '{base_metric}' and "
            f"{results.describe_source(head)} '{head_metric}': a ratio between different "
            "metrics means nothing"
        )


def check_hardware(
    base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite, *, ignore_hardware: bool
) -> list[str]:
    """Exit 3 for different hardware unless ignored; returns the notes to print."""
    base_name, head_name = results.describe_source(base), results.describe_source(head)
    base_id, head_id = results.fingerprint_id(base), results.fingerprint_id(head)
    base_hw, base_from = hardware_view(base)
    head_hw, head_from = hardware_view(head)
    notes: list[str] = []
    if base_from == head_from == "fingerprint":
        if base_id == head_id:
            return notes
        diffs = _diffs(base_hw, head_hw, sorted(set(base_hw) | set(head_hw)))
        what = f"{base_name} (fingerprint {base_id}) and {head_name} (fingerprint {head_id})"
    else:
        # With one fingerprinted side, only what pyperf can also tell is comparable.
        common = [k for k in DERIVABLE_FIELDS if k in base_hw and k in head_hw]
        if not common:
            notes.append(
                "neither file records hardware both can be compared on (pyperf's "
                "cpu_model_name, cpu_count, platform): compared without a hardware check"
            )
            return notes
        fewer = set(base_hw) != set(head_hw) or base_from != head_from
        if fewer:
            notes.append("hardware compared on the fields both files record: " + ", ".join(common))
        diffs = _diffs(base_hw, head_hw, common)
        what = f"{base_name} and {head_name}"
        if not diffs:
            return notes
    if not diffs and base_id != head_id:
        diffs = [("fingerprint", base_id, head_id)]
    if ignore_hardware:
        shown = "; ".join(f"{k}: {a} vs {b}" for k, a, b in diffs)
        return [*notes, f"different hardware compared (--ignore-hardware): {shown}"]
    shown = "; ".join(f"{k}: {a} vs {b}" for k, a, b in diffs) or "unknown fields"
    raise NoComparableBaseline(
        f"{what} were measured on different hardware, differing in {shown}; pass "
        "--ignore-hardware to compare them anyway"
    )


def _diffs(a: dict[str, Any], b: dict[str, Any], keys: list[str]) -> list[tuple[str, Any, Any]]:
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]


def check_meaning(base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite) -> list[str]:
    """Exit 3 when a common benchmark measures other code; notes for benign differences,
    one per field however many benchmarks it concerns."""
    base_name, head_name = results.describe_source(base), results.describe_source(head)
    base_by_name = {str(b.get_name()): b for b in base}
    differing: dict[str, list[tuple[str, Any, Any]]] = {}
    for bench in head:
        name = str(bench.get_name())
        other = base_by_name.get(name)
        if other is None:
            continue
        ours, theirs = other.get_metadata(), bench.get_metadata()
        for key in DEFINING_FIELDS:
            if key in ours and key in theirs and ours[key] != theirs[key]:
                raise NoComparableBaseline(
                    f"{name}: {base_name} measures {key} {ours[key]} and {head_name} "
                    f"{key} {theirs[key]}: the numbers mean different things"
                )
        for key in WARNED_FIELDS:
            old, new = ours.get(key), theirs.get(key)
            if old is not None and new is not None and old != new:
                differing.setdefault(key, []).append((name, old, new))
    notes = []
    for key in WARNED_FIELDS:
        found = differing.get(key, [])
        values = {(old, new) for _name, old, new in found}
        if len(values) == 1:
            old, new = next(iter(values))
            where = "" if len(found) == 1 else f" in {len(found)} benchmarks"
            notes.append(f"{key}: {old} vs {new}{where} ({_why(key)})")
        elif found:
            name, old, new = found[0]
            notes.append(
                f"{key} differs in {len(found)} benchmarks, e.g. {name}: {old} vs {new} "
                f"({_why(key)})"
            )
    return notes


def _why(key: str) -> str:
    if key == "performance_version":
        return "another pyperformance: its benchmarks may have changed"
    return "pyperf reports per-iteration values, so they stay comparable"


def check(
    base: pyperf.BenchmarkSuite, head: pyperf.BenchmarkSuite, *, ignore_hardware: bool
) -> Comparability:
    """Every check, in the order a user would want to hear of them; raises on exit 3."""
    check_units(base, head)
    check_metric(base, head)
    notes = check_hardware(base, head, ignore_hardware=ignore_hardware)
    notes += check_meaning(base, head)
    return Comparability(notes=notes)
