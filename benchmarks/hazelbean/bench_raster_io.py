"""Raster I/O: writing arrays as GeoTIFFs, reading them back, and reading their metadata."""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np
import perfagent
from _fixtures import (
    EPSG_WGS84,
    FLOAT_NODATA,
    GDAL_FLOAT32,
    GDAL_INT32,
    GEOTRANSFORM,
    INT32_NODATA,
    Workspace,
    import_hazelbean,
)

RASTER_SHAPE = (2048, 2048)
# A project's inputs: a land-use map, a few continuous layers, zone ids, and so on.
N_RASTERS_INSPECTED = 20
INSPECTED_RASTER_SHAPE = (256, 256)


@dataclass
class GeoTiffToWrite:
    workspace: Workspace
    hb: types.ModuleType
    array: np.ndarray
    output_path: str


@dataclass
class RasterFiles:
    workspace: Workspace
    hb: types.ModuleType
    paths: list[str]


def teardown_raster_io(inputs: GeoTiffToWrite | RasterFiles) -> None:
    inputs.workspace.remove()


def setup_save_geotiff() -> GeoTiffToWrite:
    hb = import_hazelbean()
    workspace = Workspace.create("save-geotiff")
    return GeoTiffToWrite(
        workspace=workspace,
        hb=hb,
        array=workspace.values_array(RASTER_SHAPE).astype(np.float32),
        output_path=str(workspace.path("output", "carbon.tif")),
    )


@perfagent.benchmark(setup=setup_save_geotiff, teardown=teardown_raster_io)
def bench_save_array_as_geotiff(inputs: GeoTiffToWrite) -> None:
    """Save an array as a compressed, tiled GeoTIFF (hb.save_array_as_geotiff).

    2048 x 2048 float32 with nodata, in WGS84, with hazelbean's default creation
    options; the same output path every call, as a task run again overwrites its output.
    """
    inputs.hb.save_array_as_geotiff(
        inputs.array,
        inputs.output_path,
        data_type=GDAL_FLOAT32,
        ndv=FLOAT_NODATA,
        geotransform_override=GEOTRANSFORM,
        projection_override=EPSG_WGS84,
        n_cols=RASTER_SHAPE[1],
        n_rows=RASTER_SHAPE[0],
    )


def setup_as_array() -> RasterFiles:
    hb = import_hazelbean()
    workspace = Workspace.create("as-array")
    lulc = workspace.lulc_array(RASTER_SHAPE)
    path = workspace.write_geotiff(hb, lulc, "lulc.tif", GDAL_INT32, INT32_NODATA)
    return RasterFiles(workspace=workspace, hb=hb, paths=[path])


@perfagent.benchmark(setup=setup_as_array, teardown=teardown_raster_io)
def bench_as_array(inputs: RasterFiles) -> None:
    """Load a GeoTIFF into a numpy array (hb.as_array).

    2048 x 2048 int32 land-use map, compressed and tiled as hazelbean writes it.
    """
    inputs.hb.as_array(inputs.paths[0])


def setup_raster_info() -> RasterFiles:
    hb = import_hazelbean()
    workspace = Workspace.create("raster-info")
    paths = []
    for index in range(N_RASTERS_INSPECTED):
        layer = workspace.values_array(INSPECTED_RASTER_SHAPE).astype(np.float32)
        paths.append(
            workspace.write_geotiff(hb, layer, f"layer_{index:02d}.tif", GDAL_FLOAT32, FLOAT_NODATA)
        )
    return RasterFiles(workspace=workspace, hb=hb, paths=paths)


@perfagent.benchmark(setup=setup_raster_info, teardown=teardown_raster_io)
def bench_get_raster_info(inputs: RasterFiles) -> None:
    """Read the metadata of a project's rasters (hb.get_raster_info_hb), 20 files.

    The size, geotransform, nodata and projection a workflow checks before it aligns
    its inputs; 20 GeoTIFFs of 256 x 256 float32.
    """
    for path in inputs.paths:
        inputs.hb.get_raster_info_hb(path)
