"""The one parser of CPU lists ("0-3,6,8-9"), as the kernel and the settings write them."""

from __future__ import annotations

from collections.abc import Iterable

from perfagent.errors import ConfigError


def _parse(text: str) -> list[int]:
    """Sorted CPU numbers of a CPU list; ValueError when it is malformed."""
    cpus: set[int] = set()
    for part in text.replace(" ", "").strip().split(","):
        if not part:
            continue
        low, dash, high = part.partition("-")
        first = int(low)
        last = int(high) if dash else first
        if last < first:
            raise ValueError(part)
        cpus.update(range(first, last + 1))
    return sorted(cpus)


def parse_cpu_list(text: str, where: str = "CPU list") -> list[int]:
    """A CPU list from a setting: ConfigError naming `where` when malformed or empty."""
    try:
        cpus = _parse(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a CPU list such as 1-3,5") from None
    if not cpus:
        raise ConfigError(f"{where}: {text!r} names no CPU")
    return cpus


def kernel_cpu_list(text: str) -> list[int]:
    """A CPU list read from the kernel; an empty or malformed one gives [] (nothing known)."""
    try:
        return _parse(text)
    except ValueError:
        return []


def format_cpu_list(cpus: Iterable[int]) -> str:
    """The kernel's compact form of a CPU set: [0, 1, 2, 5] -> "0-2,5"."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    start = prev = None
    for cpu in ordered:
        if start is None:
            start = prev = cpu
        elif prev is not None and cpu == prev + 1:
            prev = cpu
        else:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = cpu
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(parts)
