"""Project setup: creating a ProjectFlow and naming temporary files with hb.temp."""

from __future__ import annotations

import types
from dataclasses import dataclass

import perfagent
from _fixtures import (
    ScriptDepthThread,
    Workspace,
    import_hazelbean,
    send_console_logging_to_null,
)

PROJECTS_PER_CALL = 10
TEMP_PATHS_PER_CALL = 1000


@dataclass
class ProjectDirectory:
    workspace: Workspace
    hb: types.ModuleType
    project_dir: str
    script_depth: ScriptDepthThread

    def create_projects(self) -> None:
        for _ in range(PROJECTS_PER_CALL):
            self.hb.ProjectFlow(project_dir=self.project_dir)


def setup_project_directory() -> ProjectDirectory:
    hb = import_hazelbean()
    workspace = Workspace.create("project-flow")
    # ProjectFlow logs where its base data lives (INFO, to the console) every time one
    # is made; the record is still formatted and written, to the null device.
    send_console_logging_to_null()
    return ProjectDirectory(
        workspace=workspace,
        hb=hb,
        project_dir=str(workspace.path("project")),
        script_depth=ScriptDepthThread(),
    )


def teardown_project_directory(inputs: ProjectDirectory) -> None:
    inputs.script_depth.close()
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_project_directory, teardown=teardown_project_directory)
def bench_project_flow(inputs: ProjectDirectory) -> None:
    """Start a model run: create a ProjectFlow on a project directory (hb.ProjectFlow), 10 times.

    The directory exists after the first call, as it does when a model is run again.
    Created from a call stack as deep as a run script's (see ScriptDepthThread).
    """
    inputs.script_depth.call(inputs.create_projects)


@dataclass
class TempFolder:
    workspace: Workspace
    hb: types.ModuleType
    folder: str


def setup_temp_folder() -> TempFolder:
    hb = import_hazelbean()
    workspace = Workspace.create("temp-paths")
    return TempFolder(workspace=workspace, hb=hb, folder=str(workspace.path("temp")))


def teardown_temp_folder(inputs: TempFolder) -> None:
    # hb.temp registered every path for removal at exit; none was ever created, so
    # drop them rather than have the worker stat thousands of paths as it exits.
    registered = inputs.hb.config.uris_to_delete_at_exit
    registered[:] = [path for path in registered if not path.startswith(inputs.folder)]
    inputs.workspace.remove()


@perfagent.benchmark(setup=setup_temp_folder, teardown=teardown_temp_folder)
def bench_temp_paths(inputs: TempFolder) -> None:
    """Name temporary output files, removed at exit (hb.temp), 1000 paths.

    Unique GeoTIFF paths in a run's temporary folder, each registered for removal at
    exit with its .aux.xml side file, as tasks ask for scratch outputs.
    """
    for _ in range(TEMP_PATHS_PER_CALL):
        inputs.hb.temp(".tif", folder=inputs.folder)
