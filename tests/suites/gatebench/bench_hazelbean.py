"""A subset of the hazelbean suite's work, on inputs sized so that a call takes a few ms.

hazelbean is imported in each benchmark's setup, never at import: the other
benchmarks of this suite run where hazelbean is not installed. The slowdown factor
(slowdown.py) scales the number of rows of each input: these kernels do work in
proportion to the pixels, so "1.15" is 15% more work inside hazelbean itself.
"""

from __future__ import annotations

import importlib
import types
from dataclasses import dataclass

import numpy as np
import perfagent
from slowdown import scaled

SEED = 20240611
CLASSES = np.array([10, 11, 12, 20, 30, 40, 50, 60, 70, 80, 90], dtype=np.int32)


def _kernels() -> types.ModuleType:
    hb = importlib.import_module("hazelbean")
    kernels: types.ModuleType = hb.calculation_core.cython_functions
    return kernels


@dataclass
class Inputs:
    module: types.ModuleType
    arrays: tuple[np.ndarray, ...]
    rules: dict[int, int]


def _land_use(rows: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    coarse = rng.choice(CLASSES, size=(-(-rows // 8), -(-cols // 8)))
    fine = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:rows, :cols]
    return np.ascontiguousarray(fine, dtype=np.int32)


def _reclassify_inputs() -> Inputs:
    lulc = _land_use(scaled(400, "hazelbean.reclassify_by_dict"), 512)
    rules = {int(c): int(c) // 10 * 10 for c in CLASSES}
    return Inputs(_kernels(), (lulc,), rules)


@perfagent.benchmark(setup=_reclassify_inputs)
def bench_reclassify_by_dict(inputs: Inputs) -> None:
    """Reclassify land use with a rules dict (hb.reclassify_int_to_int_by_dict)."""
    inputs.module.reclassify_int_to_int_by_dict(inputs.arrays[0], inputs.rules)


def _zonal_inputs() -> Inputs:
    rows, cols = scaled(400, "hazelbean.zonal_sums"), 2048
    zones = np.arange(rows)[:, None] * 16 // rows * 16 + np.arange(cols)[None, :] * 16 // cols
    zones = np.ascontiguousarray(zones % 250 + 1, dtype=np.int64)
    values = np.random.default_rng(SEED).random((rows, cols)) * 200.0
    return Inputs(_kernels(), (zones, np.unique(zones), values), {})


@perfagent.benchmark(setup=_zonal_inputs)
def bench_zonal_sums(inputs: Inputs) -> None:
    """Sum values per zone (hb.zonal_stats_cythonized, the zonal statistics kernel)."""
    zones, unique, values = inputs.arrays
    inputs.module.zonal_stats_cythonized(
        zones,
        values,
        unique,
        zones_ndv=0,
        values_ndv=-9999.0,
        stats_to_retrieve="sums",
        reporting_frequency=zones.shape[0],
    )


def _describe_inputs() -> Inputs:
    hb = importlib.import_module("hazelbean")
    values = np.random.default_rng(SEED).random((scaled(200, "hazelbean.describe"), 1024))
    return Inputs(hb, (values,), {})


@perfagent.benchmark(setup=_describe_inputs)
def bench_describe(inputs: Inputs) -> None:
    """Summarise an array for a log (hb.describe: sums, extremes, median, nan-aware)."""
    inputs.module.describe(inputs.arrays[0], surpress_print=True, surpress_logger=True)


def _change_inputs() -> Inputs:
    before = _land_use(scaled(60, "hazelbean.change_matrix"), 512)
    rng = np.random.default_rng(SEED + 1)
    after = before.copy()
    mask = rng.random(before.shape) < 0.1
    after[mask] = rng.choice(CLASSES, size=int(mask.sum()))
    return Inputs(_kernels(), (before, after), {})


@perfagent.benchmark(setup=_change_inputs)
def bench_change_matrix(inputs: Inputs) -> None:
    """Cross-tabulate land-use change (hb.calc_change_matrix_of_two_int_arrays)."""
    before, after = inputs.arrays
    inputs.module.calc_change_matrix_of_two_int_arrays(before, after, [int(c) for c in CLASSES])
