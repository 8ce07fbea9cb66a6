"""The perf_tuning role's CPU-set filters (ansible/roles/perf_tuning/filter_plugins/
cpu_sets.py) against the kernel's bitmap text format.

The kernel's bitmap_parse (torvalds/linux lib/bitmap.c), behind every cpumask file
in /proc and /sys, reads comma-separated chunks of exactly 32 bits each, most
significant first, and refuses a chunk longer than 8 hex digits. The reference
below builds the expected text from that rule alone, chunk by chunk.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

FILTER = (
    Path(__file__).resolve().parents[2] / "ansible/roles/perf_tuning/filter_plugins/cpu_sets.py"
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cpu_sets", FILTER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cpu_sets = _load()
# What bitmap_parse accepts: hex chunks of 1 to 8 digits separated by commas.
KERNEL_BITMAP = re.compile(r"^[0-9a-f]{1,8}(,[0-9a-f]{8})*$")


def kernel_parse(text: str) -> set[int]:
    """bitmap_parse's reading: the last chunk is bits 0-31, the one before 32-63, ..."""
    assert KERNEL_BITMAP.match(text), f"{text!r} is not in the kernel's bitmap format"
    cpus: set[int] = set()
    for index, chunk in enumerate(reversed(text.split(","))):
        value = int(chunk, 16)
        assert value < 1 << 32
        cpus |= {index * 32 + bit for bit in range(32) if value >> bit & 1}
    return cpus


@pytest.mark.parametrize(
    ("cpus", "expected"),
    [
        ("0", "1"),
        ("0-1", "3"),  # 2 CPUs
        ("1", "2"),
        ("0-31", "ffffffff"),
        ("0-32", "1,ffffffff"),  # 33 CPUs: a second chunk appears
        ("1-63", "ffffffff,fffffffe"),  # 64 CPUs, housekeeping CPU 0 left out
        ("0-63", "ffffffff,ffffffff"),
        ("0-95", "ffffffff,ffffffff,ffffffff"),  # 96 CPUs
        ("0,32,64", "1,00000001,00000001"),  # sparse: one CPU per chunk, zero-padded
        ("0,64", "1,00000000,00000001"),  # sparse: an empty chunk in the middle
        ("4,40", "100,00000010"),
        ("255", "80000000" + ",00000000" * 7),  # 256 CPUs, only the last one
    ],
)
def test_mask_is_the_kernels_bitmap_text(cpus: str, expected: str) -> None:
    mask = cpu_sets.cpu_mask(cpus)
    assert mask == expected
    assert kernel_parse(mask) == set(cpu_sets.parse_cpu_list(cpus))


@pytest.mark.parametrize("count", [2, 33, 64, 96, 256])
def test_every_size_round_trips_through_the_kernels_reading(count: int) -> None:
    every = f"0-{count - 1}"
    mask = cpu_sets.cpu_mask(every)
    assert len(mask.split(",")) == (count + 31) // 32
    assert all(len(chunk) <= 8 for chunk in mask.split(","))
    assert kernel_parse(mask) == set(range(count))
    # the housekeeping mask of the default partition: CPU 0 and its sibling
    housekeeping = f"0,{count // 2}"
    assert kernel_parse(cpu_sets.cpu_mask(housekeeping)) == {0, count // 2}
    assert cpu_sets.mask_cpus(mask) == list(range(count))


@pytest.mark.parametrize(
    "cpus", ["0,2,4,6", "1,3,33,35", "0,31,32,63,64,95,96,127", "7,100,200,255", "17"]
)
def test_sparse_sets(cpus: str) -> None:
    mask = cpu_sets.cpu_mask(cpus)
    assert kernel_parse(mask) == set(cpu_sets.parse_cpu_list(cpus))
    assert cpu_sets.mask_cpus(mask) == cpu_sets.parse_cpu_list(cpus)


def test_mask_takes_a_list_of_numbers_too() -> None:
    assert cpu_sets.cpu_mask([0, 33]) == "2,00000001"


def test_reading_what_the_kernel_prints() -> None:
    # The kernel pads the leading chunk to nr_cpu_ids' width: "00000001" or "0001".
    assert cpu_sets.mask_cpus("00000000,00000003") == [0, 1]
    assert cpu_sets.mask_cpus("0001,00000001\n") == [0, 32]
    assert cpu_sets.mask_cpus("ff") == list(range(8))


def test_an_empty_set_has_no_mask() -> None:
    with pytest.raises(Exception, match="empty CPU set"):
        cpu_sets.cpu_mask("")


def test_cpu_list_format() -> None:
    assert cpu_sets.format_cpu_list([5, 0, 1, 2, 7]) == "0-2,5,7"
    assert cpu_sets.parse_cpu_list("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(Exception, match="not a CPU list"):
        cpu_sets.parse_cpu_list("3-1")
