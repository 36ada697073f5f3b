"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The third-party reference files beside the repo (``../shared/reference-data``)."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE_DATA} (the repo's sibling shared/)")
    return REFERENCE_DATA


# ---- end-to-end workflow runs (tests/test_workflow.py) -----------------------------------------


@pytest.fixture(scope="session")
def project_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files copied once, so every run of the session sees the same inputs even
    while the working tree changes."""
    from workflow_run import copy_project

    return copy_project(tmp_path_factory.mktemp("wps-snapshot") / "project")


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory: pytest.TempPathFactory, project_snapshot: Path):
    """The project copied into a temp dir and run once from clean (`snakemake --cores 2`)."""
    from workflow_run import WorkflowRun

    root = tmp_path_factory.mktemp("wps-run-a") / "project"
    return WorkflowRun.from_clean(root, source=project_snapshot)


@pytest.fixture(scope="session")
def workflow_rerun(tmp_path_factory: pytest.TempPathFactory, project_snapshot: Path):
    """A second run from clean at another path, killed part-way and resumed on one core: same
    inputs, so it must give the same bytes as the uninterrupted two-core run."""
    from workflow_run import WorkflowRun

    root = tmp_path_factory.mktemp("wps-run-second-path") / "elsewhere"
    return WorkflowRun.killed_then_resumed(root, source=project_snapshot, cores=1)


@pytest.fixture(scope="module")
def survey_is_4_2_or_later() -> bool:
    """Whether R's survey is 4.2 or later (older ones centre a lonely first-stage PSU on zero)."""
    from r_oracle import survey_version

    return survey_version() >= (4, 2)
