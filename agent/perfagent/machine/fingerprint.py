"""The hardware fingerprint: which machine (and tuning) a timing was taken on.

The id is a short hash of the canonical hardware fields, so two results compare only
when their ids match. The fields are the facts that decide timings (see docs/design.md);
hostname, boot time, current frequency, bogomips and load are left out on purpose,
since they change without the hardware changing. The software (OS, kernel, Python,
key packages) is recorded beside the id, not in it: a new numpy is reported, but it
does not make the old baseline unusable.

On Linux everything is read from /proc and /sys (well under a millisecond);
py-cpuinfo, which takes about a second a call, is only the fallback elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfagent.cpus import format_cpu_list, kernel_cpu_list
from perfagent.machine import system
from perfagent.machine.system import PROC_ROOT, SYS_ROOT

ID_LENGTH = 12

# The canonical hardware fields, in the order they are shown.
HARDWARE_FIELDS = (
    "architecture",
    "cpu_vendor",
    "cpu_model_name",
    "cpu_family",
    "cpu_model",
    "cpu_stepping",
    "physical_cores",
    "logical_cpus",
    "cache_l1d_kib",
    "cache_l1i_kib",
    "cache_l2_kib",
    "cache_l3_kib",
    "memory_gib",
    "numa_nodes",
    "smt",
    "isolated_cpus",
    "governor",
    "boost",
)

# Packages whose versions are recorded with a result when installed. Read from their
# distribution metadata: importing numpy or hazelbean would cost seconds.
KEY_PACKAGES = (
    "perfagent",
    "pyperf",
    "numpy",
    "scipy",
    "hazelbean",
    "pygeoprocessing",
    "GDAL",
    "pandas",
)

UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Fingerprint:
    """A machine's fingerprint id, the hardware fields behind it, and its software."""

    id: str
    hardware: dict[str, Any]
    software: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hardware": dict(self.hardware), "software": dict(self.software)}


