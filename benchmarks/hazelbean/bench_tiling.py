"""Array and tiling work: hazelbean's compiled (Cython) kernels on in-memory tiles.

These are the inner loops of hazelbean's raster workflows, measured without file I/O.
They live in hazelbean.calculation_core.cython_functions and are exported as hb.<name>.
Each benchmark builds only its own inputs, so a worker process spends its setup time
on what it measures.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

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


def cython_kernels() -> types.ModuleType:
    """hazelbean.calculation_core.cython_functions (importing hazelbean on first use)."""
    hb = import_hazelbean()
    kernels: types.ModuleType = hb.calculation_core.cython_functions
    return kernels


def aggregation_rules() -> dict[int, int]:
    """Map each detailed land-use class onto its broad group (10..19 -> 10, ...)."""
    return {int(code): int(code) // 10 * 10 for code in LULC_CLASSES}


@dataclass
class Reclassification:
    workspace: Workspace
    kernels: types.ModuleType
    lulc: np.ndarray
    rules_array: np.ndarray
    rules_dict: dict[int, int]


def setup_reclassify_by_array() -> Reclassification:
    kernels = cython_kernels()
    workspace = Workspace.create("reclassify-by-array")
    # The array form of the rules is indexed by class code, as reclassify_raster_hb builds it.
    rules = aggregation_rules()
    rules_array = np.arange(int(LULC_CLASSES.max()) + 1, dtype=np.int32)
    for code, group in rules.items():
        rules_array[code] = group
    return Reclassification(
        workspace, kernels, workspace.lulc_array(TILE_SHAPE), rules_array, rules
    )


def setup_reclassify_by_dict() -> Reclassification:
    kernels = cython_kernels()
    workspace = Workspace.create("reclassify-by-dict")
    lulc = workspace.lulc_array(DICT_LOOKUP_TILE_SHAPE)
    return Reclassification(workspace, kernels, lulc, np.empty(0, np.int32), aggregation_rules())


def teardown_reclassification(inputs: Reclassification) -> None:
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_reclassify_by_array, teardown=teardown_reclassification)
def bench_reclassify_by_array(inputs: Reclassification) -> None:
    """Reclassify a land-use tile with a lookup array (hb.reclassify_int_to_int_by_array).

    2048 x 2048 int32 classes, 21 classes mapped onto their broad groups.
    """
    inputs.kernels.reclassify_int_to_int_by_array(inputs.lulc, inputs.rules_array)


@perfagent.benchmark(setup=setup_reclassify_by_dict, teardown=teardown_reclassification)
def bench_reclassify_by_dict(inputs: Reclassification) -> None:
    """Reclassify a land-use tile with a rules dict (hb.reclassify_int_to_int_by_dict).

    1024 x 1024 int32 classes, 21 rules; one Python dict lookup per pixel.
    """
    inputs.kernels.reclassify_int_to_int_by_dict(inputs.lulc, inputs.rules_dict)


@dataclass
class LandUseChange:
    workspace: Workspace
    kernels: types.ModuleType
    before: np.ndarray
    after: np.ndarray
    classes: list[int]


def setup_change_matrix() -> LandUseChange:
    kernels = cython_kernels()
    workspace = Workspace.create("change-matrix")
    before = workspace.lulc_array(CHANGE_MATRIX_TILE_SHAPE)
    after = workspace.changed_lulc_array(before, FRACTION_CHANGED)
    return LandUseChange(workspace, kernels, before, after, [int(c) for c in LULC_CLASSES])


def teardown_change_matrix(inputs: LandUseChange) -> None:
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_change_matrix, teardown=teardown_change_matrix)
def bench_change_matrix(inputs: LandUseChange) -> None:
    """Cross-tabulate land-use change between two dates (hb.calc_change_matrix_of_two_int_arrays).

    Two 512 x 512 int32 maps, 10% of pixels changed, 21 classes; several dict
    lookups per pixel.
    """
    inputs.kernels.calc_change_matrix_of_two_int_arrays(inputs.before, inputs.after, inputs.classes)


@dataclass
class ZonalSums:
    workspace: Workspace
    kernels: types.ModuleType
    zone_ids: np.ndarray
    unique_zone_ids: np.ndarray
    values: np.ndarray


def setup_zonal_sums() -> ZonalSums:
    kernels = cython_kernels()
    workspace = Workspace.create("zonal-sums")
    zone_ids = workspace.zone_ids_array(TILE_SHAPE, N_ZONES)
    values = workspace.values_array(TILE_SHAPE)
    return ZonalSums(workspace, kernels, zone_ids, np.unique(zone_ids), values)


def teardown_zonal_sums(inputs: ZonalSums) -> None:
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_zonal_sums, teardown=teardown_zonal_sums)
def bench_zonal_sums(inputs: ZonalSums) -> None:
    """Sum values per zone over a tile (hb.zonal_stats_cythonized).

    2048 x 2048 int64 zone ids (250 zones) and float64 values with 5% nodata; the
    kernel under hb.zonal_statistics_rasterized, without its file reads.
    """
    inputs.kernels.zonal_stats_cythonized(
        inputs.zone_ids,
        inputs.values,
        inputs.unique_zone_ids,
        zones_ndv=ZONES_NODATA,
        values_ndv=FLOAT_NODATA,
        stats_to_retrieve="sums",
        # The kernel prints progress every `reporting_frequency` rows; once per tile
        # (never, for one tile) keeps the output quiet without changing the work.
        reporting_frequency=TILE_SHAPE[0],
    )
