"""Raster workflows: whole-raster operations that read GeoTIFFs block by block and write results."""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np
import perfagent
from _fixtures import (
    FLOAT_NODATA,
    GDAL_FLOAT32,
    GDAL_FLOAT64,
    GDAL_INT32,
    INT32_NODATA,
    LULC_CLASSES,
    Workspace,
    import_hazelbean,
)

RASTER_SHAPE = (2048, 2048)
# raster_calculator_hb calls back into Python for every block; a quarter of the area
# keeps a call well under a second (2048 x 2048 takes about 650 ms).
CALCULATOR_RASTER_SHAPE = (1024, 1024)
N_ZONES = 250  # about the number of countries in a global admin-unit raster


@dataclass
class RasterWorkflowInputs:
    workspace: Workspace
    hb: types.ModuleType
    input_paths: dict[str, str]
    output_path: str
    unique_zone_ids: np.ndarray | None = None  # for zonal statistics


def _workflow_inputs(name: str) -> RasterWorkflowInputs:
    workspace = Workspace.create(name)
    return RasterWorkflowInputs(
        workspace=workspace,
        hb=import_hazelbean(),
        input_paths={},
        output_path=str(workspace.path("output", f"{name}.tif")),
    )


def teardown_workflow(inputs: RasterWorkflowInputs) -> None:
    inputs.workspace.remove()


def crop_suitability_rules() -> dict[int, int]:
    """A rules dict from land-use class to a 0-100 suitability score, one entry per class."""
    return {int(code): int(code) * 37 % 101 for code in LULC_CLASSES}


def setup_reclassify_raster() -> RasterWorkflowInputs:
    inputs = _workflow_inputs("reclassify-raster")
    lulc = inputs.workspace.lulc_array(RASTER_SHAPE)
    inputs.input_paths["lulc"] = inputs.workspace.write_geotiff(
        inputs.hb, lulc, "lulc.tif", GDAL_INT32, INT32_NODATA
    )
    return inputs


@perfagent.benchmark(setup=setup_reclassify_raster, teardown=teardown_workflow)
def bench_reclassify_raster(inputs: RasterWorkflowInputs) -> None:
    """Reclassify a land-use raster with a rules dict into a new raster (hb.reclassify_raster_hb).

    2048 x 2048 int32 GeoTIFF in, int32 GeoTIFF out, 21 rules.
    """
    # reclassify_raster_hb adds its nodata rule to the dict it is given: pass a fresh one.
    inputs.hb.reclassify_raster_hb(
        inputs.input_paths["lulc"],
        crop_suitability_rules(),
        inputs.output_path,
        output_data_type=GDAL_INT32,
        output_ndv=INT32_NODATA,
    )


def setup_raster_calculator() -> RasterWorkflowInputs:
    inputs = _workflow_inputs("raster-calculator")
    workspace = inputs.workspace
    carbon = workspace.values_array(CALCULATOR_RASTER_SHAPE).astype(np.float32)
    # Hectares per cell near the equator at 10 arc-seconds.
    area = np.full(CALCULATOR_RASTER_SHAPE, 0.0857, dtype=np.float32)
    inputs.input_paths["carbon"] = workspace.write_geotiff(
        inputs.hb, carbon, "carbon_per_ha.tif", GDAL_FLOAT32, FLOAT_NODATA
    )
    inputs.input_paths["area"] = workspace.write_geotiff(
        inputs.hb, area, "ha_per_cell.tif", GDAL_FLOAT32, FLOAT_NODATA
    )
    return inputs


def carbon_stock(carbon_per_ha: np.ndarray, ha_per_cell: np.ndarray) -> np.ndarray:
    """The local operation: carbon per hectare times hectares, nodata kept as nodata."""
    return np.where(carbon_per_ha == FLOAT_NODATA, FLOAT_NODATA, carbon_per_ha * ha_per_cell)


@perfagent.benchmark(setup=setup_raster_calculator, teardown=teardown_workflow)
def bench_raster_calculator(inputs: RasterWorkflowInputs) -> None:
    """Compute a raster from two aligned rasters with a local operation (hb.raster_calculator_hb).

    Two 1024 x 1024 float32 GeoTIFFs in (carbon per hectare, hectares per cell), their
    product out as float64.
    """
    inputs.hb.raster_calculator_hb(
        [(inputs.input_paths["carbon"], 1), (inputs.input_paths["area"], 1)],
        carbon_stock,
        inputs.output_path,
        GDAL_FLOAT64,
        FLOAT_NODATA,
    )


def setup_zonal_statistics() -> RasterWorkflowInputs:
    inputs = _workflow_inputs("zonal-statistics")
    workspace = inputs.workspace
    zone_ids = workspace.zone_ids_array(RASTER_SHAPE, N_ZONES).astype(np.int32)
    values = workspace.values_array(RASTER_SHAPE).astype(np.float32)
    inputs.input_paths["zones"] = workspace.write_geotiff(
        inputs.hb, zone_ids, "zone_ids.tif", GDAL_INT32, INT32_NODATA
    )
    inputs.input_paths["values"] = workspace.write_geotiff(
        inputs.hb, values, "carbon.tif", GDAL_FLOAT32, FLOAT_NODATA
    )
    inputs.unique_zone_ids = np.unique(zone_ids)
    return inputs


@perfagent.benchmark(setup=setup_zonal_statistics, teardown=teardown_workflow)
def bench_zonal_statistics(inputs: RasterWorkflowInputs) -> None:
    """Sum a raster's values per zone of a zone-id raster (hb.zonal_statistics_rasterized).

    2048 x 2048 int32 zone ids (250 zones) and float32 values with 5% nodata, both
    GeoTIFFs, with the list of zone ids given, as a caller with a zones table does.
    """
    inputs.hb.zonal_statistics_rasterized(
        inputs.input_paths["zones"],
        inputs.input_paths["values"],
        unique_zone_ids=inputs.unique_zone_ids,
        zones_ndv=INT32_NODATA,
        values_ndv=FLOAT_NODATA,
        stats_to_retrieve="sums",
        verbose=False,
    )