def canonical(hardware: dict[str, Any]) -> str:
    """The canonical text of the hardware fields: sorted keys, no whitespace."""
    return json.dumps(hardware, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def fingerprint_id(hardware: dict[str, Any]) -> str:
    """Short hash of the canonical hardware fields."""
    return hashlib.sha256(canonical(hardware).encode("ascii")).hexdigest()[:ID_LENGTH]


def collect(
    sys_root: Path = SYS_ROOT,
    proc_root: Path = PROC_ROOT,
    *,
    machine: str | None = None,
    software: dict[str, Any] | None = None,
) -> Fingerprint:
    """This machine's fingerprint.

    `sys_root`/`proc_root` point at fake trees in tests; `machine` overrides the
    architecture (which comes from uname, not from a file); `software` skips
    collecting it.
    """
    hardware = collect_hardware(sys_root, proc_root, machine=machine)
    return Fingerprint(
        id=fingerprint_id(hardware),
        hardware=hardware,
        software=software if software is not None else collect_software(),
    )


def collect_hardware(
    sys_root: Path = SYS_ROOT, proc_root: Path = PROC_ROOT, *, machine: str | None = None
) -> dict[str, Any]:
    """The canonical hardware fields (every key of HARDWARE_FIELDS)."""
    architecture = machine or platform.machine() or UNAVAILABLE
    if (proc_root / "cpuinfo").is_file():
        fields = _linux_hardware(sys_root, proc_root)
    else:
        fields = _portable_hardware()
    fields["architecture"] = architecture
    return {key: fields.get(key, UNAVAILABLE) for key in HARDWARE_FIELDS}


def collect_software() -> dict[str, Any]:
    """OS, kernel, Python and the installed versions of the key packages."""
    return {
        "os": _os_name(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": package_versions(KEY_PACKAGES),
    }


def package_versions(names: Sequence[str], path: Sequence[str] | None = None) -> dict[str, str]:
    """Installed versions of the named distributions (lower-cased names; missing ones left out).

    Read from the names of the `*.dist-info` / `*.egg-info` directories on sys.path, the
    first match winning as in an import: one directory listing per path entry, where
    `importlib.metadata.version()` costs several milliseconds a name.
    """
    wanted = {_normalize(name): name.lower() for name in names}
    found: dict[str, str] = {}
    for entry in sys.path if path is None else path:
        try:
            children = os.scandir(entry or ".")
        except OSError:
            continue
        with children:
            for child in children:
                stem, dot, kind = child.name.rpartition(".")
                if not dot or kind not in {"dist-info", "egg-info"}:
                    continue
                name, _, version = stem.partition("-")
                key = _normalize(name)
                if key in wanted and wanted[key] not in found and version:
                    found[wanted[key]] = version.split("-")[0]
        if len(found) == len(wanted):
            break
    # In the listing order of KEY_PACKAGES, for a stable display.
    return {wanted[k]: found[wanted[k]] for k in wanted if wanted[k] in found}


def _normalize(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def differences(hw_a: dict[str, Any], hw_b: dict[str, Any]) -> list[tuple[str, object, object]]:
    """The fields in which two hardware descriptions differ: (field, a's value, b's value).

    Known fields come first in their canonical order, then any others by name; a field
    missing on one side shows as None there.
    """
    extra = sorted((set(hw_a) | set(hw_b)) - set(HARDWARE_FIELDS))
    return [
        (key, hw_a.get(key), hw_b.get(key))
        for key in (*HARDWARE_FIELDS, *extra)
        if (key in hw_a or key in hw_b) and hw_a.get(key) != hw_b.get(key)
    ]


# --- Linux: /proc and /sys -------------------------------------------------------


def _cpuinfo_blocks(proc_root: Path) -> list[dict[str, str]]:
    text = system.read_text(proc_root / "cpuinfo") or ""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _linux_hardware(sys_root: Path, proc_root: Path) -> dict[str, Any]:
    blocks = _cpuinfo_blocks(proc_root)
    processors = [b for b in blocks if "processor" in b] or blocks
    first = processors[0] if processors else {}
    # x86 names the CPU with vendor_id/cpu family/model/stepping; ARM with implementer/part.
    fields: dict[str, Any] = {
        "cpu_vendor": first.get("vendor_id") or first.get("CPU implementer", UNAVAILABLE),
        "cpu_model_name": first.get("model name")
        or first.get("Hardware")
        or first.get("cpu model")
        or UNAVAILABLE,
        "cpu_family": first.get("cpu family") or first.get("CPU architecture", UNAVAILABLE),
        "cpu_model": first.get("model") or first.get("CPU part", UNAVAILABLE),
        "cpu_stepping": first.get("stepping")
        or _arm_stepping(first.get("CPU variant"), first.get("CPU revision")),
        "logical_cpus": len(processors) or len(system.online_cpus(sys_root)) or UNAVAILABLE,
    }
    cpu_numbers = [int(b["processor"]) for b in processors if b.get("processor", "").isdigit()]
    fields["physical_cores"] = _physical_cores(sys_root, cpu_numbers, processors)
    fields.update(_caches(sys_root, cpu_numbers[0] if cpu_numbers else 0))
    fields["memory_gib"] = _memory_gib(proc_root)
    fields["numa_nodes"] = _numa_nodes(sys_root)
    fields["smt"] = _smt(sys_root, fields["physical_cores"], fields["logical_cpus"])
    isolated = system.isolated_cpus(sys_root)
    fields["isolated_cpus"] = format_cpu_list(isolated) if isolated else "none"
    governors = sorted(set(system.governors(sys_root).values()))
    fields["governor"] = ",".join(governors) if governors else UNAVAILABLE
    fields["boost"] = system.boost_state(sys_root).label
    return fields


def _arm_stepping(variant: str | None, revision: str | None) -> str:
    if variant is None and revision is None:
        return UNAVAILABLE
    return f"{variant or '?'}/{revision or '?'}"


def _physical_cores(
    sys_root: Path, cpu_numbers: list[int], processors: list[dict[str, str]]
) -> int | str:
    """Distinct (package, core) pairs: from sysfs topology, else from /proc/cpuinfo."""
    base = system.cpu_dir(sys_root)
    cores: set[tuple[str, str]] = set()
    for cpu in cpu_numbers:
        topology = base / f"cpu{cpu}" / "topology"
        package = system.read_line(topology / "physical_package_id")
        core = system.read_line(topology / "core_id")
        if package is None or core is None:
            cores.clear()
            break
        cores.add((package, core))
    if not cores:
        cores = {
            (b["physical id"], b["core id"])
            for b in processors
            if "physical id" in b and "core id" in b
        }
    if cores:
        return len(cores)
    return len(processors) if processors else UNAVAILABLE


_CACHE_KEYS = {
    ("1", "Data"): "cache_l1d_kib",
    ("1", "Instruction"): "cache_l1i_kib",
    ("2", "Unified"): "cache_l2_kib",
    ("3", "Unified"): "cache_l3_kib",
}


def _caches(sys_root: Path, cpu: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    cache_dir = system.cpu_dir(sys_root) / f"cpu{cpu}" / "cache"
    for index in sorted(cache_dir.glob("index*")):
        level = system.read_line(index / "level")
        kind = system.read_line(index / "type")
        size = system.read_line(index / "size")
        key = _CACHE_KEYS.get((level or "", kind or ""))
        if key and size:
            found[key] = _size_kib(size)
    return found


def _size_kib(size: str) -> int | str:
    """sysfs cache sizes: "32K", "1024K", "32M"."""
    units = {"K": 1, "M": 1024, "G": 1024 * 1024}
    number, unit = size[:-1], size[-1:].upper()
    if unit.isdigit():
        number, unit = size, "B"
    try:
        value = int(number)
    except ValueError:
        return size
    return value // 1024 if unit == "B" else value * units.get(unit, 1)


def _memory_gib(proc_root: Path) -> int | str:
    text = system.read_text(proc_root / "meminfo") or ""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            try:
                kib = int(line.split()[1])
            except (IndexError, ValueError):
                break
            # Rounded: the kernel's own reservations move MemTotal by megabytes.
            return max(1, round(kib / (1024 * 1024)))
    return UNAVAILABLE


def _numa_nodes(sys_root: Path) -> int:
    text = system.read_line(sys_root / "devices" / "system" / "node" / "online")
    if text:
        nodes = kernel_cpu_list(text)
        if nodes:
            return len(nodes)
    return 1


def _smt(sys_root: Path, physical: int | str, logical: int | str) -> str:
    smt_dir = system.cpu_dir(sys_root) / "smt"
    control = system.read_line(smt_dir / "control")
    if control in {"notsupported", "notimplemented"}:
        return "not supported"
    active = system.read_line(smt_dir / "active")
    if active in {"0", "1"}:
        return "on" if active == "1" else "off"
    if isinstance(physical, int) and isinstance(logical, int):
        return "on" if logical > physical else "off"
    return UNAVAILABLE


# --- elsewhere: py-cpuinfo and psutil ---------------------------------------------


def _portable_hardware() -> dict[str, Any]:
    import cpuinfo
    import psutil

    info: dict[str, Any] = cpuinfo.get_cpu_info()
    physical = psutil.cpu_count(logical=False)
    logical = psutil.cpu_count(logical=True)
    memory = psutil.virtual_memory().total
    fields: dict[str, Any] = {
        "cpu_vendor": info.get("vendor_id_raw") or UNAVAILABLE,
        "cpu_model_name": info.get("brand_raw") or UNAVAILABLE,
        "cpu_family": str(info.get("family", UNAVAILABLE)),
        "cpu_model": str(info.get("model", UNAVAILABLE)),
        "cpu_stepping": str(info.get("stepping", UNAVAILABLE)),
        "physical_cores": physical or UNAVAILABLE,
        "logical_cpus": logical or UNAVAILABLE,
        "memory_gib": max(1, round(memory / 1024**3)),
        "numa_nodes": 1,
        "smt": ("on" if logical > physical else "off") if physical and logical else UNAVAILABLE,
        "isolated_cpus": "none",
        "governor": UNAVAILABLE,
        "boost": UNAVAILABLE,
    }
    for key, info_key in (
        ("cache_l1d_kib", "l1_data_cache_size"),
        ("cache_l1i_kib", "l1_instruction_cache_size"),
        ("cache_l2_kib", "l2_cache_size"),
        ("cache_l3_kib", "l3_cache_size"),
    ):
        raw = info.get(info_key)
        if isinstance(raw, int) and raw > 0:
            fields[key] = raw // 1024
    return fields


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return f"{platform.system()} {platform.release()}".strip()
    return release.get("PRETTY_NAME") or release.get("NAME") or platform.system()
