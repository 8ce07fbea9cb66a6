"""Seeded synthetic inputs for the hazelbean suite, built outside the timed part.

Every benchmark's setup makes a `Workspace` (a temporary directory of its own) and
fills it with arrays and rasters drawn from a seeded generator, so that every worker
process of every run measures the same bytes. The teardown removes the directory.

hazelbean is imported here, inside setup, not at module level: the agent's parent
process imports the benchmark modules to list them, and importing hazelbean takes
seconds (and needs the hazelbean environment) where listing needs neither.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """Import hazelbean, from a benchmark's setup (never at module level: see above)."""
    return importlib.import_module("hazelbean")


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


class ScriptDepthThread:
    """A thread of its own to make calls on, with a call stack as short as a run script's.

    hb.ProjectFlow() walks the whole call stack with inspect.stack() to find the script
    that created it. Under the agent, a worker's stack starts in frozen `runpy` frames
    (`python -m perfagent.measure.worker`), which inspect cannot map to a module file, so
    it rescans every loaded module twice per such frame: tens of milliseconds per
    ProjectFlow that a user running `python run_model.py` never pays, and that would
    drown hazelbean's own work. Calls made here see threading's frames instead, ordinary
    files like a run script's.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="script-depth", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (function := self._calls.get()) is not None:
            try:
                self._results.put((function(), None))
            except BaseException as error:  # handed back to the caller, raised there
                self._results.put((None, error))

    def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the thread and return its result (or raise its exception)."""
        self._calls.put(function)
        result, error = self._results.get()
        if error is not None:
            raise error
        return result

    def close(self) -> None:
        self._calls.put(None)
        self._thread.join()
