"""Array and tiling work: hazelbean's compiled (Cython) kernels on in-memory tiles.

These are the inner loops of hazelbean's raster workflows, measured without file I/O.
They live in hazelbean.calculation_core.cython_functions and are exported as hb.<name>.
Each benchmark builds only its own inputs, so a worker process spends its setup time
on what it measures.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import perfagent
from _fixtures import FLOAT_NODATA, LULC_CLASSES, Workspace, import_hazelbean

# 2048 x 2048 is a 0.5-degree tile at 10 arc-seconds. The kernels that make Python
# dict lookups per pixel get smaller tiles, to stay well under a second a call.
TILE_SHAPE = (2048, 2048)
DICT_LOOKUP_TILE_SHAPE = (1024, 1024)
CHANGE_MATRIX_TILE_SHAPE = (512, 512)
N_ZONES = 250  # about the number of countries in a global admin-unit raster
ZONES_NODATA = 0  # zone ids start at 1
FRACTION_CHANGED = 0.1


@dataclass
class KernelInputs:
    """A kernel of hazelbean.calculation_core.cython_functions and its arguments."""

    workspace: Workspace
    kernels: types.ModuleType
    arrays: dict[str, Any] = field(default_factory=dict)


def aggregation_rules() -> dict[int, int]:
    """Map each detailed land-use class onto its broad group (10..19 -> 10, ...)."""
    return {int(code): int(code) // 10 * 10 for code in LULC_CLASSES}


def _kernel_inputs(name: str) -> KernelInputs:
    hb = import_hazelbean()
    return KernelInputs(Workspace.create(name), hb.calculation_core.cython_functions)


def teardown_kernel(inputs: KernelInputs) -> None:
    inputs.workspace.remove()


def setup_reclassify_by_array() -> KernelInputs:
    inputs = _kernel_inputs("reclassify-by-array")
    # The array form of the rules is indexed by class code, as reclassify_raster_hb builds it.
    rules_array = np.arange(int(LULC_CLASSES.max()) + 1, dtype=np.int32)
    for code, group in aggregation_rules().items():
        rules_array[code] = group
    inputs.arrays["lulc"] = inputs.workspace.lulc_array(TILE_SHAPE)
    inputs.arrays["rules"] = rules_array
    return inputs


@perfagent.benchmark(setup=setup_reclassify_by_array, teardown=teardown_kernel)
def bench_reclassify_by_array(inputs: KernelInputs) -> None:
    """Reclassify a land-use tile with a lookup array (hb.reclassify_int_to_int_by_array).

    2048 x 2048 int32 classes, 21 classes mapped onto their broad groups.
    """
    inputs.kernels.reclassify_int_to_int_by_array(inputs.arrays["lulc"], inputs.arrays["rules"])


def setup_reclassify_by_dict() -> KernelInputs:
    inputs = _kernel_inputs("reclassify-by-dict")
    inputs.arrays["lulc"] = inputs.workspace.lulc_array(DICT_LOOKUP_TILE_SHAPE)
    inputs.arrays["rules"] = aggregation_rules()
    return inputs


@perfagent.benchmark(setup=setup_reclassify_by_dict, teardown=teardown_kernel)
def bench_reclassify_by_dict(inputs: KernelInputs) -> None:
    """Reclassify a land-use tile with a rules dict (hb.reclassify_int_to_int_by_dict).

    1024 x 1024 int32 classes, 21 rules; one Python dict lookup per pixel.
    """
    inputs.kernels.reclassify_int_to_int_by_dict(inputs.arrays["lulc"], inputs.arrays["rules"])


def setup_change_matrix() -> KernelInputs:
    inputs = _kernel_inputs("change-matrix")
    before = inputs.workspace.lulc_array(CHANGE_MATRIX_TILE_SHAPE)
    inputs.arrays["before"] = before
    inputs.arrays["after"] = inputs.workspace.changed_lulc_array(before, FRACTION_CHANGED)
    inputs.arrays["classes"] = [int(code) for code in LULC_CLASSES]
    return inputs


@perfagent.benchmark(setup=setup_change_matrix, teardown=teardown_kernel)
def bench_change_matrix(inputs: KernelInputs) -> None:
    """Cross-tabulate land-use change between two dates (hb.calc_change_matrix_of_two_int_arrays).

    Two 512 x 512 int32 maps, 10% of pixels changed, 21 classes; several dict
    lookups per pixel.
    """
    inputs.kernels.calc_change_matrix_of_two_int_arrays(
        inputs.arrays["before"], inputs.arrays["after"], inputs.arrays["classes"]
    )


def setup_zonal_sums() -> KernelInputs:
    inputs = _kernel_inputs("zonal-sums")
    zone_ids = inputs.workspace.zone_ids_array(TILE_SHAPE, N_ZONES)
    inputs.arrays["zone_ids"] = zone_ids
    inputs.arrays["unique_zone_ids"] = np.unique(zone_ids)
    inputs.arrays["values"] = inputs.workspace.values_array(TILE_SHAPE)
    return inputs


@perfagent.benchmark(setup=setup_zonal_sums, teardown=teardown_kernel)
def bench_zonal_sums(inputs: KernelInputs) -> None:
    """Sum values per zone over a tile (hb.zonal_stats_cythonized).

    2048 x 2048 int64 zone ids (250 zones) and float64 values with 5% nodata.
    """
    inputs.kernels.zonal_stats_cythonized(
        inputs.arrays["zone_ids"],
        inputs.arrays["values"],
        inputs.arrays["unique_zone_ids"],
        zones_ndv=ZONES_NODATA,
        values_ndv=FLOAT_NODATA,
        stats_to_retrieve="sums",
        # The kernel prints progress every `reporting_frequency` rows; once per tile
        # (never, for one tile) keeps the output quiet without changing the work.
        reporting_frequency=TILE_SHAPE[0],
    )
