"""Seeded synthetic inputs for the hazelbean suite, built outside the timed part.

Every benchmark's setup makes a `Workspace` (a temporary directory of its own) and
fills it with arrays and rasters drawn from a seeded generator, so that every worker
process of every run measures the same bytes. The teardown removes the directory.

hazelbean is imported here, inside setup, not at module level: the agent's parent
process imports the benchmark modules to list them, and importing hazelbean takes
seconds (and needs the hazelbean environment) where listing needs neither.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# One seed for the whole suite: changing it changes every input, and so every baseline.
SEED = 20240611

# A land-use/land-cover map in the style of ESA CCI: a handful of class codes below 256.
LULC_CLASSES = np.array(
    [10, 11, 12, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 150, 160, 170, 180, 190, 200],
    dtype=np.int32,
)

# hazelbean's rasters in these benchmarks: WGS84 at 10 arc-seconds, anchored at an
# arbitrary corner. Only the shape matters for the timings.
EPSG_WGS84 = 4326
PIXEL_SIZE_DEGREES = 10.0 / 3600.0
GEOTRANSFORM = (-10.0, PIXEL_SIZE_DEGREES, 0.0, 10.0, 0.0, -PIXEL_SIZE_DEGREES)
GDAL_INT32 = 5
GDAL_FLOAT32 = 6
GDAL_FLOAT64 = 7
INT32_NODATA = -9999
FLOAT_NODATA = -9999.0


def import_hazelbean() -> types.ModuleType:
    """Import hazelbean for a benchmark, keeping its side effects inside the workspace."""
    import hazelbean

    return hazelbean


@dataclass
class Workspace:
    """A temporary directory owned by one benchmark in one worker process."""

    root: Path
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(SEED))

    @classmethod
    def create(cls, name: str) -> Workspace:
        root = Path(tempfile.mkdtemp(prefix=f"perfagent-hazelbean-{name}-"))
        # hazelbean puts its own temporary files under HB_TEMP_DIR; keep them in here
        # so that removing the workspace removes everything the benchmark made.
        hb_temp = root / "hazelbean_temp"
        hb_temp.mkdir()
        os.environ["HB_TEMP_DIR"] = str(hb_temp)
        return cls(root=root)

    def path(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # --- arrays ------------------------------------------------------------------------

    def lulc_array(self, shape: tuple[int, int]) -> np.ndarray:
        """Land-use classes in contiguous patches, as real LULC maps have (int32)."""
        # Coarse random classes, upsampled: runs of equal values like real land cover,
        # rather than white noise, so compression and branch prediction see real-ish data.
        patch = 8
        coarse_shape = (-(-shape[0] // patch), -(-shape[1] // patch))
        coarse = self.rng.choice(LULC_CLASSES, size=coarse_shape)
        fine = np.repeat(np.repeat(coarse, patch, axis=0), patch, axis=1)
        return np.ascontiguousarray(fine[: shape[0], : shape[1]], dtype=np.int32)

    def changed_lulc_array(self, lulc: np.ndarray, fraction_changed: float) -> np.ndarray:
        """`lulc` with a seeded fraction of its pixels moved to another class."""
        changed = lulc.copy()
        mask = self.rng.random(lulc.shape) < fraction_changed
        changed[mask] = self.rng.choice(LULC_CLASSES, size=int(mask.sum()))
        return changed

    def zone_ids_array(self, shape: tuple[int, int], n_zones: int) -> np.ndarray:
        """Zone ids 1..n_zones in square blocks, like rasterized admin units (int64)."""
        rows, cols = shape
        side = int(np.ceil(np.sqrt(n_zones)))
        row_zone = np.arange(rows) * side // rows
        col_zone = np.arange(cols) * side // cols
        zones = (row_zone[:, None] * side + col_zone[None, :]) % n_zones + 1
        return np.ascontiguousarray(zones, dtype=np.int64)

    def values_array(self, shape: tuple[int, int], nodata_fraction: float = 0.05) -> np.ndarray:
        """A continuous float64 field (carbon per hectare, 0-200) with some nodata cells."""
        values = self.rng.random(shape) * 200.0
        values[self.rng.random(shape) < nodata_fraction] = FLOAT_NODATA
        return values

    # --- rasters -----------------------------------------------------------------------

    def write_geotiff(
        self,
        hb: types.ModuleType,
        array: np.ndarray,
        name: str,
        gdal_data_type: int,
        nodata: float | int,
    ) -> str:
        """Write `array` with hazelbean's own writer; returns the path as a string."""
        path = str(self.path("rasters", name))
        hb.save_array_as_geotiff(
            array,
            path,
            data_type=gdal_data_type,
            ndv=nodata,
            geotransform_override=GEOTRANSFORM,
            projection_override=EPSG_WGS84,
            n_cols=array.shape[1],
            n_rows=array.shape[0],
        )
        return path


def send_console_logging_to_null() -> None:
    """Point the console handlers of the logging system at the null device.

    hazelbean configures logging to the console on import and some of its functions log
    on every call. Redirecting the handlers keeps that work (a record formatted and
    written) in the measurement while keeping thousands of lines out of the run's output.
    """
    null_device = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            handler.setStream(null_device)
