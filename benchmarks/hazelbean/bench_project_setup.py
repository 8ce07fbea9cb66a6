"""Project setup: creating a ProjectFlow and naming temporary files with hb.temp."""

from __future__ import annotations

import types
from dataclasses import dataclass

import perfagent
from _fixtures import Workspace, import_hazelbean, send_console_logging_to_null

PROJECTS_PER_CALL = 10
TEMP_PATHS_PER_CALL = 1000


@dataclass
class ProjectSetupInputs:
    workspace: Workspace
    hb: types.ModuleType
    project_dir: str
    temp_dir: str


def setup_project_setup() -> ProjectSetupInputs:
    hb = import_hazelbean()
    workspace = Workspace.create("project-setup")
    # ProjectFlow logs where its base data lives (INFO, to the console) every time one
    # is made; the record is still formatted and written, to the null device.
    send_console_logging_to_null()
    return ProjectSetupInputs(
        workspace=workspace,
        hb=hb,
        project_dir=str(workspace.path("project")),
        temp_dir=str(workspace.path("temp")),
    )


def teardown_project_setup(inputs: ProjectSetupInputs) -> None:
    # hb.temp registered every path for removal at exit; none was ever created, so
    # drop them rather than have the worker stat thousands of paths as it exits.
    registered = inputs.hb.config.uris_to_delete_at_exit
    registered[:] = [path for path in registered if not path.startswith(inputs.temp_dir)]
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_project_setup, teardown=teardown_project_setup)
def bench_project_flow(inputs: ProjectSetupInputs) -> None:
    """Start a model run: create a ProjectFlow on a project directory (hb.ProjectFlow), 10 times.

    The directory exists after the first call, as it does when a model is run again.
    """
    for _ in range(PROJECTS_PER_CALL):
        inputs.hb.ProjectFlow(project_dir=inputs.project_dir)


@perfagent.benchmark(setup=setup_project_setup, teardown=teardown_project_setup)
def bench_temp_paths(inputs: ProjectSetupInputs) -> None:
    """Name temporary output files, removed at exit (hb.temp), 1000 paths.

    Unique GeoTIFF paths in a run's temporary folder, each registered for removal at
    exit with its .aux.xml side file, as tasks ask for scratch outputs.
    """
    for _ in range(TEMP_PATHS_PER_CALL):
        inputs.hb.temp(".tif", folder=inputs.temp_dir)
