"""CPU-set filters for the perf_tuning role: partition a machine's CPUs into
housekeeping and benchmark CPUs, and write CPU sets the way the kernel does."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError


def parse_cpu_list(text: Any) -> list[int]:
    """'0-2,5' -> [0, 1, 2, 5]; an empty string -> []."""
    cpus: set[int] = set()
    for part in str(text or "").replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                if high < low:
                    raise ValueError(part)
                cpus.update(range(low, high + 1))
            else:
                cpus.add(int(part))
        except ValueError:
            raise AnsibleFilterError(f"{text!r} is not a CPU list such as 1-3,5") from None
    return sorted(cpus)


def format_cpu_list(cpus: Any) -> str:
    """[0, 1, 2, 5] -> '0-2,5', as /sys and /proc print CPU lists."""
    numbers = sorted({int(c) for c in (parse_cpu_list(cpus) if isinstance(cpus, str) else cpus)})
    runs: list[str] = []
    start = prev = None
    for cpu in numbers:
        if prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None:
            runs.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = cpu
    if start is not None:
        runs.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(runs)


def cpu_mask(cpus: Any) -> str:
    """A CPU list as the kernel's bitmap text, which /proc/irq/*/smp_affinity and
    /sys/devices/virtual/workqueue/cpumask take: 32-bit hex chunks, most
    significant first, joined by commas ('ffffffff,fffffffe'). The kernel's
    bitmap_parse (torvalds/linux lib/bitmap.c) gives each comma-separated chunk
    exactly 32 bits and refuses a chunk of more than 8 hex digits (-EOVERFLOW),
    so one long hex word fails on hosts with more than 32 CPUs. The leading chunk
    is unpadded, the others zero-padded to 8 digits, as the kernel prints masks."""
    numbers = parse_cpu_list(cpus) if isinstance(cpus, str) else sorted({int(c) for c in cpus})
    if not numbers:
        raise AnsibleFilterError("an empty CPU set has no mask")
    chunks = [0] * (numbers[-1] // 32 + 1)
    for cpu in numbers:
        chunks[cpu // 32] |= 1 << (cpu % 32)
    high, *rest = reversed(chunks)
    return ",".join([format(high, "x"), *(format(chunk, "08x") for chunk in rest)])


def mask_cpus(mask: Any) -> list[int]:
    """The kernel's bitmap text ('ff,00000001') back to a sorted CPU list; reads
    what the kernel prints, whatever its padding."""
    cpus: list[int] = []
    for index, chunk in enumerate(reversed(str(mask).strip().split(","))):
        value = int(chunk or "0", 16)
        cpus.extend(index * 32 + bit for bit in range(32) if value >> bit & 1)
    return sorted(cpus)


def _topology(lscpu_parsable: str) -> list[tuple[int, int, int]]:
    """(cpu, core, socket) rows from `lscpu -p=CPU,CORE,SOCKET`."""
    rows = []
    for line in str(lscpu_parsable).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(",")
        if len(fields) < 3:
            raise AnsibleFilterError(f"unexpected lscpu line {line!r}")
        cpu, core, socket = (int(x) if x else 0 for x in fields[:3])
        rows.append((cpu, core, socket))
    if not rows:
        raise AnsibleFilterError("lscpu listed no CPU")
    return rows


def cpu_partition(
    lscpu_parsable: str, housekeeping_cores_per_socket: int = 1, benchmark: str = ""
) -> dict:
    """Split the online CPUs into housekeeping and benchmark CPUs.

    By default the lowest-numbered `housekeeping_cores_per_socket` physical cores
    of every socket, with their SMT siblings, do housekeeping (IRQs, system
    services, kernel threads) and every other CPU runs benchmarks. An explicit
    `benchmark` CPU list wins; housekeeping is then every other online CPU.
    On a one-core machine nothing can be isolated: the benchmark set is empty.
    """
    rows = _topology(lscpu_parsable)
    online = sorted(cpu for cpu, _, _ in rows)
    if benchmark:
        wanted = parse_cpu_list(benchmark)
        unknown = sorted(set(wanted) - set(online))
        if unknown:
            raise AnsibleFilterError(
                f"benchmark CPUs {format_cpu_list(unknown)} are not online CPUs"
                f" ({format_cpu_list(online)})"
            )
        bench = wanted
    else:
        housekeeping_cores: set[tuple[int, int]] = set()
        for socket in sorted({s for _, _, s in rows}):
            cores = sorted({c for _, c, s in rows if s == socket})
            housekeeping_cores.update(
                (socket, c) for c in cores[: int(housekeeping_cores_per_socket)]
            )
        bench = [cpu for cpu, core, socket in rows if (socket, core) not in housekeeping_cores]
    housekeeping = [cpu for cpu in online if cpu not in bench]
    if not housekeeping:
        raise AnsibleFilterError(
            "every CPU would be a benchmark CPU: leave at least one for housekeeping"
        )
    return {
        "online": format_cpu_list(online),
        "housekeeping": format_cpu_list(housekeeping),
        "benchmark": format_cpu_list(bench),
    }


class FilterModule:
    def filters(self) -> dict:
        return {
            "perf_cpu_partition": cpu_partition,
            "perf_cpu_list": format_cpu_list,
            "perf_cpu_list_expand": parse_cpu_list,
            "perf_cpu_mask": cpu_mask,
            "perf_mask_cpus": mask_cpus,
        }
