"""Array files and summaries: saving arrays as .npy and describing them (hb.describe)."""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np
import perfagent
from _fixtures import Workspace, import_hazelbean

ARRAY_SHAPE = (2048, 2048)


@dataclass
class ArrayInputs:
    workspace: Workspace
    hb: types.ModuleType
    array: np.ndarray
    npy_path: str


def setup_arrays() -> ArrayInputs:
    hb = import_hazelbean()
    workspace = Workspace.create("arrays")
    return ArrayInputs(
        workspace=workspace,
        hb=hb,
        array=workspace.values_array(ARRAY_SHAPE),
        npy_path=str(workspace.path("intermediate", "carbon.npy")),
    )


def teardown_arrays(inputs: ArrayInputs) -> None:
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_arrays, teardown=teardown_arrays)
def bench_save_array_as_npy(inputs: ArrayInputs) -> None:
    """Save an intermediate array to disk as .npy (hb.save_array_as_npy).

    2048 x 2048 float64 (32 MiB), uncompressed, overwriting the same file each call.
    """
    inputs.hb.save_array_as_npy(inputs.array, inputs.npy_path)


@perfagent.benchmark(setup=setup_arrays, teardown=teardown_arrays)
def bench_describe(inputs: ArrayInputs) -> None:
    """Summarise an array for a log or a check (hb.describe).

    2048 x 2048 float64: sum, min, max, median, mean and their nan-aware versions,
    formatted as hazelbean's one-line description (not printed).
    """
    inputs.hb.describe(inputs.array, surpress_print=True, surpress_logger=True)
